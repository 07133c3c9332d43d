//! The Rust participant of the reliability suites: the probe command line (see
//! ../README.md) over the Rust API. HOME and PRINCIPAL may be given as `hex:<digits>`
//! to pass bytes a shell argument cannot (NUL, non-UTF-8, control characters), or as
//! `file:<path>` for the bytes of a file. The
//! library's warnings go to stderr, one `WARN <target>: <message>` line each.

use std::ffi::OsString;
use std::io::Write as _;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

mod lease;

struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = format!(
            "{} {}: {}\n",
            record.level(),
            record.target(),
            record.args()
        );
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
    fn flush(&self) {}
}

fn arg_bytes(arg: &OsString) -> Vec<u8> {
    let bytes = arg.as_bytes();
    if let Some(path) = bytes.strip_prefix(b"file:") {
        return std::fs::read(std::ffi::OsStr::from_bytes(path)).expect("file: argument");
    }
    match bytes.strip_prefix(b"hex:") {
        Some(hex) => hex
            .chunks(2)
            .map(|pair| {
                u8::from_str_radix(std::str::from_utf8(pair).expect("hex"), 16).expect("hex")
            })
            .collect(),
        None => bytes.to_vec(),
    }
}

fn emit(value: Value) {
    println!("{value}");
}

fn failure(op: &str, error: &drain_control::Error, started: Instant) -> ExitCode {
    emit(json!({
        "ok": false, "op": op,
        "status": if error.is_refused_payload() { "invalid_payload" } else { "io_error" },
        "errno": error.raw_os_error(),
        "marker": error.marker().to_string_lossy(),
        "path": error.path().to_string_lossy(),
        "step": error.step().as_str(),
        "marker_untouched": error.step().leaves_marker_untouched(),
        "message": error.to_string(),
        "us": started.elapsed().as_micros() as u64,
    }));
    ExitCode::FAILURE
}

/// A system call naming `path`: marks where a library call begins and ends in an
/// strace of the probe.
fn sentinel(path: &str) {
    let _ = std::fs::symlink_metadata(path);
}

fn wall() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn main() -> ExitCode {
    log::set_logger(&StderrLogger).expect("one logger");
    log::set_max_level(log::LevelFilter::Warn);
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.len() < 2 {
        eprintln!(
            "usage: rust-probe write|clear|read|inspect|loop-write|loop-clear|loop-read|begin|keep-alive|release|loop-lease HOME ..."
        );
        return ExitCode::from(2);
    }
    let command = args[0].to_str().unwrap_or("");
    let home = PathBuf::from(OsString::from_vec(arg_bytes(&args[1])));
    let home = Some(home.as_path());
    let text = |i: usize| args.get(i).and_then(|a| a.to_str()).unwrap_or("");
    let started = Instant::now();
    let us = |started: Instant| started.elapsed().as_micros() as u64;
    match command {
        "write" if args.len() >= 3 => {
            let principal = match String::from_utf8(arg_bytes(&args[2])) {
                Ok(principal) => principal,
                Err(_) => {
                    // A Rust &str is UTF-8 by construction: nothing to call.
                    emit(json!({"ok": false, "op": "write", "status": "invalid_utf8"}));
                    return ExitCode::FAILURE;
                }
            };
            sentinel("/drain-probe-begin");
            let started = Instant::now();
            let result = drain_control::write(home, &principal, text(3) == "true");
            sentinel("/drain-probe-end");
            match result {
                Ok(_) => emit(json!({"ok": true, "op": "write", "us": us(started)})),
                Err(error) => return failure("write", &error, started),
            }
        }
        "clear" => {
            sentinel("/drain-probe-begin");
            let result = drain_control::clear(home);
            sentinel("/drain-probe-end");
            match result {
                Ok(existed) => {
                    emit(json!({"ok": true, "op": "clear", "existed": existed, "us": us(started)}))
                }
                Err(error) => return failure("clear", &error, started),
            }
        }
        "read" => {
            let read = drain_control::read(home).to_json();
            emit(json!({"ok": true, "op": "read", "read": read, "us": us(started)}));
        }
        "inspect" => {
            let v = drain_control::verdict(home);
            emit(json!({"ok": true, "op": "inspect", "present": v.present,
                        "active": v.active, "suppressed": v.suppressed, "us": us(started)}));
        }
        "loop-write" if args.len() >= 5 => {
            // loop-write HOME TAG SECONDS LOG: principals TAG-1, TAG-2, ...; logs
            // "<unix seconds> <payload JSON>" after each successful write.
            let tag = text(2).to_owned();
            return run_loop(text(3), Path::new(&args[4]), |n| {
                let principal = format!("{tag}-{n}");
                drain_control::write(home, &principal, n % 2 == 0)
                    .map(|payload| serde_json::to_string(&payload.to_body()).expect("json"))
            });
        }
        "loop-clear" if args.len() >= 4 => {
            // loop-clear HOME SECONDS LOG [PAUSE_MS]: a pause between clears lets the
            // readers see the writers' markers too.
            let pause = Duration::from_secs_f64(text(4).parse::<f64>().unwrap_or(0.0) / 1000.0);
            return run_loop(text(2), Path::new(&args[3]), |_| {
                std::thread::sleep(pause);
                drain_control::clear(home).map(|_| "clear".to_owned())
            });
        }
        "loop-read" if args.len() >= 4 => {
            let mut out = std::fs::File::create(&args[3]).expect("output file");
            let until = deadline(text(2));
            let (mut reads, mut last) = (0u64, None);
            while Instant::now() < until {
                let read = drain_control::read(home).to_json();
                reads += 1;
                if last.as_ref() != Some(&read) {
                    writeln!(out, "{}", serde_json::to_string(&read).expect("json")).expect("log");
                    last = Some(read);
                }
            }
            emit(json!({"reads": reads, "failures": 0}));
        }
        _ => {
            if let Some(code) = lease::command(command, home, &args) {
                return code;
            }
            eprintln!("rust-probe: unknown command or missing arguments");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

/// SECONDS: a duration from now, or `@<unix time>` for an instant shared by several
/// processes (which then stop together however long each took to start).
fn deadline(arg: &str) -> Instant {
    let seconds = match arg.strip_prefix('@') {
        Some(at) => at.parse::<f64>().unwrap_or(0.0) - wall(),
        None => arg.parse().unwrap_or(0.0),
    };
    Instant::now() + Duration::from_secs_f64(seconds.max(0.0))
}

fn run_loop(
    seconds: &str,
    log_path: &Path,
    mut op: impl FnMut(u64) -> Result<String, drain_control::Error>,
) -> ExitCode {
    let mut log = std::fs::File::create(log_path).expect("log file");
    let until = deadline(seconds);
    let (mut ops, mut failures) = (0u64, 0u64);
    let mut n = 0;
    while Instant::now() < until {
        n += 1;
        let result = op(n);
        ops += 1;
        match result {
            Ok(what) => writeln!(log, "{:.6} {what}", wall()).expect("log"),
            Err(error) => {
                failures += 1;
                writeln!(log, "{:.6} !error {error}", wall()).expect("log");
            }
        }
    }
    emit(json!({"ops": ops, "failures": failures}));
    if failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
