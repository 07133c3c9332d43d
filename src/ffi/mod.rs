//! The C ABI: the core's functions for C callers (and the Go package, through cgo).
//!
//! Every function here converts types and errors and nothing else; the contract's
//! rules live in the core. The header `include/drain_control.h` is generated from
//! these files by cbindgen (`scripts/gen-header`), so the doc comments on exported
//! items are the C documentation.
//!
//! Conventions, shared by every `drain_*` function:
//! - A status of [`DrainStatus::Ok`] (0) is success; outputs are written through
//!   out-pointers only on success, except the needed length on
//!   [`DrainStatus::BufferTooSmall`], the OS error number on [`DrainStatus::IoError`],
//!   and the [`DrainError`] of a failed write or clear.
//! - Text comes back in caller buffers (see [`drain_read`]); the library never
//!   allocates memory that the caller must free, and returns only static strings.
//! - Paths are NUL-terminated bytes and need not be UTF-8. A NULL `home` means the
//!   default home: `HERMES_HOME` (whitespace stripped), else `~/.hermes`, resolved at
//!   every call.
//! - No call keeps state for the caller between calls (no thread-local "last error"),
//!   so every function may be called from any thread, concurrently. The one exception
//!   is explicit: a `drain_watcher` handle holds its watch, and its functions say
//!   which of them may run concurrently.
//! - A panic inside the library (a bug) never crosses into C: it becomes
//!   [`DrainStatus::Panic`], or `false` for the functions that return `bool`.
//!
//! Layout: a file per C type with the functions about it, one place where panics and
//! errors become statuses (`boundary`) and one where pointers become Rust values
//! (`args`). cbindgen reads this file, then the modules in the order declared below,
//! and lays out the header's constants and functions in that order.

/// The major version of the library this header belongs to (the crate's major version).
/// Checked against Cargo.toml when the crate compiles, so it cannot drift.
pub const DRAIN_CONTROL_VERSION_MAJOR: u32 = 0;
/// The minor version of the library this header belongs to.
pub const DRAIN_CONTROL_VERSION_MINOR: u32 = 1;
/// The patch version of the library this header belongs to. (The header also defines
/// `DRAIN_CONTROL_VERSION`, the string "MAJOR.MINOR.PATCH" built from these three, equal
/// to what `drain_version()` of the matching library returns.)
pub const DRAIN_CONTROL_VERSION_PATCH: u32 = 0;

// The version constants above are literals because cbindgen copies literals into the
// header; these assertions make any build fail when they differ from Cargo.toml.
const _: () = {
    assert!(DRAIN_CONTROL_VERSION_MAJOR == parse_u32(env!("CARGO_PKG_VERSION_MAJOR")));
    assert!(DRAIN_CONTROL_VERSION_MINOR == parse_u32(env!("CARGO_PKG_VERSION_MINOR")));
    assert!(DRAIN_CONTROL_VERSION_PATCH == parse_u32(env!("CARGO_PKG_VERSION_PATCH")));
    // The header's DRAIN_CONTROL_VERSION string is "MAJOR.MINOR.PATCH" (bindings.toml):
    // a pre-release or build suffix would make it differ from drain_version().
    assert!(str_eq(
        env!("CARGO_PKG_VERSION"),
        concat!(
            env!("CARGO_PKG_VERSION_MAJOR"),
            ".",
            env!("CARGO_PKG_VERSION_MINOR"),
            ".",
            env!("CARGO_PKG_VERSION_PATCH")
        )
    ));
};

const fn parse_u32(text: &str) -> u32 {
    let bytes = text.as_bytes();
    let mut value = 0u32;
    let mut i = 0;
    while i < bytes.len() {
        assert!(bytes[i].is_ascii_digit(), "a version part is not a number");
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

// cbindgen reads the modules in this order, which is the header's (tests/c_abi.rs reads
// them in the same order); a comment above each keeps rustfmt from sorting them.

// Private: C pointers and buffers to and from Rust values.
mod args;
// Private: the panic boundary, and the statuses of failures.
mod boundary;
// The marker of a home: the verdict (`drain_verdict`), the maximum age, whether to drain,
// write and clear.
mod marker;
// `drain_step`: the step of a write or a clear that failed.
mod step;
// `drain_error`: what failed in a write or a clear.
mod error;
// Reading: the marker as JSON, classifying bytes, the epoch, the marker path.
mod read;
// `drain_status` and its messages.
mod status;
// `drain_version`.
mod version;
// `drain_watcher`: the watcher handle.
mod watcher;
// `drain_change` and `drain_state`: what a watcher reports.
mod change;
// `drain_holder`: who holds a drain.
mod holder;
// `drain_lease`: drains that belong to someone (CONTRACT.md).
mod lease;

pub use change::{DrainChange, DrainState, drain_state_name};
pub use error::{DRAIN_ERROR_MESSAGE_CAPACITY, DRAIN_ERROR_PATH_CAPACITY, DrainError};
pub use holder::{DRAIN_HOLDER_TEXT_CAPACITY, DrainHolder};
#[cfg(feature = "test-hooks")]
pub use lease::drain_lease_begin_with_max_age_for_tests;
pub use lease::{
    DrainLease, drain_lease_begin, drain_lease_free, drain_lease_hold, drain_lease_keep_alive,
    drain_lease_lost, drain_lease_release, drain_lease_resume, drain_lease_token,
};
pub use marker::{
    DRAIN_MAX_AGE_MICROS, DRAIN_MAX_AGE_SECONDS, DrainVerdict, drain_clear, drain_clear_ex,
    drain_inspect, drain_notification_suppressed, drain_requested, drain_write, drain_write_ex,
};
pub use read::{drain_classify, drain_classify_read, drain_epoch, drain_marker_path, drain_read};
pub use status::{DrainStatus, drain_status_message};
pub use step::{DrainStep, drain_step_name};
pub use version::drain_version;
#[cfg(feature = "test-hooks")]
pub use watcher::drain_watcher_new_with_max_age_for_tests;
pub use watcher::{
    DrainWatcher, drain_watcher_body, drain_watcher_fd, drain_watcher_free, drain_watcher_new,
    drain_watcher_next, drain_watcher_stop,
};
