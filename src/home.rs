//! Where the marker lives: the home folder and the marker path.
//!
//! Resolved at every call and never cached, because hosts and their tests change
//! `HERMES_HOME` at run time and expect the next call to follow.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// The marker's file name inside the home folder.
pub const MARKER_FILE_NAME: &str = ".drain_request.json";

/// The environment variable that names the home folder.
pub const HOME_ENV: &str = "HERMES_HOME";

/// The home folder: `explicit` when given, else `HERMES_HOME` with surrounding
/// whitespace stripped (when that leaves anything), else `~/.hermes`.
///
/// The variable's value is used as it is otherwise: no `~` expansion, no `realpath`,
/// exactly like the original's `get_hermes_home()`.
pub fn resolve_home(explicit: Option<&Path>) -> PathBuf {
    if let Some(home) = explicit {
        return home.to_path_buf();
    }
    if let Some(value) = std::env::var_os(HOME_ENV) {
        let stripped = strip_python_whitespace(value.as_bytes());
        if !stripped.is_empty() {
            return PathBuf::from(OsString::from_vec(stripped.to_vec()));
        }
    }
    // `home_dir` reads HOME (even when empty) and falls back to the password database,
    // which is what Python's `Path.home()` does too.
    std::env::home_dir().unwrap_or_default().join(".hermes")
}

/// The marker path for `home` (see [`resolve_home`]).
pub fn marker_path(home: Option<&Path>) -> PathBuf {
    resolve_home(home).join(MARKER_FILE_NAME)
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
        assert_eq!(strip_python_whitespace("\u{a0}\u{1f}/h\u{3000}".as_bytes()), b"/h");
        assert_eq!(strip_python_whitespace(b" \xff /h \xfe "), b"\xff /h \xfe");
        assert_eq!(strip_python_whitespace(b" \n "), b"");
        assert_eq!(strip_python_whitespace(b""), b"");
        // U+200B (zero width space) is not whitespace in Python either.
        assert_eq!(strip_python_whitespace("\u{200b}/h".as_bytes()), "\u{200b}/h".as_bytes());
    }
}
