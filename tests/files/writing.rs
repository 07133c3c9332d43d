//! The write protocol: the bytes written, rewriting, creating the home, writers racing
//! a reader, homes that are not UTF-8, and a payload refused before the disk.

use super::*;

#[test]
fn write_read_clear_round_trip() {
    let dir = existing_home();
    let home = Some(dir.path());
    assert_eq!(read(home), Reading::Absent);
    assert!(!drain_requested(home));

    let payload = write(home, "dashboard", true).unwrap();
    assert_eq!(payload.action, "drain");
    assert_eq!(payload.principal, "dashboard");
    assert_eq!(payload.epoch, epoch::current());
    assert!(payload.suppress_notification);
    assert_eq!(read(home), Reading::Body(payload.to_body()));
    let classified = status(home);
    assert!(classified.verdict.present && classified.verdict.active);
    assert_eq!(classified.active_body(), Some(payload.to_body()));
    assert!(drain_requested(home));
    assert!(notification_suppressed(home));

    let payload = write(home, "dashboard", false).unwrap();
    assert_eq!(read(home), Reading::Body(payload.to_body()));
    assert!(drain_requested(home) && !notification_suppressed(home));

    assert!(clear(home).unwrap(), "a marker existed");
    assert_eq!(read(home), Reading::Absent);
    assert!(!drain_requested(home) && !notification_suppressed(home));
    assert!(
        !clear(home).unwrap(),
        "clearing twice is fine and reports no marker"
    );
    assert!(listing(dir.path()).is_empty(), "nothing left behind");
}

#[test]
fn written_bytes_are_the_contract_layout_exactly() {
    let home = existing_home();
    let before = Timestamp::now();
    let payload = write(Some(home.path()), "Zoë \"ops\"", false).unwrap();
    let after = Timestamp::now();
    let bytes = fs::read(marker_in(home.path())).unwrap();
    assert_eq!(bytes, payload.to_bytes());

    // The layout, spelled out independently of the library's serializer.
    let expected = format!(
        "{{\n  \"action\": \"drain\",\n  \"requested_at\": \"{}\",\n  \"principal\": \
         \"Zoë \\\"ops\\\"\",\n  \"epoch\": \"{}\",\n  \"suppress_notification\": false\n}}",
        payload.requested_at,
        epoch::current(),
    );
    assert_eq!(String::from_utf8(bytes).unwrap(), expected);

    // requested_at is the write's UTC clock, as Python's isoformat() prints it.
    let requested_at = &payload.requested_at;
    let at = Timestamp::parse(requested_at).expect("requested_at parses");
    assert!(
        before <= at && at <= after,
        "{requested_at} is the time of the write"
    );
    assert_eq!(
        &at.to_isoformat(),
        requested_at,
        "reformatting gives the same text"
    );
    let (head, offset) = requested_at.split_at(requested_at.len() - 6);
    assert_eq!(offset, "+00:00");
    assert_eq!(&head[10..11], "T");
    match head.len() {
        19 => assert_eq!(
            at.unix_micros() % 1_000_000,
            0,
            "no fraction only when zero"
        ),
        26 => {
            assert_eq!(&head[19..20], ".");
            assert!(head[20..].bytes().all(|b| b.is_ascii_digit()));
            assert_ne!(at.unix_micros() % 1_000_000, 0);
        }
        other => panic!("{requested_at}: {other} characters before the offset"),
    }
}

#[test]
fn rewriting_refreshes_requested_at_and_leaves_one_file() {
    let home = existing_home();
    let first = write(Some(home.path()), "a", false).unwrap();
    std::thread::sleep(Duration::from_millis(2));
    let second = write(Some(home.path()), "b", true).unwrap();
    let (t1, t2) = (
        Timestamp::parse(&first.requested_at).unwrap(),
        Timestamp::parse(&second.requested_at).unwrap(),
    );
    assert!(
        t2 > t1,
        "{} then {}",
        first.requested_at,
        second.requested_at
    );
    assert_eq!(read(Some(home.path())), Reading::Body(second.to_body()));
    assert_eq!(listing(home.path()), [MARKER_FILE_NAME]);
}

#[test]
fn a_missing_home_and_its_parents_are_created() {
    let (dir, _) = fresh();
    let home = dir.path().join("a").join("b").join("home");
    let payload = write(Some(&home), "x", false).unwrap();
    assert!(fs::metadata(&home).unwrap().is_dir());
    assert_eq!(fs::read(marker_in(&home)).unwrap(), payload.to_bytes());
    assert_eq!(listing(&home), [MARKER_FILE_NAME]);
}

#[test]
fn temp_files_are_named_as_the_contract_says() {
    assert_eq!(TEMP_PREFIX, "..drain_request_");
    assert_eq!(TEMP_SUFFIX, ".tmp");
    assert_eq!(MARKER_FILE_NAME, ".drain_request.json");
}

#[test]
fn concurrent_writers_and_a_reader_never_see_a_torn_marker() {
    let home = existing_home();
    let home = home.path();
    write(Some(home), "first", false).unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut reads = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let got = read(Some(home));
                assert!(matches!(got, Reading::Body(_)), "a reader saw {got:?}");
                reads += 1;
            }
            reads
        });
        let writers: Vec<_> = (0..4)
            .map(|n| {
                scope.spawn(move || {
                    for i in 0..25 {
                        write(Some(home), &format!("writer-{n}-{i}"), i % 2 == 0).unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
    });
    assert_eq!(listing(home), [MARKER_FILE_NAME], "no temp file left");
    let Reading::Body(body) = read(Some(home)) else {
        panic!("a body")
    };
    assert!(body["principal"].as_str().unwrap().starts_with("writer-"));
}

#[test]
fn homes_that_are_not_utf8_work_and_errors_escape_their_paths() {
    use std::ffi::OsStr;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join(OsStr::from_bytes(b"h\xff\xfe\nme"));
    let payload = write(Some(&home), "x", false).unwrap();
    assert_eq!(read(Some(&home)), Reading::Body(payload.to_body()));
    assert!(clear(Some(&home)).unwrap());

    // A hostile home name cannot forge a second line in an error message.
    let file = dir.path().join("evil\nERROR forged");
    fs::write(&file, "").unwrap();
    let error = write(Some(&file), "x", false).unwrap_err();
    let message = error.to_string();
    assert!(!message.contains('\n'), "{message}");
    assert!(message.contains("evil\\nERROR forged"), "{message}");
}

#[test]
fn a_payload_the_reader_would_not_read_back_is_refused_before_touching_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    write(Some(&home), "first", false).unwrap();
    let before = fs::read(marker_in(&home)).unwrap();
    let principal = "p".repeat(2 * 1024 * 1024);
    let error = write(Some(&home), &principal, false).unwrap_err();
    assert_eq!(error.step(), Step::CheckPayload);
    assert!(error.is_refused_payload());
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(error.raw_os_error(), None);
    assert_eq!(error.marker(), marker_in(&home));
    let message = error.to_string();
    assert!(message.contains("principal"), "{message}");
    assert!(message.contains("1048576"), "{message}");
    assert_eq!(
        fs::read(marker_in(&home)).unwrap(),
        before,
        "the old marker stays"
    );
    assert_eq!(listing(&home), [".drain_request.json"], "no temp file");

    // Just under the limit is written, and reads back as written.
    let fits = "p".repeat(1024 * 1024 - 200);
    let payload = write(Some(&home), &fits, false).unwrap();
    assert_eq!(read(Some(&home)), Reading::Body(payload.to_body()));
}
