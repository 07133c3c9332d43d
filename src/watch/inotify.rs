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
    Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, timerfd_create, timerfd_settime,
};

use super::timespec;

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
    /// The file of the home whose events count (the marker, or the gateway's record).
    file_name: &'static str,
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
    pub(super) fn new(home: &Path, file_name: &'static str) -> io::Result<(Backend, OwnedFd)> {
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
            file_name,
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
                    } else if name.is_none_or(|name| name == self.file_name) {
                        // The file, or the folder's own attributes (its
                        // permissions decide whether the file is readable).
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
