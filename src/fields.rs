//! The view the rules take of a marker's fields, and the fast reading of them.
//!
//! A gateway asks "am I draining?" on every poll; building the whole JSON tree for
//! that allocates for every key and value. [`Fields`] keeps only the four fields the
//! contract consults, borrowing their text from the marker bytes. The shape every
//! writer makes is read by `json::flat_object`; anything else goes through the full
//! reading (serde_json), so the two cannot disagree; tests hold them equal.

use std::borrow::Cow;

use serde_json::Value;

use crate::contract::field;
use crate::json::{self, Scalar, is_truthy, is_truthy_text};

/// A consulted field's value, borrowed: the view the rules take of a JSON value,
/// whether it came from a parsed body or from [`Fields`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum FieldRef<'a> {
    /// A JSON string.
    Text(&'a str),
    /// Any other JSON value.
    Json(&'a Value),
}

impl<'a> From<&'a Value> for FieldRef<'a> {
    fn from(value: &'a Value) -> Self {
        match value {
            Value::String(text) => FieldRef::Text(text),
            other => FieldRef::Json(other),
        }
    }
}

impl<'a> FieldRef<'a> {
    /// Python's truthiness (see [`json::is_truthy`]).
    pub fn is_truthy(self) -> bool {
        match self {
            FieldRef::Text(text) => is_truthy_text(text),
            FieldRef::Json(value) => is_truthy(value),
        }
    }

    /// The text, if the value is a string.
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            FieldRef::Text(text) => Some(text),
            FieldRef::Json(_) => None,
        }
    }

    /// An owned JSON value (for a warning that outlives the marker bytes).
    pub fn to_value(self) -> Value {
        match self {
            FieldRef::Text(text) => Value::String(text.to_owned()),
            FieldRef::Json(value) => value.clone(),
        }
    }
}

/// One consulted field as parsed: text borrowed from the marker where it has no
/// escapes, `null`, `true` and `false` as shared constants, any other value in full
/// on the heap (rare, and small in any marker a writer makes).
///
/// Kept to one word-sized pointer or a `Cow` rather than an inline `Value` (about 80
/// bytes with `preserve_order`): the fields are moved on every poll, and small moves
/// stay out of `memcpy` (BENCHMARKS.md, "the consulted fields").
#[derive(Debug, PartialEq)]
enum Field<'a> {
    Text(Cow<'a, str>),
    Constant(&'static Value),
    Other(Box<Value>),
}

static NULL: Value = Value::Null;
static TRUE: Value = Value::Bool(true);
static FALSE: Value = Value::Bool(false);

/// The consulted fields of a marker that holds a JSON object; `None` where absent.
/// A repeated key keeps its last value, as in the full reading.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Fields<'a> {
    epoch: Option<Field<'a>>,
    requested_at: Option<Field<'a>>,
    suppress_notification: Option<Field<'a>>,
    principal: Option<Field<'a>>,
}

impl<'a> Fields<'a> {
    /// The fields of `raw`, or `None` when `raw` is not a strict-JSON object (the
    /// marker is then contentless).
    pub fn from_bytes(raw: &'a [u8]) -> Option<Fields<'a>> {
        let mut fields = Fields::default();
        let flat = json::flat_object(raw, |key, value| {
            let slot = match key {
                field::EPOCH => &mut fields.epoch,
                field::REQUESTED_AT => &mut fields.requested_at,
                field::SUPPRESS_NOTIFICATION => &mut fields.suppress_notification,
                field::PRINCIPAL => &mut fields.principal,
                _ => return,
            };
            *slot = Some(match value {
                Scalar::Text(text) => Field::Text(Cow::Borrowed(text)),
                Scalar::Bool(true) => Field::Constant(&TRUE),
                Scalar::Bool(false) => Field::Constant(&FALSE),
                Scalar::Null => Field::Constant(&NULL),
            });
        });
        match flat {
            Some(()) => Some(fields),
            None => Fields::from_full_reading(raw),
        }
    }

    /// Any other marker: serde_json reads the whole value (the one definition of
    /// strict JSON, see `json`), and the consulted fields are taken from the body.
    /// Rare (no writer makes such a marker), so its cost does not matter.
    fn from_full_reading(raw: &[u8]) -> Option<Fields<'a>> {
        let Value::Object(mut body) = json::parse_value(raw)? else {
            return None;
        };
        let mut take = |name: &str| {
            body.remove(name).map(|value| match value {
                Value::String(text) => Field::Text(Cow::Owned(text)),
                Value::Null => Field::Constant(&NULL),
                Value::Bool(true) => Field::Constant(&TRUE),
                Value::Bool(false) => Field::Constant(&FALSE),
                other => Field::Other(Box::new(other)),
            })
        };
        Some(Fields {
            epoch: take(field::EPOCH),
            requested_at: take(field::REQUESTED_AT),
            suppress_notification: take(field::SUPPRESS_NOTIFICATION),
            principal: take(field::PRINCIPAL),
        })
    }

    /// The field called `name`, if the contract consults it and the marker has it.
    pub fn get(&self, name: &str) -> Option<FieldRef<'_>> {
        let field = match name {
            field::EPOCH => &self.epoch,
            field::REQUESTED_AT => &self.requested_at,
            field::SUPPRESS_NOTIFICATION => &self.suppress_notification,
            field::PRINCIPAL => &self.principal,
            _ => return None,
        };
        field.as_ref().map(|field| match field {
            Field::Text(text) => FieldRef::Text(text),
            Field::Constant(value) => FieldRef::Json(value),
            Field::Other(value) => FieldRef::Json(value),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::marker::Reading;

    const CONSULTED: [&str; 4] = [
        field::EPOCH,
        field::REQUESTED_AT,
        field::SUPPRESS_NOTIFICATION,
        field::PRINCIPAL,
    ];

    /// The fast reading and the full reading agree on what is an object and on the
    /// consulted fields.
    fn agrees(raw: &[u8]) {
        let full = Reading::from_bytes(raw);
        let fast = Fields::from_bytes(raw);
        match (&full, &fast) {
            (Reading::Body(body), Some(fields)) => {
                for name in CONSULTED {
                    let from_body = body.get(name).map(FieldRef::from);
                    assert_eq!(from_body, fields.get(name), "{name} in {raw:?}");
                }
            }
            (Reading::Contentless, None) => {}
            _ => panic!(
                "readings differ for {:?}: {full:?} vs {fast:?}",
                String::from_utf8_lossy(raw)
            ),
        }
    }

    #[test]
    fn a_field_stays_small() {
        // See `Field`: the fields are moved by value on every poll.
        assert!(std::mem::size_of::<Option<Field<'_>>>() <= 32);
    }

    #[test]
    fn fast_and_full_readings_agree_on_edge_cases() {
        let deep_ok = format!("{{\"n\": {}{}}}", "[".repeat(127), "]".repeat(127));
        let deep_bad = format!("{{\"n\": {}{}}}", "[".repeat(128), "]".repeat(128));
        let deep_field = format!("{{\"epoch\": {}{}}}", "[".repeat(127), "]".repeat(127));
        let cases: Vec<&[u8]> = vec![
            b"{}",
            b"[]",
            b"null",
            b"{\"epoch\": 1, \"epoch\": \"b\"}",
            b"{\"epoch\": \"b\", \"epoch\": {\"x\": [1]}}",
            b"{\"x\": 1e400}",
            b"{\"x\": [1e400]}",
            b"{\"x\": {\"y\": NaN}}",
            b"{\"x\": \"\\ud800\"}",
            b"{\"\\ud800\": 1}",
            b"{\"x\": \"\xff\"}",
            b"{\"\xff\": 1}",
            b"{\"ep\\u006fch\": \"escaped key\", \"principal\": \"a\\nb\"}",
            b"{\"x\": 123456789012345678901234567890}",
            b"{\"x\": -0, \"suppress_notification\": -0.0}",
            b"{\"a\": 1,}",
            b"{\"a\": 1} x",
            b" {\"a\": [1, {\"b\": null}]} \n",
            b"[{\"epoch\": 1}]",
            deep_ok.as_bytes(),
            deep_bad.as_bytes(),
            deep_field.as_bytes(),
        ];
        for raw in cases {
            agrees(raw);
        }
    }

    #[test]
    fn fast_verdict_equals_full_verdict_on_every_shared_vector() {
        use crate::classify::{classify, decide};
        use crate::{Context, Timestamp};
        use base64::Engine as _;
        let document: Value =
            serde_json::from_str(include_str!("../tests/vectors/contract-vectors.json")).unwrap();
        for vector in document["vectors"].as_array().unwrap() {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(vector["marker_b64"].as_str().unwrap())
                .unwrap();
            let now = Timestamp::parse(vector["now"].as_str().unwrap()).unwrap();
            let context = Context::new(vector["current_epoch"].as_str().unwrap(), now);
            let full = classify(&raw, &context);
            let fields = Fields::from_bytes(&raw);
            let fast = decide(true, |name| fields.as_ref()?.get(name), &context);
            assert_eq!(
                (fast.verdict, fast.expired_age_micros, fast.expires_at),
                (full.verdict, full.expired_age_micros, full.expires_at),
                "{}",
                vector["name"]
            );
            agrees(&raw);
        }
    }
}
