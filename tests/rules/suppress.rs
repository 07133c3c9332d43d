//! suppress_notification: Python's truthiness, numbers rounded as Python rounds them,
//! and only an active marker suppresses.

use super::*;

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
