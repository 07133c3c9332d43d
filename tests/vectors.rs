//! Every shared contract vector through the pure classifier.
//!
//! The vectors were produced by running the original module. `also_allowed` names a
//! second acceptable outcome (the fail-safe reading of input outside strict JSON or
//! outside our timestamp subset); `read_python_json` holds Python's own reading where
//! it has no strict-JSON form, which the contract lets us read as contentless instead.

use base64::Engine as _;
use drain_control::{Context, Reading, Timestamp, classify};
use serde_json::Value;

const VECTORS: &str = include_str!("vectors/contract-vectors.json");

struct Outcome {
    read: Option<Value>,
    active: bool,
    suppressed: bool,
}

impl Outcome {
    fn from_json(expect: &Value) -> Option<Self> {
        Some(Outcome {
            read: expect.get("read").cloned(),
            active: expect.get("active")?.as_bool()?,
            suppressed: expect.get("suppressed")?.as_bool()?,
        })
    }

    fn matches(&self, read: &Option<Value>, active: bool, suppressed: bool) -> bool {
        // `also_allowed` may leave `read` out: then only the verdict is constrained.
        let read_ok = self.read.is_none() || &self.read == read;
        read_ok && self.active == active && self.suppressed == suppressed
    }
}

#[test]
fn every_shared_vector_classifies_as_the_original_did() {
    let document: Value = serde_json::from_str(VECTORS).unwrap();
    assert_eq!(document["max_age_seconds"], 3600.0);
    let vectors = document["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 90, "the vector file looks truncated");
    let mut failures = Vec::new();
    for vector in vectors {
        let name = vector["name"].as_str().unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(vector["marker_b64"].as_str().unwrap())
            .unwrap();
        let now = Timestamp::parse(vector["now"].as_str().unwrap()).unwrap();
        let context = Context::new(vector["current_epoch"].as_str().unwrap(), now);
        let got = classify(&raw, &context);
        let read = got.reading.to_json();
        let (active, suppressed) = (got.verdict.active, got.verdict.suppressed);
        assert!(
            got.reading.is_present(),
            "{name}: bytes always make a present marker"
        );

        let expected = Outcome::from_json(&vector["expect"]).unwrap();
        // Where Python read something strict JSON cannot express, this library reads
        // contentless instead, in every binding: only `also_allowed` can match.
        let python_only = vector["expect"].get("read_python_json").is_some();
        let mut ok = !python_only && expected.matches(&read, active, suppressed);
        if let Some(alt) = vector.get("also_allowed").and_then(Outcome::from_json) {
            ok |= alt.matches(&read, active, suppressed);
        }
        if vector.get("reference_raises").is_some() {
            ok &= got.reading == Reading::Contentless;
        }
        if !ok {
            failures.push(format!(
                "{name}: got read={read:?} active={active} suppressed={suppressed}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
