//! `drainctl`: the operator's command for the drain marker.
//!
//! `status` exits like `systemctl is-active`: 0 when the gateway must drain, 1 when
//! not, 2 on an error (an unreadable marker, bad arguments). `begin` and `cancel` exit
//! 0 on success and 2 otherwise, with one line on stderr naming the marker, the step
//! that failed, the path it acted on and the OS error. `watch` prints one line per
//! change until SIGINT or SIGTERM, then exits 0. `--json` prints one JSON object per
//! line instead of prose, errors included (`{"error": {...}}`, same exit status).
//!
//! An operator's typo must not pass for a drain: `begin` refuses a home folder that
//! does not exist unless `--create-home` is given (the library creates it, as the
//! original did), `cancel` there fails, and `status` says so beside "not draining".
//!
//! Every verdict comes from the library (`inspect`, `classify`, the watcher); the
//! `words` module only words it.

// The crate root is `src/bin/drainctl.rs` (Cargo.toml names it), so its modules are
// found by path.
#[path = "drainctl/cli.rs"]
mod cli;
#[path = "drainctl/failure.rs"]
mod failure;
#[path = "drainctl/idle.rs"]
mod idle;
#[path = "drainctl/leases.rs"]
mod leases;
#[path = "drainctl/run.rs"]
mod run;
#[path = "drainctl/words.rs"]
mod words;

use std::io::{self, Write as _};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser as _;
use serde_json::{Value, json};

use drain_control::fsio::{self, RawMarker};
use drain_control::inspect::Snapshot;
use drain_control::watch::{WatchOptions, Watcher};
use drain_control::{Context, MARKER_FILE_NAME, Reading, Timestamp, Warning, epoch};

use cli::{Action, Cli};
use failure::{Failure, exit, step};
use words::{Judged, describe, lossy, report};

fn main() -> ExitCode {
    let json = cli::json_requested(std::env::args_os());
    let parsed = Cli::try_parse().and_then(|cli| {
        let json = cli.json;
        cli.action().map(|(action, home)| (action, home, json))
    });
    let (action, home, json) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return usage_error(&error, json),
    };
    let result = match action {
        Action::Status => status(&home, json),
        Action::Begin {
            principal,
            suppress_notification,
            create_home,
            exclusive: false,
            ..
        } => begin(&home, &principal, suppress_notification, create_home, json),
        Action::Begin {
            principal,
            suppress_notification,
            create_home,
            exclusive: true,
            wait,
        } => leases::begin_exclusive(
            &home,
            &principal,
            suppress_notification,
            create_home,
            wait,
            json,
        ),
        Action::KeepAlive { token } => leases::keep_alive(&home, &token, json),
        Action::Cancel { token } => leases::cancel(&home, token.as_deref(), json),
        Action::Run {
            principal,
            suppress_notification,
            create_home,
            wait,
            wait_idle,
            run_anyway,
            command,
        } => run::run(
            &home,
            &run::Begin {
                principal: &principal,
                suppress: suppress_notification,
                create_home,
                wait,
            },
            run::Idle {
                wait: wait_idle,
                run_anyway,
            },
            &command,
            json,
        ),
        Action::WaitIdle { timeout } => idle::wait_idle(&home, timeout, json),
        Action::Watch {
            every_change,
            fallback_interval,
        } => watch(&home, every_change, fallback_interval, json),
        Action::Epoch => print_epoch(json),
        Action::Path => print_path(&home, json),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) if failure.is_broken_pipe() => ExitCode::from(exit::OK),
        Err(failure) => {
            failure.report(json);
            ExitCode::from(failure.exit)
        }
    }
}

/// A command line clap refused: its own message and usage on stderr (help and
/// version go to stdout, exit 0), and with `--json` the error object on stdout too.
fn usage_error(error: &clap::Error, json: bool) -> ExitCode {
    let _ = error.print();
    if !error.use_stderr() {
        return ExitCode::from(exit::OK);
    }
    if json {
        let failure = Failure::usage(cli::usage_message(error));
        let _ = writeln!(io::stdout(), "{}", failure.to_json());
    }
    ExitCode::from(exit::ERROR)
}

/// `Ok` when `home` exists (or when asking failed otherwise than "not found": the
/// command then meets and reports the real error); the "not found" error otherwise.
fn home_exists(home: &Path) -> Result<(), io::Error> {
    match std::fs::metadata(home) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

fn status(home: &Path, json: bool) -> Result<u8, Failure> {
    let marker = home.join(MARKER_FILE_NAME);
    let at = Timestamp::now();
    let raw = fsio::read_marker(&marker);
    let errno = match &raw {
        RawMarker::Unreadable(error) => error.raw_os_error(),
        _ => None,
    };
    let inspection = Snapshot::new(&marker, raw).judge(&Context::new(epoch::current(), at));
    if let Some(Warning::Unreadable { path, error }) = &inspection.warning {
        return Err(Failure {
            message: words::unreadable(path, error),
            step: step::READ_MARKER,
            errno,
            path: Some(path.clone()),
            marker: Some(marker),
            detail: None,
            exit: exit::ERROR,
        });
    }
    let classified = inspection.classified;
    let judged = Judged {
        home_exists: classified.reading != Reading::Absent || home_exists(home).is_ok(),
        ..Judged::new(&classified, at)
    };
    // Beside the marker's verdict, what the gateway says of itself.
    let gateway = drain_control::gateway::observe(Some(home));
    let line = if json {
        let mut object = report(home, &judged);
        object["gateway"] = idle::report(&gateway);
        object.to_string()
    } else if idle::worth_a_line(&gateway) {
        format!("{}\ngateway: {gateway}", describe(home, &judged))
    } else {
        describe(home, &judged)
    };
    writeln!(io::stdout(), "{line}")?;
    Ok(if classified.verdict.active {
        exit::OK
    } else {
        exit::NOT_DRAINING
    })
}

fn begin(
    home: &Path,
    principal: &str,
    suppress: bool,
    create_home: bool,
    json: bool,
) -> Result<u8, Failure> {
    let marker = home.join(MARKER_FILE_NAME);
    check_home_for_begin(home, create_home)?;
    let payload = drain_control::write(Some(home), principal, suppress)?;
    // Worded from what was written, judged by the core like any marker.
    let at = Timestamp::now();
    let classified =
        drain_control::classify(&payload.to_bytes(), &Context::new(epoch::current(), at));
    let judged = Judged::new(&classified, at);
    let line = if json {
        report(home, &judged).to_string()
    } else {
        format!("{} (marker {marker:?})", describe(home, &judged))
    };
    writeln!(io::stdout(), "{line}")?;
    Ok(exit::OK)
}

/// A begin needs a home folder that exists, unless `--create-home`: a typo in `--home`
/// would begin a drain that no gateway sees.
fn check_home_for_begin(home: &Path, create_home: bool) -> Result<(), Failure> {
    if !create_home && let Err(error) = home_exists(home) {
        let message = format!(
            "the home folder {home:?} does not exist, so no gateway would see a drain \
             there: check --home, or pass --create-home to create it"
        );
        let marker = home.join(MARKER_FILE_NAME);
        return Err(Failure::io(step::CHECK_HOME, message, &error, home).with_marker(&marker));
    }
    Ok(())
}

fn watch(
    home: &Path,
    every_change: bool,
    fallback_interval: f64,
    json: bool,
) -> Result<u8, Failure> {
    let watch_failed = |error: io::Error| {
        let message = format!("cannot watch the home folder {home:?}: {error}");
        Failure::io(step::WATCH, message, &error, home).with_marker(&home.join(MARKER_FILE_NAME))
    };
    let mut options = WatchOptions::default();
    options.every_change = every_change;
    options.fallback_interval = Duration::from_secs_f64(fallback_interval);
    let watcher = Watcher::new(Some(home), options).map_err(watch_failed)?;

    // SIGINT and SIGTERM end the watch cleanly (exit 0): a thread receives them and
    // stops the watcher, which wakes at once.
    let stopper = watcher.stopper();
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])
    .map_err(watch_failed)?;
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            stopper.stop();
        }
    });

    let mut stdout = io::stdout().lock();
    for change in watcher {
        let change = change.map_err(watch_failed)?;
        let unreadable = match &change.warning {
            Some(Warning::Unreadable { error, .. }) => Some(error.as_str()),
            _ => None,
        };
        let classified = &change.classified;
        let judged = Judged {
            unreadable,
            home_exists: unreadable.is_some()
                || classified.reading != Reading::Absent
                || home_exists(home).is_ok(),
            ..Judged::new(classified, change.at)
        };
        let line = if json {
            let mut object = report(home, &judged);
            object["initial"] = Value::Bool(change.initial);
            object.to_string()
        } else {
            format!("{} {}", change.at, describe(home, &judged))
        };
        writeln!(stdout, "{line}")?;
        stdout.flush()?;
    }
    Ok(exit::OK)
}

fn print_epoch(json: bool) -> Result<u8, Failure> {
    let epoch = epoch::current();
    let line = if json {
        json!({ "epoch": epoch }).to_string()
    } else {
        epoch.to_owned()
    };
    writeln!(io::stdout(), "{line}")?;
    Ok(exit::OK)
}

fn print_path(home: &Path, json: bool) -> Result<u8, Failure> {
    let marker = home.join(MARKER_FILE_NAME);
    let mut stdout = io::stdout().lock();
    if json {
        let object = json!({"home": lossy(home), "path": lossy(&marker)});
        writeln!(stdout, "{object}")?;
    } else {
        // The bytes as they are: a Unix path need not be UTF-8.
        stdout.write_all(marker.as_os_str().as_bytes())?;
        stdout.write_all(b"\n")?;
    }
    Ok(exit::OK)
}
