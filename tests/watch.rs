//! The watcher against real files: every change of the drain state is reported once,
//! promptly, and only then.
//!
//! On Linux most tests set a long fallback interval (30 s) and wait at most a few
//! seconds, so that a pass proves the event-driven path (inotify, the expiry timer,
//! the re-arm) and not the safety-net re-read. Elsewhere, where re-reading is the
//! mechanism, they run with a short interval.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use drain_control::watch::{Change, State, WatchOptions, Watcher};
use drain_control::{clear, write};

const PATIENCE: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(300);

// The portable backend (other systems, or Linux with the cargo feature
// `portable-backends`, as scripts/test-rust runs these tests too) re-reads instead.
const EVENT_DRIVEN: bool = cfg!(all(
    any(target_os = "linux", target_os = "android"),
    not(feature = "portable-backends")
));

fn options() -> WatchOptions {
    let mut options = WatchOptions::default();
    options.fallback_interval = if EVENT_DRIVEN {
        Duration::from_secs(30)
    } else {
        Duration::from_millis(50)
    };
    options
}

fn watcher(home: &Path, options: WatchOptions) -> Watcher {
    Watcher::new(Some(home), options).expect("watcher")
}

/// The next change, which must come within [`PATIENCE`].
fn expect_change(watcher: &mut Watcher) -> Change {
    watcher
        .next_change(Some(PATIENCE))
        .expect("next_change")
        .unwrap_or_else(|| panic!("no change within {PATIENCE:?}"))
}

/// No change within [`QUIET`].
fn expect_quiet(watcher: &mut Watcher) {
    if let Some(change) = watcher.next_change(Some(QUIET)).expect("next_change") {
        panic!("unexpected change: {change:?}");
    }
}

fn principal(change: &Change) -> Option<&str> {
    change.classified.reading.body()?.get("principal")?.as_str()
}

#[test]
fn first_change_is_the_initial_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = watcher(dir.path(), options());
    let first = expect_change(&mut w);
    assert!(first.initial);
    assert_eq!(first.state, State::Absent);
    expect_quiet(&mut w);

    write(Some(dir.path()), "dashboard", false).unwrap();
    let mut w = watcher(dir.path(), options());
    let first = expect_change(&mut w);
    assert!(first.initial);
    assert_eq!(first.state, State::Active);
    assert!(first.expires_at.is_some());
}

#[test]
fn begin_and_cancel_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let home = Some(dir.path());
    let mut w = watcher(dir.path(), options());
    assert_eq!(expect_change(&mut w).state, State::Absent);

    write(home, "dashboard", false).unwrap();
    let begun = expect_change(&mut w);
    assert!(!begun.initial);
    assert_eq!(begun.state, State::Active);
    assert!(begun.state.is_draining());
    assert_eq!(principal(&begun), Some("dashboard"));

    assert!(clear(home).unwrap());
    let cancelled = expect_change(&mut w);
    assert_eq!(cancelled.state, State::Absent);
    assert!(!cancelled.state.is_draining());
    expect_quiet(&mut w);
}

#[test]
fn keep_alive_rewrite_is_not_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let home = Some(dir.path());
    write(home, "dashboard", false).unwrap();
    let mut w = watcher(dir.path(), options());
    assert_eq!(expect_change(&mut w).state, State::Active);
    std::thread::sleep(Duration::from_millis(2)); // a different requested_at
    write(home, "dashboard", false).unwrap();
    expect_quiet(&mut w);

    // Anything else in the body is a change, even with the same verdict.
    write(home, "someone-else", false).unwrap();
    let change = expect_change(&mut w);
    assert_eq!(change.state, State::Active);
    assert_eq!(principal(&change), Some("someone-else"));
}

#[test]
fn keep_alive_rewrite_is_reported_with_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let home = Some(dir.path());
    let first = write(home, "dashboard", false).unwrap();
    let mut options = options();
    options.every_change = true;
    let mut w = watcher(dir.path(), options);
    assert_eq!(expect_change(&mut w).state, State::Active);
    std::thread::sleep(Duration::from_millis(2));
    let second = write(home, "dashboard", false).unwrap();
    assert_ne!(first.requested_at, second.requested_at);
    let change = expect_change(&mut w);
    assert_eq!(change.state, State::Active);
    let body = change.classified.reading.body().unwrap();
    assert_eq!(body["requested_at"], second.requested_at.as_str());
}

#[test]
fn suppress_flip_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let home = Some(dir.path());
    let mut w = watcher(dir.path(), options());
    expect_change(&mut w);
    write(home, "dashboard", false).unwrap();
    assert_eq!(expect_change(&mut w).state, State::Active);
    write(home, "dashboard", true).unwrap();
    let change = expect_change(&mut w);
    assert_eq!(change.state, State::Suppressed);
    assert!(change.classified.verdict.suppressed);
    write(home, "dashboard", false).unwrap();
    assert_eq!(expect_change(&mut w).state, State::Active);
}

#[test]
fn marker_expiry_is_reported_without_a_file_event() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = options();
    options.max_age_micros = Some(300_000);
    let mut w = watcher(dir.path(), options);
    expect_change(&mut w);
    let written = Instant::now();
    write(Some(dir.path()), "dashboard", false).unwrap();
    let begun = expect_change(&mut w);
    assert_eq!(begun.state, State::Active);
    let expires_at = begun.expires_at.expect("an expiry is scheduled");
    let expired = expect_change(&mut w);
    let waited = written.elapsed();
    assert_eq!(expired.state, State::Expired);
    assert!(expired.at >= expires_at);
    assert!(expired.classified.verdict.expired);
    assert!(
        expired.warning.is_some(),
        "an expired marker deserves its warning"
    );
    assert!(
        waited >= Duration::from_millis(290),
        "expired early: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(3),
        "the fallback (30 s) did it, not the timer"
    );

    // A keep-alive revives it, and it expires again.
    write(Some(dir.path()), "dashboard", false).unwrap();
    assert_eq!(expect_change(&mut w).state, State::Active);
    assert_eq!(expect_change(&mut w).state, State::Expired);
}

#[test]
fn home_created_late_is_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("not").join("yet").join("home");
    let mut w = watcher(&home, options());
    assert_eq!(expect_change(&mut w).state, State::Absent);

    // Created one level at a time, with pauses, so the watch climbs down.
    fs::create_dir(dir.path().join("not")).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    fs::create_dir(dir.path().join("not").join("yet")).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    fs::create_dir(&home).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    expect_quiet(&mut w);

    write(Some(&home), "dashboard", false).unwrap();
    assert_eq!(expect_change(&mut w).state, State::Active);
}

#[test]
fn home_created_together_with_the_marker_is_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("a").join("b");
    let mut w = watcher(&home, options());
    assert_eq!(expect_change(&mut w).state, State::Absent);
    // One call creates the folders and writes the marker: the re-read after arming
    // the watch on the new folder must find it.
    write(Some(&home), "dashboard", false).unwrap();
    assert_eq!(expect_change(&mut w).state, State::Active);
}

#[test]
fn home_deleted_and_recreated_is_rearmed() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    write(Some(&home), "dashboard", false).unwrap();
    let mut w = watcher(&home, options());
    assert_eq!(expect_change(&mut w).state, State::Active);

    fs::remove_dir_all(&home).unwrap();
    assert_eq!(expect_change(&mut w).state, State::Absent);

    write(Some(&home), "again", false).unwrap();
    let change = expect_change(&mut w);
    assert_eq!(change.state, State::Active);
    assert_eq!(principal(&change), Some("again"));

    // Replaced by a rename: the old folder's inode moves away, the new one must be
    // watched.
    let staged = dir.path().join("staged");
    write(Some(&staged), "renamed-in", true).unwrap();
    fs::rename(&home, dir.path().join("old")).unwrap();
    fs::rename(&staged, &home).unwrap();
    let mut last = expect_change(&mut w);
    while last.state != State::Suppressed {
        last = expect_change(&mut w);
    }
    assert_eq!(principal(&last), Some("renamed-in"));
    clear(Some(&home)).unwrap();
    assert_eq!(expect_change(&mut w).state, State::Absent);
}

#[test]
fn burst_of_changes_ends_on_the_final_state() {
    let dir = tempfile::tempdir().unwrap();
    let home = Some(dir.path());
    let mut w = watcher(dir.path(), options());
    expect_change(&mut w);
    for round in 0..200 {
        match round % 3 {
            0 => drop(write(home, &format!("writer-{round}"), false).unwrap()),
            1 => drop(write(home, &format!("writer-{round}"), true).unwrap()),
            _ => drop(clear(home).unwrap()),
        }
    }
    write(home, "final", true).unwrap();
    let mut last = None;
    let mut count = 0;
    while let Some(change) = w.next_change(Some(QUIET)).unwrap() {
        count += 1;
        last = Some(change);
    }
    let last = last.expect("at least one change");
    assert_eq!(last.state, State::Suppressed);
    assert_eq!(principal(&last), Some("final"));
    assert!(count <= 202, "{count} reports for 201 changes");
}

#[test]
fn stop_wakes_a_blocked_watcher_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = watcher(dir.path(), options());
    expect_change(&mut w);
    let stopper = w.stopper();
    let stopping = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        stopper.stop();
    });
    let started = Instant::now();
    assert!(w.next_change(None).unwrap().is_none());
    let took = started.elapsed();
    stopping.join().unwrap();
    assert!(took < Duration::from_secs(2), "stop took {took:?}");
    assert!(w.is_stopped());
    // Stopped for good, even with a change waiting.
    write(Some(dir.path()), "dashboard", false).unwrap();
    assert!(
        w.next_change(Some(Duration::from_millis(50)))
            .unwrap()
            .is_none()
    );
    assert!(w.next().is_none());
    w.stopper().stop(); // twice is harmless
}

#[test]
fn iterator_yields_changes_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().to_path_buf();
    let w = watcher(dir.path(), options());
    let stopper = w.stopper();
    let guard = w.stopper();
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut states = Vec::new();
        for change in w {
            let change = change.unwrap();
            states.push(change.state);
            if states.len() == 3 {
                stopper.stop();
            }
        }
        done.send(states).unwrap();
    });
    std::thread::sleep(Duration::from_millis(50));
    write(Some(&home), "dashboard", false).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    clear(Some(&home)).unwrap();
    let states = result.recv_timeout(PATIENCE);
    guard.stop(); // never leave the reader blocked, pass or fail
    assert_eq!(
        states.unwrap(),
        [State::Absent, State::Active, State::Absent]
    );
}

#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    not(feature = "portable-backends")
))]
fn readable_within(w: &Watcher, timeout: Duration) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let mut fds = [PollFd::new(w, PollFlags::IN)];
    let timeout = Timespec::try_from(timeout).unwrap();
    poll(&mut fds, Some(&timeout)).unwrap() == 1
}

#[test]
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    not(feature = "portable-backends")
))]
fn descriptor_becomes_readable_on_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = watcher(dir.path(), options());
    // Readable at once for the initial state.
    assert!(readable_within(&w, Duration::from_secs(1)));
    let first = w.next_change(Some(Duration::ZERO)).unwrap().unwrap();
    assert!(first.initial);
    assert!(!readable_within(&w, Duration::from_millis(100)));

    write(Some(dir.path()), "dashboard", false).unwrap();
    assert!(readable_within(&w, PATIENCE));
    // An event loop drains with a zero timeout until nothing is left.
    let mut states = Vec::new();
    while let Some(change) = w.next_change(Some(Duration::ZERO)).unwrap() {
        states.push(change.state);
    }
    assert_eq!(states, [State::Active]);
    assert!(!readable_within(&w, Duration::from_millis(100)));

    w.stopper().stop();
    assert!(readable_within(&w, Duration::from_millis(100)));
    assert!(w.next_change(Some(Duration::ZERO)).unwrap().is_none());
}

#[test]
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    not(feature = "portable-backends")
))]
fn descriptor_becomes_readable_at_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = options();
    options.max_age_micros = Some(200_000);
    write(Some(dir.path()), "dashboard", false).unwrap();
    let mut w = watcher(dir.path(), options);
    assert_eq!(
        w.next_change(Some(PATIENCE)).unwrap().unwrap().state,
        State::Active
    );
    assert!(readable_within(&w, Duration::from_secs(3)));
    let mut last = None;
    while let Some(change) = w.next_change(Some(Duration::ZERO)).unwrap() {
        last = Some(change.state);
    }
    assert_eq!(last, Some(State::Expired));
}

#[test]
fn unrelated_files_in_the_home_are_not_changes() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = watcher(dir.path(), options());
    expect_change(&mut w);
    fs::write(dir.path().join("config.yaml"), "x: 1").unwrap();
    fs::write(dir.path().join("..drain_request_0123.tmp"), "{}").unwrap();
    expect_quiet(&mut w);
}

#[test]
fn plain_writes_and_foreign_markers_are_judged_by_the_core() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join(".drain_request.json");
    let mut w = watcher(dir.path(), options());
    expect_change(&mut w);

    // A marker from another instantiation, written non-atomically.
    let stale = r#"{"action": "drain", "requested_at": "2099-01-01T00:00:00+00:00",
        "principal": "old", "epoch": "another-boot:1"}"#;
    fs::write(&marker, stale).unwrap();
    let mut last = expect_change(&mut w);
    while let Some(change) = w.next_change(Some(QUIET)).unwrap() {
        last = change;
    }
    let expected = if drain_control::epoch::current().is_empty() {
        State::Active // no epoch here: nothing is ever stale
    } else {
        State::EpochStale
    };
    assert_eq!(last.state, expected);

    // Garbage is contentless, hence active (fail-safe).
    fs::write(&marker, "not json").unwrap();
    let mut last = expect_change(&mut w);
    while let Some(change) = w.next_change(Some(QUIET)).unwrap() {
        last = change;
    }
    assert_eq!(last.state, State::Active);
    assert!(last.classified.reading.body().is_none());
}

#[test]
fn fallback_reread_catches_what_no_event_announces() {
    // A marker that is a symbolic link into another folder: the target's changes
    // raise no event in the home; the fallback re-read must find them.
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir_all(&home).unwrap();
    fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(
        elsewhere.join(".drain_request.json"),
        home.join(".drain_request.json"),
    )
    .unwrap();
    let mut options = WatchOptions::default();
    options.fallback_interval = Duration::from_millis(100);
    let mut w = watcher(&home, options);
    assert_eq!(expect_change(&mut w).state, State::Absent);
    write(Some(&elsewhere), "dashboard", false).unwrap();
    assert_eq!(expect_change(&mut w).state, State::Active);
}

/// Not a check: prints how long after `write` returned the watcher reported the
/// change (negative: before it returned, which happens because the write's last step,
/// the folder fsync, comes after the rename that the watcher sees).
#[test]
fn report_notification_delay() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().to_path_buf();
    let mut w = watcher(dir.path(), options());
    expect_change(&mut w);
    let (tx, rx) = std::sync::mpsc::channel();
    let stopper = w.stopper();
    let watching = std::thread::spawn(move || {
        for change in w {
            change.unwrap();
            tx.send(Instant::now()).unwrap();
        }
    });
    let mut delays = Vec::new();
    for round in 0..20 {
        let home = Some(home.as_path());
        if round % 2 == 0 {
            write(home, "dashboard", false).unwrap();
        } else {
            clear(home).unwrap();
        }
        let returned = Instant::now();
        let seen = rx.recv_timeout(PATIENCE).expect("a notification");
        let micros = if seen >= returned {
            seen.duration_since(returned).as_micros() as i64
        } else {
            -(returned.duration_since(seen).as_micros() as i64)
        };
        delays.push(micros);
    }
    stopper.stop();
    watching.join().unwrap();
    delays.sort_unstable();
    println!(
        "write-return -> notification, 20 changes: min {} us, median {} us, max {} us",
        delays[0],
        delays[delays.len() / 2],
        delays[delays.len() - 1]
    );
}
