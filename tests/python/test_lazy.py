"""What the module defers to first use, and the patch points that must work all the same.

Importing ``drain_control`` loads neither the native extension nor json, logging,
pathlib, datetime or typing: they are loaded, and the names that come from them bound,
when first needed. A host module made by ``install_as`` (the ``host_module`` fixture)
starts in that state too, so the tests that use it see a module whose native part is
not loaded yet.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import subprocess
import sys
import weakref
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import pytest

import drain_control

PutMarker = Callable[[Path, Any], Path]

DEFERRED = [
    "drain_control._native",
    "drain_control._watch",
    "json",
    "logging",
    "pathlib",
    "datetime",
    "typing",
    "asyncio",
    "importlib.util",
    "__future__",
]


def run_fresh(code: str, home: Path) -> list[str]:
    """Runs ``code`` in a fresh interpreter; its last line of output, split."""
    env = dict(os.environ, HOME=str(home), PYTHONDONTWRITEBYTECODE="1")
    env.pop("HERMES_HOME", None)
    command = [sys.executable, "-c", code]
    out = subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE, text=True)
    return out.stdout.strip().splitlines()[-1].split()


def test_import_defers_the_native_part_and_the_standard_library(tmp_path: Path) -> None:
    code = f"""
import sys
before = set(sys.modules)
import drain_control
print(*sorted(set(sys.modules) - before & set({DEFERRED!r})), "-")
"""
    assert run_fresh(code, tmp_path) == ["-"]


def test_a_poll_without_a_marker_loads_only_the_native_part(tmp_path: Path) -> None:
    code = f"""
import sys
before = set(sys.modules)
import drain_control
assert drain_control.drain_requested(home={str(tmp_path)!r}) is False
assert drain_control.drain_requested() is False
print(*sorted(set(sys.modules) - before & set({DEFERRED!r})), "-")
"""
    assert run_fresh(code, tmp_path) == ["drain_control._native", "-"]


def test_the_lazy_names_are_there(dc: ModuleType) -> None:
    from drain_control import _native

    assert dc.DRAIN_REQUEST_MAX_AGE_SECONDS == 3600.0
    assert dc._DRAIN_REQUEST_FILENAME == ".drain_request.json"
    assert dc.__version__ == _native.__version__
    assert dc.Classification is _native.Classification
    assert dc._native is _native
    assert dc.Path is Path and dc.json is json and dc.logging is logging
    assert dc.datetime is datetime and dc.timezone is timezone
    assert dc._log is logging.getLogger(dc.__name__)
    names = dir(dc)
    for name in ("DRAIN_REQUEST_MAX_AGE_SECONDS", "Classification", "Path", "_log"):
        assert name in names
    with pytest.raises(AttributeError):
        dc.no_such_name  # noqa: B018


def test_stdlib_names_can_be_patched_like_the_originals(
    dc: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # monkeypatch.setattr refuses a name the module does not have.
    for name in ("Path", "json", "logging", "datetime", "timezone", "_log"):
        monkeypatch.setattr(dc, name, object())


def test_max_age_assigned_before_the_first_use_is_honoured(
    host_module: ModuleType, home: Path, put_marker: PutMarker
) -> None:
    dc = host_module
    assert "DRAIN_REQUEST_MAX_AGE_SECONDS" not in vars(dc), "loaded already"
    old = (datetime.now(timezone.utc) - timedelta(seconds=90)).isoformat()
    put_marker(home, {"requested_at": old})
    dc.DRAIN_REQUEST_MAX_AGE_SECONDS = 60.0
    assert dc.drain_requested(home=home) is False
    assert dc._marker_is_expired({"requested_at": old}) is True
    assert dc.DRAIN_REQUEST_MAX_AGE_SECONDS == 60.0
    dc.DRAIN_REQUEST_MAX_AGE_SECONDS = 3600.0  # equal to the core's, not the same object
    assert dc.drain_requested(home=home) is True


def test_a_logger_set_before_the_first_warning_gets_it(
    host_module: ModuleType, home: Path, put_marker: PutMarker
) -> None:
    dc = host_module
    records: list[str] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("a.host.logger")
    logger.addHandler(Recorder())
    dc._log = logger
    (home / ".drain_request.json").mkdir(parents=True)
    assert dc.drain_requested(home=home) is False
    assert len(records) == 1 and "failed to read" in records[0]


def test_a_reload_forgets_a_patched_max_age(host_module: ModuleType) -> None:
    import importlib

    dc = host_module
    dc.DRAIN_REQUEST_MAX_AGE_SECONDS = 60.0
    reloaded = importlib.reload(dc)
    assert reloaded.DRAIN_REQUEST_MAX_AGE_SECONDS == 3600.0


def test_a_deleted_patch_point_raises_name_error(
    dc: ModuleType, home: Path, put_marker: PutMarker
) -> None:
    # As a global lookup in the original's functions would, once there is a marker.
    put_marker(home, {"epoch": "boot-a:1"})
    epoch = dc.current_instantiation_epoch
    del dc.current_instantiation_epoch
    try:
        with pytest.raises(NameError):
            dc.drain_requested(home=home)
    finally:
        dc.current_instantiation_epoch = epoch


@pytest.mark.parametrize(
    ("current", "marker_epoch", "draining"),
    [(123, "boot-a:1", False), (123, 123, True), (None, "boot-a:1", True), (0, "x", True)],
)
def test_an_epoch_that_is_not_a_string_is_judged_as_the_original_judges_it(
    dc: ModuleType,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    put_marker: PutMarker,
    current: Any,
    marker_epoch: Any,
    draining: bool,
) -> None:
    # The original: ``current and marker_epoch and marker_epoch != current``.
    put_marker(home, {"epoch": marker_epoch})
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: current)
    assert dc.drain_requested(home=home) is draining
    assert dc.drain_notification_suppressed(home=home) is False
    assert (dc._active_drain_body(home) is not None) is draining


def test_the_epoch_is_asked_only_when_there_is_a_marker_to_judge(
    dc: ModuleType, home: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    # The original reads the marker first and consults the epoch only for a marker it
    # could read; an absent marker, or a folder at the marker path, needs none.
    calls = []
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: calls.append(1) or "boot-a:1")
    assert not dc.drain_requested(home=home)
    assert not dc.drain_notification_suppressed(home=home)
    assert dc._active_drain_body(home=home) is None
    (home / ".drain_request.json").mkdir(parents=True)
    assert not dc.drain_requested(home=home)
    assert calls == []
    (home / ".drain_request.json").rmdir()
    put_marker(home, {"epoch": "boot-a:1"})
    assert dc.drain_requested(home=home)
    assert calls == [1]


def test_an_epoch_patched_between_polls_is_seen(
    dc: ModuleType, home: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    put_marker(home, {"epoch": "boot-a:1"})
    for epoch, draining in [("boot-a:1", True), ("boot-b:1", False), ("boot-a:1", True)]:
        value = "".join(epoch)  # a new str object each time
        monkeypatch.setattr(dc, "current_instantiation_epoch", lambda v=value: v)
        assert dc.drain_requested(home=home) is draining
        body = dc._active_drain_body(home=home)
        assert body == ({"epoch": "boot-a:1"} if draining else None)


def test_a_path_like_home_is_asked_for_its_path_at_every_poll(
    dc: ModuleType, tmp_path: Path, put_marker: PutMarker
) -> None:
    draining, idle = tmp_path / "draining", tmp_path / "idle"
    put_marker(draining, {})
    idle.mkdir()

    class MovingHome:
        def __init__(self) -> None:
            self.path = str(idle)

        def __fspath__(self) -> str:
            return self.path

    home = MovingHome()
    assert dc.drain_requested(home=home) is False
    home.path = str(draining)
    assert dc.drain_requested(home=home) is True
    assert dc.read_drain_request(home=home) == {}


def test_the_same_home_object_follows_the_disk(
    dc: ModuleType, home: Path, put_marker: PutMarker
) -> None:
    for given in (home, str(home)):
        assert dc.drain_requested(home=given) is False
        put_marker(home, {})
        assert dc.drain_requested(home=given) is True
        assert dc.read_drain_request(home=given) == {}
        (home / ".drain_request.json").unlink()
        assert dc.drain_requested(home=given) is False
        assert dc.read_drain_request(home=given) is None


def test_hermes_home_is_read_at_every_poll(
    dc: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    draining, idle = tmp_path / "draining", tmp_path / "idle"
    put_marker(draining, {})
    for folder, expected in [(idle, False), (draining, True), (idle, False)]:
        monkeypatch.setenv("HERMES_HOME", str(folder))
        assert dc.drain_requested() is expected
        assert dc.drain_notification_suppressed() is False
        assert (dc.read_drain_request() is not None) is expected


def test_a_home_of_another_type_is_a_type_error(dc: ModuleType) -> None:
    for home in (123, b"/bytes/home"):
        with pytest.raises(TypeError):
            dc.drain_requested(home=home)


def test_an_installed_module_nobody_holds_is_freed(tmp_path: Path) -> None:
    module = drain_control.install_as("drain_control_gc_probe")
    assert module.drain_requested(home=str(tmp_path)) is False  # the native part binds
    del sys.modules["drain_control_gc_probe"]
    namespace = weakref.ref(module)
    del module
    gc.collect()
    assert namespace() is None


def test_a_reload_forgets_what_a_host_set_on_first_use(host_module: ModuleType) -> None:
    import importlib

    dc = host_module
    dc.json = dc._log = None
    reloaded = importlib.reload(dc)
    assert reloaded.json is json
    assert reloaded._log is logging.getLogger(dc.__name__)


def test_a_datetime_assigned_before_the_first_use_is_honoured(
    host_module: ModuleType, home: Path, put_marker: PutMarker
) -> None:
    dc = host_module
    assert "datetime" not in vars(dc), "bound already"
    requested = datetime(2026, 1, 1, tzinfo=timezone.utc)
    put_marker(home, {"requested_at": requested.isoformat()})

    class HostClock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return (requested + timedelta(minutes=30)).astimezone(tz)

    dc.datetime = HostClock  # a plain assignment: nothing read first
    assert dc.drain_requested(home=home) is True  # 30 minutes old by the host's clock
    assert dc.datetime is HostClock
    dc.datetime = datetime  # the real class, but not the one the module bound
    assert dc.drain_requested(home=home) is False


def test_judging_a_marker_binds_what_the_original_has_bound(
    host_module: ModuleType, home: Path, put_marker: PutMarker
) -> None:
    dc = host_module
    assert dc.drain_requested(home=home) is False
    assert "datetime" not in vars(dc) and "timezone" not in vars(dc)
    put_marker(home, {"requested_at": datetime.now(timezone.utc).isoformat()})
    assert dc.drain_requested(home=home) is True
    assert vars(dc)["datetime"] is datetime and vars(dc)["timezone"] is timezone
