//! Where the marker lives: the explicit home, `HERMES_HOME`, `~/.hermes`.
//!
//! The environment is process-wide and tests run in threads: every test here that
//! reads or changes it holds [`ENV`] and restores what it changed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use drain_control::home::{HOME_ENV, resolve_home_with};
use drain_control::{MARKER_FILE_NAME, Reading, clear, marker_path, read, resolve_home, write};

static ENV: Mutex<()> = Mutex::new(());

/// Holds the environment lock and puts `HERMES_HOME` and `HOME` back when dropped.
struct EnvGuard {
    saved: Vec<(&'static str, Option<OsString>)>,
    _lock: MutexGuard<'static, ()>,
}

impl EnvGuard {
    fn new() -> Self {
        let lock = ENV.lock().unwrap_or_else(|poison| poison.into_inner());
        let saved = ["HERMES_HOME", "HOME"]
            .into_iter()
            .map(|name| (name, std::env::var_os(name)))
            .collect();
        EnvGuard { saved, _lock: lock }
    }

    fn set(&self, name: &str, value: impl AsRef<std::ffi::OsStr>) {
        // SAFETY: every test of this binary that touches the environment holds `ENV`,
        // and no other thread of this binary reads it meanwhile.
        unsafe { std::env::set_var(name, value) }
    }

    fn unset(&self, name: &str) {
        // SAFETY: as in `set`.
        unsafe { std::env::remove_var(name) }
    }
}

impl Drop for EnvGuard {
    fn drop(&mut self) {
        for (name, value) in &self.saved {
            match value {
                Some(value) => self.set(name, value),
                None => self.unset(name),
            }
        }
    }
}

#[test]
fn hermes_home_names_the_home() {
    let env = EnvGuard::new();
    env.set(HOME_ENV, "/srv/hermes");
    assert_eq!(resolve_home(None), Path::new("/srv/hermes"));
    assert_eq!(
        marker_path(None),
        Path::new("/srv/hermes/.drain_request.json")
    );
}

#[test]
fn hermes_home_is_stripped_of_surrounding_whitespace_only() {
    let env = EnvGuard::new();
    env.set(HOME_ENV, " \t/srv/my hermes \n\u{a0}");
    assert_eq!(resolve_home(None), Path::new("/srv/my hermes"));
    // Python's str.strip() also strips the ASCII information separators.
    env.set(HOME_ENV, "\u{1c}/srv/h\u{1f}\u{3000}");
    assert_eq!(resolve_home(None), Path::new("/srv/h"));
}

#[test]
fn hermes_home_is_used_as_is_otherwise() {
    let env = EnvGuard::new();
    for value in [
        "~/hermes",
        "relative/home",
        "/srv/../srv/./h/",
        "/tmp/$USER",
    ] {
        env.set(HOME_ENV, value);
        assert_eq!(
            resolve_home(None),
            Path::new(value),
            "no expansion of {value:?}"
        );
    }
}

#[test]
fn empty_or_whitespace_only_hermes_home_falls_back_to_dot_hermes_in_home() {
    let env = EnvGuard::new();
    env.set("HOME", "/home/operator");
    for value in ["", " ", "\t\n \r", "\u{3000}"] {
        env.set(HOME_ENV, value);
        assert_eq!(
            resolve_home(None),
            Path::new("/home/operator/.hermes"),
            "{value:?}"
        );
    }
    env.unset(HOME_ENV);
    assert_eq!(
        resolve_home(None),
        Path::new("/home/operator/.hermes"),
        "unset"
    );
    assert_eq!(
        marker_path(None),
        Path::new("/home/operator/.hermes").join(MARKER_FILE_NAME)
    );
}

/// `Path.home()` in CPython 3.11 is `os.path.expanduser("~")`: `HOME` with trailing
/// slashes removed, and `/` when nothing is left.
#[test]
fn home_fallback_follows_python_path_home() {
    let env = EnvGuard::new();
    env.unset(HOME_ENV);
    for (home, expected) in [
        ("/home/op/", "/home/op/.hermes"),
        ("/", "/.hermes"),
        ("", "/.hermes"),
        ("relative", "relative/.hermes"),
    ] {
        env.set("HOME", home);
        assert_eq!(resolve_home(None), Path::new(expected), "HOME={home:?}");
    }
}

#[test]
fn an_explicit_home_wins_over_the_environment() {
    let env = EnvGuard::new();
    env.set(HOME_ENV, "/srv/env");
    assert_eq!(
        resolve_home(Some(Path::new("/srv/explicit"))),
        Path::new("/srv/explicit")
    );
    // Even an explicit home that is empty or blank is taken as given.
    assert_eq!(resolve_home(Some(Path::new(" x "))), Path::new(" x "));
    assert_eq!(
        marker_path(Some(Path::new("h"))),
        Path::new("h/.drain_request.json")
    );
}

#[test]
fn resolve_home_with_takes_the_callers_hermes_home() {
    let env = EnvGuard::new();
    env.set(HOME_ENV, "/srv/process-env");
    env.set("HOME", "/home/op");
    let given = |value: Option<&str>| resolve_home_with(None, value.map(OsString::from).as_deref());
    assert_eq!(given(Some(" /srv/host ")), Path::new("/srv/host"));
    assert_eq!(given(Some("  ")), Path::new("/home/op/.hermes"));
    assert_eq!(
        given(None),
        Path::new("/home/op/.hermes"),
        "the caller says unset"
    );
}

#[test]
fn the_default_path_is_resolved_at_every_call() {
    let env = EnvGuard::new();
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();

    env.set(HOME_ENV, first.path());
    let payload = write(None, "env-one", false).unwrap();
    assert_eq!(read(None), Reading::Body(payload.to_body()));
    assert!(first.path().join(MARKER_FILE_NAME).exists());

    env.set(HOME_ENV, format!("  {}\n", second.path().display()));
    assert_eq!(
        read(None),
        Reading::Absent,
        "the next call follows the variable"
    );
    assert!(!clear(None).unwrap());
    write(None, "env-two", false).unwrap();
    assert!(second.path().join(MARKER_FILE_NAME).exists());

    env.set(HOME_ENV, first.path());
    assert!(clear(None).unwrap());
    assert!(!first.path().join(MARKER_FILE_NAME).exists());
    assert!(second.path().join(MARKER_FILE_NAME).exists());
    let marker: PathBuf = marker_path(None);
    assert_eq!(marker, first.path().join(MARKER_FILE_NAME));
}
