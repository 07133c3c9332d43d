//! Reading a module's namespace as a global look-up does, for less than a hashed
//! look-up per name: the poller checks a dozen names at every poll.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicIsize, Ordering};

use pyo3::exceptions::PyNameError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

/// A name looked up in a dict, remembering where its entry was: the next look-up
/// reads that entry alone (`PyDict_Next` from its index) instead of hashing again, as
/// the look-ups of the dozen names a poll checks are most of its cost.
///
/// Exact: an entry is used only when it holds this very key object (the interned
/// name), and a dict has one live entry per key, so its value is the name's value.
/// Anything else (the entry deleted, the table rebuilt by a resize, a key equal to the
/// name but another object) falls back to a hashed look-up, which finds the entry again.
pub(super) struct CachedName {
    name: Py<PyString>,
    /// The entry's index in the dict's table, or -1.
    at: AtomicIsize,
}

impl CachedName {
    pub(super) fn new(name: Bound<'_, PyString>) -> Self {
        CachedName {
            name: name.unbind(),
            at: AtomicIsize::new(-1),
        }
    }

    /// The address of `dict[name]` (null when absent); see [`item_address`].
    #[inline]
    pub(super) fn address(
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
    pub(super) fn where_it_was(
        &self,
        dict: &Bound<'_, PyDict>,
    ) -> Option<*mut pyo3::ffi::PyObject> {
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
    pub(super) fn look_up(
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
    pub(super) fn get<'py>(
        &self,
        py: Python<'py>,
        dict: &Bound<'py, PyDict>,
    ) -> PyResult<Bound<'py, PyAny>> {
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

/// A name of the module's namespace that a [`Poller`](super::poller::Poller) watches, with the module's own
/// object for it when it was known as the poller was made. A name the module binds on
/// first use (`datetime`...) may be unbound then: its own object is looked up in the
/// module's record, `_OWN`, once the namespace holds it.
pub(super) struct Watched {
    pub(super) name: CachedName,
    /// The module's own object, once known (recorded objects never change).
    pub(super) own: OnceLock<Py<PyAny>>,
    /// The name in the module's record, for a name whose own object is not known yet.
    pub(super) in_own: CachedName,
}

impl Watched {
    /// The address of the module's own object for this name, from its record (null
    /// while it has none: a name bound on first use, unbound); kept once known.
    #[cold]
    pub(super) fn own_recorded(
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

/// The names of `names` as [`Watched`], each with its own object if `own` has it now.
pub(super) fn watched(
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
