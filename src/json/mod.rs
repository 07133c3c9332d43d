//! Strict JSON, as every reading of marker bytes in this crate parses it.
//!
//! One place decides what counts as JSON, so the full reading (the body) and the fast
//! reading (only the consulted fields) cannot disagree: RFC 8259 only (no `NaN`, no
//! `Infinity`, no lone surrogate escapes, no fractions or exponents beyond the double
//! range; integers of any size), the whole input valid UTF-8 (as Python's
//! `read_text(encoding="utf-8")` demands), and at most [`MAX_NESTING`] levels deep.
//! Python's truthiness of a value ([`is_truthy`]) is here too: it is how the rules
//! read a flag.

use serde_json::{Number, Value};

use crate::contract::{MAX_INT_DIGITS, MAX_MARKER_BYTES, MAX_NESTING};

mod flat;

pub(crate) use flat::{Scalar, flat_object};

/// Parses `raw` as one strict-JSON value, numbers unchecked; `None` when it is not one.
///
/// The nesting bound costs nothing on the common path: the first parse runs with
/// serde_json's own recursion limit, which refuses a value on *entering* level 128,
/// one level short of the contract's [`MAX_NESTING`]. A value that parses under it is
/// at most 127 levels deep, so it is exactly what the contract reads. Only when that
/// parse fails (invalid JSON, or 128 levels and more: rare in a marker) is the depth
/// counted ([`too_deep`]) and, within the bound, the value parsed again without
/// serde_json's limit, the depth check standing in for it. A parse is deterministic
/// and the limit only stops it on entering level 128, so a failure for any other
/// reason fails the second parse too: the answers are those of checking the depth
/// first, without a pass over every byte on every poll.
fn parse_json(raw: &[u8]) -> Option<Value> {
    if raw.len() > MAX_MARKER_BYTES {
        return None;
    }
    let text = std::str::from_utf8(raw).ok()?;
    if let Some(value) = parse_text(text, true) {
        return Some(value);
    }
    if too_deep(raw) {
        return None;
    }
    parse_text(text, false)
}

/// One parse of `text`, with or without serde_json's recursion limit.
fn parse_text(text: &str, recursion_limit: bool) -> Option<Value> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    if !recursion_limit {
        // Only after `too_deep` said no: the recursion is bounded all the same.
        deserializer.disable_recursion_limit();
    }
    let value = serde::Deserialize::deserialize(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    Some(value)
}

/// Parses `raw` as one strict-JSON value.
///
/// Numbers keep their text (serde_json's `arbitrary_precision`), so that an integer of
/// any size reaches every binding with its exact digits, as Python's `json.loads` reads
/// it. That parser takes any number of RFC 8259's grammar, so the one rule it no longer
/// applies is applied here: a number that is not an integer and lies beyond the double
/// range (`1e400`, which Python reads as `inf`) makes the marker contentless, as it
/// did before and in every binding alike; so does an integer of more than
/// [`MAX_INT_DIGITS`] digits, which the original cannot read either.
pub(crate) fn parse_value(raw: &[u8]) -> Option<Value> {
    let value = parse_json(raw)?;
    all_numbers_in_range(&value).then_some(value)
}

fn all_numbers_in_range(value: &Value) -> bool {
    match value {
        Value::Number(number) => {
            let text = number.as_str();
            if is_float_text(text) {
                float_value(number).is_some()
            } else {
                text.trim_start_matches('-').len() <= MAX_INT_DIGITS
            }
        }
        Value::Array(items) => items.iter().all(all_numbers_in_range),
        Value::Object(members) => members.values().all(all_numbers_in_range),
        _ => true,
    }
}

/// Whether a JSON number's text is a float for Python (`json.loads` gives a `float`
/// for a fraction or an exponent, an `int` otherwise).
pub(crate) fn is_float_text(text: &str) -> bool {
    text.bytes().any(|byte| matches!(byte, b'.' | b'e' | b'E'))
}

/// A JSON number as the double Python's `float()` makes of its text (both round
/// correctly), `None` beyond the double range.
pub(crate) fn float_value(number: &Number) -> Option<f64> {
    number
        .as_str()
        .parse::<f64>()
        .ok()
        .filter(|float| float.is_finite())
}

/// Python's truthiness of a JSON value: `null`, `false`, zero, `""`, `[]` and `{}` are
/// false; everything else, including `"false"` and `[0]`, is true.
pub fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        // An int is zero only when all its digits are; a float when its double is
        // (`1e-400` is 0.0 to Python, so it is false).
        Value::Number(number) if is_float_text(number.as_str()) => {
            float_value(number).is_some_and(|float| float != 0.0)
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

/// Whether `raw` nests deeper than [`MAX_NESTING`]. Counting opening brackets first
/// settles nearly every marker with one vectorisable pass: fewer brackets than the
/// limit cannot nest past it.
fn too_deep(raw: &[u8]) -> bool {
    let brackets = raw
        .iter()
        .filter(|&&byte| byte == b'[' || byte == b'{')
        .count();
    brackets > MAX_NESTING && nesting_depth(raw) > MAX_NESTING
}

/// The deepest bracket nesting of `raw`, brackets inside strings not counted.
///
/// Exact for valid JSON. For invalid input it may be off, but never below the depth
/// the parser reaches before it fails: both lex strings the same way up to the first
/// error, which is all the recursion bound needs.
fn nesting_depth(raw: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut bytes = raw.iter();
    while let Some(&byte) = bytes.next() {
        match byte {
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'"' => {
                // Skip the string; a backslash escapes the byte after it.
                while let Some(&inner) = bytes.next() {
                    match inner {
                        b'"' => break,
                        b'\\' => {
                            bytes.next();
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn nested(levels: usize) -> String {
        format!("{}{}", "[".repeat(levels), "]".repeat(levels))
    }

    #[test]
    fn nesting_is_counted_outside_strings_only() {
        assert_eq!(nesting_depth(b"{}"), 1);
        assert_eq!(nesting_depth(br#"{"a": [[1], {"b": []}]}"#), 4);
        assert_eq!(nesting_depth(br#"{"a": "[[[{{{\"[[["}"#), 1);
        assert_eq!(nesting_depth(br#"["\\", [1]]"#), 2);
    }

    #[test]
    fn many_brackets_inside_strings_are_not_nesting() {
        let text = format!("{{\"a\": \"{}\"}}", "[".repeat(500));
        assert!(!too_deep(text.as_bytes()));
        assert!(parse_value(text.as_bytes()).is_some());
        let wide = format!("[{}1]", "[1],".repeat(500));
        assert!(!too_deep(wide.as_bytes()));
    }

    #[test]
    fn one_hundred_twenty_eight_levels_read_and_one_more_does_not() {
        assert!(parse_value(nested(128).as_bytes()).is_some());
        assert!(parse_value(nested(129).as_bytes()).is_none());
        assert!(parse_value(nested(100_000).as_bytes()).is_none());
        // Past serde_json's own limit (127), so read by the second parse; and invalid
        // input at every depth around it stays unread.
        let mut deep = nested(128);
        deep.insert(128, '1');
        assert!(parse_value(deep.as_bytes()).is_some());
        for levels in [126, 127, 128, 129] {
            let bad = format!("{} x", nested(levels));
            assert!(parse_value(bad.as_bytes()).is_none(), "{levels}");
        }
    }

    #[test]
    fn only_strict_json_parses() {
        for bad in [
            &b"NaN"[..],
            b"[Infinity]",
            b"1e400",
            b"\"\\ud800\"",
            b"[1,]",
            b"\xff",
            b"1 2",
        ] {
            assert!(parse_value(bad).is_none(), "{bad:?}");
        }
        // Underflow is not overflow: Python reads 0.0. The text is kept, its value is 0.
        let small = parse_value(b" {\"a\": 1e-400} ").unwrap();
        let Value::Number(number) = &small["a"] else {
            panic!("{small:?}")
        };
        assert_eq!(float_value(number), Some(0.0));
    }

    #[test]
    fn integers_of_any_size_keep_their_digits() {
        let raw = b"{\"big\": 123456789012345678901234567890, \"neg\": -98765432109876543210987654321, \"z\": -0}";
        let value = parse_value(raw).unwrap();
        assert_eq!(
            value["big"].as_number().unwrap().as_str(),
            "123456789012345678901234567890"
        );
        assert_eq!(
            value["neg"].as_number().unwrap().as_str(),
            "-98765432109876543210987654321"
        );
        assert_eq!(
            serde_json::to_string(&value["big"]).unwrap(),
            "123456789012345678901234567890"
        );
        let huge_int = format!("{{\"n\": 1{}}}", "0".repeat(400));
        assert!(
            parse_value(huge_int.as_bytes()).is_some(),
            "an int is never out of range"
        );
    }
}
