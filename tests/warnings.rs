//! The two warnings of the contract, through the `log` facade: an expired marker once
//! per `requested_at`, an unreadable marker once per distinct failure, never per poll.
//!
//! One global logger per test binary, so these tests have this binary to themselves.
//! Tests run in threads and share the logger and the library's memory of what it
//! already said: each test uses its own home and its own `requested_at` values, and
//! looks only at the records that name them.

use std::fs;
use std::path::Path;
use std::sync::{Mutex, Once};

use drain_control::{MARKER_FILE_NAME, drain_requested, notification_suppressed, read, status};

struct Capture;

static RECORDS: Mutex<Vec<(log::Level, String, String)>> = Mutex::new(Vec::new());

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let entry = (
            record.level(),
            record.target().to_owned(),
            record.args().to_string(),
        );
        RECORDS.lock().unwrap().push(entry);
    }

    fn flush(&self) {}
}

fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
}

/// The messages logged so far that contain `needle`, checking they are warnings from
/// this library.
fn logged(needle: &str) -> Vec<String> {
    RECORDS
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, _, message)| message.contains(needle))
        .map(|(level, target, message)| {
            assert_eq!(*level, log::Level::Warn, "{message}");
            assert!(target.starts_with("drain_control"), "{target}");
            message.clone()
        })
        .collect()
}

/// Polls `home` the ways a gateway does, several times over.
fn poll(home: &Path, times: usize) {
    for _ in 0..times {
        drain_requested(Some(home));
        notification_suppressed(Some(home));
        status(Some(home));
        read(Some(home));
    }
}

fn write_marker(home: &Path, requested_at: &str, principal: &str) {
    let text = format!(r#"{{"requested_at": "{requested_at}", "principal": "{principal}"}}"#);
    fs::write(home.join(MARKER_FILE_NAME), text).unwrap();
}

#[test]
fn an_expired_marker_is_warned_about_once_per_requested_at() {
    install();
    let home = tempfile::tempdir().unwrap();
    let (first, second) = ("2001-02-03T04:05:06.123456+00:00", "2001-02-03T04:05:07Z");
    write_marker(home.path(), first, "ops-expired");
    assert!(!drain_requested(Some(home.path())), "expired");
    poll(home.path(), 3);

    let messages = logged(first);
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    for part in [
        "expired drain marker",
        first,
        "ops-expired",
        "3600s",
        "s old",
    ] {
        assert!(message.contains(part), "{part:?} missing from {message}");
    }
    let path = format!("{:?}", home.path().join(MARKER_FILE_NAME));
    assert!(message.contains(&path), "{message}");
    // The age is printed in whole seconds: more than 25 years here.
    let age: f64 = message
        .split(" is ")
        .nth(1)
        .unwrap()
        .split('s')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(age > 25.0 * 365.0 * 86400.0, "{message}");

    // A new requested_at (a keep-alive that then expired too) is a new warning ...
    write_marker(home.path(), second, "ops-expired");
    poll(home.path(), 3);
    assert_eq!(logged(second).len(), 1);
    // ... and the old one coming back is not.
    write_marker(home.path(), first, "ops-expired");
    poll(home.path(), 3);
    assert_eq!(logged(first).len(), 1);
}

#[test]
fn an_expired_marker_without_a_principal_still_says_so() {
    install();
    let home = tempfile::tempdir().unwrap();
    let requested_at = "2002-02-03T04:05:06";
    fs::write(
        home.path().join(MARKER_FILE_NAME),
        format!(r#"{{"requested_at": "{requested_at}"}}"#),
    )
    .unwrap();
    poll(home.path(), 2);
    let messages = logged(requested_at);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("principal none"), "{}", messages[0]);
}

#[test]
fn an_unreadable_marker_is_warned_about_once_per_distinct_failure() {
    install();
    let home = tempfile::tempdir().unwrap();
    let marker = home.path().join(MARKER_FILE_NAME);
    let path = format!("{marker:?}");

    fs::create_dir(&marker).unwrap();
    poll(home.path(), 3);
    assert_eq!(logged(&path).len(), 1, "{:?}", logged(&path));
    assert!(logged(&path)[0].contains("folder"), "{:?}", logged(&path));

    // Another failure at the same path is another warning.
    fs::remove_dir(&marker).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &marker).unwrap();
    poll(home.path(), 3);
    let messages = logged(&path);
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[1].contains("character device"), "{messages:?}");

    // The first failure again: already said.
    fs::remove_file(&marker).unwrap();
    fs::create_dir(&marker).unwrap();
    poll(home.path(), 3);
    assert_eq!(logged(&path).len(), 2);
}

#[test]
fn absent_fresh_stale_and_contentless_markers_log_nothing() {
    install();
    let home = tempfile::tempdir().unwrap();
    let marker = home.path().join(MARKER_FILE_NAME);
    let path = format!("{:?}", home.path());
    poll(home.path(), 2);
    drain_control::write(Some(home.path()), "fresh", true).unwrap();
    poll(home.path(), 2);
    fs::write(&marker, r#"{"epoch": "another-instantiation:1"}"#).unwrap();
    poll(home.path(), 2);
    fs::write(&marker, "not json").unwrap();
    poll(home.path(), 2);
    fs::write(&marker, r#"{"requested_at": "2999-01-01T00:00:00"}"#).unwrap();
    poll(home.path(), 2);
    assert_eq!(logged(&path), Vec::<String>::new());
}

#[test]
fn a_hostile_principal_cannot_forge_a_log_line() {
    install();
    let home = tempfile::tempdir().unwrap();
    let requested_at = "2003-02-03T04:05:06Z";
    let principal = r#"evil\nWARNING forged line\u001b[31m"#;
    write_marker(home.path(), requested_at, principal);
    poll(home.path(), 1);
    let messages = logged(requested_at);
    assert_eq!(messages.len(), 1);
    assert!(
        !messages[0].contains('\n') && !messages[0].contains('\u{1b}'),
        "{messages:?}"
    );
}
