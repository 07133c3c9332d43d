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
//! Everything that decides "draining" goes through the pure [`classify`], which takes
//! marker bytes, the current epoch and a clock reading; the functions here add only
//! the file I/O and the warnings. Warnings go to the [`log`] facade.

#![warn(missing_docs)]

pub mod epoch;
mod error;
pub mod ffi;
mod fields;
pub mod fsio;
pub mod home;
mod json;
pub mod marker;
#[cfg(feature = "python")]
mod python;
pub mod timestamp;
pub mod warn;
pub mod watch;

use std::ffi::{CStr, OsStr};
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;

pub use error::{Error, Step};
pub use home::{MARKER_FILE_NAME, marker_path, resolve_home};
pub use marker::{
    Body, Classified, Context, MAX_AGE_MICROS, MAX_AGE_SECONDS, Payload, Read, Verdict, classify,
};
pub use timestamp::Timestamp;
pub use warn::Warning;

use fields::{FieldRef, Fields};
use fsio::RawMarker;

/// Begins (or keeps alive) a drain: writes a marker stamped with this instantiation's
/// epoch and the current time, and returns the payload written.
///
/// `home` is the home folder, `None` for the default (see [`resolve_home`]).
pub fn write(
    home: Option<&Path>,
    principal: &str,
    suppress_notification: bool,
) -> Result<Payload, Error> {
    let payload = Payload::new(
        principal,
        suppress_notification,
        epoch::current(),
        Timestamp::now(),
    );
    write_payload(home, &payload)?;
    Ok(payload)
}

/// Writes `payload` as the marker of `home`, atomically (see [`write_payload_to`]).
/// For callers that stamp the payload themselves, such as a binding whose epoch is
/// computed by its host.
pub fn write_payload(home: Option<&Path>, payload: &Payload) -> Result<(), Error> {
    write_payload_to(&marker_path(home), payload)
}

/// Writes `payload` as the marker at `marker`, atomically and durably (see
/// [`fsio::write_marker`]), after checking that a reader would read it back as the same
/// payload ([`Payload::to_checked_bytes`]): a refused payload touches nothing and fails
/// with [`Step::CheckPayload`].
pub fn write_payload_to(marker: &Path, payload: &Payload) -> Result<(), Error> {
    let bytes = payload
        .to_checked_bytes()
        .map_err(|reason| Error::refused(marker, reason))?;
    fsio::write_marker(marker, &bytes)
}

/// Cancels a drain: removes the marker. Returns whether there was one; a missing
/// marker is not an error, anything else is.
pub fn clear(home: Option<&Path>) -> Result<bool, Error> {
    fsio::remove_marker(&marker_path(home))
}

/// The marker's read result: absent, contentless or its body. Never fails; an
/// unreadable marker reads as absent and is logged once per distinct failure.
pub fn read(home: Option<&Path>) -> Read {
    status(home).read
}

/// The marker of `home` judged now, against this instantiation's epoch.
pub fn status(home: Option<&Path>) -> Classified {
    let inspection = inspect(
        &marker_path(home),
        &Context::new(epoch::current(), Timestamp::now()),
    );
    if let Some(warning) = &inspection.warning {
        warn::log_once(warning);
    }
    inspection.classified
}

/// Whether the gateway of `home` must drain now: a marker is present, from this
/// instantiation, and not expired.
pub fn drain_requested(home: Option<&Path>) -> bool {
    poll(home).active
}

/// Whether an active drain asks the gateway to skip its "shutting down" notice.
pub fn notification_suppressed(home: Option<&Path>) -> bool {
    poll(home).suppressed
}

/// The verdict of `home`'s marker now, logging its warning: [`status`] without the body.
pub fn poll(home: Option<&Path>) -> Verdict {
    let resolved;
    let home = match home {
        Some(home) => home,
        None => {
            resolved = resolve_home(None);
            &resolved
        }
    };
    // The clock is read once the marker is read, and only if there is one: an absent
    // marker, the common case, needs no time.
    let context = || Context::new(epoch::current(), Timestamp::now());
    let (verdict, warning) = home::with_marker_c_path(home, |path| {
        let shown = Path::new(OsStr::from_bytes(path.to_bytes()));
        verdict_with(path, shown, context)
    })
    .unwrap_or_else(|error| {
        let path = marker_path(Some(home));
        (Verdict::default(), Some(unreadable_warning(&path, &error)))
    });
    if let Some(warning) = &warning {
        warn::log_once(warning);
    }
    verdict
}

/// The result of reading and judging one marker, with the warning it deserves, if
/// any, left for the caller to log (bindings log through their host's logging).
#[derive(Clone, Debug, PartialEq)]
pub struct Inspection {
    /// The read result and verdict.
    pub classified: Classified,
    /// An unreadable or expired marker's warning, not yet deduplicated.
    pub warning: Option<Warning>,
}

/// Reads the marker at `path` and judges it in `context`, without logging.
pub fn inspect(path: &Path, context: &Context<'_>) -> Inspection {
    inspect_read(path, fsio::read_marker(path), context)
}

/// [`inspect`] in two halves, for a binding that reads without its interpreter's lock
/// and judges with it: `raw` is what [`fsio::read_marker`] read at `path`. Python's
/// binding asks the host's `current_instantiation_epoch` only once it knows there is a
/// marker to judge, as the original did; an absent or unreadable marker consults no
/// part of `context`.
pub fn inspect_read(path: &Path, raw: RawMarker, context: &Context<'_>) -> Inspection {
    let (read, unreadable) = match raw {
        RawMarker::Absent => (Read::Absent, None),
        RawMarker::Unreadable(error) => (Read::Absent, Some(error)),
        RawMarker::TooLarge => (Read::Contentless, None),
        RawMarker::Bytes(bytes) => (Read::from_bytes(&bytes), None),
    };
    let classified = marker::judge(read, context);
    let body = classified.read.body();
    let warning = match unreadable {
        Some(error) => Some(unreadable_warning(path, &error)),
        None => expiry_warning(path, classified.expired_age_micros, context, |name| {
            body.and_then(|body| body.get(name)).map(FieldRef::from)
        }),
    };
    Inspection {
        classified,
        warning,
    }
}

/// [`inspect_read`] without building the body (see [`inspect_verdict`]).
pub fn inspect_verdict_read(
    path: &Path,
    raw: RawMarker,
    context: &Context<'_>,
) -> (Verdict, Option<Warning>) {
    match raw {
        RawMarker::Absent => (Verdict::default(), None),
        RawMarker::Unreadable(error) => {
            (Verdict::default(), Some(unreadable_warning(path, &error)))
        }
        RawMarker::TooLarge => poll_bytes(path, None, context),
        RawMarker::Bytes(bytes) => poll_bytes(path, Some(&bytes), context),
    }
}

/// [`inspect`] without building the body: the verdict and the warning it deserves.
/// This is what a poll costs: the system calls of one read, and a parse that keeps
/// only the fields the rules consult.
pub fn inspect_verdict(path: &Path, context: &Context<'_>) -> (Verdict, Option<Warning>) {
    fsio::with_c_path(&[path.as_os_str().as_bytes()], |c_path| {
        verdict_with(c_path, path, || *context)
    })
    .unwrap_or_else(|error| (Verdict::default(), Some(unreadable_warning(path, &error))))
}

/// [`inspect_verdict`] with the context made only when there are bytes to judge, for
/// the marker opened as `path` and named `shown` in warnings.
fn verdict_with<'c>(
    path: &CStr,
    shown: &Path,
    context: impl FnOnce() -> Context<'c>,
) -> (Verdict, Option<Warning>) {
    // The bytes are borrowed from a buffer on the stack (see `read_marker_with`).
    match fsio::read_marker_with(path, |bytes| poll_bytes(shown, bytes, &context())) {
        Ok(judged) => judged,
        Err(RawMarker::Unreadable(error)) => {
            (Verdict::default(), Some(unreadable_warning(shown, &error)))
        }
        Err(_) => (Verdict::default(), None),
    }
}

/// Not part of the API: the second half of [`inspect_verdict`], the verdict and
/// warning of marker bytes read from `path` (`None`: a marker over 1 MiB, left
/// unread). Public only for the fuzz target that holds this fast reading equal to the
/// full one of [`inspect`] and [`classify`].
#[doc(hidden)]
pub fn poll_bytes(
    path: &Path,
    bytes: Option<&[u8]>,
    context: &Context<'_>,
) -> (Verdict, Option<Warning>) {
    let fields = bytes.and_then(Fields::from_bytes);
    let (verdict, age) = marker::judge_fields(fields.as_ref(), context);
    let warning = expiry_warning(path, age, context, |name| {
        fields.as_ref().and_then(|fields| fields.get(name))
    });
    (verdict, warning)
}

fn unreadable_warning(path: &Path, error: &std::io::Error) -> Warning {
    Warning::Unreadable {
        path: path.to_path_buf(),
        error: error.to_string(),
    }
}

fn expiry_warning<'v>(
    path: &Path,
    expired_age_micros: Option<i64>,
    context: &Context<'_>,
    field: impl Fn(&str) -> Option<FieldRef<'v>>,
) -> Option<Warning> {
    // The age first: a marker that is not expired (every poll but one) returns before
    // the path is copied.
    let age_micros = expired_age_micros?;
    Some(Warning::Expired {
        path: path.to_path_buf(),
        age_micros,
        requested_at: field("requested_at")?.as_str()?.to_owned(),
        max_age_micros: context.max_age_micros,
        principal: field("principal").map(FieldRef::to_value),
    })
}

/// The README's Rust examples, compiled (and the pure one run) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
