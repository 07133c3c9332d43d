//! The error of a write or a clear: which step failed, on which path, and the OS error.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The step of a write or clear that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Step {
    /// Creating the home folder (or a parent).
    CreateHome,
    /// Following the symbolic link at the marker path.
    FollowLink,
    /// Creating the temporary file beside the marker.
    CreateTemp,
    /// Giving the temporary file the existing marker's mode.
    KeepMode,
    /// Writing the marker bytes to the temporary file.
    WriteTemp,
    /// Flushing the temporary file to disk.
    SyncTemp,
    /// Renaming the temporary file over the marker.
    Rename,
    /// Flushing the folder, so the rename or removal survives a crash.
    SyncFolder,
    /// Removing the marker.
    Remove,
}

impl Step {
    fn describe(self) -> &'static str {
        match self {
            Step::CreateHome => "create the home folder",
            Step::FollowLink => "follow the marker link",
            Step::CreateTemp => "create a temporary file",
            Step::KeepMode => "keep the marker's mode on",
            Step::WriteTemp => "write",
            Step::SyncTemp => "flush",
            Step::Rename => "rename the new marker into place at",
            Step::SyncFolder => "flush the folder",
            Step::Remove => "remove the marker",
        }
    }
}

/// A failed write or clear. The OS error is the first one that happened, never a
/// later clean-up error, and the path is the one the failing call acted on.
#[derive(Debug)]
pub struct Error {
    step: Step,
    path: PathBuf,
    source: io::Error,
}

impl Error {
    pub(crate) fn new(step: Step, path: &Path, source: io::Error) -> Self {
        Error {
            step,
            path: path.to_path_buf(),
            source,
        }
    }

    /// The step that failed.
    pub fn step(&self) -> Step {
        self.step
    }

    /// The path the failing call acted on.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The OS error number (`errno`), when the failure came from the OS.
    pub fn raw_os_error(&self) -> Option<i32> {
        self.source.raw_os_error()
    }

    /// The kind of the underlying I/O error.
    pub fn kind(&self) -> io::ErrorKind {
        self.source.kind()
    }

    /// The underlying I/O error.
    pub fn io_error(&self) -> &io::Error {
        &self.source
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The path is quoted with escapes so that a hostile name cannot forge log lines.
        write!(
            f,
            "cannot {} {:?}: {}",
            self.step.describe(),
            self.path,
            self.source
        )
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}
