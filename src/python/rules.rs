//! The core's rules for the values a host's functions gave the Python side (its epoch,
//! its `_parse_iso`, its clock), so that a patched module still judges as the core does.

use pyo3::prelude::*;
use pyo3::types::PyString;
use serde_json::Value;

use super::convert::py_to_json;
use crate::{Body, Context, Reading, Timestamp};

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
pub(super) fn epoch_is_stale(
    current: &Bound<'_, PyAny>,
    marker_epoch: &Bound<'_, PyAny>,
) -> PyResult<bool> {
    let current_text = current
        .cast_exact::<PyString>()
        .ok()
        .and_then(|text| text.to_cow().ok());
    if let (Some(current_text), Some(value)) = (current_text, py_to_json(marker_epoch, 0)) {
        let mut body = Body::new();
        body.insert(crate::contract::field::EPOCH.to_owned(), value);
        let context = Context::new(&current_text, Timestamp::from_unix_micros(0));
        return Ok(crate::judge(Reading::Body(body), &context)
            .verdict
            .epoch_stale);
    }
    Ok(current.is_truthy()? && marker_epoch.is_truthy()? && marker_epoch.ne(current)?)
}

/// The core's expiry rule for a `requested_at` that a host's `_parse_iso` or clock
/// gave: whether a marker requested `age_micros` microseconds ago is expired when the
/// maximum age is `max_age_micros`.
#[pyfunction]
pub(super) fn is_expired(age_micros: i64, max_age_micros: i64) -> bool {
    // The marker the core judges: requested at the Unix epoch, judged `age_micros`
    // later, so that its age is exactly the one given.
    let requested = Timestamp::from_unix_micros(0);
    let mut body = Body::new();
    body.insert(
        crate::contract::field::REQUESTED_AT.to_owned(),
        Value::String(requested.to_isoformat()),
    );
    let now = Timestamp::from_unix_micros(age_micros);
    let context = Context::new("", now).with_max_age_micros(max_age_micros);
    crate::judge(Reading::Body(body), &context).verdict.expired
}

/// The core's reading of a `requested_at` value: microseconds since the Unix epoch if it
/// is a non-empty `str` in the contract's timestamp subset (of Python's
/// `datetime.fromisoformat`, with the same meaning), else `None`.
#[pyfunction]
pub(super) fn timestamp_micros(value: &Bound<'_, PyAny>) -> Option<i64> {
    let text = value.cast::<PyString>().ok()?.to_cow().ok()?;
    Timestamp::parse(&text).map(Timestamp::unix_micros)
}

/// The current time as the original's `datetime.now(timezone.utc).isoformat()`.
#[pyfunction]
pub(super) fn now_isoformat() -> String {
    Timestamp::now().to_isoformat()
}

/// The warning for an expired marker that a host's `_parse_iso`, clock or maximum age
/// judged (the core's wording, without the marker path, which the original's
/// `_marker_is_expired(body)` does not know). Values are quoted with their control and
/// line-breaking characters escaped, so that none can forge a log line.
#[pyfunction]
pub(super) fn expired_message(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MAX_AGE_MICROS;

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
}
