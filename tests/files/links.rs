//! A symbolic link at the marker path: the write goes through it to its target, as far
//! as the kernel follows links, and a loop fails.

use super::*;

/// Writes through the link at the marker path and checks that the link is still
/// there, unchanged, and that `target` holds the new marker.
fn assert_write_goes_through_link(home: &Path, target: &Path) {
    let marker = marker_in(home);
    let link_before = fs::read_link(&marker).unwrap();
    let payload = write(Some(home), "through-link", false).unwrap();
    let meta = fs::symlink_metadata(&marker).unwrap();
    assert!(meta.file_type().is_symlink(), "the marker is still a link");
    assert_eq!(
        fs::read_link(&marker).unwrap(),
        link_before,
        "pointing where it did"
    );
    assert_eq!(
        fs::read(target).unwrap(),
        payload.to_bytes(),
        "the target was replaced"
    );
    assert!(fs::symlink_metadata(target).unwrap().is_file());
    assert_eq!(read(Some(home)), Reading::Body(payload.to_body()));
    assert!(temp_files(home).is_empty());
}

#[test]
fn a_symlinked_marker_keeps_its_link_and_the_target_gets_the_content() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let real = dir.path().join("real");
    fs::create_dir_all(&home).unwrap();
    fs::create_dir_all(&real).unwrap();
    let target = real.join("marker.json");
    fs::write(&target, "old").unwrap();
    symlink(&target, marker_in(&home)).unwrap();
    assert_write_goes_through_link(&home, &target);
    // A second write (the keep-alive) goes through the link again.
    assert_write_goes_through_link(&home, &target);
}

#[test]
fn a_relative_symlinked_marker_is_resolved_from_the_links_folder() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    fs::create_dir_all(dir.path().join("real")).unwrap();
    fs::create_dir_all(&home).unwrap();
    let target = dir.path().join("real").join("m.json");
    fs::write(&target, "old").unwrap();
    symlink("../real/m.json", marker_in(&home)).unwrap();
    assert_write_goes_through_link(&home, &target);
}

#[test]
fn a_chain_of_two_links_is_followed_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let hop = dir.path().join("hop");
    let real = dir.path().join("real");
    for folder in [&home, &hop, &real] {
        fs::create_dir_all(folder).unwrap();
    }
    let target = real.join("m.json");
    fs::write(&target, "old").unwrap();
    // home/.drain_request.json -> ../hop/link (relative) -> <abs>/real/m.json.
    symlink(&target, hop.join("link")).unwrap();
    symlink("../hop/link", marker_in(&home)).unwrap();
    assert_write_goes_through_link(&home, &target);
    assert!(
        fs::symlink_metadata(hop.join("link"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // The relative hop is resolved from its own folder, not from the home.
    let hop_relative = dir.path().join("hop2");
    fs::create_dir_all(&hop_relative).unwrap();
    symlink("../real/m2.json", hop_relative.join("link")).unwrap();
    fs::remove_file(marker_in(&home)).unwrap();
    symlink(hop_relative.join("link"), marker_in(&home)).unwrap();
    fs::write(real.join("m2.json"), "old").unwrap();
    assert_write_goes_through_link(&home, &real.join("m2.json"));
}

#[test]
fn a_dangling_link_at_the_marker_path_creates_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    fs::create_dir_all(&home).unwrap();
    let target = dir.path().join("not-yet.json");
    symlink(&target, marker_in(&home)).unwrap();
    assert_write_goes_through_link(&home, &target);
}

#[test]
fn a_symlink_loop_fails_with_eloop_and_changes_nothing() {
    let home = existing_home();
    let marker = marker_in(home.path());
    let other = home.path().join("other");
    symlink(&other, &marker).unwrap();
    symlink(&marker, &other).unwrap();
    let error = write(Some(home.path()), "x", false).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::ELOOP), "{error}");
    assert_eq!(error.step(), Step::FollowLink);
    assert_eq!(error.path(), marker);
    assert_eq!(fs::read_link(&marker).unwrap(), other);
    assert_eq!(fs::read_link(&other).unwrap(), marker);
    assert_eq!(listing(home.path()), [MARKER_FILE_NAME, "other"]);
    // Reading a loop: absent, promptly.
    assert_eq!(read(Some(home.path())), Reading::Absent);

    let home = existing_home();
    let marker = marker_in(home.path());
    symlink(MARKER_FILE_NAME, &marker).unwrap();
    let error = write(Some(home.path()), "x", false).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::ELOOP), "a link to itself");
    assert_eq!(listing(home.path()), [MARKER_FILE_NAME]);
}

/// A chain of `links` symbolic links in `folder`, the first at the marker path and the
/// last pointing at `end`.
fn link_chain(folder: &Path, links: usize, end: &Path) {
    let mut target = end.to_path_buf();
    for index in (1..links).rev() {
        let link = folder.join(format!("link{index}"));
        symlink(&target, &link).unwrap();
        target = link;
    }
    symlink(&target, marker_in(folder)).unwrap();
}

#[test]
fn a_chain_of_40_links_is_followed_like_the_kernel_follows_it_and_41_is_eloop() {
    // Linux follows at most 40 links in one lookup: the reader's open() gets through
    // 40, so the writer must too, and both give up at 41.
    let home = existing_home();
    let end = home.path().join("end.json");
    fs::write(&end, "{}").unwrap();
    link_chain(home.path(), 40, &end);
    assert_eq!(
        read(Some(home.path())),
        Reading::Body(Default::default()),
        "open follows 40"
    );
    let payload = write(Some(home.path()), "x", false).unwrap();
    assert_eq!(fs::read(&end).unwrap(), payload.to_bytes());

    let home = existing_home();
    let end = home.path().join("end.json");
    fs::write(&end, "{}").unwrap();
    link_chain(home.path(), 41, &end);
    assert_eq!(
        read(Some(home.path())),
        Reading::Absent,
        "open gives up at 41"
    );
    let error = write(Some(home.path()), "x", false).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::ELOOP));
    assert_eq!(fs::read_to_string(&end).unwrap(), "{}");
    assert!(temp_files(home.path()).is_empty());
}
