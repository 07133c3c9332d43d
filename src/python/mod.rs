//! The Python extension module `drain_control._native`.
//!
//! A leaf over the core: it converts types and errors and releases the GIL around
//! every file I/O; it decides nothing. The drop-in module `drain_control` (Python,
//! in `python/drain_control/__init__.py`) reproduces the original module's call
//! structure, and hands what its host's functions returned to the core's rules
//! ([`rules`], and [`write::check_payload`] for a payload). For the four reads of the
//! gateway's hot path, a [`poller::Poller`] checks in the module's namespace, at every
//! call, that nothing the original would consult is patched, so that a poll is one
//! native call; otherwise it hands the read to the module's Python functions.
//!
//! This file only registers the module; each part has a file of its own:
//! [`convert`] (values and errors), [`verdict`] (the classification of a marker and its
//! warning), [`home`] (paths and the epoch), [`rules`], [`poller`] (with [`names`], its
//! look-ups), [`watcher`], [`write`](mod@write) (writing and clearing), [`lease`]
//! (leases: keep-alive, release, hold, their errors), [`begin`] (a lease's begin,
//! which may wait) and [`gateway`] (the gateway's observed state).

mod begin;
mod convert;
mod gateway;
mod home;
mod lease;
mod names;
mod poller;
mod rules;
mod verdict;
mod watcher;
mod write;

use pyo3::prelude::*;

use crate::contract::MAX_MARKER_BYTES;
use crate::{MARKER_FILE_NAME, MAX_AGE_MICROS, MAX_AGE_SECONDS, fsio};

#[pymodule]
#[pyo3(name = "_native")]
fn native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add("MARKER_FILE_NAME", MARKER_FILE_NAME)?;
    module.add("MAX_AGE_SECONDS", MAX_AGE_SECONDS)?;
    module.add("MAX_AGE_MICROS", MAX_AGE_MICROS)?;
    module.add("TEMP_PREFIX", fsio::TEMP_PREFIX)?;
    module.add("TEMP_SUFFIX", fsio::TEMP_SUFFIX)?;
    module.add_class::<verdict::Classification>()?;
    module.add_class::<verdict::MarkerWarning>()?;
    module.add_class::<watcher::Change>()?;
    module.add_class::<watcher::PyWatcher>()?;
    module.add_class::<poller::Poller>()?;
    module.add_class::<lease::DrainHolder>()?;
    module.add_class::<lease::LeaseOptions>()?;
    module.add_class::<lease::Lease>()?;
    module.add_class::<begin::LeaseBegin>()?;
    module.add_class::<gateway::GatewayState>()?;
    module.add("MAX_MARKER_BYTES", MAX_MARKER_BYTES)?;
    module.add_function(wrap_pyfunction!(home::marker_path, module)?)?;
    module.add_function(wrap_pyfunction!(home::home_folder, module)?)?;
    module.add_function(wrap_pyfunction!(home::compose_epoch, module)?)?;
    module.add_function(wrap_pyfunction!(home::kernel_boot_time, module)?)?;
    module.add_function(wrap_pyfunction!(verdict::classify, module)?)?;
    module.add_function(wrap_pyfunction!(rules::epoch_is_stale, module)?)?;
    module.add_function(wrap_pyfunction!(rules::is_expired, module)?)?;
    module.add_function(wrap_pyfunction!(rules::timestamp_micros, module)?)?;
    module.add_function(wrap_pyfunction!(rules::now_isoformat, module)?)?;
    module.add_function(wrap_pyfunction!(rules::expired_message, module)?)?;
    module.add_function(wrap_pyfunction!(write::write_marker, module)?)?;
    module.add_function(wrap_pyfunction!(write::check_payload, module)?)?;
    module.add_function(wrap_pyfunction!(write::write_file, module)?)?;
    module.add_function(wrap_pyfunction!(write::remove_marker, module)?)?;
    module.add_function(wrap_pyfunction!(lease::resume_lease, module)?)?;
    module.add_function(wrap_pyfunction!(gateway::observe_gateway, module)?)?;
    module.add_function(wrap_pyfunction!(gateway::wait_gateway_idle, module)?)?;
    Ok(())
}
