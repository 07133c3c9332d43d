//! The C ABI: the core's functions for C callers (and the Go package, through cgo).
//!
//! Every function here converts types and errors and nothing else; the contract's
//! rules live in the core. The header `include/drain_control.h` is generated from
//! this file by cbindgen (`scripts/gen-header`), so the doc comments below are the
//! C documentation.
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

use std::ffi::{CStr, c_char, c_int};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use crate::home::path_from_bytes;
use crate::watch::{Change, State, Stopper, WatchOptions, Watcher};
use crate::{Context, Error, Reading, Step, Timestamp, Verdict};

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

/// How long a marker is honoured after its `requested_at`: one hour, in seconds.
pub const DRAIN_MAX_AGE_SECONDS: f64 = 3600.0;

/// How long a marker is honoured after its `requested_at`, in microseconds: the
/// resolution at which expiry is decided.
pub const DRAIN_MAX_AGE_MICROS: i64 = 3_600_000_000;

/// The result of a call. 0 is success. Values are never reused: a retired status
/// keeps its number forever. Functions take and return it as a `uint32_t`, so a value
/// this version does not know is not undefined behaviour; `drain_status_message`
/// describes every value.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrainStatus {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// A text argument (a principal or an epoch) was not valid UTF-8. Nothing was written.
    InvalidUtf8 = 2,
    /// The buffer cannot hold the text and its NUL terminator; `*out_len` holds the
    /// text's length. Call again with a buffer of at least `*out_len + 1` bytes.
    BufferTooSmall = 3,
    /// The operating system reported an error; `*out_errno` or `out_err->os_error`,
    /// where given, holds it (and a `drain_error` says which step failed, and on which
    /// path).
    IoError = 4,
    /// The library panicked (a bug); the call had no effect on its outputs.
    Panic = 5,
    /// An argument was out of range (such as a length above `PTRDIFF_MAX`).
    InvalidArgument = 6,
    /// `drain_watcher_next`: the timeout passed and the drain state did not change.
    /// Not a failure; `*out` was not written.
    TimedOut = 7,
    /// `drain_watcher_next`: the watcher was stopped (`drain_watcher_stop`); every
    /// later call returns this at once. `*out` was not written.
    Stopped = 8,
    /// A write refused its payload before touching the disk: the marker would not read
    /// back as written, which for a principal means the marker would be over the 1 MiB
    /// a reader reads (it would read as contentless, a drain nothing could age out).
    /// Nothing was written. A `drain_error` (`drain_write_ex`) names the argument and
    /// the limit; its step is `DRAIN_STEP_CHECK_PAYLOAD`.
    InvalidPayload = 9,
}

impl DrainStatus {
    /// The status with this number, if this version knows it.
    pub fn from_u32(value: u32) -> Option<DrainStatus> {
        [
            DrainStatus::Ok,
            DrainStatus::NullArgument,
            DrainStatus::InvalidUtf8,
            DrainStatus::BufferTooSmall,
            DrainStatus::IoError,
            DrainStatus::Panic,
            DrainStatus::InvalidArgument,
            DrainStatus::TimedOut,
            DrainStatus::Stopped,
            DrainStatus::InvalidPayload,
        ]
        .into_iter()
        .find(|status| *status as u32 == value)
    }

    /// The static description of this status.
    pub fn message(self) -> &'static CStr {
        match self {
            DrainStatus::Ok => c"ok",
            DrainStatus::NullArgument => c"a required pointer argument was NULL",
            DrainStatus::InvalidUtf8 => c"a text argument was not valid UTF-8",
            DrainStatus::BufferTooSmall => {
                c"the buffer is too small; *out_len holds the length needed without the NUL"
            }
            DrainStatus::IoError => {
                c"an I/O error occurred; *out_errno (or drain_error.os_error) holds errno"
            }
            DrainStatus::Panic => c"the library panicked (a bug in drain-control)",
            DrainStatus::InvalidArgument => c"an argument was out of range",
            DrainStatus::TimedOut => c"the timeout passed without a change of the drain state",
            DrainStatus::Stopped => c"the watcher was stopped",
            DrainStatus::InvalidPayload => {
                c"the payload was refused before anything was written: the marker would not \
                  read back as written (over the 1 MiB a reader reads); drain_error.message \
                  names the argument"
            }
        }
    }
}

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

/// The capacity of `drain_error.marker` and `drain_error.path` in bytes, the NUL
/// included: Linux's `PATH_MAX`, above the length of any path a system call accepts.
pub const DRAIN_ERROR_PATH_CAPACITY: usize = 4096;

/// The capacity of `drain_error.message` in bytes, the NUL included.
pub const DRAIN_ERROR_MESSAGE_CAPACITY: usize = 4096;

/// The step of a write or a clear that failed (`drain_error.step`). Values are never
/// reused: a retired step keeps its number forever. `drain_step_name` gives each its
/// stable name, the same in every binding (Go's `fs.PathError.Op`, `drainctl --json`).
///
/// The steps of a write, in order: `CHECK_PAYLOAD`, `CREATE_HOME`, `FOLLOW_LINK`,
/// `CREATE_TEMP`, `KEEP_MODE`, `WRITE_TEMP`, `SYNC_TEMP`, `RENAME`, `SYNC_FOLDER`; of a
/// clear: `REMOVE`, `SYNC_FOLDER`. A failure at any step but `SYNC_FOLDER` leaves the
/// old marker (or its absence) untouched (`drain_error.marker_untouched`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DrainStep {
    /// No step ("none"): nothing was attempted (an argument was refused), or a panic
    /// left unknown what was.
    #[default]
    None = 0,
    /// Checking the payload before anything is written ("check_payload"): it would not
    /// read back as written. Nothing was touched; the status is
    /// `DRAIN_STATUS_INVALID_PAYLOAD` and `os_error` is 0.
    CheckPayload = 1,
    /// Creating the home folder or a parent ("create_home"); the path is the home.
    CreateHome = 2,
    /// Following the symbolic link at the marker path ("follow_link").
    FollowLink = 3,
    /// Creating the temporary file beside the marker ("create_temp"); the path is the
    /// temporary file's.
    CreateTemp = 4,
    /// Giving the temporary file the old marker's mode ("keep_mode").
    KeepMode = 5,
    /// Writing the temporary file ("write_temp").
    WriteTemp = 6,
    /// Flushing the temporary file to disk ("sync_temp").
    SyncTemp = 7,
    /// Renaming the temporary file over the marker ("rename"); the path is the marker,
    /// or the file its link points to.
    Rename = 8,
    /// Flushing the marker's folder ("sync_folder"), after the rename (a write: the new
    /// marker is in place) or the removal (a clear: the marker is gone); the path is
    /// the folder.
    SyncFolder = 9,
    /// Removing the marker ("remove"), in a clear.
    Remove = 10,
}

impl From<Step> for DrainStep {
    fn from(step: Step) -> Self {
        match step {
            Step::CheckPayload => DrainStep::CheckPayload,
            Step::CreateHome => DrainStep::CreateHome,
            Step::FollowLink => DrainStep::FollowLink,
            Step::CreateTemp => DrainStep::CreateTemp,
            Step::KeepMode => DrainStep::KeepMode,
            Step::WriteTemp => DrainStep::WriteTemp,
            Step::SyncTemp => DrainStep::SyncTemp,
            Step::Rename => DrainStep::Rename,
            Step::SyncFolder => DrainStep::SyncFolder,
            Step::Remove => DrainStep::Remove,
        }
    }
}

impl DrainStep {
    /// Every step, in the order of their numbers.
    const ALL: [DrainStep; 11] = [
        DrainStep::None,
        DrainStep::CheckPayload,
        DrainStep::CreateHome,
        DrainStep::FollowLink,
        DrainStep::CreateTemp,
        DrainStep::KeepMode,
        DrainStep::WriteTemp,
        DrainStep::SyncTemp,
        DrainStep::Rename,
        DrainStep::SyncFolder,
        DrainStep::Remove,
    ];

    /// The step with this number, if this version knows it.
    pub fn from_u32(value: u32) -> Option<DrainStep> {
        DrainStep::ALL
            .into_iter()
            .find(|step| *step as u32 == value)
    }

    /// The stable name, as [`Step::as_str`] gives it ("none" for [`DrainStep::None`]),
    /// NUL-terminated.
    pub fn name(self) -> &'static CStr {
        match self {
            DrainStep::None => c"none",
            DrainStep::CheckPayload => c"check_payload",
            DrainStep::CreateHome => c"create_home",
            DrainStep::FollowLink => c"follow_link",
            DrainStep::CreateTemp => c"create_temp",
            DrainStep::KeepMode => c"keep_mode",
            DrainStep::WriteTemp => c"write_temp",
            DrainStep::SyncTemp => c"sync_temp",
            DrainStep::Rename => c"rename",
            DrainStep::SyncFolder => c"sync_folder",
            DrainStep::Remove => c"remove",
        }
    }
}

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
    fn argument(marker: &Path, what: &str) -> Self {
        let message = format!("drain marker {marker:?}: {what}; nothing was written");
        DrainError::without_step(marker.as_os_str().as_bytes(), true, &message)
    }

    /// A panic inside the library: what it had done is unknown.
    fn panic() -> Self {
        let message = DrainStatus::Panic.message().to_str().unwrap_or("a panic");
        DrainError::without_step(b"", false, message)
    }
}

/// Copies `text` into `dst`, NUL-terminated, cut to fit (when `utf8` is the same text
/// as a `str`, at a character boundary); returns the whole length of `text`.
fn copy_cut(dst: &mut [c_char], text: &[u8], utf8: Option<&str>) -> usize {
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

/// The panic boundary: runs `body`, giving `on_panic` if it panics.
fn boundary<T>(on_panic: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(on_panic)
}

/// The panic boundary of a function that returns a status.
fn status_boundary(body: impl FnOnce() -> Result<(), DrainStatus>) -> DrainStatus {
    match boundary(Err(DrainStatus::Panic), body) {
        Ok(()) => DrainStatus::Ok,
        Err(status) => status,
    }
}

/// The bytes of a NUL-terminated C string argument; NULL is an error.
///
/// # Safety
/// `text` is NULL or points to a NUL-terminated string that outlives `'a`.
unsafe fn c_bytes<'a>(text: *const c_char) -> Result<&'a [u8], DrainStatus> {
    if text.is_null() {
        return Err(DrainStatus::NullArgument);
    }
    // SAFETY: non-NULL, and NUL-terminated and alive per the caller's contract.
    Ok(unsafe { CStr::from_ptr(text) }.to_bytes())
}

/// A C string argument that must be UTF-8 text.
///
/// # Safety
/// As [`c_bytes`].
unsafe fn c_text<'a>(text: *const c_char) -> Result<&'a str, DrainStatus> {
    // SAFETY: passed on from the caller.
    let bytes = unsafe { c_bytes(text) }?;
    std::str::from_utf8(bytes).map_err(|_| DrainStatus::InvalidUtf8)
}

/// The `home` argument: NULL for the default home, else path bytes (any but NUL).
///
/// # Safety
/// As [`c_bytes`].
unsafe fn c_home<'a>(home: *const c_char) -> Option<&'a Path> {
    // SAFETY: passed on from the caller.
    unsafe { c_bytes(home) }.ok().map(path_from_bytes)
}

/// Bytes passed as a pointer and a length; NULL is allowed for an empty input only.
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes that outlive `'a`.
unsafe fn c_slice<'a>(data: *const u8, len: usize) -> Result<&'a [u8], DrainStatus> {
    if len == 0 {
        return Ok(&[]);
    }
    if data.is_null() {
        return Err(DrainStatus::NullArgument);
    }
    if len > isize::MAX as usize {
        return Err(DrainStatus::InvalidArgument);
    }
    // SAFETY: non-NULL, `len` readable bytes per the caller's contract, and `len` is
    // within the bound `from_raw_parts` requires.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// A required out-pointer, checked before any work is done: where [`Out::set`] writes
/// the result.
struct Out<T>(*mut T);

impl<T> Out<T> {
    /// Checks `out`: NULL is an error.
    fn new(out: *mut T) -> Result<Self, DrainStatus> {
        if out.is_null() {
            return Err(DrainStatus::NullArgument);
        }
        Ok(Out(out))
    }

    /// Writes the result.
    ///
    /// # Safety
    /// The pointer is valid for a write of `T`.
    unsafe fn set(self, value: T) -> Result<(), DrainStatus> {
        // SAFETY: checked non-NULL, and writable per the caller's contract.
        unsafe { self.0.write(value) };
        Ok(())
    }
}

/// A caller's text buffer: where [`TextOut::fill`] copies text and its length.
struct TextOut {
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
}

impl TextOut {
    /// Checks the buffer arguments before any work is done: `out_len` is required,
    /// and `buf` may be NULL only for a sizing call (`buf_len == 0`).
    fn new(buf: *mut c_char, buf_len: usize, out_len: *mut usize) -> Result<Self, DrainStatus> {
        if out_len.is_null() || (buf.is_null() && buf_len != 0) {
            return Err(DrainStatus::NullArgument);
        }
        Ok(TextOut {
            buf,
            buf_len,
            out_len,
        })
    }

    /// Reports the length of `text` and, if it fits with its NUL, copies it in.
    ///
    /// # Safety
    /// `buf` points to `buf_len` writable bytes (or `buf_len` is 0) and `out_len` to a
    /// writable `size_t`, neither overlapping `text`.
    unsafe fn fill(self, text: &[u8]) -> Result<(), DrainStatus> {
        // SAFETY: `out_len` was checked non-NULL and is writable per the contract.
        unsafe { self.out_len.write(text.len()) };
        if self.buf_len <= text.len() {
            return Err(DrainStatus::BufferTooSmall);
        }
        // SAFETY: `buf` holds `buf_len > text.len()` writable bytes, so it is non-NULL
        // and has room for the text and the NUL; the regions do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), self.buf.cast::<u8>(), text.len());
            self.buf.add(text.len()).write(0);
        }
        Ok(())
    }
}

/// The panic boundary of a function with a text output: checks the buffer arguments
/// (see [`TextOut::new`]), then fills the buffer with what `text` gives.
///
/// # Safety
/// `buf`, `buf_len` and `out_len` as for [`TextOut::fill`], or NULL where
/// [`TextOut::new`] refuses them.
unsafe fn text_status<T>(
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
        // SAFETY: passed on from the caller.
        unsafe { out.fill(text.as_ref()) }
    })
}

/// The panic boundary of a function that names a value: the static text `name` gives
/// for it, or `unknown` for a value this version does not know (and on a panic).
fn static_name(
    unknown: &'static CStr,
    name: impl FnOnce() -> Option<&'static CStr>,
) -> *const c_char {
    boundary(unknown.as_ptr(), || name().unwrap_or(unknown).as_ptr())
}

/// Writes `value` through `out` when `out` is not NULL.
///
/// # Safety
/// `out` is NULL or valid for a write of `T`.
unsafe fn write_optional<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-NULL and writable per the caller's contract.
        unsafe { out.write(value) };
    }
}

/// Maps a failed call to the OS (a write, a clear, a new watcher) to `IoError`,
/// reporting its errno.
///
/// # Safety
/// `out_errno` is NULL or valid for a write of an `int`.
unsafe fn io_error(errno: Option<i32>, out_errno: *mut c_int) -> DrainStatus {
    // Every such failure comes from a system call; EIO stands in for one that does not
    // carry an errno (such as a write that made no progress).
    // SAFETY: passed on from the caller.
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
unsafe fn marker_error(
    error: &Error,
    out_errno: *mut c_int,
    out_err: *mut DrainError,
) -> DrainStatus {
    // SAFETY: passed on from the caller.
    unsafe { write_error(out_err, || DrainError::new(error)) };
    if error.is_refused_payload() {
        return DrainStatus::InvalidPayload;
    }
    // SAFETY: passed on from the caller.
    unsafe { io_error(error.raw_os_error(), out_errno) }
}

/// Writes the [`DrainError`] `make` gives through `out_err`, when it is not NULL.
///
/// # Safety
/// `out_err` is NULL or valid for a write of a [`DrainError`].
unsafe fn write_error(out_err: *mut DrainError, make: impl FnOnce() -> DrainError) {
    if !out_err.is_null() {
        // SAFETY: non-NULL and writable per the caller's contract.
        unsafe { out_err.write(make()) };
    }
}

/// Passes `status` on; after a panic, first describes it through `out_err` (within a
/// panic boundary of its own), since nothing else did.
///
/// # Safety
/// `out_err` is NULL or valid for a write of a [`DrainError`].
unsafe fn after_panic(status: DrainStatus, out_err: *mut DrainError) -> DrainStatus {
    if status == DrainStatus::Panic {
        // SAFETY: passed on from the caller.
        boundary((), || unsafe { write_error(out_err, DrainError::panic) });
    }
    status
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
    // SAFETY: `home` per this function's contract.
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
    // SAFETY: `home` per this function's contract.
    boundary(false, || {
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
        // SAFETY: `home` per this function's contract.
        let verdict = crate::status(unsafe { c_home(home) }).verdict;
        // SAFETY: `out` is writable per this function's contract.
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
    // SAFETY: every argument per this function's contract; no `drain_error` is asked.
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
    // SAFETY: every argument per this function's contract.
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
        // SAFETY: `principal` and `home` per the caller's contract.
        let home = unsafe { c_home(home) };
        let principal = match unsafe { c_text(principal) } {
            Ok(principal) => principal,
            Err(status) => {
                let what = match status {
                    DrainStatus::NullArgument => "principal is NULL",
                    _ => "principal is not valid UTF-8",
                };
                let marker = crate::marker_path(home);
                // SAFETY: `out_err` per the caller's contract.
                unsafe { write_error(out_err, || DrainError::argument(&marker, what)) };
                return Err(status);
            }
        };
        match crate::write(home, principal, suppress_notification) {
            Ok(_) => Ok(()),
            // SAFETY: `out_errno` and `out_err` per the caller's contract.
            Err(error) => Err(unsafe { marker_error(&error, out_errno, out_err) }),
        }
    });
    // SAFETY: `out_err` per the caller's contract.
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
    // SAFETY: every argument per this function's contract; no `drain_error` is asked.
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
    // SAFETY: every argument per this function's contract.
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
        // SAFETY: `home` per the caller's contract.
        match crate::clear(unsafe { c_home(home) }) {
            Ok(existed) => {
                // SAFETY: `out_existed` per the caller's contract.
                unsafe { write_optional(out_existed, existed) };
                Ok(())
            }
            // SAFETY: `out_errno` and `out_err` per the caller's contract.
            Err(error) => Err(unsafe { marker_error(&error, out_errno, out_err) }),
        }
    });
    // SAFETY: `out_err` per the caller's contract.
    unsafe { after_panic(status, out_err) }
}

/// The stable name of a `drain_step` value: "check_payload", "create_home",
/// "follow_link", "create_temp", "keep_mode", "write_temp", "sync_temp", "rename",
/// "sync_folder", "remove" (the same words in every binding), "none" for
/// `DRAIN_STEP_NONE`, and "unknown step" for a value this version does not know.
///
/// The string is static, NUL-terminated and never NULL; the caller must not free or
/// modify it. Thread-safe.
///
/// # Safety
/// None: any argument is valid. (Marked `unsafe` like every function of this API.)
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_step_name(step: u32) -> *const c_char {
    static_name(c"unknown step", || {
        DrainStep::from_u32(step).map(DrainStep::name)
    })
}

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
        // SAFETY: `marker`, `len` and `current_epoch` per this function's contract.
        let raw = unsafe { c_slice(marker, len) }?;
        let epoch = unsafe { c_text(current_epoch) }?;
        let context = Context::new(epoch, Timestamp::from_unix_micros(now_unix_micros));
        let verdict = crate::classify(raw, &context).verdict;
        // SAFETY: `out` is writable per this function's contract.
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
        // SAFETY: `home` per this function's contract.
        let read = crate::status(unsafe { c_home(home) }).reading;
        Ok(read_json(&read))
    };
    // SAFETY: `buf`, `buf_len` and `out_len` per this function's contract.
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
        // SAFETY: `marker` and `len` per this function's contract.
        let raw = unsafe { c_slice(marker, len) }?;
        Ok(read_json(&Reading::from_bytes(raw)))
    };
    // SAFETY: `buf`, `buf_len` and `out_len` per this function's contract.
    unsafe { text_status(buf, buf_len, out_len, text) }
}

/// A read result as compact JSON text; `null` when absent.
fn read_json(read: &Reading) -> String {
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
    // SAFETY: `buf`, `buf_len` and `out_len` per this function's contract.
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
        // SAFETY: `home` per this function's contract.
        let path = crate::marker_path(unsafe { c_home(home) });
        Ok(path.into_os_string().into_vec())
    };
    // SAFETY: `buf`, `buf_len` and `out_len` per this function's contract.
    unsafe { text_status(buf, buf_len, out_len, text) }
}

/// A short English description of a status value, for messages. Any value is
/// accepted: one this version does not know gives "unknown status".
///
/// The string is static, NUL-terminated and never NULL; the caller must not free or
/// modify it. Thread-safe.
///
/// # Safety
/// None: any argument is valid. (Marked `unsafe` like every function of this API.)
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_status_message(status: u32) -> *const c_char {
    static_name(c"unknown status", || {
        DrainStatus::from_u32(status).map(DrainStatus::message)
    })
}

/// The library's version, such as "0.1.0" (the crate version).
///
/// The string is static, NUL-terminated and never NULL; the caller must not free or
/// modify it. Thread-safe.
///
/// # Safety
/// None: the function takes no arguments. (Marked `unsafe` like every function of this
/// API.)
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(version) => version,
            Err(_) => panic!("the crate version holds a NUL"),
        };
    boundary(VERSION.as_ptr(), || VERSION.as_ptr())
}

// ---- The watcher -------------------------------------------------------------------

/// The drain state in one word (`drain_change.state`): what a gateway does about the
/// marker. Values are never reused; `drain_state_name` gives each its stable name,
/// the same in every binding.
#[repr(u32)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DrainState {
    /// No marker (or an unreadable one, which reads as absent): serve.
    #[default]
    Absent = 0,
    /// An active marker: drain.
    Active = 1,
    /// An active marker that asks to skip the "shutting down" notice: drain quietly.
    Suppressed = 2,
    /// A marker written by another instantiation of this machine: ignored, serve.
    EpochStale = 3,
    /// A marker older than the maximum age: ignored, serve.
    Expired = 4,
}

impl From<State> for DrainState {
    fn from(state: State) -> Self {
        match state {
            State::Absent => DrainState::Absent,
            State::Active => DrainState::Active,
            State::Suppressed => DrainState::Suppressed,
            State::EpochStale => DrainState::EpochStale,
            State::Expired => DrainState::Expired,
        }
    }
}

impl DrainState {
    /// The state with this number, if this version knows it.
    pub fn from_u32(value: u32) -> Option<DrainState> {
        [
            DrainState::Absent,
            DrainState::Active,
            DrainState::Suppressed,
            DrainState::EpochStale,
            DrainState::Expired,
        ]
        .into_iter()
        .find(|state| *state as u32 == value)
    }

    /// The stable name, as [`State::as_str`] gives it, NUL-terminated.
    pub fn name(self) -> &'static CStr {
        match self {
            DrainState::Absent => c"absent",
            DrainState::Active => c"active",
            DrainState::Suppressed => c"suppressed",
            DrainState::EpochStale => c"epoch-stale",
            DrainState::Expired => c"expired",
        }
    }
}

/// One change of the drain state, as `drain_watcher_next` reports it. Plain data: the
/// caller owns it. The marker's body at that change is available from
/// `drain_watcher_body` until the next successful `drain_watcher_next`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrainChange {
    /// The verdict in one word (a `drain_state` value).
    pub state: DrainState,
    /// The whole verdict, as `drain_inspect` would give it at `at_unix_micros`.
    pub verdict: DrainVerdict,
    /// True for the first change a watcher reports: the state when watching began.
    pub initial: bool,
    /// Whether `expires_at_unix_micros` holds an instant: true when the marker is
    /// present, not yet expired and has a parseable `requested_at`.
    pub has_expires_at: bool,
    /// The wall-clock reading the verdict was judged at, in microseconds since
    /// 1970-01-01T00:00:00Z.
    pub at_unix_micros: i64,
    /// When `has_expires_at`: the first instant at which the marker counts as expired
    /// (microseconds since the epoch); the watcher reports that change by itself. 0
    /// otherwise.
    pub expires_at_unix_micros: i64,
}

impl From<&Change> for DrainChange {
    fn from(change: &Change) -> Self {
        DrainChange {
            state: change.state.into(),
            verdict: change.classified.verdict.into(),
            initial: change.initial,
            has_expires_at: change.expires_at.is_some(),
            at_unix_micros: change.at.unix_micros(),
            expires_at_unix_micros: change.expires_at.map_or(0, Timestamp::unix_micros),
        }
    }
}

/// A watcher of one home: reports each change of its drain state as it happens
/// (inotify on Linux, an expiry timer, and a slow fallback re-read). Opaque; made by
/// `drain_watcher_new`, released by `drain_watcher_free`.
///
/// Thread-safety: `drain_watcher_stop`, `drain_watcher_fd` and `drain_watcher_body`
/// may be called from any thread at any time, also while another thread is blocked in
/// `drain_watcher_next`. Calls of `drain_watcher_next` are serialized: meant for one
/// thread (or one event loop) at a time, a second concurrent caller waits for the
/// first to return. `drain_watcher_free` must not run concurrently with any other call
/// on the same handle.
pub struct DrainWatcher {
    /// Locked by `drain_watcher_next` for the whole wait.
    watcher: Mutex<Watcher>,
    /// A clone of the watcher's stopper: stops it without taking the lock.
    stopper: Stopper,
    /// The watcher's pollable descriptor, fixed for its life (read without the lock).
    fd: c_int,
    /// The read result of the last change reported, as JSON text.
    body: Mutex<String>,
}

/// The handle behind a `drain_watcher` pointer; NULL is an error.
///
/// # Safety
/// `watcher` is NULL or a live handle from `drain_watcher_new` that outlives `'a`.
unsafe fn watcher_ref<'a>(watcher: *const DrainWatcher) -> Result<&'a DrainWatcher, DrainStatus> {
    // SAFETY: NULL or live per the caller's contract; only shared references are ever
    // made, so handles used from several threads never alias a `&mut`.
    unsafe { watcher.as_ref() }.ok_or(DrainStatus::NullArgument)
}

/// The body of `drain_watcher_new` and its test-only sibling.
///
/// # Safety
/// As `drain_watcher_new`.
unsafe fn new_watcher(
    home: *const c_char,
    fallback_interval_ms: u32,
    every_change: bool,
    max_age_micros: Option<i64>,
    out: *mut *mut DrainWatcher,
    out_errno: *mut c_int,
) -> DrainStatus {
    status_boundary(|| {
        let out = Out::new(out)?;
        let mut options = WatchOptions::default();
        if fallback_interval_ms != 0 {
            options.fallback_interval = Duration::from_millis(fallback_interval_ms.into());
        }
        options.every_change = every_change;
        options.max_age_micros = max_age_micros;
        // SAFETY: `home` per the caller's contract.
        let home = unsafe { c_home(home) };
        let watcher = match Watcher::new(home, options) {
            Ok(watcher) => watcher,
            // SAFETY: `out_errno` per the caller's contract.
            Err(error) => return Err(unsafe { io_error(error.raw_os_error(), out_errno) }),
        };
        let handle = Box::new(DrainWatcher {
            stopper: watcher.stopper(),
            fd: std::os::fd::AsRawFd::as_raw_fd(&watcher),
            watcher: Mutex::new(watcher),
            body: Mutex::new("null".to_owned()),
        });
        // SAFETY: `out` is writable per the caller's contract.
        unsafe { out.set(Box::into_raw(handle)) }
    })
}

/// Starts watching `home` for changes of its drain state.
///
/// `home` as for `drain_requested`, but resolved once, now: a later change of
/// `HERMES_HOME` does not move a running watch. The folder need not exist yet; the
/// watcher picks it up when it appears, and again when it is deleted and recreated.
/// `fallback_interval_ms` is how often the marker is re-read even without a file
/// event (0 for the default, 1000; clamped to 10 ms .. 1 day). `every_change` also
/// reports a re-write that changes nothing but `requested_at` (a keep-alive), which is
/// otherwise not a change.
///
/// On success `*out` receives a new handle, owned by the caller, who releases it with
/// `drain_watcher_free`. The first `drain_watcher_next` reports the state when
/// watching began.
///
/// Returns `DRAIN_STATUS_OK`; `DRAIN_STATUS_NULL_ARGUMENT` when `out` is NULL;
/// `DRAIN_STATUS_IO_ERROR` when the OS refuses the watcher's own descriptors (too many
/// open files, or inotify instances), with `*out_errno` set when `out_errno` is not
/// NULL. A folder that cannot be watched (no permission, inotify's watch limit) is not
/// an error: it is re-read on the fallback interval. Thread-safe.
///
/// # Safety
/// `home` is NULL or a valid NUL-terminated string, only read during the call; `out`
/// is NULL or valid for writing one pointer; `out_errno` is NULL or valid for writing
/// one `int`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_watcher_new(
    home: *const c_char,
    fallback_interval_ms: u32,
    every_change: bool,
    out: *mut *mut DrainWatcher,
    out_errno: *mut c_int,
) -> DrainStatus {
    // SAFETY: every argument per this function's contract, which is `new_watcher`'s.
    unsafe {
        new_watcher(
            home,
            fallback_interval_ms,
            every_change,
            None,
            out,
            out_errno,
        )
    }
}

/// FOR TESTS ONLY: `drain_watcher_new`, judging expiry against `max_age_micros`
/// instead of the contract's hour (`DRAIN_MAX_AGE_MICROS`), so that a test can watch
/// a marker expire without waiting an hour. Affects this watcher's verdicts only; no
/// other call is changed. A program that honours drains must never call it.
///
/// Returns what `drain_watcher_new` returns, and `DRAIN_STATUS_INVALID_ARGUMENT` when
/// `max_age_micros` is negative. Thread-safe.
///
/// Only in a library built with the cargo feature `test-hooks` (the repository's C and
/// Go tests); the shipped library neither exports nor declares it (its declaration is
/// in `tests/c/test_hooks.h`).
///
/// # Safety
/// As for `drain_watcher_new`.
#[cfg(feature = "test-hooks")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_watcher_new_with_max_age_for_tests(
    home: *const c_char,
    fallback_interval_ms: u32,
    every_change: bool,
    max_age_micros: i64,
    out: *mut *mut DrainWatcher,
    out_errno: *mut c_int,
) -> DrainStatus {
    if max_age_micros < 0 {
        return DrainStatus::InvalidArgument;
    }
    // SAFETY: every argument per this function's contract, which is `new_watcher`'s.
    unsafe {
        new_watcher(
            home,
            fallback_interval_ms,
            every_change,
            Some(max_age_micros),
            out,
            out_errno,
        )
    }
}

/// Releases a watcher and closes its descriptor. NULL does nothing.
///
/// Call it only once no other thread is inside any call on this handle (stop the
/// watcher and join the thread blocked in `drain_watcher_next` first); the handle and
/// its descriptor are invalid afterwards.
///
/// # Safety
/// `watcher` is NULL or a handle from `drain_watcher_new` not yet freed, not in use
/// by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_watcher_free(watcher: *mut DrainWatcher) {
    if watcher.is_null() {
        return;
    }
    // SAFETY: made by `Box::into_raw` in `new_watcher`, freed once, unused elsewhere
    // per this function's contract.
    let handle = unsafe { Box::from_raw(watcher) };
    boundary((), move || drop(handle));
}

/// The watcher's pollable file descriptor, for the caller's event loop (`poll`,
/// `epoll`, `select`, libuv, ...): register it for reading, and when it is readable,
/// call `drain_watcher_next` with a timeout of 0. It is readable when the watcher may
/// have something to report (a file event in the home, the fallback or expiry timer,
/// a stop); a readable descriptor followed by `DRAIN_STATUS_TIMED_OUT` just means that
/// nothing changed after all. Level-triggered; after a stop it stays readable for good.
///
/// On Linux this covers every wake-up. Elsewhere it becomes readable only on a stop:
/// the loop must also call `drain_watcher_next` with a timeout of 0 every fallback
/// interval.
///
/// The descriptor belongs to the watcher: do not read, close or reconfigure it; it is
/// closed by `drain_watcher_free`. On success `*out_fd` receives it. Returns
/// `DRAIN_STATUS_OK` or `DRAIN_STATUS_NULL_ARGUMENT`. Thread-safe, also during a
/// `drain_watcher_next` in another thread.
///
/// # Safety
/// `watcher` is NULL or a live handle; `out_fd` is NULL or valid for writing one `int`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_watcher_fd(
    watcher: *const DrainWatcher,
    out_fd: *mut c_int,
) -> DrainStatus {
    status_boundary(|| {
        // SAFETY: `watcher` per this function's contract.
        let handle = unsafe { watcher_ref(watcher) }?;
        let out_fd = Out::new(out_fd)?;
        // SAFETY: writable per this function's contract.
        unsafe { out_fd.set(handle.fd) }
    })
}

/// Waits up to `timeout_ms` milliseconds for the next change of the drain state and
/// writes it to `*out`. `timeout_ms` is -1 to wait for ever, 0 not to wait at all
/// (the call to make when the descriptor is readable), or a positive number of
/// milliseconds.
///
/// The first call reports the state when watching began (`out->initial`). After that,
/// one change per real change of the state: the verdict, or the marker's body other
/// than `requested_at` (including it with `every_change`). Changes faster than the
/// caller takes them are coalesced: the latest state is always reported, not
/// necessarily every one in between. A marker expiring is a change, reported at the
/// instant it expires. After a successful call, `drain_watcher_body` gives the
/// marker's body at this change.
///
/// Returns `DRAIN_STATUS_OK` (`*out` written); `DRAIN_STATUS_TIMED_OUT` when the
/// timeout passed without a change; `DRAIN_STATUS_STOPPED` once `drain_watcher_stop`
/// was called (at once, for every later call, even with changes pending);
/// `DRAIN_STATUS_NULL_ARGUMENT`; `DRAIN_STATUS_INVALID_ARGUMENT` for a `timeout_ms`
/// below -1; `DRAIN_STATUS_IO_ERROR` if the OS's event calls fail (not expected in
/// practice; no errno is reported); `DRAIN_STATUS_PANIC` for a bug, after which every
/// call on the handle returns it too.
///
/// Thread-safe, but meant for one thread at a time: concurrent calls are serialized,
/// so a second caller may wait up to the first's timeout before its own begins.
///
/// # Safety
/// `watcher` is NULL or a live handle; `out` is NULL or valid for writing one
/// `drain_change`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_watcher_next(
    watcher: *mut DrainWatcher,
    timeout_ms: i32,
    out: *mut DrainChange,
) -> DrainStatus {
    status_boundary(|| {
        // SAFETY: `watcher` per this function's contract.
        let handle = unsafe { watcher_ref(watcher) }?;
        let out = Out::new(out)?;
        let timeout = match timeout_ms {
            -1 => None,
            0.. => Some(Duration::from_millis(timeout_ms.unsigned_abs().into())),
            _ => return Err(DrainStatus::InvalidArgument),
        };
        // Poisoned only by a panic inside an earlier call: the watcher's state is then
        // unknown, so it keeps answering PANIC.
        let mut watcher = handle.watcher.lock().map_err(|_| DrainStatus::Panic)?;
        match watcher.next_change(timeout) {
            Ok(Some(change)) => {
                let body = read_json(&change.classified.reading);
                *handle.body.lock().map_err(|_| DrainStatus::Panic)? = body;
                // SAFETY: `out` is writable per this function's contract.
                unsafe { out.set(DrainChange::from(&change)) }
            }
            Ok(None) if watcher.is_stopped() => Err(DrainStatus::Stopped),
            Ok(None) => Err(DrainStatus::TimedOut),
            Err(_) => Err(DrainStatus::IoError),
        }
    })
}

/// The marker's body at the change most recently returned by `drain_watcher_next` on
/// this handle, as JSON text: `null` when there was no marker (and before the first
/// change), `{}` when it was contentless, else the marker's object as compact JSON
/// with its keys in file order (the same text `drain_read` gives). It is the body the
/// change's verdict was judged on, which a later `drain_read` might no longer see.
///
/// The text goes to `buf` as described at `drain_read`; it does not change until the
/// next successful `drain_watcher_next`, so a sizing call and a fill call in the same
/// thread that calls `drain_watcher_next` always agree.
///
/// Returns `DRAIN_STATUS_OK`, `DRAIN_STATUS_BUFFER_TOO_SMALL` or
/// `DRAIN_STATUS_NULL_ARGUMENT`. Thread-safe, also during a `drain_watcher_next` in
/// another thread.
///
/// # Safety
/// `watcher` is NULL or a live handle; `buf` is NULL or valid for writing `buf_len`
/// bytes; `out_len` is NULL or valid for writing one `size_t`; `buf` and `out_len` do
/// not overlap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_watcher_body(
    watcher: *const DrainWatcher,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> DrainStatus {
    let text = || {
        // SAFETY: `watcher` per this function's contract.
        let handle = unsafe { watcher_ref(watcher) }?;
        handle.body.lock().map_err(|_| DrainStatus::Panic)
    };
    // SAFETY: `buf`, `buf_len` and `out_len` per this function's contract.
    unsafe { text_status(buf, buf_len, out_len, text) }
}

/// Stops the watcher: a `drain_watcher_next` blocked in another thread returns
/// `DRAIN_STATUS_STOPPED` promptly, and so does every later one. Idempotent.
///
/// Returns `DRAIN_STATUS_OK` or `DRAIN_STATUS_NULL_ARGUMENT`. Thread-safe: this is the
/// call to make from another thread (it does not wait for `drain_watcher_next` to
/// return). It makes one `write(2)` and no allocation, but is not documented as
/// async-signal-safe: from a signal handler, wake a thread that calls it (or use a
/// self-pipe) instead.
///
/// # Safety
/// `watcher` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_watcher_stop(watcher: *const DrainWatcher) -> DrainStatus {
    status_boundary(|| {
        // SAFETY: `watcher` per this function's contract.
        let handle = unsafe { watcher_ref(watcher) }?;
        handle.stopper.stop();
        Ok(())
    })
}

/// The stable name of a `drain_state` value: "absent", "active", "suppressed",
/// "epoch-stale" or "expired" (the same words in every binding and in
/// `drainctl --json`); "unknown state" for a value this version does not know.
///
/// The string is static, NUL-terminated and never NULL; the caller must not free or
/// modify it. Thread-safe.
///
/// # Safety
/// None: any argument is valid. (Marked `unsafe` like every function of this API.)
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_state_name(state: u32) -> *const c_char {
    static_name(c"unknown state", || {
        DrainState::from_u32(state).map(DrainState::name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The header's constants are literals (cbindgen cannot evaluate paths to the
    // core's constants), so the build of the tests checks that they are the core's.
    const _: () = assert!(DRAIN_MAX_AGE_MICROS == crate::MAX_AGE_MICROS);
    const _: () = assert!(DRAIN_MAX_AGE_SECONDS == crate::MAX_AGE_SECONDS);

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
    fn text_out_writes_the_length_always_and_the_text_only_when_it_fits() {
        let mut buf = [b'#' as c_char; 4];
        let mut len = 0usize;
        let out = TextOut::new(buf.as_mut_ptr(), 3, &mut len).unwrap();
        // SAFETY: `buf` has 4 writable bytes, 3 offered; `len` is writable.
        assert_eq!(
            unsafe { out.fill(b"abc") },
            Err(DrainStatus::BufferTooSmall)
        );
        assert_eq!(len, 3);
        assert!(buf.iter().all(|&byte| byte == b'#' as c_char));
        let out = TextOut::new(buf.as_mut_ptr(), 4, &mut len).unwrap();
        // SAFETY: as above, 4 offered.
        assert_eq!(unsafe { out.fill(b"abc") }, Ok(()));
        assert_eq!(buf.map(|byte| byte as u8), *b"abc\0");
    }

    #[test]
    fn text_out_needs_out_len_and_a_buffer_unless_sizing() {
        let mut len = 0usize;
        let null = std::ptr::null_mut();
        assert!(TextOut::new(null, 0, &mut len).is_ok());
        assert!(matches!(
            TextOut::new(null, 1, &mut len),
            Err(DrainStatus::NullArgument)
        ));
        let mut buf = [0 as c_char; 1];
        let no_len = std::ptr::null_mut();
        assert!(matches!(
            TextOut::new(buf.as_mut_ptr(), 1, no_len),
            Err(DrainStatus::NullArgument)
        ));
    }

    #[test]
    fn out_refuses_null_and_writes_only_when_set() {
        let null = std::ptr::null_mut::<c_int>();
        assert!(matches!(Out::new(null), Err(DrainStatus::NullArgument)));
        let mut value: c_int = -1;
        let out = Out::new(&mut value as *mut c_int).unwrap();
        assert_eq!(value, -1);
        // SAFETY: `value` is writable.
        assert_eq!(unsafe { out.set(7) }, Ok(()));
        assert_eq!(value, 7);
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

    #[test]
    fn every_state_has_the_core_name_and_its_own_number() {
        let states = [
            State::Absent,
            State::Active,
            State::Suppressed,
            State::EpochStale,
            State::Expired,
        ];
        for (value, state) in states.into_iter().enumerate() {
            let c_state = DrainState::from(state);
            assert_eq!(c_state as usize, value);
            assert_eq!(DrainState::from_u32(value as u32), Some(c_state));
            assert_eq!(c_state.name().to_str().unwrap(), state.as_str());
        }
        assert_eq!(DrainState::from_u32(5), None);
    }

    #[test]
    fn every_status_has_its_own_message_and_its_own_number() {
        let statuses: Vec<_> = (0..=9)
            .map(|value| DrainStatus::from_u32(value).unwrap())
            .collect();
        for (value, status) in statuses.iter().enumerate() {
            assert_eq!(*status as usize, value);
            let same = statuses
                .iter()
                .filter(|other| other.message() == status.message());
            assert_eq!(same.count(), 1, "{status:?}");
        }
        assert_eq!(DrainStatus::from_u32(10), None);
        assert_eq!(DrainStatus::from_u32(u32::MAX), None);
    }

    #[test]
    fn every_step_has_the_core_name_and_its_own_number() {
        let steps = [
            Step::CheckPayload,
            Step::CreateHome,
            Step::FollowLink,
            Step::CreateTemp,
            Step::KeepMode,
            Step::WriteTemp,
            Step::SyncTemp,
            Step::Rename,
            Step::SyncFolder,
            Step::Remove,
        ];
        for (index, step) in steps.into_iter().enumerate() {
            let c_step = DrainStep::from(step);
            assert_eq!(c_step as usize, index + 1, "{step:?}");
            assert_eq!(DrainStep::from_u32(index as u32 + 1), Some(c_step));
            assert_eq!(c_step.name().to_str().unwrap(), step.as_str());
        }
        assert_eq!(DrainStep::from_u32(0), Some(DrainStep::None));
        assert_eq!(DrainStep::None.name(), c"none");
        assert_eq!(DrainStep::from_u32(11), None);
        assert_eq!(DrainStep::ALL.len(), steps.len() + 1);
    }

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
