//! The identity of this machine or container instantiation.
//!
//! A marker stamped with another instantiation's epoch survived a restart on a durable
//! volume, and the restart was the end of the drain it asked for. The epoch changes
//! when the kernel boots (boot id) or when PID 1 is replaced (`docker restart`), and
//! stays put when only the gateway is respawned.

use std::sync::OnceLock;

use crate::home::is_python_space;

const BOOT_ID_PATH: &str = "/proc/sys/kernel/random/boot_id";
const PID1_STAT_PATH: &str = "/proc/1/stat";

/// The epoch of this process's instantiation, computed on first use and then constant
/// for the life of the process (the sources cannot change without a restart).
///
/// `""` where nothing identifies the instantiation; an empty epoch never makes a
/// marker stale.
pub fn current() -> &'static str {
    static EPOCH: OnceLock<String> = OnceLock::new();
    EPOCH.get_or_init(|| {
        let boot_id = std::fs::read_to_string(BOOT_ID_PATH).ok();
        let pid1_stat = std::fs::read_to_string(PID1_STAT_PATH).ok();
        compose(boot_id.as_deref(), pid1_stat.as_deref(), macos_boot_time)
    })
}

/// Composes an epoch from its sources, so that every binding computes it one way.
///
/// `boot_id` is the text of `/proc/sys/kernel/random/boot_id` and `pid1_stat` the text
/// of `/proc/1/stat`, each `None` when unreadable. Linux gives `"<boot_id>:<starttime>"`
/// where either part may be empty, and `""` when both are. Only when both are empty is
/// `boot_time` asked for the kernel boot time in seconds (macOS `kern.boottime`); a
/// positive value gives its whole seconds as the epoch.
pub fn compose(
    boot_id: Option<&str>,
    pid1_stat: Option<&str>,
    boot_time: impl FnOnce() -> Option<f64>,
) -> String {
    let boot_id = boot_id.map_or("", |text| text.trim_matches(is_python_space));
    let start = pid1_stat.and_then(pid1_starttime).unwrap_or("");
    if !boot_id.is_empty() || !start.is_empty() {
        return format!("{boot_id}:{start}");
    }
    match boot_time() {
        Some(seconds) if seconds.is_finite() && seconds.trunc() >= 1.0 => {
            format!("{}", seconds.trunc() as u64)
        }
        _ => String::new(),
    }
}

/// Field 22 (`starttime`) of a `/proc/<pid>/stat` text.
///
/// The command name in field 2 may itself hold spaces and parentheses, so the text is
/// split on the *last* `)` and the rest on whitespace; `starttime` is index 19 there.
pub fn pid1_starttime(stat: &str) -> Option<&str> {
    let (_, tail) = stat.rsplit_once(')')?;
    tail.split(is_python_space)
        .filter(|field| !field.is_empty())
        .nth(19)
}

/// The kernel boot time in seconds since the Unix epoch where the core can read it
/// (macOS `kern.boottime`), `None` elsewhere: the source [`current`] falls back to.
pub fn kernel_boot_time() -> Option<f64> {
    macos_boot_time()
}

/// The kernel boot time on macOS, from `sysctl kern.boottime`.
#[cfg(target_os = "macos")]
fn macos_boot_time() -> Option<f64> {
    let mut mib = [libc::CTL_KERN, libc::KERN_BOOTTIME];
    let mut tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    let mut len = std::mem::size_of::<libc::timeval>();
    // SAFETY: `mib` names a sysctl whose value is a `timeval`; `tv` and `len` describe a
    // buffer of exactly that size, and no new value is set.
    let rc = unsafe {
        libc::sysctl(
            mib.as_mut_ptr(),
            2,
            (&mut tv as *mut libc::timeval).cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    (rc == 0).then(|| tv.tv_sec as f64 + f64::from(tv.tv_usec) / 1e6)
}

#[cfg(not(target_os = "macos"))]
fn macos_boot_time() -> Option<f64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "1 (my (odd) init) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 4242 1 2";

    #[test]
    fn starttime_survives_parentheses_and_spaces_in_the_command_name() {
        assert_eq!(pid1_starttime(STAT), Some("4242"));
        assert_eq!(pid1_starttime("1 (init) S 0"), None);
        assert_eq!(pid1_starttime("no parenthesis at all"), None);
    }

    #[test]
    fn either_part_may_be_missing() {
        let none = || None;
        assert_eq!(compose(Some(" abc\n"), Some(STAT), none), "abc:4242");
        assert_eq!(compose(None, Some(STAT), none), ":4242");
        assert_eq!(compose(Some("abc"), None, none), "abc:");
        assert_eq!(compose(Some("  \n"), Some("garbage"), none), "");
    }

    #[test]
    fn boot_time_is_asked_only_when_proc_gives_nothing() {
        assert_eq!(compose(None, None, || Some(1_727_384_428.0)), "1727384428");
        assert_eq!(compose(None, None, || Some(1_727_384_428.9)), "1727384428");
        assert_eq!(compose(None, None, || Some(0.0)), "");
        assert_eq!(compose(None, None, || Some(-5.0)), "");
        assert_eq!(compose(None, None, || Some(f64::NAN)), "");
        assert_eq!(
            compose(Some("id"), None, || panic!("must not be asked")),
            "id:"
        );
    }
}
