//! The marker a write produces, byte for byte.
//!
//! The expected bytes were produced by CPython 3.11 running
//! `tests/generators/payload_bytes.py`: `json.dumps(payload, indent=2,
//! ensure_ascii=False)` encoded as UTF-8, the original's layout. They are embedded
//! here, so the test needs no Python.

use drain_control::{Context, Payload, Timestamp, classify};
use serde_json::{Value, json};

struct Case {
    principal: &'static str,
    suppress: bool,
    epoch: &'static str,
    requested_at: &'static str,
    bytes: &'static [u8],
}

/// Every control character U+0000 to U+001F, in order.
const CONTROL_CHARS: &str = "\u{0}\u{1}\u{2}\u{3}\u{4}\u{5}\u{6}\u{7}\u{8}\t\n\u{b}\u{c}\r\u{e}\u{f}\
\u{10}\u{11}\u{12}\u{13}\u{14}\u{15}\u{16}\u{17}\u{18}\u{19}\u{1a}\u{1b}\u{1c}\u{1d}\u{1e}\u{1f}";

const CASES: &[Case] = &[
    Case {
        principal: "dashboard",
        suppress: false,
        epoch: "e29a6d62-5c88-4c3f-81b3-793f64f15787:24",
        requested_at: "2026-11-27T12:00:00.250000+00:00",
        bytes: b"{\n  \"action\": \"drain\",\n  \"requested_at\": \"2026-11-27T12:00:00.250000+00:00\",\n  \"principal\": \"dashboard\",\n  \"epoch\": \"e29a6d62-5c88-4c3f-81b3-793f64f15787:24\",\n  \"suppress_notification\": false\n}",
    },
    Case {
        principal: "drain-control",
        suppress: true,
        epoch: "",
        requested_at: "2026-11-27T12:00:00+00:00",
        bytes: b"{\n  \"action\": \"drain\",\n  \"requested_at\": \"2026-11-27T12:00:00+00:00\",\n  \"principal\": \"drain-control\",\n  \"epoch\": \"\",\n  \"suppress_notification\": true\n}",
    },
    Case {
        principal: "Zoë 🚀 ünïcode 日本",
        suppress: false,
        epoch: "1727384428",
        requested_at: "0999-01-01T00:00:00.000001+00:00",
        bytes: b"{\n  \"action\": \"drain\",\n  \"requested_at\": \"0999-01-01T00:00:00.000001+00:00\",\n  \"principal\": \"Zo\xc3\xab \xf0\x9f\x9a\x80 \xc3\xbcn\xc3\xafcode \xe6\x97\xa5\xe6\x9c\xac\",\n  \"epoch\": \"1727384428\",\n  \"suppress_notification\": false\n}",
    },
    Case {
        principal: "say \"hi\" \\ back\\slash /",
        suppress: true,
        epoch: "b:1",
        requested_at: "2026-11-27T12:00:00+00:00",
        bytes: b"{\n  \"action\": \"drain\",\n  \"requested_at\": \"2026-11-27T12:00:00+00:00\",\n  \"principal\": \"say \\\"hi\\\" \\\\ back\\\\slash /\",\n  \"epoch\": \"b:1\",\n  \"suppress_notification\": true\n}",
    },
    Case {
        principal: CONTROL_CHARS,
        suppress: false,
        epoch: "c:2",
        requested_at: "2026-11-27T12:00:00+00:00",
        bytes: b"{\n  \"action\": \"drain\",\n  \"requested_at\": \"2026-11-27T12:00:00+00:00\",\n  \"principal\": \"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\",\n  \"epoch\": \"c:2\",\n  \"suppress_notification\": false\n}",
    },
    Case {
        principal: "del\u{7f} nel\u{85} ls\u{2028} ps\u{2029} bom\u{feff} nbsp\u{a0}",
        suppress: false,
        epoch: "\u{2028}:\u{7f}",
        requested_at: "2026-11-27T12:00:00+00:00",
        bytes: b"{\n  \"action\": \"drain\",\n  \"requested_at\": \"2026-11-27T12:00:00+00:00\",\n  \"principal\": \"del\x7f nel\xc2\x85 ls\xe2\x80\xa8 ps\xe2\x80\xa9 bom\xef\xbb\xbf nbsp\xc2\xa0\",\n  \"epoch\": \"\xe2\x80\xa8:\x7f\",\n  \"suppress_notification\": false\n}",
    },
    Case {
        principal: "",
        suppress: false,
        epoch: "",
        requested_at: "1970-01-01T00:00:00+00:00",
        bytes: b"{\n  \"action\": \"drain\",\n  \"requested_at\": \"1970-01-01T00:00:00+00:00\",\n  \"principal\": \"\",\n  \"epoch\": \"\",\n  \"suppress_notification\": false\n}",
    },
];

fn payload(case: &Case) -> Payload {
    let at = Timestamp::parse(case.requested_at).unwrap();
    Payload::new(case.principal, case.suppress, case.epoch, at)
}

#[test]
fn control_chars_constant_is_every_c0_character() {
    let expected: String = (0u8..0x20).map(char::from).collect();
    assert_eq!(CONTROL_CHARS, expected);
}

#[test]
fn payload_bytes_equal_python_json_dumps_indent_2_ensure_ascii_false() {
    for case in CASES {
        let payload = payload(case);
        assert_eq!(
            payload.requested_at, case.requested_at,
            "isoformat of the instant"
        );
        let got = payload.to_bytes();
        assert!(
            got == case.bytes,
            "principal {:?}:\n got {}\nwant {}",
            case.principal,
            got.escape_ascii(),
            case.bytes.escape_ascii(),
        );
    }
}

#[test]
fn payload_has_the_contract_key_order_and_no_trailing_newline() {
    let payload = payload(&CASES[0]);
    let body = payload.to_body();
    let keys: Vec<_> = body.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "action",
            "requested_at",
            "principal",
            "epoch",
            "suppress_notification"
        ]
    );
    assert_eq!(body["action"], "drain");
    let bytes = payload.to_bytes();
    assert_eq!(bytes.first(), Some(&b'{'));
    assert_eq!(bytes.last(), Some(&b'}'), "no trailing newline");
}

#[test]
fn a_written_payload_reads_back_as_itself_and_is_active_for_its_epoch() {
    for case in CASES {
        let payload = payload(case);
        let now = Timestamp::parse(case.requested_at).unwrap();
        let got = classify(&payload.to_bytes(), &Context::new(case.epoch, now));
        assert_eq!(
            got.reading.body(),
            Some(&payload.to_body()),
            "{:?}",
            case.principal
        );
        assert!(got.verdict.active, "{:?}", case.principal);
        assert_eq!(
            got.verdict.suppressed, case.suppress,
            "{:?}",
            case.principal
        );
        // ... and stale for any other non-empty epoch (when it has one).
        let elsewhere = classify(&payload.to_bytes(), &Context::new("other:1", now));
        assert_eq!(elsewhere.verdict.epoch_stale, !case.epoch.is_empty());
    }
    let body = Value::Object(payload(&CASES[2]).to_body());
    assert_eq!(body["principal"], json!("Zoë 🚀 ünïcode 日本"));
}

#[test]
fn the_embedded_bytes_are_what_the_generator_prints() {
    let script = format!(
        "{}/tests/generators/payload_bytes.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let Ok(output) = std::process::Command::new("python3").arg(&script).output() else {
        println!("SKIPPED: no python3 to re-run {script}");
        return;
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let source = include_str!("payload.rs");
    let literals: Vec<&str> = std::str::from_utf8(&output.stdout)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("b\""))
        .map(|line| line.trim_end_matches(','))
        .collect();
    assert_eq!(literals.len(), CASES.len());
    for literal in literals {
        assert!(
            source.contains(literal),
            "the generator now prints {literal}"
        );
    }
}
