//! `begin --exclusive`, `keep-alive --token` and `cancel [--token]`: leased drains
//! from the command line.

use super::*;

fn begin_exclusive(home: &Path, principal: &str) -> String {
    let out = drainctl(home, &["begin", "--exclusive", "--principal", principal]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let token = stdout(&out).trim_end().to_owned();
    assert_eq!(token.len(), 32, "the token alone on stdout: {token:?}");
    assert!(
        stderr(&out).starts_with("draining since "),
        "{}",
        stderr(&out)
    );
    token
}

fn marker_json(home: &Path) -> Value {
    serde_json::from_slice(&fs::read(home.join(MARKER)).unwrap()).unwrap()
}

#[test]
fn begin_exclusive_prints_the_token_and_a_second_one_exits_75_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let token = begin_exclusive(dir.path(), "migration");
    assert_eq!(marker_json(dir.path())["owner_token"], token.as_str());

    let out = drainctl(dir.path(), &["begin", "--exclusive", "--principal", "cron"]);
    assert_eq!(code(&out), 75);
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).starts_with("drainctl: a drain is already active: \"migration\" since "),
        "{}",
        stderr(&out)
    );
    let out = drainctl(dir.path(), &["--json", "begin", "--exclusive"]);
    assert_eq!(code(&out), 75);
    let error = json_error(&out);
    assert_eq!(error["step"], "check_holder");
    assert_eq!(error["holder"]["principal"], "migration");
    assert_eq!(error["holder"]["owned"], true);
    assert_eq!(
        marker_json(dir.path())["owner_token"],
        token.as_str(),
        "untouched"
    );
}

#[test]
fn begin_exclusive_json_is_the_whole_lease() {
    let dir = tempfile::tempdir().unwrap();
    let out = drainctl(
        dir.path(),
        &["--json", "begin", "--exclusive", "--principal", "ops"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let lease = json_line(&out);
    assert_eq!(lease["token"], marker_json(dir.path())["owner_token"]);
    assert_eq!(lease["state"], "active");
    assert_eq!(lease["marker"]["principal"], "ops");
    assert!(lease["expires_at"].is_string());
}

#[test]
fn keep_alive_rewrites_only_the_lease_own_drain_and_exits_1_when_lost() {
    let dir = tempfile::tempdir().unwrap();
    let token = begin_exclusive(dir.path(), "migration");
    let before = marker_json(dir.path())["requested_at"].clone();
    std::thread::sleep(Duration::from_millis(2));
    let out = drainctl(dir.path(), &["keep-alive", "--token", &token]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).starts_with("kept alive: draining since "));
    assert_ne!(marker_json(dir.path())["requested_at"], before);

    assert_eq!(
        code(&drainctl(
            dir.path(),
            &["begin", "--principal", "dashboard"]
        )),
        0
    );
    let plain = fs::read(dir.path().join(MARKER)).unwrap();
    let out = drainctl(dir.path(), &["--json", "keep-alive", "--token", &token]);
    assert_eq!(code(&out), 1);
    let error = json_error(&out);
    assert_eq!(error["step"], "check_owner");
    assert_eq!(error["holder"]["principal"], "dashboard");
    assert_eq!(error["holder"]["owned"], false);
    assert_eq!(
        fs::read(dir.path().join(MARKER)).unwrap(),
        plain,
        "nothing written"
    );
}

#[test]
fn cancel_with_a_token_removes_only_that_lease_drain() {
    let dir = tempfile::tempdir().unwrap();
    let token = begin_exclusive(dir.path(), "migration");
    let other = "0123456789abcdef0123456789abcdef";
    let out = drainctl(dir.path(), &["--json", "cancel", "--token", other]);
    assert_eq!(code(&out), 1);
    let report = json_line(&out);
    assert_eq!(report["removed"], false);
    assert_eq!(report["holder"]["principal"], "migration");
    assert!(dir.path().join(MARKER).exists());

    let out = drainctl(dir.path(), &["cancel", "--token", &token]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("cancelled: marker "),
        "{}",
        stdout(&out)
    );
    assert!(!dir.path().join(MARKER).exists());
    let out = drainctl(dir.path(), &["cancel", "--token", &token]);
    assert_eq!(code(&out), 1, "nothing of the lease's left to remove");
}

#[test]
fn plain_cancel_stays_unconditional_and_says_whose_drain_it_removed() {
    let dir = tempfile::tempdir().unwrap();
    begin_exclusive(dir.path(), "migration");
    let out = drainctl(dir.path(), &["cancel"]);
    assert_eq!(code(&out), 0);
    assert!(
        stdout(&out).contains("it was the drain of \"migration\" since "),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("(leased)"), "{}", stdout(&out));
    assert!(!dir.path().join(MARKER).exists());
}

#[test]
fn a_malformed_token_is_refused_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        ["keep-alive", "--token", "nope"],
        ["cancel", "--token", "NOPE"],
    ] {
        let out = drainctl(dir.path(), &args);
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(
            stderr(&out).contains("is not a lease token"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn begin_exclusive_with_wait_takes_the_drain_once_it_is_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    begin_exclusive(dir.path(), "first");
    let out = drainctl(dir.path(), &["begin", "--exclusive", "--wait=0.2"]);
    assert_eq!(code(&out), 75, "gives up at its bound");
    let home = dir.path().to_owned();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drainctl(&home, &["cancel"])
    });
    let started = Instant::now();
    let out = drainctl(
        dir.path(),
        &["begin", "--exclusive", "--wait", "--principal", "second"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(code(&canceller.join().unwrap()), 0);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(marker_json(dir.path())["principal"], "second");
}
