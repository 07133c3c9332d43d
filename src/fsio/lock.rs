//! The advisory lock cooperating writers hold around a lease's read-compare-write.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use rustix::fs::{FlockOperation, flock};

use crate::contract::LOCK_FILE_NAME;
use crate::error::{Error, Step};

/// An exclusive `flock` on the lock file beside a marker, released when dropped (and
/// by the kernel when the process dies, so a killed holder never wedges the others).
#[derive(Debug)]
pub struct MarkerLock {
    _file: File,
}

/// Why the lock was not taken.
#[derive(Debug)]
pub enum LockError {
    /// Other writers kept it taken for the whole wait (one at a time or in turn: the
    /// lock is not fair to a waiter that polls).
    Busy {
        /// The lock file.
        path: PathBuf,
        /// How long this one waited.
        waited: Duration,
    },
    /// The folder or the lock file could not be created or opened, or `flock` failed
    /// ([`Step::CreateHome`] or [`Step::Lock`]).
    Failed(Error),
}

impl MarkerLock {
    /// Takes the lock of the marker at `marker`, waiting at most `wait`. Creates the
    /// folder (as a write does) and the lock file, readable by all so that another
    /// user's writer can lock it too (`flock` needs no write permission).
    pub fn acquire(marker: &Path, wait: Duration) -> Result<MarkerLock, LockError> {
        let folder = marker
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let path = folder.join(LOCK_FILE_NAME);
        let failed =
            |step, at: &Path, source| LockError::Failed(Error::new(step, marker, at, source));
        fs::create_dir_all(folder).map_err(|e| failed(Step::CreateHome, folder, e))?;
        let file = OpenOptions::new()
            .read(true)
            .create(true)
            .append(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
            .or_else(|error| match error.raw_os_error() {
                // Another user's lock file: reading is enough to lock it. When there is
                // none to read, the folder refused the creation: that is the error.
                Some(libc::EACCES) => OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                    .open(&path)
                    .map_err(|second| match second.kind() {
                        std::io::ErrorKind::NotFound => error,
                        _ => second,
                    }),
                _ => Err(error),
            })
            .map_err(|e| failed(Step::Lock, &path, e))?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => return Ok(MarkerLock { _file: file }),
                Err(rustix::io::Errno::WOULDBLOCK) | Err(rustix::io::Errno::INTR) => {}
                Err(error) => return Err(failed(Step::Lock, &path, error.into())),
            }
            let waited = started.elapsed();
            if waited >= wait {
                return Err(LockError::Busy { path, waited });
            }
            // Short pauses first (the lock is held for one read and one write), never
            // past the deadline.
            thread::sleep(pause.min(wait - waited));
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_waits_its_bound_then_is_busy_and_a_dropped_lock_is_free() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("home/.drain_request.json");
        let first = MarkerLock::acquire(&marker, Duration::ZERO).unwrap();
        let started = Instant::now();
        match MarkerLock::acquire(&marker, Duration::from_millis(30)) {
            Err(LockError::Busy { path, waited }) => {
                assert_eq!(path, dir.path().join("home").join(LOCK_FILE_NAME));
                assert!(waited >= Duration::from_millis(30));
            }
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(first);
        MarkerLock::acquire(&marker, Duration::ZERO).unwrap();
    }
}
