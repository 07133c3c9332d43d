//! The reader's limits: 128 levels of nesting and 1 MiB of marker.

use super::*;

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
