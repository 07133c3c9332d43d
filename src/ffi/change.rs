//! What a watcher reports: `drain_change`, and `drain_state` with its stable names.

use std::ffi::{CStr, c_char};

use super::boundary::static_name;
use super::marker::DrainVerdict;
use crate::Timestamp;
use crate::watch::{Change, State};

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
}
