"""What the tests of the original module's behaviours share
(``test_original_behaviours_*.py``): the epochs, the clock, and a marker as the host
writes it. ``EPOCH`` is the epoch the ``epoch`` fixture (conftest.py) pins.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

EPOCH = "0f6d3c1e-7d1a-4c55-9a43-0f2b1e4b5c6d:1234"
OTHER_EPOCH = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:99"
PutMarker = Callable[[Path, Any], Path]


def iso(moment: datetime) -> str:
    return moment.isoformat()


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def marker(epoch: Any = EPOCH, requested_at: Any = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": "drain",
        "requested_at": iso(utc_now()) if requested_at is None else requested_at,
        "principal": "dashboard",
        "epoch": epoch,
    }
    body.update(extra)
    return body
