//! The built `drainctl` binary: its words, its JSON and its exit codes. One module a
//! topic; the helpers every module uses are here.

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

/// drainctl with exactly these arguments (no `--home` added).
fn drainctl_args(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(DRAINCTL)
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

/// The `{"error": {...}}` object of a failed command run with `--json`, checked
/// against its stderr line. `holder` comes only with another's drain in the way,
/// `gateway` only with a gateway still busy.
fn json_error(output: &Output) -> Value {
    let object = json_line(output);
    let error = &object["error"];
    let mut keys: Vec<&str> = error
        .as_object()
        .expect("an error object")
        .keys()
        .map(String::as_str)
        .filter(|&key| key != "holder" && key != "gateway")
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["errno", "marker", "message", "path", "step"]);
    let err = stderr(output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(error["message"].as_str().unwrap()),
        "stderr says the same: {err}"
    );
    error.clone()
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

mod commands;
mod errors;
mod idle;
mod leases;
mod run;
mod watch;
