//! The Rust participant of the cross-language agreement test (go/xlang_test.go).
//!
//! ```text
//! cargo run --example xlang -- write HOME [PRINCIPAL [true|false]]
//! cargo run --example xlang -- read HOME     # prints the read result as JSON: null, {} or the object
//! cargo run --example xlang -- clear HOME    # prints true or false: whether a marker existed
//! cargo run --example xlang -- epoch [HOME]  # prints this instantiation's epoch
//! ```
//!
//! Every participant (Go, C, ...) implements this same command line, each through its
//! own binding, so the test can write with one and read with another. Output is one
//! line on stdout; errors go to stderr with exit status 1, usage errors with 2.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str =
    "usage: xlang write HOME [PRINCIPAL [true|false]] | read HOME | clear HOME | epoch [HOME]";

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let command = args.first().and_then(|c| c.to_str()).unwrap_or("");
    let home = args.get(1).map(Path::new);
    match (command, home, args.len()) {
        ("write", Some(home), 2..=4) => {
            let principal = match args.get(2).map(|p| p.to_str()) {
                None => "xlang",
                Some(Some(principal)) => principal,
                Some(None) => return usage("the principal must be UTF-8"),
            };
            let suppress = match args.get(3).map(|s| s.to_str()) {
                None | Some(Some("false")) => false,
                Some(Some("true")) => true,
                Some(_) => return usage("the last argument of write must be true or false"),
            };
            match drain_control::write(Some(home), principal, suppress) {
                Ok(_) => ExitCode::SUCCESS,
                Err(error) => fail(&error),
            }
        }
        ("read", Some(home), 2) => {
            let read = drain_control::read(Some(home)).to_json();
            match serde_json::to_string(&read) {
                Ok(text) => {
                    println!("{text}");
                    ExitCode::SUCCESS
                }
                Err(error) => fail(&error),
            }
        }
        ("clear", Some(home), 2) => match drain_control::clear(Some(home)) {
            Ok(existed) => {
                println!("{existed}");
                ExitCode::SUCCESS
            }
            Err(error) => fail(&error),
        },
        ("epoch", _, 1..=2) => {
            println!("{}", drain_control::epoch::current());
            ExitCode::SUCCESS
        }
        _ => usage("unknown command or wrong number of arguments"),
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("xlang: {problem}\n{USAGE}");
    ExitCode::from(2)
}

fn fail(error: &dyn std::error::Error) -> ExitCode {
    eprintln!("xlang: {error}");
    ExitCode::FAILURE
}
