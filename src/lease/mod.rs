//! Drains that belong to someone: an exclusive begin that returns a [`Lease`], and a
//! keep-alive and a release that act only while the marker carries the lease's token.
//!
//! A leased marker is an ordinary marker plus an `owner_token` field, so every reader
//! (the original module included) sees an ordinary active drain. Lease operations are
//! serialised among cooperating writers by an exclusive `flock` on the lock file beside
//! the marker ([`crate::fsio::MarkerLock`]); readers never take it. CONTRACT.md says
//! what a writer that does not lock can still race.
//!
//! ```no_run
//! use drain_control::lease;
//!
//! let held = lease::begin(None, "migration", false)?.hold(None); // kept alive meanwhile
//! // ... the disruptive step ...
//! held.release()?; // also on drop, on error or unwinding
//! # Ok::<(), lease::LeaseError>(())
//! ```

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::classify::{Classified, Context};
use crate::contract::{LOCK_WAIT, MAX_AGE_MICROS, OWNER_TOKEN_BITS, field};
use crate::fsio::{self, MarkerLock};
use crate::home::marker_path;
use crate::inspect::Snapshot;
use crate::json::is_truthy;
use crate::marker::Payload;
use crate::timestamp::Timestamp;
use crate::watch::{WatchOptions, Watcher};
use crate::{drain, epoch};

mod error;
mod hold;

pub use error::{Holder, LeaseError};
pub use hold::HeldLease;

/// How lease operations judge and wait. Start from [`LeaseOptions::default`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeaseOptions {
    /// How long to wait for the lock before failing with [`LeaseError::Busy`].
    pub lock_wait: Duration,
    /// The maximum age markers are judged with (the contract's hour); tests and
    /// bindings whose host patched the constant set it.
    pub max_age_micros: i64,
    /// Judge against this epoch instead of this process's own (a Python host's
    /// patched `current_instantiation_epoch`).
    #[doc(hidden)]
    pub epoch: Option<String>,
}

impl Default for LeaseOptions {
    fn default() -> Self {
        LeaseOptions {
            lock_wait: LOCK_WAIT,
            max_age_micros: MAX_AGE_MICROS,
            epoch: None,
        }
    }
}

impl LeaseOptions {
    fn context(&self) -> (String, Timestamp) {
        let epoch = self.epoch.as_deref().unwrap_or_else(|| epoch::current());
        (epoch.to_owned(), Timestamp::now())
    }
}

/// A drain this process began exclusively. Dropping it leaves the drain in place (a
/// `drainctl begin --exclusive` hands its token on); [`Lease::hold`] gives a guard that
/// keeps it alive and releases it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    marker: PathBuf,
    token: String,
    options: LeaseOptions,
}

/// Begins a drain of `home` only if no drain is active there (an absent, epoch-stale or
/// expired marker is replaced; a contentless one counts as active), and returns its
/// lease. Fails with [`LeaseError::Held`] naming the holder otherwise.
pub fn begin(
    home: Option<&Path>,
    principal: &str,
    suppress_notification: bool,
) -> Result<Lease, LeaseError> {
    begin_with(
        home,
        principal,
        suppress_notification,
        &LeaseOptions::default(),
    )
}

/// [`begin`] with options.
pub fn begin_with(
    home: Option<&Path>,
    principal: &str,
    suppress_notification: bool,
    options: &LeaseOptions,
) -> Result<Lease, LeaseError> {
    let marker = marker_path(home);
    let _lock = MarkerLock::acquire(&marker, options.lock_wait)?;
    let (epoch, now) = options.context();
    let current = judge(&marker, &epoch, now, options);
    if current.verdict.active {
        return Err(LeaseError::Held(Holder::of(&current)));
    }
    let token = new_token();
    let payload =
        Payload::new(principal, suppress_notification, &epoch, now).with_owner_token(&token);
    drain::write_payload_to(&marker, &payload)?;
    Ok(Lease {
        marker,
        token,
        options: options.clone(),
    })
}

/// [`begin_with`], waiting up to `wait` for another drain to end (`Duration::MAX`: for
/// as long as it takes): each change of the marker, seen by a [`Watcher`] (so without
/// polling), and each expiry it schedules, is a new attempt.
pub fn begin_waiting(
    home: Option<&Path>,
    principal: &str,
    suppress_notification: bool,
    options: &LeaseOptions,
    wait: Duration,
) -> Result<Lease, LeaseError> {
    let watch_options = WatchOptions {
        max_age_micros: Some(options.max_age_micros),
        epoch: options.epoch.clone(),
        ..WatchOptions::default()
    };
    match Watcher::new(home, watch_options) {
        Ok(mut watcher) => begin_watching(
            &mut watcher,
            principal,
            suppress_notification,
            options,
            wait,
        ),
        // No descriptors for a watcher: a new attempt every second instead.
        Err(_) => begin_until(
            home,
            principal,
            suppress_notification,
            options,
            wait,
            |left| {
                thread::sleep(left.min(Duration::from_secs(1)));
                true
            },
        ),
    }
}

/// [`begin_waiting`] with the caller's watcher of the home, so that the caller can end
/// the wait from another thread ([`Watcher::stopper`]): a stopped watcher ends it with
/// the [`LeaseError::Held`] of the last attempt.
pub fn begin_watching(
    watcher: &mut Watcher,
    principal: &str,
    suppress_notification: bool,
    options: &LeaseOptions,
    wait: Duration,
) -> Result<Lease, LeaseError> {
    let home = watcher.home().to_path_buf();
    begin_until(
        Some(&home),
        principal,
        suppress_notification,
        options,
        wait,
        |left| {
            // A change, or an expiry the watcher schedules; an error (the folder went
            // away) is one more attempt a second later.
            if !watcher.is_stopped() && watcher.next_change(Some(left)).is_err() {
                thread::sleep(left.min(Duration::from_secs(1)));
            }
            !watcher.is_stopped()
        },
    )
}

/// Attempts to begin until one succeeds, fails otherwise than [`LeaseError::Held`],
/// `wait` passes, or `next` (which waits at most the time left for a reason to try
/// again) says to stop.
fn begin_until(
    home: Option<&Path>,
    principal: &str,
    suppress_notification: bool,
    options: &LeaseOptions,
    wait: Duration,
    mut next: impl FnMut(Duration) -> bool,
) -> Result<Lease, LeaseError> {
    let deadline = Instant::now().checked_add(wait);
    loop {
        match begin_with(home, principal, suppress_notification, options) {
            Err(LeaseError::Held(holder)) => {
                let left = deadline.map_or(Duration::MAX, |deadline| {
                    deadline.saturating_duration_since(Instant::now())
                });
                if left.is_zero() || !next(left) {
                    return Err(LeaseError::Held(holder));
                }
            }
            other => return other,
        }
    }
}

impl Lease {
    /// The lease whose token is `token`, for a process that did not begin it (such as
    /// `drainctl keep-alive --token`). Only the token's form is checked here; the
    /// operations say whether the marker still carries it.
    pub fn resume(
        home: Option<&Path>,
        token: &str,
        options: &LeaseOptions,
    ) -> Result<Lease, LeaseError> {
        let hex = token
            .bytes()
            .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'));
        if token.len() != OWNER_TOKEN_BITS / 4 || !hex {
            return Err(LeaseError::InvalidToken(token.to_owned()));
        }
        Ok(Lease {
            marker: marker_path(home),
            token: token.to_owned(),
            options: options.clone(),
        })
    }

    /// The lease's token, the marker's `owner_token`.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The marker this lease is for.
    pub fn marker(&self) -> &Path {
        &self.marker
    }

    /// Re-writes the marker with a new `requested_at` (and this instantiation's epoch),
    /// only while it carries this lease's token; returns what was written. Fails with
    /// [`LeaseError::Lost`] (and who holds it now) otherwise, writing nothing.
    pub fn keep_alive(&self) -> Result<Payload, LeaseError> {
        let _lock = MarkerLock::acquire(&self.marker, self.options.lock_wait)?;
        let (epoch, now) = self.options.context();
        let current = judge(&self.marker, &epoch, now, &self.options);
        if !current.is_held_by(&self.token) {
            return Err(lost(&current));
        }
        let body = current.reading.body();
        let get = |name| body.and_then(|body| body.get(name));
        let principal = get(field::PRINCIPAL).and_then(Value::as_str).unwrap_or("");
        let suppress = get(field::SUPPRESS_NOTIFICATION).is_some_and(is_truthy);
        let payload = Payload::new(principal, suppress, &epoch, now).with_owner_token(&self.token);
        drain::write_payload_to(&self.marker, &payload)?;
        Ok(payload)
    }

    /// Removes the marker only while it carries this lease's token (compare-and-clear);
    /// says whether it did. Never removes another's drain.
    pub fn release(&self) -> Result<bool, LeaseError> {
        let _lock = MarkerLock::acquire(&self.marker, self.options.lock_wait)?;
        let (epoch, now) = self.options.context();
        if !judge(&self.marker, &epoch, now, &self.options).is_held_by(&self.token) {
            return Ok(false);
        }
        Ok(fsio::remove_marker(&self.marker)?)
    }

    /// Keeps the drain alive in the background, every `every` (default: a quarter of the
    /// maximum age), until the returned guard is released or dropped.
    pub fn hold(self, every: Option<Duration>) -> HeldLease {
        HeldLease::new(self, every)
    }
}

/// The marker at `marker` as a lease operation judges it.
fn judge(marker: &Path, epoch: &str, now: Timestamp, options: &LeaseOptions) -> Classified {
    let context = Context::new(epoch, now).with_max_age_micros(options.max_age_micros);
    Snapshot::take(marker).judge(&context).classified
}

fn lost(current: &Classified) -> LeaseError {
    LeaseError::Lost(current.verdict.present.then(|| Holder::of(current)))
}

/// A new owner token: [`OWNER_TOKEN_BITS`] bits from the OS's random source, in hex.
fn new_token() -> String {
    let mut bytes = [0u8; OWNER_TOKEN_BITS / 8];
    getrandom::fill(&mut bytes).expect("the OS random source");
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
