//! The floor of benches/floor.c, loaded from the shared library that `scripts/bench`
//! builds (`DRAIN_BENCH_FLOOR_LIB`), so that a Rust row is timed next to the floor in
//! the same process. Shared by the bench binaries through `#[path]`.

#![allow(dead_code)]

use std::ffi::{CString, c_char, c_long, c_void};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

type PollFn = unsafe extern "C" fn(*const c_char, c_long) -> f64;
type OpFn = unsafe extern "C" fn(*const c_char) -> f64;

/// The functions of benches/floor.c.
#[derive(Clone, Copy)]
pub struct Floor {
    poll_ns: PollFn,
    write_ns: OpFn,
    clear_ns: OpFn,
}

/// A path as a C string.
pub fn c_path(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).expect("no NUL in a path")
}

impl Floor {
    /// The floor library of `DRAIN_BENCH_FLOOR_LIB`, if set.
    pub fn load() -> Option<Floor> {
        let lib = std::env::var_os("DRAIN_BENCH_FLOOR_LIB")?;
        let lib = CString::new(lib.as_bytes()).ok()?;
        // SAFETY: dlopen and dlsym get NUL-terminated strings; the library is never
        // closed, so its functions stay valid for the life of the process, and each
        // has the signature declared in `Floor` (benches/floor.c).
        unsafe {
            let handle = libc::dlopen(lib.as_ptr(), libc::RTLD_NOW);
            assert!(!handle.is_null(), "dlopen of DRAIN_BENCH_FLOOR_LIB failed");
            let symbol = |name: &std::ffi::CStr| -> *mut c_void {
                let found = libc::dlsym(handle, name.as_ptr());
                assert!(
                    !found.is_null(),
                    "{name:?} missing from DRAIN_BENCH_FLOOR_LIB"
                );
                found
            };
            Some(Floor {
                poll_ns: std::mem::transmute::<*mut c_void, PollFn>(symbol(c"drain_floor_poll_ns")),
                write_ns: std::mem::transmute::<*mut c_void, OpFn>(symbol(c"drain_floor_write_ns")),
                clear_ns: std::mem::transmute::<*mut c_void, OpFn>(symbol(c"drain_floor_clear_ns")),
            })
        }
    }

    /// `iters` read floors of `marker` (a C string), in C; the time they took.
    pub fn poll(&self, marker: &CString, iters: u64) -> Duration {
        // SAFETY: a valid C string and a count; see `load`.
        let ns = unsafe { (self.poll_ns)(marker.as_ptr(), iters as c_long) };
        Duration::from_nanos(ns as u64)
    }

    /// One write floor in `dir`; its nanoseconds.
    pub fn write(&self, dir: &CString) -> f64 {
        // SAFETY: as in `poll`.
        unsafe { (self.write_ns)(dir.as_ptr()) }
    }

    /// One clear floor in `dir` (after an untimed write floor); its nanoseconds.
    pub fn clear(&self, dir: &CString) -> f64 {
        // SAFETY: as in `poll`.
        unsafe { (self.clear_ns)(dir.as_ptr()) }
    }
}
