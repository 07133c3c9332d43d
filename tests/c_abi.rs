//! The C ABI from Rust: the version it reports, and the checked-in header agreeing with
//! the Rust side on every status value, constant and function. (The header's exact text
//! is checked against the pinned cbindgen by `scripts/gen-header --check`, run by
//! `scripts/test-c`; these checks need no cbindgen.)

use std::ffi::CStr;

use drain_control::ffi::{self, DrainStatus};

const HEADER: &str = include_str!("../include/drain_control.h");
const FFI_SOURCE: &str = include_str!("../src/ffi.rs");
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
    }
}

/// The ABI's status values, fixed forever: (status, its number).
const STATUSES: [(DrainStatus, u32); 7] = [
    (DrainStatus::Ok, 0),
    (DrainStatus::NullArgument, 1),
    (DrainStatus::InvalidUtf8, 2),
    (DrainStatus::BufferTooSmall, 3),
    (DrainStatus::IoError, 4),
    (DrainStatus::Panic, 5),
    (DrainStatus::InvalidArgument, 6),
];

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
        let declaration = format!("  {} = {value},\n", c_name(status));
        assert!(
            HEADER.contains(&declaration),
            "the header lacks `{}`",
            declaration.trim()
        );
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
    for value in [7, 100, u32::MAX] {
        assert_eq!(message(value), c"unknown status");
    }
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
    let exported: Vec<&str> = FFI_SOURCE
        .split("pub unsafe extern \"C\" fn ")
        .skip(1)
        .map(|rest| rest.split('(').next().unwrap())
        .collect();
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
        "the header and src/ffi.rs declare different functions"
    );
    for name in exported {
        assert!(name.starts_with("drain_"), "{name} lacks the drain_ prefix");
    }
}
