//! The timestamp parser on any text, and the printer on any instant: neither panics;
//! what parses is printed as Python's isoformat() and parses back to the same instant
//! (within the years Python's datetime can hold); every instant in those years prints
//! in the one shape the contract writes and reads back exactly.
#![no_main]

use drain_control::Timestamp;
use libfuzzer_sys::fuzz_target;

/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z, in Unix microseconds.
const FIRST: i64 = -62_135_596_800_000_000;
const LAST: i64 = 253_402_300_799_999_999;

fn has_isoformat_shape(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    let head = b.len() >= 25
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    head && match b.len() {
        25 => &b[19..] == b"+00:00",
        32 => b[19] == b'.' && digits(20..26) && &b[26..] == b"+00:00",
        _ => false,
    }
}

fn round_trips(at: Timestamp) {
    let text = at.to_isoformat();
    if (FIRST..=LAST).contains(&at.unix_micros()) {
        assert!(has_isoformat_shape(&text), "{at:?} printed as {text:?}");
        assert_eq!(
            Timestamp::parse(&text),
            Some(at),
            "{text:?} does not read back"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Some(at) = Timestamp::parse(text)
    {
        // Only the contract's characters can make up a parseable timestamp.
        assert!(
            text.bytes()
                .all(|c| c.is_ascii_digit() || b"-T :.,Z+".contains(&c)),
            "{text:?} parsed"
        );
        assert!(text.len() <= 35, "{text:?} parsed");
        round_trips(at);
    }
    if data.len() >= 8 {
        let micros = i64::from_le_bytes(data[..8].try_into().unwrap());
        round_trips(Timestamp::from_unix_micros(micros));
        // Also a clamped instant, so that most inputs land within Python's years.
        let span = (LAST - FIRST) as u64 + 1;
        let inside = FIRST + (micros as u64 % span) as i64;
        round_trips(Timestamp::from_unix_micros(inside));
        let _ = Timestamp::from_unix_micros(micros).to_string();
    }
});
