//! requested_at and the maximum age: the boundary to the microsecond, offsets, the
//! future, the distant past, and what never expires.

use super::*;

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
