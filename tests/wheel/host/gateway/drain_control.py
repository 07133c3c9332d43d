# gateway/drain_control.py: this module is drain_control's (pip install drain-control).
TYPE_CHECKING = False
if TYPE_CHECKING:  # what type checkers see: drain_control's names, the original's too
    from drain_control import *  # noqa: F403
    from drain_control import (  # noqa: F401
        _DRAIN_REQUEST_FILENAME as _DRAIN_REQUEST_FILENAME,
        _active_drain_body as _active_drain_body,
        _expiry_logged_for as _expiry_logged_for,
        _log as _log,
        _marker_is_expired as _marker_is_expired,
        _parse_iso as _parse_iso,
        atomic_json_write as atomic_json_write,
        get_hermes_home as get_hermes_home,
    )
else:  # what runs: a module of its own, drain_control's source under this name
    from drain_control import install_as; install_as(__name__)
