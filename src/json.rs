//! Strict JSON, as every reading of marker bytes in this crate parses it.
//!
//! One place decides what counts as JSON, so the full reading (the body) and the fast
//! reading (only the consulted fields) cannot disagree: RFC 8259 only (no `NaN`, no
//! `Infinity`, no lone surrogate escapes, no numbers beyond the double range), the
//! whole input valid UTF-8 (as Python's `read_text(encoding="utf-8")` demands), and at
//! most [`MAX_NESTING`] levels deep.

use serde::de::{Deserialize, DeserializeSeed};

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

/// Parses `raw` as one strict-JSON value of type `T`.
pub(crate) fn parse<'de, T: Deserialize<'de>>(raw: &'de [u8]) -> Option<T> {
    parse_seed(raw, std::marker::PhantomData::<T>)
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
        assert!(parse::<Value>(text.as_bytes()).is_some());
        let wide = format!("[{}1]", "[1],".repeat(500));
        assert!(!too_deep(wide.as_bytes()));
    }

    #[test]
    fn one_hundred_twenty_eight_levels_read_and_one_more_does_not() {
        assert!(parse::<Value>(nested(128).as_bytes()).is_some());
        assert!(parse::<Value>(nested(129).as_bytes()).is_none());
        assert!(parse::<Value>(nested(100_000).as_bytes()).is_none());
        // Past serde_json's own limit (127), so read by the second parse; and invalid
        // input at every depth around it stays unread.
        let mut deep = nested(128);
        deep.insert(128, '1');
        assert!(parse::<Value>(deep.as_bytes()).is_some());
        for levels in [126, 127, 128, 129] {
            let bad = format!("{} x", nested(levels));
            assert!(parse::<Value>(bad.as_bytes()).is_none(), "{levels}");
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
            assert!(parse::<Value>(bad).is_none(), "{bad:?}");
        }
        assert_eq!(
            parse::<Value>(b" {\"a\": 1e-400} "),
            Some(serde_json::json!({"a": 0.0}))
        );
    }
}
