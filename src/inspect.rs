//! Reading the marker file at a path and judging it, with the warning it deserves.
//!
//! The entry points for callers that log through their own host (the Python binding,
//! the watcher, `drainctl`): nothing here logs. The crate's top-level functions add the logging for
//! the plain Rust API.

use std::ffi::CStr;
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;

use crate::classify::{self, Classified, Context, Verdict};
use crate::contract::field;
use crate::fields::{FieldRef, Fields};
use crate::fsio::{self, RawMarker};
use crate::marker::Reading;
use crate::warn::Warning;

/// The result of reading and judging one marker, with the warning it deserves, if
/// any, left for the caller to log.
#[derive(Clone, Debug, PartialEq)]
pub struct Inspection {
    /// The read result and what the rules decide about it.
    pub classified: Classified,
    /// An unreadable or expired marker's warning, not yet deduplicated.
    pub warning: Option<Warning>,
}

/// What was read at a marker path, not yet judged.
///
/// For a binding that reads without its interpreter's lock and judges with it: the
/// Python drop-in asks the host's `current_instantiation_epoch` only once it knows
/// there is a marker to judge, as the original did. An absent or unreadable marker
/// consults no part of the context.
#[derive(Debug)]
pub struct Snapshot<'p> {
    path: &'p Path,
    raw: RawMarker,
}

impl<'p> Snapshot<'p> {
    /// Reads the marker at `path` now.
    pub fn take(path: &'p Path) -> Self {
        Snapshot::new(path, fsio::read_marker(path))
    }

    /// What [`fsio::read_marker`] read at `path`.
    pub fn new(path: &'p Path, raw: RawMarker) -> Self {
        Snapshot { path, raw }
    }

    /// What was read.
    pub fn raw(&self) -> &RawMarker {
        &self.raw
    }

    /// Whether there is a marker to judge (absent and unreadable ones read as absent).
    pub fn is_present(&self) -> bool {
        matches!(self.raw, RawMarker::TooLarge | RawMarker::Bytes(_))
    }

    /// Judges the marker in `context`: its read result, verdict and warning.
    pub fn judge(self, context: &Context<'_>) -> Inspection {
        let (reading, unreadable) = match self.raw {
            RawMarker::Absent => (Reading::Absent, None),
            RawMarker::Unreadable(error) => (Reading::Absent, Some(error)),
            RawMarker::TooLarge => (Reading::Contentless, None),
            RawMarker::Bytes(bytes) => (Reading::from_bytes(&bytes), None),
        };
        let classified = classify::judge(reading, context);
        let body = classified.reading.body();
        let warning = match unreadable {
            Some(error) => Some(unreadable_warning(self.path, &error)),
            None => expiry_warning(self.path, classified.expired_age_micros, context, |name| {
                body.and_then(|body| body.get(name)).map(FieldRef::from)
            }),
        };
        Inspection {
            classified,
            warning,
        }
    }

    /// [`Snapshot::judge`] without building the body: the verdict and its warning.
    pub fn verdict(self, context: &Context<'_>) -> (Verdict, Option<Warning>) {
        match self.raw {
            RawMarker::Absent => (Verdict::default(), None),
            RawMarker::Unreadable(error) => (
                Verdict::default(),
                Some(unreadable_warning(self.path, &error)),
            ),
            RawMarker::TooLarge => verdict_of_bytes(self.path, None, context),
            RawMarker::Bytes(bytes) => verdict_of_bytes(self.path, Some(&bytes), context),
        }
    }
}

/// The marker at `path` judged in `context`: the verdict and the warning it deserves.
/// This is what a poll costs: the system calls of one read into a buffer on the stack,
/// and a parse that keeps only the fields the rules consult.
pub fn verdict(path: &Path, context: &Context<'_>) -> (Verdict, Option<Warning>) {
    fsio::with_c_path(&[path.as_os_str().as_bytes()], |c_path| {
        verdict_with(c_path, path, || *context)
    })
    .unwrap_or_else(|error| (Verdict::default(), Some(unreadable_warning(path, &error))))
}

/// [`verdict`] of the marker opened as `path` and named `shown` in warnings, with the
/// context made only when there are bytes to judge (an absent marker needs no clock).
pub(crate) fn verdict_with<'c>(
    path: &CStr,
    shown: &Path,
    context: impl FnOnce() -> Context<'c>,
) -> (Verdict, Option<Warning>) {
    match fsio::read_marker_with(path, |bytes| verdict_of_bytes(shown, bytes, &context())) {
        Ok(judged) => judged,
        Err(RawMarker::Unreadable(error)) => {
            (Verdict::default(), Some(unreadable_warning(shown, &error)))
        }
        Err(_) => (Verdict::default(), None),
    }
}

/// The verdict and warning of marker bytes read from `path` (`None`: a marker over
/// 1 MiB, left unread), through the fast reading of the consulted fields.
fn verdict_of_bytes(
    path: &Path,
    bytes: Option<&[u8]>,
    context: &Context<'_>,
) -> (Verdict, Option<Warning>) {
    let fields = bytes.and_then(Fields::from_bytes);
    let field = |name: &str| fields.as_ref().and_then(|fields| fields.get(name));
    let decision = classify::decide(true, field, context);
    let warning = expiry_warning(path, decision.expired_age_micros, context, field);
    (decision.verdict, warning)
}

/// Test-only (cargo feature `test-hooks`): the second half of [`verdict`], for the fuzz
/// target that holds the fast reading equal to the full one of [`Snapshot::judge`].
#[cfg(feature = "test-hooks")]
pub fn verdict_of_bytes_for_tests(
    path: &Path,
    bytes: Option<&[u8]>,
    context: &Context<'_>,
) -> (Verdict, Option<Warning>) {
    verdict_of_bytes(path, bytes, context)
}

pub(crate) fn unreadable_warning(path: &Path, error: &std::io::Error) -> Warning {
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
        requested_at: field(field::REQUESTED_AT)?.as_str()?.to_owned(),
        max_age_micros: context.max_age_micros,
        principal: field(field::PRINCIPAL).map(FieldRef::to_value),
    })
}
