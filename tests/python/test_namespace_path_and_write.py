"""The original's module namespace (issue 11, part 1): the rows of
``drain_request_path`` (``get_hermes_home``, ``_DRAIN_REQUEST_FILENAME``) and of
``write_drain_request`` (``datetime``, ``timezone``, ``current_instantiation_epoch``,
``drain_request_path``, ``atomic_json_write``).

The rows, and how each test runs one scenario on the module under test and on
the original, are in ``namespace_helpers.py``.
"""

from __future__ import annotations

import json
import os
import types
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from namespace_helpers import EPOCH, MARKER, frozen_datetime


# --- drain_request_path: get_hermes_home, _DRAIN_REQUEST_FILENAME -------------------------


def test_a_patched_get_hermes_home_moves_every_function(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERMES_HOME", str(tmp_path / "from-the-environment"))
    for module in both:
        home = tmp_path / module.__name__
        monkeypatch.setattr(module, "get_hermes_home", lambda home=home: home)
        assert module.drain_request_path() == home / MARKER
        payload = module.write_drain_request(principal="dashboard")
        assert json.loads((home / MARKER).read_text()) == payload
        assert module.read_drain_request() == payload
        assert module.drain_requested() is True
        assert module._active_drain_body(None) == payload
        assert module.clear_drain_request() is True
        assert module.drain_requested() is False
    assert not (tmp_path / "from-the-environment").exists()


def test_an_explicit_home_never_asks_get_hermes_home(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom() -> Path:
        raise AssertionError("get_hermes_home asked for an explicit home")

    for module in both:
        monkeypatch.setattr(module, "get_hermes_home", boom)
        home = tmp_path / module.__name__
        assert module.drain_request_path(home) == home / MARKER
        assert module.drain_requested(home=home) is False
        module.write_drain_request(home=home)
        assert module.read_drain_request(home=home) is not None
        assert module.clear_drain_request(home=home) is True
        with pytest.raises(AssertionError):
            module.drain_requested()


def test_get_hermes_home_may_return_a_str(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in both:
        home = str(tmp_path / module.__name__)
        monkeypatch.setattr(module, "get_hermes_home", lambda home=home: home)
        assert module.drain_request_path() == Path(home) / MARKER
        assert isinstance(module.drain_request_path(), Path)


def test_a_patched_marker_file_name_is_used_everywhere(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in both:
        home = tmp_path / module.__name__
        monkeypatch.setattr(module, "_DRAIN_REQUEST_FILENAME", "other-marker.json")
        assert module.drain_request_path(home) == home / "other-marker.json"
        payload = module.write_drain_request(home=home)
        assert os.listdir(home) == ["other-marker.json"]
        assert module.read_drain_request(home=home) == payload
        assert module.drain_requested(home=home) is True
        assert module.drain_notification_suppressed(home=home) is False
        assert module.clear_drain_request(home=home) is True
        assert os.listdir(home) == []


# --- write_drain_request: datetime, timezone, current_instantiation_epoch, ------------------
# --- drain_request_path, atomic_json_write ----------------------------------------------


def written(home: Path) -> bytes:
    return (home / MARKER).read_bytes()


def test_write_stamps_a_patched_datetime(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
    files = []
    for module in both:
        monkeypatch.setattr(module, "datetime", frozen_datetime(moment))
        monkeypatch.setattr(module, "current_instantiation_epoch", lambda: EPOCH)
        home = tmp_path / module.__name__
        payload = module.write_drain_request(principal="zoë", home=home)
        assert payload["requested_at"] == "2026-01-02T03:04:05.678901+00:00"
        assert json.loads(written(home)) == payload
        files.append(written(home))
    assert files[0] == files[1]


def test_write_stamps_in_a_patched_timezone(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plus_two = timezone(timedelta(hours=2))
    for module in both:
        monkeypatch.setattr(module, "timezone", types.SimpleNamespace(utc=plus_two))
        payload = module.write_drain_request(home=tmp_path / module.__name__)
        assert payload["requested_at"].endswith("+02:00")
        # Still the same instant: the marker is not expired, and drains.
        assert module.drain_requested(home=tmp_path / module.__name__) is True


@pytest.mark.parametrize("epoch", [EPOCH, "", 123, None])
def test_write_stamps_what_a_patched_epoch_returns(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, epoch: Any
) -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    files = []
    for module in both:
        monkeypatch.setattr(module, "current_instantiation_epoch", lambda: epoch)
        monkeypatch.setattr(module, "datetime", frozen_datetime(moment))
        home = tmp_path / module.__name__
        payload = module.write_drain_request(home=home)
        assert payload["epoch"] == epoch and type(payload["epoch"]) is type(epoch)
        assert module.read_drain_request(home=home) == payload
        files.append(written(home))
    assert files[0] == files[1]


def test_write_goes_where_a_patched_drain_request_path_says(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in both:
        target = tmp_path / module.__name__ / "elsewhere.json"
        asked = []
        monkeypatch.setattr(
            module, "drain_request_path", lambda home=None, t=target: asked.append(home) or t
        )
        payload = module.write_drain_request(home="/ignored")
        assert asked == ["/ignored"]
        assert json.loads(target.read_text()) == payload
        assert not Path("/ignored").exists()


def test_write_hands_the_payload_to_a_patched_atomic_json_write(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in both:
        calls: list[tuple[Any, ...]] = []
        monkeypatch.setattr(
            module, "atomic_json_write", lambda *args, **kwargs: calls.append((args, kwargs))
        )
        home = tmp_path / module.__name__
        payload = module.write_drain_request(principal="p", suppress_notification=1, home=home)
        assert calls == [((home / MARKER, payload), {})]
        assert payload["suppress_notification"] is True
        assert list(payload) == [
            "action",
            "requested_at",
            "principal",
            "epoch",
            "suppress_notification",
        ]
        assert not home.exists()


def test_write_calls_the_patched_names_in_the_originals_order(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    orders = []
    for module in both:
        calls: list[Any] = []
        moment = datetime(2026, 1, 2, tzinfo=timezone.utc)
        monkeypatch.setattr(module, "datetime", frozen_datetime(moment, calls))
        monkeypatch.setattr(
            module, "current_instantiation_epoch", lambda c=calls: c.append("epoch") or EPOCH
        )
        monkeypatch.setattr(
            module,
            "drain_request_path",
            lambda home=None, c=calls: c.append(("path", home)) or tmp_path / "m.json",
        )
        monkeypatch.setattr(
            module, "atomic_json_write", lambda path, data, c=calls: c.append(("write", path))
        )
        module.write_drain_request(home="h")
        orders.append(calls)
    expected = [
        ("datetime.now", timezone.utc),
        "epoch",
        ("path", "h"),
        ("write", tmp_path / "m.json"),
    ]
    assert orders == [expected, expected]
