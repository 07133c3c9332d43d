"""The original module's behaviours, one test each, against the package and against the
host's alias of it (the ``dc`` fixture runs every test twice).

These are the behaviours the host's own tests pin; a host that swaps its module for the
one-line shim keeps them.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import sys
import types
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import pytest

EPOCH = "0f6d3c1e-7d1a-4c55-9a43-0f2b1e4b5c6d:1234"
OTHER_EPOCH = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:99"
PutMarker = Callable[[Path, Any], Path]


def iso(moment: datetime) -> str:
    return moment.isoformat()


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@pytest.fixture
def epoch(dc: ModuleType, monkeypatch: pytest.MonkeyPatch) -> str:
    """Pins the current epoch through the module attribute hosts patch."""
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: EPOCH)
    return EPOCH


def marker(epoch: Any = EPOCH, requested_at: Any = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": "drain",
        "requested_at": iso(utc_now()) if requested_at is None else requested_at,
        "principal": "dashboard",
        "epoch": epoch,
    }
    body.update(extra)
    return body


# --- presence, write, clear -------------------------------------------------------------


def test_absent_by_default(dc: ModuleType, home: Path) -> None:
    assert dc.read_drain_request(home=home) is None
    assert dc.drain_requested(home=home) is False


def test_no_active_body_by_default(dc: ModuleType, home: Path) -> None:
    assert dc._active_drain_body(home=home) is None


def test_write_then_present_with_payload_fields_and_requested_at_format(
    dc: ModuleType, home: Path
) -> None:
    before = utc_now()
    payload = dc.write_drain_request(principal="dashboard", home=home)
    after = utc_now()
    assert dc.drain_requested(home=home) is True
    assert isinstance(payload, dict)
    assert list(payload)[:4] == ["action", "requested_at", "principal", "epoch"]
    assert payload["action"] == "drain"
    assert payload["principal"] == "dashboard"
    stamp = payload["requested_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00", stamp)
    assert not stamp.endswith(".000000+00:00")
    parsed = datetime.fromisoformat(stamp)
    assert parsed.utcoffset() == timedelta(0)
    assert before - timedelta(microseconds=1) <= parsed <= after
    assert dc.read_drain_request(home=home) == payload


def test_payload_has_the_contract_fields_in_order(dc: ModuleType, home: Path) -> None:
    payload = dc.write_drain_request(home=home)
    assert list(payload) == [
        "action",
        "requested_at",
        "principal",
        "epoch",
        "suppress_notification",
    ]
    assert payload["suppress_notification"] is False


def test_default_principal_is_drain_control(dc: ModuleType, home: Path) -> None:
    assert dc.write_drain_request(home=home)["principal"] == "drain-control"


def test_clear_returns_true_then_false(dc: ModuleType, home: Path) -> None:
    dc.write_drain_request(home=home)
    assert dc.clear_drain_request(home=home) is True
    assert dc.clear_drain_request(home=home) is False
    assert dc.drain_requested(home=home) is False


def test_path_respects_hermes_home_set_after_import(
    dc: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    monkeypatch.setenv("HERMES_HOME", str(first))
    assert dc.drain_request_path() == first / ".drain_request.json"
    monkeypatch.setenv("HERMES_HOME", f"  {second}\n")
    assert dc.drain_request_path() == second / ".drain_request.json"
    dc.write_drain_request()
    assert (second / ".drain_request.json").is_file()
    assert dc.drain_requested() is True
    monkeypatch.delenv("HERMES_HOME")
    assert dc.drain_request_path() == Path.home() / ".hermes" / ".drain_request.json"


def test_path_takes_str_and_path_like_homes(dc: ModuleType, tmp_path: Path) -> None:
    class Home:
        def __fspath__(self) -> str:
            return str(tmp_path)

    expected = tmp_path / ".drain_request.json"
    for home in (tmp_path, str(tmp_path), Home()):
        assert dc.drain_request_path(home) == expected
        assert isinstance(dc.drain_request_path(home), Path)
    assert dc._DRAIN_REQUEST_FILENAME == ".drain_request.json"


def test_corrupt_marker_reads_as_empty_and_active(
    dc: ModuleType, home: Path, put_marker: PutMarker
) -> None:
    put_marker(home, b'{"action": "dra')
    assert dc.read_drain_request(home=home) == {}
    assert dc.drain_requested(home=home) is True


def test_corrupt_marker_is_an_active_empty_body(
    dc: ModuleType, home: Path, put_marker: PutMarker
) -> None:
    put_marker(home, b'{"action": "dra')
    assert dc._active_drain_body(home=home) == {}


def test_write_produces_valid_json_with_the_exact_layout(dc: ModuleType, home: Path) -> None:
    payload = dc.write_drain_request(principal="Zoë \u2603 \"q\" \\ \n\t\x01", home=home)
    raw = (home / ".drain_request.json").read_bytes()
    assert raw == json.dumps(payload, indent=2, ensure_ascii=False).encode("utf-8")
    assert not raw.endswith(b"\n")
    assert "Zoë ☃".encode() in raw
    assert json.loads(raw) == payload
    assert raw.decode().splitlines()[1].startswith('  "action": "drain"')


# --- suppress_notification ----------------------------------------------------------


def test_suppress_flag_defaults_false(dc: ModuleType, home: Path) -> None:
    assert dc.write_drain_request(home=home)["suppress_notification"] is False
    assert dc.drain_notification_suppressed(home=home) is False


def test_suppress_flag_round_trips_true(dc: ModuleType, home: Path) -> None:
    payload = dc.write_drain_request(suppress_notification=True, home=home)
    assert payload["suppress_notification"] is True
    assert dc.read_drain_request(home=home)["suppress_notification"] is True
    assert dc.drain_notification_suppressed(home=home) is True


def test_suppressed_is_false_without_a_marker(dc: ModuleType, home: Path) -> None:
    assert dc.drain_notification_suppressed(home=home) is False


def test_suppressed_is_false_for_a_legacy_marker_without_the_field(
    dc: ModuleType, home: Path, epoch: str, put_marker: PutMarker
) -> None:
    put_marker(home, marker())
    assert dc.drain_requested(home=home) is True
    assert dc.drain_notification_suppressed(home=home) is False


def test_suppressed_is_false_for_a_corrupt_marker(
    dc: ModuleType, home: Path, put_marker: PutMarker
) -> None:
    put_marker(home, b"\x00\xff not json")
    assert dc.drain_requested(home=home) is True
    assert dc.drain_notification_suppressed(home=home) is False


def test_suppressed_is_false_for_a_stale_epoch_marker(
    dc: ModuleType, home: Path, epoch: str, put_marker: PutMarker
) -> None:
    put_marker(home, marker(epoch=OTHER_EPOCH, suppress_notification=True))
    assert dc.drain_requested(home=home) is False
    assert dc.drain_notification_suppressed(home=home) is False


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


# --- expiry ---------------------------------------------------------------------------


def test_fresh_marker_is_honoured(
    dc: ModuleType, home: Path, epoch: str, put_marker: PutMarker
) -> None:
    put_marker(home, marker(requested_at=iso(utc_now() - timedelta(seconds=5))))
    assert dc.drain_requested(home=home) is True


def test_marker_aged_max_plus_60s_is_neither_active_nor_suppressed(
    dc: ModuleType, home: Path, epoch: str, put_marker: PutMarker
) -> None:
    age = timedelta(seconds=dc.DRAIN_REQUEST_MAX_AGE_SECONDS + 60)
    body = marker(requested_at=iso(utc_now() - age), suppress_notification=True)
    put_marker(home, body)
    assert dc.drain_requested(home=home) is False
    assert dc.drain_notification_suppressed(home=home) is False
    assert dc._active_drain_body(home=home) is None
    assert dc._marker_is_expired(body) is True
    assert dc._marker_is_stale(body) is True
    assert dc._marker_epoch_is_stale(body) is False


def test_max_age_is_one_hour_as_a_float(dc: ModuleType) -> None:
    assert dc.DRAIN_REQUEST_MAX_AGE_SECONDS == 3600.0
    assert isinstance(dc.DRAIN_REQUEST_MAX_AGE_SECONDS, float)


def test_marker_without_timestamp_is_honoured(
    dc: ModuleType, home: Path, epoch: str, put_marker: PutMarker
) -> None:
    body = marker()
    del body["requested_at"]
    put_marker(home, body)
    assert dc.drain_requested(home=home) is True
    assert dc._marker_is_expired(body) is False


def test_marker_with_unparseable_timestamp_is_honoured(
    dc: ModuleType, home: Path, epoch: str, put_marker: PutMarker
) -> None:
    body = marker(requested_at="yesterday at noon")
    put_marker(home, body)
    assert dc.drain_requested(home=home) is True
    assert dc._marker_is_expired(body) is False


def test_naive_old_timestamp_is_expired(
    dc: ModuleType, home: Path, epoch: str, put_marker: PutMarker
) -> None:
    naive = (utc_now() - timedelta(hours=2)).replace(tzinfo=None)
    body = marker(requested_at=naive.isoformat())
    put_marker(home, body)
    assert dc.drain_requested(home=home) is False
    assert dc._marker_is_expired(body) is True


def test_expiry_warning_is_logged_once_per_marker_on_the_module_logger(
    dc: ModuleType,
    home: Path,
    epoch: str,
    put_marker: PutMarker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=dc.__name__)
    first = iso(utc_now() - timedelta(hours=2))
    put_marker(home, marker(requested_at=first, principal="ops-bot"))
    for _ in range(3):
        assert dc.drain_requested(home=home) is False
    expired = [r for r in caplog.records if "expired drain marker" in r.getMessage()]
    assert len(expired) == 1
    record = expired[0]
    assert record.name == dc.__name__
    assert record.levelno == logging.WARNING
    text = record.getMessage()
    assert first in text and "ops-bot" in text
    assert "7200s" in text and "3600s" in text  # the age and the maximum
    assert dc._expiry_logged_for == first

    second = iso(utc_now() - timedelta(hours=3))
    put_marker(home, marker(requested_at=second))
    for _ in range(3):
        assert dc.drain_requested(home=home) is False
        assert dc.drain_notification_suppressed(home=home) is False
    expired = [r for r in caplog.records if "expired drain marker" in r.getMessage()]
    assert len(expired) == 2
    assert second in expired[1].getMessage()
    assert dc._expiry_logged_for == second


def test_the_expiry_log_is_consulted_at_call_time(
    dc: ModuleType,
    home: Path,
    epoch: str,
    put_marker: PutMarker,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``_expiry_logged_for`` is the ``requested_at`` last logged, as in the original: a
    marker is logged when it differs, and a host resets it with ``None``."""
    caplog.set_level(logging.WARNING, logger=dc.__name__)

    def logged() -> int:
        return sum("expired drain marker" in r.getMessage() for r in caplog.records)

    a = iso(utc_now() - timedelta(hours=2))
    b = iso(utc_now() - timedelta(hours=3))
    put_marker(home, marker(requested_at=a))
    dc.drain_requested(home=home)
    dc.drain_requested(home=home)
    assert (logged(), dc._expiry_logged_for) == (1, a)
    monkeypatch.setattr(dc, "_expiry_logged_for", None)
    dc.drain_requested(home=home)
    assert (logged(), dc._expiry_logged_for) == (2, a)
    for requested_at, count in [(b, 3), (b, 3), (a, 4)]:  # A, then B, then A again
        put_marker(home, marker(requested_at=requested_at))
        assert dc.drain_requested(home=home) is False
        assert (logged(), dc._expiry_logged_for) == (count, requested_at)
    monkeypatch.setattr(dc, "_expiry_logged_for", b)
    dc._marker_is_expired(marker(requested_at=b))
    assert logged() == 4


def test_rewriting_revives_an_expired_marker(
    dc: ModuleType, home: Path, epoch: str, put_marker: PutMarker
) -> None:
    put_marker(home, marker(requested_at=iso(utc_now() - timedelta(hours=5))))
    assert dc.drain_requested(home=home) is False
    dc.write_drain_request(home=home)
    assert dc.drain_requested(home=home) is True


def test_patched_max_age_is_honoured(
    dc: ModuleType,
    home: Path,
    epoch: str,
    put_marker: PutMarker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    put_marker(home, marker(requested_at=iso(utc_now() - timedelta(seconds=90))))
    assert dc.drain_requested(home=home) is True
    monkeypatch.setattr(dc, "DRAIN_REQUEST_MAX_AGE_SECONDS", 60.0)
    assert dc.drain_requested(home=home) is False


# --- the original's surface -----------------------------------------------------------

SIGNATURES = {
    "current_instantiation_epoch": "()",
    "drain_request_path": "(home=None)",
    "write_drain_request": "(*, principal='drain-control', suppress_notification=False, home=None)",
    "clear_drain_request": "(*, home=None)",
    "read_drain_request": "(*, home=None)",
    "drain_requested": "(*, home=None)",
    "drain_notification_suppressed": "(*, home=None)",
    "_marker_epoch_is_stale": "(body)",
    "_marker_is_expired": "(body)",
    "_marker_is_stale": "(body)",
    "_active_drain_body": "(home)",
}


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_names_and_signatures_are_the_originals(dc: ModuleType, name: str) -> None:
    function = getattr(dc, name)
    signature = inspect.signature(function)
    plain = signature.replace(
        parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()],
        return_annotation=signature.empty,
    )
    assert str(plain) == SIGNATURES[name]
    assert function.__module__ == dc.__name__


def test_body_helpers_judge_bodies_that_are_not_plain_json(dc: ModuleType, epoch: str) -> None:
    old = datetime.now(timezone.utc) - timedelta(hours=2)
    assert dc._marker_epoch_is_stale({"epoch": object(), 1: "int key", (2,): "tuple key"})
    assert not dc._marker_epoch_is_stale({"epoch": b""})
    assert not dc._marker_is_expired({"requested_at": old})  # not a string: never expired
    assert dc._marker_is_expired({"requested_at": old.isoformat(), "x": {1, 2}})
    assert not dc._marker_is_stale({})
