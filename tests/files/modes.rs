//! What a write keeps of the marker it replaces: its mode, special bits and owner.

use super::*;

fn mode_of(path: &Path) -> u32 {
    fs::metadata(path).unwrap().mode() & 0o7777
}

#[test]
fn an_existing_markers_mode_is_kept() {
    for mode in [0o600, 0o640, 0o604, 0o444, 0o666, 0o755] {
        let home = existing_home();
        let marker = marker_in(home.path());
        fs::write(&marker, "{}").unwrap();
        fs::set_permissions(&marker, fs::Permissions::from_mode(mode)).unwrap();
        let payload = write(Some(home.path()), "x", false).unwrap();
        assert_eq!(fs::read(&marker).unwrap(), payload.to_bytes());
        assert_eq!(mode_of(&marker), mode, "mode {mode:o} kept");
    }
}

#[test]
fn a_symlinked_markers_target_keeps_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.json");
    fs::write(&target, "{}").unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
    let home = dir.path().join("home");
    fs::create_dir_all(&home).unwrap();
    symlink(&target, marker_in(&home)).unwrap();
    write(Some(&home), "x", false).unwrap();
    assert_eq!(mode_of(&target), 0o640);
}

#[test]
fn an_existing_markers_owner_is_kept_where_the_writer_may_chown() {
    // Only meaningful as root (the only writer that may give a file away); as any
    // other user the marker already belongs to the writer.
    let home = existing_home();
    let marker = marker_in(home.path());
    fs::write(&marker, "{}").unwrap();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let (uid, gid) = if root {
        (4242, 4343)
    } else {
        (
            fs::metadata(&marker).unwrap().uid(),
            fs::metadata(&marker).unwrap().gid(),
        )
    };
    if root {
        std::os::unix::fs::chown(&marker, Some(uid), Some(gid)).unwrap();
    }
    write(Some(home.path()), "x", false).unwrap();
    let meta = fs::metadata(&marker).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (uid, gid));
}

#[test]
fn an_existing_markers_special_mode_bits_are_kept_too() {
    // chown clears set-user-ID and set-group-ID bits, so the owner must be given back
    // before the mode, not after.
    for mode in [0o4755, 0o2755, 0o6750, 0o1644] {
        let home = existing_home();
        let marker = marker_in(home.path());
        fs::write(&marker, "{}").unwrap();
        fs::set_permissions(&marker, fs::Permissions::from_mode(mode)).unwrap();
        write(Some(home.path()), "x", false).unwrap();
        assert_eq!(mode_of(&marker), mode, "mode {mode:o} kept");
    }
}
