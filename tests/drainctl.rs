//! The built `drainctl` binary: its words, its JSON and its exit codes.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

const DRAINCTL: &str = env!("CARGO_BIN_EXE_drainctl");
const MARKER: &str = ".drain_request.json";

fn drainctl(home: &Path, args: &[&str]) -> Output {
    Command::new(DRAINCTL)
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("HERMES_HOME")
        .output()
        .expect("run drainctl")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn json_line(output: &Output) -> Value {
    let text = stdout(output);
    assert_eq!(text.lines().count(), 1, "one JSON line: {text:?}");
    serde_json::from_str(text.trim_end()).expect("JSON")
}

fn write_raw_marker(home: &Path, text: &str) {
    fs::create_dir_all(home).unwrap();
    fs::write(home.join(MARKER), text).unwrap();
}

#[test]
fn status_without_marker_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = drainctl(dir.path(), &["status"]);
    assert_eq!(code(&out), 1);
    assert_eq!(stdout(&out), "not draining: no marker\n");
    let out = drainctl(&dir.path().join("missing"), &["status", "--json"]);
    assert_eq!(code(&out), 1);
    let report = json_line(&out);
    assert_eq!(report["state"], "absent");
    assert_eq!(report["draining"], false);
    assert_eq!(report["marker"], Value::Null);
}

#[test]
fn begin_then_status_exits_0_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("new-home");
    let out = drainctl(&home, &["begin", "--principal", "dashboard"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).starts_with("draining since "));
    assert!(home.join(MARKER).is_file());

    let out = drainctl(&home, &["status"]);
    assert_eq!(code(&out), 0);
    let line = stdout(&out);
    assert!(line.starts_with("draining since 20"), "{line}");
    assert!(
        line.contains("requested by dashboard; expires in 1 h"),
        "{line}"
    );
    assert!(!line.contains("suppressed"));

    let out = drainctl(&home, &["begin", "--suppress-notification"]);
    assert_eq!(code(&out), 0);
    let out = drainctl(&home, &["status"]);
    assert_eq!(code(&out), 0);
    let line = stdout(&out);
    assert!(line.contains("requested by drainctl;"), "{line}");
    assert!(
        line.trim_end().ends_with("; notification suppressed"),
        "{line}"
    );
}

#[test]
fn json_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let out = drainctl(home, &["--json", "begin", "--principal", "ops"]);
    assert_eq!(code(&out), 0);
    let begun = json_line(&out);
    assert_eq!(begun["state"], "active");
    assert_eq!(begun["marker"]["principal"], "ops");

    let out = drainctl(home, &["status", "--json"]);
    assert_eq!(code(&out), 0);
    let report = json_line(&out);
    for key in [
        "state",
        "draining",
        "suppressed",
        "present",
        "epoch_stale",
        "expired",
        "marker",
        "expires_at",
        "at",
        "epoch",
        "home",
        "path",
        "message",
    ] {
        assert!(report.get(key).is_some(), "missing {key}: {report}");
    }
    assert_eq!(report["draining"], true);
    assert_eq!(report["marker"]["action"], "drain");
    assert_eq!(report["marker"]["epoch"], drain_control::epoch::current());
    assert_eq!(report["path"], home.join(MARKER).to_str().unwrap());
    let expires = drain_control::Timestamp::parse(report["expires_at"].as_str().unwrap());
    let requested =
        drain_control::Timestamp::parse(report["marker"]["requested_at"].as_str().unwrap());
    assert_eq!(
        expires.unwrap().unix_micros() - requested.unwrap().unix_micros(),
        3_600_000_001
    );

    let out = drainctl(home, &["cancel", "--json"]);
    assert_eq!(json_line(&out)["removed"], true);
    let out = drainctl(home, &["cancel", "--json"]);
    assert_eq!(json_line(&out)["removed"], false);

    let out = drainctl(home, &["path", "--json"]);
    let paths = json_line(&out);
    assert_eq!(paths["home"], home.to_str().unwrap());
    assert_eq!(paths["path"], home.join(MARKER).to_str().unwrap());

    let out = drainctl(home, &["epoch", "--json"]);
    assert_eq!(json_line(&out)["epoch"], drain_control::epoch::current());
}

#[test]
fn cancel_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(code(&drainctl(dir.path(), &["begin"])), 0);
    let out = drainctl(dir.path(), &["cancel"]);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).starts_with("cancelled: marker "));
    assert!(!dir.path().join(MARKER).exists());
    let out = drainctl(dir.path(), &["cancel"]);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).starts_with("not draining: there was no marker"));
    assert_eq!(code(&drainctl(dir.path(), &["status"])), 1);
}

#[test]
fn expired_marker_is_ignored_and_says_how_long_ago() {
    let dir = tempfile::tempdir().unwrap();
    let epoch = drain_control::epoch::current();
    write_raw_marker(
        dir.path(),
        &format!(
            r#"{{"action": "drain", "requested_at": "2000-01-01T00:00:00+00:00",
                "principal": "dashboard", "epoch": "{epoch}"}}"#
        ),
    );
    let out = drainctl(dir.path(), &["status"]);
    assert_eq!(code(&out), 1);
    let line = stdout(&out);
    assert!(line.starts_with("ignored: expired "), "{line}");
    assert!(line.contains(" ago"), "{line}");
    let report = json_line(&drainctl(dir.path(), &["status", "--json"]));
    assert_eq!(report["state"], "expired");
    assert_eq!(report["expires_at"], Value::Null);
}

#[test]
fn marker_from_before_a_restart_is_ignored() {
    if drain_control::epoch::current().is_empty() {
        return; // no epoch on this machine: nothing is ever stale
    }
    let dir = tempfile::tempdir().unwrap();
    write_raw_marker(
        dir.path(),
        r#"{"action": "drain", "requested_at": "2999-01-01T00:00:00+00:00",
            "principal": "dashboard", "epoch": "an-older-boot:1"}"#,
    );
    let out = drainctl(dir.path(), &["status"]);
    assert_eq!(code(&out), 1);
    let line = stdout(&out);
    assert!(
        line.starts_with(
            "ignored: written before this machine restarted (epoch an-older-boot:1, this machine "
        ),
        "{line}"
    );
    assert_eq!(
        json_line(&drainctl(dir.path(), &["--json", "status"]))["state"],
        "epoch-stale"
    );
}

#[test]
fn contentless_marker_drains_fail_safe() {
    let dir = tempfile::tempdir().unwrap();
    write_raw_marker(dir.path(), "{ torn");
    let out = drainctl(dir.path(), &["status"]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        "draining: the marker is unreadable as JSON (fail-safe)\n"
    );
    assert_eq!(
        json_line(&drainctl(dir.path(), &["status", "--json"]))["marker"],
        serde_json::json!({})
    );
}

#[test]
fn home_that_is_a_file_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home-is-a-file");
    fs::write(&home, "not a folder").unwrap();
    for args in [
        &["status"][..],
        &["begin"],
        &["cancel"],
        &["--json", "status"],
    ] {
        let out = drainctl(&home, args);
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("drainctl: cannot "), "{args:?}: {err}");
        assert!(err.contains(home.to_str().unwrap()), "{args:?}: {err}");
        assert!(err.contains("os error"), "{args:?}: {err}");
    }
    assert_eq!(fs::read_to_string(&home).unwrap(), "not a folder");
}

#[test]
fn bad_arguments_exit_2_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    for args in [
        &["begin", "--principal"][..],
        &["begin", "--bogus"],
        &["frobnicate"],
        &[],
        &["watch", "--fallback-interval", "0"],
        &["status", "extra"],
    ] {
        let out = drainctl(&home, args);
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(!stderr(&out).is_empty(), "{args:?}");
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
    assert!(!home.exists(), "a bad command created the home");
}

#[test]
fn path_and_epoch_print_plain_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = drainctl(dir.path(), &["path"]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        format!("{}\n", dir.path().join(MARKER).display())
    );
    let out = drainctl(dir.path(), &["epoch"]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        format!("{}\n", drain_control::epoch::current())
    );
}

#[test]
fn home_defaults_to_hermes_home() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(DRAINCTL)
        .arg("path")
        .env("HERMES_HOME", format!("  {}\n", dir.path().display()))
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out),
        format!("{}\n", dir.path().join(MARKER).display())
    );
}

/// A `drainctl watch` child whose stdout lines arrive on a channel.
struct Watching {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Watching {
    fn start(home: &Path, args: &[&str]) -> Watching {
        let mut child = Command::new(DRAINCTL)
            .arg("--home")
            .arg(home)
            .arg("watch")
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn drainctl watch");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line.unwrap()).is_err() {
                    break;
                }
            }
        });
        Watching { child, lines }
    }

    fn line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(5))
            .expect("a line from drainctl watch")
    }

    fn signal(&mut self, signal: i32) -> i32 {
        let pid = self.child.id() as i32;
        // SAFETY: kill(2) on our own child's pid; it has not been reaped yet.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().expect("exited by itself, not killed");
            }
            assert!(started.elapsed() < Duration::from_secs(5), "no exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn watch_prints_a_line_per_change_and_exits_0_on_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let mut watching = Watching::start(&home, &[]);
    assert!(watching.line().ends_with(" not draining: no marker"));
    assert_eq!(
        code(&drainctl(&home, &["begin", "--principal", "dashboard"])),
        0
    );
    let line = watching.line();
    assert!(line.contains(" draining since "), "{line}");
    assert!(line.contains("requested by dashboard"), "{line}");
    assert_eq!(code(&drainctl(&home, &["cancel"])), 0);
    assert!(watching.line().ends_with(" not draining: no marker"));
    assert_eq!(watching.signal(libc::SIGINT), 0);
}

#[test]
fn watch_json_lines_and_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let mut watching = Watching::start(home, &["--json"]);
    let first: Value = serde_json::from_str(&watching.line()).unwrap();
    assert_eq!(first["state"], "absent");
    assert_eq!(first["initial"], true);
    assert_eq!(
        code(&drainctl(home, &["begin", "--suppress-notification"])),
        0
    );
    let begun: Value = serde_json::from_str(&watching.line()).unwrap();
    assert_eq!(begun["state"], "suppressed");
    assert_eq!(begun["initial"], false);
    assert_eq!(begun["marker"]["principal"], "drainctl");
    assert_eq!(watching.signal(libc::SIGTERM), 0);
}
