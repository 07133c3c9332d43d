//! `drain_holder`: who holds a drain, as plain data the caller owns.

use std::ffi::c_char;

use serde_json::Value;

use super::change::DrainState;
use super::error::copy_cut;
use crate::lease::Holder;

/// The capacity of `drain_holder.principal` and `drain_holder.requested_at` in bytes,
/// the NUL included.
pub const DRAIN_HOLDER_TEXT_CAPACITY: usize = 1024;

/// Who holds a drain: written by `drain_lease_begin` on `DRAIN_STATUS_HELD` and by
/// `drain_lease_keep_alive` on `DRAIN_STATUS_LOST`. Plain data owned by the caller.
///
/// Texts are NUL-terminated and cut to fit, as in `drain_error`: each `*_len` is the
/// whole length without the NUL.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrainHolder {
    /// The marker's state (a `drain_state` value); `DRAIN_STATE_ABSENT` when a lost
    /// lease's marker was removed.
    pub state: DrainState,
    /// Whether the drain is leased (its marker carries an `owner_token`).
    pub owned: bool,
    /// Whether the marker has a `requested_at` string.
    pub has_requested_at: bool,
    /// The length of `principal`, without the NUL.
    pub principal_len: usize,
    /// The length of `requested_at`, without the NUL.
    pub requested_at_len: usize,
    /// The marker's `principal` as JSON text (a string comes quoted: `"dashboard"`);
    /// `null` when it has none.
    pub principal: [c_char; DRAIN_HOLDER_TEXT_CAPACITY],
    /// The marker's `requested_at`, when `has_requested_at`; empty otherwise.
    pub requested_at: [c_char; DRAIN_HOLDER_TEXT_CAPACITY],
}

impl DrainHolder {
    pub(super) fn new(holder: Option<&Holder>) -> Self {
        let mut out = DrainHolder {
            state: DrainState::Absent,
            owned: false,
            has_requested_at: false,
            principal_len: 0,
            requested_at_len: 0,
            principal: [0; DRAIN_HOLDER_TEXT_CAPACITY],
            requested_at: [0; DRAIN_HOLDER_TEXT_CAPACITY],
        };
        let principal = holder
            .and_then(|holder| holder.principal.as_ref())
            .unwrap_or(&Value::Null)
            .to_string();
        out.principal_len = copy_cut(&mut out.principal, principal.as_bytes(), Some(&principal));
        if let Some(holder) = holder {
            out.state = holder.state.into();
            out.owned = holder.owned;
            if let Some(at) = &holder.requested_at {
                out.has_requested_at = true;
                out.requested_at_len = copy_cut(&mut out.requested_at, at.as_bytes(), Some(at));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_says_whose_drain_with_its_principal_as_json() {
        let holder = Holder {
            principal: Some(Value::String("dashboard".into())),
            requested_at: Some("2026-12-08T00:00:00+00:00".into()),
            owned: true,
            state: crate::State::Active,
        };
        let c = DrainHolder::new(Some(&holder));
        assert_eq!(c.state, DrainState::Active);
        assert!(c.owned && c.has_requested_at);
        assert_eq!(c.principal_len, "\"dashboard\"".len());
        let absent = DrainHolder::new(None);
        assert_eq!(
            (absent.state, absent.owned, absent.principal_len),
            (DrainState::Absent, false, 4)
        );
    }
}
