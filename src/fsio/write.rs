//! The atomic, durable write and the durable removal of a marker.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::sweep::sweep_leftovers_now_and_then;
use super::{TEMP_PREFIX, TEMP_SLOTS, TEMP_SUFFIX};
use crate::error::{Error, Step};

/// Replaces the marker at `marker` with `bytes`, atomically and durably.
///
/// Creates the folder, writes a new exclusively created temp file beside the marker,
/// fsyncs it (without this a crash can leave an empty marker, which reads as an
/// active drain that nothing can age out), renames it over the marker (over the file
/// a symlinked marker points to, so the link survives) and fsyncs the folder. A new
/// marker gets mode 0644 less the umask; an existing one keeps its mode, and its owner
/// where the process may chown. On failure before the rename the temp file is gone
/// and the old marker untouched; the error is the first one that happened.
pub fn write_marker(marker: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_marker_with_mode(marker, bytes, None)
}

/// [`write_marker`] with the new file's mode given, as Python's `atomic_json_write(...,
/// mode=...)` takes it: the temporary file is created `0600` (owner only) and given
/// `mode` (its permission bits, `& 0o7777`) before any byte is written, so the content
/// is never more readable than `mode` allows, not even for an instant; `mode=0o600` is
/// `0600` from creation. An existing file's owner is kept as [`write_marker`] keeps it.
/// `None` is [`write_marker`].
pub fn write_marker_with_mode(marker: &Path, bytes: &[u8], mode: Option<u32>) -> Result<(), Error> {
    let folder = parent_folder(marker);
    fs::create_dir_all(folder).map_err(|e| Error::new(Step::CreateHome, marker, folder, e))?;
    let target =
        follow_links(marker).map_err(|e| Error::new(Step::FollowLink, marker, marker, e))?;
    let existing = fs::metadata(&target).ok();

    let creation_mode = if mode.is_some() { 0o600 } else { 0o644 };
    let (temp_path, mut file, slotted) = create_temp(folder, creation_mode)
        .map_err(|(path, e)| Error::new(Step::CreateTemp, marker, &path, e))?;
    let temp = TempFile(Some(temp_path));
    let temp_path = temp.path();
    if let Some(old) = &existing {
        // Keeping the owner is best effort: only a privileged writer may give a file
        // away, and an unprivileged one still must be able to keep a drain alive.
        // The owner goes first: a chown clears the set-user-ID and set-group-ID bits,
        // so a mode set before it would lose them.
        let _ = std::os::unix::fs::fchown(&file, Some(old.uid()), Some(old.gid()));
    }
    if let Some(mode) = mode.or_else(|| existing.as_ref().map(MetadataExt::mode)) {
        file.set_permissions(fs::Permissions::from_mode(mode & 0o7777))
            .map_err(|e| Error::new(Step::KeepMode, marker, temp_path, e))?;
    }
    file.write_all(bytes)
        .map_err(|e| Error::new(Step::WriteTemp, marker, temp_path, e))?;
    file.sync_all()
        .map_err(|e| Error::new(Step::SyncTemp, marker, temp_path, e))?;
    drop(file);
    fs::rename(temp_path, &target).map_err(|e| Error::new(Step::Rename, marker, &target, e))?;
    temp.disarm();
    let target_folder = parent_folder(&target);
    sync_folder(target_folder)
        .map_err(|e| Error::new(Step::SyncFolder, marker, target_folder, e))?;
    sweep_leftovers_now_and_then(folder, slotted);
    Ok(())
}

/// Removes the marker and fsyncs its folder. `Ok(false)` when there was none.
pub fn remove_marker(marker: &Path) -> Result<bool, Error> {
    match fs::remove_file(marker) {
        Ok(()) => {
            let folder = parent_folder(marker);
            sync_folder(folder).map_err(|e| Error::new(Step::SyncFolder, marker, folder, e))?;
            Ok(true)
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(Error::new(Step::Remove, marker, marker, error)),
    }
}

fn parent_folder(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// The path a rename must replace so that a symlinked marker keeps its link: the end
/// of the chain of links, which need not exist yet. A loop is `ELOOP`.
fn follow_links(path: &Path) -> io::Result<PathBuf> {
    const MAX_LINKS: usize = 40; // Linux's own limit for one path lookup.
    let mut current = path.to_path_buf();
    // Up to MAX_LINKS links are followed, so MAX_LINKS + 1 paths are looked at: the
    // last one must not be a link. (With `0..MAX_LINKS` a chain of exactly 40 links,
    // which the reader's open() follows, failed here with ELOOP.)
    for _ in 0..=MAX_LINKS {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&current)?;
                current = parent_folder(&current).join(link);
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::from_raw_os_error(libc::ELOOP))
}

/// Creates the temp file in `folder`: exclusive, not following links, close-on-exec
/// (std's default), `mode` less the umask. The first free slot name is taken, so
/// that finding a killed writer's leftover never needs a listing of the folder (see
/// [`sweep_leftovers_now_and_then`]); a random name only when every slot is taken.
/// Also says whether a slot was had.
fn create_temp(folder: &Path, mode: u32) -> Result<(PathBuf, File, bool), (PathBuf, io::Error)> {
    let slots = (0..TEMP_SLOTS).map(|slot| (slot.to_string(), true));
    let random = (0..16).map(|_| (random_suffix(), false));
    let mut last_path = temp_path(folder, "");
    for (name, slotted) in slots.chain(random) {
        let path = temp_path(folder, &name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(file) => return Ok((path, file, slotted)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => last_path = path,
            Err(error) => return Err((path, error)),
        }
    }
    let error = io::Error::from_raw_os_error(libc::EEXIST);
    Err((last_path, error))
}

/// The temp file `name` (a slot number or random digits) names in `folder`.
pub(super) fn temp_path(folder: &Path, name: impl std::fmt::Display) -> PathBuf {
    folder.join(format!("{TEMP_PREFIX}{name}{TEMP_SUFFIX}"))
}

/// 16 lower-case hex digits from the OS's random source. Uniqueness is enforced by the
/// exclusive create; randomness only keeps concurrent writers from colliding.
fn random_suffix() -> String {
    let mut seed = [0u8; 8];
    if getrandom::fill(&mut seed).is_err() {
        // No OS randomness: fall back to time and pid; the exclusive create still
        // guarantees that no other writer's file is ever opened.
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        seed = (nanos ^ (u64::from(std::process::id()) << 32)).to_le_bytes();
    }
    seed.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Removes the temp file when dropped, unless disarmed after the rename.
struct TempFile(Option<PathBuf>);

impl TempFile {
    fn path(&self) -> &Path {
        self.0.as_deref().expect("armed")
    }

    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            // The caller gets the error that made us give up, not this one.
            let _ = fs::remove_file(path);
        }
    }
}

fn sync_folder(folder: &Path) -> io::Result<()> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(folder)?
        .sync_all()
}
