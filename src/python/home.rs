//! The home folder, the marker path and the instantiation epoch, from what the Python
//! side read of its environment and of `/proc` (so that a host's patches apply there).

use std::ffi::OsString;
use std::path::PathBuf;

use pyo3::prelude::*;

use crate::{MARKER_FILE_NAME, epoch, home};

/// The marker path of `home`, else of `HERMES_HOME` (the value the caller read, `None`
/// when unset), else of `~/.hermes`.
#[pyfunction]
pub(super) fn marker_path(home: Option<PathBuf>, hermes_home: Option<OsString>) -> PathBuf {
    home::resolve_home_with(home.as_deref(), hermes_home.as_deref()).join(MARKER_FILE_NAME)
}

/// The home folder of `HERMES_HOME` (the value the caller read, `None` when unset), else
/// `~/.hermes`: the host's `get_hermes_home()`.
#[pyfunction]
pub(super) fn home_folder(hermes_home: Option<OsString>) -> PathBuf {
    home::resolve_home_with(None, hermes_home.as_deref())
}

/// The epoch from the texts of the two `/proc` files (`None`: unreadable); `boot_time`
/// is called only when both give nothing.
#[pyfunction]
pub(super) fn compose_epoch(
    boot_id: Option<&str>,
    pid1_stat: Option<&str>,
    boot_time: &Bound<'_, PyAny>,
) -> PyResult<String> {
    let mut raised = None;
    let epoch = epoch::compose(boot_id, pid1_stat, || {
        match boot_time
            .call0()
            .and_then(|value| value.extract::<Option<f64>>())
        {
            Ok(seconds) => seconds,
            Err(error) => {
                raised = Some(error);
                None
            }
        }
    });
    match raised {
        Some(error) => Err(error),
        None => Ok(epoch),
    }
}

/// The kernel boot time where the core can read it itself (macOS), else `None`.
#[pyfunction]
pub(super) fn kernel_boot_time() -> Option<f64> {
    epoch::kernel_boot_time()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn marker_path_prefers_explicit_then_variable() {
        let explicit = marker_path(Some(PathBuf::from("/a")), Some(" /b ".into()));
        assert_eq!(explicit, Path::new("/a/.drain_request.json"));
        let variable = marker_path(None, Some(" /b \n".into()));
        assert_eq!(variable, Path::new("/b/.drain_request.json"));
    }
}
