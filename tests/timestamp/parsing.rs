//! The parser and the formatter against the embedded tables; the clock; ordering.

use super::*;

#[test]
fn the_table_is_big_and_varied_enough_to_mean_something() {
    assert!(TABLE.len() >= 60);
    let python_accepts = TABLE.iter().filter(|row| row.1.is_some()).count();
    let in_subset = TABLE.iter().filter(|row| row.2).count();
    assert!(
        python_accepts > in_subset && in_subset >= 40,
        "{python_accepts} {in_subset}"
    );
    for (text, python, subset) in TABLE {
        assert!(
            !subset || python.is_some(),
            "{text:?}: the subset exceeds Python"
        );
    }
}

#[test]
fn parser_matches_cpython_311_on_the_table() {
    let mut failures = Vec::new();
    for &(text, python, subset) in TABLE {
        let ours = Timestamp::parse(text).map(Timestamp::unix_micros);
        let expected = if subset { python } else { None };
        if ours != expected {
            failures.push(format!(
                "{text:?}: ours {ours:?}, expected {expected:?} (Python {python:?})"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn isoformat_matches_python_isoformat_of_aware_utc() {
    for &(micros, python) in ISOFORMAT {
        let instant = Timestamp::from_unix_micros(micros);
        assert_eq!(instant.to_isoformat(), python, "{micros}");
        assert_eq!(instant.to_string(), python, "Display is isoformat");
        assert_eq!(
            Timestamp::parse(python),
            Some(instant),
            "round trip of {python}"
        );
    }
}

#[test]
fn now_is_truncated_to_the_microsecond_and_round_trips() {
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    let now = Timestamp::now();
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    assert!(before <= now.unix_micros() && now.unix_micros() <= after);
    assert_eq!(Timestamp::parse(&now.to_isoformat()), Some(now));
}

#[test]
fn ordering_follows_the_instant() {
    let a = Timestamp::parse("2026-11-27T12:00:00+01:00").unwrap();
    let b = Timestamp::parse("2026-11-27T11:30:00").unwrap();
    assert!(a < b);
    assert_eq!(
        Timestamp::parse("2026-11-27T12:00:00+01:00"),
        Timestamp::parse("2026-11-27T11:00:00Z")
    );
}
