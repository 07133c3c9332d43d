//! What a marker says: the payload a write produces, and the pure classifier that
//! turns marker bytes, the current epoch and a clock reading into a verdict.
//!
//! Every answer to "is this gateway draining?" in every binding comes from
//! [`classify`]; nothing else reads the fields of a marker.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::fields::{FieldRef, Fields};
use crate::json;

pub use crate::json::MAX_NESTING;
use crate::timestamp::Timestamp;

/// How long a marker is honoured after its `requested_at`: one hour, in seconds.
pub const MAX_AGE_SECONDS: f64 = 3600.0;

/// [`MAX_AGE_SECONDS`] in microseconds, the resolution at which expiry is decided.
pub const MAX_AGE_MICROS: i64 = 3_600_000_000;

/// Markers larger than this are contentless without being read (1 MiB).
pub const MAX_MARKER_BYTES: usize = 1 << 20;

/// The JSON object of a marker, keys in file order; a repeated key keeps its first
/// position and its last value, as Python's `json.loads` does.
pub type Body = Map<String, Value>;

/// What reading the marker gave.
#[derive(Clone, Debug, PartialEq)]
pub enum Read {
    /// No marker, or one that could not be read (see [`crate::fsio::RawMarker`]).
    Absent,
    /// A marker whose bytes are not a strict-JSON object: empty, torn, not UTF-8, not
    /// JSON, JSON but not an object, or over 1 MiB. It counts as present, fail-safe:
    /// a corrupt begin marker must not be ignored.
    Contentless,
    /// A marker holding a JSON object.
    Body(Body),
}

impl Read {
    /// The read result of marker bytes.
    ///
    /// Strict JSON (RFC 8259) only: `NaN`, `Infinity`, fractions and exponents beyond
    /// the double range,
    /// lone surrogate escapes and nesting deeper than 128 levels, which Python's `json`
    /// would still take, read as contentless here, in every binding alike.
    pub fn from_bytes(raw: &[u8]) -> Read {
        match json::parse_value(raw) {
            Some(Value::Object(body)) => Read::Body(body),
            _ => Read::Contentless,
        }
    }

    /// Whether a marker is there at all (contentless counts).
    pub fn is_present(&self) -> bool {
        !matches!(self, Read::Absent)
    }

    /// The body, if the marker holds one.
    pub fn body(&self) -> Option<&Body> {
        match self {
            Read::Body(body) => Some(body),
            _ => None,
        }
    }

    /// The read result as the original's `read_drain_request` returns it, in JSON:
    /// `None` when absent, `{}` when contentless, else the object.
    pub fn to_json(&self) -> Option<Value> {
        match self {
            Read::Absent => None,
            Read::Contentless => Some(Value::Object(Body::new())),
            Read::Body(body) => Some(Value::Object(body.clone())),
        }
    }
}

/// The facts a verdict depends on besides the marker: whose epoch, what time, how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context<'a> {
    /// The current instantiation epoch; `""` disables the epoch check.
    pub current_epoch: &'a str,
    /// The clock reading to judge expiry against.
    pub now: Timestamp,
    /// How long after `requested_at` a marker is honoured, in microseconds.
    pub max_age_micros: i64,
}

impl<'a> Context<'a> {
    /// A context with the contract's one-hour maximum age.
    pub fn new(current_epoch: &'a str, now: Timestamp) -> Self {
        Context {
            current_epoch,
            now,
            max_age_micros: MAX_AGE_MICROS,
        }
    }

    /// This context with another maximum age: for tests and watchers that cannot wait
    /// an hour. Production markers are judged with the contract's hour.
    pub fn with_max_age_micros(self, max_age_micros: i64) -> Self {
        Context {
            max_age_micros,
            ..self
        }
    }
}

/// The decision about one marker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Verdict {
    /// A marker is there (a contentless one counts).
    pub present: bool,
    /// Present, and neither epoch-stale nor expired: the gateway must drain.
    pub active: bool,
    /// Active, and `suppress_notification` is truthy: skip the broadcast notice.
    pub suppressed: bool,
    /// The marker was written by another instantiation of this machine.
    pub epoch_stale: bool,
    /// The marker's `requested_at` is more than the maximum age ago.
    pub expired: bool,
}

/// A read result together with its verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Classified {
    /// What the marker holds.
    pub read: Read,
    /// What it means.
    pub verdict: Verdict,
    /// For an expired marker, how long ago it was requested, in microseconds.
    pub expired_age_micros: Option<i64>,
}

impl Classified {
    /// The body when the marker is active, `None` otherwise (contentless gives `{}`).
    pub fn active_body(&self) -> Option<Body> {
        if !self.verdict.active {
            return None;
        }
        Some(self.read.body().cloned().unwrap_or_default())
    }
}

/// Classifies marker bytes: the one place where the contract's rules are decided.
pub fn classify(raw: &[u8], context: &Context<'_>) -> Classified {
    judge(Read::from_bytes(raw), context)
}

/// Classifies a read result (use [`classify`] for bytes).
pub fn judge(read: Read, context: &Context<'_>) -> Classified {
    let body = read.body();
    let (verdict, expired_age_micros) = decide(
        read.is_present(),
        |name| body.and_then(|body| body.get(name)).map(FieldRef::from),
        context,
    );
    Classified {
        read,
        verdict,
        expired_age_micros,
    }
}

/// The verdict on a present marker from its consulted fields alone (`None`:
/// contentless): what [`judge`] decides, without the body, for the hot path of a poll.
pub(crate) fn judge_fields(
    fields: Option<&Fields<'_>>,
    context: &Context<'_>,
) -> (Verdict, Option<i64>) {
    decide(
        true,
        |name| fields.and_then(|fields| fields.get(name)),
        context,
    )
}

/// The contract's rules, over a present-or-not marker whose consulted fields
/// `field` looks up: the only place they are written down.
fn decide<'v>(
    present: bool,
    field: impl Fn(&str) -> Option<FieldRef<'v>>,
    context: &Context<'_>,
) -> (Verdict, Option<i64>) {
    let epoch_stale = present && epoch_is_stale(field("epoch"), context.current_epoch);
    let age = field("requested_at").and_then(|value| age_micros(value, context.now));
    let expired_age_micros = age.filter(|&age| age > context.max_age_micros);
    let expired = present && expired_age_micros.is_some();
    let active = present && !epoch_stale && !expired;
    let suppressed = active && field("suppress_notification").is_some_and(FieldRef::is_truthy);
    let verdict = Verdict {
        present,
        active,
        suppressed,
        epoch_stale,
        expired,
    };
    (verdict, expired_age_micros)
}

/// A definite mismatch only: lenient toward markers without an epoch and toward
/// machines where no epoch can be computed, so that neither fails closed.
fn epoch_is_stale(marker_epoch: Option<FieldRef<'_>>, current_epoch: &str) -> bool {
    match marker_epoch {
        _ if current_epoch.is_empty() => false,
        Some(value) if value.is_truthy() => value.as_str() != Some(current_epoch),
        _ => false,
    }
}

/// How long ago a `requested_at` value was, if it is a parseable timestamp string.
fn age_micros(requested_at: FieldRef<'_>, now: Timestamp) -> Option<i64> {
    let requested = Timestamp::parse(requested_at.as_str()?)?;
    now.unix_micros().checked_sub(requested.unix_micros())
}

/// Python's truthiness of a JSON value: `null`, `false`, zero, `""`, `[]` and `{}` are
/// false; everything else, including `"false"` and `[0]`, is true.
pub fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        // An int is zero only when all its digits are; a float when its double is
        // (`1e-400` is 0.0 to Python, so it is false).
        Value::Number(number) if json::is_float_text(number.as_str()) => {
            json::float_value(number).is_some_and(|float| float != 0.0)
        }
        Value::Number(number) => number
            .as_str()
            .bytes()
            .any(|byte| matches!(byte, b'1'..=b'9')),
        Value::String(text) => is_truthy_text(text),
        Value::Array(items) => !items.is_empty(),
        Value::Object(members) => !members.is_empty(),
    }
}

/// Python's truthiness of a string: only the empty string is false.
pub(crate) fn is_truthy_text(text: &str) -> bool {
    !text.is_empty()
}

/// The marker a write produces. Field order is the file's key order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Payload {
    /// Always `"drain"`; kept for the original's readers, never consulted.
    pub action: String,
    /// When the drain was requested (or last kept alive), as Python's `isoformat()`.
    pub requested_at: String,
    /// Who asked, for the operator's eyes; never consulted.
    pub principal: String,
    /// The writer's instantiation epoch.
    pub epoch: String,
    /// Ask the gateway to skip its "shutting down" broadcast.
    pub suppress_notification: bool,
}

impl Payload {
    /// A begin-drain payload stamped with `epoch` and `now`.
    pub fn new(principal: &str, suppress_notification: bool, epoch: &str, now: Timestamp) -> Self {
        Payload {
            action: "drain".to_owned(),
            requested_at: now.to_isoformat(),
            principal: principal.to_owned(),
            epoch: epoch.to_owned(),
            suppress_notification,
        }
    }

    /// The marker file's exact bytes: Python's `json.dump(payload, indent=2,
    /// ensure_ascii=False)`, UTF-8, no trailing newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        // serde_json's pretty printer matches Python's layout for a flat object: two
        // spaces, `": "`, and the same escapes (short forms for \n \t etc., lower-case
        // `\u00XX` for other control characters, non-ASCII as UTF-8).
        serde_json::to_vec_pretty(self).expect("a payload of strings and a bool serializes")
    }

    /// [`Payload::to_bytes`], if a reader would read them back as this very payload.
    ///
    /// A marker over [`MAX_MARKER_BYTES`] reads as contentless, and a contentless
    /// marker drains for ever (it has no epoch and no `requested_at` to age out), so
    /// every writer refuses such a payload before touching the disk. The `Err` says
    /// which argument is at fault and what the limit is.
    pub fn to_checked_bytes(&self) -> Result<Vec<u8>, String> {
        let bytes = self.to_bytes();
        if bytes.len() > MAX_MARKER_BYTES {
            let (name, value) = [("principal", &self.principal), ("epoch", &self.epoch)]
                .into_iter()
                .max_by_key(|(_, value)| value.len())
                .expect("two candidates");
            return Err(format!(
                "{name} is too long ({} bytes): the marker would be {} bytes, over the \
                 {MAX_MARKER_BYTES} bytes (1 MiB) a reader reads; such a marker would read \
                 as contentless and drain for ever",
                value.len(),
                bytes.len(),
            ));
        }
        if Read::from_bytes(&bytes) != Read::Body(self.to_body()) {
            return Err("the marker would not read back as the payload written".to_owned());
        }
        Ok(bytes)
    }

    /// The payload as a JSON object, in file order.
    pub fn to_body(&self) -> Body {
        match serde_json::to_value(self) {
            Ok(Value::Object(body)) => body,
            _ => unreachable!("a payload serializes to an object"),
        }
    }
}
