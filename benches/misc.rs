//! The Rust rows that are not a tight poll loop (`scripts/bench` runs this binary
//! directly; each prints `NAME <value>` lines):
//!
//! - `misc write N FLOOR_DIR EMPTY_DIR CROWDED_DIR`: N rounds of one write floor
//!   (benches/floor.c, loaded from `DRAIN_BENCH_FLOOR_LIB`) and one
//!   `drain_control::write` into each home (a keep-alive over an existing marker), in
//!   rotating order; the median ns of each (`floor`, `empty`, `crowded`) and the
//!   median of the ratios within a round (`ratio:empty`, `ratio:crowded` to the floor,
//!   `ratio:crowded-empty`). Each write is timed alone: fsync times vary too much for
//!   a mean.
//! - `misc clear N FLOOR_DIR DIR`: the same for `drain_control::clear` against the
//!   clear floor (unlink and folder fsync), the marker re-written untimed before each;
//! - `misc first-write DIR`: the ns of the first write of this process (the one that
//!   sweeps the folder for leftover temp files);
//! - `misc watch DIR N`: the watcher's delay over N changes, made by renaming a
//!   prepared marker into DIR and by removing it (each a single system call, the moment
//!   the change becomes visible): `p50`, `p99`, `max` from that call's return to the
//!   notification, in ns; and the same for changes made by `drain_control::write` and
//!   `clear` (`api-p50`, `api-p99`, where a notification before the call returned,
//!   since the rename comes before the folder fsync, counts as 0, and `api-early`
//!   counts those);
//! - `misc memory DIR N`: the resident set before N polls, after a tenth of them and
//!   after all, in KiB.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use drain_control::watch::{WatchOptions, Watcher};

#[path = "floor_lib.rs"]
mod floor_lib;

fn timed(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_nanos() as f64
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn write(dir: &Path) {
    drain_control::write(Some(dir), "bench", false).expect("write");
}

/// Runs `ops` in rotating order `rounds` times; prints each op's median and the
/// median ratio of each op to the first one, within a round.
fn paired(rounds: usize, names: &[&str], ops: &mut [&mut dyn FnMut() -> f64]) {
    for op in ops.iter_mut() {
        op(); // warm-up
    }
    let mut samples = vec![Vec::with_capacity(rounds); ops.len()];
    for round in 0..rounds {
        for k in 0..ops.len() {
            let i = (round + k) % ops.len();
            let took = ops[i]();
            samples[i].push(took);
        }
    }
    for (i, name) in names.iter().enumerate().skip(1) {
        let ratios = samples[i]
            .iter()
            .zip(&samples[0])
            .map(|(a, b)| a / b)
            .collect();
        println!("ratio:{name} {:.4}", median(ratios));
    }
    if names.len() > 2 {
        let ratios = samples[2]
            .iter()
            .zip(&samples[1])
            .map(|(a, b)| a / b)
            .collect();
        println!("ratio:{}-{} {:.4}", names[2], names[1], median(ratios));
    }
    for (name, samples) in names.iter().zip(samples) {
        println!("{name} {:.0}", median(samples));
    }
}

fn write_rows(args: &[String]) {
    let rounds: usize = args[0].parse().unwrap();
    let floor = floor_lib::Floor::load().expect("DRAIN_BENCH_FLOOR_LIB");
    let floor_dir = floor_lib::c_path(Path::new(&args[1]));
    let (empty, crowded) = (PathBuf::from(&args[2]), PathBuf::from(&args[3]));
    paired(
        rounds,
        &["floor", "empty", "crowded"],
        &mut [
            &mut || floor.write(&floor_dir),
            &mut || timed(|| write(&empty)),
            &mut || timed(|| write(&crowded)),
        ],
    );
}

fn clear_rows(args: &[String]) {
    let rounds: usize = args[0].parse().unwrap();
    let floor = floor_lib::Floor::load().expect("DRAIN_BENCH_FLOOR_LIB");
    let floor_dir = floor_lib::c_path(Path::new(&args[1]));
    let dir = PathBuf::from(&args[2]);
    paired(
        rounds,
        &["floor", "ours"],
        &mut [&mut || floor.clear(&floor_dir), &mut || {
            write(&dir);
            timed(|| {
                drain_control::clear(Some(&dir)).expect("clear");
            })
        }],
    );
}

/// The delays of `changes` changes made by `change` (which returns the instant its
/// change was made), in ns, and how many notifications came before that instant.
fn delays(
    receiver: &mpsc::Receiver<Instant>,
    changes: usize,
    mut change: impl FnMut(usize) -> Instant,
) -> (Vec<f64>, usize) {
    let mut delays = Vec::with_capacity(changes);
    let mut early = 0;
    for i in 0..changes {
        // A pause of 0-4 ms, so that the changes do not beat in step with anything.
        std::thread::sleep(Duration::from_micros((i as u64 * 7919) % 4000));
        let made = change(i);
        let seen = receiver
            .recv_timeout(Duration::from_secs(5))
            .expect("no notification within 5 s");
        early += usize::from(seen < made);
        delays.push(seen.saturating_duration_since(made).as_nanos() as f64);
    }
    (delays, early)
}

fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() as f64 - 1.0) * q).round() as usize]
}

fn watch(dir: &Path, changes: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let marker = dir.join(drain_control::MARKER_FILE_NAME);
    // Prepared beside the watched folder, so that making it is no event there.
    let staged = dir.with_extension("staged");
    let (sender, receiver) = mpsc::channel();
    let mut watcher = Watcher::new(Some(dir), WatchOptions::default()).expect("watcher");
    let stopper = watcher.stopper();
    let thread = std::thread::spawn(move || {
        for change in &mut watcher {
            change.expect("watch");
            if sender.send(Instant::now()).is_err() {
                break;
            }
        }
    });
    receiver.recv().expect("the initial state");

    let (mut raw, _) = delays(&receiver, changes, |i| {
        if i % 2 == 0 {
            let payload = drain_control::Payload::new(
                "bench",
                false,
                drain_control::epoch::current(),
                drain_control::Timestamp::now(),
            );
            std::fs::write(&staged, payload.to_bytes()).unwrap();
            std::fs::rename(&staged, &marker).unwrap();
        } else {
            std::fs::remove_file(&marker).unwrap();
        }
        Instant::now()
    });
    let (mut api, early) = delays(&receiver, changes, |i| {
        if i % 2 == 0 {
            write(dir);
        } else {
            drain_control::clear(Some(dir)).expect("clear");
        }
        Instant::now()
    });
    stopper.stop();
    thread.join().unwrap();
    println!("p50 {:.0}", quantile(&mut raw, 0.50));
    println!("p99 {:.0}", quantile(&mut raw, 0.99));
    println!("max {:.0}", quantile(&mut raw, 1.0));
    println!("api-p50 {:.0}", quantile(&mut api, 0.50));
    println!("api-p99 {:.0}", quantile(&mut api, 0.99));
    println!("api-early {early}");
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn memory(dir: &Path, polls: usize) {
    // Warm: the epoch, the logger, the allocator's first arenas.
    for _ in 0..1000 {
        std::hint::black_box(drain_control::drain_requested(Some(dir)));
    }
    let before = rss_kib();
    let mut tenth = 0;
    for i in 0..polls {
        std::hint::black_box(drain_control::drain_requested(Some(dir)));
        if i + 1 == polls / 10 {
            tenth = rss_kib();
        }
    }
    println!("before {before}");
    println!("tenth {tenth}");
    println!("after {}", rss_kib());
}

fn main() {
    // Skip the `--bench` that `cargo bench` appends.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some((mode, rest)) = args.split_first() else {
        eprintln!("usage: misc write|clear|first-write|watch|memory ...");
        std::process::exit(2);
    };
    match mode.as_str() {
        "write" => write_rows(rest),
        "clear" => clear_rows(rest),
        "first-write" => println!("first-write {}", timed(|| write(Path::new(&rest[0])))),
        "watch" => watch(Path::new(&rest[0]), rest[1].parse().unwrap()),
        "memory" => memory(Path::new(&rest[0]), rest[1].parse().unwrap()),
        _ => {
            eprintln!("misc: unknown mode {mode}");
            std::process::exit(2);
        }
    }
}
