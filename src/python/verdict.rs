//! What the core concluded about one marker, as Python objects: its classification (the
//! one class that carries a verdict, also inside a watcher's change) and the warning it
//! deserves.

use pyo3::prelude::*;

use super::convert::{context, py_bool, read_to_py};
use crate::{Classified, MAX_AGE_MICROS, Verdict, Warning};

/// The read result and verdict of one marker: `classify_marker`'s result, and a
/// watcher's change's `classification`.
#[pyclass(frozen, module = "drain_control._native")]
pub(super) struct Classification {
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

impl Classification {
    pub(super) fn new(py: Python<'_>, classified: &Classified) -> PyResult<Self> {
        let Verdict {
            present,
            active,
            suppressed,
            epoch_stale,
            expired,
        } = classified.verdict;
        Ok(Classification {
            read: read_to_py(py, &classified.reading)?.unbind(),
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
pub(super) struct MarkerWarning {
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

/// Classifies marker bytes at `now_micros` (microseconds since the Unix epoch; `None`:
/// the system clock).
#[pyfunction]
#[pyo3(signature = (raw, current_epoch, now_micros=None, max_age_micros=MAX_AGE_MICROS))]
pub(super) fn classify(
    py: Python<'_>,
    raw: &[u8],
    current_epoch: &str,
    now_micros: Option<i64>,
    max_age_micros: i64,
) -> PyResult<Classification> {
    let context = context(current_epoch, now_micros, max_age_micros);
    Classification::new(py, &crate::classify(raw, &context))
}
