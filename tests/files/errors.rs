//! Failed writes: what fails, at which step, naming which path, and what is left.

use super::*;

#[test]
fn writing_where_the_home_is_a_regular_file_fails_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    fs::write(&home, "I am a file").unwrap();
    let error = write(Some(&home), "x", false).unwrap_err();
    assert_eq!(error.path(), home);
    assert_eq!(error.step(), Step::CreateHome);
    assert_eq!(error.raw_os_error(), Some(libc::EEXIST));
    assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
    let message = error.to_string();
    assert!(message.contains(&format!("{:?}", home)), "{message}");
    assert!(message.contains("home folder"), "{message}");
    assert!(message.contains("os error 17"), "{message}");
    // The OS error is said once, in the message: a chain printer must not repeat it.
    assert!(std::error::Error::source(&error).is_none());
    assert_eq!(
        fs::read_to_string(&home).unwrap(),
        "I am a file",
        "untouched"
    );
    assert_eq!(listing(dir.path()), ["home"], "nothing left behind");

    // A home below a regular file: ENOTDIR, naming the home.
    let below = home.join("sub");
    let error = write(Some(&below), "x", false).unwrap_err();
    assert_eq!(error.path(), below);
    assert_eq!(error.raw_os_error(), Some(libc::ENOTDIR));
    assert_eq!(listing(dir.path()), ["home"]);
}

#[test]
fn a_failed_rename_leaves_no_temp_file_and_the_old_marker_intact() {
    // A non-empty folder at the marker path: everything succeeds up to the rename.
    let home = existing_home();
    let marker = marker_in(home.path());
    fs::create_dir(&marker).unwrap();
    fs::write(marker.join("keep"), "x").unwrap();
    let error = write(Some(home.path()), "x", false).unwrap_err();
    assert_eq!(error.step(), Step::Rename);
    assert_eq!(error.path(), marker);
    assert_eq!(error.raw_os_error(), Some(libc::EISDIR), "{error}");
    assert!(
        temp_files(home.path()).is_empty(),
        "{:?}",
        listing(home.path())
    );
    assert_eq!(listing(&marker), ["keep"]);
}

#[test]
fn a_link_into_a_missing_folder_fails_with_enoent_and_leaves_nothing() {
    let home = existing_home();
    let marker = marker_in(home.path());
    let target = home.path().join("missing").join("m.json");
    symlink(&target, &marker).unwrap();
    let error = write(Some(home.path()), "x", false).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::ENOENT), "{error}");
    assert_eq!(error.path(), target, "the path the failing rename acted on");
    assert_eq!(listing(home.path()), [MARKER_FILE_NAME]);
    assert_eq!(fs::read_link(&marker).unwrap(), target);
}

#[test]
fn a_link_to_another_file_system_fails_with_exdev_without_copying() {
    let home = existing_home();
    let Ok(shm) = tempfile::tempdir_in("/dev/shm") else {
        println!("SKIPPED: no /dev/shm to stand for another file system");
        return;
    };
    let device = |path: &Path| fs::metadata(path).unwrap().dev();
    if device(shm.path()) == device(home.path()) {
        println!("SKIPPED: /dev/shm and the temp folder are one file system here");
        return;
    }
    let target = shm.path().join("m.json");
    fs::write(&target, "old").unwrap();
    symlink(&target, marker_in(home.path())).unwrap();
    let error = write(Some(home.path()), "x", false).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::EXDEV), "{error}");
    assert_eq!(error.step(), Step::Rename);
    assert_eq!(
        fs::read_to_string(&target).unwrap(),
        "old",
        "no copy fallback"
    );
    assert_eq!(listing(home.path()), [MARKER_FILE_NAME]);
}

#[test]
fn a_failed_write_names_the_marker_and_the_step_and_the_path_it_acted_on() {
    // /proc/self exists and refuses new files, to root too.
    let home = Path::new("/proc/self");
    let error = write(Some(home), "x", false).unwrap_err();
    assert_eq!(error.step(), Step::CreateTemp);
    assert_eq!(error.marker(), marker_in(home));
    assert_ne!(
        error.path(),
        error.marker(),
        "the temp file it failed to create"
    );
    assert!(error.raw_os_error().is_some());
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("drain marker {:?}", marker_in(home))),
        "{message}"
    );
    assert!(message.contains("creating a temporary file"), "{message}");
    let kind = error.kind();
    let as_io = io::Error::from(error);
    assert_eq!(as_io.kind(), kind);
    assert!(as_io.to_string().contains("creating a temporary file"));
}
