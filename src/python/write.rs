//! Writing and clearing a marker: the payload checked before anything is touched, the
//! file I/O without the GIL, failures as the `OSError` or `ValueError` a caller expects.

use std::borrow::Cow;
use std::path::PathBuf;

use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString};

use super::convert::{body_to_py, write_error};
use crate::contract::MAX_MARKER_BYTES;
use crate::{Payload, Reading, Timestamp, fsio};

/// A text argument of a write, refused (`ValueError`, naming it) when it holds a lone
/// surrogate, which no UTF-8 marker can hold: such as `os.fsdecode` makes of bytes that
/// are not UTF-8. The original's writer would have escaped it as `\udcff`, which a
/// reader takes for a torn marker (contentless: a drain that never ends).
pub(super) fn text_argument<'a>(
    value: &'a Bound<'_, PyString>,
    name: &str,
) -> PyResult<Cow<'a, str>> {
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
pub(super) fn write_marker<'py>(
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
pub(super) fn check_payload(py: Python<'_>, payload: &Bound<'_, PyDict>) -> PyResult<()> {
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
    let read_back = match Reading::from_bytes(text.as_bytes()) {
        Reading::Body(body) => Some(body_to_py(py, &body)?),
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
        owner_token: None,
    }))
}

/// Writes `data` at `path` as the contract writes a marker (atomically and durably:
/// exclusive temp file, fsync, rename, folder fsync); `mode`: the new file's permission
/// bits, the temp file being `0600` until it gets them (`None`: an existing file's, else
/// `0644` less the umask). Failures raise `OSError` naming the path and the step.
#[pyfunction]
#[pyo3(signature = (path, data, mode=None))]
pub(super) fn write_file(
    py: Python<'_>,
    path: PathBuf,
    data: &[u8],
    mode: Option<u32>,
) -> PyResult<()> {
    py.detach(|| fsio::write_marker_with_mode(&path, data, mode))
        .map_err(|error| write_error(py, &error))
}

/// Removes the marker at `path`; whether there was one. Failures raise `OSError`.
#[pyfunction]
pub(super) fn remove_marker(py: Python<'_>, path: PathBuf) -> PyResult<bool> {
    py.detach(|| fsio::remove_marker(&path))
        .map_err(|error| write_error(py, &error))
}
