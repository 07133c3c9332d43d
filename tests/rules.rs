//! The contract's rules, one at a time, through the pure classifier.
//!
//! Every marker here is JSON text written out literally, so that the exact spelling
//! (`-0`, `1e-400`, a repeated key) is what the classifier sees. The Python truthiness
//! of each JSON value below was checked with `bool(json.loads(text))` on CPython 3.11.

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

#[test]
fn falsy_epoch_is_never_stale() {
    for value in FALSY {
        let got = classify_text(&format!(r#"{{"epoch": {value}}}"#));
        assert!(got.reading.body().is_some(), "{value} must parse");
        assert!(
            !got.verdict.epoch_stale,
            "epoch {value} is falsy: not stale"
        );
        assert!(
            got.verdict.active,
            "epoch {value}: a marker without an epoch is honoured"
        );
    }
}

#[test]
fn truthy_epoch_that_is_not_the_current_string_is_stale() {
    for value in TRUTHY {
        let got = classify_text(&format!(r#"{{"epoch": {value}}}"#));
        assert!(got.reading.body().is_some(), "{value} must parse");
        assert!(
            got.verdict.epoch_stale,
            "epoch {value} is truthy and not {EPOCH:?}"
        );
        assert!(got.verdict.present && !got.verdict.active, "epoch {value}");
    }
}

#[test]
fn truthy_non_string_epoch_is_stale_even_when_it_holds_the_current_epoch() {
    let cases = [
        format!(r#"[{EPOCH:?}]"#),
        format!(r#"{{{EPOCH:?}: {EPOCH:?}}}"#),
        "true".to_owned(),
        "24".to_owned(),
    ];
    for value in cases {
        let got = classify_text(&format!(r#"{{"epoch": {value}}}"#));
        assert!(
            got.verdict.epoch_stale && !got.verdict.active,
            "epoch {value}"
        );
    }
    // A numeric epoch against a numeric-looking current epoch: still not a string.
    let got = classify(
        br#"{"epoch": 1727384428}"#,
        &Context::new("1727384428", now()),
    );
    assert!(got.verdict.epoch_stale);
    let got = classify(
        br#"{"epoch": "1727384428"}"#,
        &Context::new("1727384428", now()),
    );
    assert!(!got.verdict.epoch_stale && got.verdict.active);
}

#[test]
fn the_current_epoch_string_is_not_stale_and_near_misses_are() {
    assert!(
        classify_text(&format!(r#"{{"epoch": {EPOCH:?}}}"#))
            .verdict
            .active
    );
    // The comparison is exact: no stripping, no case folding, no prefix matching.
    for near in [
        format!(" {EPOCH}"),
        format!("{EPOCH}\n"),
        EPOCH.to_uppercase(),
        EPOCH[..EPOCH.len() - 1].to_owned(),
        EPOCH.split(':').next().unwrap().to_owned(),
    ] {
        let got = classify_text(&json!({ "epoch": near }).to_string());
        assert!(got.verdict.epoch_stale, "{near:?} is not {EPOCH:?}");
    }
}

#[test]
fn empty_current_epoch_disables_the_epoch_check() {
    let unknown = Context::new("", now());
    for value in TRUTHY.iter().chain(FALSY).chain(&["\"some-other:1\""]) {
        let got = classify(format!(r#"{{"epoch": {value}}}"#).as_bytes(), &unknown);
        assert!(
            !got.verdict.epoch_stale,
            "epoch {value} with an unknown current epoch"
        );
        assert!(
            got.verdict.active,
            "epoch {value} with an unknown current epoch"
        );
    }
}

#[test]
fn truthy_suppress_notification_suppresses_an_active_marker() {
    for value in TRUTHY {
        let text = format!(r#"{{"epoch": {EPOCH:?}, "suppress_notification": {value}}}"#);
        let got = classify_text(&text);
        assert!(got.verdict.active, "{text}");
        assert!(
            got.verdict.suppressed,
            "suppress_notification {value} is truthy"
        );
    }
}

#[test]
fn falsy_suppress_notification_does_not_suppress() {
    for value in FALSY {
        let text = format!(r#"{{"epoch": {EPOCH:?}, "suppress_notification": {value}}}"#);
        let got = classify_text(&text);
        assert!(got.verdict.active, "{text}");
        assert!(
            !got.verdict.suppressed,
            "suppress_notification {value} is falsy"
        );
    }
    let got = classify_text(&format!(r#"{{"epoch": {EPOCH:?}}}"#));
    assert!(
        got.verdict.active && !got.verdict.suppressed,
        "a missing flag is false"
    );
}

/// The subnormal and near-overflow spellings where serde_json's default (fast,
/// not correctly rounded) float parser and Python's `float()` disagree.
/// `2.4703282292062328e-324` is just over half the smallest subnormal: Python rounds
/// it up to `5e-324` (truthy); `1.7976931348623158e308` rounds down to the largest
/// finite double in Python, so it is inside the double range and must be read.
/// Fixed by serde_json's `float_roundtrip` feature (a `[dependencies]` change).
#[test]

fn numbers_are_rounded_as_python_rounds_them() {
    let text = r#"{"epoch": 2.4703282292062328e-324}"#;
    assert!(
        classify_text(text).verdict.epoch_stale,
        "Python reads 5e-324: truthy"
    );
    let text =
        format!(r#"{{"epoch": {EPOCH:?}, "suppress_notification": 2.4703282292062328e-324}}"#);
    assert!(
        classify_text(&text).verdict.suppressed,
        "Python reads 5e-324: truthy"
    );
    let text = r#"{"epoch": 1.7976931348623158e308}"#;
    let got = classify_text(text);
    assert_eq!(
        got.reading.body().unwrap()["epoch"].as_f64(),
        Some(f64::MAX)
    );
    assert!(got.verdict.epoch_stale);
}

#[test]
fn exactly_the_maximum_age_is_not_expired_and_one_microsecond_more_is() {
    let at = |micros: i64| Timestamp::from_unix_micros(micros).to_isoformat();
    let marker = |requested_at: String| json!({ "requested_at": requested_at }).to_string();

    let got = classify_text(&marker(at(NOW_MICROS - MAX_AGE_MICROS)));
    assert!(
        !got.verdict.expired && got.verdict.active,
        "exactly 3600.000000 s old"
    );
    assert_eq!(got.expired_age_micros, None);

    let got = classify_text(&marker(at(NOW_MICROS - MAX_AGE_MICROS - 1)));
    assert!(
        got.verdict.expired && !got.verdict.active,
        "3600.000001 s old"
    );
    assert_eq!(got.expired_age_micros, Some(3_600_000_001));

    let got = classify_text(&marker(at(NOW_MICROS - MAX_AGE_MICROS + 1)));
    assert!(
        !got.verdict.expired && got.verdict.active,
        "3599.999999 s old"
    );
}

#[test]
fn the_maximum_age_is_one_hour_in_seconds_and_microseconds() {
    assert_eq!(drain_control::MAX_AGE_SECONDS, 3600.0);
    assert_eq!(MAX_AGE_MICROS, 3_600_000_000);
    assert_eq!(context().max_age_micros, MAX_AGE_MICROS);
}

#[test]
fn a_custom_maximum_age_moves_the_boundary_to_the_microsecond() {
    let ten_seconds = context().with_max_age_micros(10_000_000);
    assert_eq!(ten_seconds.current_epoch, EPOCH);
    assert_eq!(ten_seconds.now, now());
    let at = |age: i64| {
        let requested = Timestamp::from_unix_micros(NOW_MICROS - age).to_isoformat();
        classify(
            json!({ "requested_at": requested }).to_string().as_bytes(),
            &ten_seconds,
        )
    };
    assert!(at(10_000_000).verdict.active);
    let got = at(10_000_001);
    assert!(got.verdict.expired && !got.verdict.active);
    assert_eq!(got.expired_age_micros, Some(10_000_001));
    // The hour no longer applies: two hours old is just as expired, no more.
    assert_eq!(at(7_200_000_000).expired_age_micros, Some(7_200_000_000));
    // And a zero maximum age expires anything in the past, nothing at `now`.
    let zero = context().with_max_age_micros(0);
    let marker = |s: &str| classify(json!({ "requested_at": s }).to_string().as_bytes(), &zero);
    assert!(marker("2026-11-27T12:00:00").verdict.active);
    assert!(marker("2026-11-27T11:59:59.999999").verdict.expired);
}

#[test]
fn a_timestamp_without_an_offset_is_utc() {
    // now is 12:00 UTC. Naive 11:00 is exactly an hour old, not more.
    assert!(
        classify_text(r#"{"requested_at": "2026-11-27T11:00:00"}"#)
            .verdict
            .active
    );
    let got = classify_text(r#"{"requested_at": "2026-11-27T10:59:59.999999"}"#);
    assert_eq!(got.expired_age_micros, Some(3_600_000_001));
    // The same instants spelled with offsets judge the same way.
    assert!(
        classify_text(r#"{"requested_at": "2026-11-27T12:00:00+01:00"}"#)
            .verdict
            .active
    );
    assert!(
        classify_text(r#"{"requested_at": "2026-11-27T06:00:00-05:00"}"#)
            .verdict
            .active
    );
    let got = classify_text(r#"{"requested_at": "2026-11-27T11:59:59.999999+01:00"}"#);
    assert_eq!(got.expired_age_micros, Some(3_600_000_001));
    // Naive 12:00 is now; were it read as local time east of UTC it would be old.
    let got = classify_text(r#"{"requested_at": "2026-11-27 12:00"}"#);
    assert!(got.verdict.active && !got.verdict.expired);
}

#[test]
fn a_future_timestamp_never_expires() {
    for requested_at in [
        "2026-11-27T12:00:00.000001",
        "2026-11-27T13:00:00Z",
        "2027-01-01",
        "9999-12-31T23:59:59.999999",
        "9999-12-31T23:59:59.999999-23:59",
    ] {
        let text = json!({ "requested_at": requested_at }).to_string();
        for max_age in [MAX_AGE_MICROS, 0, 1] {
            let got = classify(text.as_bytes(), &context().with_max_age_micros(max_age));
            assert!(!got.verdict.expired && got.verdict.active, "{requested_at}");
        }
    }
    // A clock far in the past sees every marker as from the future.
    let year_one = Context::new(EPOCH, Timestamp::parse("0001-01-01").unwrap());
    let got = classify(br#"{"requested_at": "1970-01-01T00:00:00Z"}"#, &year_one);
    assert!(got.verdict.active);
}

#[test]
fn an_ancient_timestamp_expires_without_overflow() {
    let got = classify_text(r#"{"requested_at": "0001-01-01T00:00:00+01:00"}"#);
    assert!(got.verdict.expired);
    assert_eq!(
        got.expired_age_micros,
        Some(NOW_MICROS + 62_135_600_400_000_000)
    );
    // The widest span Python's datetime can express.
    let last = Timestamp::parse("9999-12-31T23:59:59.999999").unwrap();
    let got = classify(
        br#"{"requested_at": "0001-01-01"}"#,
        &Context::new(EPOCH, last),
    );
    assert_eq!(got.expired_age_micros, Some(315_537_897_599_999_999));
}

#[test]
fn missing_non_string_empty_or_unparseable_timestamps_never_expire() {
    for value in [
        "null",
        "0",
        "1",
        "true",
        "1700000000",
        "1700000000.5",
        "[\"2020-01-01\"]",
        "{\"at\":\"2020-01-01\"}",
        "\"\"",
        "\"yesterday\"",
        "\"2020-01-01T00:00:00z\"",
        "\"2020-01-01T00:00:00+24:00\"",
        "\"2020-02-30\"",
        "\" 2020-01-01\"",
        "\"Wed, 01 Jan 2020 00:00:00 GMT\"",
    ] {
        let got = classify_text(&format!(r#"{{"requested_at": {value}}}"#));
        assert!(got.reading.body().is_some(), "{value}");
        assert!(
            !got.verdict.expired && got.verdict.active,
            "requested_at {value}"
        );
        assert_eq!(got.expired_age_micros, None);
    }
    assert!(classify_text("{}").verdict.active, "no requested_at at all");
}

#[test]
fn a_stale_or_expired_marker_never_suppresses() {
    let cases = [
        r#"{"epoch": "other:1", "suppress_notification": true}"#,
        r#"{"epoch": 123, "suppress_notification": true}"#,
        r#"{"requested_at": "2026-11-27T10:00:00Z", "suppress_notification": true}"#,
        r#"{"requested_at": "2020-01-01", "epoch": "other", "suppress_notification": 1}"#,
    ];
    for text in cases {
        let got = classify_text(text);
        assert!(got.verdict.present && !got.verdict.active, "{text}");
        assert!(!got.verdict.suppressed, "{text}");
    }
    // Both reasons are reported when both hold.
    let got = classify_text(cases[3]);
    assert!(got.verdict.epoch_stale && got.verdict.expired);
}

#[test]
fn action_and_principal_are_never_consulted() {
    for text in [
        r#"{"action": "cancel"}"#,
        r#"{"action": null, "principal": null}"#,
        r#"{"action": "drain", "principal": {"evil": true}}"#,
        r#"{"principal": "revoked"}"#,
    ] {
        assert!(classify_text(text).verdict.active, "{text}");
    }
}

#[test]
fn duplicate_keys_last_value_wins_first_position_kept() {
    let got = classify_text(&format!(r#"{{"epoch": "other", "epoch": {EPOCH:?}}}"#));
    assert!(got.verdict.active, "the later, current epoch wins");
    let got = classify_text(&format!(r#"{{"epoch": {EPOCH:?}, "epoch": "other"}}"#));
    assert!(got.verdict.epoch_stale, "the later, other epoch wins");
    let got = classify_text(r#"{"suppress_notification": true, "suppress_notification": false}"#);
    assert!(got.verdict.active && !got.verdict.suppressed);
    let got =
        classify_text(r#"{"requested_at": "2026-11-27T12:00:00Z", "requested_at": "2020-01-01"}"#);
    assert!(got.verdict.expired);

    let got = classify_text(r#"{"a": 1, "b": 2, "a": 3, "c": 4, "b": 5}"#);
    let body = got.reading.body().unwrap();
    assert_eq!(body.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
    assert_eq!(Value::Object(body.clone()), json!({"a": 3, "b": 5, "c": 4}));
}

#[test]
fn keys_keep_file_order() {
    let got = classify_text(r#"{"z": 1, "epoch": "", "a": 2, "requested_at": null}"#);
    let keys: Vec<_> = got.reading.body().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["z", "epoch", "a", "requested_at"]);
}

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

#[test]
fn a_byte_order_mark_reads_as_contentless() {
    let mut raw = b"\xEF\xBB\xBF".to_vec();
    raw.extend_from_slice(br#"{"epoch": "other", "suppress_notification": true}"#);
    assert_contentless(&raw, "UTF-8 BOM before a stale object");
    assert_contentless(b"\xEF\xBB\xBF{}", "UTF-8 BOM before {}");
    assert_contentless(b"{}\xEF\xBB\xBF", "UTF-8 BOM after {}");
}

#[test]
fn invalid_utf8_reads_as_contentless() {
    let cases: &[(&[u8], &str)] = &[
        (b"{\"epoch\": \"other\xff\"}", "0xff in a string value"),
        (b"{\"ep\xC3och\": \"other\"}", "truncated sequence in a key"),
        (b"{\"epoch\": \"\xC0\xAF\"}", "overlong encoding"),
        (
            b"{\"epoch\": \"\xED\xA0\x80\"}",
            "UTF-8-encoded surrogate (CESU-8)",
        ),
        (b"{\"epoch\": \"\xF4\x90\x80\x80\"}", "beyond U+10FFFF"),
        (b"{\"epoch\": \"other\"}\xff", "stray byte after the object"),
        (b"{\x00\"epoch\": 1}", "NUL outside a string"),
        (b"{\0\"\0e\0\"\0:\0\"\0x\0\"\0}\0", "UTF-16LE"),
        (b"\xFF\xFE{\0}\0", "UTF-16LE with BOM"),
    ];
    for (raw, why) in cases {
        assert_contentless(raw, why);
    }
    // Valid multi-byte UTF-8 is fine, of course.
    let got = classify_text(r#"{"principal": "Zoë 🚀", "epoch": "ü"}"#);
    assert!(got.verdict.epoch_stale);
}

#[test]
fn anything_but_one_strict_json_object_reads_as_contentless() {
    for text in [
        "",
        " ",
        "\n\t\r ",
        "null",
        "true",
        "0",
        "\"drain\"",
        "[]",
        "[{\"epoch\": \"other\"}]",
        "{",
        "{\"epoch\": \"other\"",
        "{\"epoch\": \"other\",}",
        "{,}",
        "{\"epoch\" \"other\"}",
        "{\"epoch\": \"other\" \"x\": 1}",
        "{'epoch': 'other'}",
        "{epoch: \"other\"}",
        "{\"epoch\": \"other\"} {}",
        "{\"epoch\": \"other\"}x",
        "{\"epoch\": \"other\"}}",
        "{\"epoch\": other}",
        "{\"epoch\": \"ot\nher\"}",
        "{\"epoch\": \"ot\ther\"}",
        "{\"epoch\": \"\\x41\"}",
        "{\"epoch\": 01}",
        "{\"epoch\": 1.}",
        "{\"epoch\": .5}",
        "{\"epoch\": +1}",
        "{\"epoch\": 0x10}",
        "{\"epoch\": 1:2}",
        "{\"epoch\": truex}",
        "{\"epoch\": \"other\"} // comment",
        "/* c */ {\"epoch\": \"other\"}",
        "\u{a0}{\"epoch\": \"other\"}",
        "{\"epoch\": \"other\"}\u{c}",
        "{1: \"other\"}",
        "{null: \"other\"}",
        "{\"epoch\": \"other\", \"epoch\"}",
        "{\"epoch\": }",
    ] {
        assert_contentless(text.as_bytes(), &format!("{text:?}"));
    }
}

#[test]
fn json_whitespace_around_and_inside_the_object_is_fine() {
    let got = classify_text(" \t\r\n{ \n\"epoch\"\t:\r\"other\" ,\"x\" : [ 1 , { } ] \n}\r\n\t ");
    assert!(got.verdict.epoch_stale);
    assert_eq!(got.reading.body().unwrap()["x"], json!([1, {}]));
    assert_eq!(classify_text("{}").reading, Reading::Body(Body::new()));
    assert_eq!(classify_text(" { } ").reading, Reading::Body(Body::new()));
}

#[test]
fn escapes_and_surrogate_pairs_in_keys_and_values_are_decoded() {
    let got = classify_text(r#"{"ep\u006fch": "\ud83d\ude80", "\"\\\/\b\f\n\r\t": 1}"#);
    let body = got.reading.body().unwrap();
    assert_eq!(body["epoch"], json!("🚀"));
    assert_eq!(body["\"\\/\u{8}\u{c}\n\r\t"], json!(1));
    assert!(got.verdict.epoch_stale);
}

#[test]
fn nan_infinity_huge_numbers_and_lone_surrogates_read_as_contentless() {
    for text in [
        r#"{"epoch": "other", "x": NaN}"#,
        r#"{"epoch": "other", "x": Infinity}"#,
        r#"{"epoch": "other", "x": -Infinity}"#,
        r#"{"epoch": "other", "x": 1e400}"#,
        r#"{"epoch": "other", "x": -1e400}"#,
        r#"{"epoch": "other", "x": 1.7976931348623159e308}"#,
        r#"{"epoch": "other", "x": [1, {"y": 1e999}]}"#,
        r#"{"epoch": "\ud800"}"#,
        r#"{"epoch": "\udc00"}"#,
        r#"{"epoch": "\udc00\ud800"}"#,
        r#"{"epoch": "x\ud83d"}"#,
        r#"{"\ud800": "other", "epoch": "other"}"#,
    ] {
        assert_contentless(text.as_bytes(), text);
    }
}

/// A marker nested `depth` levels deep, the marker object itself being level 1: a
/// stale epoch (so that "read" and "contentless" give different verdicts), then one
/// container per further level, taking turns through `kinds`.
fn nested(depth: usize, kinds: &[(&str, &str)]) -> String {
    let (mut open, mut close) = (String::new(), String::new());
    for level in 2..=depth {
        let (o, c) = kinds[level % kinds.len()];
        open.push_str(o);
        close.insert_str(0, c);
    }
    format!(r#"{{"epoch": "other", "deep": {open}1{close}}}"#)
}

const ARRAYS: &[(&str, &str)] = &[("[", "]")];
const OBJECTS: &[(&str, &str)] = &[(r#"{"a":"#, "}")];
const MIXED: &[(&str, &str)] = &[("[", "]"), (r#"{"a":"#, "}"), ("[0,", ",0]")];

#[test]
fn nesting_helper_counts_the_marker_object_as_level_one() {
    assert_eq!(nested(1, ARRAYS), r#"{"epoch": "other", "deep": 1}"#);
    assert_eq!(nested(3, ARRAYS), r#"{"epoch": "other", "deep": [[1]]}"#);
    assert_eq!(
        nested(3, OBJECTS),
        r#"{"epoch": "other", "deep": {"a":{"a":1}}}"#
    );
}

#[test]
fn nesting_of_128_levels_is_read_and_129_is_contentless() {
    assert_eq!(drain_control::MAX_NESTING, 128);
    for kinds in [ARRAYS, OBJECTS, MIXED] {
        for depth in [1, 2, 100, 127, 128] {
            let got = classify_text(&nested(depth, kinds));
            assert!(
                got.reading.body().is_some(),
                "{depth} levels of {kinds:?} must be read"
            );
            assert!(got.verdict.epoch_stale, "{depth} levels of {kinds:?}");
        }
        for depth in [129, 130, 200, 5000] {
            assert_contentless(nested(depth, kinds).as_bytes(), &format!("{depth} levels"));
        }
    }
    // Depth counts containers, not brackets inside strings.
    let text = format!(r#"{{"epoch": "other", "s": "{}"}}"#, "[".repeat(1000));
    assert!(classify_text(&text).verdict.epoch_stale);
    // The 128 levels may sit anywhere in the object, between other members, and
    // several members may each be 128 deep.
    let deep = nested(128, MIXED);
    let members = &deep[1..deep.len() - 1];
    let text = format!(r#"{{"a": 1, {members}, "z": {{"deep2": {}}}}}"#, &deep);
    let got = classify_text(&text);
    assert!(
        got.reading.body().is_none(),
        "level 129 under \"z\" is too deep"
    );
    let text = format!(r#"{{"a": 1, {members}, "z": 2}}"#);
    assert_eq!(classify_text(&text).reading.body().unwrap().len(), 4);
}

#[test]
fn over_one_mebibyte_is_contentless_and_exactly_one_mebibyte_is_read() {
    let object = br#"{"epoch": "other", "suppress_notification": true}"#;
    let mut raw = object.to_vec();
    raw.resize(drain_control::MAX_MARKER_BYTES, b' ');
    assert_eq!(raw.len(), 1 << 20);
    assert!(
        classify(&raw, &context()).verdict.epoch_stale,
        "1 MiB exactly is read"
    );
    raw.push(b' ');
    assert_contentless(&raw, "1 MiB + 1 byte");
    raw.resize(2 << 20, b' ');
    assert_contentless(&raw, "2 MiB");
}

#[test]
fn active_body_is_the_body_of_an_active_marker_only() {
    let text = format!(r#"{{"epoch": {EPOCH:?}, "principal": "dash"}}"#);
    let got = classify_text(&text);
    let body = got.active_body().expect("active");
    assert_eq!(
        Value::Object(body),
        json!({ "epoch": EPOCH, "principal": "dash" })
    );

    assert_eq!(
        classify_text("[]").active_body(),
        Some(Body::new()),
        "contentless: {{}}"
    );
    assert_eq!(
        classify_text(r#"{"epoch": "other"}"#).active_body(),
        None,
        "stale"
    );
    assert_eq!(
        classify_text(r#"{"requested_at": "2020-01-01"}"#).active_body(),
        None
    );
    let absent = drain_control::judge(Reading::Absent, &context());
    assert_eq!(absent.active_body(), None, "absent");
}

#[test]
fn absent_is_not_present_and_nothing_else() {
    let got = drain_control::judge(Reading::Absent, &context());
    assert_eq!(got.reading.to_json(), None);
    assert_eq!(got.verdict, drain_control::Verdict::default());
    assert_eq!(got.expired_age_micros, None);
}

#[test]
fn any_bytes_at_all_make_a_present_marker() {
    for raw in [
        &b""[..],
        b"\0",
        b"{}",
        b"garbage",
        b"{\"epoch\": \"other\"}",
    ] {
        assert!(classify(raw, &context()).verdict.present, "{raw:?}");
    }
}
