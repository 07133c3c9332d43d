//! The gateway's observed state (issue 15), from records built as the host's gateway
//! writes `gateway_state.json`: `gateway_state`, `active_agents`, `active_work`, `pid`
//! and `start_time` (field 22 of `/proc/<pid>/stat`), `kind`, `updated_at`, `platforms`.

use std::fs;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use drain_control::gateway::{self, GATEWAY_STATE_FILE_NAME, Observed};
use serde_json::{Value, json};

/// This process's start time, as the host writes its own.
fn own_start_time() -> u64 {
    let stat = fs::read_to_string("/proc/self/stat").unwrap();
    drain_control::epoch::pid1_starttime(&stat)
        .unwrap()
        .parse()
        .unwrap()
}

/// A record of a live writer (this process) in `state` with these turns in flight.
fn record(state: &str, active_agents: Value, active_work: Value) -> Value {
    json!({
        "kind": "hermes-gateway",
        "gateway_state": state,
        "active_agents": active_agents,
        "active_work": active_work,
        "pid": std::process::id(),
        "start_time": own_start_time(),
        "updated_at": "2026-12-08T02:00:00+00:00",
        "platforms": {"telegram": {"state": "connected"}},
    })
}

fn put(home: &Path, record: &Value) {
    fs::write(home.join(GATEWAY_STATE_FILE_NAME), record.to_string()).unwrap();
}

fn observed(record: &Value) -> Observed {
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), record);
    gateway::observe(Some(dir.path()))
}

#[test]
fn a_running_gateway_with_turns_in_flight_is_running_with_their_names() {
    let got = observed(&record(
        "running",
        json!(2),
        json!(["chat:42", "cron:digest"]),
    ));
    let Observed::Running(in_flight) = &got else {
        panic!("{got:?}")
    };
    assert_eq!(in_flight.count, 2);
    assert_eq!(in_flight.work, ["chat:42", "cron:digest"]);
    assert!(!got.is_idle());
    assert_eq!(
        got.to_string(),
        "running, 2 turns in flight (chat:42, cron:digest)"
    );
}

#[test]
fn a_draining_gateway_is_draining_until_nothing_is_in_flight_then_quiesced() {
    let got = observed(&record("draining", json!(1), json!(["chat:7"])));
    assert!(
        matches!(&got, Observed::Draining { state, in_flight } if state == "draining" && in_flight.count == 1)
    );
    assert!(!got.is_idle());
    let got = observed(&record("draining", json!(0), json!([])));
    assert_eq!(
        got,
        Observed::Quiesced {
            state: "draining".into()
        }
    );
    assert!(got.is_idle());
    let stopped = observed(&record("stopped", json!(0), Value::Null));
    assert_eq!(
        stopped,
        Observed::Quiesced {
            state: "stopped".into()
        }
    );
    // A running gateway with nothing in flight has not seen any drain: still a target.
    assert!(!observed(&record("running", json!(0), json!([]))).is_idle());
}

#[test]
fn no_record_or_a_dead_or_recycled_writer_is_not_running() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        gateway::observe(Some(dir.path())),
        Observed::NotRunning { .. }
    ));

    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let mut gone = record("running", json!(3), json!([]));
    gone["pid"] = json!(dead);
    let got = observed(&gone);
    assert!(
        matches!(&got, Observed::NotRunning { reason, .. } if reason.contains("is gone")),
        "{got:?}"
    );
    assert!(got.is_idle());

    let mut recycled = record("running", json!(3), json!([]));
    recycled["start_time"] = json!(own_start_time() + 1);
    let got = observed(&recycled);
    assert!(
        matches!(&got, Observed::NotRunning { reason, .. } if reason.contains("another process")),
        "{got:?}"
    );
}

#[test]
fn active_agents_is_coerced_as_the_host_does() {
    for (value, want) in [
        (json!(4), 4),
        (json!(-2), 0),
        (json!(2.9), 2),
        (json!(true), 1),
        (json!(" 3 "), 3),
        (json!("1_000"), 1000),
        (json!("+5"), 5),
        (json!("3.5"), 0),
        (json!("many"), 0),
        (json!(null), 0),
        (json!([1]), 0),
        (json!("1e400"), 0),
    ] {
        let got = observed(&record("draining", value.clone(), json!([])));
        let count = got.in_flight().map_or(0, |in_flight| in_flight.count);
        assert_eq!(count, want, "active_agents {value}");
    }
}

#[test]
fn a_record_that_is_not_what_the_host_writes_is_unknown_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(GATEWAY_STATE_FILE_NAME);
    let unknown = |why: &str| {
        let got = gateway::observe(Some(dir.path()));
        match &got {
            Observed::Unknown { reason } => assert!(reason.contains(why), "{reason} vs {why}"),
            other => panic!("{why}: {other:?}"),
        }
        assert!(!got.is_idle());
    };
    fs::write(&path, b"{not json").unwrap();
    unknown("not a JSON object");
    fs::write(&path, b"[1, 2]").unwrap();
    unknown("not a JSON object");
    let mut no_state = record("running", json!(0), json!([]));
    no_state.as_object_mut().unwrap().remove("gateway_state");
    put(dir.path(), &no_state);
    unknown("no gateway_state");
    let mut no_pid = record("running", json!(0), json!([]));
    no_pid["pid"] = json!("1234");
    put(dir.path(), &no_pid);
    unknown("no pid");
    let mut bad_start = record("running", json!(0), json!([]));
    bad_start["start_time"] = json!("yesterday");
    put(dir.path(), &bad_start);
    unknown("start_time");

    // A FIFO does not block the reader; a huge file is not read.
    fs::remove_file(&path).unwrap();
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
    let started = Instant::now();
    unknown("unreadable");
    assert!(started.elapsed() < Duration::from_secs(2));
    fs::remove_file(&path).unwrap();
    let file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(&path)
        .unwrap();
    file.set_len(64 << 20).unwrap();
    unknown("over 1 MiB");
}

#[test]
fn waiting_for_idle_returns_once_the_record_says_quiesced_and_times_out_saying_what_is_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), &record("draining", json!(1), json!(["chat:1"])));
    let got = gateway::wait_idle(Some(dir.path()), Some(Duration::from_millis(200)));
    let still = got.unwrap_err();
    assert_eq!(still.in_flight().unwrap().work, ["chat:1"]);

    let home = dir.path().to_owned();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let quiesced = record("draining", json!(0), json!([]));
        let tmp = home.join(".gateway_state.tmp");
        fs::write(&tmp, quiesced.to_string()).unwrap();
        fs::rename(&tmp, home.join(GATEWAY_STATE_FILE_NAME)).unwrap();
        Instant::now()
    });
    let got = gateway::wait_idle(Some(dir.path()), Some(Duration::from_secs(10))).unwrap();
    let returned = Instant::now();
    let written = writer.join().unwrap();
    assert_eq!(
        got,
        Observed::Quiesced {
            state: "draining".into()
        }
    );
    // Event-driven: well before the next liveness re-read a second later.
    assert!(returned.duration_since(written) < Duration::from_millis(500));

    let empty = tempfile::tempdir().unwrap();
    let started = Instant::now();
    assert!(matches!(
        gateway::wait_idle(Some(empty.path()), Some(Duration::from_secs(10))),
        Ok(Observed::NotRunning { .. })
    ));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "no gateway: at once"
    );
}
