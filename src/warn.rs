//! The two warnings the contract asks for, and their deduplication.
//!
//! A gateway polls; a warning per poll would bury the log. So an unreadable marker is
//! reported once per distinct failure and an expired one once per `requested_at`.
//! The core says what to warn about and how; each logging front end (the `log`
//! facade here, Python's `logging` in the wheel) keeps its own record of what it
//! already said.

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::sync::Mutex;

use serde_json::Value;

/// Something an operator should hear about once.
#[derive(Clone, Debug, PartialEq)]
pub enum Warning {
    /// The marker path holds something that cannot be read; it reads as absent.
    Unreadable {
        /// The marker path.
        path: PathBuf,
        /// Why, as the OS or the file-type check put it.
        error: String,
    },
    /// A marker older than the maximum age; it is ignored.
    Expired {
        /// The marker path.
        path: PathBuf,
        /// The marker's `requested_at`, verbatim.
        requested_at: String,
        /// How long ago that was, in microseconds.
        age_micros: i64,
        /// The maximum age, in microseconds.
        max_age_micros: i64,
        /// The marker's `principal`, if it has one.
        principal: Option<Value>,
    },
}

impl Warning {
    /// What makes two warnings "the same" for deduplication: the path and failure for
    /// an unreadable marker, the `requested_at` for an expired one (a re-write that
    /// keeps the drain alive gets a new timestamp, and a new warning when it expires).
    pub fn dedupe_key(&self) -> String {
        match self {
            Warning::Unreadable { path, error } => format!("unreadable\0{path:?}\0{error}"),
            Warning::Expired { requested_at, .. } => requested_at.clone(),
        }
    }
}

impl fmt::Display for Warning {
    /// Paths and principals are printed with their control characters escaped, so a
    /// hostile value cannot forge a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Unreadable { path, error } => {
                write!(
                    f,
                    "drain-control: failed to read {path:?}: {}",
                    error.escape_debug()
                )
            }
            Warning::Expired {
                path,
                requested_at,
                age_micros,
                max_age_micros,
                principal,
            } => {
                let principal = match principal {
                    Some(Value::String(name)) => format!("{name:?}"),
                    // JSON text escapes only C0 controls: a C1 control (U+0085 is a
                    // line break to many readers) or U+2028/U+2029 in a non-string
                    // principal would reach the log raw, so escape what JSON left.
                    Some(other) => escape_line_breaking(&other.to_string()),
                    None => "none".to_owned(),
                };
                write!(
                    f,
                    "drain-control: ignoring expired drain marker {path:?}: \
                     requested_at {requested_at:?} is {:.0}s old, over the max of {:.0}s \
                     (principal {principal})",
                    *age_micros as f64 / 1e6,
                    *max_age_micros as f64 / 1e6,
                )
            }
        }
    }
}

/// `text` with every control character and Unicode line or paragraph separator
/// escaped as Rust's `Debug` writes them (`\u{85}`), everything else as it is.
fn escape_line_breaking(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            escaped.extend(c.escape_unicode());
        } else {
            escaped.push(c);
        }
    }
    escaped
}

/// Logs `warning` through the `log` facade unless this process already did.
pub(crate) fn log_once(warning: &Warning) {
    if !log::log_enabled!(log::Level::Warn) {
        return;
    }
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let first = {
        let mut guard = SEEN.lock().unwrap_or_else(|poison| poison.into_inner());
        let seen = guard.get_or_insert_with(HashSet::new);
        // Bounded: a process that meets endless distinct failures repeats itself
        // rather than growing without limit.
        if seen.len() >= 1024 {
            seen.clear();
        }
        seen.insert(warning.dedupe_key())
    };
    if first {
        log::warn!("{warning}");
    }
}
