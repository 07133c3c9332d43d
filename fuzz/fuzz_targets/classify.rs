//! The classifier on any bytes, any epoch, any clock: it never panics, its verdict is
//! self-consistent, the fast reading a poll uses (`inspect::verdict` after the read)
//! agrees with the full one (`classify`) on the verdict and on the expiry warning, a warning never carries a raw control character
//! (no log injection), and a body re-serialized reads back the same.
#![no_main]

use std::path::Path;

use drain_control::inspect::verdict_of_bytes_for_tests as fast_verdict;
use drain_control::{Context, MAX_AGE_MICROS, Reading, Timestamp, Warning, classify};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

mod input;
use input::Input;

const EPOCH: &str = "0c3a9c5e-0d47-4d3b-9a11-0b5f5e1d6a3e:1234";

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mode = input.byte();
    let epoch_text;
    let epoch: &str = match mode & 3 {
        0 => "",
        1 => EPOCH,
        2 => {
            let len = usize::from(input.byte() & 63);
            epoch_text = String::from_utf8_lossy(input.take(len)).into_owned();
            &epoch_text
        }
        _ => "x",
    };
    let clock = input.i64();
    let max_age = if mode & 4 == 0 {
        MAX_AGE_MICROS
    } else {
        input.i64()
    };
    let raw = input.0;

    // The clock: raw, or near the marker's own requested_at, where expiry flips.
    let read = Reading::from_bytes(raw);
    let requested = read
        .body()
        .and_then(|body| body.get("requested_at"))
        .and_then(Value::as_str)
        .and_then(Timestamp::parse);
    let now = match requested {
        Some(at) if mode & 8 == 0 => Timestamp::from_unix_micros(
            at.unix_micros()
                .saturating_add(max_age)
                .saturating_add(clock % 5_000_000),
        ),
        _ => Timestamp::from_unix_micros(clock),
    };
    let context = Context::new(epoch, now).with_max_age_micros(max_age);

    let full = classify(raw, &context);
    let v = full.verdict;
    assert!(v.present, "bytes always make a present marker");
    assert_eq!(full.reading, read);
    assert_eq!(v.active, v.present && !v.epoch_stale && !v.expired);
    assert!(!v.suppressed || v.active);
    assert_eq!(v.expired, full.expired_age_micros.is_some());
    if let Some(age) = full.expired_age_micros {
        assert!(age > max_age);
    }
    if epoch.is_empty() {
        assert!(!v.epoch_stale, "an empty epoch never makes a marker stale");
    }

    // The poll's fast reading: the same verdict and the same warning.
    let path = Path::new("/home/gw/.drain_request.json");
    let (fast, warning) = fast_verdict(path, Some(raw), &context);
    assert_eq!(fast, v, "fast and full readings disagree on {raw:?}");
    let body = full.reading.body();
    let expected = full.expired_age_micros.map(|age_micros| Warning::Expired {
        path: path.to_path_buf(),
        requested_at: body
            .and_then(|b| b.get("requested_at"))
            .and_then(Value::as_str)
            .expect("an expired marker has a requested_at string")
            .to_owned(),
        age_micros,
        max_age_micros: max_age,
        principal: body.and_then(|b| b.get("principal")).cloned(),
    });
    assert_eq!(
        warning, expected,
        "fast and full warnings disagree on {raw:?}"
    );
    if let Some(warning) = &warning {
        let line = warning.to_string();
        assert!(
            !line
                .chars()
                .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}'),
            "a warning carries a raw control character: {line:?}"
        );
    }

    // A body written back out reads as the same body, with the same verdict.
    if let Some(body) = body {
        let again = serde_json::to_vec(body).expect("a body serializes");
        let reread = classify(&again, &context);
        assert_eq!(reread.reading, full.reading, "re-serialized body differs");
        assert_eq!(reread.verdict, v);
    }

    // A marker too large to read is contentless: present, and active unless nothing.
    let (large, none) = fast_verdict(path, None, &context);
    assert!(large.present && large.active && !large.suppressed && none.is_none());
});
