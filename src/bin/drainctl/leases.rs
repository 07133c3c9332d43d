//! The lease commands: `begin --exclusive`, `keep-alive --token`, `cancel` (with or
//! without `--token`). The rules are the library's (`drain_control::lease`); this words
//! what they did.

use std::io::{self, Write as _};
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use drain_control::lease::{self, Holder, Lease, LeaseOptions};
use drain_control::{MARKER_FILE_NAME, Timestamp, inspect::Snapshot};

use crate::failure::{Failure, exit};
use crate::words::{self, Judged, describe, lossy, report};
use crate::{check_home_for_begin, home_exists, step};

/// `--wait[=SECONDS]` as a duration (`inf`: as long as it takes).
pub fn wait_for(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
}

/// `begin --exclusive [--wait]`: the token on stdout (the whole lease with `--json`),
/// what it means on stderr.
pub fn begin_exclusive(
    home: &Path,
    principal: &str,
    suppress: bool,
    create_home: bool,
    wait: Option<f64>,
    json: bool,
) -> Result<u8, Failure> {
    check_home_for_begin(home, create_home)?;
    let lease = begin(home, principal, suppress, wait)?;
    let line = if json {
        lease_report(home, &lease, None)
    } else {
        eprintln!("{}", described(home, None));
        lease.token().to_owned()
    };
    writeln!(io::stdout(), "{line}")?;
    Ok(exit::OK)
}

/// An exclusive begin, waiting as `--wait` says.
pub fn begin(
    home: &Path,
    principal: &str,
    suppress: bool,
    wait: Option<f64>,
) -> Result<Lease, Failure> {
    let options = LeaseOptions::default();
    let lease = match wait {
        None => lease::begin_with(Some(home), principal, suppress, &options)?,
        Some(seconds) => {
            lease::begin_waiting(Some(home), principal, suppress, &options, wait_for(seconds))?
        }
    };
    Ok(lease)
}

/// `keep-alive --token T`: exit 0 when re-written, 1 when the lease is lost.
pub fn keep_alive(home: &Path, token: &str, json: bool) -> Result<u8, Failure> {
    let lease = Lease::resume(Some(home), token, &LeaseOptions::default())?;
    lease.keep_alive()?;
    let line = if json {
        lease_report(home, &lease, None)
    } else {
        format!("kept alive: {}", described(home, Some(token)))
    };
    writeln!(io::stdout(), "{line}")?;
    Ok(exit::OK)
}

/// `cancel [--token T]`: says whose drain it removed; with a token, removes only that
/// lease's drain (exit 1 when the marker does not carry it).
pub fn cancel(home: &Path, token: Option<&str>, json: bool) -> Result<u8, Failure> {
    let marker = home.join(MARKER_FILE_NAME);
    let (removed, holder) = match token {
        Some(token) => {
            let lease = Lease::resume(Some(home), token, &LeaseOptions::default())?;
            let removed = lease.release()?;
            // Whose the drain is now, when it was not this lease's.
            (removed, (!removed).then(|| holder_of(&marker)).flatten())
        }
        None => {
            let holder = holder_of(&marker);
            (drain_control::clear(Some(home))?, holder)
        }
    };
    if !removed
        && holder.is_none()
        && let Err(error) = home_exists(home)
    {
        let message = format!(
            "the home folder {home:?} does not exist, so there is no drain to cancel there: \
             check --home"
        );
        return Err(Failure::io(step::CHECK_HOME, message, &error, home).with_marker(&marker));
    }
    let line = if json {
        let mut object = json!({"path": lossy(&marker), "removed": removed});
        object["holder"] = holder.as_ref().map_or(Value::Null, words::holder);
        if let Some(token) = token {
            object["token"] = json!(token);
        }
        object.to_string()
    } else {
        match (token, removed, &holder) {
            (_, true, Some(holder)) => {
                format!("cancelled: marker {marker:?} removed; it was the drain of {holder}")
            }
            (Some(token), true, None) => {
                format!("cancelled: marker {marker:?} removed; it was the drain of lease {token}")
            }
            (Some(_), false, Some(holder)) => {
                format!("not cancelled: the drain is not this lease's; it is the drain of {holder}")
            }
            (Some(_), false, None) => {
                format!("not cancelled: there was no marker {marker:?}, so no drain of this lease")
            }
            (None, _, _) => format!("not draining: there was no marker {marker:?}"),
        }
    };
    writeln!(io::stdout(), "{line}")?;
    Ok(match (token, removed) {
        (Some(_), false) => exit::NOT_DRAINING,
        _ => exit::OK,
    })
}

/// Who holds the drain at `marker` now, if there is a marker.
fn holder_of(marker: &Path) -> Option<Holder> {
    let now = Timestamp::now();
    let context = drain_control::Context::new(drain_control::epoch::current(), now);
    let classified = Snapshot::take(marker).judge(&context).classified;
    classified.verdict.present.then(|| Holder::of(&classified))
}

/// The marker as it is now, in prose (it was just written by this process).
fn described(home: &Path, token: Option<&str>) -> String {
    let classified = drain_control::status(Some(home));
    let mut line = describe(home, &Judged::new(&classified, Timestamp::now()));
    if let Some(token) = token {
        line.push_str(&format!(" (lease {token})"));
    }
    line
}

/// `--json` for a lease: the marker's report, plus its token.
pub fn lease_report(home: &Path, lease: &Lease, extra: Option<(&str, Value)>) -> String {
    let classified = drain_control::status(Some(home));
    let mut object = report(home, &Judged::new(&classified, Timestamp::now()));
    object["token"] = json!(lease.token());
    if let Some((key, value)) = extra {
        object[key] = value;
    }
    object.to_string()
}
