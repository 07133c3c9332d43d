"""The original module's behaviours, one test each: a marker's expiry after
``DRAIN_REQUEST_MAX_AGE_SECONDS`` and its warning, logged once per marker.

These are the behaviours the host's own tests pin; a host that swaps its module for the
one-line shim keeps them. Each runs against the package and against the host's alias
of it (the ``dc`` fixture runs every test twice).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest

from original_behaviours_helpers import PutMarker, iso, marker, utc_now


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
