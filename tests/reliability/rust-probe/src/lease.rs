//! The lease commands of the probe command line (../README.md): `begin`, `keep-alive`,
//! `release` and `loop-lease`, over `drain_control::lease`.

use std::ffi::OsString;
use std::fs::File;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use drain_control::lease::{self, Holder, Lease, LeaseError, LeaseOptions};
use serde_json::{Value, json};

use super::{arg_bytes, deadline, emit, sentinel};

fn holder_json(holder: Option<&Holder>) -> Value {
    holder.map_or(Value::Null, |h| {
        json!({"principal": h.principal, "requested_at": h.requested_at,
               "owned": h.owned, "state": h.state.as_str()})
    })
}

fn status(error: &LeaseError) -> &'static str {
    match error {
        LeaseError::Held(_) => "held",
        LeaseError::Lost(_) => "lost",
        LeaseError::Busy { .. } => "busy",
        LeaseError::Io(error) if error.is_refused_payload() => "invalid_payload",
        LeaseError::Io(_) => "io_error",
        LeaseError::InvalidToken(_) => "invalid_token",
        _ => "unknown",
    }
}

/// A failed lease operation: the status, who holds the drain (held, lost), and for an
/// I/O error what `Error` names (the step is `lock` for the lock file).
fn failure(op: &str, error: &LeaseError, us: u64) -> ExitCode {
    let holder = match error {
        LeaseError::Held(holder) => holder_json(Some(holder)),
        LeaseError::Lost(holder) => holder_json(holder.as_ref()),
        _ => Value::Null,
    };
    let mut out = json!({"ok": false, "op": op, "status": status(error), "holder": holder,
                         "errno": null, "message": error.to_string(), "us": us});
    if let LeaseError::Io(e) = error {
        out["errno"] = json!(e.raw_os_error());
        out["marker"] = json!(e.marker().to_string_lossy());
        out["path"] = json!(e.path().to_string_lossy());
        out["step"] = json!(e.step().as_str());
        out["marker_untouched"] = json!(e.step().leaves_marker_untouched());
    }
    if let LeaseError::Busy { lock, .. } = error {
        out["path"] = json!(lock.to_string_lossy());
    }
    emit(out);
    ExitCode::FAILURE
}

fn micros(started: Instant) -> u64 {
    started.elapsed().as_micros() as u64
}

/// CLOCK_REALTIME as `<seconds>.<microseconds>`, the loops' log time.
fn now() -> String {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    format!("{}.{:06}", t.as_secs(), t.subsec_micros())
}

fn begin(home: Option<&Path>, principal: &str, wait_ms: u64) -> (Result<Lease, LeaseError>, u64) {
    let started = Instant::now();
    let options = LeaseOptions::default();
    let result = match wait_ms {
        0 => lease::begin_with(home, principal, false, &options),
        ms => lease::begin_waiting(home, principal, false, &options, Duration::from_millis(ms)),
    };
    (result, micros(started))
}

/// Runs a lease command; `None` for a command that is not one.
pub fn command(command: &str, home: Option<&Path>, args: &[OsString]) -> Option<ExitCode> {
    let text = |i: usize| args.get(i).and_then(|a| a.to_str()).unwrap_or("");
    Some(match command {
        "begin" if args.len() >= 3 => {
            let Ok(principal) = String::from_utf8(arg_bytes(&args[2])) else {
                emit(json!({"ok": false, "op": "begin", "status": "invalid_utf8", "holder": null}));
                return Some(ExitCode::FAILURE);
            };
            sentinel("/drain-probe-begin");
            let (result, us) = begin(home, &principal, text(3).parse().unwrap_or(0));
            sentinel("/drain-probe-end");
            match result {
                Ok(lease) => {
                    emit(json!({"ok": true, "op": "begin", "token": lease.token(), "us": us}));
                    ExitCode::SUCCESS
                }
                Err(error) => failure("begin", &error, us),
            }
        }
        "keep-alive" | "release" if args.len() >= 3 => {
            let lease = match Lease::resume(home, text(2), &LeaseOptions::default()) {
                Ok(lease) => lease,
                Err(error) => return Some(failure(command, &error, 0)),
            };
            sentinel("/drain-probe-begin");
            let started = Instant::now();
            let result = match command {
                "keep-alive" => lease.keep_alive().map(|_| None),
                _ => lease.release().map(Some),
            };
            let us = micros(started);
            sentinel("/drain-probe-end");
            match result {
                Ok(None) => emit(json!({"ok": true, "op": command, "us": us})),
                Ok(Some(removed)) => {
                    emit(json!({"ok": true, "op": command, "removed": removed, "us": us}))
                }
                Err(error) => return Some(failure(command, &error, us)),
            }
            ExitCode::SUCCESS
        }
        "loop-lease" if args.len() >= 5 => {
            loop_lease(home, text(2), text(3), Path::new(&args[4]), text(5))
        }
        _ => return None,
    })
}

/// loop-lease HOME TAG SECONDS LOG [PAUSE_MS]: begin (no wait) TAG-1, TAG-2, ...; each
/// lease kept alive once and released (the release retried while busy), with a pause
/// after each call (a held lease is held across two).
/// A line per event (../README.md): `begun TOKEN US`, `kept TOKEN`, `lost TOKEN HOLDER`,
/// `keep-busy TOKEN US`, `release-busy TOKEN US`, `released TOKEN REMOVED` (its time
/// taken before the call: every time of a lease's lines falls while its marker exists),
/// `held US`, `busy US`, `!error ...`.
fn loop_lease(
    home: Option<&Path>,
    tag: &str,
    seconds: &str,
    log_path: &Path,
    pause: &str,
) -> ExitCode {
    let mut log = File::create(log_path).expect("log file");
    let until = deadline(seconds);
    let pause = Duration::from_millis(pause.parse().unwrap_or(0));
    let (mut ops, mut begun, mut held, mut busy, mut failures) = (0u64, 0u64, 0u64, 0u64, 0u64);
    while Instant::now() < until {
        if ops > 0 {
            std::thread::sleep(pause);
        }
        ops += 1;
        let (result, us) = begin(home, &format!("{tag}-{ops}"), 0);
        let lease = match result {
            Ok(lease) => lease,
            Err(error) => {
                let line = match error {
                    LeaseError::Held(_) => {
                        held += 1;
                        format!("held {us}")
                    }
                    LeaseError::Busy { .. } => {
                        busy += 1;
                        format!("busy {us}")
                    }
                    other => {
                        failures += 1;
                        format!("!error begin {} {other}", status(&other))
                    }
                };
                writeln!(log, "{} {line}", now()).expect("log");
                continue;
            }
        };
        begun += 1;
        let token = lease.token();
        writeln!(log, "{} begun {token} {us}", now()).expect("log");
        std::thread::sleep(pause);
        let started = Instant::now();
        let line = match lease.keep_alive() {
            Ok(_) => format!("kept {token}"),
            Err(LeaseError::Lost(holder)) => {
                format!("lost {token} {}", holder_json(holder.as_ref()))
            }
            Err(LeaseError::Busy { .. }) => format!("keep-busy {token} {}", micros(started)),
            Err(other) => {
                failures += 1;
                format!("!error keep-alive {token} {other}")
            }
        };
        writeln!(log, "{} {line}", now()).expect("log");
        std::thread::sleep(pause);
        loop {
            let (before, started) = (now(), Instant::now());
            let line = match lease.release() {
                Ok(removed) => format!("released {token} {removed}"),
                Err(LeaseError::Busy { .. }) => {
                    writeln!(log, "{before} release-busy {token} {}", micros(started))
                        .expect("log");
                    continue;
                }
                Err(other) => {
                    failures += 1;
                    format!("!error release {token} {other}")
                }
            };
            writeln!(log, "{before} {line}").expect("log");
            break;
        }
    }
    emit(json!({"ops": ops, "begun": begun, "held": held, "busy": busy, "failures": failures}));
    if failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
