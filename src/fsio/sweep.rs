//! Removing the temp files of writers killed mid-write.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Instant, SystemTime};

use super::write::temp_path;
use super::{TEMP_MAX_AGE, TEMP_PREFIX, TEMP_SLOTS, TEMP_SUFFIX};

/// Removes killed writers' temp files from `folder`, at most once a minute per process
/// (a leftover only becomes eligible a minute after it was made, so sweeping more often
/// finds nothing new).
///
/// A home may hold thousands of other files, and listing it costs more than the write
/// itself in a crowded home (BENCHMARKS.md). So a write
/// always looks at the [`TEMP_SLOTS`] slot names, where every temp file of this
/// library lives unless all slots were taken, and lists the folder only when that is
/// cheap (a folder of at most [`LISTED_FOLDER_BYTES`], a few hundred entries) or when
/// a random name may have been left: this write found every slot taken (`slotted` is
/// false), or a slot held a killed writer's leftover (a crash may have come with
/// others). The original module's `mkstemp` names share the pattern; in a crowded home
/// they wait for such a write.
pub(super) fn sweep_leftovers_now_and_then(folder: &Path, slotted: bool) {
    static LAST_SWEEP: Mutex<Option<HashMap<PathBuf, Instant>>> = Mutex::new(None);
    let now = Instant::now();
    {
        let mut guard = LAST_SWEEP
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let last = guard.get_or_insert_with(HashMap::new);
        if last.len() > 1024 {
            last.clear();
        }
        match last.get(folder) {
            Some(at) if slotted && now.duration_since(*at) < TEMP_MAX_AGE => return,
            _ => last.insert(folder.to_path_buf(), now),
        };
    }
    let now = SystemTime::now();
    let found_leftovers = sweep_slots(folder, now) > 0;
    let small = || fs::metadata(folder).is_ok_and(|meta| meta.size() <= LISTED_FOLDER_BYTES);
    if found_leftovers || !slotted || small() {
        sweep_leftovers(folder, now);
    }
}

/// The size of a folder (its `st_size`: about 4 KiB per hundred entries on ext4, 20
/// bytes an entry on tmpfs) up to which every sweep lists it. Only a matter of cost:
/// on a filesystem whose folders report another size, a sweep lists more or less
/// often, and removes nothing it should keep.
pub const LISTED_FOLDER_BYTES: u64 = 32 * 1024;

/// Removes the slot temp files in `folder` that are leftovers: regular files last
/// modified more than [`TEMP_MAX_AGE`] before `now`.
pub fn sweep_slots(folder: &Path, now: SystemTime) -> usize {
    (0..TEMP_SLOTS)
        .map(|slot| temp_path(folder, slot))
        .filter(|path| {
            fs::symlink_metadata(path).is_ok_and(|meta| is_leftover(&meta, now))
                && fs::remove_file(path).is_ok()
        })
        .count()
}

/// Lists `folder` and removes every temp file of this library's pattern, slot or
/// random, that is a leftover (as in [`sweep_slots`]). Failures are ignored: a sweep is
/// housekeeping.
pub fn sweep_leftovers(folder: &Path, now: SystemTime) -> usize {
    let Ok(entries) = fs::read_dir(folder) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if is_leftover(&meta, now) && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// A regular file last modified more than [`TEMP_MAX_AGE`] before `now`: a writer at
/// work keeps its temp file younger than that.
fn is_leftover(meta: &fs::Metadata, now: SystemTime) -> bool {
    meta.file_type().is_file()
        && meta
            .modified()
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age > TEMP_MAX_AGE)
}
