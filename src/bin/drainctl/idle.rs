//! The gateway's observed state (`drain_control::gateway`): `wait-idle`, and how
//! `status` and `run --wait-idle` say it.

use std::io::{self, Write as _};
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use drain_control::gateway::{self, Observed};

use crate::failure::{Failure, exit, step};
use crate::leases::wait_for;

/// The observed state for `--json`.
pub fn report(observed: &Observed) -> Value {
    let in_flight = observed.in_flight();
    let (gateway_state, reason) = match observed {
        Observed::Draining { state, .. } | Observed::Quiesced { state } => (Some(state), None),
        Observed::Running(_) => (None, None),
        Observed::NotRunning { reason, .. } | Observed::Unknown { reason } => (None, Some(reason)),
    };
    json!({
        "state": observed.as_str(),
        "idle": observed.is_idle(),
        "in_flight": in_flight.map(|in_flight| in_flight.count),
        "work": in_flight.map(|in_flight| &in_flight.work),
        "gateway_state": gateway_state.map(String::as_str).or(match observed {
            Observed::Running(_) => Some("running"),
            _ => None,
        }),
        "reason": reason,
        "message": observed.to_string(),
    })
}

/// Whether prose should mention the gateway: not when there is no record at all (a
/// home no gateway uses), where the marker's line says enough.
pub fn worth_a_line(observed: &Observed) -> bool {
    !matches!(observed, Observed::NotRunning { record: false, .. })
}

/// The failure of a wait that ended with the gateway still busy (exit 3).
pub fn still_busy(observed: &Observed, waited: Option<f64>, what: &str) -> Failure {
    let after = match waited {
        Some(seconds) if seconds.is_finite() => format!(" after {seconds} s"),
        _ => String::new(),
    };
    let mut failure = Failure::usage(format!(
        "the gateway is still busy{after}: {observed}{what}"
    ));
    failure.step = step::WAIT_IDLE;
    failure.exit = exit::BUSY;
    failure.detail = Some(Box::new(("gateway", report(observed))));
    failure
}

/// `wait-idle [--timeout S]`.
pub fn wait_idle(home: &Path, timeout: Option<f64>, json: bool) -> Result<u8, Failure> {
    let limit: Option<Duration> = timeout.map(wait_for);
    match gateway::wait_idle(Some(home), limit) {
        Ok(observed) => {
            let line = if json {
                json!({ "gateway": report(&observed) }).to_string()
            } else {
                format!("gateway idle: {observed}")
            };
            writeln!(io::stdout(), "{line}")?;
            Ok(exit::OK)
        }
        Err(observed) => Err(still_busy(&observed, timeout, "")),
    }
}
