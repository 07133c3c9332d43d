//! A few hundred generated strings and instants, asked of a live python3 (CPython
//! 3.11): the parser never accepts what Python rejects, and agrees on the instant.

use super::*;

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
