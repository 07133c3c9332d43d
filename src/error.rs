//! The error of a write, a clear or a lease operation: which marker, which step failed,
//! on which path, and the OS error.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The step of a write or clear that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Step {
    /// Checking the payload before anything is written: it would not read back as the
    /// same object (see [`crate::Payload::to_checked_bytes`]). Nothing was touched.
    CheckPayload,
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
    /// Taking the writers' lock beside the marker, for a lease operation (see
    /// [`crate::lease`]); the path is the lock file.
    Lock,
}

impl Step {
    /// A stable name for programs (`drainctl --json`, Go's `PathError.Op`, C's
    /// `drain_error.step`): `"create_temp"`, `"rename"`...
    pub fn as_str(self) -> &'static str {
        match self {
            Step::CheckPayload => "check_payload",
            Step::CreateHome => "create_home",
            Step::FollowLink => "follow_link",
            Step::CreateTemp => "create_temp",
            Step::KeepMode => "keep_mode",
            Step::WriteTemp => "write_temp",
            Step::SyncTemp => "sync_temp",
            Step::Rename => "rename",
            Step::SyncFolder => "sync_folder",
            Step::Remove => "remove",
            Step::Lock => "lock",
        }
    }

    /// What the step does, for people: "creating a temporary file".
    pub fn describe(self) -> &'static str {
        match self {
            Step::CheckPayload => "checking the payload",
            Step::CreateHome => "creating the home folder",
            Step::FollowLink => "following the marker's link",
            Step::CreateTemp => "creating a temporary file",
            Step::KeepMode => "keeping the marker's mode on the temporary file",
            Step::WriteTemp => "writing the temporary file",
            Step::SyncTemp => "flushing the temporary file",
            Step::Rename => "renaming the new marker into place",
            Step::SyncFolder => "flushing the folder",
            Step::Remove => "removing the marker",
            Step::Lock => "locking the writers' lock file",
        }
    }

    /// Whether a failure at this step leaves the old marker (or its absence) untouched:
    /// every step before the rename. After it, the new marker is in place (a write) or
    /// the marker is gone (a clear); only the folder flush failed.
    pub fn leaves_marker_untouched(self) -> bool {
        !matches!(self, Step::SyncFolder)
    }
}

/// A failed write or clear. The OS error is the first one that happened, never a
/// later clean-up error; [`Error::marker`] is the marker the caller named, and
/// [`Error::path`] the path the failing call acted on (a temporary file, the folder).
#[derive(Debug)]
pub struct Error {
    step: Step,
    marker: PathBuf,
    path: PathBuf,
    source: io::Error,
}

impl Error {
    pub(crate) fn new(step: Step, marker: &Path, path: &Path, source: io::Error) -> Self {
        Error {
            step,
            marker: marker.to_path_buf(),
            path: path.to_path_buf(),
            source,
        }
    }

    /// A payload refused before anything was written: `reason` names the argument and
    /// the limit.
    pub(crate) fn refused(marker: &Path, reason: String) -> Self {
        let source = io::Error::new(io::ErrorKind::InvalidInput, reason);
        Error::new(Step::CheckPayload, marker, marker, source)
    }

    /// The step that failed.
    pub fn step(&self) -> Step {
        self.step
    }

    /// The marker the write or clear was for.
    pub fn marker(&self) -> &Path {
        &self.marker
    }

    /// The path the failing call acted on: the marker, its folder, or a temporary file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The OS error number (`errno`), when the failure came from the OS.
    pub fn raw_os_error(&self) -> Option<i32> {
        self.source.raw_os_error()
    }

    /// The kind of the underlying I/O error (`InvalidInput` for a refused payload).
    pub fn kind(&self) -> io::ErrorKind {
        self.source.kind()
    }

    /// Whether the payload was refused before anything was written (too large to be
    /// read back): an error of the caller's arguments, not of the system.
    pub fn is_refused_payload(&self) -> bool {
        self.step == Step::CheckPayload
    }

    /// The underlying I/O error.
    pub fn io_error(&self) -> &io::Error {
        &self.source
    }

    /// What failed, without the marker: "creating a temporary file
    /// \"/h/..drain_request_0.tmp\": Permission denied (os error 13)".
    pub fn detail(&self) -> String {
        if self.step == Step::CheckPayload {
            return self.source.to_string();
        }
        if self.path == self.marker {
            format!("{}: {}", self.step.describe(), self.source)
        } else {
            format!("{} {:?}: {}", self.step.describe(), self.path, self.source)
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Paths are quoted with escapes so that a hostile name cannot forge log lines.
        // The OS error is said here once; `source` skips it (as fs-err does), so that
        // a printed chain does not repeat it.
        write!(f, "drain marker {:?}: {}", self.marker, self.detail())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.get_ref().and_then(|inner| inner.source())
    }
}

impl From<Error> for io::Error {
    /// An `io::Error` of the same kind whose message says it all, holding this error
    /// (`get_ref` and `downcast` give it back, with its errno).
    fn from(error: Error) -> Self {
        io::Error::new(error.kind(), error)
    }
}
