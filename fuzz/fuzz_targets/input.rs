//! The fuzz targets' reader over the fuzzer's bytes; past the end it gives zeros.
#![allow(dead_code)] // each target uses the part it needs

use std::ffi::CString;

pub struct Input<'a>(pub &'a [u8]);

impl<'a> Input<'a> {
    pub fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        first
    }
    pub fn i64(&mut self) -> i64 {
        i64::from_le_bytes(std::array::from_fn(|_| self.byte()))
    }
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        taken
    }
    /// Up to `max` bytes, length first.
    pub fn bytes(&mut self, max: u8) -> &'a [u8] {
        let len = self.byte() % max.saturating_add(1);
        self.take(usize::from(len))
    }
    /// A C string of the input's bytes, cut at the first NUL (C cannot say more).
    pub fn c_string(&mut self, max: u8) -> CString {
        let raw = self.bytes(max);
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        CString::new(&raw[..end]).unwrap()
    }
}
