//! The operations on a home's marker, for a Rust gateway or dashboard: write, clear,
//! and read-and-judge now against this instantiation's epoch, logging each warning
//! once through the [`log`] facade.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;

use crate::classify::{Classified, Context, Verdict};
use crate::error::Error;
use crate::home::{self, marker_path, resolve_home};
use crate::inspect::{self, Snapshot};
use crate::marker::{Payload, Reading};
use crate::timestamp::Timestamp;
use crate::{epoch, fsio, warn};

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
/// with [`crate::Step::CheckPayload`].
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
pub fn read(home: Option<&Path>) -> Reading {
    status(home).reading
}

/// The marker of `home` judged now: its read result, verdict, state and expiry.
pub fn status(home: Option<&Path>) -> Classified {
    let marker = marker_path(home);
    let inspection =
        Snapshot::take(&marker).judge(&Context::new(epoch::current(), Timestamp::now()));
    if let Some(warning) = &inspection.warning {
        warn::log_once(warning);
    }
    inspection.classified
}

/// Whether the gateway of `home` must drain now: a marker is present, from this
/// instantiation, and not expired.
pub fn drain_requested(home: Option<&Path>) -> bool {
    verdict(home).active
}

/// Whether an active drain asks the gateway to skip its "shutting down" notice.
pub fn notification_suppressed(home: Option<&Path>) -> bool {
    verdict(home).suppressed
}

/// The verdict on `home`'s marker now: [`status`] without the body, at the cost of
/// one read into a buffer on the stack.
pub fn verdict(home: Option<&Path>) -> Verdict {
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
        inspect::verdict_with(path, shown, context)
    })
    .unwrap_or_else(|error| {
        let path = marker_path(Some(home));
        (
            Verdict::default(),
            Some(inspect::unreadable_warning(&path, &error)),
        )
    });
    if let Some(warning) = &warning {
        warn::log_once(warning);
    }
    verdict
}
