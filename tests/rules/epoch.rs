//! The epoch: Python's truthiness of any JSON value, and the exact comparison with
//! the current epoch.

use super::*;

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
