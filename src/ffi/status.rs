//! `drain_status`: the result of every call, and its messages.

use std::ffi::{CStr, c_char};

use super::boundary::static_name;

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
    /// `drain_lease_begin`: another drain is active; `*out_holder`, where given, says
    /// whose. Nothing was written.
    Held = 10,
    /// `drain_lease_keep_alive`: the marker no longer carries the lease's token (another
    /// writer replaced or removed it, or a restart ended it); `*out_holder`, where
    /// given, says who holds the drain now. Nothing was written.
    Lost = 11,
    /// A lease operation waited its bound for the writers' lock beside the marker,
    /// which other writers kept taken all along. Nothing was written.
    Busy = 12,
    /// `drain_lease_resume`: the token is not 32 lower-case hexadecimal digits.
    InvalidToken = 13,
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
            DrainStatus::Held,
            DrainStatus::Lost,
            DrainStatus::Busy,
            DrainStatus::InvalidToken,
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
            DrainStatus::Held => c"another drain is active; drain_holder says whose",
            DrainStatus::Lost => {
                c"the lease is lost: the marker no longer carries its token; drain_holder says \
                  whose the drain is now"
            }
            DrainStatus::Busy => {
                c"other writers kept the lock beside the marker taken for the whole wait"
            }
            DrainStatus::InvalidToken => {
                c"the token is not a lease token (32 lower-case hexadecimal digits)"
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_own_message_and_its_own_number() {
        let statuses: Vec<_> = (0..=13)
            .map(|value| DrainStatus::from_u32(value).unwrap())
            .collect();
        for (value, status) in statuses.iter().enumerate() {
            assert_eq!(*status as usize, value);
            let same = statuses
                .iter()
                .filter(|other| other.message() == status.message());
            assert_eq!(same.count(), 1, "{status:?}");
        }
        assert_eq!(DrainStatus::from_u32(14), None);
        assert_eq!(DrainStatus::from_u32(u32::MAX), None);
    }
}
