//! The marker on real files, in temporary homes: the write protocol, reading what is
//! at the marker path, clearing. One module a topic; the helpers every module uses
//! are here.
//!
//! Tests that change the umask or the environment live in their own test binaries
//! (`umask.rs`, `home.rs`): both are process-wide, and tests here run in threads.

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _, symlink};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use drain_control::fsio::{
    LISTED_FOLDER_BYTES, TEMP_MAX_AGE, TEMP_PREFIX, TEMP_SLOTS, TEMP_SUFFIX, sweep_leftovers,
    sweep_slots,
};
use drain_control::inspect::{self, Snapshot};
use drain_control::{
    Context, MARKER_FILE_NAME, Reading, Step, Timestamp, classify, clear, drain_requested, epoch,
    notification_suppressed, read, status, write,
};
use tempfile::TempDir;

/// A fresh temporary folder and, inside it, a home that does not exist yet.
fn fresh() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    (dir, home)
}

/// A fresh temporary folder that is itself the (existing) home.
fn existing_home() -> TempDir {
    tempfile::tempdir().unwrap()
}

fn marker_in(home: &Path) -> PathBuf {
    home.join(MARKER_FILE_NAME)
}

/// The write's temp files left in `folder`.
fn temp_files(folder: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(folder) else {
        return Vec::new();
    };
    entries
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(TEMP_PREFIX))
        .collect()
}

/// Every name in `folder`, sorted.
fn listing(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

mod clearing;
mod errors;
mod links;
mod modes;
mod reading;
mod sweep;
mod writing;
