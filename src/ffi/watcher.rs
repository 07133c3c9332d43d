//! The watcher handle (`drain_watcher`): made, waited on, read, stopped and freed.

use std::ffi::{c_char, c_int};
use std::sync::Mutex;
use std::time::Duration;

use super::args::{Out, c_home};
use super::boundary::{boundary, io_error, status_boundary, text_status};
use super::change::DrainChange;
use super::read::read_json;
use super::status::DrainStatus;
use crate::watch::{Stopper, WatchOptions, Watcher};

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
        // SAFETY: `home` is NULL or a NUL-terminated string that outlives the call
        // (this function's contract), as `c_home` requires.
        let home = unsafe { c_home(home) };
        let watcher = match Watcher::new(home, options) {
            Ok(watcher) => watcher,
            // SAFETY: `out_errno` is NULL or valid for writing an `int` (this function's
            // contract), as `io_error` requires.
            Err(error) => return Err(unsafe { io_error(error.raw_os_error(), out_errno) }),
        };
        let handle = Box::new(DrainWatcher {
            stopper: watcher.stopper(),
            fd: std::os::fd::AsRawFd::as_raw_fd(&watcher),
            watcher: Mutex::new(watcher),
            body: Mutex::new("null".to_owned()),
        });
        // SAFETY: `out` is non-NULL (checked by `Out::new`) and valid for writing one
        // pointer (this function's contract), as `Out::set` requires.
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
        // SAFETY: `watcher` is NULL or a live handle, not freed during the call (this
        // function's contract), as `watcher_ref` requires.
        let handle = unsafe { watcher_ref(watcher) }?;
        let out_fd = Out::new(out_fd)?;
        // SAFETY: `out_fd` is non-NULL (checked by `Out::new`) and valid for writing one
        // `int` (this function's contract), as `Out::set` requires.
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
        // SAFETY: `watcher` is NULL or a live handle, not freed during the call (this
        // function's contract), as `watcher_ref` requires.
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
                // SAFETY: `out` is non-NULL (checked by `Out::new`) and valid for writing
                // one `drain_change` (this function's contract), as `Out::set` requires.
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
        // SAFETY: `watcher` is NULL or a live handle, not freed during the call (this
        // function's contract), as `watcher_ref` requires.
        let handle = unsafe { watcher_ref(watcher) }?;
        handle.body.lock().map_err(|_| DrainStatus::Panic)
    };
    // SAFETY: `buf` is NULL or valid for writing `buf_len` bytes, `out_len` NULL or
    // valid for writing a `size_t`, not overlapping (this function's contract), as
    // `text_status` requires.
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
        // SAFETY: `watcher` is NULL or a live handle, not freed during the call (this
        // function's contract), as `watcher_ref` requires.
        let handle = unsafe { watcher_ref(watcher) }?;
        handle.stopper.stop();
        Ok(())
    })
}
