//! The fast path: the one object shape every writer makes, read without serde_json.
//!
//! Anything it declines goes to serde_json (see the parent module), the one definition
//! of strict JSON; tests and the `classify` fuzz target hold the two equal.

use crate::contract::MAX_MARKER_BYTES;

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
/// number parsing) dominated a poll (BENCHMARKS.md has the numbers). The shape is small
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_value;
    use serde_json::Value;

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
            owner_token: None,
        };
        assert!(flat_agrees(&payload.to_bytes()));
        assert!(flat_agrees(
            &payload.with_owner_token("0123456789abcdef").to_bytes()
        ));
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
