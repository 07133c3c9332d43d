//! The C ABI from Rust: the version it reports, and the checked-in header agreeing with
//! the Rust side on every status value, constant and function. (The header's exact text
//! is checked against the pinned cbindgen by `scripts/gen-header --check`, run by
//! `scripts/test-c`; these checks need no cbindgen.)

use std::ffi::CStr;

use drain_control::ffi::{self, DrainError, DrainState, DrainStatus, DrainStep};

const HEADER: &str = include_str!("../include/drain_control.h");
/// The C ABI's files in the order `src/ffi/mod.rs` declares them, the order in which
/// cbindgen reads them and so lays out the header.
const FFI_SOURCE: &str = concat!(
    include_str!("../src/ffi/mod.rs"),
    include_str!("../src/ffi/args.rs"),
    include_str!("../src/ffi/boundary.rs"),
    include_str!("../src/ffi/marker.rs"),
    include_str!("../src/ffi/step.rs"),
    include_str!("../src/ffi/error.rs"),
    include_str!("../src/ffi/read.rs"),
    include_str!("../src/ffi/status.rs"),
    include_str!("../src/ffi/version.rs"),
    include_str!("../src/ffi/watcher.rs"),
    include_str!("../src/ffi/change.rs"),
    include_str!("../src/ffi/holder.rs"),
    include_str!("../src/ffi/lease.rs"),
);
const CARGO_TOML: &str = include_str!("../Cargo.toml");

/// The C name of every status. Exhaustive, so a new status fails to compile here until
/// it is named (and then must be in the header).
fn c_name(status: DrainStatus) -> &'static str {
    match status {
        DrainStatus::Ok => "DRAIN_STATUS_OK",
        DrainStatus::NullArgument => "DRAIN_STATUS_NULL_ARGUMENT",
        DrainStatus::InvalidUtf8 => "DRAIN_STATUS_INVALID_UTF8",
        DrainStatus::BufferTooSmall => "DRAIN_STATUS_BUFFER_TOO_SMALL",
        DrainStatus::IoError => "DRAIN_STATUS_IO_ERROR",
        DrainStatus::Panic => "DRAIN_STATUS_PANIC",
        DrainStatus::InvalidArgument => "DRAIN_STATUS_INVALID_ARGUMENT",
        DrainStatus::TimedOut => "DRAIN_STATUS_TIMED_OUT",
        DrainStatus::Stopped => "DRAIN_STATUS_STOPPED",
        DrainStatus::InvalidPayload => "DRAIN_STATUS_INVALID_PAYLOAD",
        DrainStatus::Held => "DRAIN_STATUS_HELD",
        DrainStatus::Lost => "DRAIN_STATUS_LOST",
        DrainStatus::Busy => "DRAIN_STATUS_BUSY",
        DrainStatus::InvalidToken => "DRAIN_STATUS_INVALID_TOKEN",
    }
}

/// The ABI's status values, fixed forever: (status, its number).
const STATUSES: [(DrainStatus, u32); 14] = [
    (DrainStatus::Ok, 0),
    (DrainStatus::NullArgument, 1),
    (DrainStatus::InvalidUtf8, 2),
    (DrainStatus::BufferTooSmall, 3),
    (DrainStatus::IoError, 4),
    (DrainStatus::Panic, 5),
    (DrainStatus::InvalidArgument, 6),
    (DrainStatus::TimedOut, 7),
    (DrainStatus::Stopped, 8),
    (DrainStatus::InvalidPayload, 9),
    (DrainStatus::Held, 10),
    (DrainStatus::Lost, 11),
    (DrainStatus::Busy, 12),
    (DrainStatus::InvalidToken, 13),
];

/// The C name of every watcher state. Exhaustive, like [`c_name`].
fn state_c_name(state: DrainState) -> &'static str {
    match state {
        DrainState::Absent => "DRAIN_STATE_ABSENT",
        DrainState::Active => "DRAIN_STATE_ACTIVE",
        DrainState::Suppressed => "DRAIN_STATE_SUPPRESSED",
        DrainState::EpochStale => "DRAIN_STATE_EPOCH_STALE",
        DrainState::Expired => "DRAIN_STATE_EXPIRED",
    }
}

/// The watcher's state values, fixed forever: (state, its number, its stable name).
const STATES: [(DrainState, u32, &str); 5] = [
    (DrainState::Absent, 0, "absent"),
    (DrainState::Active, 1, "active"),
    (DrainState::Suppressed, 2, "suppressed"),
    (DrainState::EpochStale, 3, "epoch-stale"),
    (DrainState::Expired, 4, "expired"),
];

/// Asserts that the header declares the enumerator `name` with this value.
fn assert_header_declares(name: &str, value: u32) {
    let declaration = format!("  {name} = {value},\n");
    assert!(
        HEADER.contains(&declaration),
        "the header lacks `{}`",
        declaration.trim()
    );
}

fn cargo_toml_version() -> &'static str {
    let package = CARGO_TOML
        .split("[package]")
        .nth(1)
        .expect("a [package] table");
    let line = package
        .lines()
        .take_while(|line| !line.starts_with('['))
        .find_map(|line| line.strip_prefix("version = "))
        .expect("a package version");
    line.trim().trim_matches('"')
}

#[test]
fn drain_version_is_the_cargo_toml_version() {
    // SAFETY: drain_version takes no arguments and returns a static C string.
    let version = unsafe { CStr::from_ptr(ffi::drain_version()) };
    assert_eq!(version.to_str().unwrap(), cargo_toml_version());
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn status_values_never_change_and_the_header_has_each() {
    for (status, value) in STATUSES {
        assert_eq!(status as u32, value, "{status:?} was renumbered");
        assert_header_declares(c_name(status), value);
    }
    let declared = HEADER.matches("  DRAIN_STATUS_").count();
    assert_eq!(
        declared,
        STATUSES.len(),
        "the header declares statuses Rust does not know"
    );
    assert!(HEADER.contains("typedef uint32_t drain_status;"));
}

#[test]
fn every_status_value_has_a_message_and_others_are_unknown() {
    let message = |value: u32| {
        // SAFETY: any value is valid; the result is a static C string.
        unsafe { CStr::from_ptr(ffi::drain_status_message(value)) }
    };
    for (_, value) in STATUSES {
        assert_ne!(message(value), c"unknown status", "status {value}");
    }
    for value in [14, 100, u32::MAX] {
        assert_eq!(message(value), c"unknown status");
    }
}

#[test]
fn state_values_never_change_and_their_names_are_the_core_names() {
    for (state, value, name) in STATES {
        assert_eq!(state as u32, value, "{state:?} was renumbered");
        assert_header_declares(state_c_name(state), value);
        // SAFETY: any value is valid; the result is a static C string.
        let got = unsafe { CStr::from_ptr(ffi::drain_state_name(value)) };
        assert_eq!(got.to_str().unwrap(), name);
    }
    assert_eq!(HEADER.matches("  DRAIN_STATE_").count(), STATES.len());
    assert!(HEADER.contains("typedef uint32_t drain_state;"));
    assert!(HEADER.contains("typedef struct drain_watcher drain_watcher;"));
    // SAFETY: as above.
    let unknown = unsafe { CStr::from_ptr(ffi::drain_state_name(5)) };
    assert_eq!(unknown, c"unknown state");
}

/// The C name of every step. Exhaustive, like [`c_name`].
fn step_c_name(step: DrainStep) -> &'static str {
    match step {
        DrainStep::None => "DRAIN_STEP_NONE",
        DrainStep::CheckPayload => "DRAIN_STEP_CHECK_PAYLOAD",
        DrainStep::CreateHome => "DRAIN_STEP_CREATE_HOME",
        DrainStep::FollowLink => "DRAIN_STEP_FOLLOW_LINK",
        DrainStep::CreateTemp => "DRAIN_STEP_CREATE_TEMP",
        DrainStep::KeepMode => "DRAIN_STEP_KEEP_MODE",
        DrainStep::WriteTemp => "DRAIN_STEP_WRITE_TEMP",
        DrainStep::SyncTemp => "DRAIN_STEP_SYNC_TEMP",
        DrainStep::Rename => "DRAIN_STEP_RENAME",
        DrainStep::SyncFolder => "DRAIN_STEP_SYNC_FOLDER",
        DrainStep::Remove => "DRAIN_STEP_REMOVE",
        DrainStep::Lock => "DRAIN_STEP_LOCK",
    }
}

/// The steps of a failed write or clear, fixed forever: (step, its number, its name).
const STEPS: [(DrainStep, u32, &str); 12] = [
    (DrainStep::None, 0, "none"),
    (DrainStep::CheckPayload, 1, "check_payload"),
    (DrainStep::CreateHome, 2, "create_home"),
    (DrainStep::FollowLink, 3, "follow_link"),
    (DrainStep::CreateTemp, 4, "create_temp"),
    (DrainStep::KeepMode, 5, "keep_mode"),
    (DrainStep::WriteTemp, 6, "write_temp"),
    (DrainStep::SyncTemp, 7, "sync_temp"),
    (DrainStep::Rename, 8, "rename"),
    (DrainStep::SyncFolder, 9, "sync_folder"),
    (DrainStep::Remove, 10, "remove"),
    (DrainStep::Lock, 11, "lock"),
];

#[test]
fn step_values_never_change_and_their_names_are_the_core_names() {
    for (step, value, name) in STEPS {
        assert_eq!(step as u32, value, "{step:?} was renumbered");
        assert_header_declares(step_c_name(step), value);
        // SAFETY: any value is valid; the result is a static C string.
        let got = unsafe { CStr::from_ptr(ffi::drain_step_name(value)) };
        assert_eq!(got.to_str().unwrap(), name);
    }
    assert_eq!(HEADER.matches("  DRAIN_STEP_").count(), STEPS.len());
    assert!(HEADER.contains("typedef uint32_t drain_step;"));
    assert!(HEADER.contains("typedef struct drain_error {"));
    // SAFETY: as above.
    let unknown = unsafe { CStr::from_ptr(ffi::drain_step_name(12)) };
    assert_eq!(unknown, c"unknown step");
}

#[test]
fn write_ex_and_clear_ex_say_which_step_failed_on_which_path() {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;

    let text = |array: &[std::ffi::c_char]| {
        // SAFETY: the library NUL-terminates every text of a drain_error.
        unsafe { CStr::from_ptr(array.as_ptr()) }
            .to_bytes()
            .to_vec()
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let home = CString::new(file.as_os_str().as_bytes()).unwrap();
    let marker = file.join(".drain_request.json");
    let mut error = std::mem::MaybeUninit::<DrainError>::uninit();
    // SAFETY: valid arguments; the error is read only after a status that writes it.
    let error = unsafe {
        let status = ffi::drain_write_ex(
            home.as_ptr(),
            c"dashboard".as_ptr(),
            false,
            error.as_mut_ptr(),
        );
        assert_eq!(status, DrainStatus::IoError);
        error.assume_init()
    };
    assert_eq!(error.step, DrainStep::CreateHome);
    assert!(error.marker_untouched && error.os_error != 0);
    assert_eq!(text(&error.path), file.as_os_str().as_bytes());
    assert_eq!(text(&error.marker), marker.as_os_str().as_bytes());
    let message = String::from_utf8(text(&error.message)).unwrap();
    assert!(
        message.starts_with(&format!(
            "drain marker {marker:?}: creating the home folder"
        )),
        "{message}"
    );

    let mut error = std::mem::MaybeUninit::<DrainError>::uninit();
    let mut existed = true;
    // SAFETY: as above.
    let error = unsafe {
        let status = ffi::drain_clear_ex(home.as_ptr(), &mut existed, error.as_mut_ptr());
        assert_eq!(status, DrainStatus::IoError);
        error.assume_init()
    };
    assert!(existed, "not written on failure");
    assert_eq!(
        (error.step, error.os_error),
        (DrainStep::Remove, libc::ENOTDIR)
    );
    assert_eq!(text(&error.path), marker.as_os_str().as_bytes());
}

#[test]
fn header_constants_are_the_core_constants() {
    let define = |name: &str| {
        let prefix = format!("#define {name} ");
        let line = HEADER
            .lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()));
        line.unwrap_or_else(|| panic!("the header lacks {name}"))
            .trim()
            .to_owned()
    };
    let seconds: f64 = define("DRAIN_MAX_AGE_SECONDS").parse().unwrap();
    let micros: i64 = define("DRAIN_MAX_AGE_MICROS").parse().unwrap();
    assert_eq!(seconds, drain_control::MAX_AGE_SECONDS);
    assert_eq!(micros, drain_control::MAX_AGE_MICROS);
    assert_eq!(ffi::DRAIN_MAX_AGE_SECONDS, drain_control::MAX_AGE_SECONDS);
    assert_eq!(ffi::DRAIN_MAX_AGE_MICROS, drain_control::MAX_AGE_MICROS);
}

#[test]
fn the_header_declares_every_exported_function_and_nothing_else() {
    // Test-only entry points (cargo feature test-hooks) are declared in
    // tests/c/test_hooks.h, not in the public header.
    let pieces: Vec<&str> = FFI_SOURCE.split("pub unsafe extern \"C\" fn ").collect();
    let exported: Vec<&str> = pieces
        .windows(2)
        .filter(|pair| {
            let attributes: Vec<&str> = pair[0].lines().rev().take(3).collect();
            !attributes.contains(&"#[cfg(feature = \"test-hooks\")]")
        })
        .map(|pair| pair[1].split('(').next().unwrap())
        .collect();
    assert!(
        !exported.contains(&"drain_watcher_new_with_max_age_for_tests"),
        "the test-only entry point is not behind the test-hooks feature"
    );
    assert!(exported.len() >= 12, "found only {exported:?}");
    // Declarations are the top-level lines `<type> [*]name(<args>);`.
    let declared: Vec<&str> = HEADER
        .lines()
        .filter(|line| line.ends_with(");") && !line.starts_with([' ', '*', '#']))
        .map(|line| {
            let head = line.split('(').next().unwrap();
            head.rsplit([' ', '*']).next().unwrap()
        })
        .collect();
    assert_eq!(
        declared, exported,
        "the header and src/ffi/ declare different functions"
    );
    for name in exported {
        assert!(name.starts_with("drain_"), "{name} lacks the drain_ prefix");
    }
}

#[test]
fn watcher_handle_reports_changes_and_stops_from_another_thread() {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;

    let dir = tempfile::tempdir().unwrap();
    let home = CString::new(dir.path().as_os_str().as_bytes()).unwrap();
    let mut handle = std::ptr::null_mut();
    let mut change = ffi::DrainChange::default();
    // SAFETY: valid arguments throughout; the handle is freed once, after the thread
    // that stops it was joined.
    unsafe {
        let status = ffi::drain_watcher_new(
            home.as_ptr(),
            30_000,
            false,
            &mut handle,
            std::ptr::null_mut(),
        );
        assert_eq!(status, DrainStatus::Ok);
        let status = ffi::drain_watcher_next(handle, 5_000, &mut change);
        assert_eq!(status, DrainStatus::Ok);
        assert!(change.initial);
        assert_eq!(change.state, DrainState::Absent);

        drain_control::write(Some(dir.path()), "dashboard", false).unwrap();
        let status = ffi::drain_watcher_next(handle, 5_000, &mut change);
        assert_eq!(status, DrainStatus::Ok);
        assert_eq!(change.state, DrainState::Active);
        assert!(change.verdict.active && change.has_expires_at && !change.initial);
        let mut buf = [0 as std::ffi::c_char; 512];
        let mut len = 0;
        let status = ffi::drain_watcher_body(handle, buf.as_mut_ptr(), buf.len(), &mut len);
        assert_eq!(status, DrainStatus::Ok);
        let body = CStr::from_ptr(buf.as_ptr()).to_str().unwrap();
        assert!(body.contains(r#""principal":"dashboard""#), "{body}");
        assert_eq!(body.len(), len);

        let status = ffi::drain_watcher_next(handle, 50, &mut change);
        assert_eq!(status, DrainStatus::TimedOut);
        let address = handle as usize; // a handle may be shared with another thread
        let stopper = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            ffi::drain_watcher_stop(address as *const ffi::DrainWatcher)
        });
        let status = ffi::drain_watcher_next(handle, -1, &mut change);
        assert_eq!(status, DrainStatus::Stopped);
        assert_eq!(stopper.join().unwrap(), DrainStatus::Ok);
        ffi::drain_watcher_free(handle);
        ffi::drain_watcher_free(std::ptr::null_mut());
    }
}

#[test]
fn the_version_macros_are_the_crate_version() {
    let define = |name: &str| -> String {
        let prefix = format!("#define {name} ");
        HEADER
            .lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("the header lacks {name}"))
            .trim()
            .to_owned()
    };
    assert_eq!(
        define("DRAIN_CONTROL_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MAJOR")
    );
    assert_eq!(
        define("DRAIN_CONTROL_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_MINOR")
    );
    assert_eq!(
        define("DRAIN_CONTROL_VERSION_PATCH"),
        env!("CARGO_PKG_VERSION_PATCH")
    );
    assert_eq!(
        ffi::DRAIN_CONTROL_VERSION_MAJOR.to_string(),
        env!("CARGO_PKG_VERSION_MAJOR")
    );
    // SAFETY: drain_version takes nothing and returns a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(ffi::drain_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}
