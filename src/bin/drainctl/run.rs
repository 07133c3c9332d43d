//! `drainctl run -- CMD`: drain while a command runs, the way `systemd-inhibit` and
//! `flock(1)` hold theirs: an operator wraps a migration in one command and cannot
//! forget to cancel.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::json;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::low_level::siginfo::Cause;

use drain_control::gateway;
use drain_control::lease::{self, LeaseError, LeaseOptions};
use drain_control::watch::{Stopper, WatchOptions, Watcher};

use crate::check_home_for_begin;
use crate::failure::{Failure, exit, step};
use crate::idle::still_busy;
use crate::leases::{lease_report, wait_for};

/// The signals `run` forwards to its command, and that end a wait for another drain.
const FORWARDED: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

/// What a signal means: before the command runs, the end of `run` (and of a wait, by
/// its watcher's stopper); while it runs, a signal for the command. `Running` is left
/// only after the command was waited for, so a forwarded signal never reaches a reaped
/// (and perhaps reused) pid.
enum Phase {
    Beginning(Option<Stopper>),
    Running(libc::pid_t),
}

fn lock(phase: &Mutex<Phase>) -> std::sync::MutexGuard<'_, Phase> {
    phase.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// How `run` begins its drain.
pub struct Begin<'a> {
    pub principal: &'a str,
    pub suppress: bool,
    pub create_home: bool,
    /// `--wait[=S]`: how long to wait for another drain to end (`None`: refuse).
    pub wait: Option<f64>,
}

/// `--wait-idle[=S] [--run-anyway]`: whether (and how long) to wait for the gateway to
/// go idle before the command starts.
pub struct Idle {
    pub wait: Option<f64>,
    pub run_anyway: bool,
}

pub fn run(
    home: &Path,
    begin: &Begin<'_>,
    idle: Idle,
    command: &[OsString],
    json: bool,
) -> Result<u8, Failure> {
    let Begin {
        principal,
        suppress,
        create_home,
        wait,
    } = *begin;
    check_home_for_begin(home, create_home)?;
    let run_failed = |error: io::Error, what: &str| {
        Failure::io(step::RUN_COMMAND, format!("{what}: {error}"), &error, home)
    };
    // Taken over before the drain begins, so that no signal between the begin and the
    // command's start can end this process with the drain left behind.
    let mut signals = SignalsInfo::<WithOrigin>::new(FORWARDED)
        .map_err(|e| run_failed(e, "cannot catch signals"))?;
    let handle = signals.handle();
    let phase = Arc::new(Mutex::new(Phase::Beginning(None)));
    let interrupted = Arc::new(AtomicI32::new(0));
    let receiver = {
        let (phase, interrupted) = (Arc::clone(&phase), Arc::clone(&interrupted));
        thread::spawn(move || {
            for origin in signals.forever() {
                match &*lock(&phase) {
                    Phase::Beginning(stopper) => {
                        interrupted.store(origin.signal, Ordering::SeqCst);
                        if let Some(stopper) = stopper {
                            stopper.stop();
                        }
                    }
                    // Signals another process sent (`kill`, a service manager) go on to
                    // the command; a terminal's Ctrl-C (sent by the kernel to the whole
                    // foreground group) reached it already.
                    Phase::Running(pid) if matches!(origin.cause, Cause::Sent(_)) => {
                        // SAFETY: kill(2) on the command's pid, which is not reaped
                        // while the phase is Running (see `Phase`).
                        unsafe { libc::kill(*pid, origin.signal) };
                    }
                    Phase::Running(_) => {}
                }
            }
        })
    };
    let stop_receiving = || {
        handle.close();
        let _ = receiver.join();
    };

    let options = LeaseOptions::default();
    let begun = match wait {
        None => lease::begin_with(Some(home), principal, suppress, &options),
        Some(seconds) => match Watcher::new(Some(home), WatchOptions::default()) {
            Ok(mut watcher) => {
                // A signal while waiting ends the wait (and drainctl, 128 + signal).
                *lock(&phase) = Phase::Beginning(Some(watcher.stopper()));
                let wait = wait_for(seconds);
                lease::begin_watching(&mut watcher, principal, suppress, &options, wait)
            }
            Err(error) => {
                stop_receiving();
                return Err(run_failed(error, "cannot watch the home folder"));
            }
        },
    };
    let signal = interrupted.load(Ordering::SeqCst);
    let lease = match begun {
        Ok(lease) if signal == 0 => lease,
        Ok(lease) => {
            let _ = lease.release();
            stop_receiving();
            return Ok(128 + signal as u8);
        }
        Err(LeaseError::Held(_)) if signal != 0 => {
            stop_receiving();
            return Ok(128 + signal as u8);
        }
        Err(error) => {
            stop_receiving();
            return Err(error.into());
        }
    };
    let token = lease.token().to_owned();
    let held = lease.hold(None);
    if json {
        eprintln!(
            "{}",
            lease_report(home, held.lease(), Some(("event", json!("begun"))))
        );
    } else {
        eprintln!("drainctl run: draining (lease {token}) while {command:?} runs");
    }
    if let Some(seconds) = idle.wait {
        // The drain is in place; the turns in flight finish before the command starts.
        let limit = Some(wait_for(seconds)).filter(|limit| *limit != Duration::MAX);
        let signalled = || interrupted.load(Ordering::SeqCst) != 0;
        match gateway::wait_idle_unless(Some(home), limit, signalled) {
            Ok(observed) => say(json, "idle", &format!("the gateway is idle: {observed}")),
            Err(_) if signalled() => {
                stop_receiving();
                let _ = held.release();
                return Ok(128 + interrupted.load(Ordering::SeqCst) as u8);
            }
            Err(observed) if idle.run_anyway => say(
                json,
                "still-busy",
                &format!("the gateway is still busy ({observed}); running {command:?} anyway"),
            ),
            Err(observed) => {
                stop_receiving();
                let released = held.release();
                let what = match released {
                    Ok(true) => "; the drain was released, the command not run",
                    _ => "; the command was not run",
                };
                return Err(still_busy(&observed, Some(seconds), what));
            }
        }
    }

    let mut child = match Command::new(&command[0]).args(&command[1..]).spawn() {
        Ok(child) => child,
        Err(error) => {
            stop_receiving();
            let _ = held.release();
            let name = command[0].to_string_lossy();
            let mut failure = run_failed(error, &format!("cannot run {name:?} (drain released)"));
            // As a shell says it: 127 not found, 126 found but not runnable.
            failure.exit = if failure.errno == Some(libc::ENOENT) {
                127
            } else {
                126
            };
            return Err(failure);
        }
    };
    let pid = child.id() as libc::pid_t;
    *lock(&phase) = Phase::Running(pid);
    // A signal that came after the begin and before the switch is the command's too.
    let early = interrupted.load(Ordering::SeqCst);
    if early != 0 {
        // SAFETY: as in the receiver: `child` is not reaped yet.
        unsafe { libc::kill(pid, early) };
    }
    let status = child.wait();
    stop_receiving();

    let lost = held.lost();
    let released = held.release();
    let code = match &status {
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => code as u8,
            (None, Some(signal)) => 128 + signal as u8,
            (None, None) => exit::ERROR,
        },
        Err(_) => exit::ERROR,
    };
    let released_text = match (&released, &lost) {
        (Ok(true), _) => "drain released".to_owned(),
        (Ok(false), Some(Some(holder))) => {
            format!("lease lost; the drain of {holder} left in place")
        }
        (Ok(false), _) => "lease lost; nothing to release".to_owned(),
        (Err(error), _) => format!("the drain was not released: {error}"),
    };
    if json {
        let released = match &released {
            Ok(removed) => json!(removed),
            Err(error) => json!({"error": error.to_string()}),
        };
        eprintln!(
            "{}",
            json!({"event": "ended", "token": token, "exit": code, "released": released})
        );
    } else {
        eprintln!("drainctl run: {command:?} exited with status {code}; {released_text}");
    }
    if let Err(error) = status {
        return Err(run_failed(error, "cannot wait for the command"));
    }
    Ok(code)
}

/// One line of `run`'s own on stderr: prose, or an event object with `--json`.
fn say(json: bool, event: &str, message: &str) {
    if json {
        eprintln!(
            "{}",
            serde_json::json!({"event": event, "message": message})
        );
    } else {
        eprintln!("drainctl run: {message}");
    }
}
