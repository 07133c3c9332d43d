//! `drain_error`: what failed in a write or a clear, as plain data the caller owns.

use std::ffi::{c_char, c_int};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::status::DrainStatus;
use super::step::DrainStep;
use crate::{Error, Step};

/// The capacity of `drain_error.marker` and `drain_error.path` in bytes, the NUL
/// included: Linux's `PATH_MAX`, above the length of any path a system call accepts.
pub const DRAIN_ERROR_PATH_CAPACITY: usize = 4096;

/// The capacity of `drain_error.message` in bytes, the NUL included.
pub const DRAIN_ERROR_MESSAGE_CAPACITY: usize = 4096;

/// What failed in a write or a clear (`drain_write_ex`, `drain_clear_ex`): the step,
/// the OS error, the marker and the path the failing call acted on, and a message that
/// says it all. Plain data, owned by the caller (it may live on the stack; it holds no
/// pointers and needs no freeing).
///
/// Written whole on every failure, never on success: after any status but
/// `DRAIN_STATUS_OK`, `message` says what went wrong and may be printed as it is. For
/// `DRAIN_STATUS_IO_ERROR` and `DRAIN_STATUS_INVALID_PAYLOAD` every field is as below;
/// for any other failure (a NULL or non-UTF-8 principal, a panic) `step` is
/// `DRAIN_STEP_NONE`, `os_error` 0 and `path` empty.
///
/// Texts are NUL-terminated and cut to fit: each `*_len` is the text's whole length
/// without the NUL, and the array holds all of it when `*_len` is below the array's
/// capacity (`DRAIN_ERROR_PATH_CAPACITY`, `DRAIN_ERROR_MESSAGE_CAPACITY`), else its
/// first capacity - 1 bytes. A path longer than `DRAIN_ERROR_PATH_CAPACITY - 1` bytes
/// can only come with the OS refusing it as too long (`ENAMETOOLONG`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrainError {
    /// The step that failed (a `drain_step` value).
    pub step: DrainStep,
    /// The OS error number (`errno`) of the failure, the first one that happened, never
    /// a later clean-up error; `EIO` for an I/O failure that carried none; 0 for a
    /// refused payload (`DRAIN_STEP_CHECK_PAYLOAD`).
    pub os_error: c_int,
    /// Whether the old marker (or its absence) is untouched: true for a failure at any
    /// step before the rename (or the removal), false only for `DRAIN_STEP_SYNC_FOLDER`,
    /// when the new marker is already in place (or the marker already gone) and only
    /// the flush of the folder failed, and after a panic, when it is not known. No
    /// temporary file is ever left behind.
    pub marker_untouched: bool,
    /// The length of the marker path, in bytes, without the NUL.
    pub marker_len: usize,
    /// The length of the path the failing call acted on, in bytes, without the NUL.
    pub path_len: usize,
    /// The length of the message, in bytes, without the NUL.
    pub message_len: usize,
    /// The marker path the call was for (`<home>/.drain_request.json`): raw bytes, not
    /// necessarily UTF-8. Empty after a panic.
    pub marker: [c_char; DRAIN_ERROR_PATH_CAPACITY],
    /// The path the failing call acted on: the home folder (`DRAIN_STEP_CREATE_HOME`),
    /// the temporary file beside the marker (`CREATE_TEMP` .. `SYNC_TEMP`), the marker
    /// or the file its link points to (`FOLLOW_LINK`, `RENAME`, `REMOVE`,
    /// `CHECK_PAYLOAD`), or its folder (`SYNC_FOLDER`); empty for `DRAIN_STEP_NONE`.
    /// Raw bytes, not necessarily UTF-8.
    pub path: [c_char; DRAIN_ERROR_PATH_CAPACITY],
    /// For people and logs, UTF-8 (a cut never splits a character): `drain marker
    /// "<marker>": <the step> "<path>": <the OS error>`, such as `drain marker
    /// "/h/.drain_request.json": creating a temporary file "/h/..drain_request_0.tmp":
    /// Permission denied (os error 13)`; for a refused payload or argument, which
    /// argument is at fault and why (for a payload, the limit).
    pub message: [c_char; DRAIN_ERROR_MESSAGE_CAPACITY],
}

impl DrainError {
    /// The description of a failed write or clear.
    pub fn new(error: &Error) -> Self {
        let os_error = match error.step() {
            Step::CheckPayload => 0,
            _ => error.raw_os_error().unwrap_or(libc::EIO),
        };
        let message = error.to_string();
        let mut out = DrainError {
            step: error.step().into(),
            os_error,
            marker_untouched: error.step().leaves_marker_untouched(),
            marker_len: 0,
            path_len: 0,
            message_len: 0,
            marker: [0; DRAIN_ERROR_PATH_CAPACITY],
            path: [0; DRAIN_ERROR_PATH_CAPACITY],
            message: [0; DRAIN_ERROR_MESSAGE_CAPACITY],
        };
        out.marker_len = copy_cut(&mut out.marker, error.marker().as_os_str().as_bytes(), None);
        out.path_len = copy_cut(&mut out.path, error.path().as_os_str().as_bytes(), None);
        out.message_len = copy_cut(&mut out.message, message.as_bytes(), Some(&message));
        out
    }
}

impl DrainError {
    /// A failure with no step: nothing was attempted (or, after a panic, what was is
    /// unknown).
    fn without_step(marker: &[u8], marker_untouched: bool, message: &str) -> Self {
        let mut out = DrainError {
            step: DrainStep::None,
            os_error: 0,
            marker_untouched,
            marker_len: 0,
            path_len: 0,
            message_len: 0,
            marker: [0; DRAIN_ERROR_PATH_CAPACITY],
            path: [0; DRAIN_ERROR_PATH_CAPACITY],
            message: [0; DRAIN_ERROR_MESSAGE_CAPACITY],
        };
        out.marker_len = copy_cut(&mut out.marker, marker, None);
        out.message_len = copy_cut(&mut out.message, message.as_bytes(), Some(message));
        out
    }

    /// An argument refused before anything was done: `what` says which and why.
    pub(super) fn argument(marker: &Path, what: &str) -> Self {
        let message = format!("drain marker {marker:?}: {what}; nothing was written");
        DrainError::without_step(marker.as_os_str().as_bytes(), true, &message)
    }

    /// A lease operation that wrote nothing: the drain is another's, the lease is lost,
    /// the lock was busy, or the token is not one.
    pub(super) fn lease(marker: &Path, message: &str) -> Self {
        let message = format!("drain marker {marker:?}: {message}");
        DrainError::without_step(marker.as_os_str().as_bytes(), true, &message)
    }

    /// A panic inside the library: what it had done is unknown.
    pub(super) fn panic() -> Self {
        let message = DrainStatus::Panic.message().to_str().unwrap_or("a panic");
        DrainError::without_step(b"", false, message)
    }
}

/// Copies `text` into `dst`, NUL-terminated, cut to fit (when `utf8` is the same text
/// as a `str`, at a character boundary); returns the whole length of `text`.
pub(super) fn copy_cut(dst: &mut [c_char], text: &[u8], utf8: Option<&str>) -> usize {
    let mut keep = text.len().min(dst.len().saturating_sub(1));
    if let Some(utf8) = utf8 {
        while !utf8.is_char_boundary(keep) {
            keep -= 1;
        }
    }
    for (to, from) in dst.iter_mut().zip(&text[..keep]) {
        *to = *from as c_char;
    }
    if let Some(end) = dst.get_mut(keep) {
        *end = 0;
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_cut_keeps_what_fits_with_its_nul_and_reports_the_whole_length() {
        let mut dst = [b'#' as c_char; 4];
        assert_eq!(copy_cut(&mut dst, b"ab", None), 2);
        assert_eq!(dst.map(|byte| byte as u8), *b"ab\0#");
        assert_eq!(copy_cut(&mut dst, b"abcdef", None), 6);
        assert_eq!(dst.map(|byte| byte as u8), *b"abc\0");
        // Two bytes per "é": a cut after 3 bytes would split the second one.
        let text = "aéé";
        assert_eq!(copy_cut(&mut dst, text.as_bytes(), Some(text)), 5);
        assert_eq!(dst.map(|byte| byte as u8), [b'a', 0xc3, 0xa9, 0]);
        assert_eq!(copy_cut(&mut [], b"abc", None), 3);
    }

    #[test]
    fn a_drain_error_describes_the_core_error_whole_or_cut() {
        let text = |array: &[c_char], len: usize| {
            assert_eq!(array[len], 0);
            array[..len]
                .iter()
                .map(|&byte| byte as u8)
                .collect::<Vec<u8>>()
        };
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("file");
        std::fs::write(&home, "x").unwrap();
        let error = crate::write(Some(&home), "x", false).unwrap_err();
        let c_error = DrainError::new(&error);
        assert_eq!(c_error.step, DrainStep::CreateHome);
        assert_eq!(Some(c_error.os_error), error.raw_os_error());
        assert!(c_error.marker_untouched);
        let marker = error.marker().as_os_str().as_bytes();
        assert_eq!(text(&c_error.marker, c_error.marker_len), marker);
        let path = home.as_os_str().as_bytes();
        assert_eq!(text(&c_error.path, c_error.path_len), path);
        let message = error.to_string();
        assert_eq!(
            text(&c_error.message, c_error.message_len),
            message.as_bytes()
        );

        // A home longer than the arrays: the whole lengths, and the prefixes that fit.
        let long = dir.path().join("d".repeat(5000));
        let error = crate::write(Some(&long), "x", false).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::ENAMETOOLONG));
        let c_error = DrainError::new(&error);
        let long = long.as_os_str().as_bytes();
        let marker = error.marker().as_os_str().as_bytes();
        assert_eq!(c_error.path_len, long.len());
        assert_eq!(c_error.marker_len, marker.len());
        assert_eq!(c_error.message_len, error.to_string().len());
        let kept = DRAIN_ERROR_PATH_CAPACITY - 1;
        assert_eq!(text(&c_error.path, kept), &long[..kept]);
        assert_eq!(text(&c_error.marker, kept), &marker[..kept]);
        let kept = DRAIN_ERROR_MESSAGE_CAPACITY - 1;
        assert_eq!(
            text(&c_error.message, kept),
            &error.to_string().as_bytes()[..kept]
        );

        // A refused argument, and a panic: no step, and a message all the same.
        let marker = dir.path().join(".drain_request.json");
        let c_error = DrainError::argument(&marker, "principal is NULL");
        assert_eq!(
            (c_error.step, c_error.os_error, c_error.path_len),
            (DrainStep::None, 0, 0)
        );
        assert!(c_error.marker_untouched);
        assert_eq!(
            text(&c_error.marker, c_error.marker_len),
            marker.as_os_str().as_bytes()
        );
        let message = format!("drain marker {marker:?}: principal is NULL; nothing was written");
        assert_eq!(
            text(&c_error.message, c_error.message_len),
            message.as_bytes()
        );
        let c_error = DrainError::panic();
        assert_eq!(
            (c_error.step, c_error.marker_len, c_error.path_len),
            (DrainStep::None, 0, 0)
        );
        assert!(!c_error.marker_untouched, "unknown after a panic");
        let message = DrainStatus::Panic.message().to_bytes();
        assert_eq!(text(&c_error.message, c_error.message_len), message);

        // A refused payload: no OS error, the marker untouched.
        let principal = "p".repeat(2 << 20);
        let error = crate::write(Some(dir.path()), &principal, false).unwrap_err();
        let c_error = DrainError::new(&error);
        assert_eq!(
            (c_error.step, c_error.os_error),
            (DrainStep::CheckPayload, 0)
        );
        assert!(c_error.marker_untouched);
    }
}
