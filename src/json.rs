//! Strict JSON, as every reading of marker bytes in this crate parses it.
//!
//! One place decides what counts as JSON, so the full reading (the body) and the fast
//! reading (only the consulted fields) cannot disagree: RFC 8259 only (no `NaN`, no
//! `Infinity`, no lone surrogate escapes, no fractions or exponents beyond the double
//! range; integers of any size), the
//! whole input valid UTF-8 (as Python's `read_text(encoding="utf-8")` demands), and at
//! most [`MAX_NESTING`] levels deep.

use serde::de::DeserializeSeed;
use serde_json::{Number, Value};

use crate::marker::MAX_MARKER_BYTES;

/// How deep a marker may nest and still be read; the top-level value is level 1.
///
/// Python reads deeper, but the contract lets nesting past 128 levels read as
/// contentless, so that a hostile marker cannot exhaust a reader's stack.
pub const MAX_NESTING: usize = 128;

/// Parses `raw` as one strict-JSON value with `seed`; `None` when it is not one.
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
pub(crate) fn parse_seed<'de, S: DeserializeSeed<'de> + Clone>(
    raw: &'de [u8],
    seed: S,
) -> Option<S::Value> {
    if raw.len() > MAX_MARKER_BYTES {
        return None;
    }
    let text = std::str::from_utf8(raw).ok()?;
    if let Some(value) = parse_text(text, seed.clone(), true) {
        return Some(value);
    }
    if too_deep(raw) {
        return None;
    }
    parse_text(text, seed, false)
}

/// One parse of `text` with `seed`, with or without serde_json's recursion limit.
fn parse_text<'de, S: DeserializeSeed<'de>>(
    text: &'de str,
    seed: S,
    recursion_limit: bool,
) -> Option<S::Value> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    if !recursion_limit {
        // Only after `too_deep` said no: the recursion is bounded all the same.
        deserializer.disable_recursion_limit();
    }
    let value = seed.deserialize(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    Some(value)
}

/// A member value that [`flat_object`] reads itself.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Scalar<'a> {
    /// A string without escapes, borrowed from the input.
    Text(&'a str),
    Bool(bool),
    Null,
}

/// Reads `raw` if it is one JSON object whose keys are strings without escapes and
/// whose values are such strings, `true`, `false` or `null`, handing each member to
/// `member` in order. `None` says only "not of that shape" (it may still be JSON): the
/// caller then parses `raw` with serde_json.
///
/// Why a reader beside serde_json: every writer of the marker makes exactly this
/// shape, and serde_json's general machinery (a visitor per value, escape handling,
/// number parsing) was more than half of a poll's instructions. The shape is small
/// enough to check by eye that everything it accepts is strict JSON meaning what it
/// says: RFC 8259's whitespace, no control characters in strings (a byte below 0x20
/// ends the fast path, as a backslash does), valid UTF-8, nothing after the object.
/// Tests and the `classify` fuzz target hold it equal to serde_json's reading.
pub(crate) fn flat_object<'a>(
    raw: &'a [u8],
    mut member: impl FnMut(&'a str, Scalar<'a>),
) -> Option<()> {
    if raw.len() > MAX_MARKER_BYTES {
        return None;
    }
    let text = std::str::from_utf8(raw).ok()?;
    let mut cursor = Flat { text, at: 0 };
    cursor.skip_whitespace();
    cursor.expect(b'{')?;
    cursor.skip_whitespace();
    if cursor.peek()? == b'}' {
        cursor.at += 1;
    } else {
        loop {
            let key = cursor.plain_string()?;
            cursor.skip_whitespace();
            cursor.expect(b':')?;
            cursor.skip_whitespace();
            let value = match cursor.peek()? {
                b'"' => Scalar::Text(cursor.plain_string()?),
                b't' => cursor.literal("true", Scalar::Bool(true))?,
                b'f' => cursor.literal("false", Scalar::Bool(false))?,
                b'n' => cursor.literal("null", Scalar::Null)?,
                _ => return None,
            };
            member(key, value);
            cursor.skip_whitespace();
            match cursor.peek()? {
                b',' => {
                    cursor.at += 1;
                    cursor.skip_whitespace();
                }
                b'}' => {
                    cursor.at += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    cursor.skip_whitespace();
    (cursor.at == text.len()).then_some(())
}

/// A position in the text [`flat_object`] reads. Every position it stops at follows an
/// ASCII byte, so slicing there cannot split a character.
struct Flat<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Flat<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// RFC 8259's whitespace: space, tab, line feed, carriage return.
    fn skip_whitespace(&mut self) {
        let rest = &self.text.as_bytes()[self.at..];
        self.at += rest
            .iter()
            .take_while(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r'))
            .count();
    }

    fn literal<T>(&mut self, word: &str, value: T) -> Option<T> {
        self.text[self.at..].starts_with(word).then(|| {
            self.at += word.len();
            value
        })
    }

    /// A string with neither escapes nor control characters, without its quotes.
    fn plain_string(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let start = self.at;
        let end = start + string_end(&self.text.as_bytes()[start..])?;
        (self.text.as_bytes()[end] == b'"').then(|| {
            self.at = end + 1;
            &self.text[start..end]
        })
    }
}

/// The index of the first quote, backslash or control character in `bytes`, eight
/// bytes at a time (the classic "has a zero byte" bit trick; the flag of the lowest
/// matching byte is always exact, only flags above a true match can be false).
fn string_end(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let flags = |word: u64| {
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let zero_in = |x: u64| x.wrapping_sub(ONES) & !x;
        (zero_in(quote) | zero_in(backslash) | (word.wrapping_sub(ONES * 0x20) & !word)) & HIGHS
    };
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let found = flags(word);
        if found != 0 {
            return Some(offset + found.trailing_zeros() as usize / 8);
        }
        offset += 8;
    }
    let tail = chunks.remainder();
    let end = tail
        .iter()
        .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)?;
    Some(offset + end)
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
    let value = parse_seed(raw, std::marker::PhantomData::<Value>)?;
    all_numbers_in_range(&value).then_some(value)
}

/// The most digits an integer may have: CPython's default `int_max_str_digits` (3.11
/// and later), beyond which the original's `json.loads` raises and reads the marker as
/// contentless. Every binding reads the same.
pub const MAX_INT_DIGITS: usize = 4300;

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

    /// What [`flat_object`] read, member by member; `None` when it declined.
    fn flat(raw: &[u8]) -> Option<Vec<(String, Value)>> {
        let mut members = Vec::new();
        flat_object(raw, |key, value| {
            let value = match value {
                Scalar::Text(text) => Value::String(text.to_owned()),
                Scalar::Bool(flag) => Value::Bool(flag),
                Scalar::Null => Value::Null,
            };
            members.push((key.to_owned(), value));
        })?;
        Some(members)
    }

    /// Whatever the flat reader accepts, serde_json reads as the same object (the
    /// last of a repeated key winning in both).
    fn flat_agrees(raw: &[u8]) -> bool {
        let Some(members) = flat(raw) else {
            return false;
        };
        let mut expected = serde_json::Map::new();
        for (key, value) in members {
            expected.insert(key, value);
        }
        assert_eq!(
            parse_value(raw),
            Some(Value::Object(expected)),
            "{:?}",
            String::from_utf8_lossy(raw)
        );
        true
    }

    #[test]
    fn the_flat_reader_reads_what_writers_write() {
        let payload = crate::Payload {
            action: "drain".into(),
            requested_at: crate::Timestamp::from_unix_micros(1_790_000_000_250_000).to_isoformat(),
            principal: "dashboard é".into(),
            epoch: "e29a6d62-5c88-4c3f-81b3-793f64f15787:24".into(),
            suppress_notification: true,
        };
        assert!(flat_agrees(&payload.to_bytes()));
        let compact = br#"{"action":"drain","requested_at":"2026-11-27T12:00:00+00:00","epoch":"b:1","suppress_notification":false,"principal":null}"#;
        assert!(flat_agrees(compact));
        for raw in [
            &b"{}"[..],
            b" \t\r\n{ \n}\n ",
            b"{\"a\":\"\"}",
            b"{\"a\" : true , \"b\":null,\"c\":false}",
            b"{\"epoch\":\"x\",\"epoch\":null}",
            b"{\"a\":\"b\x7f\"}",
            b"{\"12345678\":\"1234567\",\"123456789abcdef\":\"1234567890abcdef\"}",
        ] {
            assert!(flat_agrees(raw), "{:?}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn the_flat_reader_declines_anything_else() {
        for raw in [
            &b""[..],
            b" ",
            b"[]",
            b"\"a\"",
            b"{",
            b"{,}",
            b"{\"a\":\"b\",}",
            b"{\"a\" \"b\"}",
            b"{\"a\":}",
            b"{\"a\":\"b\"",
            b"{\"a\":\"b\"}}",
            b"{\"a\":\"b\"} x",
            b"{\"a\":tru}",
            b"{\"a\":truex}",
            b"{\"a\":nulll}",
            b"{\"a\":1}",
            b"{\"a\":[]}",
            b"{\"a\":\"\\n\"}",
            b"{\"a\\u0062\":\"b\"}",
            b"{\"a\":\"\x01\"}",
            b"{\"a\":\"\x1f\"}",
            b"{\"a\":\"\n\"}",
            b"{\"a\":\"\xff\"}",
            b"\xef\xbb\xbf{}",
            b"{\"a\":\"b\"}\x0c",
            b"{'a':'b'}",
            b"{\"a\":\"b\"}\x00",
        ] {
            assert!(flat(raw).is_none(), "{:?}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn a_string_ends_at_its_first_quote_backslash_or_control_character_at_every_offset() {
        for len in 0..40 {
            for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                for at in 0..=len {
                    let mut bytes: Vec<u8> = (0..len).map(|i| b"a\x7f\xc3 ~!#]"[i % 8]).collect();
                    let expected = (at < len).then(|| {
                        bytes[at] = special;
                        at
                    });
                    assert_eq!(string_end(&bytes), expected, "{bytes:?}");
                }
            }
        }
        // Bytes just above the specials, and high bytes, never stop a string.
        assert_eq!(string_end(b"#]\x20\x80\xff\x21\x5d\x5b\x23 \""), Some(10));
    }
}
