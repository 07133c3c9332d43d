//! Clearing: a missing marker, a folder or a link at the marker path, a home that is
//! a file.

use super::*;

#[test]
fn clearing_a_missing_marker_is_ok_false() {
    let (_dir, home) = fresh();
    assert!(!clear(Some(&home)).unwrap(), "home missing too");
    assert!(!home.exists(), "clear creates nothing");
    let home = existing_home();
    assert!(!clear(Some(home.path())).unwrap());
}

#[test]
fn clearing_a_folder_at_the_marker_path_is_an_error() {
    let home = existing_home();
    let marker = marker_in(home.path());
    fs::create_dir(&marker).unwrap();
    let error = clear(Some(home.path())).unwrap_err();
    assert_eq!(error.step(), Step::Remove);
    assert_eq!(error.path(), marker);
    assert_eq!(error.raw_os_error(), Some(libc::EISDIR), "{error}");
    assert!(
        error.to_string().contains(&format!("{marker:?}")),
        "{error}"
    );
    assert!(marker.is_dir(), "left as it was");
}

#[test]
fn clearing_a_symlinked_marker_removes_the_link_not_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.json");
    fs::write(&target, "{}").unwrap();
    let home = dir.path().join("home");
    fs::create_dir(&home).unwrap();
    symlink(&target, marker_in(&home)).unwrap();
    assert!(clear(Some(&home)).unwrap());
    assert!(fs::symlink_metadata(marker_in(&home)).is_err());
    assert!(target.exists());
}

#[test]
fn clearing_where_the_home_is_a_regular_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    fs::write(&home, "file").unwrap();
    let error = clear(Some(&home)).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::ENOTDIR));
    assert_eq!(error.path(), marker_in(&home));
    assert_eq!(
        read(Some(&home)),
        Reading::Absent,
        "reading it is absent (with a warning)"
    );
}
