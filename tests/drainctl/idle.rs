//! The gateway's observed state in `status`, `wait-idle`, and `run --wait-idle`: the
//! operator's drain, wait, migrate, release (issue 15).

use super::run::run;
use super::*;

/// A live process standing in for the gateway: the pid and start time a record names.
struct Gateway {
    child: Child,
    start_time: u64,
}

impl Gateway {
    fn start() -> Gateway {
        let child = Command::new("sleep").arg("60").spawn().unwrap();
        let stat = fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap();
        let start_time = drain_control::epoch::pid1_starttime(&stat)
            .unwrap()
            .parse()
            .unwrap();
        Gateway { child, start_time }
    }

    /// Writes the record atomically, as the host's gateway does.
    fn write(&self, home: &Path, state: &str, work: &[&str]) {
        let record = serde_json::json!({
            "kind": "hermes-gateway",
            "gateway_state": state,
            "active_agents": work.len(),
            "active_work": work,
            "pid": self.child.id(),
            "start_time": self.start_time,
            "updated_at": "2026-12-08T02:00:00+00:00",
            "platforms": {},
        });
        let tmp = home.join(".gateway_state.json.tmp");
        fs::write(&tmp, record.to_string()).unwrap();
        fs::rename(&tmp, home.join("gateway_state.json")).unwrap();
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn status_shows_the_gateway_beside_the_marker() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::start();
    gateway.write(dir.path(), "running", &["chat:1", "chat:2"]);
    let out = drainctl(dir.path(), &["status"]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        stdout(&out),
        "not draining: no marker\ngateway: running, 2 turns in flight (chat:1, chat:2)\n"
    );
    let report = json_line(&drainctl(dir.path(), &["--json", "status"]));
    assert_eq!(report["gateway"]["state"], "running");
    assert_eq!(report["gateway"]["in_flight"], 2);
    assert_eq!(
        report["gateway"]["work"],
        serde_json::json!(["chat:1", "chat:2"])
    );
    let empty = tempfile::tempdir().unwrap();
    let report = json_line(&drainctl(empty.path(), &["--json", "status"]));
    assert_eq!(report["gateway"]["state"], "not-running");
}

#[test]
fn wait_idle_exits_0_when_idle_and_3_naming_what_is_in_flight_at_its_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let out = drainctl(dir.path(), &["wait-idle", "--timeout", "5"]);
    assert_eq!(code(&out), 0, "no gateway: idle at once");
    let gateway = Gateway::start();
    gateway.write(dir.path(), "draining", &["chat:9"]);
    let out = drainctl(dir.path(), &["--json", "wait-idle", "--timeout", "0.3"]);
    assert_eq!(code(&out), 3);
    let error = json_error(&out);
    assert_eq!(error["step"], "wait_idle");
    assert_eq!(error["gateway"]["work"], serde_json::json!(["chat:9"]));
    assert!(
        stderr(&out).contains("draining, 1 turn in flight (chat:9)"),
        "{}",
        stderr(&out)
    );
    gateway.write(dir.path(), "draining", &[]);
    let out = drainctl(dir.path(), &["wait-idle", "--timeout", "5"]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        "gateway idle: quiesced (draining, nothing in flight)\n"
    );
}

/// The command of a `run`: records the moment it started in `started`.
fn stamp(started: &Path) -> Vec<String> {
    let script = format!("date +%s.%N > '{}'", started.display());
    vec!["--".into(), "sh".into(), "-c".into(), script]
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn run_wait_idle_starts_the_command_only_once_the_gateway_has_no_turns_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::start();
    gateway.write(dir.path(), "running", &["chat:1"]);
    let started = dir.path().join("started");
    let home = dir.path().to_owned();
    let finisher = std::thread::spawn(move || {
        // The gateway sees the drain, then finishes its turn.
        let marker = home.join(MARKER);
        let until = Instant::now() + Duration::from_secs(10);
        while !marker.exists() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        gateway.write(&home, "draining", &["chat:1"]);
        std::thread::sleep(Duration::from_millis(400));
        assert!(
            !home.join("started").exists(),
            "the command started with a turn in flight"
        );
        gateway.write(&home, "draining", &[]);
        (unix_now(), gateway)
    });
    let mut args = vec!["--wait-idle=20".to_owned()];
    args.extend(stamp(&started));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(dir.path(), &args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let (quiesced_at, _gateway) = finisher.join().unwrap();
    let started_at: f64 = fs::read_to_string(&started)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let delay = started_at - quiesced_at;
    assert!(
        (0.0..0.5).contains(&delay),
        "started {delay:.3} s after the record said quiesced"
    );
    assert!(!dir.path().join(MARKER).exists(), "released");
}

#[test]
fn run_wait_idle_starts_at_once_when_no_gateway_runs() {
    let dir = tempfile::tempdir().unwrap();
    let started = dir.path().join("started");
    let mut args = vec!["--wait-idle=20".to_owned()];
    args.extend(stamp(&started));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let begun = Instant::now();
    let out = run(dir.path(), &args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(started.exists());
    assert!(begun.elapsed() < Duration::from_secs(3));
}

#[test]
fn run_wait_idle_times_out_with_3_naming_the_turns_releases_and_never_runs_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::start();
    gateway.write(dir.path(), "running", &["chat:5"]);
    let started = dir.path().join("started");
    let mut args = vec!["--wait-idle=0.5".to_owned()];
    args.extend(stamp(&started));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(dir.path(), &args);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("still busy after 0.5 s: running, 1 turn in flight (chat:5)"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("the drain was released, the command not run"));
    assert!(!started.exists());
    assert!(!dir.path().join(MARKER).exists());

    let mut args = vec!["--wait-idle=0.3".to_owned(), "--run-anyway".to_owned()];
    args.extend(stamp(&started));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(dir.path(), &args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(started.exists(), "--run-anyway runs it after the timeout");
    assert!(stderr(&out).contains("anyway"));
}
