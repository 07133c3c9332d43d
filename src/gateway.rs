//! The gateway's observed state, from the record the host's gateway keeps in
//! `$HERMES_HOME/gateway_state.json`: has a drain quiesced it?
//!
//! A drain marker asks the gateway to stop taking new turns; turns already in flight
//! still run. The host's gateway rewrites its record atomically as its state and its
//! in-flight turns change; this reads it as the marker is read (bounded, never
//! blocking, never raising) and says whether the gateway is idle. The record can
//! outlive its writer, and an idle gateway never advances `updated_at`, so liveness is
//! "the writer's pid is alive with the start time the record names", never the
//! record's age.

use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fsio::{self, RawMarker};
use crate::home::resolve_home;
use crate::json;
use crate::watch::FileEvents;

/// The record's file name in the home folder (the host's, not ours to change).
pub const GATEWAY_STATE_FILE_NAME: &str = "gateway_state.json";

/// How often a wait re-reads the record without a file event: the writer's death
/// changes no file.
pub const LIVENESS_INTERVAL: Duration = Duration::from_secs(1);

/// What the record says about the gateway, checked against the living processes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observed {
    /// No gateway runs: no record, or its writer is gone (or its pid now belongs to
    /// another process).
    NotRunning {
        /// Why, for people.
        reason: String,
        /// Whether there was a record at all (false: no `gateway_state.json`, a home
        /// no gateway uses).
        record: bool,
    },
    /// A live gateway serving turns (`gateway_state` is `"running"`): a drain target.
    Running(InFlight),
    /// A live gateway that has seen the drain (its state is no longer `"running"`),
    /// with turns still in flight.
    Draining {
        /// The record's `gateway_state` (`"draining"`, `"stopped"`...).
        state: String,
        /// The turns still in flight.
        in_flight: InFlight,
    },
    /// A live gateway that is no longer `"running"` and has nothing in flight: safe to
    /// disrupt.
    Quiesced {
        /// The record's `gateway_state`.
        state: String,
    },
    /// A record that is not what the host writes (or cannot be read).
    Unknown {
        /// Why, for people.
        reason: String,
    },
}

/// The turns a gateway has in flight.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InFlight {
    /// `active_agents`, coerced as the host does.
    pub count: u64,
    /// `active_work`: the names of the in-flight units, where the record lists them.
    pub work: Vec<String>,
}

impl Observed {
    /// Whether a disruptive step may run now: quiesced, or no gateway running.
    pub fn is_idle(&self) -> bool {
        matches!(
            self,
            Observed::Quiesced { .. } | Observed::NotRunning { .. }
        )
    }

    /// The state's stable name: `not-running`, `running`, `draining`, `quiesced` or
    /// `unknown` (the same in `drainctl --json`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Observed::NotRunning { .. } => "not-running",
            Observed::Running(_) => "running",
            Observed::Draining { .. } => "draining",
            Observed::Quiesced { .. } => "quiesced",
            Observed::Unknown { .. } => "unknown",
        }
    }

    /// The turns in flight, where the gateway is running or draining.
    pub fn in_flight(&self) -> Option<&InFlight> {
        match self {
            Observed::Running(in_flight) | Observed::Draining { in_flight, .. } => Some(in_flight),
            _ => None,
        }
    }
}

impl fmt::Display for InFlight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let turns = if self.count == 1 { "turn" } else { "turns" };
        write!(f, "{} {turns} in flight", self.count)?;
        if !self.work.is_empty() {
            write!(f, " ({})", self.work.join(", ").escape_debug())?;
        }
        Ok(())
    }
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Observed::NotRunning { reason, .. } => write!(f, "not running ({reason})"),
            Observed::Running(in_flight) => write!(f, "running, {in_flight}"),
            Observed::Draining { state, in_flight } => {
                write!(f, "{}, {in_flight}", state.escape_debug())
            }
            Observed::Quiesced { state } => {
                write!(f, "quiesced ({}, nothing in flight)", state.escape_debug())
            }
            Observed::Unknown { reason } => write!(f, "unknown ({reason})"),
        }
    }
}

/// Whether the record's writer still runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// The pid runs, with the start time the record names (or the record names none).
    Alive,
    /// No process has the pid.
    Gone,
    /// A process has the pid, with another start time: the pid was reused.
    Recycled,
}

/// The gateway's observed state for `home` (`None`: the default home), now.
pub fn observe(home: Option<&Path>) -> Observed {
    let path = resolve_home(home).join(GATEWAY_STATE_FILE_NAME);
    judge(fsio::read_marker(&path), liveness)
}

/// What the record read at the path means, given how to tell whether its writer runs:
/// the pure part of [`observe`].
pub fn judge(raw: RawMarker, alive: impl Fn(u32, Option<u64>) -> Liveness) -> Observed {
    let unknown = |reason: &str| Observed::Unknown {
        reason: reason.to_owned(),
    };
    let bytes = match raw {
        RawMarker::Absent => {
            return Observed::NotRunning {
                reason: format!("no {GATEWAY_STATE_FILE_NAME}"),
                record: false,
            };
        }
        RawMarker::Unreadable(error) => return unknown(&format!("unreadable: {error}")),
        RawMarker::TooLarge => return unknown("over 1 MiB"),
        RawMarker::Bytes(bytes) => bytes,
    };
    let Some(Value::Object(record)) = json::parse_value(&bytes) else {
        return unknown("not a JSON object");
    };
    let Some(state) = record.get("gateway_state").and_then(Value::as_str) else {
        return unknown("no gateway_state string");
    };
    let Some(pid) = record
        .get("pid")
        .and_then(Value::as_u64)
        .and_then(|pid| u32::try_from(pid).ok())
        .filter(|&pid| pid > 0)
    else {
        return unknown("no pid");
    };
    let start_time = match record.get("start_time") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_u64() {
            Some(start) => Some(start),
            None => return unknown("start_time is not an integer"),
        },
    };
    match alive(pid, start_time) {
        Liveness::Alive => {}
        Liveness::Gone => {
            return Observed::NotRunning {
                reason: format!("its writer, pid {pid}, is gone"),
                record: true,
            };
        }
        Liveness::Recycled => {
            return Observed::NotRunning {
                reason: format!("pid {pid} now belongs to another process"),
                record: true,
            };
        }
    }
    let in_flight = InFlight {
        count: record.get("active_agents").map_or(0, active_agents),
        work: match record.get("active_work") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        },
    };
    match state {
        "running" => Observed::Running(in_flight),
        _ if in_flight.count > 0 => Observed::Draining {
            state: state.to_owned(),
            in_flight,
        },
        _ => Observed::Quiesced {
            state: state.to_owned(),
        },
    }
}

/// `active_agents` as the host coerces it, `max(0, int(value))` with anything `int()`
/// refuses read as 0: an integer, a float truncated, a bool as 0 or 1, a string of
/// decimal digits (Python's `int(str)`: surrounding whitespace, a sign, single
/// underscores between digits).
fn active_agents(value: &Value) -> u64 {
    // Digits only, so the one failure is overflow: a count beyond u64 saturates.
    let count = |digits: &str| digits.parse::<u64>().unwrap_or(u64::MAX);
    match value {
        Value::Bool(flag) => u64::from(*flag),
        Value::Number(number) if json::is_float_text(number.as_str()) => {
            json::float_value(number).map_or(0, |float| float.max(0.0) as u64)
        }
        Value::Number(number) => {
            let text = number.as_str();
            if text.starts_with('-') {
                0
            } else {
                count(text)
            }
        }
        Value::String(text) => {
            let text = text.trim_matches(crate::home::is_python_space);
            let (negative, digits) = match text.as_bytes().first() {
                Some(b'-') => (true, &text[1..]),
                Some(b'+') => (false, &text[1..]),
                _ => (false, text),
            };
            let valid = !digits.is_empty()
                && !digits.starts_with('_')
                && !digits.ends_with('_')
                && !digits.contains("__")
                && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_');
            if !valid {
                return 0;
            }
            let digits: String = digits.chars().filter(|c| *c != '_').collect();
            if negative && digits.bytes().any(|b| b != b'0') {
                return 0;
            }
            count(&digits)
        }
        _ => 0,
    }
}

/// Whether `pid` runs with start time `start_time` (field 22 of `/proc/<pid>/stat`).
pub fn liveness(pid: u32, start_time: Option<u64>) -> Liveness {
    let Ok(pid_t) = libc::pid_t::try_from(pid) else {
        return Liveness::Gone;
    };
    // SAFETY: kill(2) with signal 0 sends nothing; it only checks the pid exists.
    let exists = unsafe { libc::kill(pid_t, 0) } == 0
        || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists {
        return Liveness::Gone;
    }
    let Some(start_time) = start_time else {
        return Liveness::Alive;
    };
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => match crate::epoch::pid1_starttime(&stat).and_then(|f| f.parse::<u64>().ok()) {
            Some(actual) if actual == start_time => Liveness::Alive,
            Some(_) => Liveness::Recycled,
            None => Liveness::Alive,
        },
        // Gone between the two looks, or no /proc (a pid alone then decides).
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && cfg!(target_os = "linux") => {
            Liveness::Gone
        }
        Err(_) => Liveness::Alive,
    }
}

/// Waits until the gateway of `home` is idle ([`Observed::is_idle`]) or `timeout`
/// passes (`None`: for as long as it takes). Event-driven: each change of the record
/// (inotify on the home, as the marker watcher) is a new look, and every
/// [`LIVENESS_INTERVAL`] another, for a writer that died. `Ok` with the idle state, or
/// `Err` with the state still observed at the timeout.
pub fn wait_idle(home: Option<&Path>, timeout: Option<Duration>) -> Result<Observed, Observed> {
    wait_idle_unless(home, timeout, || false)
}

/// [`wait_idle`], ending early (with `Err`, the state then observed) once `stopped`
/// says so; it is asked at every look, at least every [`LIVENESS_INTERVAL`].
pub fn wait_idle_unless(
    home: Option<&Path>,
    timeout: Option<Duration>,
    stopped: impl Fn() -> bool,
) -> Result<Observed, Observed> {
    let home = resolve_home(home);
    let give_up = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
    // No descriptors for file events: a look every LIVENESS_INTERVAL instead.
    let mut events = FileEvents::new(&home, GATEWAY_STATE_FILE_NAME).ok();
    loop {
        let observed = observe(Some(&home));
        if observed.is_idle() {
            return Ok(observed);
        }
        let now = Instant::now();
        if give_up.is_some_and(|at| now >= at) || stopped() {
            return Err(observed);
        }
        let next = now + LIVENESS_INTERVAL;
        let until = give_up.map_or(next, |at| at.min(next));
        match events.as_mut() {
            Some(events) => {
                if events.wait(until).is_err() {
                    std::thread::sleep(until.saturating_duration_since(Instant::now()));
                }
            }
            None => std::thread::sleep(until.saturating_duration_since(Instant::now())),
        }
    }
}
