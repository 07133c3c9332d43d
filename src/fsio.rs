//! The marker on disk: a bounded, non-blocking read; an atomic, crash-safe write; a
//! durable removal. Nothing here knows what the bytes mean.

use std::collections::HashMap;
use std::ffi::CStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use crate::contract::MAX_MARKER_BYTES;
use crate::error::{Error, Step};

/// Temp files of a write are `..drain_request_<slot>.tmp` beside the marker, `<slot>`
/// one of [`TEMP_SLOTS`] small numbers (`..drain_request_<random>.tmp` only when all
/// of them are taken).
pub const TEMP_PREFIX: &str = "..drain_request_";
/// See [`TEMP_PREFIX`].
pub const TEMP_SUFFIX: &str = ".tmp";

/// How many fixed temp names a write tries before a random one. A few is plenty:
/// a slot is only taken while a write is under way, or for a minute after a writer was
/// killed mid-write.
pub const TEMP_SLOTS: usize = 8;

/// A leftover temp file older than this was left by a killed writer; a younger one
/// may belong to a writer that is still at work.
pub const TEMP_MAX_AGE: Duration = Duration::from_secs(60);

/// What is at the marker path, before anyone looks at the bytes.
#[derive(Debug)]
pub enum RawMarker {
    /// Nothing (`ENOENT`).
    Absent,
    /// Something that cannot be read as a marker: not a regular file, or the open or
    /// read failed. Reads as absent, with a warning.
    Unreadable(io::Error),
    /// A regular file over [`MAX_MARKER_BYTES`]: contentless, and left unread.
    TooLarge,
    /// The bytes of a regular file.
    Bytes(Vec<u8>),
}

/// Reads the marker at `path`, never blocking and never holding more than 1 MiB.
///
/// The open is non-blocking and the file type is checked on the open descriptor
/// before any read, so a FIFO cannot hang the caller and a link to `/dev/zero` cannot
/// fill its memory. A regular file costs exactly open, fstat, one read and close.
pub fn read_marker(path: &Path) -> RawMarker {
    let opened = with_c_path(&[path.as_os_str().as_bytes()], open_marker)
        .unwrap_or_else(|error| Err(RawMarker::Unreadable(error)));
    let (file, size) = match opened {
        Ok(opened) => opened,
        Err(outcome) => return outcome,
    };
    match read_bounded(file, size) {
        Ok(Some(bytes)) => RawMarker::Bytes(bytes),
        Ok(None) => RawMarker::TooLarge,
        Err(error) => RawMarker::Unreadable(error),
    }
}

/// Calls `f` with `parts` joined into one NUL-terminated path, in a buffer on the stack
/// when it fits: a poll opens the marker on every call, and a heap path would cost an
/// allocation, a free and a copy into a C string each time. A path holding a NUL byte
/// names no file: `InvalidInput`, as std's `open` says of it.
pub(crate) fn with_c_path<T>(parts: &[&[u8]], f: impl FnOnce(&CStr) -> T) -> io::Result<T> {
    const STACK_PATH_BYTES: usize = 512;
    let len = parts.iter().map(|part| part.len()).sum::<usize>() + 1;
    let mut stack = [0u8; STACK_PATH_BYTES];
    let mut heap = Vec::new();
    let buffer = if len <= STACK_PATH_BYTES {
        &mut stack[..len]
    } else {
        heap.resize(len, 0);
        &mut heap[..]
    };
    let mut at = 0;
    for part in parts {
        buffer[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    let path = CStr::from_bytes_with_nul(buffer)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))?;
    Ok(f(path))
}

/// A marker this small is read into a buffer on the stack by [`read_marker_with`].
const STACK_MARKER_BYTES: usize = 4096;

/// [`read_marker`] for a caller that only looks at the bytes, as a poll does: it gets
/// `use_bytes(Some(bytes))` for a regular file, `use_bytes(None)` for one over 1 MiB,
/// and `Err` with the [`RawMarker`] for the outcomes that have no bytes (absent,
/// unreadable).
///
/// The same system calls and the same outcomes as [`read_marker`]; only the buffer
/// differs. A marker (a writer makes about 200 bytes) whose stat size is under 4 KiB
/// is read with one `pread` into an uninitialised buffer on the stack, which saves a
/// zeroed heap allocation and its free on every poll. If that read fills the buffer
/// (the file grew since the fstat), nothing was consumed from the file position, and
/// [`read_bounded`] reads the file from the start as [`read_marker`] would.
pub(crate) fn read_marker_with<T>(
    path: &CStr,
    use_bytes: impl FnOnce(Option<&[u8]>) -> T,
) -> Result<T, RawMarker> {
    match open_marker(path) {
        Ok((file, size)) => read_with(file, size, use_bytes),
        Err(RawMarker::TooLarge) => Ok(use_bytes(None)),
        Err(outcome) => Err(outcome),
    }
}

/// The reading half of [`read_marker_with`], for an open regular file whose stat size
/// is `size`.
fn read_with<T>(
    file: File,
    size: usize,
    use_bytes: impl FnOnce(Option<&[u8]>) -> T,
) -> Result<T, RawMarker> {
    if size < STACK_MARKER_BYTES {
        let mut buffer = [std::mem::MaybeUninit::<u8>::uninit(); STACK_MARKER_BYTES];
        // As in `read_bounded`: one byte more than the stat size, so that a short read
        // proves the end of the file.
        let want = size + 1;
        let bytes = loop {
            match rustix::io::pread(&file, &mut buffer[..want], 0) {
                Ok((bytes, _)) => break bytes,
                Err(rustix::io::Errno::INTR) => {}
                Err(errno) => return Err(RawMarker::Unreadable(errno.into())),
            }
        };
        if bytes.len() < want {
            return Ok(use_bytes(Some(bytes)));
        }
    }
    match read_bounded(file, size) {
        Ok(Some(bytes)) => Ok(use_bytes(Some(&bytes))),
        Ok(None) => Ok(use_bytes(None)),
        Err(error) => Err(RawMarker::Unreadable(error)),
    }
}

/// Opens the marker non-blocking and checks it is a regular file of at most 1 MiB:
/// the open file and its stat size, or the outcome that needs no read (absent,
/// unreadable, too large).
///
/// Through rustix's direct system calls: a poll is little more than these calls, and
/// std's `File::open` adds a copy of the path into a C string and libc's wrappers.
fn open_marker(path: &CStr) -> Result<(File, usize), RawMarker> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd = match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Err(RawMarker::Absent),
        Err(errno) => return Err(RawMarker::Unreadable(errno.into())),
    };
    let stat = rustix::fs::fstat(&fd).map_err(|errno| RawMarker::Unreadable(errno.into()))?;
    if stat.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Err(RawMarker::Unreadable(io::Error::other(format!(
            "not a regular file ({})",
            describe_file_type(stat.st_mode)
        ))));
    }
    let size = usize::try_from(stat.st_size).unwrap_or(usize::MAX);
    if size > MAX_MARKER_BYTES {
        return Err(RawMarker::TooLarge);
    }
    Ok((File::from(fd), size))
}

/// Reads to the end, or gives `None` once more than [`MAX_MARKER_BYTES`] arrived (the
/// file grew while being read). One byte more than the stat size is asked for, so a
/// short read proves the end of a regular file without a second read call.
fn read_bounded(mut file: File, size: usize) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = vec![0u8; size + 1];
    let mut len = 0;
    loop {
        if len == bytes.len() {
            if len > MAX_MARKER_BYTES {
                return Ok(None);
            }
            // At least 4 KiB, but never past the cap. (`clamp` would panic here once
            // the room left under the cap is below 4 KiB: min must not exceed max.)
            let grow = len.max(4096).min(MAX_MARKER_BYTES + 1 - len);
            bytes.resize(len + grow, 0);
        }
        match file.read(&mut bytes[len..]) {
            Ok(0) => break,
            Ok(got) => {
                len += got;
                if len < bytes.len() {
                    break;
                }
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    bytes.truncate(len);
    Ok(Some(bytes))
}

fn describe_file_type(mode: libc::mode_t) -> &'static str {
    match mode & libc::S_IFMT {
        libc::S_IFDIR => "a folder",
        libc::S_IFIFO => "a FIFO",
        libc::S_IFSOCK => "a socket",
        libc::S_IFCHR => "a character device",
        libc::S_IFBLK => "a block device",
        _ => "an unknown file type",
    }
}

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
fn temp_path(folder: &Path, name: impl std::fmt::Display) -> PathBuf {
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

/// Removes killed writers' temp files from `folder`, at most once a minute per process
/// (a leftover only becomes eligible a minute after it was made, so sweeping more often
/// finds nothing new).
///
/// A home may hold thousands of other files, and listing it costs about a third of a
/// microsecond per entry: more than the write itself in a crowded home. So a write
/// always looks at the [`TEMP_SLOTS`] slot names, where every temp file of this
/// library lives unless all slots were taken, and lists the folder only when that is
/// cheap (a folder of at most [`LISTED_FOLDER_BYTES`], a few hundred entries) or when
/// a random name may have been left: this write found every slot taken (`slotted` is
/// false), or a slot held a killed writer's leftover (a crash may have come with
/// others). The original module's `mkstemp` names share the pattern; in a crowded home
/// they wait for such a write.
fn sweep_leftovers_now_and_then(folder: &Path, slotted: bool) {
    static LAST_SWEEP: Mutex<Option<HashMap<PathBuf, Instant>>> = Mutex::new(None);
    let now = Instant::now();
    {
        let mut guard = LAST_SWEEP
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let last = guard.get_or_insert_with(HashMap::new);
        if last.len() > 1024 {
            last.clear();
        }
        match last.get(folder) {
            Some(at) if slotted && now.duration_since(*at) < TEMP_MAX_AGE => return,
            _ => last.insert(folder.to_path_buf(), now),
        };
    }
    let now = SystemTime::now();
    let found_leftovers = sweep_slots(folder, now) > 0;
    let small = || fs::metadata(folder).is_ok_and(|meta| meta.size() <= LISTED_FOLDER_BYTES);
    if found_leftovers || !slotted || small() {
        sweep_leftovers(folder, now);
    }
}

/// The size of a folder (its `st_size`: about 4 KiB per hundred entries on ext4, 20
/// bytes an entry on tmpfs) up to which every sweep lists it. Only a matter of cost:
/// on a filesystem whose folders report another size, a sweep lists more or less
/// often, and removes nothing it should keep.
pub const LISTED_FOLDER_BYTES: u64 = 32 * 1024;

/// Removes the slot temp files in `folder` that are leftovers: regular files last
/// modified more than [`TEMP_MAX_AGE`] before `now`.
pub fn sweep_slots(folder: &Path, now: SystemTime) -> usize {
    (0..TEMP_SLOTS)
        .map(|slot| temp_path(folder, slot))
        .filter(|path| {
            fs::symlink_metadata(path).is_ok_and(|meta| is_leftover(&meta, now))
                && fs::remove_file(path).is_ok()
        })
        .count()
}

/// Lists `folder` and removes every temp file of this library's pattern, slot or
/// random, that is a leftover (as in [`sweep_slots`]). Failures are ignored: a sweep is
/// housekeeping.
pub fn sweep_leftovers(folder: &Path, now: SystemTime) -> usize {
    let Ok(entries) = fs::read_dir(folder) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if is_leftover(&meta, now) && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// A regular file last modified more than [`TEMP_MAX_AGE`] before `now`: a writer at
/// work keeps its temp file younger than that.
fn is_leftover(meta: &fs::Metadata, now: SystemTime) -> bool {
    meta.file_type().is_file()
        && meta
            .modified()
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age > TEMP_MAX_AGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of `len` bytes, opened for reading. `read_bounded` is then handed a
    /// smaller size, as if the file had grown between the fstat and the read.
    fn file_of(len: usize) -> File {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&vec![b' '; len]).unwrap();
        std::io::Seek::rewind(&mut file).unwrap();
        file
    }

    #[test]
    fn a_marker_growing_past_the_cap_during_the_read_is_too_large_not_a_panic() {
        // Less than 4 KiB of room under the cap when the buffer first fills up.
        let got = read_bounded(file_of(MAX_MARKER_BYTES + 10), MAX_MARKER_BYTES - 3000);
        assert!(matches!(got, Ok(None)), "{got:?}");
        let got = read_bounded(file_of(MAX_MARKER_BYTES + 1), 10);
        assert!(matches!(got, Ok(None)), "{got:?}");
    }

    #[test]
    fn a_marker_growing_during_the_read_but_staying_under_the_cap_is_read_whole() {
        for (stat_size, actual) in [
            (10, 10_000),
            (MAX_MARKER_BYTES - 3000, MAX_MARKER_BYTES),
            (0, MAX_MARKER_BYTES),
        ] {
            let bytes = read_bounded(file_of(actual), stat_size).unwrap().unwrap();
            assert_eq!(bytes.len(), actual, "stat size {stat_size}");
        }
    }

    /// What `read_with` hands over, owned (`None`: too large).
    fn read_with_owned(file: File, size: usize) -> Option<Vec<u8>> {
        read_with(file, size, |bytes| bytes.map(<[u8]>::to_vec)).unwrap()
    }

    #[test]
    fn the_stack_reading_gives_what_the_heap_reading_gives() {
        let sizes = [0, 1, 200, 4094, 4095, 4096, 4097, 10_000];
        for len in sizes
            .into_iter()
            .chain([MAX_MARKER_BYTES - 1, MAX_MARKER_BYTES])
        {
            let bytes = read_with_owned(file_of(len), len).expect("under the cap");
            assert_eq!(bytes.len(), len);
            assert_eq!(bytes, read_bounded(file_of(len), len).unwrap().unwrap());
        }
    }

    #[test]
    fn a_small_marker_growing_during_the_read_is_read_whole_or_too_large() {
        // The stat said small, the file is larger: the stack read fills up and the
        // heap reading takes over from the start of the file.
        for (stat_size, actual) in [(0, 1), (10, 4096), (10, 10_000), (4000, MAX_MARKER_BYTES)] {
            let bytes = read_with_owned(file_of(actual), stat_size).expect("under the cap");
            assert_eq!(bytes.len(), actual, "stat size {stat_size}");
        }
        assert_eq!(read_with_owned(file_of(MAX_MARKER_BYTES + 1), 10), None);
    }

    #[test]
    fn a_marker_of_exactly_the_cap_is_read_whole() {
        let size = MAX_MARKER_BYTES;
        assert_eq!(
            read_bounded(file_of(size), size).unwrap().unwrap().len(),
            size
        );
    }
}
