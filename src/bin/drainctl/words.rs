//! How a judged marker is said: one line of prose, or one JSON object. Every verdict
//! comes from the library; this only words it.

use std::path::Path;

use serde_json::{Value, json};

use drain_control::contract::field;
use drain_control::lease::Holder;
use drain_control::{
    Classified, MARKER_FILE_NAME, MAX_AGE_MICROS, Reading, State, Timestamp, epoch,
};

/// How many characters of a marker's value prose shows before it shortens it.
pub const SHOWN_CHARS: usize = 60;

/// A marker as judged at one moment, with what the reading met on the way.
pub struct Judged<'a> {
    pub classified: &'a Classified,
    /// When it was judged.
    pub at: Timestamp,
    /// Why the marker could not be read (it then reads as absent), if it could not.
    pub unreadable: Option<&'a str>,
    /// False when the home folder does not exist (asked only of an absent marker).
    pub home_exists: bool,
}

impl<'a> Judged<'a> {
    /// A marker that was read (or written) in a home that exists.
    pub fn new(classified: &'a Classified, at: Timestamp) -> Judged<'a> {
        Judged {
            classified,
            at,
            unreadable: None,
            home_exists: true,
        }
    }
}

pub fn lossy(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The machine-readable form of a judged marker, the same for `status`, `begin` and
/// each line of `watch`. Values are whole here; only prose shortens them.
pub fn report(home: &Path, judged: &Judged<'_>) -> Value {
    let classified = judged.classified;
    let verdict = &classified.verdict;
    json!({
        "state": classified.state().as_str(),
        "draining": verdict.active,
        "suppressed": verdict.suppressed,
        "present": verdict.present,
        "epoch_stale": verdict.epoch_stale,
        "expired": verdict.expired,
        "marker": classified.reading.to_json(),
        "expires_at": classified.expires_at.map(|at| at.to_isoformat()),
        "at": judged.at.to_isoformat(),
        "epoch": epoch::current(),
        "home": lossy(home),
        "home_exists": judged.home_exists,
        "path": lossy(&home.join(MARKER_FILE_NAME)),
        "unreadable": judged.unreadable,
        "message": describe(home, judged),
    })
}

/// Who holds a drain, for `--json`.
pub fn holder(holder: &Holder) -> Value {
    json!({
        "principal": holder.principal,
        "requested_at": holder.requested_at,
        "owned": holder.owned,
        "state": holder.state.as_str(),
    })
}

/// What an unreadable marker means, in one line: never "no marker".
pub fn unreadable(marker: &Path, reason: &str) -> String {
    format!(
        "marker unreadable: {} (marker {marker:?}; gateways treat it as absent and do not \
         drain)",
        reason.escape_debug()
    )
}

/// What the state means, in one line of prose.
pub fn describe(home: &Path, judged: &Judged<'_>) -> String {
    let classified = judged.classified;
    let at = judged.at;
    if let Some(reason) = judged.unreadable {
        return unreadable(&home.join(MARKER_FILE_NAME), reason);
    }
    let body = match &classified.reading {
        Reading::Absent if !judged.home_exists => {
            return format!("not draining (home {home:?} does not exist)");
        }
        Reading::Absent => return "not draining: no marker".to_owned(),
        Reading::Contentless if classified.verdict.active => {
            return "draining: the marker is unreadable as JSON (fail-safe)".to_owned();
        }
        Reading::Contentless => return "not draining: contentless marker ignored".to_owned(),
        Reading::Body(body) => body,
    };
    let value_of = |name: &str| {
        body.get(name)
            .map(show)
            .unwrap_or_else(|| "none".to_owned())
    };
    match classified.state() {
        State::Active | State::Suppressed => {
            let since = match body.get(field::REQUESTED_AT) {
                Some(value) => show(value),
                None => "an unknown time".to_owned(),
            };
            let mut line = format!(
                "draining since {since}, requested by {}",
                value_of(field::PRINCIPAL)
            );
            match classified.expires_at {
                Some(expires) => line.push_str(&format!(
                    "; expires in {}",
                    human(expires.unix_micros() - at.unix_micros())
                )),
                None => line.push_str("; never expires (no parseable requested_at)"),
            }
            if classified.verdict.suppressed {
                line.push_str("; notification suppressed");
            }
            line
        }
        State::EpochStale => format!(
            "ignored: written before this machine restarted (epoch {}, this machine {})",
            value_of(field::EPOCH),
            show(&Value::String(epoch::current().to_owned()))
        ),
        State::Expired => {
            let age = classified.expired_age_micros.unwrap_or(MAX_AGE_MICROS);
            format!(
                "ignored: expired {} ago (requested at {} by {})",
                human(age - MAX_AGE_MICROS),
                value_of(field::REQUESTED_AT),
                value_of(field::PRINCIPAL)
            )
        }
        State::Absent => unreachable!("a marker with a body is present"),
    }
}

/// A marker value for the operator's eyes: strings as they are, other values as JSON;
/// control characters escaped (no forged lines or terminal escapes), and shortened to
/// [`SHOWN_CHARS`] characters with a count of the rest.
pub fn show(value: &Value) -> String {
    match value {
        Value::String(text) if text.is_empty() => "\"\"".to_owned(),
        Value::String(text) => shorten(text, |part| part.escape_debug().to_string()),
        other => shorten(&other.to_string(), escape_controls),
    }
}

/// `text` escaped by `escape`, cut after [`SHOWN_CHARS`] characters (on a character
/// boundary, before escaping, so an escape is never cut) with `… (N more)`.
fn shorten(text: &str, escape: impl Fn(&str) -> String) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        None => escape(text),
        Some((cut, _)) => {
            let more = text[cut..].chars().count();
            format!("{}… ({more} more)", escape(&text[..cut]))
        }
    }
}

/// JSON text with the control characters JSON leaves raw (C1 controls, the line and
/// paragraph separators) escaped; JSON itself escaped the C0 ones.
fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A duration in microseconds, rounded, for people: `42 s`, `42 min`, `2 h 5 min`,
/// `3 d 4 h`.
pub fn human(micros: i64) -> String {
    let seconds = (micros.max(0) + 500_000) / 1_000_000;
    if seconds < 60 {
        return format!("{seconds} s");
    }
    let minutes = (seconds + 30) / 60;
    match (minutes / 60, minutes % 60) {
        (0, minutes) => format!("{minutes} min"),
        (hours @ ..48, 0) => format!("{hours} h"),
        (hours @ ..48, minutes) => format!("{hours} h {minutes} min"),
        (hours, _) => format!("{} d {} h", hours / 24, hours % 24),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        assert_eq!(human(-5), "0 s");
        assert_eq!(human(42_400_000), "42 s");
        assert_eq!(human(42 * 60_000_000), "42 min");
        assert_eq!(human(3_599_999_999), "1 h");
        assert_eq!(human(3_570_000_000), "1 h");
        assert_eq!(human(59_600_000), "1 min");
        assert_eq!(human(2 * 3_600_000_000 + 5 * 60_000_000), "2 h 5 min");
        assert_eq!(human(3 * 86_400_000_000 + 4 * 3_600_000_000), "3 d 4 h");
    }

    #[test]
    fn long_values_are_cut_on_a_character_boundary_and_escaped() {
        assert_eq!(show(&json!("a".repeat(60))), "a".repeat(60));
        assert_eq!(
            show(&json!("a".repeat(61))),
            format!("{}… (1 more)", "a".repeat(60))
        );
        // 59 ASCII, then a 4-byte character as the 60th: kept whole.
        let text = format!("{}🦀{}", "a".repeat(59), "é".repeat(10));
        assert_eq!(
            show(&json!(text)),
            format!("{}🦀… (10 more)", "a".repeat(59))
        );
        // Escaped after the cut: the escape of a kept character is whole.
        let text = format!("{}\n{}", "a".repeat(59), "b".repeat(5));
        assert_eq!(
            show(&json!(text)),
            format!("{}\\n… (5 more)", "a".repeat(59))
        );
        let long_array = Value::Array(vec![json!(1); 100]);
        assert!(show(&long_array).ends_with("… (141 more)"));
        assert_eq!(show(&json!(["\u{85}"])), "[\"\\u{85}\"]");
    }
}
