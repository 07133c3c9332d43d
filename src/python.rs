//! The Python extension module `drain_control._native`.
//!
//! A leaf over the core: it converts types and errors and releases the GIL around
//! every file I/O; it decides nothing. The drop-in module `drain_control` (Python,
//! in `python/drain_control/__init__.py`) gathers what its host must be able to patch
//! (the epoch function, `HERMES_HOME`, the `/proc` reads) and passes it in here; for
//! the four reads of the gateway's hot path, a [`Poller`] looks the same names up in
//! the module's namespace itself, at every call, so that a poll is one native call.

use std::ffi::OsString;
use std::io;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyNameError, PyOSError, PyValueError};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyList, PyString, PyType};
use pyo3::{PyTraverseError, intern};
use rustix::fd::{AsRawFd, RawFd};
use serde_json::Value;

use crate::fsio::RawMarker;
use crate::{
    Body, Classified, Context, Error, MARKER_FILE_NAME, MAX_AGE_MICROS, MAX_AGE_SECONDS, Payload,
    Read, Timestamp, Verdict, Warning, epoch, fsio, home, watch,
};

/// The read result and verdict of one marker (`classify_marker`'s result).
#[pyclass(frozen, module = "drain_control._native")]
struct Classification {
    /// `None` when absent, `{}` when contentless, else the marker's object.
    #[pyo3(get)]
    read: Py<PyAny>,
    /// A marker is there (a contentless one counts).
    #[pyo3(get)]
    present: bool,
    /// Present, and neither epoch-stale nor expired: the gateway must drain.
    #[pyo3(get)]
    active: bool,
    /// Active, and `suppress_notification` is truthy.
    #[pyo3(get)]
    suppressed: bool,
    /// The marker was written by another instantiation.
    #[pyo3(get)]
    epoch_stale: bool,
    /// The marker's `requested_at` is more than the maximum age ago.
    #[pyo3(get)]
    expired: bool,
}

#[pymethods]
impl Classification {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Classification(read={}, present={}, active={}, suppressed={}, epoch_stale={}, \
             expired={})",
            self.read.bind(py).repr()?,
            py_bool(self.present),
            py_bool(self.active),
            py_bool(self.suppressed),
            py_bool(self.epoch_stale),
            py_bool(self.expired),
        ))
    }
}

fn py_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

impl Classification {
    fn new(py: Python<'_>, classified: &Classified) -> PyResult<Self> {
        let Verdict {
            present,
            active,
            suppressed,
            epoch_stale,
            expired,
        } = classified.verdict;
        Ok(Classification {
            read: read_to_py(py, &classified.read)?.unbind(),
            present,
            active,
            suppressed,
            epoch_stale,
            expired,
        })
    }
}

/// A warning the core asks the host to log once: Python deduplicates it by `key`.
#[pyclass(frozen, module = "drain_control._native")]
struct MarkerWarning {
    /// `"unreadable"` or `"expired"`.
    #[pyo3(get)]
    kind: &'static str,
    /// The text to log.
    #[pyo3(get)]
    message: String,
    /// Equal for warnings that must be logged only once (for an expired marker: its
    /// `requested_at`).
    #[pyo3(get)]
    key: String,
}

#[pymethods]
impl MarkerWarning {
    fn __repr__(&self) -> String {
        format!(
            "MarkerWarning(kind={:?}, message={:?}, key={:?})",
            self.kind, self.message, self.key
        )
    }
}

impl From<Warning> for MarkerWarning {
    fn from(warning: Warning) -> Self {
        MarkerWarning {
            kind: match warning {
                Warning::Unreadable { .. } => "unreadable",
                Warning::Expired { .. } => "expired",
            },
            message: warning.to_string(),
            key: warning.dedupe_key(),
        }
    }
}

/// The marker path of `home`, else of `HERMES_HOME` (the value the caller read, `None`
/// when unset), else of `~/.hermes`.
#[pyfunction]
fn marker_path(home: Option<PathBuf>, hermes_home: Option<OsString>) -> PathBuf {
    home::resolve_home_with(home.as_deref(), hermes_home.as_deref()).join(MARKER_FILE_NAME)
}

/// The epoch from the texts of the two `/proc` files (`None`: unreadable); `boot_time`
/// is called only when both give nothing.
#[pyfunction]
fn compose_epoch(
    boot_id: Option<&str>,
    pid1_stat: Option<&str>,
    boot_time: &Bound<'_, PyAny>,
) -> PyResult<String> {
    let mut raised = None;
    let epoch = epoch::compose(boot_id, pid1_stat, || {
        match boot_time
            .call0()
            .and_then(|value| value.extract::<Option<f64>>())
        {
            Ok(seconds) => seconds,
            Err(error) => {
                raised = Some(error);
                None
            }
        }
    });
    match raised {
        Some(error) => Err(error),
        None => Ok(epoch),
    }
}

/// The kernel boot time where the core can read it itself (macOS), else `None`.
#[pyfunction]
fn kernel_boot_time() -> Option<f64> {
    epoch::kernel_boot_time()
}

fn context(current_epoch: &str, now_micros: Option<i64>, max_age_micros: i64) -> Context<'_> {
    let now = now_micros.map_or_else(Timestamp::now, Timestamp::from_unix_micros);
    Context::new(current_epoch, now).with_max_age_micros(max_age_micros)
}

/// Classifies marker bytes at `now_micros` (microseconds since the Unix epoch; `None`:
/// the system clock).
#[pyfunction]
#[pyo3(signature = (raw, current_epoch, now_micros=None, max_age_micros=MAX_AGE_MICROS))]
fn classify(
    py: Python<'_>,
    raw: &[u8],
    current_epoch: &str,
    now_micros: Option<i64>,
    max_age_micros: i64,
) -> PyResult<Classification> {
    let context = context(current_epoch, now_micros, max_age_micros);
    Classification::new(py, &crate::classify(raw, &context))
}

/// One of the four reads of a drop-in module, `poller[home]`: `drain_requested`,
/// `drain_notification_suppressed`, `read_drain_request` or `_active_drain_body`, in
/// one native call. The gateway's hot path.
///
/// A subscript rather than a method: a call from Python passes its arguments in a new
/// tuple to a parser (the abi3 build for Python 3.9 has no vectorcall), while
/// `poller[home]` hands `home` over as it is: about 0.1 µs less per poll here.
///
/// Every read looks up in the module's namespace, at call time, the names its host may
/// patch, as the Python functions did: `current_instantiation_epoch` (called once the
/// marker is read and there to judge, as the original did; never by
/// `read_drain_request`, which judges no epoch), `drain_request_path` (called,
/// unless it is still the module's own function, whose path is then resolved here
/// without building a `pathlib.Path`), `DRAIN_REQUEST_MAX_AGE_SECONDS` (converted by the
/// module's `_max_age_micros`, unless it is still the core's own value), and, when the
/// reading deserves a warning, `_log_warning`. A missing name raises `NameError`, as
/// a global lookup would.
///
/// The conversions of the last home and the last epoch are kept: a `str` or a
/// `pathlib.PosixPath` is immutable, so the same object always converts to the same
/// path. Only the conversion is kept: `HERMES_HOME` is read at every call when no home
/// is given.
#[pyclass(frozen, module = "drain_control._native")]
struct Poller {
    /// The module's `globals()`.
    namespace: Py<PyDict>,
    /// The module's own `drain_request_path`, as defined.
    own_path_fn: Py<PyAny>,
    /// The value `DRAIN_REQUEST_MAX_AGE_SECONDS` has unless a host changed it.
    own_max_age: Py<PyAny>,
    read: ReadKind,
    last: Mutex<Last>,
}

/// What a [`Poller`] returns.
#[derive(Clone, Copy)]
enum ReadKind {
    /// `drain_requested`: whether the marker is active.
    Active,
    /// `drain_notification_suppressed`: whether it is active and suppresses the notice.
    Suppressed,
    /// `read_drain_request`: the read result, judged against no epoch; only unreadable
    /// markers are logged.
    Read,
    /// `_active_drain_body`: the read result if the marker is active, else `None`.
    ActiveBody,
}

/// The last conversions (see [`Poller`]); the objects are held, so an identity
/// comparison cannot be fooled by a reused address.
#[derive(Default)]
struct Last {
    home: Option<(Py<PyAny>, Arc<Path>)>,
    epoch: Option<(Py<PyAny>, Arc<str>)>,
}

/// A marker path: resolved for this call, or the kept conversion of the last home.
enum MarkerPath {
    Resolved(PathBuf),
    Kept(Arc<Path>),
}

impl Deref for MarkerPath {
    type Target = Path;

    fn deref(&self) -> &Path {
        match self {
            MarkerPath::Resolved(path) => path,
            MarkerPath::Kept(path) => path,
        }
    }
}

/// What one read needs, gathered from the module with the GIL held.
struct Inputs {
    path: MarkerPath,
    /// `None`: no epoch (`""`, which disables the epoch check).
    epoch: Option<Arc<str>>,
    max_age_micros: i64,
}

impl Inputs {
    fn context(&self) -> Context<'_> {
        context(
            self.epoch.as_deref().unwrap_or(""),
            None,
            self.max_age_micros,
        )
    }
}

/// `pathlib.PosixPath`, once a home that is not a `str` has been seen.
static POSIX_PATH: PyOnceLock<Py<PyType>> = PyOnceLock::new();

impl Poller {
    fn lookup<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'py, PyString>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match self.namespace.bind(py).get_item(name)? {
            Some(value) => Ok(value),
            None => Err(PyNameError::new_err(format!(
                "name '{name}' is not defined"
            ))),
        }
    }

    fn last(&self) -> std::sync::MutexGuard<'_, Last> {
        self.last.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Gathers a read's inputs from the module's namespace, in the order the Python
    /// functions did: the path and the maximum age; the epoch only later, once there
    /// is a marker to judge (see [`Poller::epoch`]).
    fn inputs(&self, py: Python<'_>, home: &Bound<'_, PyAny>) -> PyResult<Inputs> {
        let path_fn = self.lookup(py, intern!(py, "drain_request_path"))?;
        let patched_path = if path_fn.is(&self.own_path_fn) {
            None
        } else {
            // A host patched drain_request_path: honour it.
            Some(path_fn.call1((home,))?.extract::<PathBuf>()?)
        };
        let max_age = self.lookup(py, intern!(py, "DRAIN_REQUEST_MAX_AGE_SECONDS"))?;
        let max_age_micros = if max_age.is(&self.own_max_age) {
            MAX_AGE_MICROS
        } else {
            // A host changed the maximum age: the module converts it as Python would.
            self.lookup(py, intern!(py, "_max_age_micros"))?
                .call0()?
                .extract::<i64>()?
        };
        let kept_path = match (&patched_path, &self.last().home) {
            (None, Some((object, path))) if object.is(home) => Some(path.clone()),
            _ => None,
        };
        let path = match (kept_path, patched_path) {
            (Some(path), _) => MarkerPath::Kept(path),
            (None, Some(path)) => MarkerPath::Resolved(path),
            (None, None) => self.convert_home(py, home)?,
        };
        Ok(Inputs {
            path,
            epoch: None,
            max_age_micros,
        })
    }

    /// The current epoch for judging a marker that `raw` found there: the module's
    /// `current_instantiation_epoch()`, called only then, as the original called it
    /// only for a marker it could read (`None`, no epoch check, for `read_drain_request`,
    /// which judges none, and for an absent or unreadable marker).
    fn epoch(&self, py: Python<'_>, raw: &RawMarker) -> PyResult<Option<Arc<str>>> {
        let judged = !matches!(self.read, ReadKind::Read)
            && !matches!(raw, RawMarker::Absent | RawMarker::Unreadable(_));
        if !judged {
            return Ok(None);
        }
        let epoch = self
            .lookup(py, intern!(py, "current_instantiation_epoch"))?
            .call0()?;
        let kept = match &self.last().epoch {
            Some((object, text)) if object.is(&epoch) => Some(text.clone()),
            _ => None,
        };
        match kept {
            Some(text) => Ok(Some(text)),
            None => self.convert_epoch(&epoch).map(Some),
        }
    }

    /// The epoch's text: a `str` is required, as before (`TypeError` otherwise).
    fn convert_epoch(&self, epoch: &Bound<'_, PyAny>) -> PyResult<Arc<str>> {
        let text: Arc<str> = Arc::from(&*epoch.cast::<PyString>()?.to_cow()?);
        if epoch.is_exact_instance_of::<PyString>() {
            let previous = self
                .last()
                .epoch
                .replace((epoch.clone().unbind(), text.clone()));
            drop(previous); // after the lock is released
        }
        Ok(text)
    }

    /// The module's own `drain_request_path(home)`, natively: `home` when given, else
    /// `$HERMES_HOME`, else `~/.hermes` (read now, with the GIL held, so that no Python
    /// thread's `putenv` runs concurrently).
    fn convert_home(&self, py: Python<'_>, home: &Bound<'_, PyAny>) -> PyResult<MarkerPath> {
        if home.is_none() {
            return Ok(MarkerPath::Resolved(crate::marker_path(None)));
        }
        let path = crate::marker_path(Some(&home.extract::<PathBuf>()?));
        if !is_immutable_path(py, home)? {
            return Ok(MarkerPath::Resolved(path));
        }
        let path: Arc<Path> = Arc::from(path);
        let previous = self
            .last()
            .home
            .replace((home.clone().unbind(), path.clone()));
        drop(previous); // after the lock is released
        Ok(MarkerPath::Kept(path))
    }

    /// Hands the warning, if any, to the module's `_log_warning`.
    fn log_warning(&self, py: Python<'_>, warning: Option<Warning>) -> PyResult<()> {
        let Some(warning) = warning else {
            return Ok(());
        };
        let log_warning = self.lookup(py, intern!(py, "_log_warning"))?;
        let warning = MarkerWarning::from(warning);
        if let ReadKind::Read = self.read {
            let kwargs = PyDict::new(py);
            kwargs.set_item(intern!(py, "expiry"), false)?;
            log_warning.call((warning,), Some(&kwargs))?;
        } else {
            log_warning.call1((warning,))?;
        }
        Ok(())
    }
}

/// Whether `home` is a `str` or a `pathlib.PosixPath` (exactly: a subclass may
/// compute its path anew at each call), whose path never changes.
fn is_immutable_path(py: Python<'_>, home: &Bound<'_, PyAny>) -> PyResult<bool> {
    if home.is_exact_instance_of::<PyString>() {
        return Ok(true);
    }
    if let Some(posix_path) = POSIX_PATH.get(py) {
        return Ok(home.get_type().is(posix_path));
    }
    // A PosixPath exists only once pathlib is imported; never import it here.
    let modules = py
        .import(intern!(py, "sys"))?
        .getattr(intern!(py, "modules"))?;
    let Some(pathlib) = modules.cast::<PyDict>()?.get_item(intern!(py, "pathlib"))? else {
        return Ok(false);
    };
    let posix_path = pathlib
        .getattr(intern!(py, "PosixPath"))?
        .cast_into::<PyType>()?;
    let is_posix_path = home.get_type().is(&posix_path);
    let _ = POSIX_PATH.set(py, posix_path.unbind());
    Ok(is_posix_path)
}

#[pymethods]
impl Poller {
    /// `namespace`: the module's `globals()`; `drain_request_path`: its own function;
    /// `max_age_seconds`: the value of `DRAIN_REQUEST_MAX_AGE_SECONDS` that means the
    /// core's maximum age; `read`: `"active"`, `"suppressed"`, `"read"` or
    /// `"active_body"` (see [`ReadKind`]).
    #[new]
    fn new(
        namespace: Bound<'_, PyDict>,
        drain_request_path: Bound<'_, PyAny>,
        max_age_seconds: Bound<'_, PyAny>,
        read: &str,
    ) -> PyResult<Self> {
        let read = match read {
            "active" => ReadKind::Active,
            "suppressed" => ReadKind::Suppressed,
            "read" => ReadKind::Read,
            "active_body" => ReadKind::ActiveBody,
            _ => return Err(PyValueError::new_err(format!("unknown read {read:?}"))),
        };
        Ok(Poller {
            namespace: namespace.unbind(),
            own_path_fn: drain_request_path.unbind(),
            own_max_age: max_age_seconds.unbind(),
            read,
            last: Mutex::new(Last::default()),
        })
    }

    /// The read of `home` (`None`: `$HERMES_HOME`, else `~/.hermes`), the marker read
    /// without the GIL.
    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        home: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut inputs = self.inputs(py, home)?;
        let raw = py.detach(|| fsio::read_marker(&inputs.path));
        inputs.epoch = self.epoch(py, &raw)?;
        if let ReadKind::Active | ReadKind::Suppressed = self.read {
            // The verdict alone: no body is built.
            let (verdict, warning) =
                crate::inspect_verdict_read(&inputs.path, raw, &inputs.context());
            self.log_warning(py, warning)?;
            let answer = match self.read {
                ReadKind::Active => verdict.active,
                _ => verdict.suppressed,
            };
            return Ok(PyBool::new(py, answer).to_owned().into_any());
        }
        let inspection = crate::inspect_read(&inputs.path, raw, &inputs.context());
        self.log_warning(py, inspection.warning)?;
        let classified = inspection.classified;
        if let ReadKind::ActiveBody = self.read
            && !classified.verdict.active
        {
            return Ok(py.None().into_bound(py));
        }
        read_to_py(py, &classified.read)
    }

    /// The module's namespace holds this poller: a cycle the garbage collector must see
    /// to free a module nobody uses any more.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.namespace)?;
        visit.call(&self.own_path_fn)?;
        visit.call(&self.own_max_age)?;
        Ok(())
    }
}

/// Writes a marker stamped with `epoch` and the current time at `path`, atomically,
/// and returns the payload written. Failures raise `OSError` with errno and filename.
#[pyfunction]
fn write_marker<'py>(
    py: Python<'py>,
    path: PathBuf,
    principal: &str,
    suppress_notification: bool,
    epoch: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let payload = Payload::new(principal, suppress_notification, epoch, Timestamp::now());
    let bytes = payload.to_bytes();
    py.detach(|| fsio::write_marker(&path, &bytes))
        .map_err(|error| os_error(py, &error))?;
    body_to_py(py, &payload.to_body())
}

/// Removes the marker at `path`; whether there was one. Failures raise `OSError`.
#[pyfunction]
fn remove_marker(py: Python<'_>, path: PathBuf) -> PyResult<bool> {
    py.detach(|| fsio::remove_marker(&path))
        .map_err(|error| os_error(py, &error))
}

/// One change of the drain state, as a [`PyWatcher`] reports it (the Python package
/// wraps it in its own `Change`, with datetimes).
#[pyclass(frozen, module = "drain_control._native")]
struct Change {
    /// `"absent"`, `"active"`, `"suppressed"`, `"epoch-stale"` or `"expired"`.
    #[pyo3(get)]
    state: &'static str,
    /// `None` when absent, `{}` when contentless, else the marker's object.
    #[pyo3(get)]
    read: Py<PyAny>,
    #[pyo3(get)]
    present: bool,
    #[pyo3(get)]
    active: bool,
    #[pyo3(get)]
    suppressed: bool,
    #[pyo3(get)]
    epoch_stale: bool,
    #[pyo3(get)]
    expired: bool,
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
        let Verdict {
            present,
            active,
            suppressed,
            epoch_stale,
            expired,
        } = change.classified.verdict;
        let warning = match change.warning {
            Some(warning) => Some(Py::new(py, MarkerWarning::from(warning))?),
            None => None,
        };
        Ok(Change {
            state: change.state.as_str(),
            read: read_to_py(py, &change.classified.read)?.unbind(),
            present,
            active,
            suppressed,
            epoch_stale,
            expired,
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
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(200);

/// A [`watch::Watcher`] for Python: `next` releases the GIL while it waits; `stop` and
/// `close` work from any thread, including while another one is blocked in `next`.
#[pyclass(frozen, module = "drain_control._native", name = "Watcher")]
struct PyWatcher {
    /// `None` once closed (the descriptors are released then).
    inner: Mutex<Option<watch::Watcher>>,
    stopper: watch::Stopper,
    fd: RawFd,
    closed: AtomicBool,
    home: PathBuf,
}

/// A number of seconds as a `Duration`; `None` for values too large to matter.
fn seconds(value: f64, what: &str) -> PyResult<Option<Duration>> {
    if value.is_nan() || value < 0.0 {
        return Err(PyValueError::new_err(format!(
            "{what} must be a non-negative number of seconds, got {value}"
        )));
    }
    Ok(Duration::try_from_secs_f64(value).ok())
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
                let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
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
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
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
            let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
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

/// An `OSError` for an error of the watcher's own system calls.
fn io_os_error(error: &io::Error, path: &Path) -> PyErr {
    match error.raw_os_error() {
        Some(code) => PyOSError::new_err((code, os_message(code), path.as_os_str().to_owned())),
        None => PyOSError::new_err(error.to_string()),
    }
}

/// The `OSError` subclass of `error`'s errno (`PermissionError`, `NotADirectoryError`,
/// ...), with `errno`, `strerror` and `filename` set and the failed step as a note.
fn os_error(py: Python<'_>, error: &Error) -> PyErr {
    let errno = error.raw_os_error().unwrap_or(match error.kind() {
        io::ErrorKind::InvalidInput => libc::EINVAL,
        _ => libc::EIO,
    });
    let strerror = match error.raw_os_error() {
        Some(code) => os_message(code),
        None => error.io_error().to_string(),
    };
    let filename = error.path().as_os_str().to_os_string();
    let err = PyOSError::new_err((errno, strerror, filename));
    // Exception notes exist from Python 3.11 on; older versions just go without.
    if py.version_info() >= (3, 11) {
        let note = format!("drain-control: {error}");
        let _ = err.value(py).call_method1("add_note", (note,));
    }
    err
}

/// The OS's text for an errno, as Python's `os.strerror` gives it.
fn os_message(code: i32) -> String {
    let text = io::Error::from_raw_os_error(code).to_string();
    match text.rsplit_once(" (os error ") {
        Some((message, _)) => message.to_owned(),
        None => text,
    }
}

fn read_to_py<'py>(py: Python<'py>, read: &Read) -> PyResult<Bound<'py, PyAny>> {
    match read {
        Read::Absent => Ok(py.None().into_bound(py)),
        Read::Contentless => Ok(PyDict::new(py).into_any()),
        Read::Body(body) => Ok(body_to_py(py, body)?.into_any()),
    }
}

fn body_to_py<'py>(py: Python<'py>, body: &Body) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (key, value) in body {
        dict.set_item(PyString::new(py, key), value_to_py(py, value)?)?;
    }
    Ok(dict)
}

/// A JSON value as `json.loads` gives it. Depth is bounded by the parser (128).
fn value_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(flag) => PyBool::new(py, *flag).to_owned().into_any(),
        Value::Number(number) => {
            if let Some(int) = number.as_i64() {
                int.into_pyobject(py)?.into_any()
            } else if let Some(int) = number.as_u64() {
                int.into_pyobject(py)?.into_any()
            } else {
                PyFloat::new(py, number.as_f64().unwrap_or(f64::NAN)).into_any()
            }
        }
        Value::String(text) => PyString::new(py, text).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(value_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(members) => body_to_py(py, members)?.into_any(),
    })
}

#[pymodule]
#[pyo3(name = "_native")]
fn native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add("MARKER_FILE_NAME", MARKER_FILE_NAME)?;
    module.add("MAX_AGE_SECONDS", MAX_AGE_SECONDS)?;
    module.add("MAX_AGE_MICROS", MAX_AGE_MICROS)?;
    module.add("TEMP_PREFIX", fsio::TEMP_PREFIX)?;
    module.add("TEMP_SUFFIX", fsio::TEMP_SUFFIX)?;
    module.add_class::<Classification>()?;
    module.add_class::<MarkerWarning>()?;
    module.add_class::<Change>()?;
    module.add_class::<PyWatcher>()?;
    module.add_class::<Poller>()?;
    module.add_function(wrap_pyfunction!(marker_path, module)?)?;
    module.add_function(wrap_pyfunction!(compose_epoch, module)?)?;
    module.add_function(wrap_pyfunction!(kernel_boot_time, module)?)?;
    module.add_function(wrap_pyfunction!(classify, module)?)?;
    module.add_function(wrap_pyfunction!(write_marker, module)?)?;
    module.add_function(wrap_pyfunction!(remove_marker, module)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn os_message_drops_the_code_suffix() {
        assert_eq!(os_message(libc::EACCES), "Permission denied");
        assert_eq!(os_message(libc::ENOTDIR), "Not a directory");
    }

    #[test]
    fn marker_path_prefers_explicit_then_variable() {
        let explicit = marker_path(Some(PathBuf::from("/a")), Some(" /b ".into()));
        assert_eq!(explicit, Path::new("/a/.drain_request.json"));
        let variable = marker_path(None, Some(" /b \n".into()));
        assert_eq!(variable, Path::new("/b/.drain_request.json"));
    }
}
