//! The lease handle (`drain_lease`): an exclusive begin, keep-alive, compare-and-clear
//! release, and a background hold released by `drain_lease_free`.

use std::ffi::c_char;

use std::sync::Mutex;
use std::time::Duration;

use super::args::{Out, c_home, c_text, write_error, write_optional};
use super::boundary::{after_panic, marker_error, status_boundary, text_status};
use super::error::DrainError;
use super::holder::DrainHolder;
use super::status::DrainStatus;
use crate::lease::{self, HeldLease, Lease, LeaseError, LeaseOptions};
use crate::marker_path;

/// A lease: a drain this process began exclusively (`drain_lease_begin`) or whose token
/// it was given (`drain_lease_resume`). Opaque; released by `drain_lease_free`, which
/// releases the drain too once `drain_lease_hold` was called (and only then: a lease
/// not held can be handed on by its token).
///
/// Thread-safety: every function may be called from any thread, also concurrently on
/// one handle, except `drain_lease_free`, which must not run concurrently with any other
/// call on the same handle.
pub struct DrainLease {
    lease: Lease,
    held: Mutex<Option<HeldLease>>,
}

/// The handle behind a `drain_lease` pointer; NULL is an error.
///
/// # Safety
/// `lease` is NULL or a live handle from `drain_lease_begin`/`drain_lease_resume` that
/// outlives `'a`.
unsafe fn lease_ref<'a>(lease: *const DrainLease) -> Result<&'a DrainLease, DrainStatus> {
    // SAFETY: NULL or live per the caller's contract; only shared references are made.
    unsafe { lease.as_ref() }.ok_or(DrainStatus::NullArgument)
}

/// The status of a failed lease operation, with its holder and error written where the
/// caller asked for them.
///
/// # Safety
/// `out_holder` is NULL or valid for a write of a `DrainHolder`, `out_err` NULL or
/// valid for a write of a `DrainError`.
unsafe fn lease_error(
    error: LeaseError,
    marker: &std::path::Path,
    out_holder: *mut DrainHolder,
    out_err: *mut DrainError,
) -> DrainStatus {
    let message = error.to_string();
    let (status, holder) = match error {
        LeaseError::Held(holder) => (DrainStatus::Held, Some(holder)),
        LeaseError::Lost(holder) => (DrainStatus::Lost, holder),
        LeaseError::Busy { .. } => (DrainStatus::Busy, None),
        LeaseError::Io(error) => {
            // SAFETY: `out_err` per this function's contract, as `marker_error` requires.
            return unsafe { marker_error(&error, std::ptr::null_mut(), out_err) };
        }
        LeaseError::InvalidToken(_) => (DrainStatus::InvalidToken, None),
    };
    if matches!(status, DrainStatus::Held | DrainStatus::Lost) {
        // SAFETY: `out_holder` per this function's contract, as `write_optional` requires.
        unsafe { write_optional(out_holder, DrainHolder::new(holder.as_ref())) };
    }
    // SAFETY: `out_err` per this function's contract, as `write_error` requires.
    unsafe { write_error(out_err, || DrainError::lease(marker, &message)) };
    status
}

/// The body of `drain_lease_begin` and its test-only sibling.
///
/// # Safety
/// As `drain_lease_begin`.
#[allow(clippy::too_many_arguments)]
unsafe fn begin(
    home: *const c_char,
    principal: *const c_char,
    suppress_notification: bool,
    wait_ms: u64,
    options: LeaseOptions,
    out: *mut *mut DrainLease,
    out_holder: *mut DrainHolder,
    out_err: *mut DrainError,
) -> DrainStatus {
    let status = status_boundary(|| {
        let out = Out::new(out)?;
        // SAFETY: `home` and `principal` are NULL or NUL-terminated strings that outlive
        // the call (this function's contract), as `c_home` and `c_text` require.
        let (home, principal) = unsafe { (c_home(home), c_text(principal)) };
        let principal = principal.inspect_err(|_| {
            let what = "the principal is NULL or not UTF-8";
            // SAFETY: `out_err` per this function's contract.
            unsafe { write_error(out_err, || DrainError::argument(&marker_path(home), what)) };
        })?;
        let begun = match wait_ms {
            0 => lease::begin_with(home, principal, suppress_notification, &options),
            ms => lease::begin_waiting(
                home,
                principal,
                suppress_notification,
                &options,
                Duration::from_millis(ms),
            ),
        };
        let lease = match begun {
            Ok(lease) => lease,
            Err(error) => {
                let marker = marker_path(home);
                // SAFETY: `out_holder` and `out_err` per this function's contract.
                return Err(unsafe { lease_error(error, &marker, out_holder, out_err) });
            }
        };
        let handle = Box::new(DrainLease {
            lease,
            held: Mutex::new(None),
        });
        // SAFETY: `out` is non-NULL (checked by `Out::new`) and valid for writing one
        // pointer (this function's contract), as `Out::set` requires.
        unsafe { out.set(Box::into_raw(handle)) }
    });
    // SAFETY: `out_err` per this function's contract, as `after_panic` requires.
    unsafe { after_panic(status, out_err) }
}

/// Begins a drain of `home` only if no drain is active there (an absent, epoch-stale
/// or expired marker is replaced; a contentless one counts as active), as a lease whose
/// marker carries a new random `owner_token` (see CONTRACT.md).
///
/// `home` as for `drain_requested`; `principal` and `suppress_notification` as for
/// `drain_write`. `wait_ms` is how long to wait for an active drain to end (0: do not
/// wait; `UINT64_MAX`: as long as it takes), woken by each change of the marker.
///
/// On success `*out` receives a new handle, owned by the caller (`drain_lease_free`).
/// Returns `DRAIN_STATUS_HELD` when another drain is active (stays active past the
/// wait), with `*out_holder` written when `out_holder` is not NULL;
/// `DRAIN_STATUS_BUSY` when other writers kept the lock taken for 5 s;
/// `DRAIN_STATUS_IO_ERROR` or `DRAIN_STATUS_INVALID_PAYLOAD` as `drain_write_ex`, and
/// `DRAIN_STATUS_NULL_ARGUMENT` / `DRAIN_STATUS_INVALID_UTF8` for `out` or `principal`.
/// `*out_err`, where given, describes every failure. Thread-safe.
///
/// # Safety
/// `home` is NULL or a valid NUL-terminated string, `principal` a valid NUL-terminated
/// string, both only read during the call; `out` is NULL or valid for writing one
/// pointer; `out_holder` NULL or valid for writing a `drain_holder`; `out_err` NULL or
/// valid for writing a `drain_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_lease_begin(
    home: *const c_char,
    principal: *const c_char,
    suppress_notification: bool,
    wait_ms: u64,
    out: *mut *mut DrainLease,
    out_holder: *mut DrainHolder,
    out_err: *mut DrainError,
) -> DrainStatus {
    // SAFETY: this function's contract is `begin`'s.
    unsafe {
        begin(
            home,
            principal,
            suppress_notification,
            wait_ms,
            LeaseOptions::default(),
            out,
            out_holder,
            out_err,
        )
    }
}

/// FOR TESTS ONLY: `drain_lease_begin`, judging (and holding) against `max_age_micros`
/// instead of the contract's hour. Built only with the cargo feature `test-hooks`;
/// declared in `tests/c/test_hooks.h`, never in the public header.
///
/// # Safety
/// As `drain_lease_begin`.
#[cfg(feature = "test-hooks")]
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn drain_lease_begin_with_max_age_for_tests(
    home: *const c_char,
    principal: *const c_char,
    suppress_notification: bool,
    wait_ms: u64,
    max_age_micros: i64,
    out: *mut *mut DrainLease,
    out_holder: *mut DrainHolder,
    out_err: *mut DrainError,
) -> DrainStatus {
    let options = LeaseOptions {
        max_age_micros,
        ..LeaseOptions::default()
    };
    // SAFETY: this function's contract is `begin`'s.
    unsafe {
        begin(
            home,
            principal,
            suppress_notification,
            wait_ms,
            options,
            out,
            out_holder,
            out_err,
        )
    }
}

/// The lease whose token is `token` (as `drain_lease_token` gave it, perhaps in another
/// process), for keeping alive or releasing it. Only the token's form is checked:
/// `DRAIN_STATUS_INVALID_TOKEN` unless it is 32 lower-case hexadecimal digits.
///
/// On success `*out` receives a new handle, owned by the caller (`drain_lease_free`).
/// Thread-safe.
///
/// # Safety
/// `home` is NULL or a valid NUL-terminated string, `token` a valid NUL-terminated
/// string, both only read during the call; `out` is NULL or valid for writing one
/// pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_lease_resume(
    home: *const c_char,
    token: *const c_char,
    out: *mut *mut DrainLease,
) -> DrainStatus {
    status_boundary(|| {
        let out = Out::new(out)?;
        // SAFETY: NULL or NUL-terminated strings that outlive the call (this function's
        // contract), as `c_home` and `c_text` require.
        let (home, token) = unsafe { (c_home(home), c_text(token)) };
        let lease = Lease::resume(home, token?, &LeaseOptions::default())
            .map_err(|_| DrainStatus::InvalidToken)?;
        let handle = Box::new(DrainLease {
            lease,
            held: Mutex::new(None),
        });
        // SAFETY: `out` is non-NULL (checked) and valid for writing one pointer.
        unsafe { out.set(Box::into_raw(handle)) }
    })
}

/// Copies the lease's token (32 lower-case hexadecimal digits) into `buf`, as
/// `drain_epoch` copies text: `*out_len` receives its length; `DRAIN_STATUS_BUFFER_TOO_SMALL`
/// unless `buf_len` is at least 33. Thread-safe.
///
/// # Safety
/// `lease` is NULL or a live handle; `buf` is NULL or valid for writing `buf_len`
/// bytes; `out_len` NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_lease_token(
    lease: *const DrainLease,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> DrainStatus {
    // SAFETY: the buffer arguments per this function's contract, as `text_status`
    // requires; `lease` is NULL or live, as `lease_ref` requires.
    unsafe {
        text_status(buf, buf_len, out_len, || {
            Ok(lease_ref(lease)?.lease.token().as_bytes())
        })
    }
}

/// Re-writes the lease's marker with a new `requested_at`, only while it carries the
/// lease's token. Returns `DRAIN_STATUS_LOST` otherwise, writing nothing, with
/// `*out_holder` (who holds the drain now) written when `out_holder` is not NULL;
/// `DRAIN_STATUS_BUSY` and `DRAIN_STATUS_IO_ERROR` as `drain_lease_begin`. Thread-safe.
///
/// # Safety
/// `lease` is NULL or a live handle; `out_holder` NULL or valid for writing a
/// `drain_holder`; `out_err` NULL or valid for writing a `drain_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_lease_keep_alive(
    lease: *const DrainLease,
    out_holder: *mut DrainHolder,
    out_err: *mut DrainError,
) -> DrainStatus {
    let status = status_boundary(|| {
        // SAFETY: NULL or live per this function's contract.
        let lease = unsafe { lease_ref(lease) }?;
        match lease.lease.keep_alive() {
            Ok(_) => Ok(()),
            Err(error) => {
                let marker = lease.lease.marker();
                // SAFETY: `out_holder` and `out_err` per this function's contract.
                Err(unsafe { lease_error(error, marker, out_holder, out_err) })
            }
        }
    });
    // SAFETY: `out_err` per this function's contract.
    unsafe { after_panic(status, out_err) }
}

/// Removes the lease's marker only while it carries the lease's token
/// (compare-and-clear); `*out_removed` says whether it did. Never removes another's
/// drain. A held lease (`drain_lease_hold`) stops being kept alive first.
/// `DRAIN_STATUS_BUSY` and `DRAIN_STATUS_IO_ERROR` as `drain_lease_begin`. Thread-safe.
///
/// # Safety
/// `lease` is NULL or a live handle; `out_removed` NULL or valid for writing a `bool`;
/// `out_err` NULL or valid for writing a `drain_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_lease_release(
    lease: *const DrainLease,
    out_removed: *mut bool,
    out_err: *mut DrainError,
) -> DrainStatus {
    let status = status_boundary(|| {
        // SAFETY: NULL or live per this function's contract.
        let lease = unsafe { lease_ref(lease) }?;
        let held = lease.held.lock().unwrap_or_else(|e| e.into_inner()).take();
        let released = match held {
            Some(held) => held.release(),
            None => lease.lease.release(),
        };
        match released {
            Ok(removed) => {
                // SAFETY: `out_removed` per this function's contract.
                unsafe { write_optional(out_removed, removed) };
                Ok(())
            }
            Err(error) => {
                let (marker, no_holder) = (lease.lease.marker(), std::ptr::null_mut());
                // SAFETY: `out_err` per this function's contract; no holder is asked for.
                Err(unsafe { lease_error(error, marker, no_holder, out_err) })
            }
        }
    });
    // SAFETY: `out_err` per this function's contract.
    unsafe { after_panic(status, out_err) }
}

/// Keeps the drain alive in the background, every `every_ms` milliseconds (0: a quarter
/// of the maximum age, 15 minutes), until `drain_lease_release` or `drain_lease_free`,
/// which then releases it. Holding twice is holding once. Thread-safe.
///
/// # Safety
/// `lease` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_lease_hold(lease: *const DrainLease, every_ms: u64) -> DrainStatus {
    status_boundary(|| {
        // SAFETY: NULL or live per this function's contract.
        let lease = unsafe { lease_ref(lease) }?;
        let mut held = lease.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.is_none() {
            let every = (every_ms != 0).then(|| Duration::from_millis(every_ms));
            *held = Some(lease.lease.clone().hold(every));
        }
        Ok(())
    })
}

/// Whether a held lease was found lost by its background keep-alive: `*out_lost`, and
/// when lost and `out_holder` is not NULL, who holds the drain now (state
/// `DRAIN_STATE_ABSENT` when the marker was removed). A lease not held is never found
/// lost here (`drain_lease_keep_alive` says it). Thread-safe.
///
/// # Safety
/// `lease` is NULL or a live handle; `out_lost` NULL or valid for writing a `bool`;
/// `out_holder` NULL or valid for writing a `drain_holder`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_lease_lost(
    lease: *const DrainLease,
    out_lost: *mut bool,
    out_holder: *mut DrainHolder,
) -> DrainStatus {
    status_boundary(|| {
        let out_lost = Out::new(out_lost)?;
        // SAFETY: NULL or live per this function's contract.
        let lease = unsafe { lease_ref(lease) }?;
        let held = lease.held.lock().unwrap_or_else(|e| e.into_inner());
        let lost = held.as_ref().and_then(HeldLease::lost);
        if let Some(holder) = &lost {
            // SAFETY: `out_holder` per this function's contract.
            unsafe { write_optional(out_holder, DrainHolder::new(holder.as_ref())) };
        }
        // SAFETY: `out_lost` is non-NULL (checked) and valid for a `bool`.
        unsafe { out_lost.set(lost.is_some()) }
    })
}

/// Frees a lease handle; a held lease (`drain_lease_hold`) is first released (its
/// drain removed, if still its own). A lease not held leaves its drain in place. NULL
/// does nothing. Must not run concurrently with another call on the same handle.
///
/// # Safety
/// `lease` is NULL or a handle from `drain_lease_begin`/`drain_lease_resume` not freed
/// before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_lease_free(lease: *mut DrainLease) {
    if lease.is_null() {
        return;
    }
    // SAFETY: a handle made by `Box::into_raw` and not freed before (this function's
    // contract); dropping it drops a held lease, which releases it.
    let handle = unsafe { Box::from_raw(lease) };
    super::boundary::boundary((), move || drop(handle));
}

#[cfg(test)]
mod tests {
    use std::os::unix::ffi::OsStrExt as _;

    use super::*;

    #[test]
    fn a_lease_handle_round_trips_through_the_c_functions() {
        let dir = tempfile::tempdir().unwrap();
        let home = std::ffi::CString::new(dir.path().as_os_str().as_bytes()).unwrap();
        let mut lease = std::ptr::null_mut();
        let mut holder = DrainHolder::new(None);
        // SAFETY: valid strings and out-pointers.
        let status = unsafe {
            drain_lease_begin(
                home.as_ptr(),
                c"test".as_ptr(),
                false,
                0,
                &mut lease,
                &mut holder,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(status, DrainStatus::Ok);
        // SAFETY: a live handle.
        let marker = unsafe { &*lease }.lease.marker().as_os_str().as_bytes();
        assert!(marker.ends_with(b".drain_request.json"));
        let mut second = std::ptr::null_mut();
        // SAFETY: as above.
        let status = unsafe {
            drain_lease_begin(
                home.as_ptr(),
                c"other".as_ptr(),
                false,
                0,
                &mut second,
                &mut holder,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(status, DrainStatus::Held);
        assert!(second.is_null() && holder.owned);
        let mut removed = false;
        assert_eq!(
            // SAFETY: a live handle, valid out-pointers.
            unsafe { drain_lease_release(lease, &mut removed, std::ptr::null_mut()) },
            DrainStatus::Ok
        );
        assert!(removed);
        // SAFETY: a handle not freed before.
        unsafe { drain_lease_free(lease) };
    }
}
