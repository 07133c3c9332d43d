//! Leases (CONTRACT.md, "Leases"): an exclusive begin, a keep-alive and a release that
//! act only while the marker carries the lease's token, and a guard that holds one.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use drain_control::fsio::MarkerLock;
use drain_control::lease::{self, Holder, LeaseError, LeaseOptions};
use drain_control::{
    Context, MARKER_FILE_NAME, Reading, State, Timestamp, classify, clear, drain_requested, epoch,
    read, write,
};
use serde_json::{Value, json};

fn home() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn marker(home: &Path) -> PathBuf {
    home.join(MARKER_FILE_NAME)
}

fn body(home: &Path) -> serde_json::Map<String, Value> {
    match read(Some(home)) {
        Reading::Body(body) => body,
        other => panic!("no body: {other:?}"),
    }
}

/// Options judging with a maximum age short enough to watch a drain expire.
fn short_max_age(millis: i64) -> LeaseOptions {
    let mut options = LeaseOptions::default();
    options.max_age_micros = millis * 1000;
    options
}

fn held_by(error: LeaseError) -> Holder {
    match error {
        LeaseError::Held(holder) => holder,
        other => panic!("expected Held, got {other:?}"),
    }
}

#[test]
fn begin_keep_alive_release_round_trip() {
    let dir = home();
    let home = Some(dir.path());
    let lease = lease::begin(home, "migration", true).unwrap();
    let token = lease.token().to_owned();
    assert_eq!(token.len(), 32);
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let first = body(dir.path());
    assert_eq!(first["owner_token"], json!(token));
    assert_eq!(first["principal"], json!("migration"));
    assert_eq!(first["suppress_notification"], json!(true));
    assert_eq!(first["epoch"], json!(epoch::current()));
    assert!(
        drain_requested(home),
        "a leased marker is an ordinary active drain"
    );

    std::thread::sleep(Duration::from_millis(2));
    let payload = lease.keep_alive().unwrap();
    let second = body(dir.path());
    assert_eq!(second["owner_token"], json!(token));
    assert_eq!(second["requested_at"], json!(payload.requested_at));
    assert_ne!(second["requested_at"], first["requested_at"]);
    assert_eq!(second["principal"], json!("migration"));
    assert_eq!(second["suppress_notification"], json!(true));

    assert!(lease.release().unwrap());
    assert_eq!(read(home), Reading::Absent);
    assert!(
        !lease.release().unwrap(),
        "a second release removes nothing"
    );
}

#[test]
fn a_second_begin_is_refused_while_the_first_is_active_and_names_the_holder() {
    let dir = home();
    let first = lease::begin(Some(dir.path()), "operator-a", false).unwrap();
    let before = fs::read(marker(dir.path())).unwrap();
    let holder = held_by(lease::begin(Some(dir.path()), "operator-b", false).unwrap_err());
    assert_eq!(holder.principal, Some(json!("operator-a")));
    assert_eq!(
        holder.requested_at.as_deref(),
        body(dir.path())["requested_at"].as_str()
    );
    assert!(holder.owned);
    assert_eq!(holder.state, State::Active);
    assert_eq!(fs::read(marker(dir.path())).unwrap(), before, "untouched");
    assert!(first.release().unwrap());
}

#[test]
fn a_plain_drain_refuses_a_begin_too_and_is_reported_as_not_leased() {
    let dir = home();
    write(Some(dir.path()), "dashboard", false).unwrap();
    let holder = held_by(lease::begin(Some(dir.path()), "cron", false).unwrap_err());
    assert_eq!(holder.principal, Some(json!("dashboard")));
    assert!(!holder.owned);
    assert!(
        holder.to_string().contains("\"dashboard\" since "),
        "{holder}"
    );
}

#[test]
fn a_contentless_marker_counts_as_active() {
    let dir = home();
    fs::write(marker(dir.path()), b"{torn").unwrap();
    let holder = held_by(lease::begin(Some(dir.path()), "x", false).unwrap_err());
    assert_eq!(holder.state, State::Active);
    assert_eq!(
        (holder.principal, holder.requested_at, holder.owned),
        (None, None, false)
    );
}

#[test]
fn absent_epoch_stale_and_expired_markers_are_replaced() {
    let dir = home();
    let stale = json!({"action": "drain", "requested_at": Timestamp::now().to_isoformat(),
                       "principal": "before-reboot", "epoch": "another-boot:1",
                       "suppress_notification": false});
    let expired = json!({"action": "drain", "requested_at": "2020-01-01T00:00:00+00:00",
                         "principal": "long-gone", "epoch": epoch::current(),
                         "suppress_notification": false});
    for (name, existing) in [
        ("absent", None),
        ("stale", Some(stale)),
        ("expired", Some(expired)),
    ] {
        if let Some(existing) = existing {
            fs::write(marker(dir.path()), existing.to_string()).unwrap();
        }
        let lease = lease::begin(Some(dir.path()), name, false).unwrap();
        assert_eq!(
            body(dir.path())["owner_token"],
            json!(lease.token()),
            "{name}"
        );
        assert!(lease.release().unwrap(), "{name}");
    }
}

#[test]
fn a_lease_that_lost_its_marker_to_a_plain_write_reports_it_and_removes_nothing() {
    let dir = home();
    let lease = lease::begin(Some(dir.path()), "lease", false).unwrap();
    write(Some(dir.path()), "dashboard", false).unwrap();
    let after_write = fs::read(marker(dir.path())).unwrap();
    match lease.keep_alive().unwrap_err() {
        LeaseError::Lost(Some(holder)) => {
            assert_eq!(holder.principal, Some(json!("dashboard")));
            assert!(!holder.owned);
        }
        other => panic!("{other:?}"),
    }
    assert!(!lease.release().unwrap());
    assert_eq!(fs::read(marker(dir.path())).unwrap(), after_write);
}

#[test]
fn a_lease_whose_marker_was_cleared_is_lost_and_writes_nothing() {
    let dir = home();
    let lease = lease::begin(Some(dir.path()), "lease", false).unwrap();
    assert!(clear(Some(dir.path())).unwrap());
    assert!(matches!(
        lease.keep_alive().unwrap_err(),
        LeaseError::Lost(None)
    ));
    assert_eq!(read(Some(dir.path())), Reading::Absent, "not resurrected");
    assert!(!lease.release().unwrap());
}

#[test]
fn release_after_expiry_of_another_lease_newer_drain_removes_nothing() {
    let dir = home();
    let options = short_max_age(50);
    let old = lease::begin_with(Some(dir.path()), "old", false, &options).unwrap();
    std::thread::sleep(Duration::from_millis(80));
    let new = lease::begin_with(Some(dir.path()), "new", false, &options).unwrap();
    let newer = fs::read(marker(dir.path())).unwrap();
    match old.keep_alive().unwrap_err() {
        LeaseError::Lost(Some(holder)) => {
            assert!(holder.owned);
            assert_eq!(holder.principal, Some(json!("new")));
        }
        other => panic!("{other:?}"),
    }
    assert!(!old.release().unwrap());
    assert_eq!(fs::read(marker(dir.path())).unwrap(), newer);
    assert!(new.release().unwrap());
}

#[test]
fn a_held_lease_stays_active_past_a_short_max_age_and_is_released_on_drop() {
    let dir = home();
    let options = short_max_age(200);
    let held = lease::begin_with(Some(dir.path()), "held", false, &options)
        .unwrap()
        .hold(None); // a quarter of 200 ms
    let context = |now| Context::new(epoch::current(), now).with_max_age_micros(200_000);
    let until = Instant::now() + Duration::from_millis(700);
    while Instant::now() < until {
        let bytes = fs::read(marker(dir.path())).unwrap();
        let verdict = classify(&bytes, &context(Timestamp::now())).verdict;
        assert!(verdict.active, "expired under its holder: {verdict:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(held.lost(), None);
    drop(held);
    assert_eq!(read(Some(dir.path())), Reading::Absent);
}

#[test]
fn a_held_lease_is_released_when_its_scope_unwinds() {
    let dir = home();
    let path = dir.path().to_owned();
    let result = std::panic::catch_unwind(move || {
        let _held = lease::begin(Some(&path), "panicky", false)
            .unwrap()
            .hold(None);
        assert!(drain_requested(Some(&path)));
        panic!("the migration failed");
    });
    assert!(result.is_err());
    assert_eq!(read(Some(dir.path())), Reading::Absent);
}

#[test]
fn a_held_lease_that_is_lost_says_so_and_its_release_removes_nothing() {
    let dir = home();
    let held = lease::begin(Some(dir.path()), "held", false)
        .unwrap()
        .hold(Some(Duration::from_millis(10)));
    write(Some(dir.path()), "dashboard", false).unwrap();
    let until = Instant::now() + Duration::from_secs(5);
    while held.lost().is_none() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    let holder = held.lost().expect("lost").expect("to a writer");
    assert_eq!(holder.principal, Some(json!("dashboard")));
    assert!(!held.release().unwrap());
    assert_eq!(body(dir.path())["principal"], json!("dashboard"));
}

#[test]
fn a_busy_lock_fails_after_the_bound_with_a_clear_error() {
    let dir = home();
    let _lock = MarkerLock::acquire(&marker(dir.path()), Duration::ZERO).unwrap();
    let mut options = LeaseOptions::default();
    options.lock_wait = Duration::from_millis(50);
    let started = Instant::now();
    let error = lease::begin_with(Some(dir.path()), "x", false, &options).unwrap_err();
    assert!(matches!(error, LeaseError::Busy { .. }), "{error:?}");
    assert!(
        error.to_string().starts_with("busy: other writers kept"),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(read(Some(dir.path())), Reading::Absent);
}

#[test]
fn a_lease_resumed_from_its_token_keeps_alive_and_releases_and_a_bad_token_is_refused() {
    let dir = home();
    let token = lease::begin(Some(dir.path()), "cli", false)
        .unwrap()
        .token()
        .to_owned();
    let options = LeaseOptions::default();
    let resumed = lease::Lease::resume(Some(dir.path()), &token, &options).unwrap();
    resumed.keep_alive().unwrap();
    assert!(resumed.release().unwrap());
    for bad in ["", "xyz", &token.to_uppercase(), &format!("{token}0")] {
        let error = lease::Lease::resume(Some(dir.path()), bad, &options).unwrap_err();
        assert!(
            matches!(error, LeaseError::InvalidToken(_)),
            "{bad}: {error:?}"
        );
    }
}

#[test]
fn a_waiting_begin_takes_the_drain_once_the_holder_releases_it_and_gives_up_at_its_bound() {
    let dir = home();
    let first = lease::begin(Some(dir.path()), "first", false).unwrap();
    let options = LeaseOptions::default();
    let error = lease::begin_waiting(
        Some(dir.path()),
        "second",
        false,
        &options,
        Duration::from_millis(100),
    )
    .unwrap_err();
    assert_eq!(held_by(error).principal, Some(json!("first")));
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        first.release().unwrap()
    });
    let started = Instant::now();
    let second = lease::begin_waiting(
        Some(dir.path()),
        "second",
        false,
        &options,
        Duration::from_secs(10),
    )
    .unwrap();
    assert!(releaser.join().unwrap());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(body(dir.path())["owner_token"], json!(second.token()));
}
