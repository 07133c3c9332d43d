"""The original module's behaviours, one test each: the instantiation epoch, how it is
found (``/proc``, psutil on darwin) and memoised, and a marker of another epoch.

These are the behaviours the host's own tests pin; a host that swaps its module for the
one-line shim keeps them. Each runs against the package and against the host's alias
of it (the ``dc`` fixture runs every test twice).
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from original_behaviours_helpers import EPOCH, OTHER_EPOCH, PutMarker, marker


# --- the epoch ------------------------------------------------------------------------


def test_write_stamps_the_current_epoch(dc: ModuleType, home: Path) -> None:
    payload = dc.write_drain_request(home=home)
    assert payload["epoch"] == dc.current_instantiation_epoch()
    assert dc.read_drain_request(home=home)["epoch"] == dc.current_instantiation_epoch()


def test_write_stamps_a_patched_epoch(dc: ModuleType, home: Path, epoch: str) -> None:
    assert dc.write_drain_request(home=home)["epoch"] == EPOCH


def test_epoch_is_stable_in_a_process(dc: ModuleType) -> None:
    first = dc.current_instantiation_epoch()
    assert dc.current_instantiation_epoch() == first
    dc.current_instantiation_epoch.cache_clear()
    assert dc.current_instantiation_epoch() == first
    if Path("/proc/sys/kernel/random/boot_id").exists():
        boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        assert first.startswith(boot_id + ":")


def test_epoch_is_memoised(dc: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = Path.read_text

    def counting(self: Path, *args: Any, **kwargs: Any) -> str:
        calls.append(str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", counting)
    dc.current_instantiation_epoch()
    dc.current_instantiation_epoch()
    assert len(calls) == 2  # boot_id and /proc/1/stat, once
    assert dc.current_instantiation_epoch.cache_info().currsize == 1


def test_marker_from_a_prior_epoch_reads_as_not_active(
    dc: ModuleType, home: Path, epoch: str, put_marker: PutMarker
) -> None:
    body = marker(epoch=OTHER_EPOCH)
    put_marker(home, body)
    assert dc.drain_requested(home=home) is False
    assert dc.read_drain_request(home=home) == body
    assert dc._marker_epoch_is_stale(body) is True


def test_prior_epoch_marker_has_no_active_body_and_is_stale(
    dc: ModuleType, home: Path, epoch: str, put_marker: PutMarker
) -> None:
    body = marker(epoch=OTHER_EPOCH)
    put_marker(home, body)
    assert dc._active_drain_body(home=home) is None
    assert dc._marker_is_stale(body) is True


def test_same_epoch_marker_is_honoured(
    dc: ModuleType, home: Path, epoch: str, put_marker: PutMarker
) -> None:
    body = marker(epoch=EPOCH)
    put_marker(home, body)
    assert dc.drain_requested(home=home) is True
    assert dc._marker_epoch_is_stale(body) is False


def test_same_epoch_marker_is_the_active_body(
    dc: ModuleType, home: Path, epoch: str, put_marker: PutMarker
) -> None:
    body = marker(epoch=EPOCH)
    put_marker(home, body)
    assert dc._active_drain_body(home=home) == body
    assert dc._marker_is_stale(body) is False


def test_marker_without_epoch_is_honoured(
    dc: ModuleType, home: Path, epoch: str, put_marker: PutMarker
) -> None:
    body = marker()
    del body["epoch"]
    put_marker(home, body)
    assert dc.drain_requested(home=home) is True
    assert dc._marker_epoch_is_stale(body) is False


def test_empty_current_epoch_disables_the_epoch_check(
    dc: ModuleType, home: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: "")
    body = marker(epoch=OTHER_EPOCH)
    put_marker(home, body)
    assert dc.drain_requested(home=home) is True
    assert dc._marker_epoch_is_stale(body) is False


def _fail_proc_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path.read_text

    def read_text(self: Path, *args: Any, **kwargs: Any) -> str:
        if str(self).startswith("/proc/"):
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)


def test_epoch_is_empty_when_path_read_text_fails_for_proc(
    dc: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_proc_reads(monkeypatch)
    monkeypatch.setattr(sys, "platform", "linux")
    dc.current_instantiation_epoch.cache_clear()
    assert dc.current_instantiation_epoch() == ""


def test_epoch_on_darwin_is_the_psutil_boot_time(
    dc: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_proc_reads(monkeypatch)
    monkeypatch.setattr(sys, "platform", "darwin")
    fake = types.ModuleType("psutil")
    fake.boot_time = lambda: 1727384428.0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "psutil", fake)
    dc.current_instantiation_epoch.cache_clear()
    assert dc.current_instantiation_epoch() == "1727384428"


@pytest.mark.parametrize("boot_time", [0.0, -5.0])
def test_epoch_on_darwin_is_empty_for_a_non_positive_boot_time(
    dc: ModuleType, monkeypatch: pytest.MonkeyPatch, boot_time: float
) -> None:
    _fail_proc_reads(monkeypatch)
    monkeypatch.setattr(sys, "platform", "darwin")
    fake = types.ModuleType("psutil")
    fake.boot_time = lambda: boot_time  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "psutil", fake)
    dc.current_instantiation_epoch.cache_clear()
    assert dc.current_instantiation_epoch() == ""


def test_psutil_is_not_consulted_off_darwin_or_when_proc_answers(
    dc: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom() -> float:
        raise AssertionError("psutil must not be asked")

    fake = types.ModuleType("psutil")
    fake.boot_time = boom  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "psutil", fake)
    _fail_proc_reads(monkeypatch)
    monkeypatch.setattr(sys, "platform", "linux")
    dc.current_instantiation_epoch.cache_clear()
    assert dc.current_instantiation_epoch() == ""
