//! The Python extension module `drain_control._native`.
//!
//! A leaf over the core: it converts types and errors and releases the GIL around
//! every file I/O; it decides nothing. The drop-in module `drain_control` (Python,
//! in `python/drain_control/__init__.py`) reproduces the original module's call
//! structure, and hands what its host's functions returned to the core's rules here
//! ([`epoch_is_stale`], [`is_expired`], [`check_payload`]). For the four reads of the
//! gateway's hot path, a [`Poller`] checks in the module's namespace, at every call,
//! that nothing the original would consult is patched, so that a poll is one native
//! call; otherwise it hands the read to the module's Python functions.

use std::borrow::Cow;
use std::ffi::OsString;
use std::io;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyNameError, PyOSError, PyValueError};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyType};
use pyo3::{PyTraverseError, intern};
use rustix::fd::{AsRawFd, RawFd};
use serde_json::Value;

use crate::fsio::RawMarker;
use crate::marker::MAX_MARKER_BYTES;
use crate::{
    Body, Classified, Context, Error, MARKER_FILE_NAME, MAX_AGE_MICROS, MAX_AGE_SECONDS, Payload,
    Read, Timestamp, Verdict, Warning, epoch, fsio, home, json, marker, watch,
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

/// The home folder of `HERMES_HOME` (the value the caller read, `None` when unset), else
/// `~/.hermes`: the host's `get_hermes_home()`.
#[pyfunction]
fn home_folder(hermes_home: Option<OsString>) -> PathBuf {
    home::resolve_home_with(None, hermes_home.as_deref())
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

/// The core's epoch rule for the Python functions that follow the original's
/// expression `current and marker_epoch and marker_epoch != current` with the values a
/// host's functions gave: whether a marker whose `epoch` is `marker_epoch` is stale
/// against the current epoch `current`.
///
/// The core decides whenever it can hold the values: a `str` current epoch and a marker
/// epoch that is a JSON value (what a marker read from disk holds). What lies outside
/// (a host's `current_instantiation_epoch` that returns no `str`, a body of Python
/// objects from a host's `read_drain_request`) is judged by the original's expression
/// itself, with Python's truthiness and comparison.
#[pyfunction]
fn epoch_is_stale(current: &Bound<'_, PyAny>, marker_epoch: &Bound<'_, PyAny>) -> PyResult<bool> {
    let current_text = current
        .cast_exact::<PyString>()
        .ok()
        .and_then(|text| text.to_cow().ok());
    if let (Some(current_text), Some(value)) = (current_text, py_to_json(marker_epoch, 0)) {
        let mut body = Body::new();
        body.insert("epoch".to_owned(), value);
        let context = Context::new(&current_text, Timestamp::from_unix_micros(0));
        return Ok(marker::judge(Read::Body(body), &context)
            .verdict
            .epoch_stale);
    }
    Ok(current.is_truthy()? && marker_epoch.is_truthy()? && marker_epoch.ne(current)?)
}

/// The core's expiry rule for a `requested_at` that a host's `_parse_iso` or clock
/// gave: whether a marker requested `age_micros` microseconds ago is expired when the
/// maximum age is `max_age_micros`.
#[pyfunction]
fn is_expired(age_micros: i64, max_age_micros: i64) -> bool {
    // The marker the core judges: requested at the Unix epoch, judged `age_micros`
    // later, so that its age is exactly the one given.
    let requested = Timestamp::from_unix_micros(0);
    let mut body = Body::new();
    body.insert(
        "requested_at".to_owned(),
        Value::String(requested.to_isoformat()),
    );
    let now = Timestamp::from_unix_micros(age_micros);
    let context = Context::new("", now).with_max_age_micros(max_age_micros);
    marker::judge(Read::Body(body), &context).verdict.expired
}

/// The core's reading of a `requested_at` value: microseconds since the Unix epoch if it
/// is a non-empty `str` in the contract's timestamp subset (of Python's
/// `datetime.fromisoformat`, with the same meaning), else `None`.
#[pyfunction]
fn timestamp_micros(value: &Bound<'_, PyAny>) -> Option<i64> {
    let text = value.cast::<PyString>().ok()?.to_cow().ok()?;
    Timestamp::parse(&text).map(Timestamp::unix_micros)
}

/// The current time as the original's `datetime.now(timezone.utc).isoformat()`.
#[pyfunction]
fn now_isoformat() -> String {
    Timestamp::now().to_isoformat()
}

/// The warning for an expired marker that a host's `_parse_iso`, clock or maximum age
/// judged (the core's wording, without the marker path, which the original's
/// `_marker_is_expired(body)` does not know). Values are quoted with their control and
/// line-breaking characters escaped, so that none can forge a log line.
#[pyfunction]
fn expired_message(
    requested_at: &Bound<'_, PyAny>,
    age_seconds: f64,
    max_age_seconds: f64,
    principal: &Bound<'_, PyAny>,
) -> PyResult<String> {
    let principal = if principal.is_none() {
        "none".to_owned()
    } else {
        shown(principal)?
    };
    Ok(format!(
        "drain-control: ignoring expired drain marker: requested_at {} is {age_seconds:.0}s \
         old, over the max of {max_age_seconds:.0}s (principal {principal})",
        shown(requested_at)?,
    ))
}

/// A value for a log line: a `str` as Rust quotes it (as the core's warnings do),
/// anything else as its Python `repr`, escaped.
fn shown(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(format!("{:?}", text.to_string_lossy()));
    }
    let text = value.repr()?.to_string_lossy().into_owned();
    Ok(text
        .chars()
        .flat_map(|c| {
            let escape = c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
            let escaped: Vec<char> = if escape {
                c.escape_unicode().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect())
}

/// A Python value as a JSON value, when it is one exactly (`None`, `bool`, `int`,
/// finite `float`, `str` without lone surrogates, and lists and dicts of these with
/// `str` keys, at most [`marker::MAX_NESTING`] deep); `None` otherwise.
fn py_to_json(value: &Bound<'_, PyAny>, depth: usize) -> Option<Value> {
    if depth > marker::MAX_NESTING {
        return None;
    }
    if value.is_none() {
        return Some(Value::Null);
    }
    if let Ok(flag) = value.cast_exact::<PyBool>() {
        return Some(Value::Bool(flag.is_true()));
    }
    if value.cast_exact::<PyInt>().is_ok() {
        let text = value.str().ok()?;
        return serde_json::Number::from_str(&text.to_cow().ok()?)
            .ok()
            .map(Value::Number);
    }
    if let Ok(float) = value.cast_exact::<PyFloat>() {
        return serde_json::Number::from_f64(float.value()).map(Value::Number);
    }
    if let Ok(text) = value.cast_exact::<PyString>() {
        return text
            .to_cow()
            .ok()
            .map(|text| Value::String(text.into_owned()));
    }
    if let Ok(list) = value.cast_exact::<PyList>() {
        let items: Option<Vec<Value>> = list
            .iter()
            .map(|item| py_to_json(&item, depth + 1))
            .collect();
        return items.map(Value::Array);
    }
    if let Ok(dict) = value.cast_exact::<PyDict>() {
        let mut body = Body::new();
        for (key, item) in dict.iter() {
            let key = key
                .cast_exact::<PyString>()
                .ok()?
                .to_cow()
                .ok()?
                .into_owned();
            body.insert(key, py_to_json(&item, depth + 1)?);
        }
        return Some(Value::Object(body));
    }
    None
}

/// One of the four reads of a drop-in module, `poller[home]`: `drain_requested`,
/// `drain_notification_suppressed`, `read_drain_request` or `_active_drain_body`, in
/// one native call while nothing it depends on is patched. The gateway's hot path.
///
/// A subscript rather than a method: a call from Python passes its arguments in a new
/// tuple to a parser (the abi3 build for Python 3.9 has no vectorcall), while
/// `poller[home]` hands `home` over as it is: about 0.1 µs less per poll here.
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
struct Poller {
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

/// A name of the module's namespace that a [`Poller`] watches, with the module's own
/// object for it when it was known as the poller was made. A name the module binds on
/// first use (`datetime`...) may be unbound then: its own object is looked up in the
/// module's record, `_OWN`, once the namespace holds it.
struct Watched {
    name: CachedName,
    /// The module's own object, once known (recorded objects never change).
    own: OnceLock<Py<PyAny>>,
    /// The name in the module's record, for a name whose own object is not known yet.
    in_own: CachedName,
}

impl Watched {
    /// The address of the module's own object for this name, from its record (null
    /// while it has none: a name bound on first use, unbound); kept once known.
    #[cold]
    fn own_recorded(
        &self,
        py: Python<'_>,
        own: &Bound<'_, PyDict>,
    ) -> PyResult<*mut pyo3::ffi::PyObject> {
        let recorded = self.in_own.address(py, own)?;
        if !recorded.is_null() {
            // SAFETY: a live object of the record (the GIL is held): a new reference.
            let object = unsafe { Bound::from_borrowed_ptr(py, recorded) };
            let _ = self.own.set(object.unbind());
        }
        Ok(recorded)
    }
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

/// `pathlib.PosixPath`, once a home that is not a `str` has been seen.
static POSIX_PATH: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The address of `dict[key]` (null when absent), compared and never dereferenced: a
/// look-up without the reference counting of `PyDict::get_item`.
fn item_address(
    py: Python<'_>,
    dict: &Bound<'_, PyDict>,
    key: &Bound<'_, PyString>,
) -> PyResult<*mut pyo3::ffi::PyObject> {
    // SAFETY: `dict` and `key` are live objects and the GIL is held. The result is a
    // borrowed reference, only ever compared with the address of an object the caller
    // holds (two live objects never share an address), or made an owned reference at
    // once.
    let item = unsafe { pyo3::ffi::PyDict_GetItemWithError(dict.as_ptr(), key.as_ptr()) };
    // An absent name (a name bound on first use, unbound) is common: ask whether an
    // error is set before fetching one.
    // SAFETY: the GIL is held.
    if item.is_null() && !unsafe { pyo3::ffi::PyErr_Occurred() }.is_null() {
        return Err(PyErr::fetch(py));
    }
    Ok(item)
}

/// A name looked up in a dict, remembering where its entry was: the next look-up
/// reads that entry alone (`PyDict_Next` from its index), about a fifth of the cost of
/// a hashed look-up, the poll's main cost once it checks a dozen names.
///
/// Exact: an entry is used only when it holds this very key object (the interned
/// name), and a dict has one live entry per key, so its value is the name's value.
/// Anything else (the entry deleted, the table rebuilt by a resize, a key equal to the
/// name but another object) falls back to a hashed look-up, which finds the entry again.
struct CachedName {
    name: Py<PyString>,
    /// The entry's index in the dict's table, or -1.
    at: AtomicIsize,
}

impl CachedName {
    fn new(name: Bound<'_, PyString>) -> Self {
        CachedName {
            name: name.unbind(),
            at: AtomicIsize::new(-1),
        }
    }

    /// The address of `dict[name]` (null when absent); see [`item_address`].
    #[inline]
    fn address(
        &self,
        py: Python<'_>,
        dict: &Bound<'_, PyDict>,
    ) -> PyResult<*mut pyo3::ffi::PyObject> {
        match self.where_it_was(dict) {
            Some(value) => Ok(value),
            None => self.look_up(py, dict),
        }
    }

    /// The value of the entry where `name` was last found, if it is still there.
    #[inline]
    fn where_it_was(&self, dict: &Bound<'_, PyDict>) -> Option<*mut pyo3::ffi::PyObject> {
        let mut position = self.at.load(Ordering::Relaxed);
        if position < 0 {
            return None;
        }
        let (mut key, mut value) = (std::ptr::null_mut(), std::ptr::null_mut());
        // SAFETY: the GIL is held; PyDict_Next checks the index against the table (a
        // stale one gives another entry or none), and the borrowed key and value are
        // only compared, or the value made an owned reference at once.
        let found =
            unsafe { pyo3::ffi::PyDict_Next(dict.as_ptr(), &mut position, &mut key, &mut value) };
        (found != 0 && key == self.name.as_ptr()).then_some(value)
    }

    /// [`CachedName::address`] by a hashed look-up, remembering where the entry is.
    #[cold]
    #[inline(never)]
    fn look_up(
        &self,
        py: Python<'_>,
        dict: &Bound<'_, PyDict>,
    ) -> PyResult<*mut pyo3::ffi::PyObject> {
        let value = item_address(py, dict, self.name.bind(py))?;
        let at = match value.is_null() {
            true => -1,
            false => entry_index(dict, self.name.as_ptr()),
        };
        self.at.store(at, Ordering::Relaxed);
        Ok(value)
    }

    /// `dict[name]` as an owned reference; `NameError` when absent, as a global look-up.
    fn get<'py>(&self, py: Python<'py>, dict: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let value = self.address(py, dict)?;
        if value.is_null() {
            return Err(PyNameError::new_err(format!(
                "name '{}' is not defined",
                self.name.bind(py)
            )));
        }
        // SAFETY: a live object of the dict (the GIL is held): a new strong reference.
        Ok(unsafe { Bound::from_borrowed_ptr(py, value) })
    }
}

/// The index of the entry whose key is the object `key` in `dict`'s table, or -1 (a
/// walk of the table: only after the entry moved).
fn entry_index(dict: &Bound<'_, PyDict>, key: *mut pyo3::ffi::PyObject) -> isize {
    let mut position = 0;
    loop {
        let (mut found, mut value) = (std::ptr::null_mut(), std::ptr::null_mut());
        // SAFETY: the GIL is held; the borrowed key is only compared.
        if unsafe { pyo3::ffi::PyDict_Next(dict.as_ptr(), &mut position, &mut found, &mut value) }
            == 0
        {
            return -1;
        }
        if found == key {
            // PyDict_Next leaves `position` just past the entry it gave.
            return position - 1;
        }
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

/// The names of `names` as [`Watched`], each with its own object if `own` has it now.
fn watched(
    py: Python<'_>,
    own: &Bound<'_, PyDict>,
    names: Vec<String>,
) -> PyResult<Box<[Watched]>> {
    names
        .iter()
        .map(|name| {
            let name = PyString::intern(py, name);
            let watched = Watched {
                own: OnceLock::new(),
                in_own: CachedName::new(name.clone()),
                name: CachedName::new(name),
            };
            watched.own_recorded(py, own)?;
            Ok(watched)
        })
        .collect()
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
        let raw = py.detach(|| fsio::read_marker(&path));
        // Nothing in the context is consulted for an absent or unreadable marker, nor
        // for read_drain_request's read result.
        let unjudged = context("", Some(0), MAX_AGE_MICROS);
        if let ReadKind::Read = self.read {
            let inspection = crate::inspect_read(&path, raw, &unjudged);
            self.log_warning(py, inspection.warning)?;
            return read_to_py(py, &inspection.classified.read);
        }
        if let RawMarker::Absent | RawMarker::Unreadable(_) = raw {
            let (_, warning) = crate::inspect_verdict_read(&path, raw, &unjudged);
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
            let read = crate::inspect_read(&path, raw, &unjudged).classified.read;
            return self.hand_over(py, &self.tail, (read_to_py(py, &read)?, epoch));
        };
        let context = context(&epoch_text, None, MAX_AGE_MICROS);
        if let ReadKind::Active | ReadKind::Suppressed = self.read {
            // The verdict alone: no body is built.
            let (verdict, warning) = crate::inspect_verdict_read(&path, raw, &context);
            self.log_warning(py, warning)?;
            let answer = match self.read {
                ReadKind::Active => verdict.active,
                _ => verdict.suppressed,
            };
            return Ok(PyBool::new(py, answer).to_owned().into_any());
        }
        let inspection = crate::inspect_read(&path, raw, &context);
        self.log_warning(py, inspection.warning)?;
        let classified = inspection.classified;
        if !classified.verdict.active {
            return Ok(py.None().into_bound(py));
        }
        read_to_py(py, &classified.read)
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

/// A text argument of a write, refused (`ValueError`, naming it) when it holds a lone
/// surrogate, which no UTF-8 marker can hold: such as `os.fsdecode` makes of bytes that
/// are not UTF-8. The original's writer would have escaped it as `\udcff`, which a
/// reader takes for a torn marker (contentless: a drain that never ends).
fn text_argument<'a>(value: &'a Bound<'_, PyString>, name: &str) -> PyResult<Cow<'a, str>> {
    value.to_cow().map_err(|_| {
        PyValueError::new_err(format!(
            "{name} holds a lone surrogate (as os.fsdecode makes of bytes that are not \
             UTF-8): a reader would not read the marker back, so nothing was written"
        ))
    })
}

/// Writes a marker stamped with `epoch` and the current time at `path`, atomically,
/// and returns the payload written. A payload a reader would not read back (a text over
/// the 1 MiB a reader reads, a lone surrogate) is refused with `ValueError` before
/// anything is touched; failures raise `OSError` naming the marker and the step.
#[pyfunction]
fn write_marker<'py>(
    py: Python<'py>,
    path: PathBuf,
    principal: &Bound<'py, PyString>,
    suppress_notification: bool,
    epoch: &Bound<'py, PyString>,
) -> PyResult<Bound<'py, PyDict>> {
    let principal = text_argument(principal, "principal")?;
    let epoch = text_argument(epoch, "epoch")?;
    let payload = Payload::new(&principal, suppress_notification, &epoch, Timestamp::now());
    py.detach(|| crate::write_payload_to(&path, &payload))
        .map_err(|error| write_error(py, &error))?;
    body_to_py(py, &payload.to_body())
}

/// Refuses (`ValueError`, naming the field and the limit) a payload that a reader would
/// not read back as the same object once written as JSON (indent 2, UTF-8), before
/// anything is written; a value JSON cannot write raises as `json.dumps` does.
#[pyfunction]
fn check_payload(py: Python<'_>, payload: &Bound<'_, PyDict>) -> PyResult<()> {
    if let Some(payload) = typed_payload(payload)? {
        return payload
            .to_checked_bytes()
            .map(drop)
            .map_err(PyValueError::new_err);
    }
    // A payload of other values (a host's epoch function that returns no str...): the
    // JSON its writer makes, read back by the core.
    let kwargs = PyDict::new(py);
    kwargs.set_item(intern!(py, "indent"), 2)?;
    kwargs.set_item(intern!(py, "ensure_ascii"), false)?;
    let text = py
        .import(intern!(py, "json"))?
        .call_method(intern!(py, "dumps"), (payload,), Some(&kwargs))?
        .cast_into::<PyString>()?;
    let Ok(text) = text.to_cow() else {
        for (key, value) in payload.iter() {
            if let Ok(value) = value.cast::<PyString>() {
                text_argument(value, &key.str()?.to_string_lossy())?;
            }
        }
        return Err(PyValueError::new_err(
            "the payload holds a lone surrogate: a reader would not read the marker back",
        ));
    };
    if text.len() > MAX_MARKER_BYTES {
        return Err(PyValueError::new_err(format!(
            "the marker would be {} bytes, over the {MAX_MARKER_BYTES} bytes (1 MiB) a reader \
             reads; such a marker would read as contentless and drain for ever",
            text.len()
        )));
    }
    let read_back = match Read::from_bytes(text.as_bytes()) {
        Read::Body(body) => Some(body_to_py(py, &body)?),
        _ => None,
    };
    match read_back {
        Some(body) if body.eq(payload)? => Ok(()),
        _ => Err(PyValueError::new_err(
            "the marker would not read back as the payload written",
        )),
    }
}

/// The payload as the core's [`Payload`], when it has exactly its fields and types.
fn typed_payload(payload: &Bound<'_, PyDict>) -> PyResult<Option<Payload>> {
    const FIELDS: [&str; 5] = [
        "action",
        "requested_at",
        "principal",
        "epoch",
        "suppress_notification",
    ];
    if payload.len() != FIELDS.len() {
        return Ok(None);
    }
    let mut texts = Vec::with_capacity(4);
    let mut flag = None;
    for ((key, value), field) in payload.iter().zip(FIELDS) {
        if !key.cast_exact::<PyString>().is_ok_and(|key| key == field) {
            return Ok(None);
        }
        if field == "suppress_notification" {
            match value.cast_exact::<PyBool>() {
                Ok(value) => flag = Some(value.is_true()),
                Err(_) => return Ok(None),
            }
        } else {
            match value.cast_exact::<PyString>() {
                Ok(value) => texts.push(text_argument(value, field)?.into_owned()),
                Err(_) => return Ok(None),
            }
        }
    }
    let (Some(suppress_notification), [action, requested_at, principal, epoch]) =
        (flag, <[String; 4]>::try_from(texts).unwrap_or_default())
    else {
        return Ok(None);
    };
    Ok(Some(Payload {
        action,
        requested_at,
        principal,
        epoch,
        suppress_notification,
    }))
}

/// Writes `data` at `path` as the contract writes a marker (atomically and durably:
/// exclusive temp file, fsync, rename, folder fsync); `mode`: the new file's permission
/// bits, the temp file being `0600` until it gets them (`None`: an existing file's, else
/// `0644` less the umask). Failures raise `OSError` naming the path and the step.
#[pyfunction]
#[pyo3(signature = (path, data, mode=None))]
fn write_file(py: Python<'_>, path: PathBuf, data: &[u8], mode: Option<u32>) -> PyResult<()> {
    py.detach(|| fsio::write_marker_with_mode(&path, data, mode))
        .map_err(|error| write_error(py, &error))
}

/// Removes the marker at `path`; whether there was one. Failures raise `OSError`.
#[pyfunction]
fn remove_marker(py: Python<'_>, path: PathBuf) -> PyResult<bool> {
    py.detach(|| fsio::remove_marker(&path))
        .map_err(|error| write_error(py, &error))
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

/// The error of a write or a clear for Python: a refused payload is a `ValueError`
/// (naming the argument and the limit); anything else the `OSError` subclass of its errno
/// (`PermissionError`, `NotADirectoryError`...), with `errno`, `filename` the marker
/// path, and `strerror` the OS's text followed by the step that failed and the path it
/// acted on when that is not the marker: `[Errno 13] Permission denied (creating a
/// temporary file '/h/..drain_request_0.tmp'): '/h/.drain_request.json'`.
fn write_error(py: Python<'_>, error: &Error) -> PyErr {
    if error.is_refused_payload() {
        return PyValueError::new_err(error.detail());
    }
    let errno = error.raw_os_error().unwrap_or(match error.kind() {
        io::ErrorKind::InvalidInput => libc::EINVAL,
        _ => libc::EIO,
    });
    let os_text = match error.raw_os_error() {
        Some(code) => os_message(code),
        None => error.io_error().to_string(),
    };
    let step = error.step().describe();
    let strerror = if error.path() == error.marker() {
        format!("{os_text} ({step})")
    } else {
        format!("{os_text} ({step} {})", python_repr(py, error.path()))
    };
    PyOSError::new_err((errno, strerror, error.marker().as_os_str().to_os_string()))
}

/// A path as Python's `repr` of its `str` shows it (as `OSError` shows `filename`).
fn python_repr(py: Python<'_>, path: &Path) -> String {
    match path.as_os_str().into_pyobject(py).map(|text| text.repr()) {
        Ok(Ok(text)) => text.to_string_lossy().into_owned(),
        _ => format!("{path:?}"),
    }
}

/// The OS's text for an errno, as Python's `os.strerror` gives it.
fn os_message(code: i32) -> String {
    let text = io::Error::from_raw_os_error(code).to_string();
    match text.rsplit_once(" (os error ") {
        Some((message, _)) => message.to_owned(),
        None => text,
    }
}

/// A read result as the original's `read_drain_request` returns it: `None`, `{}` or the
/// object. An integer with more digits than Python converts from text
/// (`sys.get_int_max_str_digits()`, 4300 by default) makes `json.loads` raise
/// `ValueError`, which the original read as `{}`: so does this.
fn read_to_py<'py>(py: Python<'py>, read: &Read) -> PyResult<Bound<'py, PyAny>> {
    match read {
        Read::Absent => Ok(py.None().into_bound(py)),
        Read::Contentless => Ok(PyDict::new(py).into_any()),
        Read::Body(body) => match body_to_py(py, body) {
            Ok(dict) => Ok(dict.into_any()),
            Err(error) if error.is_instance_of::<PyValueError>(py) => {
                Ok(PyDict::new(py).into_any())
            }
            Err(error) => Err(error),
        },
    }
}

fn body_to_py<'py>(py: Python<'py>, body: &Body) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (key, value) in body {
        dict.set_item(PyString::new(py, key), value_to_py(py, value)?)?;
    }
    Ok(dict)
}

/// A JSON value as `json.loads` gives it: an integer of any size as an exact `int`
/// (`-0` is `0`), a number with a fraction or an exponent as the `float` of its text.
/// Depth is bounded by the parser (128).
fn value_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(flag) => PyBool::new(py, *flag).to_owned().into_any(),
        Value::Number(number) => {
            let text = number.as_str();
            if json::is_float_text(text) {
                // The core read only numbers it can hold as doubles.
                PyFloat::new(py, json::float_value(number).unwrap_or(f64::NAN)).into_any()
            } else if let Ok(int) = text.parse::<i64>() {
                int.into_pyobject(py)?.into_any()
            } else {
                // Python's own conversion, with its limit on digits (ValueError).
                py.get_type::<PyInt>().call1((text,))?
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
    module.add("MAX_MARKER_BYTES", MAX_MARKER_BYTES)?;
    module.add_function(wrap_pyfunction!(marker_path, module)?)?;
    module.add_function(wrap_pyfunction!(home_folder, module)?)?;
    module.add_function(wrap_pyfunction!(compose_epoch, module)?)?;
    module.add_function(wrap_pyfunction!(kernel_boot_time, module)?)?;
    module.add_function(wrap_pyfunction!(classify, module)?)?;
    module.add_function(wrap_pyfunction!(epoch_is_stale, module)?)?;
    module.add_function(wrap_pyfunction!(is_expired, module)?)?;
    module.add_function(wrap_pyfunction!(timestamp_micros, module)?)?;
    module.add_function(wrap_pyfunction!(now_isoformat, module)?)?;
    module.add_function(wrap_pyfunction!(expired_message, module)?)?;
    module.add_function(wrap_pyfunction!(write_marker, module)?)?;
    module.add_function(wrap_pyfunction!(check_payload, module)?)?;
    module.add_function(wrap_pyfunction!(write_file, module)?)?;
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
    fn is_expired_is_the_cores_rule_over_an_age() {
        assert!(!is_expired(MAX_AGE_MICROS, MAX_AGE_MICROS), "on the hour");
        assert!(is_expired(MAX_AGE_MICROS + 1, MAX_AGE_MICROS));
        assert!(!is_expired(-5, 0), "from the future");
        assert!(is_expired(0, i64::MIN), "a NaN maximum expires everything");
        assert!(
            !is_expired(i64::MAX - 1, i64::MAX),
            "an infinite one nothing"
        );
        assert!(is_expired(90_000_000, 60_000_000));
    }

    #[test]
    fn marker_path_prefers_explicit_then_variable() {
        let explicit = marker_path(Some(PathBuf::from("/a")), Some(" /b ".into()));
        assert_eq!(explicit, Path::new("/a/.drain_request.json"));
        let variable = marker_path(None, Some(" /b \n".into()));
        assert_eq!(variable, Path::new("/b/.drain_request.json"));
    }
}
