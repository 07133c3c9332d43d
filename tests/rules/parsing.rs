//! Reading the bytes as one strict JSON object: repeated keys, key order, escapes and
//! whitespace; anything else (a BOM, invalid UTF-8, NaN, ...) reads as contentless.

use super::*;

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
