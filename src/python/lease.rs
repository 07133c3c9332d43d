//! Leases (CONTRACT.md) for Python: the core's [`lease`] with its types and errors
//! converted, and the file I/O, the lock waits and the `wait=` waits without the GIL.
//!
//! The drop-in module judges as its (possibly patched) names say: it hands in the marker
//! path `drain_request_path` gives, the epoch of `current_instantiation_epoch` and the
//! maximum age of `DRAIN_REQUEST_MAX_AGE_SECONDS` ([`LeaseOptions`]). A begin is a
//! [`LeaseBegin`](super::begin::LeaseBegin), which may wait. The exception classes and
//! the scoped form (`drain()`) are Python, in `drain_control/_lease.py`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use super::convert::{body_to_py, py_bool, seconds, value_to_py, write_error};
use super::write::text_argument;
use crate::MARKER_FILE_NAME;
use crate::lease::{self, HeldLease, Holder, LeaseError};

pyo3::import_exception!(drain_control._lease, DrainHeldError);
pyo3::import_exception!(drain_control._lease, LeaseLostError);
pyo3::import_exception!(drain_control._lease, LeaseBusyError);
pyo3::import_exception!(drain_control._lease, InvalidLeaseTokenError);

/// Who holds a drain, as a refused begin (`DrainHeldError.holder`) or a lost lease
/// (`LeaseLostError.holder`) reports it.
#[pyclass(frozen, module = "drain_control._native")]
pub(super) struct DrainHolder {
    /// The marker's `principal`, verbatim (`None`: it has none, or is contentless).
    #[pyo3(get)]
    principal: Py<PyAny>,
    /// The marker's `requested_at`, if it is a string.
    #[pyo3(get)]
    requested_at: Option<String>,
    /// Whether the drain is leased (its marker carries an `owner_token`).
    #[pyo3(get)]
    owned: bool,
    /// The drain state of the marker, as a watcher's change words it.
    #[pyo3(get)]
    state: &'static str,
}

#[pymethods]
impl DrainHolder {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "DrainHolder(principal={}, requested_at={}, owned={}, state={:?})",
            self.principal.bind(py).repr()?,
            self.requested_at.as_deref().into_pyobject(py)?.repr()?,
            py_bool(self.owned),
            self.state
        ))
    }
}

impl DrainHolder {
    fn new(py: Python<'_>, holder: &Holder) -> PyResult<Py<DrainHolder>> {
        let principal = match &holder.principal {
            // A number Python will not convert from text is shown as its JSON text.
            Some(value) => value_to_py(py, value)
                .unwrap_or_else(|_| PyString::new(py, &value.to_string()).into_any())
                .unbind(),
            None => py.None(),
        };
        let holder = DrainHolder {
            principal,
            requested_at: holder.requested_at.clone(),
            owned: holder.owned,
            state: holder.state.as_str(),
        };
        Py::new(py, holder)
    }
}

/// A lease operation's error as the Python exception its kind calls for: held, lost,
/// busy (a `TimeoutError`, `filename` the lock file) and an invalid token (a
/// `ValueError`) as the classes of `drain_control._lease`; an I/O failure as the
/// `OSError` a write raises.
pub(super) fn lease_error(py: Python<'_>, error: LeaseError) -> PyErr {
    let message = error.to_string();
    match error {
        LeaseError::Held(holder) => match DrainHolder::new(py, &holder) {
            Ok(holder) => DrainHeldError::new_err((message, holder)),
            Err(error) => error,
        },
        LeaseError::Lost(holder) => lost_error(py, message, holder.as_ref()),
        LeaseError::Busy { lock, waited } => {
            let waited = waited.as_secs_f64();
            let strerror =
                format!("busy: other writers kept the lock taken for the whole {waited:.1} s wait");
            LeaseBusyError::new_err((strerror, lock.into_os_string(), waited))
        }
        LeaseError::Io(error) => write_error(py, &error),
        LeaseError::InvalidToken(token) => InvalidLeaseTokenError::new_err((message, token)),
    }
}

fn lost_error(py: Python<'_>, message: String, holder: Option<&Holder>) -> PyErr {
    match holder
        .map(|holder| DrainHolder::new(py, holder))
        .transpose()
    {
        Ok(holder) => LeaseLostError::new_err((message, holder)),
        Err(error) => error,
    }
}

/// Where and how lease operations act: the home folder of the marker path the module
/// gave, and the epoch, maximum age and lock wait they judge and wait with.
#[pyclass(frozen, module = "drain_control._native")]
pub(super) struct LeaseOptions {
    pub(super) home: PathBuf,
    pub(super) options: lease::LeaseOptions,
}

#[pymethods]
impl LeaseOptions {
    /// `marker` must be named as the contract names it (the core locks and writes
    /// `.drain_request.json` beside its lock file); `epoch` must be a `str`;
    /// `lock_wait` in seconds (`None`: the contract's 5 s).
    #[new]
    #[pyo3(signature = (marker, epoch, max_age_micros, lock_wait=None))]
    fn new(
        marker: PathBuf,
        epoch: &Bound<'_, PyAny>,
        max_age_micros: i64,
        lock_wait: Option<f64>,
    ) -> PyResult<Self> {
        if marker.file_name() != Some(OsStr::new(MARKER_FILE_NAME)) {
            return Err(PyValueError::new_err(format!(
                "a lease acts on the contract's marker, {MARKER_FILE_NAME}, not on {marker:?}"
            )));
        }
        let Ok(text) = epoch.cast::<PyString>() else {
            return Err(PyTypeError::new_err(format!(
                "a lease is stamped with a str epoch, and current_instantiation_epoch() \
                 returned {}",
                epoch.get_type().name()?
            )));
        };
        let mut options = lease::LeaseOptions::default();
        if let Some(wait) = lock_wait {
            options.lock_wait = seconds(wait, "lock_wait")?.unwrap_or(Duration::MAX);
        }
        options.max_age_micros = max_age_micros;
        options.epoch = Some(text_argument(text, "epoch")?.into_owned());
        let home = marker.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(LeaseOptions { home, options })
    }
}

/// A drain this process began exclusively, or whose token it was given. `hold()` keeps
/// it alive in the background (the core's [`HeldLease`]) until `release()`, or until
/// the object is freed, which releases a held lease (and leaves one not held in place,
/// for its token to be handed on).
#[pyclass(frozen, module = "drain_control._native")]
pub(super) struct Lease {
    lease: lease::Lease,
    /// `Some` while held.
    held: Mutex<Option<HeldLease>>,
    /// What the hold had found when it ended (`Some`: the lease was lost).
    lost_when_released: Mutex<Option<Option<Holder>>>,
}

/// A mutex's value, also after a panic of another holder.
pub(super) fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[pymethods]
impl Lease {
    /// The marker's `owner_token`: 32 lower-case hexadecimal digits.
    #[getter]
    fn token(&self) -> &str {
        self.lease.token()
    }

    /// The marker this lease is for.
    #[getter]
    fn path(&self) -> PathBuf {
        self.lease.marker().to_path_buf()
    }

    /// Whether `hold()` keeps the drain alive now.
    #[getter]
    fn held(&self) -> bool {
        locked(&self.held).is_some()
    }

    /// `None` unless the background keep-alive found the lease lost: then the
    /// `LeaseLostError` it found (its `holder`: who holds the drain now, `None` when the
    /// marker was removed).
    #[getter]
    fn lost(&self, py: Python<'_>) -> Option<Py<pyo3::exceptions::PyBaseException>> {
        let lost = match locked(&self.held).as_ref() {
            Some(held) => held.lost(),
            None => locked(&self.lost_when_released).clone(),
        }?;
        let message = LeaseError::Lost(lost.clone()).to_string();
        Some(lost_error(py, message, lost.as_ref()).into_value(py))
    }

    /// Re-writes the marker with a new `requested_at` while it carries this lease's
    /// token; returns the payload written. `LeaseLostError` otherwise, writing nothing.
    fn keep_alive<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let lease = &self.lease;
        let payload = py
            .detach(|| lease.keep_alive())
            .map_err(|error| lease_error(py, error))?;
        body_to_py(py, &payload.to_body())
    }

    /// Stops holding, and removes the marker only while it carries this lease's token;
    /// says whether it did. Never removes another's drain.
    fn release(&self, py: Python<'_>) -> PyResult<bool> {
        let held = locked(&self.held).take();
        if let Some(held) = &held {
            *locked(&self.lost_when_released) = held.lost();
        }
        let lease = &self.lease;
        py.detach(|| match held {
            Some(held) => held.release(),
            None => lease.release(),
        })
        .map_err(|error| lease_error(py, error))
    }

    /// Keeps the drain alive in the background, every quarter of the maximum age, until
    /// `release()`. A keep-alive that finds the lease lost stops (see `lost`). Holding
    /// twice is holding once.
    fn hold(&self) {
        let mut held = locked(&self.held);
        if held.is_none() {
            *held = Some(self.lease.clone().hold(None));
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "Lease(token={:?}, path={:?}, held={})",
            self.lease.token(),
            self.lease.marker(),
            py_bool(self.held())
        )
    }
}

impl Lease {
    pub(super) fn new(lease: lease::Lease) -> Lease {
        Lease {
            lease,
            held: Mutex::new(None),
            lost_when_released: Mutex::new(None),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let held = self.held.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(held) = held.take() {
            // The core's guard releases the drain as it is dropped: file I/O and a lock
            // wait, without the GIL.
            Python::attach(|py| py.detach(|| drop(held)));
        }
    }
}

/// The lease whose token is `token` (`InvalidLeaseTokenError` unless it has a token's
/// form), judged and waited for with `options`.
#[pyfunction]
pub(super) fn resume_lease(
    py: Python<'_>,
    options: &Bound<'_, LeaseOptions>,
    token: &str,
) -> PyResult<Lease> {
    let options = options.get();
    lease::Lease::resume(Some(&options.home), token, &options.options)
        .map(Lease::new)
        .map_err(|error| lease_error(py, error))
}
