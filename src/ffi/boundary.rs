//! Panics and failures become statuses here, so that every function reports them alike.

use std::ffi::{CStr, c_char, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::args::{TextOut, write_error, write_optional};
use super::error::DrainError;
use super::status::DrainStatus;
use crate::Error;

/// The panic boundary: runs `body`, giving `on_panic` if it panics.
pub(super) fn boundary<T>(on_panic: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(on_panic)
}

/// The panic boundary of a function that returns a status.
pub(super) fn status_boundary(body: impl FnOnce() -> Result<(), DrainStatus>) -> DrainStatus {
    match boundary(Err(DrainStatus::Panic), body) {
        Ok(()) => DrainStatus::Ok,
        Err(status) => status,
    }
}

/// The panic boundary of a function with a text output: checks the buffer arguments
/// (see [`TextOut::new`]), then fills the buffer with what `text` gives.
///
/// # Safety
/// `buf`, `buf_len` and `out_len` as for [`TextOut::fill`], or NULL where
/// [`TextOut::new`] refuses them.
pub(super) unsafe fn text_status<T>(
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    text: impl FnOnce() -> Result<T, DrainStatus>,
) -> DrainStatus
where
    T: std::ops::Deref<Target: AsRef<[u8]>>,
{
    status_boundary(|| {
        let out = TextOut::new(buf, buf_len, out_len)?;
        let text = text()?;
        // SAFETY: the buffer arguments passed `TextOut::new` and are valid as
        // `TextOut::fill` requires (this function's contract); `text` is the library's own
        // memory, so it cannot overlap them.
        unsafe { out.fill(text.as_ref()) }
    })
}

/// The panic boundary of a function that names a value: the static text `name` gives
/// for it, or `unknown` for a value this version does not know (and on a panic).
pub(super) fn static_name(
    unknown: &'static CStr,
    name: impl FnOnce() -> Option<&'static CStr>,
) -> *const c_char {
    boundary(unknown.as_ptr(), || name().unwrap_or(unknown).as_ptr())
}

/// Maps a failed call to the OS (a write, a clear, a new watcher) to `IoError`,
/// reporting its errno.
///
/// # Safety
/// `out_errno` is NULL or valid for a write of an `int`.
pub(super) unsafe fn io_error(errno: Option<i32>, out_errno: *mut c_int) -> DrainStatus {
    // Every such failure comes from a system call; EIO stands in for one that does not
    // carry an errno (such as a write that made no progress).
    // SAFETY: `out_errno` is NULL or valid for writing an `int` (this function's
    // contract), as `write_optional` requires.
    unsafe { write_optional(out_errno, errno.unwrap_or(libc::EIO)) };
    DrainStatus::IoError
}

/// The status of a failed write or clear: `InvalidPayload` for a refused payload,
/// else `IoError` with its errno; the errno and the [`DrainError`] are written where
/// the caller asked for them.
///
/// # Safety
/// `out_errno` is NULL or valid for a write of an `int`, `out_err` NULL or valid for a
/// write of a [`DrainError`].
pub(super) unsafe fn marker_error(
    error: &Error,
    out_errno: *mut c_int,
    out_err: *mut DrainError,
) -> DrainStatus {
    // SAFETY: `out_err` is NULL or valid for writing a `DrainError` (this function's
    // contract), as `write_error` requires.
    unsafe { write_error(out_err, || DrainError::new(error)) };
    if error.is_refused_payload() {
        return DrainStatus::InvalidPayload;
    }
    // SAFETY: `out_errno` is NULL or valid for writing an `int` (this function's
    // contract), as `io_error` requires.
    unsafe { io_error(error.raw_os_error(), out_errno) }
}

/// Passes `status` on; after a panic, first describes it through `out_err` (within a
/// panic boundary of its own), since nothing else did.
///
/// # Safety
/// `out_err` is NULL or valid for a write of a [`DrainError`].
pub(super) unsafe fn after_panic(status: DrainStatus, out_err: *mut DrainError) -> DrainStatus {
    if status == DrainStatus::Panic {
        // SAFETY: `out_err` is NULL or valid for writing a `DrainError` (this function's
        // contract), as `write_error` requires.
        boundary((), || unsafe { write_error(out_err, DrainError::panic) });
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_the_panic_status_and_never_unwinds_into_c() {
        let status = status_boundary(|| panic!("a bug"));
        assert_eq!(status, DrainStatus::Panic);
        assert!(!boundary(false, || -> bool { panic!("a bug") }));
    }

    #[test]
    fn a_status_body_error_is_returned_as_is() {
        assert_eq!(status_boundary(|| Ok(())), DrainStatus::Ok);
        let status = status_boundary(|| Err(DrainStatus::BufferTooSmall));
        assert_eq!(status, DrainStatus::BufferTooSmall);
    }

    #[test]
    fn text_status_checks_the_buffer_first_and_catches_a_panic() {
        let mut len = 99usize;
        let mut called = false;
        let null = std::ptr::null_mut();
        // SAFETY: `len` is writable; a NULL `buf` with `buf_len` 1 is refused.
        let status = unsafe {
            text_status(null, 1, &mut len, || {
                called = true;
                Ok("text")
            })
        };
        assert_eq!(status, DrainStatus::NullArgument);
        assert!(!called && len == 99);
        // SAFETY: as above, with `buf_len` 0: a sizing call.
        let status =
            unsafe { text_status(null, 0, &mut len, || -> Result<&str, _> { panic!("a bug") }) };
        assert_eq!(status, DrainStatus::Panic);
        assert_eq!(len, 99);
        // SAFETY: as above.
        let status = unsafe { text_status(null, 0, &mut len, || Ok("text")) };
        assert_eq!(status, DrainStatus::BufferTooSmall);
        assert_eq!(len, 4);
    }

    #[test]
    fn static_name_gives_the_unknown_text_for_none_and_on_a_panic() {
        const UNKNOWN: &CStr = c"unknown";
        const KNOWN: &CStr = c"known";
        assert_eq!(static_name(UNKNOWN, || Some(KNOWN)), KNOWN.as_ptr());
        assert_eq!(static_name(UNKNOWN, || None), UNKNOWN.as_ptr());
        assert_eq!(static_name(UNKNOWN, || panic!("a bug")), UNKNOWN.as_ptr());
    }
}
