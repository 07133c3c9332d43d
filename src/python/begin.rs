//! A begin of a lease for Python, which may wait for another drain to end: the core's
//! `lease::begin_watching` in a thread of its own, so that the waiter (without the GIL)
//! can give up on a signal (Ctrl-C) or when another thread calls `stop()` (an asyncio
//! task cancelled), and a lease begun after giving up is released, not leaked.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use pyo3::exceptions::{PyInterruptedError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::PyString;

use super::convert::{io_os_error, seconds};
use super::lease::{Lease, LeaseOptions, lease_error, locked};
use super::watcher::SIGNAL_CHECK_INTERVAL;
use super::write::text_argument;
use crate::lease::{self, LeaseError};
use crate::watch::{Stopper, WatchOptions, Watcher};

/// A begin, which may wait for another drain to end (`wait`), in a thread of its own so
/// that the waiter can give up: on a signal (Ctrl-C) or when `stop()` is called from
/// another thread (an asyncio task cancelled). A lease begun after giving up is
/// released.
#[pyclass(frozen, module = "drain_control._native")]
pub(super) struct LeaseBegin {
    home: PathBuf,
    options: lease::LeaseOptions,
    principal: String,
    suppress_notification: bool,
    /// `None`: one attempt.
    wait: Option<Duration>,
    /// The watcher whose changes are the waiting begin's attempts (`None`: none could
    /// be made; the core then tries every second); taken by `run`.
    watcher: Mutex<Option<Watcher>>,
    stopper: Option<Stopper>,
    started: AtomicBool,
    outcome: Arc<Outcome>,
}

#[pymethods]
impl LeaseBegin {
    /// `wait`: seconds to wait for an active drain to end (`None` or 0: do not wait;
    /// `math.inf`: as long as it takes).
    #[new]
    #[pyo3(signature = (options, principal, suppress_notification, wait=None))]
    fn new(
        py: Python<'_>,
        options: &Bound<'_, LeaseOptions>,
        principal: &Bound<'_, PyString>,
        suppress_notification: bool,
        wait: Option<f64>,
    ) -> PyResult<Self> {
        let LeaseOptions { home, options } = options.get();
        let wait = match wait {
            Some(wait) => Some(seconds(wait, "wait")?.unwrap_or(Duration::MAX)),
            None => None,
        }
        .filter(|wait| !wait.is_zero());
        let watcher = match wait {
            Some(_) => {
                let watch_options = WatchOptions {
                    max_age_micros: Some(options.max_age_micros),
                    epoch: options.epoch.clone(),
                    ..WatchOptions::default()
                };
                py.detach(|| Watcher::new(Some(home), watch_options)).ok()
            }
            None => None,
        };
        Ok(LeaseBegin {
            home: home.clone(),
            options: options.clone(),
            principal: text_argument(principal, "principal")?.into_owned(),
            suppress_notification,
            wait,
            stopper: watcher.as_ref().map(Watcher::stopper),
            watcher: Mutex::new(watcher),
            started: AtomicBool::new(false),
            outcome: Arc::default(),
        })
    }

    /// Begins (once): the lease, or `DrainHeldError` naming the holder when another
    /// drain stays active past the wait, `LeaseBusyError`, `OSError`;
    /// `InterruptedError` once `stop()` was called.
    fn run(&self, py: Python<'_>) -> PyResult<Lease> {
        if self.started.swap(true, Ordering::SeqCst) {
            return Err(PyRuntimeError::new_err("a LeaseBegin runs once"));
        }
        let begun = match self.wait {
            _ if self.outcome.is_abandoned() => return Err(stopped()),
            None => py.detach(|| {
                let (home, principal) = (Some(self.home.as_path()), &self.principal);
                lease::begin_with(home, principal, self.suppress_notification, &self.options)
            }),
            Some(wait) => self.run_waiting(py, wait)?,
        };
        begun
            .map(Lease::new)
            .map_err(|error| lease_error(py, error))
    }

    /// Gives up (from any thread): a waiting `run` raises `InterruptedError` at once,
    /// and a lease its thread begins all the same is released there.
    fn stop(&self) {
        if let Some(stopper) = &self.stopper {
            stopper.stop();
        }
        self.outcome.abandon();
    }
}

impl LeaseBegin {
    fn run_waiting(
        &self,
        py: Python<'_>,
        wait: Duration,
    ) -> PyResult<Result<lease::Lease, LeaseError>> {
        let watcher = locked(&self.watcher).take();
        let (home, principal, suppress) = (
            self.home.clone(),
            self.principal.clone(),
            self.suppress_notification,
        );
        let (options, outcome) = (self.options.clone(), Arc::clone(&self.outcome));
        thread::Builder::new()
            .name("drain-lease-begin".into())
            .spawn(move || {
                let begun = match watcher {
                    Some(mut watcher) => {
                        lease::begin_watching(&mut watcher, &principal, suppress, &options, wait)
                    }
                    None => lease::begin_waiting(Some(&home), &principal, suppress, &options, wait),
                };
                outcome.set(begun);
            })
            .map_err(|error| io_os_error(&error, &self.home))?;
        loop {
            match py.detach(|| self.outcome.wait(SIGNAL_CHECK_INTERVAL)) {
                Slot::Done(begun) => return Ok(begun),
                Slot::Waiting => {}
                Slot::Abandoned => return Err(stopped()),
            }
            if let Err(interrupt) = py.check_signals() {
                self.stop();
                if let Slot::Done(Ok(lease)) = self.outcome.wait(Duration::ZERO) {
                    let _ = py.detach(|| lease.release());
                }
                return Err(interrupt);
            }
        }
    }
}

fn stopped() -> PyErr {
    PyInterruptedError::new_err("the begin was stopped before it began a drain")
}

/// A waiting begin's outcome, passed from its thread to the waiter.
#[derive(Default)]
struct Outcome {
    slot: Mutex<Slot>,
    changed: Condvar,
}

#[derive(Default)]
enum Slot {
    #[default]
    Waiting,
    Done(Result<lease::Lease, LeaseError>),
    /// The waiter gave up, or took the outcome.
    Abandoned,
}

impl Outcome {
    /// The begin's thread hands its outcome over; a lease nobody waits for any more is
    /// released.
    fn set(&self, begun: Result<lease::Lease, LeaseError>) {
        let mut slot = locked(&self.slot);
        if matches!(*slot, Slot::Abandoned) {
            drop(slot);
            if let Ok(lease) = begun
                && let Err(error) = lease.release()
            {
                log::warn!("drain lease begun after its waiter gave up not released: {error}");
            }
            return;
        }
        *slot = Slot::Done(begun);
        self.changed.notify_all();
    }

    /// Waits at most `timeout` for an outcome, and takes it.
    fn wait(&self, timeout: Duration) -> Slot {
        let slot = locked(&self.slot);
        let (mut slot, _) = self
            .changed
            .wait_timeout_while(slot, timeout, |slot| matches!(slot, Slot::Waiting))
            .unwrap_or_else(PoisonError::into_inner);
        match *slot {
            Slot::Waiting => Slot::Waiting,
            _ => std::mem::replace(&mut *slot, Slot::Abandoned),
        }
    }

    fn abandon(&self) {
        let mut slot = locked(&self.slot);
        if matches!(*slot, Slot::Waiting) {
            *slot = Slot::Abandoned;
            self.changed.notify_all();
        }
    }

    fn is_abandoned(&self) -> bool {
        matches!(*locked(&self.slot), Slot::Abandoned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::State;
    use crate::lease::Holder;

    #[test]
    fn an_abandoned_wait_keeps_no_lease() {
        let outcome = Outcome::default();
        outcome.abandon();
        assert!(outcome.is_abandoned());
        let held = Holder {
            principal: None,
            requested_at: None,
            owned: false,
            state: State::Active,
        };
        outcome.set(Err(LeaseError::Held(held)));
        assert!(matches!(outcome.wait(Duration::ZERO), Slot::Abandoned));
    }

    #[test]
    fn a_lease_begun_after_its_waiter_gave_up_is_released() {
        let home = tempfile::tempdir().expect("a temporary folder");
        let marker = home.path().join(crate::MARKER_FILE_NAME);
        let outcome = Outcome::default();
        outcome.abandon();
        outcome.set(lease::begin(Some(home.path()), "late", false));
        assert!(!marker.exists());
        // Before the waiter gives up, the lease is the waiter's, and stays.
        let outcome = Outcome::default();
        outcome.set(lease::begin(Some(home.path()), "in time", false));
        outcome.abandon();
        let Slot::Done(Ok(lease)) = outcome.wait(Duration::ZERO) else {
            panic!("the outcome was lost");
        };
        assert!(marker.exists());
        assert!(lease.release().expect("a release"));
    }
}
