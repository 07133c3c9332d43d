//! Watching one home for changes of the drain state, as they happen.
//!
//! A gateway that polls the marker once a second accepts turns for up to a second
//! after the dashboard asked it to stop. A [`Watcher`] reports each change of the
//! drain state within milliseconds instead:
//!
//! - On Linux it watches the home **folder** with inotify: an atomic write shows up as
//!   a rename into the folder (`IN_MOVED_TO`), not as a write to the marker.
//! - It schedules a wake-up for the instant the marker expires
//!   (`requested_at` + maximum age), a change that no file event announces.
//! - It survives the home folder not existing yet, or being deleted and recreated: it
//!   then watches the nearest existing ancestor until the folder appears, arms the
//!   watch on it and re-reads at once (which closes the race with a write that
//!   happened in between).
//! - As a safety net everywhere, and as the only mechanism elsewhere than on Linux, it
//!   re-reads on a slow fallback interval (default 1 s). That interval also catches
//!   what inotify cannot see: a marker that is a symbolic link into another folder, a
//!   wall clock that jumps, a full inotify watch table.
//!
//! Every verdict comes from the core ([`crate::inspect`] with the current
//! [`epoch`](crate::epoch::current)); the watcher only decides *when* to look.
//!
//! ```no_run
//! use drain_control::watch::{WatchOptions, Watcher};
//!
//! let mut watcher = Watcher::new(None, WatchOptions::default())?;
//! let stopper = watcher.stopper(); // hand to a signal handler or another thread
//! for change in &mut watcher {
//!     let change = change?;
//!     println!("{}: draining = {}", change.at, change.state.is_draining());
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # For event loops (the C, Python and Go bindings)
//!
//! [`Watcher::as_fd`] is one file descriptor that becomes readable when
//! [`Watcher::next_change`] may have something to say: a file event in the home, the
//! fallback or expiry timer, or [`Stopper::stop`]. Register it for reading, and when it
//! is readable call `next_change(Some(Duration::ZERO))`: it never blocks then, and
//! `Ok(None)` simply means "nothing changed after all" (an unrelated file in the
//! folder, a fallback re-read that found the same state). The descriptor is level
//! triggered; it stays readable while anything is pending. After a stop it stays
//! readable for good and [`Watcher::is_stopped`] is true: remove it from the loop.
//!
//! On Linux the descriptor is an epoll instance aggregating the inotify descriptor, a
//! timerfd and the stop eventfd, so the contract above holds fully. Elsewhere it is the
//! read end of the stop pipe, which becomes readable only on a stop; a loop there must
//! also wake itself after [`Watcher::poll_timeout`].

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use serde_json::Value;

pub use crate::classify::State;
use crate::classify::{Classified, Context, Verdict};
use crate::contract::{MARKER_FILE_NAME, MAX_AGE_MICROS};
use crate::home::resolve_home;
use crate::inspect::Snapshot;
use crate::marker::Reading;
use crate::timestamp::Timestamp;
use crate::warn::{self, Warning};

/// The default fallback re-read interval: one second, the old polling period.
pub const DEFAULT_FALLBACK_INTERVAL: Duration = Duration::from_secs(1);

/// The shortest fallback interval accepted; shorter values are raised to it so that a
/// mistaken `0` cannot turn the watcher into a busy loop.
pub const MIN_FALLBACK_INTERVAL: Duration = Duration::from_millis(10);

/// The longest fallback interval accepted; longer values are lowered to it.
pub const MAX_FALLBACK_INTERVAL: Duration = Duration::from_secs(86_400);

/// How a [`Watcher`] behaves. Start from [`WatchOptions::default`] and set fields.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatchOptions {
    /// How often the marker is re-read even when no event arrived (default 1 s;
    /// clamped to [`MIN_FALLBACK_INTERVAL`]..=[`MAX_FALLBACK_INTERVAL`]).
    pub fallback_interval: Duration,
    /// Report every change of the marker, including a re-write that changes nothing
    /// but `requested_at` (a keep-alive). By default such a re-write is not reported.
    pub every_change: bool,
    /// Test-only: judge expiry against this maximum age (microseconds) instead of the
    /// contract's hour, so that tests can watch a marker expire without waiting.
    #[doc(hidden)]
    pub max_age_micros: Option<i64>,
    /// For bindings whose host may substitute the epoch (Python's drop-in honours a
    /// patched `current_instantiation_epoch`): judge markers against this epoch
    /// instead of this process's own ([`crate::epoch::current`]).
    #[doc(hidden)]
    pub epoch: Option<String>,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            fallback_interval: DEFAULT_FALLBACK_INTERVAL,
            every_change: false,
            max_age_micros: None,
            epoch: None,
        }
    }
}

/// One reported change of the drain state.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Change {
    /// The marker's read result and verdict, as the core judged it.
    pub classified: Classified,
    /// The verdict in one word.
    pub state: State,
    /// The wall-clock reading the verdict was judged at.
    pub at: Timestamp,
    /// When the marker will expire: the classifier's
    /// [`expires_at`](crate::Classified::expires_at).
    pub expires_at: Option<Timestamp>,
    /// True for the first change a watcher reports: the state when watching began.
    pub initial: bool,
    /// The warning this reading deserves (unreadable or expired marker), if any. The
    /// watcher already logged it once through the `log` facade; bindings may forward it
    /// to their host's logging.
    pub warning: Option<Warning>,
}

/// Wakes a [`Watcher`] blocked in [`Watcher::next_change`] from another thread and
/// ends it: every later `next_change` returns `Ok(None)` at once.
///
/// Cheap to clone, `Send` and `Sync`; stopping twice is harmless, and so is stopping a
/// watcher that was already dropped. [`Stopper::stop`] makes one `write(2)` and no
/// allocation, but it is not documented as async-signal-safe: from a signal handler,
/// forward the signal to a thread that calls it.
#[derive(Clone, Debug)]
pub struct Stopper(Arc<StopShared>);

#[derive(Debug)]
struct StopShared {
    stopped: AtomicBool,
    /// An eventfd on Linux, the write end of a pipe elsewhere.
    wake: OwnedFd,
}

impl Stopper {
    /// Stops the watcher and wakes it if it is waiting.
    pub fn stop(&self) {
        if !self.0.stopped.swap(true, Ordering::SeqCst) {
            // Eight bytes: the size an eventfd wants; a pipe takes them as well. The
            // descriptor is never drained, so it stays readable after the stop.
            let _ = rustix::io::write(&self.0.wake, &1u64.to_ne_bytes());
        }
    }

    /// Whether [`Stopper::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.0.stopped.load(Ordering::SeqCst)
    }
}

/// What makes two readings "the same state" for deduplication.
#[derive(Clone, Debug, PartialEq)]
struct Key {
    verdict: Verdict,
    body: Option<Value>,
}

impl Key {
    fn of(classified: &Classified, every_change: bool) -> Key {
        let body = match &classified.reading {
            Reading::Absent => None,
            Reading::Contentless => Some(Value::Null),
            Reading::Body(body) => {
                let mut body = body.clone();
                if !every_change {
                    // A keep-alive re-write refreshes `requested_at` and nothing else;
                    // its effect on expiry shows up in the verdict when it matters.
                    body.shift_remove("requested_at");
                }
                Some(Value::Object(body))
            }
        };
        Key {
            verdict: classified.verdict,
            body,
        }
    }
}

/// Watches one home and reports each change of its drain state.
///
/// The first [`next_change`](Watcher::next_change) (or iteration) reports the state
/// when watching began, with [`Change::initial`] set, so that a caller never has to
/// read the marker separately and cannot miss a change between that read and the
/// watch. After that, one [`Change`] per real change of the state: the verdict or the
/// marker's body other than `requested_at` (or, with
/// [`WatchOptions::every_change`], including it). Changes that happen faster than the
/// caller takes them are coalesced: the caller always sees the latest state, not
/// necessarily every intermediate one.
///
/// The home is resolved once, when the watcher is made (`HERMES_HOME` changing later
/// does not move a running watch).
///
/// A watcher is `Send`; it is used from one thread at a time (`&mut self`), and
/// [`Watcher::stopper`] gives the handle to stop it from any other.
#[derive(Debug)]
pub struct Watcher {
    home: PathBuf,
    marker: PathBuf,
    every_change: bool,
    fallback_interval: Duration,
    max_age_micros: i64,
    /// The epoch judged against; `None`: this process's own.
    epoch: Option<String>,
    stop: Arc<StopShared>,
    backend: Backend,
    last: Option<Key>,
    /// A re-read is due (an event arrived, or nothing has been read yet).
    dirty: bool,
    next_fallback: Instant,
    expiry: Option<Instant>,
}

impl Watcher {
    /// Starts watching `home` (`None` for the default, see [`resolve_home`]).
    ///
    /// The folder need not exist. Fails only when the OS refuses the watcher's own
    /// descriptors (too many open files); a folder that cannot be watched (no
    /// permission, inotify's watch limit reached) is re-read on the fallback interval
    /// instead, and retried there.
    pub fn new(home: Option<&Path>, options: WatchOptions) -> io::Result<Watcher> {
        let home = resolve_home(home);
        let marker = home.join(MARKER_FILE_NAME);
        let (backend, wake) = Backend::new(&home, MARKER_FILE_NAME)?;
        let fallback_interval = options
            .fallback_interval
            .clamp(MIN_FALLBACK_INTERVAL, MAX_FALLBACK_INTERVAL);
        let watcher = Watcher {
            home,
            marker,
            every_change: options.every_change,
            fallback_interval,
            max_age_micros: options.max_age_micros.unwrap_or(MAX_AGE_MICROS),
            epoch: options.epoch,
            stop: Arc::new(StopShared {
                stopped: AtomicBool::new(false),
                wake,
            }),
            backend,
            last: None,
            dirty: true,
            next_fallback: Instant::now() + fallback_interval,
            expiry: None,
        };
        // Armed at once, so that a caller polling the descriptor before the first
        // `next_change` is woken for the initial state.
        watcher.backend.set_timer(Some(Instant::now()))?;
        Ok(watcher)
    }

    /// The home folder watched.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The marker path judged.
    pub fn marker_path(&self) -> &Path {
        &self.marker
    }

    /// A handle that stops this watcher from another thread.
    pub fn stopper(&self) -> Stopper {
        Stopper(Arc::clone(&self.stop))
    }

    /// Whether the watcher was stopped; then `next_change` always returns `Ok(None)`.
    pub fn is_stopped(&self) -> bool {
        self.stop.stopped.load(Ordering::SeqCst)
    }

    /// How long until the watcher next wants to re-read on its own (fallback or
    /// expiry), for event loops that cannot rely on the descriptor's timer (see the
    /// module documentation). Zero when a re-read is already due.
    pub fn poll_timeout(&self) -> Duration {
        if self.dirty {
            return Duration::ZERO;
        }
        self.deadline().saturating_duration_since(Instant::now())
    }

    /// Waits up to `timeout` (`None`: for ever) for the next change and returns it.
    ///
    /// `Ok(None)` when the timeout passed without a change, or when the watcher was
    /// stopped (see [`Watcher::is_stopped`]). `Some(Duration::ZERO)` never blocks:
    /// that is the call to make when the descriptor is readable. The first call
    /// reports the initial state. Errors come only from the OS's event calls, which do
    /// not fail in practice.
    pub fn next_change(&mut self, timeout: Option<Duration>) -> io::Result<Option<Change>> {
        let give_up = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
        loop {
            if self.is_stopped() {
                return Ok(None);
            }
            if let Some(change) = self.step()? {
                return Ok(Some(change));
            }
            let wait = match give_up {
                Some(at) => {
                    let left = at.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(None);
                    }
                    Some(left)
                }
                None => None,
            };
            self.backend.wait(wait, self.deadline())?;
        }
    }

    /// Takes in what happened since the last call, re-reads if anything may have
    /// changed, and re-arms the timer. Never blocks.
    fn step(&mut self) -> io::Result<Option<Change>> {
        if self.backend.collect()? {
            self.dirty = true;
        }
        let now = Instant::now();
        if now >= self.next_fallback {
            self.next_fallback = now + self.fallback_interval;
            // A re-check of the watch itself: the folder may have been replaced, or
            // an earlier attempt to watch it may have failed.
            self.backend.verify();
            self.dirty = true;
        }
        if self.expiry.is_some_and(|at| now >= at) {
            self.expiry = None;
            self.dirty = true;
        }
        let change = if self.dirty {
            self.dirty = false;
            self.check()
        } else {
            None
        };
        self.backend.set_timer(Some(self.deadline()))?;
        Ok(change)
    }

    /// The next instant the watcher wants to re-read on its own.
    fn deadline(&self) -> Instant {
        match self.expiry {
            Some(expiry) => expiry.min(self.next_fallback),
            None => self.next_fallback,
        }
    }

    /// Reads and judges the marker; a change if the state differs from the last one
    /// reported.
    fn check(&mut self) -> Option<Change> {
        let at = Timestamp::now();
        let epoch: &str = match &self.epoch {
            Some(epoch) => epoch,
            None => crate::epoch::current(),
        };
        let context = Context::new(epoch, at).with_max_age_micros(self.max_age_micros);
        let inspection = Snapshot::take(&self.marker).judge(&context);
        if let Some(warning) = &inspection.warning {
            warn::log_once(warning);
        }
        let classified = inspection.classified;
        let expires_at = classified.expires_at;
        self.expiry = expires_at.and_then(|expires| {
            let micros = expires
                .unix_micros()
                .saturating_sub(at.unix_micros())
                .max(0);
            Instant::now().checked_add(Duration::from_micros(micros as u64))
        });
        let key = Key::of(&classified, self.every_change);
        if self.last.as_ref() == Some(&key) {
            return None;
        }
        let initial = self.last.is_none();
        self.last = Some(key);
        Some(Change {
            state: classified.state(),
            classified,
            at,
            expires_at,
            initial,
            warning: inspection.warning,
        })
    }
}

impl Iterator for Watcher {
    type Item = io::Result<Change>;

    /// Blocks until the next change; ends when the watcher is stopped.
    fn next(&mut self) -> Option<Self::Item> {
        self.next_change(None).transpose()
    }
}

impl AsFd for Watcher {
    /// The descriptor to poll for reading (see the module documentation). It belongs
    /// to the watcher and closes with it.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.backend.poll_fd()
    }
}

impl AsRawFd for Watcher {
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

fn timespec(duration: Duration) -> rustix::time::Timespec {
    // Capped at a day: long enough for any wait here, and within every kernel's range.
    let duration = duration.min(Duration::from_secs(86_400));
    rustix::time::Timespec {
        tv_sec: duration.as_secs() as _,
        tv_nsec: duration.subsec_nanos() as _,
    }
}

/// Wakes when one file of a folder may have changed, or at a deadline: the event source
/// under [`Watcher`], for another file of the home (the gateway's record, see
/// [`crate::gateway`]).
#[derive(Debug)]
pub(crate) struct FileEvents {
    backend: Backend,
    _wake: OwnedFd,
}

impl FileEvents {
    /// Watches `name` in `folder` (which need not exist yet).
    pub(crate) fn new(folder: &Path, name: &'static str) -> io::Result<FileEvents> {
        let (backend, wake) = Backend::new(folder, name)?;
        Ok(FileEvents {
            backend,
            _wake: wake,
        })
    }

    /// Waits until the file may have changed (true) or `until` passed (false). At the
    /// deadline the watch itself is re-checked, as the watcher's fallback does.
    pub(crate) fn wait(&mut self, until: Instant) -> io::Result<bool> {
        self.backend.set_timer(Some(until))?;
        loop {
            if self.backend.collect()? {
                return Ok(true);
            }
            if Instant::now() >= until {
                return Ok(self.backend.verify());
            }
            self.backend.wait(None, until)?;
        }
    }
}

// One file per backend, as the `notify` crate keeps them; the portable one is also
// built on Linux with the cargo feature `portable-backends` (scripts/test-rust), so that
// it is compiled and tested here too.
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    not(feature = "portable-backends")
))]
mod inotify;
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    not(feature = "portable-backends")
))]
use inotify::Backend;

#[cfg(any(
    not(any(target_os = "linux", target_os = "android")),
    feature = "portable-backends"
))]
mod portable;
#[cfg(any(
    not(any(target_os = "linux", target_os = "android")),
    feature = "portable-backends"
))]
use portable::Backend;
