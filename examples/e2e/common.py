"""What every part of the end-to-end demo (run.py) shares: the contract's numbers,
what each drain state means as the timeline prints it, and the clock."""

from __future__ import annotations

import time
from datetime import datetime, timezone

MAX_AGE = 3600.0  # the contract's maximum age of a marker, in seconds
MARKER = ".drain_request.json"

# What each state means, as the timeline prints it.
MEANING = {
    "absent": "not draining",
    "active": "DRAINING",
    "suppressed": "DRAINING (quietly)",
    "epoch-stale": "ignored: from a previous boot",
    "expired": "ignored: expired",
}


def now() -> float:
    return time.time()


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).isoformat()


def clock(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%H:%M:%S.%f")[:-3]
