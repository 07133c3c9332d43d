//! The contract's numbers and names, in one place (`../shared/spec/contract.md`).
//!
//! A leaf: every other module takes its limits and field names from here, and the
//! rules that use them live in [`mod@crate::classify`].

/// The marker's file name inside the home folder.
pub const MARKER_FILE_NAME: &str = ".drain_request.json";

/// The lock file beside the marker that cooperating writers hold (`flock`, exclusive)
/// around a lease's read-compare-write or read-compare-remove. Readers never take it;
/// it is never removed (removing a lock file lets two writers lock two files).
pub const LOCK_FILE_NAME: &str = ".drain_request.lock";

/// How long a lease operation waits for the lock before it fails as busy. The lock is
/// held for one read and one write, so a longer wait means a stuck writer.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// How many random bits a lease's `owner_token` carries (as lower-case hex).
pub const OWNER_TOKEN_BITS: usize = 128;

/// How long a marker is honoured after its `requested_at`: one hour, in seconds (the
/// original's `DRAIN_REQUEST_MAX_AGE_SECONDS`).
pub const MAX_AGE_SECONDS: f64 = 3600.0;

/// [`MAX_AGE_SECONDS`] in microseconds, the resolution at which expiry is decided.
pub const MAX_AGE_MICROS: i64 = MAX_AGE_SECONDS as i64 * 1_000_000;

/// Markers larger than this are contentless without being read (1 MiB).
pub const MAX_MARKER_BYTES: usize = 1 << 20;

/// How deep a marker may nest and still be read; the top-level value is level 1.
///
/// Python reads deeper, but the contract lets nesting past 128 levels read as
/// contentless, so that a hostile marker cannot exhaust a reader's stack.
pub const MAX_NESTING: usize = 128;

/// The most digits an integer may have: CPython's default `int_max_str_digits` (3.11
/// and later), beyond which the original's `json.loads` raises and reads the marker as
/// contentless. Every binding reads the same.
pub const MAX_INT_DIGITS: usize = 4300;

/// The marker's field names. Only `epoch`, `requested_at` and `suppress_notification`
/// decide whether to drain; `principal` is quoted in the expiry warning; `owner_token`
/// says whose a leased drain is.
pub mod field {
    /// Always `"drain"`; written for the original's readers, never consulted.
    pub const ACTION: &str = "action";
    /// The writer's instantiation epoch.
    pub const EPOCH: &str = "epoch";
    /// When the drain was requested (or last kept alive), as Python's `isoformat()`.
    pub const REQUESTED_AT: &str = "requested_at";
    /// Who asked; for the operator's eyes.
    pub const PRINCIPAL: &str = "principal";
    /// Ask the gateway to skip its "shutting down" notice.
    pub const SUPPRESS_NOTIFICATION: &str = "suppress_notification";
    /// A leased drain's owner: [`super::OWNER_TOKEN_BITS`] random bits in lower-case
    /// hex. Readers ignore it; only lease operations compare it.
    pub const OWNER_TOKEN: &str = "owner_token";
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_max_age_is_one_hour_in_both_units() {
        assert_eq!(super::MAX_AGE_MICROS, 3_600_000_000);
        assert_eq!(super::MAX_AGE_SECONDS * 1e6, super::MAX_AGE_MICROS as f64);
    }
}
