//! The command line: what `drainctl` takes, and what it refuses as a usage error
//! (exit 2) before anything is read or written.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::builder::{OsStringValueParser, TypedValueParser as _};
use clap::error::ErrorKind;
use clap::{Args, CommandFactory as _, Parser, Subcommand};

use drain_control::resolve_home;

#[derive(Parser, Debug)]
#[command(
    name = "drainctl",
    version,
    about = "Ask a gateway to drain, cancel it, or see what the drain marker means.",
    after_help = "Exit status of `status`: 0 draining, 1 not draining, 2 error. \
                  `begin --exclusive` and `run`: 75 when another drain is active. \
                  `keep-alive` and `cancel --token`: 1 when the lease is lost. \
                  `run`: its command's status once the command started. \
                  `wait-idle` and `run --wait-idle`: 3 when the gateway is still busy. \
                  Every other case: 0 done, 2 error."
)]
pub struct Cli {
    /// The home folder (default: $HERMES_HOME, else ~/.hermes), for every command but
    /// `epoch`; it may also follow the command.
    #[arg(long, value_name = "DIR", value_parser = home_parser())]
    home: Option<PathBuf>,

    /// Print one JSON object per line instead of prose, errors included
    /// ({"error": {...}} on stdout, with the same exit status).
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    command: Command,
}

/// `--home` after the command, for the commands that act on a home.
#[derive(Args, Debug)]
struct HomeArg {
    /// The home folder (default: $HERMES_HOME, else ~/.hermes).
    #[arg(long, value_name = "DIR", value_parser = home_parser())]
    home: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Say whether the gateway must drain, and why (exit 0 draining, 1 not, 2 error).
    Status {
        #[command(flatten)]
        home: HomeArg,
    },
    /// Ask the gateway to drain; run again to keep a long drain alive.
    ///
    /// A drain expires an hour after the last write. The home folder must exist
    /// (see --create-home).
    Begin {
        #[command(flatten)]
        home: HomeArg,
        /// Who asks, for the operator's eyes (not empty).
        #[arg(long, value_name = "NAME", default_value = "drainctl",
              value_parser = parse_principal)]
        principal: String,
        /// Ask the gateway to skip its "shutting down" broadcast.
        #[arg(long)]
        suppress_notification: bool,
        /// Create the home folder (and its parents) when it does not exist. Without
        /// it, a home that does not exist is an error: a typo in --home would begin a
        /// drain that no gateway sees.
        #[arg(long)]
        create_home: bool,
        /// Begin only if no drain is active, as a lease: print its token (for
        /// `keep-alive --token` and `cancel --token`); exit 75 naming the holder if
        /// another drain is active.
        #[arg(long)]
        exclusive: bool,
        /// With --exclusive: wait for an active drain to end, at most SECONDS (no
        /// value: as long as it takes).
        #[arg(long, value_name = "SECONDS", requires = "exclusive", num_args = 0..=1,
              require_equals = true, default_missing_value = "inf", value_parser = parse_wait)]
        wait: Option<f64>,
    },
    /// Keep a leased drain alive: re-write it only while it carries TOKEN (exit 1 if
    /// the lease is lost, naming who holds the drain now).
    KeepAlive {
        #[command(flatten)]
        home: HomeArg,
        /// The lease's token, as `begin --exclusive` printed it.
        #[arg(long, value_name = "TOKEN")]
        token: String,
    },
    /// Cancel a drain: remove the marker, and say whose drain it was.
    ///
    /// No marker is not an error; a home folder that does not exist is. With --token,
    /// only a drain that carries that lease token is removed (exit 1 otherwise).
    Cancel {
        #[command(flatten)]
        home: HomeArg,
        /// Remove the drain only if it is this lease's (compare-and-clear).
        #[arg(long, value_name = "TOKEN")]
        token: Option<String>,
    },
    /// Drain while a command runs: begin an exclusive drain, keep it alive while CMD
    /// runs, release it when CMD exits (also on SIGINT, SIGTERM and SIGHUP, which are
    /// forwarded to CMD), and exit with CMD's status.
    ///
    /// If another drain is active, refuse with exit 75 naming the holder, or with
    /// --wait wait for it to end.
    Run {
        #[command(flatten)]
        home: HomeArg,
        /// Who asks, for the operator's eyes (not empty).
        #[arg(long, value_name = "NAME", default_value = "drainctl run",
              value_parser = parse_principal)]
        principal: String,
        /// Ask the gateway to skip its "shutting down" broadcast.
        #[arg(long)]
        suppress_notification: bool,
        /// Create the home folder (and its parents) when it does not exist.
        #[arg(long)]
        create_home: bool,
        /// Wait for an active drain to end, at most SECONDS (no value: as long as it
        /// takes), instead of refusing.
        #[arg(long, value_name = "SECONDS", num_args = 0..=1, require_equals = true,
              default_missing_value = "inf", value_parser = parse_wait)]
        wait: Option<f64>,
        /// Once the drain is begun, wait until the gateway has quiesced (its record
        /// says it is no longer running and has nothing in flight) or no gateway runs,
        /// at most SECONDS (no value: as long as it takes), before CMD starts. On a
        /// timeout, release the drain and exit 3 naming what is still in flight.
        #[arg(long, value_name = "SECONDS", num_args = 0..=1, require_equals = true,
              default_missing_value = "inf", value_parser = parse_wait)]
        wait_idle: Option<f64>,
        /// With --wait-idle: run CMD after a timeout all the same (saying so).
        #[arg(long, requires = "wait_idle")]
        run_anyway: bool,
        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "CMD",
              value_parser = OsStringValueParser::new())]
        command: Vec<OsString>,
    },
    /// Print one line per change of the drain state until interrupted.
    Watch {
        #[command(flatten)]
        home: HomeArg,
        /// Also report re-writes that change nothing but `requested_at`.
        #[arg(long)]
        every_change: bool,
        /// Re-read the marker at least this often, in seconds, as a safety net.
        #[arg(long, value_name = "SECONDS", default_value_t = 1.0,
              value_parser = parse_interval)]
        fallback_interval: f64,
    },
    /// Wait until the gateway is idle: quiesced (no longer running, nothing in
    /// flight) or not running at all (exit 0), at most --timeout (exit 3 naming what is
    /// still in flight). For scripts that began the drain themselves.
    WaitIdle {
        #[command(flatten)]
        home: HomeArg,
        /// How long to wait, in seconds (default: as long as it takes).
        #[arg(long, value_name = "SECONDS", value_parser = parse_wait)]
        timeout: Option<f64>,
    },
    /// Print this machine's instantiation epoch (empty when none can be computed).
    ///
    /// The epoch belongs to the machine, not to a home folder: no --home.
    Epoch,
    /// Print the marker path.
    Path {
        #[command(flatten)]
        home: HomeArg,
    },
}

/// What to do, with the home resolved (`None` only for `epoch`).
#[derive(Debug)]
pub enum Action {
    Status,
    Begin {
        principal: String,
        suppress_notification: bool,
        create_home: bool,
        exclusive: bool,
        wait: Option<f64>,
    },
    KeepAlive {
        token: String,
    },
    Cancel {
        token: Option<String>,
    },
    Run {
        principal: String,
        suppress_notification: bool,
        create_home: bool,
        wait: Option<f64>,
        wait_idle: Option<f64>,
        run_anyway: bool,
        command: Vec<OsString>,
    },
    WaitIdle {
        timeout: Option<f64>,
    },
    Watch {
        every_change: bool,
        fallback_interval: f64,
    },
    Epoch,
    Path,
}

impl Cli {
    /// The action and its home folder; a usage error when `--home` is given twice or
    /// to `epoch`.
    pub fn action(self) -> Result<(Action, PathBuf), clap::Error> {
        let (action, home) = match self.command {
            Command::Status { home } => (Action::Status, home.home),
            Command::Begin {
                home,
                principal,
                suppress_notification,
                create_home,
                exclusive,
                wait,
            } => (
                Action::Begin {
                    principal,
                    suppress_notification,
                    create_home,
                    exclusive,
                    wait,
                },
                home.home,
            ),
            Command::KeepAlive { home, token } => (Action::KeepAlive { token }, home.home),
            Command::Cancel { home, token } => (Action::Cancel { token }, home.home),
            Command::Run {
                home,
                principal,
                suppress_notification,
                create_home,
                wait,
                wait_idle,
                run_anyway,
                command,
            } => (
                Action::Run {
                    principal,
                    suppress_notification,
                    create_home,
                    wait,
                    wait_idle,
                    run_anyway,
                    command,
                },
                home.home,
            ),
            Command::WaitIdle { home, timeout } => (Action::WaitIdle { timeout }, home.home),
            Command::Watch {
                home,
                every_change,
                fallback_interval,
            } => (
                Action::Watch {
                    every_change,
                    fallback_interval,
                },
                home.home,
            ),
            Command::Epoch => {
                if self.home.is_some() {
                    return Err(usage_error(
                        ErrorKind::ArgumentConflict,
                        "epoch takes no --home: the epoch is this machine's, not a home \
                         folder's",
                    ));
                }
                return Ok((Action::Epoch, PathBuf::new()));
            }
            Command::Path { home } => (Action::Path, home.home),
        };
        let home = match (self.home, home) {
            (Some(_), Some(_)) => {
                return Err(usage_error(
                    ErrorKind::ArgumentConflict,
                    "--home is given twice (before and after the command): give it once",
                ));
            }
            (before, after) => before.or(after),
        };
        Ok((action, resolve_home(home.as_deref())))
    }
}

fn usage_error(kind: ErrorKind, message: &str) -> clap::Error {
    Cli::command().error(kind, message)
}

/// `--home DIR`: any bytes (a Unix path need not be UTF-8) but none. An empty home
/// would put the marker in the current folder, which no gateway watches.
fn home_parser() -> impl clap::builder::TypedValueParser<Value = PathBuf> {
    OsStringValueParser::new().try_map(|home: OsString| {
        if home.is_empty() {
            Err(
                "the home folder cannot be empty (it would mean the current folder): \
                 name a folder, or leave --home out for $HERMES_HOME, else ~/.hermes",
            )
        } else {
            Ok(PathBuf::from(home))
        }
    })
}

/// `--principal NAME`: the operator reads it to know who asked; a blank one says
/// nothing.
fn parse_principal(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err(
            "the principal cannot be empty or blank: it tells the operator who asked for \
             the drain (leave --principal out for \"drainctl\")"
                .to_owned(),
        );
    }
    Ok(text.to_owned())
}

fn parse_interval(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0 => Ok(seconds),
        _ => Err(format!("{text:?} is not a number of seconds in (0, 86400]")),
    }
}

/// `--wait=SECONDS`: a non-negative number of seconds, `inf` for no bound.
fn parse_wait(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds >= 0.0 && !seconds.is_nan() => Ok(seconds),
        _ => Err(format!("{text:?} is not a number of seconds (>= 0)")),
    }
}

/// Whether the raw command line asks for `--json`, for a command line that clap
/// refused (and so never parsed): its usage error is then printed as JSON too.
pub fn json_requested(args: impl IntoIterator<Item = OsString>) -> bool {
    args.into_iter()
        .skip(1)
        .take_while(|arg| arg != "--")
        .any(|arg| arg == "--json")
}

/// The first line of a clap error, without its `error: ` prefix: what went wrong,
/// without the usage text around it.
pub fn usage_message(error: &clap::Error) -> String {
    let text = error.to_string();
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}
