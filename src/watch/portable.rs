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
    pub(super) fn new(_home: &Path, _file_name: &'static str) -> io::Result<(Backend, OwnedFd)> {
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
