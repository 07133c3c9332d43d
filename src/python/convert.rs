//! Conversions between the core's values and Python's, and the core's errors as Python
//! exceptions, so that every other file here speaks in the core's types.

use std::io;
use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};
use serde_json::Value;

use crate::{Body, Context, Error, Reading, Timestamp, json};

/// A read result as the original's `read_drain_request` returns it: `None`, `{}` or the
/// object. An integer with more digits than Python converts from text
/// (`sys.get_int_max_str_digits()`, 4300 by default) makes `json.loads` raise
/// `ValueError`, which the original read as `{}`: so does this.
pub(super) fn read_to_py<'py>(py: Python<'py>, read: &Reading) -> PyResult<Bound<'py, PyAny>> {
    match read {
        Reading::Absent => Ok(py.None().into_bound(py)),
        Reading::Contentless => Ok(PyDict::new(py).into_any()),
        Reading::Body(body) => match body_to_py(py, body) {
            Ok(dict) => Ok(dict.into_any()),
            Err(error) if error.is_instance_of::<PyValueError>(py) => {
                Ok(PyDict::new(py).into_any())
            }
            Err(error) => Err(error),
        },
    }
}

/// A marker's object as a `dict`, its values as `json.loads` gives them.
pub(super) fn body_to_py<'py>(py: Python<'py>, body: &Body) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (key, value) in body {
        dict.set_item(PyString::new(py, key), value_to_py(py, value)?)?;
    }
    Ok(dict)
}

/// A JSON value as `json.loads` gives it: an integer of any size as an exact `int`
/// (`-0` is `0`), a number with a fraction or an exponent as the `float` of its text.
/// Depth is bounded by the parser (128).
pub(super) fn value_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
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

/// A Python value as a JSON value, when it is one exactly (`None`, `bool`, `int`,
/// finite `float`, `str` without lone surrogates, and lists and dicts of these with
/// `str` keys, at most [`crate::MAX_NESTING`] deep); `None` otherwise.
pub(super) fn py_to_json(value: &Bound<'_, PyAny>, depth: usize) -> Option<Value> {
    if depth > crate::MAX_NESTING {
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

/// A number of seconds as a `Duration` (`what` names it in the `ValueError` for a
/// negative or NaN one); `None` for values too large to matter, such as `math.inf`.
pub(super) fn seconds(value: f64, what: &str) -> PyResult<Option<Duration>> {
    if value.is_nan() || value < 0.0 {
        return Err(PyValueError::new_err(format!(
            "{what} must be a non-negative number of seconds, got {value}"
        )));
    }
    Ok(Duration::try_from_secs_f64(value).ok())
}

/// A `bool` as Python spells it, for the `__repr__`s.
pub(super) fn py_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

/// The core's context for a judgement against `current_epoch` at `now_micros`
/// (microseconds since the Unix epoch; `None`: the system clock).
pub(super) fn context(
    current_epoch: &str,
    now_micros: Option<i64>,
    max_age_micros: i64,
) -> Context<'_> {
    let now = now_micros.map_or_else(Timestamp::now, Timestamp::from_unix_micros);
    Context::new(current_epoch, now).with_max_age_micros(max_age_micros)
}

/// The error of a write or a clear for Python: a refused payload is a `ValueError`
/// (naming the argument and the limit); anything else the `OSError` subclass of its errno
/// (`PermissionError`, `NotADirectoryError`...), with `errno`, `filename` the marker
/// path, and `strerror` the OS's text followed by the step that failed and the path it
/// acted on when that is not the marker: `[Errno 13] Permission denied (creating a
/// temporary file '/h/..drain_request_0.tmp'): '/h/.drain_request.json'`.
pub(super) fn write_error(py: Python<'_>, error: &Error) -> PyErr {
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

/// An `OSError` for an error of the watcher's own system calls.
pub(super) fn io_os_error(error: &io::Error, path: &Path) -> PyErr {
    match error.raw_os_error() {
        Some(code) => PyOSError::new_err((code, os_message(code), path.as_os_str().to_owned())),
        None => PyOSError::new_err(error.to_string()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_message_drops_the_code_suffix() {
        assert_eq!(os_message(libc::EACCES), "Permission denied");
        assert_eq!(os_message(libc::ENOTDIR), "Not a directory");
    }
}
