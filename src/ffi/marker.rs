//! The marker of a home: its verdict (`drain_requested`, `drain_inspect`), write, clear.

use std::ffi::{c_char, c_int};

use super::args::{Out, c_home, c_text, write_error, write_optional};
use super::boundary::{after_panic, boundary, marker_error, status_boundary};
use super::error::DrainError;
use super::status::DrainStatus;
use crate::Verdict;

/// How long a marker is honoured after its `requested_at`: one hour, in seconds.
pub const DRAIN_MAX_AGE_SECONDS: f64 = 3600.0;

/// How long a marker is honoured after its `requested_at`, in microseconds: the
/// resolution at which expiry is decided.
pub const DRAIN_MAX_AGE_MICROS: i64 = 3_600_000_000;

// Literals, because cbindgen does not evaluate: it would copy `DRAIN_MAX_AGE_SECONDS as
// i64 * 1_000_000` into the header as a C expression, not a number, and drops a path to
// the core's constants. The build checks them instead.
const _: () = assert!(DRAIN_MAX_AGE_MICROS == DRAIN_MAX_AGE_SECONDS as i64 * 1_000_000);
const _: () = assert!(DRAIN_MAX_AGE_MICROS == crate::MAX_AGE_MICROS);
const _: () = assert!(DRAIN_MAX_AGE_SECONDS == crate::MAX_AGE_SECONDS);

/// What the contract decides about one marker. Plain data: the caller owns it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrainVerdict {
    /// A marker is there (a contentless one counts).
    pub present: bool,
    /// Present, and neither epoch-stale nor expired: the gateway must drain.
    pub active: bool,
    /// Active, and `suppress_notification` is truthy: skip the broadcast notice.
    pub suppressed: bool,
    /// The marker was written by another instantiation (epoch) of this machine.
    pub epoch_stale: bool,
    /// The marker's `requested_at` is more than `DRAIN_MAX_AGE_SECONDS` ago.
    pub expired: bool,
}

impl From<Verdict> for DrainVerdict {
    fn from(verdict: Verdict) -> Self {
        DrainVerdict {
            present: verdict.present,
            active: verdict.active,
            suppressed: verdict.suppressed,
            epoch_stale: verdict.epoch_stale,
            expired: verdict.expired,
        }
    }
}

/// Whether the gateway of `home` must drain now: a marker is present, was written by
/// this instantiation (epoch) and is not expired.
///
/// `home` is the home folder as a NUL-terminated path (any bytes but NUL, not
/// necessarily UTF-8), or NULL for the default home. Returns false on any failure: an
/// unreadable marker reads as absent (and is logged once through the Rust `log`
/// facade, which is silent unless a Rust logger is installed).
///
/// Thread-safe. Reads `HERMES_HOME` when `home` is NULL, so it must not run
/// concurrently with `setenv`/`unsetenv` in another thread (a rule of the C library).
///
/// # Safety
/// `home` is NULL or a valid NUL-terminated string, only read during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_requested(home: *const c_char) -> bool {
    // SAFETY: `home` is NULL or a NUL-terminated string that outlives the call (this
    // function's contract), as `c_home` requires.
    boundary(false, || crate::drain_requested(unsafe { c_home(home) }))
}

/// Whether an active drain of `home` asks the gateway to skip its "shutting down"
/// notice. False when no drain is active, and on any failure.
///
/// `home` as for `drain_requested`. Thread-safe, with the same caveat about
/// `HERMES_HOME`.
///
/// # Safety
/// `home` is NULL or a valid NUL-terminated string, only read during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_notification_suppressed(home: *const c_char) -> bool {
    boundary(false, || {
        // SAFETY: `home` is NULL or a NUL-terminated string that outlives the call
        // (this function's contract), as `c_home` requires.
        crate::notification_suppressed(unsafe { c_home(home) })
    })
}

/// The verdict on the marker of `home` now, against this instantiation's epoch:
/// everything `drain_requested` and `drain_notification_suppressed` decide, at once.
///
/// `home` as for `drain_requested`. On success `*out` receives the verdict (the caller
/// owns the struct). Reading never fails: an unreadable marker is absent.
///
/// Returns `DRAIN_STATUS_OK`, or `DRAIN_STATUS_NULL_ARGUMENT` when `out` is NULL.
/// Thread-safe, with the same caveat about `HERMES_HOME`.
///
/// # Safety
/// `home` is NULL or a valid NUL-terminated string, only read during the call; `out`
/// is NULL or valid for writing one `drain_verdict`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_inspect(home: *const c_char, out: *mut DrainVerdict) -> DrainStatus {
    status_boundary(|| {
        let out = Out::new(out)?;
        // SAFETY: `home` is NULL or a NUL-terminated string that outlives the call
        // (this function's contract), as `c_home` requires.
        let verdict = crate::status(unsafe { c_home(home) }).verdict;
        // SAFETY: `out` is non-NULL (checked by `Out::new`) and valid for writing one
        // `drain_verdict` (this function's contract), as `Out::set` requires.
        unsafe { out.set(verdict.into()) }
    })
}

/// Begins (or keeps alive) a drain: writes the marker of `home` atomically and
/// durably, stamped with this instantiation's epoch and the current UTC time.
/// Re-writing an existing marker is the keep-alive that stops it from expiring.
///
/// `home` as for `drain_requested`; the home folder is created if missing.
/// `principal` names who asks (NUL-terminated UTF-8, required; never consulted by
/// readers). `suppress_notification` asks the gateway to skip its broadcast notice.
///
/// Returns `DRAIN_STATUS_OK`; `DRAIN_STATUS_NULL_ARGUMENT` when `principal` is NULL;
/// `DRAIN_STATUS_INVALID_UTF8` when `principal` is not UTF-8 (nothing is written);
/// `DRAIN_STATUS_INVALID_PAYLOAD` when the marker would not read back as written (a
/// principal so long that the marker would be over the 1 MiB a reader reads), refused
/// before anything is touched; `DRAIN_STATUS_IO_ERROR` when the write failed and, when
/// `out_errno` is not NULL, `*out_errno` set to the OS error number of the first
/// failure (`EIO` if the failure carried none). `out_errno` is written only on
/// `DRAIN_STATUS_IO_ERROR`. `drain_write_ex` also tells the failed step and its path.
///
/// A failed write leaves no temporary file. A failure before the rename leaves the old
/// marker (or its absence) untouched; only the last step, flushing the folder after the
/// rename, can fail with the new marker already in place.
///
/// Thread-safe, also against other writers in this or another process: each write
/// replaces the marker whole. Same caveat about `HERMES_HOME`.
///
/// # Safety
/// `home` is NULL or a valid NUL-terminated string, `principal` is NULL or a valid
/// NUL-terminated string, both only read during the call; `out_errno` is NULL or valid
/// for writing one `int`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_write(
    home: *const c_char,
    principal: *const c_char,
    suppress_notification: bool,
    out_errno: *mut c_int,
) -> DrainStatus {
    // SAFETY: this function's contract is `write_marker`'s, and a NULL `out_err` is allowed.
    unsafe {
        write_marker(
            home,
            principal,
            suppress_notification,
            out_errno,
            std::ptr::null_mut(),
        )
    }
}

/// `drain_write`, telling what failed: on any failure, when `out_err` is not NULL,
/// `*out_err` receives the failed step, the OS error number, the marker path, the path
/// the failing call acted on (the home folder, the temporary file, the marker, its
/// folder), whether the old marker is untouched, and a message naming them all (see
/// `drain_error`). On success `*out_err` is left as it was.
///
/// Returns what `drain_write` returns. A caller that only prints:
///
/// ```c
/// drain_error err;
/// if (drain_write_ex(home, "dashboard", false, &err) != DRAIN_STATUS_OK)
///     fprintf(stderr, "%s\n", err.message);
/// ```
///
/// Thread-safe, as `drain_write`: the struct is the caller's, and nothing is kept.
///
/// # Safety
/// `home` and `principal` as for `drain_write`; `out_err` is NULL or valid for writing
/// one `drain_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_write_ex(
    home: *const c_char,
    principal: *const c_char,
    suppress_notification: bool,
    out_err: *mut DrainError,
) -> DrainStatus {
    // SAFETY: this function's contract is `write_marker`'s, and a NULL `out_errno` is
    // allowed.
    unsafe {
        write_marker(
            home,
            principal,
            suppress_notification,
            std::ptr::null_mut(),
            out_err,
        )
    }
}

/// The body of `drain_write` and `drain_write_ex`.
///
/// # Safety
/// As for `drain_write`, and `out_err` as for `drain_write_ex`.
unsafe fn write_marker(
    home: *const c_char,
    principal: *const c_char,
    suppress_notification: bool,
    out_errno: *mut c_int,
    out_err: *mut DrainError,
) -> DrainStatus {
    let status = status_boundary(|| {
        // SAFETY: `home` is NULL or a NUL-terminated string that outlives the call
        // (this function's contract), as `c_home` requires.
        let home = unsafe { c_home(home) };
        // SAFETY: the same holds for `principal`, as `c_text` requires.
        let principal = match unsafe { c_text(principal) } {
            Ok(principal) => principal,
            Err(status) => {
                let what = match status {
                    DrainStatus::NullArgument => "principal is NULL",
                    _ => "principal is not valid UTF-8",
                };
                let marker = crate::marker_path(home);
                // SAFETY: `out_err` is NULL or valid for writing a `DrainError` (this
                // function's contract), as `write_error` requires.
                unsafe { write_error(out_err, || DrainError::argument(&marker, what)) };
                return Err(status);
            }
        };
        match crate::write(home, principal, suppress_notification) {
            Ok(_) => Ok(()),
            // SAFETY: `out_errno` is NULL or valid for writing an `int`, `out_err` NULL or
            // valid for writing a `DrainError` (this function's contract), as
            // `marker_error` requires.
            Err(error) => Err(unsafe { marker_error(&error, out_errno, out_err) }),
        }
    });
    // SAFETY: `out_err` is NULL or valid for writing a `DrainError` (this function's
    // contract), as `after_panic` requires.
    unsafe { after_panic(status, out_err) }
}

/// Cancels a drain: removes the marker of `home` and flushes its folder. Idempotent.
///
/// `home` as for `drain_requested`. On success, when `out_existed` is not NULL,
/// `*out_existed` tells whether there was a marker to remove (a missing marker is not
/// an error). On `DRAIN_STATUS_IO_ERROR`, when `out_errno` is not NULL, `*out_errno`
/// receives the OS error number (`EIO` if the failure carried none).
/// `drain_clear_ex` also tells the failed step and its path.
///
/// Thread-safe. Same caveat about `HERMES_HOME`.
///
/// # Safety
/// `home` is NULL or a valid NUL-terminated string, only read during the call;
/// `out_existed` is NULL or valid for writing one `bool`, `out_errno` NULL or valid for
/// writing one `int`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_clear(
    home: *const c_char,
    out_existed: *mut bool,
    out_errno: *mut c_int,
) -> DrainStatus {
    // SAFETY: this function's contract is `clear_marker`'s, and a NULL `out_err` is allowed.
    unsafe { clear_marker(home, out_existed, out_errno, std::ptr::null_mut()) }
}

/// `drain_clear`, telling what failed: on any failure, when `out_err` is not NULL,
/// `*out_err` receives the failed step (`DRAIN_STEP_REMOVE`, with the old marker
/// untouched, or `DRAIN_STEP_SYNC_FOLDER`, with the marker already removed), the OS
/// error number, the marker path, the path the failing call acted on and a message (see
/// `drain_error`). On success `*out_err` is left as it was, and `*out_existed` is
/// written as for `drain_clear`.
///
/// Returns what `drain_clear` returns. Thread-safe.
///
/// # Safety
/// `home` and `out_existed` as for `drain_clear`; `out_err` is NULL or valid for writing
/// one `drain_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_clear_ex(
    home: *const c_char,
    out_existed: *mut bool,
    out_err: *mut DrainError,
) -> DrainStatus {
    // SAFETY: this function's contract is `clear_marker`'s, and a NULL `out_errno` is
    // allowed.
    unsafe { clear_marker(home, out_existed, std::ptr::null_mut(), out_err) }
}

/// The body of `drain_clear` and `drain_clear_ex`.
///
/// # Safety
/// As for `drain_clear`, and `out_err` as for `drain_clear_ex`.
unsafe fn clear_marker(
    home: *const c_char,
    out_existed: *mut bool,
    out_errno: *mut c_int,
    out_err: *mut DrainError,
) -> DrainStatus {
    let status = status_boundary(|| {
        // SAFETY: `home` is NULL or a NUL-terminated string that outlives the call
        // (this function's contract), as `c_home` requires.
        match crate::clear(unsafe { c_home(home) }) {
            Ok(existed) => {
                // SAFETY: `out_existed` is NULL or valid for writing a `bool` (this
                // function's contract), as `write_optional` requires.
                unsafe { write_optional(out_existed, existed) };
                Ok(())
            }
            // SAFETY: `out_errno` is NULL or valid for writing an `int`, `out_err` NULL or
            // valid for writing a `DrainError` (this function's contract), as
            // `marker_error` requires.
            Err(error) => Err(unsafe { marker_error(&error, out_errno, out_err) }),
        }
    });
    // SAFETY: `out_err` is NULL or valid for writing a `DrainError` (this function's
    // contract), as `after_panic` requires.
    unsafe { after_panic(status, out_err) }
}
