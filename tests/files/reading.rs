//! Reading what is at the marker path: what is not a regular file, oversized and empty
//! markers, another instantiation's marker, and the poll path against the full reading.

use super::*;

fn mkfifo(path: &Path) {
    let path = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o644) }, 0, "mkfifo");
}

/// Reads the marker of `home` twice (full and fast path) and returns the result,
/// asserting that it took less than 100 ms.
fn read_promptly(home: &Path) -> drain_control::Classified {
    let started = Instant::now();
    let classified = status(Some(home));
    let active = drain_requested(Some(home));
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(100), "took {elapsed:?}");
    assert_eq!(active, classified.verdict.active);
    classified
}

#[test]
fn a_fifo_at_the_marker_path_does_not_block_and_reads_as_absent() {
    let home = existing_home();
    mkfifo(&marker_in(home.path()));
    let got = read_promptly(home.path());
    assert_eq!(got.reading, Reading::Absent);
    assert!(!got.verdict.present && !got.verdict.active);
    let context = Context::new(epoch::current(), Timestamp::now());
    let warning = Snapshot::take(&marker_in(home.path()))
        .judge(&context)
        .warning
        .unwrap();
    assert!(warning.to_string().contains("FIFO"), "{warning}");
}

#[test]
fn a_folder_at_the_marker_path_reads_as_absent() {
    let home = existing_home();
    fs::create_dir(marker_in(home.path())).unwrap();
    let got = read_promptly(home.path());
    assert_eq!(got.reading, Reading::Absent);
    assert!(!got.verdict.present);
}

#[test]
fn a_link_to_dev_zero_reads_as_absent_without_reading_it() {
    let home = existing_home();
    symlink("/dev/zero", marker_in(home.path())).unwrap();
    let got = read_promptly(home.path());
    assert_eq!(got.reading, Reading::Absent);
    assert!(!got.verdict.present);
}

#[test]
fn a_socket_at_the_marker_path_reads_as_absent() {
    let home = existing_home();
    let _listener = std::os::unix::net::UnixListener::bind(marker_in(home.path())).unwrap();
    let got = read_promptly(home.path());
    assert_eq!(got.reading, Reading::Absent);
}

#[test]
fn a_two_mebibyte_marker_is_contentless_present_and_active() {
    let home = existing_home();
    // A stale, suppressing object padded to 2 MiB: were it read, it would be ignored.
    let mut bytes = br#"{"epoch": "other:1", "suppress_notification": true}"#.to_vec();
    bytes.resize(2 << 20, b' ');
    fs::write(marker_in(home.path()), &bytes).unwrap();
    let got = read_promptly(home.path());
    assert_eq!(got.reading, Reading::Contentless);
    let v = got.verdict;
    assert!(v.present && v.active && !v.suppressed && !v.epoch_stale);
    assert!(!notification_suppressed(Some(home.path())));
}

#[test]
fn an_empty_marker_is_contentless_present_and_active() {
    let home = existing_home();
    fs::write(marker_in(home.path()), "").unwrap();
    let got = read_promptly(home.path());
    assert_eq!(got.reading, Reading::Contentless);
    assert!(got.verdict.active);
}

#[test]
fn a_marker_from_another_instantiation_on_disk_is_ignored() {
    let home = existing_home();
    let marker = marker_in(home.path());
    fs::write(
        &marker,
        r#"{"epoch": "another-boot:1", "suppress_notification": true}"#,
    )
    .unwrap();
    let got = status(Some(home.path()));
    let stale = !epoch::current().is_empty();
    assert_eq!(got.verdict.epoch_stale, stale);
    assert_eq!(drain_requested(Some(home.path())), !stale);
    // A marker without an epoch is honoured anywhere.
    fs::write(&marker, r#"{"action": "drain"}"#).unwrap();
    assert!(drain_requested(Some(home.path())));
}

/// Marker texts on which the fast poll path and the full reading must agree.
const CORPUS: &[&str] = &[
    "",
    "{}",
    "[]",
    "null",
    "{\"epoch\": \"other\"}",
    "{\"epoch\": \"other\", \"epoch\": \"\"}",
    "{\"epoch\": 0, \"suppress_notification\": [0]}",
    "{\"suppress_notification\": \"false\"}",
    "{\"suppress_notification\": -0.0}",
    "{\"requested_at\": \"2020-01-01T00:00:00Z\", \"principal\": \"p\"}",
    "{\"requested_at\": \"2999-01-01\"}",
    "{\"requested_at\": 1}",
    "{\"x\": NaN}",
    "{\"x\": 1e400}",
    "{\"x\": \"\\ud800\"}",
    "{\"ep\\u006fch\": \"other\"}",
    "{\"epoch\": \"other\"} x",
    "{\"epoch\": \"other\",}",
    "\u{feff}{\"epoch\": \"other\"}",
];

#[test]
fn the_poll_path_agrees_with_the_full_reading_on_real_files() {
    let deep_128 = format!(
        r#"{{"epoch": "other", "d": {}1{}}}"#,
        "[".repeat(127),
        "]".repeat(127)
    );
    let deep_129 = format!(
        r#"{{"epoch": "other", "d": {}1{}}}"#,
        "[".repeat(128),
        "]".repeat(128)
    );
    let home = existing_home();
    let marker = marker_in(home.path());
    let context = Context::new("this:1", Timestamp::parse("2026-11-27T12:00:00Z").unwrap());
    let texts = CORPUS
        .iter()
        .copied()
        .chain([deep_128.as_str(), deep_129.as_str()]);
    for text in texts {
        fs::write(&marker, text).unwrap();
        let full = Snapshot::take(&marker).judge(&context);
        let (verdict, warning) = inspect::verdict(&marker, &context);
        assert_eq!(verdict, full.classified.verdict, "{text:?}");
        assert_eq!(warning, full.warning, "{text:?}");
        assert_eq!(
            full.classified,
            classify(text.as_bytes(), &context),
            "{text:?}"
        );
    }
    assert!(classify(deep_128.as_bytes(), &context).verdict.epoch_stale);
    assert!(classify(deep_129.as_bytes(), &context).verdict.active);
}

#[test]
fn judging_a_marker_read_beforehand_is_judging_it_in_one_go() {
    // A `Snapshot` serves a binding that reads without its interpreter's lock and
    // judges with it: the same outcome as reading and judging in one go.
    let context = Context::new(
        "boot-a:1",
        Timestamp::parse("2026-11-27T12:30:00+00:00").unwrap(),
    );
    let marker = |body: &str| body.to_owned().into_bytes();
    let cases: Vec<(&str, Option<Vec<u8>>)> = vec![
        ("absent", None),
        (
            "active",
            Some(marker(
                r#"{"epoch": "boot-a:1", "requested_at": "2026-11-27T12:00:00+00:00", "suppress_notification": true}"#,
            )),
        ),
        ("stale", Some(marker(r#"{"epoch": "boot-b:1"}"#))),
        (
            "expired",
            Some(marker(r#"{"requested_at": "2026-11-27T10:00:00+00:00"}"#)),
        ),
        ("contentless", Some(Vec::new())),
        (
            "too large",
            Some(vec![b' '; drain_control::MAX_MARKER_BYTES + 1]),
        ),
    ];
    for (name, bytes) in cases {
        let home = existing_home();
        let path = marker_in(home.path());
        if let Some(bytes) = &bytes {
            fs::write(&path, bytes).unwrap();
        }
        let raw = || drain_control::fsio::read_marker(&path);
        assert_eq!(
            Snapshot::new(&path, raw()).judge(&context),
            Snapshot::take(&path).judge(&context),
            "{name}"
        );
        assert_eq!(
            Snapshot::new(&path, raw()).verdict(&context),
            inspect::verdict(&path, &context),
            "{name}"
        );
    }
    let home = existing_home();
    fs::create_dir(marker_in(home.path())).unwrap();
    let path = marker_in(home.path());
    let (verdict, warning) =
        Snapshot::new(&path, drain_control::fsio::read_marker(&path)).verdict(&context);
    assert!(
        !verdict.present && warning.is_some(),
        "a folder: absent, with a warning"
    );
}
