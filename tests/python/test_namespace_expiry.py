"""The original's module namespace (issue 11, part 1): the row of
``_marker_is_expired`` (``_parse_iso``, ``datetime``, ``timezone``,
``DRAIN_REQUEST_MAX_AGE_SECONDS``, ``_expiry_logged_for``, ``_log``).

The rows, and how each test runs one scenario on the module under test and on
the original, are in ``namespace_helpers.py``.
"""

from __future__ import annotations

import types
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from namespace_helpers import PutMarker, ago, frozen_datetime, host_logger, utc_now


# --- _marker_is_expired(body): _parse_iso, datetime, timezone, -----------------------------
# --- DRAIN_REQUEST_MAX_AGE_SECONDS, _expiry_logged_for, _log -------------------------------


def test_a_patched_parse_iso_decides_what_a_timestamp_is(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    two_hours_ago = utc_now() - timedelta(hours=2)
    for module in both:
        home = tmp_path / module.__name__
        put_marker(home, {"requested_at": "not a timestamp", "suppress_notification": True})
        parsed: list[Any] = []
        monkeypatch.setattr(module, "_parse_iso", lambda v: parsed.append(v) or two_hours_ago)
        assert module._marker_is_expired({"requested_at": "not a timestamp"}) is True
        assert module._marker_is_expired({}) is True  # _parse_iso(None), as patched
        assert module.drain_requested(home=home) is False
        assert module.drain_notification_suppressed(home=home) is False
        assert parsed == ["not a timestamp", None, "not a timestamp", "not a timestamp"]
        monkeypatch.setattr(module, "_parse_iso", lambda v: None)
        put_marker(home, {"requested_at": ago(hours=5)})
        assert module.drain_requested(home=home) is True


def test_a_patched_datetime_is_the_clock_of_expiry(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    requested = datetime(2026, 1, 2, 3, 0, tzinfo=timezone.utc)
    for module in both:
        home = tmp_path / module.__name__
        put_marker(home, {"requested_at": requested.isoformat()})
        calls: list[Any] = []
        for later, expired in [
            (timedelta(minutes=30), False),
            (timedelta(hours=1), False),
            (timedelta(hours=1, microseconds=1), True),
            (timedelta(hours=-3), False),  # from the future: never expired
        ]:
            monkeypatch.setattr(module, "datetime", frozen_datetime(requested + later, calls))
            assert module._marker_is_expired({"requested_at": requested.isoformat()}) is expired
            assert module.drain_requested(home=home) is (not expired)
        assert {tz for _, tz in calls} == {timezone.utc}


def test_a_patched_timezone_is_the_one_now_is_asked_in(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    zone = timezone(timedelta(hours=-7), "host zone")
    for module in both:
        home = tmp_path / module.__name__
        put_marker(home, {"requested_at": ago(minutes=10)})
        calls: list[Any] = []
        monkeypatch.setattr(module, "datetime", frozen_datetime(utc_now(), calls))
        monkeypatch.setattr(module, "timezone", types.SimpleNamespace(utc=zone))
        assert module.drain_requested(home=home) is True
        assert calls == [("datetime.now", zone)]


@pytest.mark.parametrize(
    ("max_age", "expired"),
    [(60.0, True), (100, False), (float("inf"), False), (float("nan"), True), (-1.0, True)],
)
def test_a_patched_max_age_is_compared_as_the_original_compares_it(
    both: list[ModuleType],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    put_marker: PutMarker,
    max_age: float,
    expired: bool,
) -> None:
    for module in both:
        home = tmp_path / module.__name__
        body = {"requested_at": ago(seconds=90), "suppress_notification": True}
        put_marker(home, body)
        monkeypatch.setattr(module, "DRAIN_REQUEST_MAX_AGE_SECONDS", max_age)
        assert module._marker_is_expired(body) is expired
        assert module.drain_requested(home=home) is (not expired)
        assert module.drain_notification_suppressed(home=home) is (not expired)


def test_a_max_age_that_does_not_compare_raises_type_error(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    for module in both:
        home = tmp_path / module.__name__
        put_marker(home, {"requested_at": ago(seconds=90)})
        monkeypatch.setattr(module, "DRAIN_REQUEST_MAX_AGE_SECONDS", "3600")
        with pytest.raises(TypeError):
            module.drain_requested(home=home)
        put_marker(home, {"requested_at": "unparseable"})
        assert module.drain_requested(home=home) is True  # never compared


def test_expiry_is_logged_as_the_original_logs_it(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    a, b = ago(hours=2), ago(hours=3)
    for module in both:
        logger, recorder = host_logger(module.__name__)
        monkeypatch.setattr(module, "_log", logger)
        home = tmp_path / module.__name__
        history = []
        for requested_at in [a, a, b, b, a, None, a]:
            if requested_at is None:
                monkeypatch.setattr(module, "_expiry_logged_for", None)  # a host's reset
                continue
            put_marker(home, {"requested_at": requested_at, "principal": "ops-bot"})
            assert module.drain_requested(home=home) is False
            history.append((len(recorder.messages), module._expiry_logged_for))
        assert history == [(1, a), (1, a), (2, b), (2, b), (3, a), (4, a)]
        for message, requested_at in zip(recorder.messages, [a, b, a, a]):
            assert "expired drain marker" in message
            assert requested_at in message and "ops-bot" in message
        monkeypatch.setattr(module, "_expiry_logged_for", b)
        assert module._marker_is_expired({"requested_at": b}) is True
        assert len(recorder.messages) == 4


def test_expiry_through_patched_names_is_logged_once_per_marker_too(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    for module in both:
        logger, recorder = host_logger(module.__name__)
        monkeypatch.setattr(module, "_log", logger)
        monkeypatch.setattr(module, "DRAIN_REQUEST_MAX_AGE_SECONDS", 60.0)
        home = tmp_path / module.__name__
        requested_at = ago(seconds=90)
        put_marker(home, {"requested_at": requested_at, "principal": "ops-bot"})
        for _ in range(3):
            assert module.drain_requested(home=home) is False
        assert len(recorder.messages) == 1
        assert module._expiry_logged_for == requested_at
        message = recorder.messages[0]
        assert "expired drain marker" in message and requested_at in message
        assert "90s" in message and "60s" in message and "ops-bot" in message


@pytest.mark.parametrize(
    "patch",
    [
        pytest.param(("_parse_iso", lambda v: datetime(2026, 1, 1)), id="naive-parse"),
        pytest.param(("_parse_iso", lambda v: "2026-01-01"), id="str-parse"),
        pytest.param(("datetime", "naive-now"), id="naive-now"),
    ],
)
def test_odd_values_from_patched_names_fail_as_in_the_original(
    both: list[ModuleType],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    put_marker: PutMarker,
    patch: tuple[str, Any],
) -> None:
    name, value = patch
    if value == "naive-now":

        class NaiveNow(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
                return datetime(2030, 1, 1)

        value = NaiveNow
    for module in both:
        home = tmp_path / module.__name__
        put_marker(home, {"requested_at": "2026-01-01T00:00:00+00:00"})
        monkeypatch.setattr(module, name, value)
        with pytest.raises(TypeError):
            module.drain_requested(home=home)
        with pytest.raises(TypeError):
            module._marker_is_expired({"requested_at": "2026-01-01T00:00:00+00:00"})
