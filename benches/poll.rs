//! `drain_requested` from Rust, measured with criterion, one benchmark per marker case.
//!
//! The cases come from `DRAIN_BENCH_CASES`, `NAME=DIR` pairs separated by `,` (made by
//! `scripts/bench`); without it, a temporary home per case is made here, so that
//! `cargo bench --bench poll` also runs on its own. Each benchmark is named
//! `poll/<NAME>`.
//!
//! With `DRAIN_BENCH_FLOOR_LIB` (benches/floor.c built as a shared library, as
//! `scripts/bench` does), each case is preceded by `poll/floor-<NAME>`: the floor's
//! loop (open, fstat, read, close, in C) on the same marker, so that the ratio is taken
//! between two measurements made next to each other in one process.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::Criterion;

#[path = "floor_lib.rs"]
mod floor_lib;

fn cases() -> (Vec<(String, PathBuf)>, Option<tempfile::TempDir>) {
    if let Ok(spec) = std::env::var("DRAIN_BENCH_CASES") {
        let cases = spec
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, dir)| (name.to_owned(), PathBuf::from(dir)))
            .collect();
        return (cases, None);
    }
    let scratch = tempfile::tempdir().expect("a temporary folder");
    let mut cases = Vec::new();
    for name in ["absent", "active", "stale-epoch", "contentless"] {
        let dir = scratch.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let marker = dir.join(drain_control::MARKER_FILE_NAME);
        match name {
            "active" => {
                drain_control::write(Some(&dir), "bench", false).unwrap();
            }
            "stale-epoch" => {
                let payload = drain_control::Payload::new(
                    "bench",
                    false,
                    "another-boot:1",
                    drain_control::Timestamp::now(),
                );
                drain_control::write_payload(Some(&dir), &payload).unwrap();
            }
            "contentless" => std::fs::write(&marker, b"").unwrap(),
            _ => {}
        }
        cases.push((name.to_owned(), dir));
    }
    (cases, Some(scratch))
}

fn main() {
    let (cases, _scratch) = cases();
    let floor = floor_lib::Floor::load();
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("poll");
    for (name, dir) in &cases {
        if let Some(floor) = floor {
            let marker = floor_lib::c_path(&dir.join(drain_control::MARKER_FILE_NAME));
            group.bench_function(format!("floor-{name}"), |b| {
                b.iter_custom(|iters| floor.poll(&marker, iters))
            });
        }
        group.bench_function(name.as_str(), |b| {
            b.iter(|| drain_control::drain_requested(Some(black_box(dir.as_path()))))
        });
    }
    group.finish();
    criterion.final_summary();
}
