//! The embedded tables are what the generator scripts print under CPython 3.11.

use super::*;

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
    let source = include_str!("tables.rs");
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
