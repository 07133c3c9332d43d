//! A new marker's mode is 0644 less the umask; an existing marker keeps its own.
//!
//! The umask is process-wide and tests run in threads, so this binary holds its one
//! umask-changing test apart from the file tests, and serialises on [`UMASK`] anyway
//! should another test ever join it.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::sync::Mutex;

use drain_control::{MARKER_FILE_NAME, write};

static UMASK: Mutex<()> = Mutex::new(());

/// Runs `body` with the process umask set to `mask`, restoring the old one after.
fn with_umask<T>(mask: libc::mode_t, body: impl FnOnce() -> T) -> T {
    let _lock = UMASK.lock().unwrap_or_else(|poison| poison.into_inner());
    // SAFETY: umask has no preconditions; the lock keeps this binary's tests apart.
    let old = unsafe { libc::umask(mask) };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
    // SAFETY: as above.
    unsafe { libc::umask(old) };
    result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn mode_of(path: &std::path::Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn a_new_markers_mode_is_0644_less_the_umask_and_an_existing_one_keeps_its_mode() {
    for mask in [0o022, 0o077, 0o027, 0o002, 0o000, 0o277, 0o777] {
        let home = tempfile::tempdir().unwrap();
        let marker = home.path().join(MARKER_FILE_NAME);
        with_umask(mask, || write(Some(home.path()), "x", false).unwrap());
        assert_eq!(mode_of(&marker), 0o644 & !mask, "umask {mask:03o}");

        // Re-writing under another umask keeps the mode the marker has now.
        fs::set_permissions(&marker, fs::Permissions::from_mode(0o640)).unwrap();
        with_umask(0o077 ^ mask, || {
            write(Some(home.path()), "x", false).unwrap()
        });
        assert_eq!(
            mode_of(&marker),
            0o640,
            "existing marker under umask {:03o}",
            0o077 ^ mask
        );
    }
}

#[test]
fn a_home_created_by_a_write_follows_the_umask_too() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("a").join("home");
    with_umask(0o027, || write(Some(&home), "x", false).unwrap());
    assert_eq!(mode_of(&home), 0o750);
    assert_eq!(mode_of(&dir.path().join("a")), 0o750);
    assert_eq!(mode_of(&home.join(MARKER_FILE_NAME)), 0o640);
}
