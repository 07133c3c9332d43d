//! Where the marker lives: the home folder and the marker path.
//!
//! Resolved at every call and never cached, because hosts and their tests change
//! `HERMES_HOME` at run time and expect the next call to follow.

use std::ffi::{CStr, OsStr, OsString};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::contract::MARKER_FILE_NAME;

/// The environment variable that names the home folder.
pub const HOME_ENV: &str = "HERMES_HOME";

/// The home folder: `explicit` when given, else `HERMES_HOME` with surrounding
/// whitespace stripped (when that leaves anything), else `~/.hermes`.
///
/// The variable's value is used as it is otherwise: no `~` expansion, no `realpath`,
/// exactly like the original's `get_hermes_home()`.
pub fn resolve_home(explicit: Option<&Path>) -> PathBuf {
    // The variable is only read when no home is given: an explicit home ignores it,
    // and reading it costs an environment lock, a scan of the environment and an
    // allocation on every poll.
    let hermes_home = match explicit {
        Some(_) => None,
        None => std::env::var_os(HOME_ENV),
    };
    resolve_home_with(explicit, hermes_home.as_deref())
}

/// [`resolve_home`] with the value of `HERMES_HOME` given by the caller (`None` when
/// unset), for a binding whose host owns the environment (Python's `os.environ`).
pub fn resolve_home_with(explicit: Option<&Path>, hermes_home: Option<&OsStr>) -> PathBuf {
    if let Some(home) = explicit {
        return with_room_for_marker(home.as_os_str().as_bytes());
    }
    if let Some(value) = hermes_home {
        let stripped = strip_python_whitespace(value.as_bytes());
        if !stripped.is_empty() {
            return with_room_for_marker(stripped);
        }
    }
    python_home_dir().join(".hermes")
}

/// `~` as CPython 3.11's `Path.home()` expands it (`os.path.expanduser("~")`): `HOME`
/// when set, *even to an empty string*, else the password database; then trailing
/// slashes are removed, and `/` is what remains of nothing. So an empty `HOME` means
/// `/`, where `std::env::home_dir` would skip it for the password database.
fn python_home_dir() -> PathBuf {
    let home = match std::env::var_os("HOME") {
        Some(home) => home,
        // Python raises when even the password database has no answer; an empty
        // (relative) home is the nearest thing that does not fail a poll.
        None => match std::env::home_dir() {
            Some(home) => home.into_os_string(),
            None => return PathBuf::new(),
        },
    };
    let bytes = home.as_bytes();
    let end = bytes
        .iter()
        .rposition(|&byte| byte != b'/')
        .map_or(0, |last| last + 1);
    if end == 0 {
        return PathBuf::from("/");
    }
    PathBuf::from(OsStr::from_bytes(&bytes[..end]))
}

/// The marker path for `home` (see [`resolve_home`]).
pub fn marker_path(home: Option<&Path>) -> PathBuf {
    let mut path = resolve_home(home);
    path.push(MARKER_FILE_NAME);
    path
}

/// Calls `f` with the marker path of `home` as [`marker_path`] makes it, as a C string
/// built without the heap (see [`crate::fsio::with_c_path`]).
pub(crate) fn with_marker_c_path<T>(home: &Path, f: impl FnOnce(&CStr) -> T) -> io::Result<T> {
    let home = home.as_os_str().as_bytes();
    // `PathBuf::push`: a separator unless the home is empty or already ends in one.
    let separator: &[u8] = match home.last() {
        None | Some(b'/') => b"",
        Some(_) => b"/",
    };
    crate::fsio::with_c_path(&[home, separator, MARKER_FILE_NAME.as_bytes()], f)
}

/// A path holding `bytes`, allocated once with room for the marker's name: the path is
/// built on every poll, and growing it would cost a second allocation and a copy.
fn with_room_for_marker(bytes: &[u8]) -> PathBuf {
    let mut buffer = Vec::with_capacity(bytes.len() + 1 + MARKER_FILE_NAME.len());
    buffer.extend_from_slice(bytes);
    PathBuf::from(OsString::from_vec(buffer))
}

/// Whether Python's `str.isspace()` holds for `c`.
///
/// Python counts the four ASCII information separators (U+001C to U+001F) as
/// whitespace; Unicode's White_Space property, which Rust follows, does not.
pub(crate) fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `bytes` without leading and trailing whitespace as Python's `str.strip()` sees it
/// after decoding with `surrogateescape`: bytes that are not UTF-8 are never whitespace
/// and stop the stripping.
pub(crate) fn strip_python_whitespace(bytes: &[u8]) -> &[u8] {
    let mut start = 0;
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let rest = valid.trim_start_matches(is_python_space);
        start += valid.len() - rest.len();
        if !rest.is_empty() || !chunk.invalid().is_empty() {
            break;
        }
    }
    let mut end = bytes.len();
    let chunks: Vec<_> = bytes[start..].utf8_chunks().collect();
    for chunk in chunks.iter().rev() {
        if !chunk.invalid().is_empty() {
            break;
        }
        let valid = chunk.valid();
        let rest = valid.trim_end_matches(is_python_space);
        end -= valid.len() - rest.len();
        if !rest.is_empty() {
            break;
        }
    }
    &bytes[start..end.max(start)]
}

/// A path from the bytes a C or Go caller hands over; Unix paths need not be UTF-8.
pub fn path_from_bytes(bytes: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_matches_python_str_strip() {
        assert_eq!(strip_python_whitespace(b"  /srv/h \t\n"), b"/srv/h");
        assert_eq!(
            strip_python_whitespace("\u{a0}\u{1f}/h\u{3000}".as_bytes()),
            b"/h"
        );
        assert_eq!(strip_python_whitespace(b" \xff /h \xfe "), b"\xff /h \xfe");
        assert_eq!(strip_python_whitespace(b" \n "), b"");
        assert_eq!(strip_python_whitespace(b""), b"");
        // U+200B (zero width space) is not whitespace in Python either.
        assert_eq!(
            strip_python_whitespace("\u{200b}/h".as_bytes()),
            "\u{200b}/h".as_bytes()
        );
    }

    #[test]
    fn the_marker_path_on_the_stack_is_the_marker_path() {
        let long = format!("/{}", "a".repeat(600));
        for home in [
            "/srv/h",
            "/srv/h/",
            "h",
            "",
            "/",
            "/srv//h//",
            long.as_str(),
        ] {
            let home = Path::new(home);
            let built = with_marker_c_path(home, |path| path.to_bytes().to_vec()).unwrap();
            assert_eq!(
                built,
                marker_path(Some(home)).as_os_str().as_bytes(),
                "{home:?}"
            );
        }
    }

    #[test]
    fn a_home_holding_a_nul_names_no_marker() {
        let error = with_marker_c_path(Path::new("/srv/\0h"), |_| ()).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }
}
