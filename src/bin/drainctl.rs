//! `drainctl`: the operator's command for the drain marker.
//!
//! `status` exits like `systemctl is-active`: 0 when the gateway must drain, 1 when
//! not, 2 on an error (an unreadable marker or home, bad arguments). `begin` and
//! `cancel` exit 0 on success and 2 with one line naming the path and the OS error
//! otherwise. `watch` prints one line per change until SIGINT or SIGTERM, then exits 0.
//! `--json` prints one JSON object per line instead of prose.
//!
//! Every verdict comes from the library (`inspect`, `classify`, the watcher); this
//! file only words it.

use std::io::{self, Write as _};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use drain_control::watch::{State, WatchOptions, Watcher, expires_at};
use drain_control::{
    Classified, Context, MARKER_FILE_NAME, MAX_AGE_MICROS, Read, Timestamp, Warning, epoch,
    resolve_home,
};

/// Exit status: the gateway must drain (`status`), or the command succeeded.
const EXIT_OK: u8 = 0;
/// Exit status of `status` when the gateway need not drain.
const EXIT_NOT_DRAINING: u8 = 1;
/// Exit status on any error; clap uses it for bad arguments as well.
const EXIT_ERROR: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "drainctl",
    version,
    about = "Ask a gateway to drain, cancel it, or see what the drain marker means.",
    after_help = "Exit status of `status`: 0 draining, 1 not draining, 2 error."
)]
struct Cli {
    /// The home folder (default: $HERMES_HOME, else ~/.hermes).
    #[arg(long, global = true, value_name = "DIR")]
    home: Option<PathBuf>,

    /// Print one JSON object per line instead of prose.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Say whether the gateway must drain, and why (exit 0 draining, 1 not, 2 error).
    Status,
    /// Ask the gateway to drain; run again to keep a long drain alive (it expires
    /// an hour after the last write).
    Begin {
        /// Who asks, for the operator's eyes.
        #[arg(long, value_name = "NAME", default_value = "drainctl")]
        principal: String,
        /// Ask the gateway to skip its "shutting down" broadcast.
        #[arg(long)]
        suppress_notification: bool,
    },
    /// Cancel a drain: remove the marker (not an error when there is none).
    Cancel,
    /// Print one line per change of the drain state until interrupted.
    Watch {
        /// Also report re-writes that change nothing but `requested_at`.
        #[arg(long)]
        every_change: bool,
        /// Re-read the marker at least this often, in seconds, as a safety net.
        #[arg(long, value_name = "SECONDS", default_value_t = 1.0,
              value_parser = parse_interval)]
        fallback_interval: f64,
    },
    /// Print this machine's instantiation epoch (empty when none can be computed).
    Epoch,
    /// Print the marker path.
    Path,
}

fn parse_interval(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0 => Ok(seconds),
        _ => Err(format!("{text:?} is not a number of seconds in (0, 86400]")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let home = resolve_home(cli.home.as_deref());
    let result = match cli.command {
        Command::Status => status(&home, cli.json),
        Command::Begin {
            principal,
            suppress_notification,
        } => begin(&home, &principal, suppress_notification, cli.json),
        Command::Cancel => cancel(&home, cli.json),
        Command::Watch {
            every_change,
            fallback_interval,
        } => watch(&home, every_change, fallback_interval, cli.json),
        Command::Epoch => print_epoch(cli.json),
        Command::Path => print_path(&home, cli.json),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(EXIT_OK),
        Err(error) => {
            eprintln!("drainctl: {error}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn status(home: &Path, json: bool) -> io::Result<u8> {
    let marker = home.join(MARKER_FILE_NAME);
    let at = Timestamp::now();
    let inspection = drain_control::inspect(&marker, &Context::new(epoch::current(), at));
    if let Some(Warning::Unreadable { path, error }) = &inspection.warning {
        eprintln!(
            "drainctl: cannot read the marker {path:?}: {}",
            error.escape_debug()
        );
        return Ok(EXIT_ERROR);
    }
    let classified = inspection.classified;
    let line = if json {
        report(home, &classified, at).to_string()
    } else {
        describe(&classified, at)
    };
    writeln!(io::stdout(), "{line}")?;
    Ok(if classified.verdict.active {
        EXIT_OK
    } else {
        EXIT_NOT_DRAINING
    })
}

fn begin(home: &Path, principal: &str, suppress: bool, json: bool) -> io::Result<u8> {
    let payload = match drain_control::write(Some(home), principal, suppress) {
        Ok(payload) => payload,
        Err(error) => return fail(&error),
    };
    // Worded from what was written, judged by the core like any marker.
    let at = Timestamp::now();
    let classified =
        drain_control::classify(&payload.to_bytes(), &Context::new(epoch::current(), at));
    let line = if json {
        report(home, &classified, at).to_string()
    } else {
        format!(
            "{} (marker {:?})",
            describe(&classified, at),
            home.join(MARKER_FILE_NAME)
        )
    };
    writeln!(io::stdout(), "{line}")?;
    Ok(EXIT_OK)
}

fn cancel(home: &Path, json: bool) -> io::Result<u8> {
    let marker = home.join(MARKER_FILE_NAME);
    let removed = match drain_control::clear(Some(home)) {
        Ok(removed) => removed,
        Err(error) => return fail(&error),
    };
    let line = if json {
        json!({"path": lossy(&marker), "removed": removed}).to_string()
    } else if removed {
        format!("cancelled: marker {marker:?} removed")
    } else {
        format!("not draining: there was no marker {marker:?}")
    };
    writeln!(io::stdout(), "{line}")?;
    Ok(EXIT_OK)
}

fn fail(error: &drain_control::Error) -> io::Result<u8> {
    eprintln!("drainctl: {error}");
    Ok(EXIT_ERROR)
}

fn watch(home: &Path, every_change: bool, fallback_interval: f64, json: bool) -> io::Result<u8> {
    let mut options = WatchOptions::default();
    options.every_change = every_change;
    options.fallback_interval = Duration::from_secs_f64(fallback_interval);
    let watcher = Watcher::new(Some(home), options)?;

    // SIGINT and SIGTERM end the watch cleanly (exit 0): a thread receives them and
    // stops the watcher, which wakes at once.
    let stopper = watcher.stopper();
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])?;
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            stopper.stop();
        }
    });

    let mut stdout = io::stdout().lock();
    for change in watcher {
        let change = change?;
        let line = if json {
            let mut object = report(home, &change.classified, change.at);
            object["initial"] = Value::Bool(change.initial);
            object.to_string()
        } else {
            let mut line = format!("{} {}", change.at, describe(&change.classified, change.at));
            if let Some(Warning::Unreadable { path, error }) = &change.warning {
                line.push_str(&format!(
                    " (cannot read the marker {path:?}: {})",
                    error.escape_debug()
                ));
            }
            line
        };
        writeln!(stdout, "{line}")?;
        stdout.flush()?;
    }
    Ok(EXIT_OK)
}

fn print_epoch(json: bool) -> io::Result<u8> {
    let epoch = epoch::current();
    let line = if json {
        json!({ "epoch": epoch }).to_string()
    } else {
        epoch.to_owned()
    };
    writeln!(io::stdout(), "{line}")?;
    Ok(EXIT_OK)
}

fn print_path(home: &Path, json: bool) -> io::Result<u8> {
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
    Ok(EXIT_OK)
}

fn lossy(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The machine-readable form of a judged marker, the same for `status`, `begin` and
/// each line of `watch`.
fn report(home: &Path, classified: &Classified, at: Timestamp) -> Value {
    let verdict = &classified.verdict;
    let state = State::of(verdict);
    let expires = (verdict.present && !verdict.expired)
        .then(|| expires_at(classified, MAX_AGE_MICROS))
        .flatten();
    json!({
        "state": state.as_str(),
        "draining": verdict.active,
        "suppressed": verdict.suppressed,
        "present": verdict.present,
        "epoch_stale": verdict.epoch_stale,
        "expired": verdict.expired,
        "marker": classified.read.to_json(),
        "expires_at": expires.map(|at| at.to_isoformat()),
        "at": at.to_isoformat(),
        "epoch": epoch::current(),
        "home": lossy(home),
        "path": lossy(&home.join(MARKER_FILE_NAME)),
        "message": describe(classified, at),
    })
}

/// What the state means, in one line of prose.
fn describe(classified: &Classified, at: Timestamp) -> String {
    let body = match &classified.read {
        Read::Absent => return "not draining: no marker".to_owned(),
        Read::Contentless if classified.verdict.active => {
            return "draining: the marker is unreadable as JSON (fail-safe)".to_owned();
        }
        Read::Contentless => return "not draining: contentless marker ignored".to_owned(),
        Read::Body(body) => body,
    };
    let field = |name: &str| {
        body.get(name)
            .map(show)
            .unwrap_or_else(|| "none".to_owned())
    };
    match State::of(&classified.verdict) {
        State::Active | State::Suppressed => {
            let since = match body.get("requested_at") {
                Some(value) => show(value),
                None => "an unknown time".to_owned(),
            };
            let mut line = format!(
                "draining since {since}, requested by {}",
                field("principal")
            );
            match expires_at(classified, MAX_AGE_MICROS) {
                Some(expires) => line.push_str(&format!(
                    "; expires in {}",
                    human(expires.unix_micros() - at.unix_micros())
                )),
                None => line.push_str("; never expires (no parseable requested_at)"),
            }
            if classified.verdict.suppressed {
                line.push_str("; notification suppressed");
            }
            line
        }
        State::EpochStale => format!(
            "ignored: written before this machine restarted (epoch {}, this machine {})",
            field("epoch"),
            show(&Value::String(epoch::current().to_owned()))
        ),
        State::Expired => {
            let age = classified.expired_age_micros.unwrap_or(MAX_AGE_MICROS);
            format!(
                "ignored: expired {} ago (requested at {} by {})",
                human(age - MAX_AGE_MICROS),
                field("requested_at"),
                field("principal")
            )
        }
        State::Absent => unreachable!("a marker with a body is present"),
    }
}

/// A marker value for the operator's eyes: strings as they are but with control
/// characters escaped (no forged lines or terminal escapes), other values as JSON.
fn show(value: &Value) -> String {
    match value {
        Value::String(text) if text.is_empty() => "\"\"".to_owned(),
        Value::String(text) => text.escape_debug().to_string(),
        other => other.to_string(),
    }
}

/// A duration in microseconds, rounded, for people: `42 s`, `42 min`, `2 h 5 min`,
/// `3 d 4 h`.
fn human(micros: i64) -> String {
    let seconds = (micros.max(0) + 500_000) / 1_000_000;
    if seconds < 60 {
        return format!("{seconds} s");
    }
    let minutes = (seconds + 30) / 60;
    match (minutes / 60, minutes % 60) {
        (0, minutes) => format!("{minutes} min"),
        (hours @ ..48, 0) => format!("{hours} h"),
        (hours @ ..48, minutes) => format!("{hours} h {minutes} min"),
        (hours, _) => format!("{} d {} h", hours / 24, hours % 24),
    }
}

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        assert_eq!(human(-5), "0 s");
        assert_eq!(human(42_400_000), "42 s");
        assert_eq!(human(42 * 60_000_000), "42 min");
        assert_eq!(human(3_599_999_999), "1 h");
        assert_eq!(human(3_570_000_000), "1 h");
        assert_eq!(human(59_600_000), "1 min");
        assert_eq!(human(2 * 3_600_000_000 + 5 * 60_000_000), "2 h 5 min");
        assert_eq!(human(3 * 86_400_000_000 + 4 * 3_600_000_000), "3 d 4 h");
    }
}
