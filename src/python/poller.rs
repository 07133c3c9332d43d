//! The poller: the four reads of the gateway's hot path (`drain_requested`...) in one
//! native call each, while nothing they depend on in the module's namespace is patched.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use pyo3::exceptions::PyValueError;
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyString, PyType};
use pyo3::{PyTraverseError, intern};

use super::convert::{context, read_to_py};
use super::names::{CachedName, Watched, watched};
use super::verdict::MarkerWarning;
use crate::inspect::Snapshot;
use crate::{MAX_AGE_MICROS, Warning, fsio};

/// One of the four reads of a drop-in module, `poller[home]`: `drain_requested`,
/// `drain_notification_suppressed`, `read_drain_request` or `_active_drain_body`, in
/// one native call while nothing it depends on is patched. The gateway's hot path.
///
/// A subscript rather than a method: a call from Python passes its arguments in a new
/// tuple to a parser (the abi3 build for Python 3.9 has no vectorcall), while
/// `poller[home]` hands `home` over as it is.
///
/// The original's functions look up, at every call, the module-level names they use,
/// so a host's replacement of any of them takes effect there. A poller does the same,
/// in the order the original's call tree reaches them, and with one dictionary look-up
/// per name decides whether each is still the module's own object (the module keeps a
/// record of those, `_OWN`; a name it binds on first use counts as its own while
/// unbound):
///
/// - `calls`: the module's functions above the read in the original's call tree
///   (`_active_drain_body`, `read_drain_request`). If a host replaced one, the read is
///   handed to `fallback`, the module's Python function that makes the original's calls.
/// - `path` (and `home`, consulted only when `home` is `None`): `drain_request_path`,
///   `_DRAIN_REQUEST_FILENAME`, `get_hermes_home`. While they are the module's own, the
///   marker path is resolved here, without building a `pathlib.Path`; otherwise the
///   module's `drain_request_path(home)` is called and its result read.
/// - then, once the read found a marker to judge (never for `read_drain_request`, which
///   judges none), `current_instantiation_epoch()` is called, as the original called it
///   only then; and `judge`: `_marker_is_expired` and what it consults (`_parse_iso`,
///   `datetime`, `timezone`, `DRAIN_REQUEST_MAX_AGE_SECONDS`). If a host replaced one, or
///   the epoch is not a `str`, the body read is handed with the epoch to `tail`, the
///   module's Python function that makes the rest of the original's calls (with the
///   core's rules).
///
/// A missing name raises `NameError`, as a global look-up would. The warning a reading
/// deserves goes to the module's `_log_warning`.
///
/// The conversions of the last home and the last epoch are kept: a `str` or a
/// `pathlib.PosixPath` is immutable, so the same object always converts to the same
/// path. Only the conversion is kept: `HERMES_HOME` is read at every call when no home
/// is given.
#[pyclass(frozen, module = "drain_control._native")]
pub(super) struct Poller {
    /// The module's `globals()`.
    namespace: Py<PyDict>,
    /// The module's record of its own objects, `_OWN`.
    own: Py<PyDict>,
    read: ReadKind,
    calls: Box<[Watched]>,
    path: Box<[Watched]>,
    home: Box<[Watched]>,
    judge: Box<[Watched]>,
    fallback: Option<Py<PyAny>>,
    tail: Option<Py<PyAny>>,
    names: CalledNames,
    /// Whether `_bind_for_judging` was called (see [`Poller::bind_for_judging`]).
    bound_for_judging: AtomicBool,
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

#[pymethods]
impl Poller {
    /// `namespace`: the module's `globals()`; `own`: its record of its own objects;
    /// `read`: `"active"`, `"suppressed"`, `"read"` or `"active_body"` (see
    /// [`ReadKind`]); the names and functions as [`Poller`] describes them.
    #[new]
    #[pyo3(signature = (namespace, own, read, *, calls, path, home, judge, fallback, tail))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        namespace: Bound<'_, PyDict>,
        own: Bound<'_, PyDict>,
        read: &str,
        calls: Vec<String>,
        path: Vec<String>,
        home: Vec<String>,
        judge: Vec<String>,
        fallback: Option<Py<PyAny>>,
        tail: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let read = match read {
            "active" => ReadKind::Active,
            "suppressed" => ReadKind::Suppressed,
            "read" => ReadKind::Read,
            "active_body" => ReadKind::ActiveBody,
            _ => return Err(PyValueError::new_err(format!("unknown read {read:?}"))),
        };
        Ok(Poller {
            calls: watched(py, &own, calls)?,
            path: watched(py, &own, path)?,
            home: watched(py, &own, home)?,
            judge: watched(py, &own, judge)?,
            namespace: namespace.unbind(),
            own: own.unbind(),
            read,
            fallback,
            tail,
            names: CalledNames::new(py),
            bound_for_judging: AtomicBool::new(false),
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
        if !self.unpatched(py, &self.calls)? {
            return self.hand_over(py, &self.fallback, (home,));
        }
        let path = self.marker_path(py, home)?;
        let snapshot = Snapshot::new(&path, py.detach(|| fsio::read_marker(&path)));
        // Nothing in the context is consulted for an absent or unreadable marker, nor
        // for read_drain_request's read result.
        let unjudged = context("", Some(0), MAX_AGE_MICROS);
        if let ReadKind::Read = self.read {
            let inspection = snapshot.judge(&unjudged);
            self.log_warning(py, inspection.warning)?;
            return read_to_py(py, &inspection.classified.reading);
        }
        if !snapshot.is_present() {
            let (_, warning) = snapshot.verdict(&unjudged);
            self.log_warning(py, warning)?;
            return Ok(self.nothing(py));
        }
        let epoch = self
            .lookup(py, &self.names.current_instantiation_epoch)?
            .call0()?;
        self.bind_for_judging(py)?;
        let epoch_text = match self.unpatched(py, &self.judge)? {
            true => self.epoch_text(&epoch),
            false => None,
        };
        let Some(epoch_text) = epoch_text else {
            // A host replaced something the judging consults, or its epoch is no str:
            // the module's Python function judges, as the original's code would.
            let read = snapshot.judge(&unjudged).classified.reading;
            return self.hand_over(py, &self.tail, (read_to_py(py, &read)?, epoch));
        };
        let context = context(&epoch_text, None, MAX_AGE_MICROS);
        if let ReadKind::Active | ReadKind::Suppressed = self.read {
            // The verdict alone: no body is built.
            let (verdict, warning) = snapshot.verdict(&context);
            self.log_warning(py, warning)?;
            let answer = match self.read {
                ReadKind::Active => verdict.active,
                _ => verdict.suppressed,
            };
            return Ok(PyBool::new(py, answer).to_owned().into_any());
        }
        let inspection = snapshot.judge(&context);
        self.log_warning(py, inspection.warning)?;
        let classified = inspection.classified;
        if !classified.verdict.active {
            return Ok(py.None().into_bound(py));
        }
        read_to_py(py, &classified.reading)
    }

    /// The module's namespace holds this poller: a cycle the garbage collector must see
    /// to free a module nobody uses any more.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.namespace)?;
        visit.call(&self.own)?;
        for watched in [&self.calls, &self.path, &self.home, &self.judge]
            .into_iter()
            .flat_map(|names| names.iter())
        {
            visit.call(watched.own.get())?;
        }
        visit.call(&self.fallback)?;
        visit.call(&self.tail)?;
        Ok(())
    }
}

impl Poller {
    /// The module-level `name` (one of the poller's [`CachedName`]s), as a global
    /// look-up reads it.
    fn lookup<'py>(&self, py: Python<'py>, name: &CachedName) -> PyResult<Bound<'py, PyAny>> {
        name.get(py, self.namespace.bind(py))
    }

    /// Whether every name of `names` is still bound to the module's own object (or,
    /// for a name the module binds on first use, still unbound).
    fn unpatched(&self, py: Python<'_>, names: &[Watched]) -> PyResult<bool> {
        let namespace = self.namespace.bind(py);
        for watched in names {
            let current = match watched.name.where_it_was(namespace) {
                Some(current) => current,
                None => watched.name.look_up(py, namespace)?,
            };
            let own = match watched.own.get() {
                Some(own) => own.as_ptr(),
                None if current.is_null() => continue,
                None => watched.own_recorded(py, self.own.bind(py))?,
            };
            if current != own {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Before the first marker is judged: the module binds the names its
    /// `_marker_is_expired` reads that it binds on first use (`datetime`, `timezone`),
    /// as the original has them bound; a bound name costs the check above less than an
    /// absent one (a hashed look-up that misses at every poll).
    fn bind_for_judging(&self, py: Python<'_>) -> PyResult<()> {
        if self.bound_for_judging.load(Ordering::Relaxed) {
            return Ok(());
        }
        // Only while one of them was never bound (another poller may have bound them).
        let (namespace, own) = (self.namespace.bind(py), self.own.bind(py));
        let mut unbound = false;
        for watched in self
            .judge
            .iter()
            .filter(|watched| watched.own.get().is_none())
        {
            unbound |= watched.name.address(py, namespace)?.is_null()
                && watched.in_own.address(py, own)?.is_null();
        }
        if unbound {
            self.lookup(py, &self.names.bind_for_judging)?.call0()?;
        }
        self.bound_for_judging.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn last(&self) -> std::sync::MutexGuard<'_, Last> {
        self.last.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Calls the module's Python function `function` (the fallback or the tail).
    fn hand_over<'py>(
        &self,
        py: Python<'py>,
        function: &Option<Py<PyAny>>,
        args: impl pyo3::call::PyCallArgs<'py>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match function {
            Some(function) => function.bind(py).call1(args),
            None => Err(PyValueError::new_err("this read has no Python function")),
        }
    }

    /// The marker path of `home`, as the module's `drain_request_path(home)` gives it.
    fn marker_path(&self, py: Python<'_>, home: &Bound<'_, PyAny>) -> PyResult<MarkerPath> {
        let own_path = self.unpatched(py, &self.path)?
            && (!home.is_none() || self.unpatched(py, &self.home)?);
        if !own_path {
            let path_fn = self.lookup(py, &self.names.drain_request_path)?;
            return Ok(MarkerPath::Resolved(
                path_fn.call1((home,))?.extract::<PathBuf>()?,
            ));
        }
        let kept = match &self.last().home {
            Some((object, path)) if object.is(home) => Some(path.clone()),
            _ => None,
        };
        match kept {
            Some(path) => Ok(MarkerPath::Kept(path)),
            None => self.convert_home(py, home),
        }
    }

    /// The epoch's text, when it is a `str` the core can hold (else the tail judges).
    fn epoch_text(&self, epoch: &Bound<'_, PyAny>) -> Option<Arc<str>> {
        if !epoch.is_exact_instance_of::<PyString>() {
            return None;
        }
        if let Some((object, text)) = &self.last().epoch
            && object.is(epoch)
        {
            return Some(text.clone());
        }
        let text: Arc<str> = Arc::from(&*epoch.cast::<PyString>().ok()?.to_cow().ok()?);
        let previous = self
            .last()
            .epoch
            .replace((epoch.clone().unbind(), text.clone()));
        drop(previous); // after the lock is released
        Some(text)
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

    /// Hands the warning, if any, to the module's `_log_warning`. `read_drain_request`
    /// judges nothing, so it tells only of an unreadable marker.
    fn log_warning(&self, py: Python<'_>, warning: Option<Warning>) -> PyResult<()> {
        let Some(warning) = warning else {
            return Ok(());
        };
        if let (ReadKind::Read, Warning::Expired { .. }) = (self.read, &warning) {
            return Ok(());
        }
        let log_warning = self.lookup(py, &self.names.log_warning)?;
        log_warning.call1((MarkerWarning::from(warning),))?;
        Ok(())
    }

    /// The answer for a marker that is absent or unreadable (already logged).
    fn nothing<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        match self.read {
            ReadKind::Active | ReadKind::Suppressed => PyBool::new(py, false).to_owned().into_any(),
            ReadKind::Read | ReadKind::ActiveBody => py.None().into_bound(py),
        }
    }
}

/// The names a [`Poller`] calls or hands a warning to.
struct CalledNames {
    drain_request_path: CachedName,
    current_instantiation_epoch: CachedName,
    log_warning: CachedName,
    bind_for_judging: CachedName,
}

impl CalledNames {
    fn new(py: Python<'_>) -> Self {
        CalledNames {
            drain_request_path: CachedName::new(PyString::intern(py, "drain_request_path")),
            current_instantiation_epoch: CachedName::new(PyString::intern(
                py,
                "current_instantiation_epoch",
            )),
            log_warning: CachedName::new(PyString::intern(py, "_log_warning")),
            bind_for_judging: CachedName::new(PyString::intern(py, "_bind_for_judging")),
        }
    }
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

/// `pathlib.PosixPath`, once a home that is not a `str` has been seen.
static POSIX_PATH: PyOnceLock<Py<PyType>> = PyOnceLock::new();

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
