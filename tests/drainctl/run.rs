//! `drainctl run -- CMD`: a drain held exactly while a command runs.

use super::*;

pub(super) fn run(home: &Path, args: &[&str]) -> Output {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    drainctl(home, &all)
}

#[test]
fn the_command_runs_while_the_drain_is_held_and_its_exit_status_passes_through() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join(MARKER);
    let script = format!(
        "grep -q owner_token '{}' && grep -q '\"principal\": \"migration\"' '{}' && exit 7",
        marker.display(),
        marker.display()
    );
    let out = run(
        dir.path(),
        &["--principal", "migration", "--", "sh", "-c", &script],
    );
    assert_eq!(code(&out), 7, "{}", stderr(&out));
    assert!(!marker.exists(), "released when the command exited");
    assert!(stderr(&out).contains("drain released"), "{}", stderr(&out));
    let out = run(dir.path(), &["--", "true"]);
    assert_eq!(code(&out), 0);
    let out = run(dir.path(), &["--", "sh", "-c", "kill -TERM $$"]);
    assert_eq!(code(&out), 128 + 15, "killed by a signal: 128 + its number");
    assert!(!marker.exists());
}

#[test]
fn another_active_drain_is_refused_with_75_naming_it_and_the_command_never_starts() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        code(&drainctl(
            dir.path(),
            &["begin", "--principal", "dashboard"]
        )),
        0
    );
    let flag = dir.path().join("ran");
    let out = run(dir.path(), &["--", "touch", flag.to_str().unwrap()]);
    assert_eq!(code(&out), 75);
    assert!(stderr(&out).contains("\"dashboard\""), "{}", stderr(&out));
    assert!(!flag.exists());
    assert!(
        dir.path().join(MARKER).exists(),
        "the other drain is left alone"
    );
}

#[test]
fn with_wait_the_command_starts_once_the_other_drain_ends() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(code(&drainctl(dir.path(), &["begin"])), 0);
    let home = dir.path().to_owned();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drainctl(&home, &["cancel"])
    });
    let out = run(dir.path(), &["--wait=10", "--", "echo", "migrated"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "migrated\n");
    assert_eq!(code(&canceller.join().unwrap()), 0);
    assert!(!dir.path().join(MARKER).exists());
}

#[test]
fn a_command_that_cannot_start_releases_the_drain_and_exits_like_a_shell() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["--", "/nonexistent/command"]);
    assert_eq!(code(&out), 127);
    assert!(stderr(&out).contains("drain released"), "{}", stderr(&out));
    assert!(!dir.path().join(MARKER).exists());
}

/// `drainctl run` as a child, to be signalled.
fn spawn_run(home: &Path, args: &[&str]) -> Child {
    Command::new(DRAINCTL)
        .arg("--home")
        .arg(home)
        .arg("run")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_for_marker(marker: &Path, present: bool) {
    let until = Instant::now() + Duration::from_secs(10);
    while marker.exists() != present {
        assert!(
            Instant::now() < until,
            "marker present = {present} never came"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn sigterm_and_sigint_are_forwarded_to_the_command_and_the_drain_is_released() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join(MARKER);
        let script = "trap 'echo got; exit 42' TERM INT; echo ready; while :; do sleep 0.05; done";
        let mut child = spawn_run(dir.path(), &["--", "sh", "-c", script]);
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "ready");
        wait_for_marker(&marker, true);
        // SAFETY: the pid of a child not yet reaped.
        assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
        assert_eq!(
            lines.next().unwrap().unwrap(),
            "got",
            "signal {signal} forwarded"
        );
        assert_eq!(child.wait().unwrap().code(), Some(42));
        assert!(!marker.exists(), "released after signal {signal}");
    }
}

#[test]
fn a_signal_while_waiting_ends_the_wait_and_leaves_the_other_drain() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        code(&drainctl(dir.path(), &["begin", "--principal", "other"])),
        0
    );
    let mut child = spawn_run(dir.path(), &["--wait", "--", "echo", "never"]);
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: the pid of a child not yet reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(128 + libc::SIGINT));
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    assert_eq!(out, "", "the command never started");
    assert!(dir.path().join(MARKER).exists());
}
