//! The contract's rules, one at a time, through the pure classifier. One module a
//! topic; the fixed context and the values every module uses are here.
//!
//! Every marker here is JSON text written out literally, so that the exact spelling
//! (`-0`, `1e-400`, a repeated key) is what the classifier sees. The Python truthiness
//! of each JSON value in these tests was checked with `bool(json.loads(text))` on
//! CPython 3.11.

use drain_control::{Body, Classified, Context, MAX_AGE_MICROS, Reading, Timestamp, classify};
use serde_json::{Value, json};

/// The epoch of "this" instantiation in these tests.
const EPOCH: &str = "e29a6d62-5c88-4c3f-81b3-793f64f15787:24";

/// 2026-11-27T12:00:00Z, the fixed "now" of these tests.
const NOW_MICROS: i64 = 1_795_780_800_000_000;

fn now() -> Timestamp {
    Timestamp::from_unix_micros(NOW_MICROS)
}

fn context() -> Context<'static> {
    Context::new(EPOCH, now())
}

fn classify_text(text: &str) -> Classified {
    classify(text.as_bytes(), &context())
}

/// JSON values Python's `bool()` calls false, spelled every way JSON allows.
const FALSY: &[&str] = &[
    "null", "false", "0", "-0", "0.0", "-0.0", "0e10", "0E-5", "1e-400", "-1e-400", "\"\"", "[]",
    "{}", "[ ]", "{ }",
];

/// JSON values Python's `bool()` calls true, including the deceptive ones.
const TRUTHY: &[&str] = &[
    "true",
    "1",
    "-1",
    "0.5",
    "123",
    "1e-300",
    "5e-324",
    "18446744073709551616",
    "-9223372036854775809",
    "\"false\"",
    "\"0\"",
    "\" \"",
    "\"null\"",
    "\"\\u0000\"",
    "[0]",
    "[[]]",
    "[null]",
    "[false]",
    "{\"a\":0}",
    "{\"\":null}",
];

/// Bytes that are not exactly one strict-JSON object: present, contentless, active
/// (fail-safe: a corrupt begin marker must not be ignored), never suppressed.
fn assert_contentless(raw: &[u8], why: &str) {
    let got = classify(raw, &context());
    assert_eq!(got.reading, Reading::Contentless, "{why}");
    assert_eq!(got.reading.to_json(), Some(json!({})), "{why}");
    let v = got.verdict;
    assert!(
        v.present && v.active && !v.suppressed && !v.epoch_stale && !v.expired,
        "{why}"
    );
}

mod age;
mod epoch;
mod limits;
mod parsing;
mod suppress;
mod verdict;
