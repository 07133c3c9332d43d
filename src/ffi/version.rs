//! `drain_version`. (The version constants are in mod.rs: cbindgen must read them first.)

use std::ffi::{CStr, c_char};

use super::boundary::boundary;

/// The library's version, such as "0.1.0" (the crate version).
///
/// The string is static, NUL-terminated and never NULL; the caller must not free or
/// modify it. Thread-safe.
///
/// # Safety
/// None: the function takes no arguments. (Marked `unsafe` like every function of this
/// API.)
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(version) => version,
            Err(_) => panic!("the crate version holds a NUL"),
        };
    boundary(VERSION.as_ptr(), || VERSION.as_ptr())
}
