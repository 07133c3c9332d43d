//! # drain-control
//!
//! One definition of the drain marker contract, shared by a gateway (the reader) and a
//! dashboard (the writer) that have no other channel between them.
//!
//! The dashboard asks a running gateway to stop taking new turns by writing
//! `$HERMES_HOME/.drain_request.json`, and cancels by removing it. The marker carries
//! the writer's instantiation [`epoch`], so a marker that survived a machine restart
//! on a durable volume is ignored, and it expires an hour after its `requested_at`
//! unless it is re-written.
//!
//! ```
//! # let dir = std::env::temp_dir().join(format!("drain-doc-{}", std::process::id()));
//! let home = Some(dir.as_path());
//! assert!(!drain_control::drain_requested(home));
//! let payload = drain_control::write(home, "dashboard", false)?;
//! assert_eq!(payload.principal, "dashboard");
//! assert!(drain_control::drain_requested(home));
//! assert!(drain_control::clear(home)?);
//! assert!(!drain_control::drain_requested(home));
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), drain_control::Error>(())
//! ```
//!
//! Everything that decides "draining" goes through the pure [`classify()`], which takes
//! marker bytes, the current epoch and a clock reading; the functions above add only
//! the file I/O and the warnings, which go to the [`log`] facade. [`watch`] reports
//! each change as it happens; [`inspect`] serves bindings that log through their host.
//! ARCHITECTURE.md maps the modules and which may call which.

#![warn(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod classify;
pub mod contract;
mod drain;
pub mod epoch;
mod error;
pub mod ffi;
mod fields;
pub mod fsio;
pub mod gateway;
pub mod home;
pub mod inspect;
mod json;
pub mod lease;
pub mod marker;
#[cfg(feature = "python")]
mod python;
pub mod timestamp;
pub mod warn;
pub mod watch;

pub use classify::{Classified, Context, Decision, State, Verdict, classify, judge};
pub use contract::{
    MARKER_FILE_NAME, MAX_AGE_MICROS, MAX_AGE_SECONDS, MAX_MARKER_BYTES, MAX_NESTING,
};
pub use drain::{
    clear, drain_requested, notification_suppressed, read, status, verdict, write, write_payload,
    write_payload_to,
};
pub use error::{Error, Step};
pub use home::{marker_path, resolve_home};
pub use inspect::Inspection;
pub use json::is_truthy;
pub use marker::{Body, Payload, Reading};
pub use timestamp::Timestamp;
pub use warn::Warning;

/// The README's Rust examples, compiled (and the pure one run) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
