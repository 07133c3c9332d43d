//! A command that failed: one line on stderr, and with `--json` one object on stdout,
//! `{"error": {"message", "errno", "path", "marker", "step"}}` (plus `"holder"` when
//! another's drain is in the way, `"gateway"` when the gateway is still busy); the exit status says which kind of failure ([`exit`]).

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use drain_control::lease::{Holder, LeaseError};

use crate::words::{self, lossy};

/// drainctl's exit statuses (`run` exits with its command's status once it started).
pub mod exit {
    /// The gateway must drain (`status`), or the command did what was asked.
    pub const OK: u8 = 0;
    /// `status`: the gateway need not drain. `keep-alive`, `cancel --token`: the lease
    /// is lost (the marker no longer carries its token), so nothing was written.
    pub const NOT_DRAINING: u8 = 1;
    /// Any other error; clap uses it for bad arguments as well.
    pub const ERROR: u8 = 2;
    /// Another drain is active (`begin --exclusive`, `run`), or another writer held the
    /// lock for the whole wait: try again later (sysexits' `EX_TEMPFAIL`).
    pub const HELD: u8 = 75;
    /// `wait-idle`, `run --wait-idle`: the gateway still had turns in flight (or an
    /// unknown record) when the wait ended.
    pub const BUSY: u8 = 3;
}

/// The steps of drainctl's own, beside the library's write and clear steps
/// (`drain_control::Step::as_str`: `"check_payload"`, `"create_temp"`, `"rename"`...).
pub mod step {
    /// The command line was refused.
    pub const PARSE_ARGUMENTS: &str = "parse_arguments";
    /// The home folder does not exist (`begin` without `--create-home`, `cancel`).
    pub const CHECK_HOME: &str = "check_home";
    /// The marker is there but cannot be read (`status`).
    pub const READ_MARKER: &str = "read_marker";
    /// The watcher failed (`watch`).
    pub const WATCH: &str = "watch";
    /// Printing the result failed.
    pub const WRITE_OUTPUT: &str = "write_output";
    /// Another drain is active (`begin --exclusive`, `run`).
    pub const CHECK_HOLDER: &str = "check_holder";
    /// The marker no longer carries the lease's token (`keep-alive`, `cancel --token`).
    pub const CHECK_OWNER: &str = "check_owner";
    /// Taking the writers' lock beside the marker failed or timed out.
    pub const LOCK: &str = "lock";
    /// Starting the command of `run` failed.
    pub const RUN_COMMAND: &str = "run_command";
    /// The gateway was still busy when the wait for it to go idle ended.
    pub const WAIT_IDLE: &str = "wait_idle";
}

#[derive(Debug)]
pub struct Failure {
    /// One line for people, without the `drainctl: ` prefix.
    pub message: String,
    /// The step that failed (see [`step`] and `drain_control::Step::as_str`).
    pub step: &'static str,
    /// The OS error number, `None` when the failure is not the OS's (a refused
    /// payload, a usage error).
    pub errno: Option<i32>,
    /// The path the failing call acted on.
    pub path: Option<PathBuf>,
    /// The marker the command was about.
    pub marker: Option<PathBuf>,
    /// One more member of the `--json` error object: `holder`, who holds the drain in
    /// the way (see `words::holder`), or `gateway`, its observed state.
    pub detail: Option<Box<(&'static str, Value)>>,
    /// The exit status ([`exit`]).
    pub exit: u8,
}

impl Failure {
    /// A failure of the OS at `step`, on `path`, worded by `message`.
    pub fn io(step: &'static str, message: String, error: &io::Error, path: &Path) -> Failure {
        Failure {
            message,
            step,
            errno: error.raw_os_error(),
            path: Some(path.to_path_buf()),
            marker: None,
            detail: None,
            exit: exit::ERROR,
        }
    }

    /// A refused command line (clap's error).
    pub fn usage(message: String) -> Failure {
        Failure {
            message,
            step: step::PARSE_ARGUMENTS,
            errno: None,
            path: None,
            marker: None,
            detail: None,
            exit: exit::ERROR,
        }
    }

    pub fn with_marker(mut self, marker: &Path) -> Failure {
        self.marker = Some(marker.to_path_buf());
        self
    }

    /// The stdout the failure came from went away (`drainctl status | head -0`): not
    /// worth a word, nor an error status.
    pub fn is_broken_pipe(&self) -> bool {
        self.step == step::WRITE_OUTPUT && self.errno == Some(libc::EPIPE)
    }

    pub fn to_json(&self) -> Value {
        let mut error = json!({
            "message": self.message,
            "errno": self.errno,
            "path": self.path.as_deref().map(lossy),
            "marker": self.marker.as_deref().map(lossy),
            "step": self.step,
        });
        if let Some(detail) = &self.detail {
            let (key, value) = &**detail;
            error[*key] = value.clone();
        }
        json!({ "error": error })
    }

    /// Says it: the line on stderr always, the object on stdout with `--json`.
    pub fn report(&self, json: bool) {
        eprintln!("drainctl: {}", self.message);
        if json {
            // Nothing more to say if stdout is gone too.
            let _ = writeln!(io::stdout(), "{}", self.to_json());
        }
    }
}

/// A write or clear the library refused or the OS failed: the message names the
/// marker, the step and the path acted on.
impl From<drain_control::Error> for Failure {
    fn from(error: drain_control::Error) -> Failure {
        Failure {
            message: error.to_string(),
            step: error.step().as_str(),
            errno: error.raw_os_error(),
            path: Some(error.path().to_path_buf()),
            marker: Some(error.marker().to_path_buf()),
            detail: None,
            exit: exit::ERROR,
        }
    }
}

/// A lease operation that did not do what was asked: another's drain in the way
/// (exit [`exit::HELD`]), a lost lease ([`exit::NOT_DRAINING`]), a busy lock
/// ([`exit::HELD`]), or the errors of a write.
impl From<LeaseError> for Failure {
    fn from(error: LeaseError) -> Failure {
        let message = error.to_string();
        let failure = |step, exit, holder: Option<&Holder>| Failure {
            message: message.clone(),
            step,
            errno: None,
            path: None,
            marker: None,
            detail: holder.map(|holder| Box::new(("holder", words::holder(holder)))),
            exit,
        };
        match error {
            LeaseError::Held(holder) => failure(step::CHECK_HOLDER, exit::HELD, Some(&holder)),
            LeaseError::Lost(holder) => {
                let mut lost = failure(step::CHECK_OWNER, exit::NOT_DRAINING, holder.as_ref());
                lost.detail
                    .get_or_insert_with(|| Box::new(("holder", Value::Null)));
                lost
            }
            LeaseError::Busy { lock, .. } => Failure {
                path: Some(lock),
                ..failure(step::LOCK, exit::HELD, None)
            },
            LeaseError::Io(error) => error.into(),
            LeaseError::InvalidToken(_) => failure(step::PARSE_ARGUMENTS, exit::ERROR, None),
            _ => failure(step::LOCK, exit::ERROR, None),
        }
    }
}

/// Printing a result failed.
impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Failure {
        Failure {
            message: format!("cannot print the result: {error}"),
            step: step::WRITE_OUTPUT,
            errno: error.raw_os_error(),
            path: None,
            marker: None,
            detail: None,
            exit: exit::ERROR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_payload_is_an_error_of_the_argument_with_no_errno() {
        // The command line cannot carry a principal this long (Linux caps one argument
        // at 128 KiB, and even escaped it stays under 1 MiB), so the library's
        // refusal is checked here, as drainctl would report it.
        let dir = tempfile::tempdir().unwrap();
        let principal = "p".repeat(2 * 1024 * 1024);
        let error = drain_control::write(Some(dir.path()), &principal, false).unwrap_err();
        let failure = Failure::from(error);
        let object = failure.to_json();
        let error = &object["error"];
        assert_eq!(error["step"], "check_payload");
        assert_eq!(error["errno"], Value::Null);
        let marker = dir.path().join(drain_control::MARKER_FILE_NAME);
        assert_eq!(error["marker"], marker.to_str().unwrap());
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("principal"), "{message}");
        assert!(message.contains("1048576"), "{message}");
        assert!(!message.contains('\n'), "{message}");
        assert!(!marker.exists(), "nothing written");
    }

    #[test]
    fn a_broken_pipe_is_only_the_output_s() {
        let gone = Failure::from(io::Error::from_raw_os_error(libc::EPIPE));
        assert!(gone.is_broken_pipe());
        let other = Failure::io(
            step::WATCH,
            "x".to_owned(),
            &io::Error::from_raw_os_error(libc::EPIPE),
            Path::new("/"),
        );
        assert!(!other.is_broken_pipe());
    }
}
