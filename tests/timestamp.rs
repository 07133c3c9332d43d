//! The timestamp parser against CPython 3.11's `datetime.fromisoformat`.
//!
//! The contract: accept a subset of what Python accepts, with the same meaning; never
//! accept a string Python rejects. The tables below were produced by CPython 3.11.7
//! running `tests/generators/timestamp_table.py` and `isoformat_table.py` and are
//! embedded, so they need no Python; one further test asks a live python3 about a few
//! hundred generated strings.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};

use drain_control::Timestamp;
use serde_json::{Value, json};

/// Inside the subset this library parses: it must give Python's instant.
const IN: bool = true;
/// Outside it: it must be rejected, whatever Python says (Python may accept it).
const OUT: bool = false;

/// (string, Python's instant in microseconds since the Unix epoch with a naive time
/// read as UTC, or `None` where Python raises; whether the string is in our subset).
#[rustfmt::skip]
const TABLE: &[(&str, Option<i64>, bool)] = &[
    ("2026-11-27", Some(1795737600000000), IN),
    ("2026-11-27T10", Some(1795773600000000), IN),
    ("2026-11-27T10:00", Some(1795773600000000), IN),
    ("2026-11-27T10:00:00", Some(1795773600000000), IN),
    ("2026-11-27 10:00:00", Some(1795773600000000), IN),
    ("2026-11-27T10:00:00.250000+00:00", Some(1795773600250000), IN),
    ("2026-11-27T10:00:00Z", Some(1795773600000000), IN),
    ("2026-11-27T10Z", Some(1795773600000000), IN),
    ("2026-11-27T10:30Z", Some(1795775400000000), IN),
    ("2026-11-27T10:00:00+05:30", Some(1795753800000000), IN),
    ("2026-11-27T10:00:00-08:00", Some(1795802400000000), IN),
    ("2026-11-27T10:00:00+0530", Some(1795753800000000), IN),
    ("2026-11-27T10:00:00-0800", Some(1795802400000000), IN),
    ("2026-11-27T10:00:00+05", Some(1795755600000000), IN),
    ("2026-11-27T10:00:00-00", Some(1795773600000000), IN),
    ("2026-11-27T10:00-00:00", Some(1795773600000000), IN),
    ("2026-11-27T10+05", Some(1795755600000000), IN),
    ("2026-11-27T10:00:00.1", Some(1795773600100000), IN),
    ("2026-11-27T10:00:00.12", Some(1795773600120000), IN),
    ("2026-11-27T10:00:00.123", Some(1795773600123000), IN),
    ("2026-11-27T10:00:00.1234", Some(1795773600123400), IN),
    ("2026-11-27T10:00:00.12345", Some(1795773600123450), IN),
    ("2026-11-27T10:00:00.123456", Some(1795773600123456), IN),
    ("2026-11-27T10:00:00.1234567", Some(1795773600123456), IN),
    ("2026-11-27T10:00:00.12345678", Some(1795773600123456), IN),
    ("2026-11-27T10:00:00.123456789", Some(1795773600123456), IN),
    ("2026-11-27T10:00:00.999999999", Some(1795773600999999), IN),
    ("2026-11-27T10:00:00.000000001", Some(1795773600000000), IN),
    ("2026-11-27T10:00:00,5", Some(1795773600500000), IN),
    ("2026-11-27T10:00:00,123456789Z", Some(1795773600123456), IN),
    ("2026-11-27T10:00:00.5+01:00", Some(1795770000500000), IN),
    ("2026-11-27T10:00:00.1234567890", Some(1795773600123456), OUT),
    ("2026-11-27T10:00:00.123456789012", Some(1795773600123456), OUT),
    ("2026-11-27T10:00:00.", None, OUT),
    ("2026-11-27T10:00:00,", None, OUT),
    ("2026-11-27T10:00:00.1a", None, OUT),
    ("2026-11-27T10:00:00.+01:00", Some(1795770000000000), OUT),
    ("2026-11-27T10:00:00,Z", Some(1795773600000000), OUT),
    ("2026-11-27T10.5", Some(1795773600500000), OUT),
    ("2026-11-27T10:00.5", Some(1795773600500000), OUT),
    ("2024-02-29", Some(1709164800000000), IN),
    ("2024-02-29T23:59:59.999999", Some(1709251199999999), IN),
    ("2000-02-29", Some(951782400000000), IN),
    ("2026-02-29", None, OUT),
    ("1900-02-29", None, OUT),
    ("2100-02-29", None, OUT),
    ("2026-02-28", Some(1772236800000000), IN),
    ("2026-04-30", Some(1777507200000000), IN),
    ("2026-04-31", None, OUT),
    ("2026-06-31", None, OUT),
    ("2026-12-31", Some(1798675200000000), IN),
    ("2026-12-32", None, OUT),
    ("2026-13-01", None, OUT),
    ("2026-00-10", None, OUT),
    ("2026-01-00", None, OUT),
    ("0000-01-01", None, OUT),
    ("0001-01-01", Some(-62135596800000000), IN),
    ("0001-01-01T00:00:00+01:00", Some(-62135600400000000), IN),
    ("0999-12-31T23:59:59", Some(-30610224001000000), IN),
    ("9999-12-31T23:59:59.999999", Some(253402300799999999), IN),
    ("9999-12-31T23:59:59.999999-23:59", Some(253402387139999999), IN),
    ("1969-12-31T23:59:59.999999", Some(-1), IN),
    ("1970-01-01T00:00:00Z", Some(0), IN),
    ("2026-11-27T23:59:59", Some(1795823999000000), IN),
    ("2026-11-27T24:00", None, OUT),
    ("2026-11-27T24:00:00", None, OUT),
    ("2026-11-27T23:60", None, OUT),
    ("2026-11-27T23:59:60", None, OUT),
    ("2026-11-27T00:00:00", Some(1795737600000000), IN),
    ("2026-11-27T1:00", None, OUT),
    ("2026-11-27T10:0", None, OUT),
    ("2026-11-27T10:00:0", None, OUT),
    ("2026-11-27T10:00:", None, OUT),
    ("2026-11-27T10:00+23:59", Some(1795687260000000), IN),
    ("2026-11-27T10:00-23:59", Some(1795859940000000), IN),
    ("2026-11-27T10:00+24:00", None, OUT),
    ("2026-11-27T10:00-24:00", None, OUT),
    ("2026-11-27T10:00+2400", None, OUT),
    ("2026-11-27T10:00+24", None, OUT),
    ("2026-11-27T10:00+23", Some(1795690800000000), IN),
    ("2026-11-27T10:00+00:60", Some(1795770000000000), OUT),
    ("2026-11-27T10:00+00:75", Some(1795769100000000), OUT),
    ("2026-11-27T10:00+23:60", None, OUT),
    ("2026-11-27T10:00+05:30:15", Some(1795753785000000), OUT),
    ("2026-11-27T10:00+05:30:15.5", Some(1795753784500000), OUT),
    ("2026-11-27T10:00+5", None, OUT),
    ("2026-11-27T10:00+05:3", None, OUT),
    ("2026-11-27T10:00+123", None, OUT),
    ("2026-11-27T10:00+12345", None, OUT),
    ("2026-11-27T10:00+", None, OUT),
    ("2026-11-27T10:00-", None, OUT),
    ("2026-11-27T10:00Z+01:00", None, OUT),
    ("2026-11-27T10:00+01:00Z", None, OUT),
    ("2026-11-27T10:00ZZ", None, OUT),
    ("2026-11-27T10:00 +01:00", Some(1795770000000000), OUT),
    ("2026-11-27+01:00", Some(1795741200000000), OUT),
    ("2026-11-27Z", None, OUT),
    ("2026-11-27T10:00z", None, OUT),
    ("2026-11-27t10:00", Some(1795773600000000), OUT),
    ("2026-11-27t10:00:00Z", Some(1795773600000000), OUT),
    (" 2026-11-27T10:00", None, OUT),
    ("2026-11-27T10:00 ", None, OUT),
    ("2026-11-27T10:00Z ", None, OUT),
    ("2026-11-27T10:00\u{a}", None, OUT),
    ("\u{9}2026-11-27", None, OUT),
    ("2026-11-27x10:00", Some(1795773600000000), OUT),
    ("2026-11-27_10:00", Some(1795773600000000), OUT),
    ("2026-11-27-10:00", Some(1795773600000000), OUT),
    ("2026-11-27:10:00", Some(1795773600000000), OUT),
    ("2026-11-27\u{e9}10:00", Some(1795773600000000), OUT),
    ("2026-11-27\u{3000}10:00", Some(1795773600000000), OUT),
    ("2026-11-27  10:00", None, OUT),
    ("2026-11-27T", None, OUT),
    ("2026-11-27 ", None, OUT),
    ("20261127", Some(1795737600000000), OUT),
    ("20261127T100000", Some(1795773600000000), OUT),
    ("2026-11-27T1000", Some(1795773600000000), OUT),
    ("2026-11-27T100000", Some(1795773600000000), OUT),
    ("2026-11-27T100000.5", Some(1795773600500000), OUT),
    ("2026-W48", Some(1795392000000000), OUT),
    ("2026-W48-5", Some(1795737600000000), OUT),
    ("2026W485", Some(1795737600000000), OUT),
    ("2026-331", None, OUT),
    ("2026-11", None, OUT),
    ("", None, OUT),
    ("T", None, OUT),
    ("now", None, OUT),
    ("yesterday", None, OUT),
    ("2026", None, OUT),
    ("2026-1-27", None, OUT),
    ("2026-11-7", None, OUT),
    ("26-11-27", None, OUT),
    ("+2026-11-27", None, OUT),
    ("-2026-11-27", None, OUT),
    ("12026-11-27", None, OUT),
    ("2026/11/27", None, OUT),
    ("2026-11-27T10:00:00.123456+00:00:00", Some(1795773600123456), OUT),
    ("Fri, 27 Nov 2026 10:00:00 GMT", None, OUT),
    ("1795773600", None, OUT),
    ("\u{ff12}\u{ff10}\u{ff12}\u{ff16}-11-27", None, OUT),
    ("2026-11-27T\u{ff11}\u{ff10}:00", None, OUT),
    ("2026-11-27T10:00:00\u{b2}", None, OUT),
    ("2026-\u{661}\u{661}-27", None, OUT),
];

/// (microseconds since the Unix epoch, Python's `isoformat()` of that aware UTC time).
#[rustfmt::skip]
const ISOFORMAT: &[(i64, &str)] = &[
    (0, "1970-01-01T00:00:00+00:00"),
    (1, "1970-01-01T00:00:00.000001+00:00"),
    (-1, "1969-12-31T23:59:59.999999+00:00"),
    (999999, "1970-01-01T00:00:00.999999+00:00"),
    (1000000, "1970-01-01T00:00:01+00:00"),
    (100000, "1970-01-01T00:00:00.100000+00:00"),
    (10, "1970-01-01T00:00:00.000010+00:00"),
    (250000, "1970-01-01T00:00:00.250000+00:00"),
    (1795780800000000, "2026-11-27T12:00:00+00:00"),
    (1795780800250000, "2026-11-27T12:00:00.250000+00:00"),
    (1795780799999999, "2026-11-27T11:59:59.999999+00:00"),
    (951782400000000, "2000-02-29T00:00:00+00:00"),
    (951868799999999, "2000-02-29T23:59:59.999999+00:00"),
    (-2208988800000000, "1900-01-01T00:00:00+00:00"),
    (-30610224000000001, "0999-12-31T23:59:59.999999+00:00"),
    (-30610224001000000, "0999-12-31T23:59:59+00:00"),
    (-59027052599999995, "0099-07-04T12:30:00.000005+00:00"),
    (-61883136000000000, "0009-01-01T00:00:00+00:00"),
    (-62135596800000000, "0001-01-01T00:00:00+00:00"),
    (-62135596799999999, "0001-01-01T00:00:00.000001+00:00"),
    (253402300799999999, "9999-12-31T23:59:59.999999+00:00"),
    (1709208000000010, "2024-02-29T12:00:00.000010+00:00"),
    (2147483648000000, "2038-01-19T03:14:08+00:00"),
];

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

/// A small deterministic generator (splitmix64), so every run asks the same questions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    fn digits(&mut self, count: u64) -> String {
        (0..count)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

/// A timestamp built field by field, mostly valid, sometimes just out of range, in
/// every layout Python knows and a few it does not.
fn structured(rng: &mut Rng) -> String {
    let mut text = if rng.chance(95) {
        format!("{:04}", rng.below(10_000))
    } else {
        let count = rng.pick(&[2, 3, 5]);
        rng.digits(count)
    };
    let (month, day) = if rng.chance(85) {
        (1 + rng.below(12), 1 + rng.below(31))
    } else {
        (rng.below(14), rng.below(33))
    };
    if rng.chance(92) {
        text += &format!("-{month:02}-{day:02}");
    } else {
        text += &format!("{month:02}{day:02}");
    }
    if rng.chance(15) {
        return text;
    }
    text.push(rng.pick(&['T', 'T', 'T', 'T', ' ', ' ', 't', 'x', '-', '\u{e9}']));
    let field = |rng: &mut Rng, max: u64| {
        if rng.chance(90) {
            rng.below(max)
        } else {
            max + rng.below(3)
        }
    };
    text += &format!("{:02}", field(rng, 24));
    let colon = if rng.chance(90) { ":" } else { "" };
    let parts = rng.below(4);
    if parts >= 1 {
        text += &format!("{colon}{:02}", field(rng, 60));
    }
    if parts >= 2 {
        text += &format!("{colon}{:02}", field(rng, 60));
    }
    if parts >= 3 || rng.chance(5) {
        text.push(rng.pick(&['.', '.', ',']));
        let count = rng.pick(&[1, 2, 3, 4, 5, 6, 6, 7, 8, 9, 9, 10, 12]);
        text += &rng.digits(count);
    }
    match rng.below(10) {
        0..=2 => {}
        3 => text.push('Z'),
        4 => text.push('z'),
        _ => {
            text.push(rng.pick(&['+', '-']));
            text += &format!("{:02}", field(rng, 24));
            match rng.below(5) {
                0 => {}
                1 => text += &format!("{:02}", field(rng, 60)),
                2 => text += &format!(":{:02}:{:02}", field(rng, 60), rng.below(60)),
                _ => {
                    text += &format!(
                        ":{:02}",
                        if rng.chance(90) {
                            rng.below(60)
                        } else {
                            rng.below(100)
                        }
                    )
                }
            }
        }
    }
    text
}

const ALPHABET: &[char] = &[
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '-', ':', 'T', ' ', 'Z', '+', '.', ',', 'z',
    'W', 't', '_', '/', '\u{e9}', '\u{ff11}',
];

/// A structured timestamp with one to three random edits.
fn mutated(rng: &mut Rng) -> String {
    let mut chars: Vec<char> = structured(rng).chars().collect();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(chars.len() as u64 + 1) as usize;
        match rng.below(6) {
            0 if at < chars.len() => {
                chars.remove(at);
            }
            1 => chars.insert(at, rng.pick(ALPHABET)),
            2 if at < chars.len() => chars[at] = rng.pick(ALPHABET),
            3 if at + 1 < chars.len() => chars.swap(at, at + 1),
            4 => chars.truncate(at),
            _ => {
                let from = rng.below(chars.len() as u64 + 1) as usize;
                let piece: Vec<char> = chars[from.min(at)..from.max(at)].to_vec();
                chars.splice(at..at, piece);
            }
        }
    }
    chars.into_iter().collect()
}

/// Random characters, heavy on digits and separators.
fn noise(rng: &mut Rng) -> String {
    (0..rng.below(28)).map(|_| rng.pick(ALPHABET)).collect()
}

/// What a python3 on this machine says, or `None` (with the reason printed) where
/// there is no usable one.
fn ask_python(questions: &[Value]) -> Option<Vec<Value>> {
    const SCRIPT: &str = r#"
import json, sys
from datetime import datetime, timedelta, timezone
UNIX = datetime(1970, 1, 1, tzinfo=timezone.utc)
US = timedelta(microseconds=1)
print(json.dumps(list(sys.version_info[:3])))
for line in sys.stdin:
    kind, value = json.loads(line)
    if kind == "parse":
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            print("null")
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        print((parsed - UNIX) // US)
    else:
        print(json.dumps((UNIX + timedelta(microseconds=value)).isoformat()))
"#;
    let spawned = ["python3.11", "python3"].iter().find_map(|name| {
        Command::new(name)
            .args(["-c", SCRIPT])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .ok()
    });
    let Some(mut child) = spawned else {
        println!("SKIPPED: no python3 on PATH; the differential timestamp test needs CPython 3.11");
        return None;
    };
    let mut stdin = child.stdin.take().unwrap();
    let input: String = questions.iter().map(|q| format!("{q}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let version: Vec<u64> = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    if version[..2] < [3, 11][..] {
        // An older Python rejects what 3.11 accepts (`Z`, `+HH`, ...); asking it would
        // report false failures. The contract is CPython 3.11.
        println!("SKIPPED: python3 is {version:?}; the contract is CPython 3.11's fromisoformat");
        let _ = child.kill();
        let _ = child.wait();
        return None;
    }
    println!(
        "asking python3 {version:?} about {} inputs",
        questions.len()
    );
    let answers: Vec<Value> = lines
        .map(|line| serde_json::from_str(&line.unwrap()).unwrap())
        .collect();
    writer.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success(), "python3 failed");
    assert_eq!(
        answers.len(),
        questions.len(),
        "python3 answered every question"
    );
    Some(answers)
}

#[test]
fn parser_never_accepts_what_python_rejects_and_agrees_on_the_instant() {
    let mut rng = Rng(0x5EED_DA7E_2026_1127);
    let mut strings: Vec<String> = TABLE.iter().map(|row| row.0.to_owned()).collect();
    strings.extend((0..250).map(|_| structured(&mut rng)));
    strings.extend((0..250).map(|_| mutated(&mut rng)));
    strings.extend((0..100).map(|_| noise(&mut rng)));
    const FIRST: i64 = -62_135_596_800_000_000; // 0001-01-01T00:00:00Z
    const LAST: i64 = 253_402_300_799_999_999; // 9999-12-31T23:59:59.999999Z
    let mut instants: Vec<i64> = (0..200)
        .map(|_| FIRST + (rng.next() % (LAST - FIRST + 1) as u64) as i64)
        .collect();
    // Whole seconds too, where the fraction is left out.
    instants.extend((0..50).map(|_| FIRST + (rng.next() % 315_537_897_600) as i64 * 1_000_000));

    let questions: Vec<Value> = strings
        .iter()
        .map(|s| json!(["parse", s]))
        .chain(instants.iter().map(|&m| json!(["isoformat", m])))
        .collect();
    let Some(answers) = ask_python(&questions) else {
        return;
    };
    let (parse_answers, iso_answers) = answers.split_at(strings.len());

    let mut failures = Vec::new();
    let (mut both, mut python_only, mut neither) = (0, 0, 0);
    for (text, answer) in strings.iter().zip(parse_answers) {
        let python = answer.as_i64();
        assert!(python.is_some() || answer.is_null(), "{answer}");
        let ours = Timestamp::parse(text).map(Timestamp::unix_micros);
        match (ours, python) {
            (Some(ours), Some(python)) if ours == python => both += 1,
            (Some(ours), Some(python)) => {
                failures.push(format!("{text:?}: ours {ours}, Python {python}"))
            }
            (Some(ours), None) => failures.push(format!("{text:?}: ours {ours}, Python rejects")),
            (None, Some(_)) => python_only += 1,
            (None, None) => neither += 1,
        }
    }
    for (&micros, answer) in instants.iter().zip(iso_answers) {
        let ours = Timestamp::from_unix_micros(micros);
        if answer.as_str() != Some(ours.to_isoformat().as_str()) {
            failures.push(format!(
                "isoformat of {micros}: ours {ours}, Python {answer}"
            ));
        }
        if Timestamp::parse(&ours.to_isoformat()) != Some(ours) {
            failures.push(format!("{ours} does not parse back to {micros}"));
        }
    }
    println!("both accept {both}, only Python accepts {python_only}, both reject {neither}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The generator must reach all three regions, or the test proves little.
    assert!(
        both >= 100 && python_only >= 50 && neither >= 150,
        "{both} {python_only} {neither}"
    );
}

/// The output of a generator script under CPython 3.11, or `None` (printed) where
/// there is none to run.
fn run_generator(script: &str) -> Option<String> {
    let path = format!("{}/tests/generators/{script}", env!("CARGO_MANIFEST_DIR"));
    for python in ["python3.11", "python3"] {
        let Ok(output) = Command::new(python).arg(&path).output() else {
            continue;
        };
        let version = Command::new(python)
            .args(["-c", "import sys; print(sys.version_info[:2] == (3, 11))"])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&version.stdout).trim() != "True" {
            continue;
        }
        assert!(
            output.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return Some(String::from_utf8(output.stdout).unwrap());
    }
    println!("SKIPPED: no CPython 3.11 to re-run {script}");
    None
}

#[test]
fn the_embedded_tables_are_what_the_generators_print() {
    let source = include_str!("timestamp.rs");
    for script in ["timestamp_table.py", "isoformat_table.py"] {
        let Some(output) = run_generator(script) else {
            return;
        };
        for line in output.lines() {
            assert!(
                source.contains(line),
                "{script} now prints a row not in the table: {line}"
            );
        }
    }
    assert_eq!(
        source.matches("\n    (\"").count(),
        TABLE.len(),
        "no hand-added rows"
    );
}
