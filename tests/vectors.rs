//! Every shared contract vector through the pure classifier.
//!
//! The vectors were produced by running the original module. This harness only runs
//! each vector's marker bytes, epoch and "now" through [`classify`] and writes what it
//! made of it, one JSON line a vector; whether that is what the vector expects is
//! decided by `tests/vectors/match.py`, the one matcher of every binding (Rust, C, Go,
//! Python), which this test runs and which fails it on any mismatch or missing vector.

use std::io::Write as _;
use std::process::{Command, Stdio};

use base64::Engine as _;
use drain_control::{Context, Reading, Timestamp, classify};
use serde_json::{Value, json};

const VECTORS: &str = include_str!("vectors/contract-vectors.json");
const MATCHER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/match.py");

/// What the classifier makes of one vector: a line for the matcher.
fn result(vector: &Value) -> Value {
    let name = vector["name"].as_str().unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(vector["marker_b64"].as_str().unwrap())
        .unwrap();
    let now = Timestamp::parse(vector["now"].as_str().unwrap()).unwrap();
    let context = Context::new(vector["current_epoch"].as_str().unwrap(), now);
    let got = classify(&raw, &context);
    let verdict = &got.verdict;
    json!({
        "name": name,
        "read": got.reading.to_json(),
        // Only Rust tells a contentless marker from one holding `{}`.
        "contentless": got.reading == Reading::Contentless,
        "present": verdict.present,
        "active": verdict.active,
        "suppressed": verdict.suppressed,
        "epoch_stale": verdict.epoch_stale,
        "expired": verdict.expired,
    })
}

#[test]
fn every_shared_vector_classifies_as_the_original_did() {
    let document: Value = serde_json::from_str(VECTORS).unwrap();
    let mut lines = String::new();
    for vector in document["vectors"].as_array().unwrap() {
        lines.push_str(&result(vector).to_string());
        lines.push('\n');
    }
    let mut matcher = Command::new("python3")
        .args([MATCHER, "rust", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 runs {MATCHER}, the matcher of the vectors: {e}"));
    matcher
        .stdin
        .take()
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();
    let output = matcher.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "{MATCHER}: {}\n{report}",
        output.status
    );
    print!("{report}");
}
