//! The watcher for Python: a blocking `next` that releases the GIL and still answers
//! Ctrl-C, and `stop`/`close` from any thread; the changes it reports.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rustix::fd::{AsRawFd, RawFd};

use super::convert::{io_os_error, py_bool, seconds};
use super::verdict::{Classification, MarkerWarning};
use crate::{Timestamp, watch};

/// One change of the drain state, as a [`PyWatcher`] reports it (the Python package
/// wraps it in its own `Change`, with datetimes).
#[pyclass(frozen, module = "drain_control._native")]
pub(super) struct Change {
    /// `"absent"`, `"active"`, `"suppressed"`, `"epoch-stale"` or `"expired"`.
    #[pyo3(get)]
    state: &'static str,
    /// The read result and verdict at that moment.
    #[pyo3(get)]
    classification: Py<Classification>,
    /// When the state was judged, in microseconds since the Unix epoch.
    #[pyo3(get)]
    at_micros: i64,
    /// When the marker will expire, if it is present, unexpired and dated.
    #[pyo3(get)]
    expires_at_micros: Option<i64>,
    /// The first change a watcher reports: the state when watching began.
    #[pyo3(get)]
    initial: bool,
    /// The warning this reading deserves; the Python side logs it once.
    #[pyo3(get)]
    warning: Option<Py<MarkerWarning>>,
}

#[pymethods]
impl Change {
    fn __repr__(&self) -> String {
        format!(
            "Change(state={:?}, at_micros={}, initial={})",
            self.state,
            self.at_micros,
            py_bool(self.initial)
        )
    }
}

impl Change {
    fn new(py: Python<'_>, change: watch::Change) -> PyResult<Self> {
        let warning = match change.warning {
            Some(warning) => Some(Py::new(py, MarkerWarning::from(warning))?),
            None => None,
        };
        Ok(Change {
            state: change.state.as_str(),
            classification: Py::new(py, Classification::new(py, &change.classified)?)?,
            at_micros: change.at.unix_micros(),
            expires_at_micros: change.expires_at.map(Timestamp::unix_micros),
            initial: change.initial,
            warning,
        })
    }
}

/// The longest a blocking `next` waits without the GIL before it looks at pending
/// signals, so that Ctrl-C interrupts a program blocked on a watcher. A bounded
/// `epoll_wait` per slice; nothing is read unless something happened.
pub(super) const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(200);

/// A [`watch::Watcher`] for Python: `next` releases the GIL while it waits; `stop` and
/// `close` work from any thread, including while another one is blocked in `next`.
#[pyclass(frozen, module = "drain_control._native", name = "Watcher")]
pub(super) struct PyWatcher {
    /// `None` once closed (the descriptors are released then).
    inner: Mutex<Option<watch::Watcher>>,
    stopper: watch::Stopper,
    fd: RawFd,
    closed: AtomicBool,
    home: PathBuf,
}

#[pymethods]
impl PyWatcher {
    /// Starts watching the folder `home` (already resolved by the caller).
    #[new]
    #[pyo3(signature = (home, fallback_interval, every_change, max_age_micros, epoch))]
    fn new(
        py: Python<'_>,
        home: PathBuf,
        fallback_interval: f64,
        every_change: bool,
        max_age_micros: i64,
        epoch: Option<String>,
    ) -> PyResult<Self> {
        if !(fallback_interval.is_finite() && fallback_interval > 0.0) {
            return Err(PyValueError::new_err(format!(
                "fallback_interval must be a positive number of seconds, got {fallback_interval}"
            )));
        }
        // Every field: a new one must be decided on here.
        let options = watch::WatchOptions {
            fallback_interval: seconds(fallback_interval, "fallback_interval")?
                .unwrap_or(Duration::MAX),
            every_change,
            max_age_micros: Some(max_age_micros),
            epoch,
        };
        let watcher = py
            .detach(|| watch::Watcher::new(Some(&home), options))
            .map_err(|error| io_os_error(&error, &home))?;
        Ok(PyWatcher {
            stopper: watcher.stopper(),
            fd: watcher.as_raw_fd(),
            home: watcher.home().to_path_buf(),
            inner: Mutex::new(Some(watcher)),
            closed: AtomicBool::new(false),
        })
    }

    /// The next change within `timeout` seconds (`None`: for ever), else `None`; also
    /// `None` at once when stopped. `timeout=0` never blocks.
    #[pyo3(signature = (timeout=None))]
    fn next(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Change>> {
        let give_up = match timeout {
            Some(timeout) => {
                seconds(timeout, "timeout")?.and_then(|timeout| Instant::now().checked_add(timeout))
            }
            None => None,
        };
        loop {
            let slice = match give_up {
                Some(at) => at
                    .saturating_duration_since(Instant::now())
                    .min(SIGNAL_CHECK_INTERVAL),
                None => SIGNAL_CHECK_INTERVAL,
            };
            let result = py.detach(|| {
                let mut inner = self.inner();
                match inner.as_mut() {
                    Some(watcher) => watcher.next_change(Some(slice)),
                    None => Ok(None),
                }
            });
            match result {
                Ok(Some(change)) => return Change::new(py, change).map(Some),
                Ok(None) => {}
                Err(error) => return Err(io_os_error(&error, &self.home)),
            }
            if self.stopper.is_stopped() || give_up.is_some_and(|at| Instant::now() >= at) {
                return Ok(None);
            }
            py.check_signals()?;
        }
    }

    /// Stops the watcher: a `next` waiting in another thread returns `None` at once,
    /// and so does every later one. The descriptor stays open (and readable).
    fn stop(&self) {
        self.stopper.stop();
    }

    /// Stops the watcher and releases its descriptors (after a `next` in progress in
    /// another thread has returned). Idempotent.
    fn close(&self, py: Python<'_>) {
        self.stopper.stop();
        let watcher = py.detach(|| {
            let mut inner = self.inner();
            self.closed.store(true, Ordering::SeqCst);
            inner.take()
        });
        drop(watcher);
    }

    /// The descriptor to poll for reading (see the Rust `watch` module documentation).
    fn fileno(&self) -> PyResult<i32> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(PyValueError::new_err("the watcher is closed"));
        }
        Ok(self.fd)
    }

    /// Seconds until the watcher wants to re-read on its own; for event loops where
    /// the descriptor carries no timer (elsewhere than on Linux).
    fn poll_timeout(&self, py: Python<'_>) -> f64 {
        py.detach(|| {
            let inner = self.inner();
            inner
                .as_ref()
                .map_or(0.0, |watcher| watcher.poll_timeout().as_secs_f64())
        })
    }

    /// Whether `stop` (or `close`) was called.
    #[getter]
    fn stopped(&self) -> bool {
        self.stopper.is_stopped()
    }

    /// Whether `close` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// The home folder watched.
    #[getter]
    fn home(&self) -> PathBuf {
        self.home.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "Watcher(home={:?}, stopped={}, closed={})",
            self.home,
            py_bool(self.stopped()),
            py_bool(self.closed())
        )
    }
}

impl PyWatcher {
    /// The watcher (`None` once closed); usable after a panic of another holder.
    fn inner(&self) -> MutexGuard<'_, Option<watch::Watcher>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
