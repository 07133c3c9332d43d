//! Instants in UTC microseconds, and the `requested_at` text format.
//!
//! The parser accepts a strict subset of what CPython 3.11's `datetime.fromisoformat`
//! accepts, with the same meaning. It is hand-written rather than taken from a date
//! crate because the contract forbids accepting anything Python rejects, and no crate
//! promises that: RFC 3339 parsers accept a lower-case `z` and reject `+HH`, ISO 8601
//! parsers accept week dates, and so on. Python's grammar is wider than ours (it takes
//! fractions after minutes, offsets with seconds, `+00:75`, any date/time separator);
//! everything outside the documented subset below reads as "unparseable", which the
//! contract turns into "never expires".

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// An instant, as whole microseconds since 1970-01-01T00:00:00Z.
///
/// Microseconds are the resolution of Python's `datetime`, so comparisons at the
/// one-hour boundary come out exactly as the original's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The instant `micros` microseconds after the Unix epoch (negative is before).
    pub const fn from_unix_micros(micros: i64) -> Self {
        Timestamp(micros)
    }

    /// Microseconds since the Unix epoch.
    pub const fn unix_micros(self) -> i64 {
        self.0
    }

    /// The system's wall clock, truncated to the microsecond like Python's `datetime.now`.
    pub fn now() -> Self {
        let micros = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
            // A clock before 1970 is a broken clock, but it must not panic a poll.
            Err(before) => -i64::try_from(before.duration().as_micros()).unwrap_or(i64::MAX),
        };
        Timestamp(micros)
    }

    /// Parses the subset of ISO 8601 that the contract requires:
    ///
    /// `YYYY-MM-DD`, optionally followed by `T` or a space and `HH`, `HH:MM`, `HH:MM:SS`
    /// or `HH:MM:SS` plus `.` or `,` and 1 to 9 fraction digits (the first 6 are kept,
    /// the rest are truncated, as Python does); then optionally `Z`, `+HH:MM`, `-HH:MM`,
    /// `+HHMM` or `+HH` with the offset strictly within ±24 h. A time without an offset
    /// is UTC. Returns `None` for anything else, including impossible calendar dates,
    /// hour 24 and second 60.
    pub fn parse(text: &str) -> Option<Self> {
        let mut cursor = Cursor(text.as_bytes());
        let year = cursor.digits::<4>()?;
        cursor.expect(b'-')?;
        let month = cursor.digits::<2>()?;
        cursor.expect(b'-')?;
        let day = cursor.digits::<2>()?;
        if year < 1 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        let mut micros_of_day = 0;
        let mut offset_seconds = 0;
        if !cursor.is_empty() {
            match cursor.next()? {
                b'T' | b' ' => {}
                _ => return None,
            }
            micros_of_day = cursor.time_of_day()?;
            if !cursor.is_empty() {
                offset_seconds = cursor.offset()?;
            }
        }
        if !cursor.is_empty() {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let local = days * SECONDS_PER_DAY * MICROS_PER_SECOND + micros_of_day;
        Some(Timestamp(local - offset_seconds * MICROS_PER_SECOND))
    }

    /// This instant as Python's `datetime.isoformat()` prints an aware UTC time:
    /// `2026-11-27T12:00:00.250000+00:00`, with the fraction left out when it is zero.
    pub fn to_isoformat(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(SECONDS_PER_DAY * MICROS_PER_SECOND);
        let micros_of_day = self.0.rem_euclid(SECONDS_PER_DAY * MICROS_PER_SECOND);
        let (year, month, day) = civil_from_days(days);
        let seconds = micros_of_day / MICROS_PER_SECOND;
        let fraction = micros_of_day % MICROS_PER_SECOND;
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )?;
        if fraction != 0 {
            write!(f, ".{fraction:06}")?;
        }
        f.write_str("+00:00")
    }
}

/// A forward-only reader over ASCII bytes. Python's parser, too, only knows ASCII
/// digits, so full-width or other Unicode digits are rejected here as they are there.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn peek(&self) -> Option<u8> {
        self.0.first().copied()
    }

    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }

    /// Exactly `N` ASCII digits, as a number. (`N` is a constant so that the loop
    /// unrolls: a poll parses a timestamp every time.)
    fn digits<const N: usize>(&mut self) -> Option<i64> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        let mut value = 0;
        for &byte in head {
            let digit = byte.wrapping_sub(b'0');
            if digit > 9 {
                return None;
            }
            value = value * 10 + i64::from(digit);
        }
        self.0 = rest;
        Some(value)
    }

    /// `HH[:MM[:SS[(.|,)f{1,9}]]]`, as microseconds since midnight.
    fn time_of_day(&mut self) -> Option<i64> {
        let hour = self.digits::<2>()?;
        let (mut minute, mut second, mut micros) = (0, 0, 0);
        if self.peek() == Some(b':') {
            self.next();
            minute = self.digits::<2>()?;
            if self.peek() == Some(b':') {
                self.next();
                second = self.digits::<2>()?;
                if matches!(self.peek(), Some(b'.' | b',')) {
                    self.next();
                    micros = self.fraction()?;
                }
            }
        }
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        Some(((hour * 60 + minute) * 60 + second) * MICROS_PER_SECOND + micros)
    }

    /// 1 to 9 digits; the first six are microseconds, the rest are dropped (not rounded).
    fn fraction(&mut self) -> Option<i64> {
        let count = self.0.iter().take_while(|b| b.is_ascii_digit()).count();
        if !(1..=9).contains(&count) {
            return None;
        }
        let (digits, rest) = self.0.split_at(count);
        self.0 = rest;
        // One pass over six places, missing places counting as zeros (".25" is
        // 250000 µs): cheaper than parsing twice and scaling by a power of ten.
        let mut micros = 0;
        for place in 0..6 {
            let digit = digits.get(place).map_or(0, |&byte| i64::from(byte - b'0'));
            micros = micros * 10 + digit;
        }
        Some(micros)
    }

    /// `Z`, `±HH`, `±HHMM` or `±HH:MM` with minutes below 60, as seconds east of UTC.
    fn offset(&mut self) -> Option<i64> {
        let sign = match self.next()? {
            b'Z' => return Some(0),
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let hours = self.digits::<2>()?;
        let minutes = match self.peek() {
            None => 0,
            Some(b':') => {
                self.next();
                self.digits::<2>()?
            }
            Some(_) => self.digits::<2>()?,
        };
        // Python requires the offset strictly within ±24 h; it would also take
        // minutes of 60 and more, which we leave out of the subset.
        if hours > 23 || minutes > 59 {
            return None;
        }
        Some(sign * (hours * 3600 + minutes * 60))
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_covers_every_day_of_four_centuries() {
        let start = days_from_civil(1900, 1, 1);
        for days in start..start + 146_097 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(days_from_civil(2000, 2, 29)), (2000, 2, 29));
    }

    #[test]
    fn fractions_keep_six_places_and_drop_the_rest() {
        let base = Timestamp::parse("2026-11-27T12:00:00")
            .unwrap()
            .unix_micros();
        for (fraction, micros) in [
            ("0", 0),
            ("5", 500_000),
            ("25", 250_000),
            ("000001", 1),
            ("123456", 123_456),
            ("1234567", 123_456),
            ("999999999", 999_999),
        ] {
            for mark in ['.', ','] {
                let text = format!("2026-11-27T12:00:00{mark}{fraction}");
                let parsed = Timestamp::parse(&text).unwrap().unix_micros();
                assert_eq!(parsed - base, micros, "{text}");
            }
        }
        for bad in [".", ".1234567890", ".x", ".-1"] {
            assert_eq!(Timestamp::parse(&format!("2026-11-27T12:00:00{bad}")), None);
        }
    }

    #[test]
    fn isoformat_drops_a_zero_fraction_like_python() {
        let ts = Timestamp::parse("2026-11-27T12:00:00Z").unwrap();
        assert_eq!(ts.to_isoformat(), "2026-11-27T12:00:00+00:00");
        let ts = Timestamp::from_unix_micros(ts.unix_micros() + 250_000);
        assert_eq!(ts.to_isoformat(), "2026-11-27T12:00:00.250000+00:00");
        assert_eq!(
            Timestamp::parse("0001-01-01T00:00:00.000001")
                .unwrap()
                .to_isoformat(),
            "0001-01-01T00:00:00.000001+00:00"
        );
    }
}
