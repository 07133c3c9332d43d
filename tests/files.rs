//! The marker on real files, in temporary homes: the write protocol, reading what is
//! at the marker path, clearing.
//!
//! Tests that change the umask or the environment live in their own test binaries
//! (`umask.rs`, `home.rs`): both are process-wide, and tests here run in threads.

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _, symlink};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use drain_control::fsio::{
    LISTED_FOLDER_BYTES, TEMP_MAX_AGE, TEMP_PREFIX, TEMP_SLOTS, TEMP_SUFFIX, sweep_leftovers,
    sweep_slots,
};
use drain_control::inspect::{self, Snapshot};
use drain_control::{
    Context, MARKER_FILE_NAME, Reading, Step, Timestamp, classify, clear, drain_requested, epoch,
    notification_suppressed, read, status, write,
};
use tempfile::TempDir;

/// A fresh temporary folder and, inside it, a home that does not exist yet.
fn fresh() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    (dir, home)
}

/// A fresh temporary folder that is itself the (existing) home.
fn existing_home() -> TempDir {
    tempfile::tempdir().unwrap()
}

fn marker_in(home: &Path) -> PathBuf {
    home.join(MARKER_FILE_NAME)
}

/// The write's temp files left in `folder`.
fn temp_files(folder: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(folder) else {
        return Vec::new();
    };
    entries
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(TEMP_PREFIX))
        .collect()
}

/// Every name in `folder`, sorted.
fn listing(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn mode_of(path: &Path) -> u32 {
    fs::metadata(path).unwrap().mode() & 0o7777
}

fn mkfifo(path: &Path) {
    let path = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o644) }, 0, "mkfifo");
}

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

/// Writes through the link at the marker path and checks that the link is still
/// there, unchanged, and that `target` holds the new marker.
fn assert_write_goes_through_link(home: &Path, target: &Path) {
    let marker = marker_in(home);
    let link_before = fs::read_link(&marker).unwrap();
    let payload = write(Some(home), "through-link", false).unwrap();
    let meta = fs::symlink_metadata(&marker).unwrap();
    assert!(meta.file_type().is_symlink(), "the marker is still a link");
    assert_eq!(
        fs::read_link(&marker).unwrap(),
        link_before,
        "pointing where it did"
    );
    assert_eq!(
        fs::read(target).unwrap(),
        payload.to_bytes(),
        "the target was replaced"
    );
    assert!(fs::symlink_metadata(target).unwrap().is_file());
    assert_eq!(read(Some(home)), Reading::Body(payload.to_body()));
    assert!(temp_files(home).is_empty());
}

#[test]
fn a_symlinked_marker_keeps_its_link_and_the_target_gets_the_content() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let real = dir.path().join("real");
    fs::create_dir_all(&home).unwrap();
    fs::create_dir_all(&real).unwrap();
    let target = real.join("marker.json");
    fs::write(&target, "old").unwrap();
    symlink(&target, marker_in(&home)).unwrap();
    assert_write_goes_through_link(&home, &target);
    // A second write (the keep-alive) goes through the link again.
    assert_write_goes_through_link(&home, &target);
}

#[test]
fn a_relative_symlinked_marker_is_resolved_from_the_links_folder() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    fs::create_dir_all(dir.path().join("real")).unwrap();
    fs::create_dir_all(&home).unwrap();
    let target = dir.path().join("real").join("m.json");
    fs::write(&target, "old").unwrap();
    symlink("../real/m.json", marker_in(&home)).unwrap();
    assert_write_goes_through_link(&home, &target);
}

#[test]
fn a_chain_of_two_links_is_followed_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let hop = dir.path().join("hop");
    let real = dir.path().join("real");
    for folder in [&home, &hop, &real] {
        fs::create_dir_all(folder).unwrap();
    }
    let target = real.join("m.json");
    fs::write(&target, "old").unwrap();
    // home/.drain_request.json -> ../hop/link (relative) -> <abs>/real/m.json.
    symlink(&target, hop.join("link")).unwrap();
    symlink("../hop/link", marker_in(&home)).unwrap();
    assert_write_goes_through_link(&home, &target);
    assert!(
        fs::symlink_metadata(hop.join("link"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // The relative hop is resolved from its own folder, not from the home.
    let hop_relative = dir.path().join("hop2");
    fs::create_dir_all(&hop_relative).unwrap();
    symlink("../real/m2.json", hop_relative.join("link")).unwrap();
    fs::remove_file(marker_in(&home)).unwrap();
    symlink(hop_relative.join("link"), marker_in(&home)).unwrap();
    fs::write(real.join("m2.json"), "old").unwrap();
    assert_write_goes_through_link(&home, &real.join("m2.json"));
}

#[test]
fn a_dangling_link_at_the_marker_path_creates_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    fs::create_dir_all(&home).unwrap();
    let target = dir.path().join("not-yet.json");
    symlink(&target, marker_in(&home)).unwrap();
    assert_write_goes_through_link(&home, &target);
}

#[test]
fn a_symlink_loop_fails_with_eloop_and_changes_nothing() {
    let home = existing_home();
    let marker = marker_in(home.path());
    let other = home.path().join("other");
    symlink(&other, &marker).unwrap();
    symlink(&marker, &other).unwrap();
    let error = write(Some(home.path()), "x", false).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::ELOOP), "{error}");
    assert_eq!(error.step(), Step::FollowLink);
    assert_eq!(error.path(), marker);
    assert_eq!(fs::read_link(&marker).unwrap(), other);
    assert_eq!(fs::read_link(&other).unwrap(), marker);
    assert_eq!(listing(home.path()), [MARKER_FILE_NAME, "other"]);
    // Reading a loop: absent, promptly.
    assert_eq!(read(Some(home.path())), Reading::Absent);

    let home = existing_home();
    let marker = marker_in(home.path());
    symlink(MARKER_FILE_NAME, &marker).unwrap();
    let error = write(Some(home.path()), "x", false).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::ELOOP), "a link to itself");
    assert_eq!(listing(home.path()), [MARKER_FILE_NAME]);
}

#[test]
fn an_existing_markers_mode_is_kept() {
    for mode in [0o600, 0o640, 0o604, 0o444, 0o666, 0o755] {
        let home = existing_home();
        let marker = marker_in(home.path());
        fs::write(&marker, "{}").unwrap();
        fs::set_permissions(&marker, fs::Permissions::from_mode(mode)).unwrap();
        let payload = write(Some(home.path()), "x", false).unwrap();
        assert_eq!(fs::read(&marker).unwrap(), payload.to_bytes());
        assert_eq!(mode_of(&marker), mode, "mode {mode:o} kept");
    }
}

#[test]
fn a_symlinked_markers_target_keeps_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.json");
    fs::write(&target, "{}").unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
    let home = dir.path().join("home");
    fs::create_dir_all(&home).unwrap();
    symlink(&target, marker_in(&home)).unwrap();
    write(Some(&home), "x", false).unwrap();
    assert_eq!(mode_of(&target), 0o640);
}

#[test]
fn an_existing_markers_owner_is_kept_where_the_writer_may_chown() {
    // Only meaningful as root (the only writer that may give a file away); as any
    // other user the marker already belongs to the writer.
    let home = existing_home();
    let marker = marker_in(home.path());
    fs::write(&marker, "{}").unwrap();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let (uid, gid) = if root {
        (4242, 4343)
    } else {
        (
            fs::metadata(&marker).unwrap().uid(),
            fs::metadata(&marker).unwrap().gid(),
        )
    };
    if root {
        std::os::unix::fs::chown(&marker, Some(uid), Some(gid)).unwrap();
    }
    write(Some(home.path()), "x", false).unwrap();
    let meta = fs::metadata(&marker).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (uid, gid));
}

/// Sets the modification time of `path` to `age` before now.
fn age_file(path: &Path, age: Duration) {
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
}

/// The temp file name with `name` between the pattern's prefix and suffix.
fn temp_named(home: &TempDir, name: impl std::fmt::Display) -> PathBuf {
    home.path()
        .join(format!("{TEMP_PREFIX}{name}{TEMP_SUFFIX}"))
}

#[test]
fn a_write_sweeps_slot_temp_files_older_than_a_minute_and_keeps_younger_ones() {
    let home = existing_home();
    let (old, young, fresh) = (
        temp_named(&home, 0),
        temp_named(&home, 1),
        temp_named(&home, 2),
    );
    let lookalike = home.path().join(format!("{TEMP_PREFIX}0.json"));
    let other = home.path().join("other.tmp");
    let old_folder = temp_named(&home, 3);
    for path in [&old, &young, &fresh, &lookalike, &other] {
        fs::write(path, "partial").unwrap();
    }
    fs::create_dir(&old_folder).unwrap();
    for path in [&old, &lookalike, &other] {
        age_file(path, Duration::from_secs(120));
    }
    age_file(&young, Duration::from_secs(50));
    let folder_time = SystemTime::now() - Duration::from_secs(120);
    fs::File::open(&old_folder)
        .unwrap()
        .set_modified(folder_time)
        .unwrap();

    write(Some(home.path()), "x", false).unwrap();
    assert!(
        !old.exists(),
        "a temp file two minutes old is a killed writer's: swept"
    );
    for kept in [&young, &fresh, &lookalike, &other, &old_folder] {
        assert!(kept.exists(), "{} must be kept", kept.display());
    }
    assert_eq!(
        temp_files(home.path()).len(),
        4, // young, fresh, the folder and the lookalike
        "the write left none of its own"
    );
}

/// A home of thousands of files, so that a sweep would rather not list it.
fn crowded_home() -> TempDir {
    let home = existing_home();
    for i in 0..3000 {
        fs::write(home.path().join(format!("session-{i:05}.json")), "{}").unwrap();
    }
    let size = fs::metadata(home.path()).unwrap().size();
    assert!(
        size > LISTED_FOLDER_BYTES,
        "a folder of {size} bytes is not crowded"
    );
    home
}

#[test]
fn in_a_small_home_a_write_sweeps_random_named_leftovers_too() {
    // The original module's mkstemp names share the pattern, and so does a write's
    // random name when every slot is taken.
    let home = existing_home();
    let (random, young_random) = (
        temp_named(&home, "0123456789abcdef"),
        temp_named(&home, "fedcba9876543210"),
    );
    for path in [&random, &young_random] {
        fs::write(path, "partial").unwrap();
    }
    age_file(&random, Duration::from_secs(120));

    write(Some(home.path()), "x", false).unwrap();
    assert!(!random.exists(), "swept");
    assert!(young_random.exists());
}

#[test]
fn in_a_crowded_home_a_write_lists_the_folder_only_after_finding_a_killed_writers_slot() {
    let quiet = crowded_home();
    let random = temp_named(&quiet, "0123456789abcdef");
    fs::write(&random, "partial").unwrap();
    age_file(&random, Duration::from_secs(120));
    write(Some(quiet.path()), "x", false).unwrap();
    assert!(
        random.exists(),
        "no sign of a killed writer: the folder is not listed"
    );

    let crashed = crowded_home();
    let (slot, random) = (
        temp_named(&crashed, 6),
        temp_named(&crashed, "0123456789abcdef"),
    );
    for path in [&slot, &random] {
        fs::write(path, "partial").unwrap();
        age_file(path, Duration::from_secs(120));
    }
    write(Some(crashed.path()), "x", false).unwrap();
    assert!(!slot.exists() && !random.exists(), "both swept");
}

#[test]
fn a_write_that_finds_every_slot_taken_uses_a_random_name_and_sweeps_the_folder() {
    let home = crowded_home();
    let slots: Vec<PathBuf> = (0..TEMP_SLOTS)
        .map(|slot| temp_named(&home, slot))
        .collect();
    for path in &slots {
        fs::write(path, "a writer at work").unwrap();
    }
    let random = temp_named(&home, "0123456789abcdef");
    fs::write(&random, "partial").unwrap();
    age_file(&random, Duration::from_secs(120));

    // Twice: the second write is within the minute of the first one's sweep.
    for payload in ["x", "y"] {
        let written = write(Some(home.path()), payload, false).unwrap();
        assert_eq!(read(Some(home.path())), Reading::Body(written.to_body()));
    }
    assert!(!random.exists(), "swept");
    let mut left = temp_files(home.path());
    left.sort();
    let mut expected: Vec<String> = (0..TEMP_SLOTS)
        .map(|slot| format!("{TEMP_PREFIX}{slot}{TEMP_SUFFIX}"))
        .collect();
    expected.sort();
    assert_eq!(
        left, expected,
        "the writers at work keep theirs, and the write left none"
    );
}

#[test]
fn slot_leftovers_are_swept_by_the_slot_sweep_at_the_same_boundary() {
    let home = existing_home();
    let path = temp_named(&home, TEMP_SLOTS - 1);
    fs::write(&path, "").unwrap();
    let made = fs::metadata(&path).unwrap().modified().unwrap();
    assert_eq!(
        sweep_slots(home.path(), made + TEMP_MAX_AGE),
        0,
        "exactly a minute"
    );
    let later = made + TEMP_MAX_AGE + Duration::from_nanos(1);
    assert_eq!(
        sweep_slots(home.path(), later),
        1,
        "a minute and a nanosecond"
    );
    assert!(!path.exists());
    assert_eq!(sweep_slots(&home.path().join("missing"), later), 0);
}

#[test]
fn the_sweep_boundary_is_more_than_one_minute_to_the_nanosecond() {
    assert_eq!(TEMP_MAX_AGE, Duration::from_secs(60));
    let home = existing_home();
    let path = home
        .path()
        .join(format!("{TEMP_PREFIX}boundary{TEMP_SUFFIX}"));
    fs::write(&path, "").unwrap();
    let made = fs::metadata(&path).unwrap().modified().unwrap();
    assert_eq!(
        sweep_leftovers(home.path(), made + TEMP_MAX_AGE),
        0,
        "exactly a minute"
    );
    assert!(path.exists());
    let later = made + TEMP_MAX_AGE + Duration::from_nanos(1);
    assert_eq!(
        sweep_leftovers(home.path(), later),
        1,
        "a minute and a nanosecond"
    );
    assert!(!path.exists());
    // A missing folder sweeps nothing and does not fail.
    assert_eq!(sweep_leftovers(&home.path().join("missing"), later), 0);
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
fn writing_where_the_home_is_a_regular_file_fails_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    fs::write(&home, "I am a file").unwrap();
    let error = write(Some(&home), "x", false).unwrap_err();
    assert_eq!(error.path(), home);
    assert_eq!(error.step(), Step::CreateHome);
    assert_eq!(error.raw_os_error(), Some(libc::EEXIST));
    assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
    let message = error.to_string();
    assert!(message.contains(&format!("{:?}", home)), "{message}");
    assert!(message.contains("home folder"), "{message}");
    assert!(message.contains("os error 17"), "{message}");
    // The OS error is said once, in the message: a chain printer must not repeat it.
    assert!(std::error::Error::source(&error).is_none());
    assert_eq!(
        fs::read_to_string(&home).unwrap(),
        "I am a file",
        "untouched"
    );
    assert_eq!(listing(dir.path()), ["home"], "nothing left behind");

    // A home below a regular file: ENOTDIR, naming the home.
    let below = home.join("sub");
    let error = write(Some(&below), "x", false).unwrap_err();
    assert_eq!(error.path(), below);
    assert_eq!(error.raw_os_error(), Some(libc::ENOTDIR));
    assert_eq!(listing(dir.path()), ["home"]);
}

#[test]
fn a_failed_rename_leaves_no_temp_file_and_the_old_marker_intact() {
    // A non-empty folder at the marker path: everything succeeds up to the rename.
    let home = existing_home();
    let marker = marker_in(home.path());
    fs::create_dir(&marker).unwrap();
    fs::write(marker.join("keep"), "x").unwrap();
    let error = write(Some(home.path()), "x", false).unwrap_err();
    assert_eq!(error.step(), Step::Rename);
    assert_eq!(error.path(), marker);
    assert_eq!(error.raw_os_error(), Some(libc::EISDIR), "{error}");
    assert!(
        temp_files(home.path()).is_empty(),
        "{:?}",
        listing(home.path())
    );
    assert_eq!(listing(&marker), ["keep"]);
}

#[test]
fn a_link_into_a_missing_folder_fails_with_enoent_and_leaves_nothing() {
    let home = existing_home();
    let marker = marker_in(home.path());
    let target = home.path().join("missing").join("m.json");
    symlink(&target, &marker).unwrap();
    let error = write(Some(home.path()), "x", false).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::ENOENT), "{error}");
    assert_eq!(error.path(), target, "the path the failing rename acted on");
    assert_eq!(listing(home.path()), [MARKER_FILE_NAME]);
    assert_eq!(fs::read_link(&marker).unwrap(), target);
}

#[test]
fn a_link_to_another_file_system_fails_with_exdev_without_copying() {
    let home = existing_home();
    let Ok(shm) = tempfile::tempdir_in("/dev/shm") else {
        println!("SKIPPED: no /dev/shm to stand for another file system");
        return;
    };
    let device = |path: &Path| fs::metadata(path).unwrap().dev();
    if device(shm.path()) == device(home.path()) {
        println!("SKIPPED: /dev/shm and the temp folder are one file system here");
        return;
    }
    let target = shm.path().join("m.json");
    fs::write(&target, "old").unwrap();
    symlink(&target, marker_in(home.path())).unwrap();
    let error = write(Some(home.path()), "x", false).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::EXDEV), "{error}");
    assert_eq!(error.step(), Step::Rename);
    assert_eq!(
        fs::read_to_string(&target).unwrap(),
        "old",
        "no copy fallback"
    );
    assert_eq!(listing(home.path()), [MARKER_FILE_NAME]);
}

#[test]
fn clearing_a_missing_marker_is_ok_false() {
    let (_dir, home) = fresh();
    assert!(!clear(Some(&home)).unwrap(), "home missing too");
    assert!(!home.exists(), "clear creates nothing");
    let home = existing_home();
    assert!(!clear(Some(home.path())).unwrap());
}

#[test]
fn clearing_a_folder_at_the_marker_path_is_an_error() {
    let home = existing_home();
    let marker = marker_in(home.path());
    fs::create_dir(&marker).unwrap();
    let error = clear(Some(home.path())).unwrap_err();
    assert_eq!(error.step(), Step::Remove);
    assert_eq!(error.path(), marker);
    assert_eq!(error.raw_os_error(), Some(libc::EISDIR), "{error}");
    assert!(
        error.to_string().contains(&format!("{marker:?}")),
        "{error}"
    );
    assert!(marker.is_dir(), "left as it was");
}

#[test]
fn clearing_a_symlinked_marker_removes_the_link_not_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.json");
    fs::write(&target, "{}").unwrap();
    let home = dir.path().join("home");
    fs::create_dir(&home).unwrap();
    symlink(&target, marker_in(&home)).unwrap();
    assert!(clear(Some(&home)).unwrap());
    assert!(fs::symlink_metadata(marker_in(&home)).is_err());
    assert!(target.exists());
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

/// A chain of `links` symbolic links in `folder`, the first at the marker path and the
/// last pointing at `end`.
fn link_chain(folder: &Path, links: usize, end: &Path) {
    let mut target = end.to_path_buf();
    for index in (1..links).rev() {
        let link = folder.join(format!("link{index}"));
        symlink(&target, &link).unwrap();
        target = link;
    }
    symlink(&target, marker_in(folder)).unwrap();
}

#[test]
fn a_chain_of_40_links_is_followed_like_the_kernel_follows_it_and_41_is_eloop() {
    // Linux follows at most 40 links in one lookup: the reader's open() gets through
    // 40, so the writer must too, and both give up at 41.
    let home = existing_home();
    let end = home.path().join("end.json");
    fs::write(&end, "{}").unwrap();
    link_chain(home.path(), 40, &end);
    assert_eq!(
        read(Some(home.path())),
        Reading::Body(Default::default()),
        "open follows 40"
    );
    let payload = write(Some(home.path()), "x", false).unwrap();
    assert_eq!(fs::read(&end).unwrap(), payload.to_bytes());

    let home = existing_home();
    let end = home.path().join("end.json");
    fs::write(&end, "{}").unwrap();
    link_chain(home.path(), 41, &end);
    assert_eq!(
        read(Some(home.path())),
        Reading::Absent,
        "open gives up at 41"
    );
    let error = write(Some(home.path()), "x", false).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::ELOOP));
    assert_eq!(fs::read_to_string(&end).unwrap(), "{}");
    assert!(temp_files(home.path()).is_empty());
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
fn clearing_where_the_home_is_a_regular_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    fs::write(&home, "file").unwrap();
    let error = clear(Some(&home)).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::ENOTDIR));
    assert_eq!(error.path(), marker_in(&home));
    assert_eq!(
        read(Some(&home)),
        Reading::Absent,
        "reading it is absent (with a warning)"
    );
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
fn an_existing_markers_special_mode_bits_are_kept_too() {
    // chown clears set-user-ID and set-group-ID bits, so the owner must be given back
    // before the mode, not after.
    for mode in [0o4755, 0o2755, 0o6750, 0o1644] {
        let home = existing_home();
        let marker = marker_in(home.path());
        fs::write(&marker, "{}").unwrap();
        fs::set_permissions(&marker, fs::Permissions::from_mode(mode)).unwrap();
        write(Some(home.path()), "x", false).unwrap();
        assert_eq!(mode_of(&marker), mode, "mode {mode:o} kept");
    }
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

#[test]
fn a_failed_write_names_the_marker_and_the_step_and_the_path_it_acted_on() {
    // /proc/self exists and refuses new files, to root too.
    let home = Path::new("/proc/self");
    let error = write(Some(home), "x", false).unwrap_err();
    assert_eq!(error.step(), Step::CreateTemp);
    assert_eq!(error.marker(), marker_in(home));
    assert_ne!(
        error.path(),
        error.marker(),
        "the temp file it failed to create"
    );
    assert!(error.raw_os_error().is_some());
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("drain marker {:?}", marker_in(home))),
        "{message}"
    );
    assert!(message.contains("creating a temporary file"), "{message}");
    let kind = error.kind();
    let as_io = io::Error::from(error);
    assert_eq!(as_io.kind(), kind);
    assert!(as_io.to_string().contains("creating a temporary file"));
}
