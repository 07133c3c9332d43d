//! `drain_step`: the step of a write or a clear that failed, and its stable names.

use std::ffi::{CStr, c_char};

use super::boundary::static_name;
use crate::Step;

/// The step of a write or a clear that failed (`drain_error.step`). Values are never
/// reused: a retired step keeps its number forever. `drain_step_name` gives each its
/// stable name, the same in every binding (Go's `fs.PathError.Op`, `drainctl --json`).
///
/// The steps of a write, in order: `CHECK_PAYLOAD`, `CREATE_HOME`, `FOLLOW_LINK`,
/// `CREATE_TEMP`, `KEEP_MODE`, `WRITE_TEMP`, `SYNC_TEMP`, `RENAME`, `SYNC_FOLDER`; of a
/// clear: `REMOVE`, `SYNC_FOLDER`; a lease operation takes `LOCK` first. A failure at
/// any step but `SYNC_FOLDER` leaves the old marker (or its absence) untouched
/// (`drain_error.marker_untouched`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DrainStep {
    /// No step ("none"): nothing was attempted (an argument was refused), or a panic
    /// left unknown what was.
    #[default]
    None = 0,
    /// Checking the payload before anything is written ("check_payload"): it would not
    /// read back as written. Nothing was touched; the status is
    /// `DRAIN_STATUS_INVALID_PAYLOAD` and `os_error` is 0.
    CheckPayload = 1,
    /// Creating the home folder or a parent ("create_home"); the path is the home.
    CreateHome = 2,
    /// Following the symbolic link at the marker path ("follow_link").
    FollowLink = 3,
    /// Creating the temporary file beside the marker ("create_temp"); the path is the
    /// temporary file's.
    CreateTemp = 4,
    /// Giving the temporary file the old marker's mode ("keep_mode").
    KeepMode = 5,
    /// Writing the temporary file ("write_temp").
    WriteTemp = 6,
    /// Flushing the temporary file to disk ("sync_temp").
    SyncTemp = 7,
    /// Renaming the temporary file over the marker ("rename"); the path is the marker,
    /// or the file its link points to.
    Rename = 8,
    /// Flushing the marker's folder ("sync_folder"), after the rename (a write: the new
    /// marker is in place) or the removal (a clear: the marker is gone); the path is
    /// the folder.
    SyncFolder = 9,
    /// Removing the marker ("remove"), in a clear.
    Remove = 10,
    /// Taking the writers' lock file beside the marker ("lock"), in a lease operation;
    /// the path is the lock file.
    Lock = 11,
}

impl From<Step> for DrainStep {
    fn from(step: Step) -> Self {
        match step {
            Step::CheckPayload => DrainStep::CheckPayload,
            Step::CreateHome => DrainStep::CreateHome,
            Step::FollowLink => DrainStep::FollowLink,
            Step::CreateTemp => DrainStep::CreateTemp,
            Step::KeepMode => DrainStep::KeepMode,
            Step::WriteTemp => DrainStep::WriteTemp,
            Step::SyncTemp => DrainStep::SyncTemp,
            Step::Rename => DrainStep::Rename,
            Step::SyncFolder => DrainStep::SyncFolder,
            Step::Remove => DrainStep::Remove,
            Step::Lock => DrainStep::Lock,
        }
    }
}

impl DrainStep {
    /// Every step, in the order of their numbers.
    const ALL: [DrainStep; 12] = [
        DrainStep::None,
        DrainStep::CheckPayload,
        DrainStep::CreateHome,
        DrainStep::FollowLink,
        DrainStep::CreateTemp,
        DrainStep::KeepMode,
        DrainStep::WriteTemp,
        DrainStep::SyncTemp,
        DrainStep::Rename,
        DrainStep::SyncFolder,
        DrainStep::Remove,
        DrainStep::Lock,
    ];

    /// The step with this number, if this version knows it.
    pub fn from_u32(value: u32) -> Option<DrainStep> {
        DrainStep::ALL
            .into_iter()
            .find(|step| *step as u32 == value)
    }

    /// The stable name, as [`Step::as_str`] gives it ("none" for [`DrainStep::None`]),
    /// NUL-terminated.
    pub fn name(self) -> &'static CStr {
        match self {
            DrainStep::None => c"none",
            DrainStep::CheckPayload => c"check_payload",
            DrainStep::CreateHome => c"create_home",
            DrainStep::FollowLink => c"follow_link",
            DrainStep::CreateTemp => c"create_temp",
            DrainStep::KeepMode => c"keep_mode",
            DrainStep::WriteTemp => c"write_temp",
            DrainStep::SyncTemp => c"sync_temp",
            DrainStep::Rename => c"rename",
            DrainStep::SyncFolder => c"sync_folder",
            DrainStep::Remove => c"remove",
            DrainStep::Lock => c"lock",
        }
    }
}

/// The stable name of a `drain_step` value: "check_payload", "create_home",
/// "follow_link", "create_temp", "keep_mode", "write_temp", "sync_temp", "rename",
/// "sync_folder", "remove", "lock" (the same words in every binding), "none" for
/// `DRAIN_STEP_NONE`, and "unknown step" for a value this version does not know.
///
/// The string is static, NUL-terminated and never NULL; the caller must not free or
/// modify it. Thread-safe.
///
/// # Safety
/// None: any argument is valid. (Marked `unsafe` like every function of this API.)
#[unsafe(no_mangle)]
pub unsafe extern "C" fn drain_step_name(step: u32) -> *const c_char {
    static_name(c"unknown step", || {
        DrainStep::from_u32(step).map(DrainStep::name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_has_the_core_name_and_its_own_number() {
        let steps = [
            Step::CheckPayload,
            Step::CreateHome,
            Step::FollowLink,
            Step::CreateTemp,
            Step::KeepMode,
            Step::WriteTemp,
            Step::SyncTemp,
            Step::Rename,
            Step::SyncFolder,
            Step::Remove,
            Step::Lock,
        ];
        for (index, step) in steps.into_iter().enumerate() {
            let c_step = DrainStep::from(step);
            assert_eq!(c_step as usize, index + 1, "{step:?}");
            assert_eq!(DrainStep::from_u32(index as u32 + 1), Some(c_step));
            assert_eq!(c_step.name().to_str().unwrap(), step.as_str());
        }
        assert_eq!(DrainStep::from_u32(0), Some(DrainStep::None));
        assert_eq!(DrainStep::None.name(), c"none");
        assert_eq!(DrainStep::from_u32(12), None);
        assert_eq!(DrainStep::ALL.len(), steps.len() + 1);
    }
}
