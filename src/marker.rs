//! What a marker holds: the read result of its bytes, and the payload a write makes.
//!
//! What that means (draining or not) is decided in [`mod@crate::classify`].

use serde::Serialize;
use serde_json::{Map, Value};

use crate::contract::MAX_MARKER_BYTES;
use crate::json;
use crate::timestamp::Timestamp;

/// The JSON object of a marker, keys in file order; a repeated key keeps its first
/// position and its last value, as Python's `json.loads` does.
pub type Body = Map<String, Value>;

/// What reading the marker gave.
#[derive(Clone, Debug, PartialEq)]
pub enum Reading {
    /// No marker, or one that could not be read (see [`crate::fsio::RawMarker`]).
    Absent,
    /// A marker whose bytes are not a strict-JSON object: empty, torn, not UTF-8, not
    /// JSON, JSON but not an object, or over 1 MiB. It counts as present, fail-safe:
    /// a corrupt begin marker must not be ignored.
    Contentless,
    /// A marker holding a JSON object.
    Body(Body),
}

impl Reading {
    /// The read result of marker bytes.
    ///
    /// Strict JSON (RFC 8259) only: `NaN`, `Infinity`, fractions and exponents beyond
    /// the double range, lone surrogate escapes and nesting deeper than 128 levels,
    /// which Python's `json` would still take, read as contentless here, in every
    /// binding alike.
    pub fn from_bytes(raw: &[u8]) -> Reading {
        match json::parse_value(raw) {
            Some(Value::Object(body)) => Reading::Body(body),
            _ => Reading::Contentless,
        }
    }

    /// Whether a marker is there at all (contentless counts).
    pub fn is_present(&self) -> bool {
        !matches!(self, Reading::Absent)
    }

    /// The body, if the marker holds one.
    pub fn body(&self) -> Option<&Body> {
        match self {
            Reading::Body(body) => Some(body),
            _ => None,
        }
    }

    /// The read result as the original's `read_drain_request` returns it, in JSON:
    /// `None` when absent, `{}` when contentless, else the object.
    pub fn to_json(&self) -> Option<Value> {
        match self {
            Reading::Absent => None,
            Reading::Contentless => Some(Value::Object(Body::new())),
            Reading::Body(body) => Some(Value::Object(body.clone())),
        }
    }
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
    /// A leased drain's owner (see [`crate::lease`]); absent from a plain write's
    /// marker, so that its bytes stay the original's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_token: Option<String>,
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
            owner_token: None,
        }
    }

    /// This payload, owned by the lease holding `token`.
    pub fn with_owner_token(self, token: &str) -> Self {
        Payload {
            owner_token: Some(token.to_owned()),
            ..self
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
        if Reading::from_bytes(&bytes) != Reading::Body(self.to_body()) {
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
