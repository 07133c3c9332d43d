//! The sweep of temp files that killed writers left: slots, random names, crowded
//! homes, and the one-minute boundary.

use super::*;

/// Sets the modification time of `path` to `age` before now.
fn age_file(path: &Path, age: Duration) {
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
}

/// The temp file name with `name` between the pattern's prefix and suffix.
fn temp_named(home: &TempDir, name: impl std::fmt::Display) -> PathBuf {
    home.path()
        .join(format!("{TEMP_PREFIX}{name}{TEMP_SUFFIX}"))
}

#[test]
fn a_write_sweeps_slot_temp_files_older_than_a_minute_and_keeps_younger_ones() {
    let home = existing_home();
    let (old, young, fresh) = (
        temp_named(&home, 0),
        temp_named(&home, 1),
        temp_named(&home, 2),
    );
    let lookalike = home.path().join(format!("{TEMP_PREFIX}0.json"));
    let other = home.path().join("other.tmp");
    let old_folder = temp_named(&home, 3);
    for path in [&old, &young, &fresh, &lookalike, &other] {
        fs::write(path, "partial").unwrap();
    }
    fs::create_dir(&old_folder).unwrap();
    for path in [&old, &lookalike, &other] {
        age_file(path, Duration::from_secs(120));
    }
    age_file(&young, Duration::from_secs(50));
    let folder_time = SystemTime::now() - Duration::from_secs(120);
    fs::File::open(&old_folder)
        .unwrap()
        .set_modified(folder_time)
        .unwrap();

    write(Some(home.path()), "x", false).unwrap();
    assert!(
        !old.exists(),
        "a temp file two minutes old is a killed writer's: swept"
    );
    for kept in [&young, &fresh, &lookalike, &other, &old_folder] {
        assert!(kept.exists(), "{} must be kept", kept.display());
    }
    assert_eq!(
        temp_files(home.path()).len(),
        4, // young, fresh, the folder and the lookalike
        "the write left none of its own"
    );
}

/// A home of thousands of files, so that a sweep would rather not list it.
fn crowded_home() -> TempDir {
    let home = existing_home();
    for i in 0..3000 {
        fs::write(home.path().join(format!("session-{i:05}.json")), "{}").unwrap();
    }
    let size = fs::metadata(home.path()).unwrap().size();
    assert!(
        size > LISTED_FOLDER_BYTES,
        "a folder of {size} bytes is not crowded"
    );
    home
}

#[test]
fn in_a_small_home_a_write_sweeps_random_named_leftovers_too() {
    // The original module's mkstemp names share the pattern, and so does a write's
    // random name when every slot is taken.
    let home = existing_home();
    let (random, young_random) = (
        temp_named(&home, "0123456789abcdef"),
        temp_named(&home, "fedcba9876543210"),
    );
    for path in [&random, &young_random] {
        fs::write(path, "partial").unwrap();
    }
    age_file(&random, Duration::from_secs(120));

    write(Some(home.path()), "x", false).unwrap();
    assert!(!random.exists(), "swept");
    assert!(young_random.exists());
}

#[test]
fn in_a_crowded_home_a_write_lists_the_folder_only_after_finding_a_killed_writers_slot() {
    let quiet = crowded_home();
    let random = temp_named(&quiet, "0123456789abcdef");
    fs::write(&random, "partial").unwrap();
    age_file(&random, Duration::from_secs(120));
    write(Some(quiet.path()), "x", false).unwrap();
    assert!(
        random.exists(),
        "no sign of a killed writer: the folder is not listed"
    );

    let crashed = crowded_home();
    let (slot, random) = (
        temp_named(&crashed, 6),
        temp_named(&crashed, "0123456789abcdef"),
    );
    for path in [&slot, &random] {
        fs::write(path, "partial").unwrap();
        age_file(path, Duration::from_secs(120));
    }
    write(Some(crashed.path()), "x", false).unwrap();
    assert!(!slot.exists() && !random.exists(), "both swept");
}

#[test]
fn a_write_that_finds_every_slot_taken_uses_a_random_name_and_sweeps_the_folder() {
    let home = crowded_home();
    let slots: Vec<PathBuf> = (0..TEMP_SLOTS)
        .map(|slot| temp_named(&home, slot))
        .collect();
    for path in &slots {
        fs::write(path, "a writer at work").unwrap();
    }
    let random = temp_named(&home, "0123456789abcdef");
    fs::write(&random, "partial").unwrap();
    age_file(&random, Duration::from_secs(120));

    // Twice: the second write is within the minute of the first one's sweep.
    for payload in ["x", "y"] {
        let written = write(Some(home.path()), payload, false).unwrap();
        assert_eq!(read(Some(home.path())), Reading::Body(written.to_body()));
    }
    assert!(!random.exists(), "swept");
    let mut left = temp_files(home.path());
    left.sort();
    let mut expected: Vec<String> = (0..TEMP_SLOTS)
        .map(|slot| format!("{TEMP_PREFIX}{slot}{TEMP_SUFFIX}"))
        .collect();
    expected.sort();
    assert_eq!(
        left, expected,
        "the writers at work keep theirs, and the write left none"
    );
}

#[test]
fn slot_leftovers_are_swept_by_the_slot_sweep_at_the_same_boundary() {
    let home = existing_home();
    let path = temp_named(&home, TEMP_SLOTS - 1);
    fs::write(&path, "").unwrap();
    let made = fs::metadata(&path).unwrap().modified().unwrap();
    assert_eq!(
        sweep_slots(home.path(), made + TEMP_MAX_AGE),
        0,
        "exactly a minute"
    );
    let later = made + TEMP_MAX_AGE + Duration::from_nanos(1);
    assert_eq!(
        sweep_slots(home.path(), later),
        1,
        "a minute and a nanosecond"
    );
    assert!(!path.exists());
    assert_eq!(sweep_slots(&home.path().join("missing"), later), 0);
}

#[test]
fn the_sweep_boundary_is_more_than_one_minute_to_the_nanosecond() {
    assert_eq!(TEMP_MAX_AGE, Duration::from_secs(60));
    let home = existing_home();
    let path = home
        .path()
        .join(format!("{TEMP_PREFIX}boundary{TEMP_SUFFIX}"));
    fs::write(&path, "").unwrap();
    let made = fs::metadata(&path).unwrap().modified().unwrap();
    assert_eq!(
        sweep_leftovers(home.path(), made + TEMP_MAX_AGE),
        0,
        "exactly a minute"
    );
    assert!(path.exists());
    let later = made + TEMP_MAX_AGE + Duration::from_nanos(1);
    assert_eq!(
        sweep_leftovers(home.path(), later),
        1,
        "a minute and a nanosecond"
    );
    assert!(!path.exists());
    // A missing folder sweeps nothing and does not fail.
    assert_eq!(sweep_leftovers(&home.path().join("missing"), later), 0);
}
