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

use crate::home::{MARKER_FILE_NAME, resolve_home};
use crate::marker::{Classified, Context, MAX_AGE_MICROS, Read, Verdict};
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

/// The drain state in one word: what a gateway does about the marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// No marker (or an unreadable one, which reads as absent): serve.
    Absent,
    /// An active marker: drain.
    Active,
    /// An active marker that asks to skip the "shutting down" notice: drain quietly.
    Suppressed,
    /// A marker written by another instantiation of this machine: ignored, serve.
    EpochStale,
    /// A marker older than the maximum age: ignored, serve.
    Expired,
}

impl State {
    /// The state a verdict amounts to. A marker both epoch-stale and expired is
    /// reported as epoch-stale, the more fundamental reason.
    pub fn of(verdict: &Verdict) -> State {
        if !verdict.present {
            State::Absent
        } else if verdict.suppressed {
            State::Suppressed
        } else if verdict.active {
            State::Active
        } else if verdict.epoch_stale {
            State::EpochStale
        } else {
            State::Expired
        }
    }

    /// The state's stable name: `absent`, `active`, `suppressed`, `epoch-stale` or
    /// `expired` (the same in every binding and in `drainctl --json`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Absent => "absent",
            State::Active => "active",
            State::Suppressed => "suppressed",
            State::EpochStale => "epoch-stale",
            State::Expired => "expired",
        }
    }

    /// Whether the gateway must drain: [`State::Active`] or [`State::Suppressed`].
    pub fn is_draining(self) -> bool {
        matches!(self, State::Active | State::Suppressed)
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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
    /// When the marker will expire (the first instant at which it counts as expired),
    /// if it is present, not yet expired and has a parseable `requested_at`.
    pub expires_at: Option<Timestamp>,
    /// True for the first change a watcher reports: the state when watching began.
    pub initial: bool,
    /// The warning this reading deserves (unreadable or expired marker), if any. The
    /// watcher already logged it once through the `log` facade; bindings may forward it
    /// to their host's logging.
    pub warning: Option<Warning>,
}

/// The first instant at which a marker counts as expired under `max_age_micros`:
/// `requested_at` + maximum age + 1 µs (expiry is "older than", strictly). `None`
/// when there is no marker body or its `requested_at` is not a parseable string; such
/// a marker never expires.
pub fn expires_at(classified: &Classified, max_age_micros: i64) -> Option<Timestamp> {
    let requested = classified.read.body()?.get("requested_at")?.as_str()?;
    let requested = Timestamp::parse(requested)?;
    let micros = requested
        .unix_micros()
        .checked_add(max_age_micros)?
        .checked_add(1)?;
    Some(Timestamp::from_unix_micros(micros))
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
        let body = match &classified.read {
            Read::Absent => None,
            Read::Contentless => Some(Value::Null),
            Read::Body(body) => {
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
    backend: backend::Backend,
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
        let (backend, wake) = backend::Backend::new(&home)?;
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
        let inspection = crate::inspect(&self.marker, &context);
        if let Some(warning) = &inspection.warning {
            warn::log_once(warning);
        }
        let classified = inspection.classified;
        let expires_at = if classified.verdict.present && !classified.verdict.expired {
            expires_at(&classified, self.max_age_micros)
        } else {
            None
        };
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
            state: State::of(&classified.verdict),
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

#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    not(feature = "portable-backends")
))]
mod backend {
    //! inotify on the home folder (or its nearest existing ancestor), a timerfd for
    //! the fallback and expiry wake-ups, and an eventfd for stops, all behind one
    //! epoll descriptor. Built on `rustix`, a safe, well-kept wrapper of exactly these
    //! system calls (already in most dependency trees through `tempfile`).

    use std::ffi::OsStr;
    use std::io;
    use std::mem::MaybeUninit;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use rustix::event::{EventfdFlags, epoll, eventfd};
    use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
    use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
    use rustix::io::Errno;
    use rustix::time::{
        Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, timerfd_create,
        timerfd_settime,
    };

    use super::timespec;
    use crate::home::MARKER_FILE_NAME;

    const INOTIFY: u64 = 0;
    const TIMER: u64 = 1;
    const STOP: u64 = 2;

    /// On the home folder: everything that can replace, create, remove or re-permit
    /// the marker, and the folder itself going away. Not `IN_MODIFY`: a plain
    /// (non-atomic) writer is seen at `IN_CLOSE_WRITE`, whole, not mid-write.
    fn home_mask() -> WatchFlags {
        WatchFlags::CREATE
            | WatchFlags::MOVED_TO
            | WatchFlags::MOVED_FROM
            | WatchFlags::DELETE
            | WatchFlags::CLOSE_WRITE
            | WatchFlags::ATTRIB
            | WatchFlags::DELETE_SELF
            | WatchFlags::MOVE_SELF
            | WatchFlags::ONLYDIR
    }

    /// On an ancestor while the home is missing: the next path component appearing,
    /// and the ancestor itself going away.
    fn ancestor_mask() -> WatchFlags {
        WatchFlags::CREATE
            | WatchFlags::MOVED_TO
            | WatchFlags::DELETE_SELF
            | WatchFlags::MOVE_SELF
            | WatchFlags::ONLYDIR
    }

    #[derive(Debug)]
    enum Armed {
        /// Nothing watched (the last attempt failed); the fallback retries.
        Nothing,
        /// The home folder itself, with its identity when armed.
        Home { wd: i32, dev: u64, ino: u64 },
        /// An ancestor, waiting for the path component `next` to appear in it.
        Ancestor { wd: i32, next: PathBuf },
    }

    impl Armed {
        fn wd(&self) -> Option<i32> {
            match self {
                Armed::Nothing => None,
                Armed::Home { wd, .. } | Armed::Ancestor { wd, .. } => Some(*wd),
            }
        }
    }

    #[derive(Debug)]
    pub(super) struct Backend {
        home: PathBuf,
        epoll: OwnedFd,
        inotify: OwnedFd,
        timer: OwnedFd,
        /// Registered with the epoll instance and never drained: a stop is for ever.
        _stop: OwnedFd,
        armed: Armed,
        rearm: bool,
        warned_unwatchable: bool,
    }

    impl Backend {
        /// The backend and the stop descriptor to hand to the stopper.
        pub(super) fn new(home: &Path) -> io::Result<(Backend, OwnedFd)> {
            let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
            let inotify = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)?;
            let timer = timerfd_create(
                TimerfdClockId::Monotonic,
                TimerfdFlags::CLOEXEC | TimerfdFlags::NONBLOCK,
            )?;
            let stop = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
            let wake = stop.try_clone()?;
            for (fd, token) in [(&inotify, INOTIFY), (&timer, TIMER), (&stop, STOP)] {
                epoll::add(
                    &epoll,
                    fd,
                    epoll::EventData::new_u64(token),
                    epoll::EventFlags::IN,
                )?;
            }
            let mut backend = Backend {
                home: home.to_path_buf(),
                epoll,
                inotify,
                timer,
                _stop: stop,
                armed: Armed::Nothing,
                rearm: false,
                warned_unwatchable: false,
            };
            backend.arm();
            Ok((backend, wake))
        }

        pub(super) fn poll_fd(&self) -> BorrowedFd<'_> {
            self.epoll.as_fd()
        }

        /// Drains every source without blocking. True when the marker may have
        /// changed (including after a re-arm, which must be followed by a re-read).
        pub(super) fn collect(&mut self) -> io::Result<bool> {
            let mut touched = self.drain_inotify()?;
            let mut ticks = [0u8; 8];
            match rustix::io::read(&self.timer, &mut ticks) {
                Ok(_) | Err(Errno::AGAIN) | Err(Errno::INTR) => {}
                Err(error) => return Err(error.into()),
            }
            if self.rearm {
                self.rearm = false;
                self.arm();
                // Events queued before the re-arm are irrelevant now; the re-read
                // that follows sees the state after the new watch exists.
                touched = true;
            }
            Ok(touched)
        }

        fn drain_inotify(&mut self) -> io::Result<bool> {
            let mut touched = false;
            let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
            let mut reader = inotify::Reader::new(&self.inotify, &mut buf);
            let current = self.armed.wd();
            loop {
                let event = match reader.next() {
                    Ok(event) => event,
                    Err(Errno::AGAIN) => break,
                    Err(Errno::INTR) => continue,
                    Err(error) => return Err(error.into()),
                };
                let flags = event.events();
                if flags.contains(ReadFlags::QUEUE_OVERFLOW) {
                    // Events were lost: look again at everything.
                    touched = true;
                    self.rearm = true;
                    continue;
                }
                if Some(event.wd()) != current {
                    continue; // A watch removed earlier; its leftovers mean nothing.
                }
                let gone = ReadFlags::IGNORED
                    | ReadFlags::DELETE_SELF
                    | ReadFlags::MOVE_SELF
                    | ReadFlags::UNMOUNT;
                let name = event
                    .file_name()
                    .map(|name| OsStr::from_bytes(name.to_bytes()));
                match &self.armed {
                    Armed::Home { .. } => {
                        if flags.intersects(gone) {
                            self.rearm = true;
                            touched = true;
                        } else if name.is_none_or(|name| name == MARKER_FILE_NAME) {
                            // The marker, or the folder's own attributes (its
                            // permissions decide whether the marker is readable).
                            touched = true;
                        }
                    }
                    Armed::Ancestor { next, .. } => {
                        if flags.intersects(gone) || name.is_some_and(|name| name == next) {
                            self.rearm = true;
                        }
                    }
                    Armed::Nothing => {}
                }
            }
            Ok(touched)
        }

        /// The fallback's look at the watch itself: re-arms when the home is not
        /// what is watched (not watched yet, or replaced by another folder, e.g. a
        /// symbolic link retargeted). True when it re-armed.
        pub(super) fn verify(&mut self) -> bool {
            let fine = match &self.armed {
                Armed::Home { dev, ino, .. } => std::fs::metadata(&self.home)
                    .is_ok_and(|meta| meta.is_dir() && meta.dev() == *dev && meta.ino() == *ino),
                Armed::Ancestor { .. } | Armed::Nothing => false,
            };
            if !fine {
                self.arm();
            }
            !fine
        }

        /// Watches the home, or the nearest existing ancestor while it is missing.
        fn arm(&mut self) {
            let mut added = Vec::new();
            added.extend(self.armed.wd());
            let mut armed = Armed::Nothing;
            // A few rounds: a component that appears while the watch on its parent is
            // being set up is caught by the existence check after adding the watch.
            for _ in 0..16 {
                let (folder, next) = nearest_existing(&self.home);
                if next.is_none() {
                    let meta = std::fs::metadata(&folder);
                    match (add_watch(&self.inotify, &folder, home_mask()), meta) {
                        (Ok(wd), Ok(meta)) => {
                            added.push(wd);
                            armed = Armed::Home {
                                wd,
                                dev: meta.dev(),
                                ino: meta.ino(),
                            };
                        }
                        (Ok(wd), Err(_)) => {
                            added.push(wd);
                            // Gone again already: the event will say so.
                            armed = Armed::Home { wd, dev: 0, ino: 0 };
                        }
                        (Err(Errno::NOENT | Errno::NOTDIR), _) => continue,
                        (Err(error), _) => self.unwatchable(&folder, error),
                    }
                    break;
                }
                let next = next.expect("checked above");
                match add_watch(&self.inotify, &folder, ancestor_mask()) {
                    Ok(wd) => {
                        added.push(wd);
                        let appeared = folder.join(&next).is_dir();
                        armed = Armed::Ancestor { wd, next };
                        if appeared {
                            continue;
                        }
                    }
                    Err(Errno::NOENT | Errno::NOTDIR) => continue,
                    Err(error) => self.unwatchable(&folder, error),
                }
                break;
            }
            // Every watch but the final one goes: the previous one and any set on the
            // way. The same folder gives the same descriptor, hence the comparison.
            let keep = armed.wd();
            added.sort_unstable();
            added.dedup();
            for wd in added.into_iter().filter(|&wd| Some(wd) != keep) {
                // EINVAL when the kernel already dropped it (folder deleted): fine.
                let _ = inotify::remove_watch(&self.inotify, wd);
            }
            self.armed = armed;
        }

        fn unwatchable(&mut self, folder: &Path, error: Errno) {
            if !self.warned_unwatchable {
                self.warned_unwatchable = true;
                log::warn!(
                    "drain-control: cannot watch {folder:?} ({}); re-reading the marker \
                     on the fallback interval instead",
                    io::Error::from(error)
                );
            }
        }

        pub(super) fn set_timer(&self, deadline: Option<Instant>) -> io::Result<()> {
            let value = match deadline {
                // Zero would disarm the timer; a nanosecond fires at once.
                Some(deadline) => timespec(
                    deadline
                        .saturating_duration_since(Instant::now())
                        .max(Duration::from_nanos(1)),
                ),
                None => timespec(Duration::ZERO),
            };
            let spec = Itimerspec {
                it_interval: timespec(Duration::ZERO),
                it_value: value,
            };
            timerfd_settime(&self.timer, TimerfdTimerFlags::empty(), &spec)?;
            Ok(())
        }

        /// Blocks until any source is readable or `timeout` passes. The timer was
        /// armed for `_deadline` by the last `set_timer`.
        pub(super) fn wait(&self, timeout: Option<Duration>, _deadline: Instant) -> io::Result<()> {
            let mut events = [MaybeUninit::<epoll::Event>::uninit(); 4];
            let timeout = timeout.map(timespec);
            match epoll::wait(&self.epoll, &mut events, timeout.as_ref()) {
                Ok(_) | Err(Errno::INTR) => Ok(()),
                Err(error) => Err(error.into()),
            }
        }
    }

    fn add_watch(inotify: &OwnedFd, folder: &Path, mask: WatchFlags) -> Result<i32, Errno> {
        loop {
            match inotify::add_watch(inotify, folder, mask) {
                Err(Errno::INTR) => continue,
                other => return other,
            }
        }
    }

    /// The nearest folder on the way to `home` that exists (`home` itself when it
    /// does), and the path component after it that is missing (`None` for `home`).
    fn nearest_existing(home: &Path) -> (PathBuf, Option<PathBuf>) {
        let mut folder = home;
        let mut next = None;
        loop {
            if folder.is_dir() {
                return (folder.to_path_buf(), next);
            }
            match (folder.parent(), folder.file_name()) {
                (Some(parent), Some(name)) => {
                    next = Some(PathBuf::from(name));
                    folder = if parent.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        parent
                    };
                }
                // `..` components or the root missing: nothing better than the
                // current folder to watch.
                _ => return (PathBuf::from("."), next),
            }
        }
    }
}

// Also on Linux with the cargo feature `portable-backends` (scripts/test-rust), so that
// this backend is compiled and its tests run here too.
#[cfg(any(
    not(any(target_os = "linux", target_os = "android")),
    feature = "portable-backends"
))]
mod backend {
    //! Elsewhere: no file events; the fallback interval and the expiry wake-up drive
    //! the re-reads, and a pipe wakes a waiting watcher on a stop.

    use std::io;
    use std::path::Path;
    use std::time::{Duration, Instant};

    use rustix::event::{PollFd, PollFlags, poll};
    use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
    use rustix::io::{Errno, FdFlags, fcntl_setfd};

    use super::timespec;

    #[derive(Debug)]
    pub(super) struct Backend {
        stop: OwnedFd,
    }

    impl Backend {
        pub(super) fn new(_home: &Path) -> io::Result<(Backend, OwnedFd)> {
            let (read, write) = rustix::pipe::pipe()?;
            fcntl_setfd(&read, FdFlags::CLOEXEC)?;
            fcntl_setfd(&write, FdFlags::CLOEXEC)?;
            Ok((Backend { stop: read }, write))
        }

        pub(super) fn poll_fd(&self) -> BorrowedFd<'_> {
            self.stop.as_fd()
        }

        pub(super) fn collect(&mut self) -> io::Result<bool> {
            Ok(false)
        }

        pub(super) fn verify(&mut self) -> bool {
            false
        }

        pub(super) fn set_timer(&self, _deadline: Option<Instant>) -> io::Result<()> {
            Ok(())
        }

        pub(super) fn wait(&self, timeout: Option<Duration>, deadline: Instant) -> io::Result<()> {
            let until_deadline = deadline.saturating_duration_since(Instant::now());
            let wait = timeout.map_or(until_deadline, |timeout| timeout.min(until_deadline));
            let mut fds = [PollFd::new(&self.stop, PollFlags::IN)];
            match poll(&mut fds, Some(&timespec(wait))) {
                Ok(_) | Err(Errno::INTR) => Ok(()),
                Err(error) => Err(error.into()),
            }
        }
    }
}
