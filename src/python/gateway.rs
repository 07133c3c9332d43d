//! The gateway's observed state (`crate::gateway`): a snapshot class, a look and a wait
//! that releases the GIL and still hears Ctrl-C.

use std::path::PathBuf;
use std::time::Instant;

use pyo3::prelude::*;

use super::convert::seconds;
use super::watcher::SIGNAL_CHECK_INTERVAL as SLICE;
use crate::gateway::{self, Observed};

/// What the gateway's `gateway_state.json` says, checked against the living
/// processes; see the fields.
#[pyclass(module = "drain_control._native", frozen, get_all)]
pub(super) struct GatewayState {
    /// `"not-running"`, `"running"`, `"draining"`, `"quiesced"` or `"unknown"`.
    state: &'static str,
    /// Quiesced or not running: a disruptive step may run.
    idle: bool,
    /// The turns in flight (`active_agents`), for a running or draining gateway.
    in_flight: Option<u64>,
    /// Their names (`active_work`), where the record lists them.
    work: Vec<String>,
    /// The record's `gateway_state`, for a live gateway.
    gateway_state: Option<String>,
    /// Why the gateway is not running, or the record unknown.
    reason: Option<String>,
    /// All of it in one line.
    message: String,
}

#[pymethods]
impl GatewayState {
    fn __repr__(&self) -> String {
        format!("<GatewayState {}: {}>", self.state, self.message)
    }
}

impl From<&Observed> for GatewayState {
    fn from(observed: &Observed) -> Self {
        let in_flight = observed.in_flight();
        let (gateway_state, reason) = match observed {
            Observed::Running(_) => (Some("running".to_owned()), None),
            Observed::Draining { state, .. } | Observed::Quiesced { state } => {
                (Some(state.clone()), None)
            }
            Observed::NotRunning { reason, .. } | Observed::Unknown { reason } => {
                (None, Some(reason.clone()))
            }
        };
        GatewayState {
            state: observed.as_str(),
            idle: observed.is_idle(),
            in_flight: in_flight.map(|in_flight| in_flight.count),
            work: in_flight
                .map(|in_flight| in_flight.work.clone())
                .unwrap_or_default(),
            gateway_state,
            reason,
            message: observed.to_string(),
        }
    }
}

/// The gateway's observed state in the home folder `home` now.
#[pyfunction]
pub(super) fn observe_gateway(py: Python<'_>, home: PathBuf) -> GatewayState {
    let observed = py.detach(|| gateway::observe(Some(&home)));
    GatewayState::from(&observed)
}

/// Waits until the gateway of `home` is idle, at most `timeout` seconds (`None`: as
/// long as it takes): `(True, state)` once idle, `(False, state)` at the timeout. The
/// GIL is released meanwhile; signals are heard within 200 ms.
#[pyfunction]
#[pyo3(signature = (home, timeout=None))]
pub(super) fn wait_gateway_idle(
    py: Python<'_>,
    home: PathBuf,
    timeout: Option<f64>,
) -> PyResult<(bool, GatewayState)> {
    let limit = match timeout {
        Some(timeout) => seconds(timeout, "timeout")?,
        None => None,
    };
    let give_up = limit.and_then(|limit| Instant::now().checked_add(limit));
    loop {
        let slice = give_up.map_or(SLICE, |at| {
            at.saturating_duration_since(Instant::now()).min(SLICE)
        });
        match py.detach(|| gateway::wait_idle(Some(&home), Some(slice))) {
            Ok(idle) => return Ok((true, GatewayState::from(&idle))),
            Err(busy) if give_up.is_some_and(|at| Instant::now() >= at) => {
                return Ok((false, GatewayState::from(&busy)));
            }
            Err(_) => py.check_signals()?,
        }
    }
}
