"""The original's module namespace, row by row (issue 11, part 1): what its tests,
the ``test_namespace_*.py`` files, share.

The original (``../shared/reference/upstream/gateway/drain_control.py``, as the host
runs it) resolves its module-level names through its globals at call time, so a host's
``monkeypatch.setattr(dc, NAME, ...)`` changes what it does:

| function | the names it looks up |
|---|---|
| ``drain_request_path(home=None)`` | ``get_hermes_home`` (when ``home`` is None), ``_DRAIN_REQUEST_FILENAME`` |
| ``write_drain_request`` | ``datetime``, ``timezone``, ``current_instantiation_epoch``, ``drain_request_path``, ``atomic_json_write`` |
| ``clear_drain_request`` | ``drain_request_path``, ``_log`` |
| ``read_drain_request`` | ``drain_request_path``, ``_log`` |
| ``_active_drain_body(home)`` | ``read_drain_request``, ``current_instantiation_epoch``, ``_marker_is_expired`` |
| ``drain_requested``, ``drain_notification_suppressed`` | ``_active_drain_body`` |
| ``_marker_is_expired(body)`` | ``_parse_iso``, ``datetime``, ``timezone``, ``DRAIN_REQUEST_MAX_AGE_SECONDS``, ``_expiry_logged_for``, ``_log`` |

Each test patches a row's names the way a host's test does, on the module under
test (the package, and the host's ``gateway.drain_control`` alias: the ``dc`` fixture)
and on the ORIGINAL beside it (the ``original`` fixture; the ``both`` fixture is the
two), and checks that both give the same outcome; the outcome is also written into the
test. The tests skip, saying so, where ``../shared`` is absent.

| file | the rows |
|---|---|
| ``test_namespace_names.py`` | the names, their kinds, signatures and first values; deleted names; the older names |
| ``test_namespace_host_functions.py`` | the host's ``get_hermes_home``, ``_parse_iso``, ``atomic_json_write`` |
| ``test_namespace_path_and_write.py`` | ``drain_request_path``, ``write_drain_request`` |
| ``test_namespace_reading.py`` | ``clear_drain_request``, ``read_drain_request``, ``_active_drain_body``, the two questions |
| ``test_namespace_expiry.py`` | ``_marker_is_expired`` |
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Optional

PutMarker = Callable[[Path, Any], Path]
EPOCH = "0f6d3c1e-7d1a-4c55-9a43-0f2b1e4b5c6d:1234"
OTHER_EPOCH = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:99"
MARKER = ".drain_request.json"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def ago(**delta: float) -> str:
    return (utc_now() - timedelta(**delta)).isoformat()


class Recorder(logging.Handler):
    """A host's logger of its own, as ``monkeypatch.setattr(dc, "_log", ...)`` sets it."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def host_logger(name: str) -> tuple[logging.Logger, Recorder]:
    logger = logging.getLogger(f"a.host.logger.{name}")
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    recorder = Recorder()
    logger.addHandler(recorder)
    logger.setLevel(logging.WARNING)
    return logger, recorder


def frozen_datetime(moment: datetime, calls: Optional[list[Any]] = None) -> type[datetime]:
    """A ``datetime`` whose ``now(tz)`` is ``moment`` in ``tz`` (freezegun's way)."""

    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            if calls is not None:
                calls.append(("datetime.now", tz))
            return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)

    return FrozenDatetime
