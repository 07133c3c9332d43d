"""The original module's behaviours, one test each: the marker's presence, its write
and clear, ``suppress_notification``, and the original's surface (its names and
signatures). The epoch: ``test_original_behaviours_epoch.py``; expiry:
``test_original_behaviours_expiry.py``.

These are the behaviours the host's own tests pin; a host that swaps its module for the
one-line shim keeps them. Each runs against the package and against the host's alias
of it (the ``dc`` fixture runs every test twice).
"""

from __future__ import annotations

import inspect
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType

import pytest

from original_behaviours_helpers import OTHER_EPOCH, PutMarker, marker, utc_now


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
