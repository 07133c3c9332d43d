//! The marker on disk: a bounded, non-blocking read; an atomic, crash-safe write and a
//! durable removal; the clean-up of killed writers' temp files; the lock lease
//! operations hold. Nothing here knows what the bytes mean.

use std::time::Duration;

mod lock;
mod read;
mod sweep;
mod write;

pub use lock::{LockError, MarkerLock};
pub use read::{RawMarker, read_marker};
pub(crate) use read::{read_marker_with, with_c_path};
pub use sweep::{LISTED_FOLDER_BYTES, sweep_leftovers, sweep_slots};
pub use write::{remove_marker, write_marker, write_marker_with_mode};

/// Temp files of a write are `..drain_request_<slot>.tmp` beside the marker, `<slot>`
/// one of [`TEMP_SLOTS`] small numbers (`..drain_request_<random>.tmp` only when all
/// of them are taken).
pub const TEMP_PREFIX: &str = "..drain_request_";
/// See [`TEMP_PREFIX`].
pub const TEMP_SUFFIX: &str = ".tmp";

/// How many fixed temp names a write tries before a random one. A few is plenty:
/// a slot is only taken while a write is under way, or for a minute after a writer was
/// killed mid-write.
pub const TEMP_SLOTS: usize = 8;

/// A leftover temp file older than this was left by a killed writer; a younger one
/// may belong to a writer that is still at work.
pub const TEMP_MAX_AGE: Duration = Duration::from_secs(60);
