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

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::classify::{Classified, Context, State};
use crate::contract::{LOCK_WAIT, MAX_AGE_MICROS, OWNER_TOKEN_BITS, field};
use crate::error::Error;
use crate::fsio::{self, LockError, MarkerLock};
use crate::home::marker_path;
use crate::inspect::Snapshot;
use crate::json::is_truthy;
use crate::marker::Payload;
use crate::timestamp::Timestamp;
use crate::watch::{WatchOptions, Watcher};
use crate::{drain, epoch};

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

/// Who holds a drain, as a refused begin or a lost lease reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Holder {
    /// The marker's `principal`, verbatim (`None`: it has none, or is contentless).
    pub principal: Option<Value>,
    /// The marker's `requested_at`, if it is a string.
    pub requested_at: Option<String>,
    /// Whether the drain is leased (its marker carries an `owner_token`).
    pub owned: bool,
    /// The drain state of the marker.
    pub state: State,
}

impl Holder {
    /// Who holds the drain `classified` judged.
    pub fn of(classified: &Classified) -> Holder {
        let body = classified.reading.body();
        let get = |name| body.and_then(|body| body.get(name));
        Holder {
            principal: get(field::PRINCIPAL).cloned(),
            requested_at: get(field::REQUESTED_AT)
                .and_then(Value::as_str)
                .map(str::to_owned),
            owned: classified.owner_token().is_some(),
            state: classified.state(),
        }
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.principal {
            Some(Value::String(principal)) => write!(f, "{:?}", principal)?,
            Some(other) => write!(f, "{other}")?,
            None if self.state != State::Absent && self.requested_at.is_none() => {
                write!(f, "an unknown writer")?
            }
            None => write!(f, "no principal")?,
        }
        if let Some(at) = &self.requested_at {
            write!(f, " since {at}")?;
        }
        let kind = if self.owned { "leased" } else { "not leased" };
        match self.state {
            State::Active | State::Suppressed => write!(f, " ({kind})"),
            other => write!(f, " ({kind}, {other})"),
        }
    }
}

/// Why a lease operation did not do what was asked.
#[derive(Debug)]
#[non_exhaustive]
pub enum LeaseError {
    /// A begin found another drain active.
    Held(Holder),
    /// The marker no longer carries the lease's token: another writer replaced it
    /// (`Some`: who holds it now) or removed it (`None`), or a restart ended it.
    Lost(Option<Holder>),
    /// Another writer held the lock for the whole wait.
    Busy {
        /// The lock file.
        lock: PathBuf,
        /// How long this operation waited.
        waited: Duration,
    },
    /// Taking the lock, writing or removing the marker failed: [`Error::step`] says
    /// which (the old marker is intact unless the step says otherwise).
    Io(Error),
    /// A token that is not 32 lower-case hex digits, so no lease's.
    InvalidToken(String),
}

impl fmt::Display for LeaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeaseError::Held(holder) => write!(f, "a drain is already active: {holder}"),
            LeaseError::Lost(Some(holder)) => write!(f, "lease lost: the drain is now {holder}"),
            LeaseError::Lost(None) => write!(f, "lease lost: the marker was removed"),
            LeaseError::Busy { lock, waited } => write!(
                f,
                "busy: another writer held {lock:?} for the whole {:.1} s wait",
                waited.as_secs_f64()
            ),
            LeaseError::Io(error) => error.fmt(f),
            LeaseError::InvalidToken(token) => write!(
                f,
                "{token:?} is not a lease token ({} lower-case hex digits)",
                OWNER_TOKEN_BITS / 4
            ),
        }
    }
}

impl std::error::Error for LeaseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LeaseError::Io(error) => error.source(),
            _ => None,
        }
    }
}

impl From<Error> for LeaseError {
    fn from(error: Error) -> Self {
        LeaseError::Io(error)
    }
}

impl From<LockError> for LeaseError {
    fn from(error: LockError) -> Self {
        match error {
            LockError::Busy { path, waited } => LeaseError::Busy { lock: path, waited },
            LockError::Failed(error) => LeaseError::Io(error),
        }
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

/// A lease kept alive by a background thread, released when dropped (also while
/// unwinding). The Rust form of Python's `with drain(...)` and Go's `Hold`.
#[derive(Debug)]
pub struct HeldLease {
    lease: Lease,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Shared {
    stopped: Mutex<bool>,
    wake: Condvar,
    /// `Some` once a keep-alive found the lease lost (with who holds the drain now).
    lost: Mutex<Option<Option<Holder>>>,
}

/// After a failed keep-alive that may pass (a busy lock, an I/O error), the next try
/// comes this soon rather than a whole period later.
const RETRY: Duration = Duration::from_secs(1);

impl HeldLease {
    fn new(lease: Lease, every: Option<Duration>) -> HeldLease {
        let quarter = u64::try_from(lease.options.max_age_micros / 4).unwrap_or(0);
        let every = every
            .unwrap_or(Duration::from_micros(quarter))
            .max(Duration::from_millis(1));
        let shared = Arc::new(Shared::default());
        let thread = {
            let (lease, shared) = (lease.clone(), Arc::clone(&shared));
            thread::Builder::new()
                .name("drain-lease".into())
                .spawn(move || keep_alive_until_stopped(&lease, &shared, every))
                .ok()
        };
        HeldLease {
            lease,
            shared,
            thread,
        }
    }

    /// The lease held.
    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    /// `Some` once the lease was found lost: `Some(None)` when the marker was removed,
    /// `Some(Some(holder))` when another drain replaced it. The guard then stops
    /// keeping it alive, and its release removes nothing.
    pub fn lost(&self) -> Option<Option<Holder>> {
        self.shared
            .lost
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stops keeping the drain alive and releases it; says whether the marker was
    /// removed (false: the lease was lost to another writer).
    pub fn release(mut self) -> Result<bool, LeaseError> {
        self.stop();
        self.lease.release()
    }

    fn stop(&mut self) {
        *self
            .shared
            .stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for HeldLease {
    fn drop(&mut self) {
        if self.thread.is_none() {
            return; // released already
        }
        self.stop();
        if let Err(error) = self.lease.release() {
            log::warn!("drain lease {} not released: {error}", self.lease.token);
        }
    }
}

fn keep_alive_until_stopped(lease: &Lease, shared: &Shared, every: Duration) {
    let mut wait = every;
    loop {
        {
            let stopped = shared.stopped.lock().unwrap_or_else(|e| e.into_inner());
            let (stopped, _) = shared
                .wake
                .wait_timeout_while(stopped, wait, |stopped| !*stopped)
                .unwrap_or_else(|e| e.into_inner());
            if *stopped {
                return;
            }
        }
        wait = match lease.keep_alive() {
            Ok(_) => every,
            Err(LeaseError::Lost(holder)) => {
                log::warn!("drain lease {} lost; no longer kept alive", lease.token);
                *shared.lost.lock().unwrap_or_else(|e| e.into_inner()) = Some(holder);
                return;
            }
            Err(error) => {
                log::warn!(
                    "drain lease {}: keep-alive failed, retrying: {error}",
                    lease.token
                );
                every.min(RETRY)
            }
        };
    }
}
