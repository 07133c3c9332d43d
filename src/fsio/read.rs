//! The bounded, non-blocking read of a marker.

use std::ffi::CStr;
use std::fs::File;
use std::io::{self, Read as _};
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;

use crate::contract::MAX_MARKER_BYTES;

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

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
