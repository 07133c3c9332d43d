//! The C ABI driven with random arguments: NULL or not, buffers of any size, paths
//! and texts of any bytes (not UTF-8, control characters), any status number, any
//! clock. Every call must return a documented status, write its outputs only as
//! documented (a buffer too small stays untouched), and agree with the Rust API.
//! Files are touched only in a sandbox under /dev/shm (or the temp folder), which is
//! also HERMES_HOME, so a NULL home lands there too.
#![no_main]

use std::ffi::{CStr, CString, c_char, c_int};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use drain_control::ffi::{self, DrainStatus, DrainVerdict};
use drain_control::{Context, Reading, Timestamp, home::path_from_bytes};
use libfuzzer_sys::fuzz_target;

mod input;
use input::Input;

fn sandbox() -> &'static Path {
    static SANDBOX: OnceLock<PathBuf> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("drain-fuzz-c-abi-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // SAFETY: set once, before any other thread of this target reads the
        // environment (libFuzzer runs the target on one thread).
        unsafe { std::env::set_var("HERMES_HOME", dir.join("default")) };
        dir
    })
}

/// One of a few homes in the sandbox: odd names (not UTF-8, a newline, a space), a
/// trailing slash, a nested one. `None` is the NULL home (HERMES_HOME, in the sandbox).
fn home(selector: u8) -> Option<CString> {
    let names: [&[u8]; 7] = [
        b"a",
        b"b/",
        b"nested/deeper",
        b"\xff\xfe",
        b"new\nline",
        b" spaced ",
        b"a//",
    ];
    let index = usize::from(selector) % (names.len() + 1);
    let name = names.get(index)?;
    let mut path = sandbox().as_os_str().as_bytes().to_vec();
    path.push(b'/');
    path.extend_from_slice(name);
    Some(CString::new(path).unwrap())
}

fn home_path(home: &Option<CString>) -> Option<&Path> {
    home.as_ref().map(|h| path_from_bytes(h.to_bytes()))
}

fn ptr(text: &Option<CString>) -> *const c_char {
    text.as_ref().map_or(std::ptr::null(), |t| t.as_ptr())
}

const CANARY: c_char = 0x5a;

/// Calls a text-returning function with a buffer of a chosen size (or NULL, or a NULL
/// `out_len`) and checks the convention; returns the text on success.
fn text_call(
    input: &mut Input<'_>,
    expected: Option<&[u8]>,
    call: impl Fn(*mut c_char, usize, *mut usize) -> DrainStatus,
) -> Option<Vec<u8>> {
    let shape = input.byte();
    let size = usize::from(input.byte()) * if shape & 4 != 0 { 64 } else { 1 };
    let mut buf = vec![CANARY; size];
    let mut out_len = usize::MAX;
    let buf_ptr = if shape & 1 != 0 && size == 0 {
        std::ptr::null_mut()
    } else {
        buf.as_mut_ptr()
    };
    if shape & 2 != 0 && shape & 8 != 0 {
        // NULL out_len: refused before anything is written.
        let status = call(buf_ptr, size, std::ptr::null_mut());
        assert_eq!(status, DrainStatus::NullArgument);
        assert!(buf.iter().all(|&b| b == CANARY));
        return None;
    }
    if shape & 16 != 0 && size > 0 {
        // NULL buffer with a length: refused.
        let status = call(std::ptr::null_mut(), size, &mut out_len);
        assert_eq!(status, DrainStatus::NullArgument);
        assert_eq!(out_len, usize::MAX, "out_len written on a refused call");
        return None;
    }
    let status = call(buf_ptr, size, &mut out_len);
    match status {
        DrainStatus::Ok => {
            assert!(out_len < size);
            assert_eq!(buf[out_len], 0, "no NUL after the text");
            let text: Vec<u8> = buf[..out_len].iter().map(|&b| b as u8).collect();
            assert!(!text.contains(&0));
            if let Some(expected) = expected {
                assert_eq!(text, expected);
            }
            Some(text)
        }
        DrainStatus::BufferTooSmall => {
            assert!(out_len >= size, "too small, yet {out_len} < {size}");
            assert!(
                buf.iter().all(|&b| b == CANARY),
                "a too-small buffer was written"
            );
            if let Some(expected) = expected {
                assert_eq!(out_len, expected.len());
            }
            None
        }
        other => panic!("unexpected status {other:?}"),
    }
}

fn verdict_of(v: DrainVerdict) -> drain_control::Verdict {
    drain_control::Verdict {
        present: v.present,
        active: v.active,
        suppressed: v.suppressed,
        epoch_stale: v.epoch_stale,
        expired: v.expired,
    }
}

fn marker_bytes(home: &Option<CString>) -> Option<Vec<u8>> {
    std::fs::read(drain_control::marker_path(home_path(home))).ok()
}

fuzz_target!(|data: &[u8]| {
    sandbox();
    let mut input = Input(data);
    for _ in 0..8 {
        if input.0.is_empty() {
            break;
        }
        match input.byte() % 11 {
            0 => {
                // drain_classify
                let flags = input.byte();
                let marker = input.bytes(255);
                let epoch = input.c_string(48);
                let now = input.i64();
                let mut out = DrainVerdict::default();
                let marker_ptr = if flags & 1 != 0 {
                    std::ptr::null()
                } else {
                    marker.as_ptr()
                };
                let epoch_ptr = if flags & 2 != 0 {
                    std::ptr::null()
                } else {
                    epoch.as_ptr()
                };
                let out_ptr: *mut DrainVerdict = if flags & 4 != 0 {
                    std::ptr::null_mut()
                } else {
                    &mut out
                };
                // SAFETY: every pointer is NULL or valid for what it is passed as.
                let status = unsafe {
                    ffi::drain_classify(marker_ptr, marker.len(), epoch_ptr, now, out_ptr)
                };
                let expected = if out_ptr.is_null()
                    || epoch_ptr.is_null()
                    || (marker_ptr.is_null() && !marker.is_empty())
                {
                    DrainStatus::NullArgument
                } else if let Ok(epoch) = epoch.to_str() {
                    let context = Context::new(epoch, Timestamp::from_unix_micros(now));
                    let want = drain_control::classify(
                        if marker_ptr.is_null() { &[] } else { marker },
                        &context,
                    );
                    assert_eq!(verdict_of(out), want.verdict);
                    DrainStatus::Ok
                } else {
                    DrainStatus::InvalidUtf8
                };
                assert_eq!(status, expected);
                // A length beyond PTRDIFF_MAX is refused without being read.
                let mut out = DrainVerdict::default();
                // SAFETY: the length is refused before the pointer is used.
                let status = unsafe {
                    ffi::drain_classify(
                        marker.as_ptr(),
                        usize::MAX - usize::from(flags),
                        c"".as_ptr(),
                        now,
                        &mut out,
                    )
                };
                assert_eq!(status, DrainStatus::InvalidArgument);
            }
            1 => {
                // drain_classify_read
                let marker = input.bytes(255);
                let expected = match Reading::from_bytes(marker).to_json() {
                    Some(value) => value.to_string(),
                    None => unreachable!("bytes are never absent"),
                };
                let text = text_call(
                    &mut input,
                    Some(expected.as_bytes()),
                    |buf, len, out_len| {
                        // SAFETY: `buf` holds `len` bytes (or is NULL for 0), `out_len` writable or NULL.
                        unsafe {
                            ffi::drain_classify_read(
                                marker.as_ptr(),
                                marker.len(),
                                buf,
                                len,
                                out_len,
                            )
                        }
                    },
                );
                if let Some(text) = text {
                    let value: serde_json::Value =
                        serde_json::from_slice(&text).expect("valid JSON");
                    assert!(value.is_object());
                }
            }
            2 => {
                // drain_marker_path, with any home bytes
                let raw = input.c_string(200);
                let expected = drain_control::marker_path(Some(path_from_bytes(raw.to_bytes())));
                let expected = expected.as_os_str().as_bytes().to_vec();
                text_call(&mut input, Some(&expected), |buf, len, out_len| {
                    // SAFETY: as above; `raw` is NUL-terminated.
                    unsafe { ffi::drain_marker_path(raw.as_ptr(), buf, len, out_len) }
                });
            }
            3 => {
                // drain_status_message: any number
                let status = u32::from_le_bytes(std::array::from_fn(|_| input.byte()));
                // SAFETY: any value is valid.
                let message = unsafe { CStr::from_ptr(ffi::drain_status_message(status)) };
                let message = message.to_str().expect("UTF-8 message");
                assert!(!message.is_empty());
                assert_eq!(
                    DrainStatus::from_u32(status).is_none(),
                    message == "unknown status"
                );
            }
            4 => {
                // drain_write: any principal (NULL, not UTF-8, control characters)
                let home = home(input.byte());
                let flags = input.byte();
                let principal = input.c_string(64);
                let before = marker_bytes(&home);
                let mut errno: c_int = -1;
                let principal_ptr = if flags & 1 != 0 {
                    std::ptr::null()
                } else {
                    principal.as_ptr()
                };
                let errno_ptr: *mut c_int = if flags & 2 != 0 {
                    std::ptr::null_mut()
                } else {
                    &mut errno
                };
                // SAFETY: pointers NULL or valid.
                let status = unsafe {
                    ffi::drain_write(ptr(&home), principal_ptr, flags & 4 != 0, errno_ptr)
                };
                if principal_ptr.is_null() {
                    assert_eq!(status, DrainStatus::NullArgument);
                } else if principal.to_str().is_err() {
                    assert_eq!(status, DrainStatus::InvalidUtf8);
                } else {
                    assert_eq!(status, DrainStatus::Ok, "errno {errno}");
                    let read = drain_control::read(home_path(&home));
                    let body = read.body().expect("a written marker reads back");
                    assert_eq!(body["principal"], principal.to_str().unwrap());
                    let verdict = drain_control::verdict(home_path(&home));
                    assert!(verdict.active);
                    assert_eq!(verdict.suppressed, flags & 4 != 0);
                }
                if status != DrainStatus::Ok {
                    assert_eq!(errno, -1, "errno written on a non-I/O failure");
                    assert_eq!(
                        marker_bytes(&home),
                        before,
                        "a refused write changed the marker"
                    );
                }
            }
            5 => {
                // drain_clear
                let home = home(input.byte());
                let flags = input.byte();
                let existed_before = marker_bytes(&home).is_some();
                let mut existed = false;
                let mut errno: c_int = -1;
                let existed_ptr: *mut bool = if flags & 1 != 0 {
                    std::ptr::null_mut()
                } else {
                    &mut existed
                };
                // SAFETY: pointers NULL or valid.
                let status = unsafe { ffi::drain_clear(ptr(&home), existed_ptr, &mut errno) };
                assert_eq!(status, DrainStatus::Ok, "errno {errno}");
                if !existed_ptr.is_null() {
                    assert_eq!(existed, existed_before);
                }
                assert!(marker_bytes(&home).is_none());
            }
            6 => {
                // drain_read: the Rust reading, in any buffer
                let home = home(input.byte());
                let expected = match drain_control::read(home_path(&home)).to_json() {
                    Some(value) => value.to_string(),
                    None => "null".to_owned(),
                };
                text_call(
                    &mut input,
                    Some(expected.as_bytes()),
                    |buf, len, out_len| {
                        // SAFETY: as above.
                        unsafe { ffi::drain_read(ptr(&home), buf, len, out_len) }
                    },
                );
            }
            7 => {
                // drain_epoch
                let expected = drain_control::epoch::current().as_bytes().to_vec();
                text_call(&mut input, Some(&expected), |buf, len, out_len| {
                    // SAFETY: as above.
                    unsafe { ffi::drain_epoch(buf, len, out_len) }
                });
            }
            8 => {
                // drain_inspect, drain_requested, drain_notification_suppressed agree
                let home = home(input.byte());
                let mut out = DrainVerdict::default();
                // SAFETY: pointers NULL or valid.
                unsafe {
                    assert_eq!(
                        ffi::drain_inspect(ptr(&home), std::ptr::null_mut()),
                        DrainStatus::NullArgument
                    );
                    assert_eq!(ffi::drain_inspect(ptr(&home), &mut out), DrainStatus::Ok);
                    assert_eq!(ffi::drain_requested(ptr(&home)), out.active);
                    assert_eq!(
                        ffi::drain_notification_suppressed(ptr(&home)),
                        out.suppressed
                    );
                }
                assert_eq!(verdict_of(out), drain_control::verdict(home_path(&home)));
            }
            9 => {
                // A hostile marker put in place by hand, then read through the ABI.
                let home = home(input.byte());
                let bytes = input.bytes(255);
                let marker = drain_control::marker_path(home_path(&home));
                if std::fs::create_dir_all(marker.parent().unwrap()).is_ok()
                    && std::fs::write(&marker, bytes).is_ok()
                {
                    let mut out = DrainVerdict::default();
                    // SAFETY: valid pointers.
                    assert_eq!(
                        unsafe { ffi::drain_inspect(ptr(&home), &mut out) },
                        DrainStatus::Ok
                    );
                    assert!(out.present);
                    let context = Context::new(drain_control::epoch::current(), Timestamp::now());
                    let want = drain_control::classify(bytes, &context).verdict;
                    // The clock moved between the two readings: only expiry may differ.
                    assert_eq!(out.present, want.present);
                    assert_eq!(out.epoch_stale, want.epoch_stale);
                }
            }
            _ => {
                // drain_version
                // SAFETY: no arguments.
                let version = unsafe { CStr::from_ptr(ffi::drain_version()) };
                assert!(!version.to_bytes().is_empty());
            }
        }
    }
});
