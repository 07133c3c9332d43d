//! The verdict as a whole: what is never consulted, the active body, absent, present.

use super::*;

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
