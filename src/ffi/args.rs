//! Every C pointer read or written, in one place so that each cast is checked once.

use std::ffi::{CStr, c_char};
use std::path::Path;

use super::error::DrainError;
use super::status::DrainStatus;
use crate::home::path_from_bytes;

/// The bytes of a NUL-terminated C string argument; NULL is an error.
///
/// # Safety
/// `text` is NULL or points to a NUL-terminated string that outlives `'a`.
unsafe fn c_bytes<'a>(text: *const c_char) -> Result<&'a [u8], DrainStatus> {
    if text.is_null() {
        return Err(DrainStatus::NullArgument);
    }
    // SAFETY: non-NULL (checked above), and a NUL-terminated string that outlives `'a`
    // (this function's contract): what `CStr::from_ptr` requires.
    Ok(unsafe { CStr::from_ptr(text) }.to_bytes())
}

/// A C string argument that must be UTF-8 text.
///
/// # Safety
/// As [`c_bytes`].
pub(super) unsafe fn c_text<'a>(text: *const c_char) -> Result<&'a str, DrainStatus> {
    // SAFETY: this function's contract is `c_bytes`'s.
    let bytes = unsafe { c_bytes(text) }?;
    std::str::from_utf8(bytes).map_err(|_| DrainStatus::InvalidUtf8)
}

/// The `home` argument: NULL for the default home, else path bytes (any but NUL).
///
/// # Safety
/// As [`c_bytes`].
pub(super) unsafe fn c_home<'a>(home: *const c_char) -> Option<&'a Path> {
    // SAFETY: this function's contract is `c_bytes`'s.
    unsafe { c_bytes(home) }.ok().map(path_from_bytes)
}

/// Bytes passed as a pointer and a length; NULL is allowed for an empty input only.
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes that outlive `'a`.
pub(super) unsafe fn c_slice<'a>(data: *const u8, len: usize) -> Result<&'a [u8], DrainStatus> {
    if len == 0 {
        return Ok(&[]);
    }
    if data.is_null() {
        return Err(DrainStatus::NullArgument);
    }
    if len > isize::MAX as usize {
        return Err(DrainStatus::InvalidArgument);
    }
    // SAFETY: non-NULL and at most `isize::MAX` bytes (checked above), and `len` readable
    // bytes that outlive `'a` (this function's contract): what `slice::from_raw_parts`
    // requires of bytes, which need no alignment.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// A required out-pointer, checked before any work is done: where [`Out::set`] writes
/// the result.
pub(super) struct Out<T>(*mut T);

impl<T> Out<T> {
    /// Checks `out`: NULL is an error.
    pub(super) fn new(out: *mut T) -> Result<Self, DrainStatus> {
        if out.is_null() {
            return Err(DrainStatus::NullArgument);
        }
        Ok(Out(out))
    }

    /// Writes the result.
    ///
    /// # Safety
    /// The pointer is valid for a write of `T`.
    pub(super) unsafe fn set(self, value: T) -> Result<(), DrainStatus> {
        // SAFETY: non-NULL (checked by `Out::new`), and valid for a write of `T` (this
        // function's contract).
        unsafe { self.0.write(value) };
        Ok(())
    }
}

/// A caller's text buffer: where [`TextOut::fill`] copies text and its length.
pub(super) struct TextOut {
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
}

impl TextOut {
    /// Checks the buffer arguments before any work is done: `out_len` is required,
    /// and `buf` may be NULL only for a sizing call (`buf_len == 0`).
    pub(super) fn new(
        buf: *mut c_char,
        buf_len: usize,
        out_len: *mut usize,
    ) -> Result<Self, DrainStatus> {
        if out_len.is_null() || (buf.is_null() && buf_len != 0) {
            return Err(DrainStatus::NullArgument);
        }
        Ok(TextOut {
            buf,
            buf_len,
            out_len,
        })
    }

    /// Reports the length of `text` and, if it fits with its NUL, copies it in.
    ///
    /// # Safety
    /// `buf` points to `buf_len` writable bytes (or `buf_len` is 0) and `out_len` to a
    /// writable `size_t`, neither overlapping `text`.
    pub(super) unsafe fn fill(self, text: &[u8]) -> Result<(), DrainStatus> {
        // SAFETY: `out_len` is non-NULL (checked by `TextOut::new`) and valid for writing a
        // `size_t` (this function's contract).
        unsafe { self.out_len.write(text.len()) };
        if self.buf_len <= text.len() {
            return Err(DrainStatus::BufferTooSmall);
        }
        // SAFETY: `buf_len > text.len()`, so `buf` is non-NULL (`TextOut::new` refuses NULL
        // with a length) and holds `buf_len` writable bytes (this function's contract):
        // room for the text and its NUL. The contract also rules out an overlap with `text`.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), self.buf.cast::<u8>(), text.len());
            self.buf.add(text.len()).write(0);
        }
        Ok(())
    }
}

/// Writes `value` through `out` when `out` is not NULL.
///
/// # Safety
/// `out` is NULL or valid for a write of `T`.
pub(super) unsafe fn write_optional<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-NULL (checked above), and valid for a write of `T` (this function's
        // contract).
        unsafe { out.write(value) };
    }
}

/// Writes the [`DrainError`] `make` gives through `out_err`, when it is not NULL.
///
/// # Safety
/// `out_err` is NULL or valid for a write of a [`DrainError`].
pub(super) unsafe fn write_error(out_err: *mut DrainError, make: impl FnOnce() -> DrainError) {
    if !out_err.is_null() {
        // SAFETY: non-NULL (checked above), and valid for a write of a `DrainError` (this
        // function's contract).
        unsafe { out_err.write(make()) };
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::c_int;

    use super::*;

    #[test]
    fn text_out_writes_the_length_always_and_the_text_only_when_it_fits() {
        let mut buf = [b'#' as c_char; 4];
        let mut len = 0usize;
        let out = TextOut::new(buf.as_mut_ptr(), 3, &mut len).unwrap();
        assert_eq!(
            // SAFETY: `buf` has 4 writable bytes, 3 offered; `len` is writable.
            unsafe { out.fill(b"abc") },
            Err(DrainStatus::BufferTooSmall)
        );
        assert_eq!(len, 3);
        assert!(buf.iter().all(|&byte| byte == b'#' as c_char));
        let out = TextOut::new(buf.as_mut_ptr(), 4, &mut len).unwrap();
        // SAFETY: as above, 4 offered.
        assert_eq!(unsafe { out.fill(b"abc") }, Ok(()));
        assert_eq!(buf.map(|byte| byte as u8), *b"abc\0");
    }

    #[test]
    fn text_out_needs_out_len_and_a_buffer_unless_sizing() {
        let mut len = 0usize;
        let null = std::ptr::null_mut();
        assert!(TextOut::new(null, 0, &mut len).is_ok());
        assert!(matches!(
            TextOut::new(null, 1, &mut len),
            Err(DrainStatus::NullArgument)
        ));
        let mut buf = [0 as c_char; 1];
        let no_len = std::ptr::null_mut();
        assert!(matches!(
            TextOut::new(buf.as_mut_ptr(), 1, no_len),
            Err(DrainStatus::NullArgument)
        ));
    }

    #[test]
    fn out_refuses_null_and_writes_only_when_set() {
        let null = std::ptr::null_mut::<c_int>();
        assert!(matches!(Out::new(null), Err(DrainStatus::NullArgument)));
        let mut value: c_int = -1;
        let out = Out::new(&mut value as *mut c_int).unwrap();
        assert_eq!(value, -1);
        // SAFETY: `value` is writable.
        assert_eq!(unsafe { out.set(7) }, Ok(()));
        assert_eq!(value, 7);
    }
}
