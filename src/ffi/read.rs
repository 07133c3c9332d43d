//! Reading: the marker as JSON, classifying marker bytes, the epoch, the marker path.

use std::ffi::c_char;
use std::os::unix::ffi::OsStringExt;

use super::args::{Out, c_home, c_slice, c_text};
use super::boundary::{status_boundary, text_status};
use super::marker::DrainVerdict;
use super::status::DrainStatus;
use crate::{Context, Reading, Timestamp};

/// Classifies marker bytes, the pure decision every binding shares: the verdict on
/// `len` bytes at `marker` for the epoch `current_epoch` at the instant
/// `now_unix_micros` (microseconds since 1970-01-01T00:00:00Z). No file is touched and
/// nothing is logged.
///
/// `marker` may be NULL only when `len` is 0 (an empty marker, which is present and
/// contentless). `current_epoch` is NUL-terminated UTF-8 (required); `""` disables
/// the epoch check. On success `*out` receives the verdict.
///
/// Returns `DRAIN_STATUS_OK`; `DRAIN_STATUS_NULL_ARGUMENT` for a NULL `out`,
/// `current_epoch`, or `marker` with `len > 0`; `DRAIN_STATUS_INVALID_UTF8` when
/// `current_epoch` is not UTF-8; `DRAIN_STATUS_INVALID_ARGUMENT` when `len` exceeds
/// `PTRDIFF_MAX`. Thread-safe.
///
/// # Safety
/// `marker` is NULL or points to `len` readable bytes; `current_epoch` is NULL or a
/// valid NUL-terminated string; both are only read during the call. `out` is NULL or
/// valid for writing one `drain_verdict`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_classify(
    marker: *const u8,
    len: usize,
    current_epoch: *const c_char,
    now_unix_micros: i64,
    out: *mut DrainVerdict,
) -> DrainStatus {
    status_boundary(|| {
        let out = Out::new(out)?;
        // SAFETY: `marker` is NULL or points to `len` readable bytes that outlive the call
        // (this function's contract), as `c_slice` requires.
        let raw = unsafe { c_slice(marker, len) }?;
        // SAFETY: `current_epoch` is NULL or a NUL-terminated string that outlives the call
        // (this function's contract), as `c_text` requires.
        let epoch = unsafe { c_text(current_epoch) }?;
        let context = Context::new(epoch, Timestamp::from_unix_micros(now_unix_micros));
        let verdict = crate::classify(raw, &context).verdict;
        // SAFETY: `out` is non-NULL (checked by `Out::new`) and valid for writing one
        // `drain_verdict` (this function's contract), as `Out::set` requires.
        unsafe { out.set(verdict.into()) }
    })
}

/// Reads the marker of `home` as JSON text: `null` when there is no marker (or it is
/// unreadable), `{}` when it is contentless (empty, not a JSON object, over 1 MiB),
/// else the marker's object as compact JSON with its keys in file order. This is the
/// original's `read_drain_request()`; it says nothing about epoch or expiry (use
/// `drain_inspect` for that).
///
/// `home` as for `drain_requested`. Text outputs all follow this convention: `out_len`
/// is required and receives the text's length in bytes, without the NUL terminator.
/// The text and a NUL are written to `buf` only when `buf_len >= *out_len + 1`;
/// otherwise the status is `DRAIN_STATUS_BUFFER_TOO_SMALL` and only `*out_len` is
/// written. `buf` may be NULL when `buf_len` is 0, to ask for the size. The caller
/// owns `buf`. The text is UTF-8 without NUL bytes.
///
/// The marker can change between a sizing call and the next: repeat while the status
/// is `DRAIN_STATUS_BUFFER_TOO_SMALL`.
///
/// Returns `DRAIN_STATUS_OK`, `DRAIN_STATUS_BUFFER_TOO_SMALL`, or
/// `DRAIN_STATUS_NULL_ARGUMENT` when `out_len` is NULL, or `buf` is NULL with
/// `buf_len > 0`. Thread-safe. Same caveat about `HERMES_HOME`.
///
/// # Safety
/// `home` is NULL or a valid NUL-terminated string, only read during the call; `buf`
/// is NULL or valid for writing `buf_len` bytes; `out_len` is NULL or valid for writing
/// one `size_t`; `buf` and `out_len` do not overlap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_read(
    home: *const c_char,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> DrainStatus {
    let text = || {
        // SAFETY: `home` is NULL or a NUL-terminated string that outlives the call
        // (this function's contract), as `c_home` requires.
        let read = crate::status(unsafe { c_home(home) }).reading;
        Ok(read_json(&read))
    };
    // SAFETY: `buf` is NULL or valid for writing `buf_len` bytes, `out_len` NULL or
    // valid for writing a `size_t`, not overlapping (this function's contract), as
    // `text_status` requires.
    unsafe { text_status(buf, buf_len, out_len, text) }
}

/// The read result of marker bytes as JSON text, as `drain_read` would give it for a
/// marker file holding those bytes: `{}` when contentless, else the object. Lets
/// tests compare a binding's reading of the shared vectors. No file is touched.
///
/// `marker` may be NULL only when `len` is 0. The text goes to `buf` as described at
/// `drain_read`.
///
/// Returns `DRAIN_STATUS_OK`, `DRAIN_STATUS_BUFFER_TOO_SMALL`,
/// `DRAIN_STATUS_NULL_ARGUMENT` (NULL `out_len`, `buf` with `buf_len > 0`, or `marker`
/// with `len > 0`) or `DRAIN_STATUS_INVALID_ARGUMENT` (`len` above `PTRDIFF_MAX`).
/// Thread-safe.
///
/// # Safety
/// `marker` is NULL or points to `len` readable bytes, only read during the call;
/// `buf` is NULL or valid for writing `buf_len` bytes; `out_len` is NULL or valid for
/// writing one `size_t`; none of them overlap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_classify_read(
    marker: *const u8,
    len: usize,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> DrainStatus {
    let text = || {
        // SAFETY: `marker` is NULL or points to `len` readable bytes that outlive the call
        // (this function's contract), as `c_slice` requires.
        let raw = unsafe { c_slice(marker, len) }?;
        Ok(read_json(&Reading::from_bytes(raw)))
    };
    // SAFETY: `buf` is NULL or valid for writing `buf_len` bytes, `out_len` NULL or
    // valid for writing a `size_t`, not overlapping (this function's contract), as
    // `text_status` requires.
    unsafe { text_status(buf, buf_len, out_len, text) }
}

/// A read result as compact JSON text; `null` when absent.
pub(super) fn read_json(read: &Reading) -> String {
    match read.to_json() {
        Some(value) => value.to_string(),
        None => "null".to_owned(),
    }
}

/// This instantiation's epoch, the text a write stamps into the marker:
/// `"<boot_id>:<pid1 start time>"` on Linux, the boot time in seconds on macOS, and
/// `""` where nothing identifies the instantiation (an empty epoch disables the epoch
/// check). Computed once per process, then constant.
///
/// The text goes to `buf` as described at `drain_read`. Returns `DRAIN_STATUS_OK`,
/// `DRAIN_STATUS_BUFFER_TOO_SMALL` or `DRAIN_STATUS_NULL_ARGUMENT`. Thread-safe.
///
/// # Safety
/// `buf` is NULL or valid for writing `buf_len` bytes; `out_len` is NULL or valid for
/// writing one `size_t`; they do not overlap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_epoch(
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> DrainStatus {
    // SAFETY: `buf` is NULL or valid for writing `buf_len` bytes, `out_len` NULL or
    // valid for writing a `size_t`, not overlapping (this function's contract), as
    // `text_status` requires.
    unsafe { text_status(buf, buf_len, out_len, || Ok(crate::epoch::current())) }
}

/// The marker path of `home`: `<home>/.drain_request.json`, with the default home
/// resolved now when `home` is NULL. The path's raw bytes (not necessarily UTF-8,
/// never containing NUL) go to `buf` as described at `drain_read`.
///
/// Returns `DRAIN_STATUS_OK`, `DRAIN_STATUS_BUFFER_TOO_SMALL` or
/// `DRAIN_STATUS_NULL_ARGUMENT`. Thread-safe. Same caveat about `HERMES_HOME`.
///
/// # Safety
/// `home` is NULL or a valid NUL-terminated string, only read during the call; `buf`
/// is NULL or valid for writing `buf_len` bytes; `out_len` is NULL or valid for writing
/// one `size_t`; `buf` and `out_len` do not overlap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_marker_path(
    home: *const c_char,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> DrainStatus {
    let text = || {
        // SAFETY: `home` is NULL or a NUL-terminated string that outlives the call
        // (this function's contract), as `c_home` requires.
        let path = crate::marker_path(unsafe { c_home(home) });
        Ok(path.into_os_string().into_vec())
    };
    // SAFETY: `buf` is NULL or valid for writing `buf_len` bytes, `out_len` NULL or
    // valid for writing a `size_t`, not overlapping (this function's contract), as
    // `text_status` requires.
    unsafe { text_status(buf, buf_len, out_len, text) }
}
