"""What the tests of the drain watcher share (``test_watch_states.py``,
``test_watch_lifecycle.py``, ``test_watch_asyncio.py``): the epochs, the timings its
waits are bounded by, hand-written markers, and a watcher with what it must report.
``EPOCH`` is the epoch the ``epoch`` fixture (conftest.py) pins.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, Optional

import drain_control

EPOCH = "0f6d3c1e-7d1a-4c55-9a43-0f2b1e4b5c6d:1234"
OTHER_EPOCH = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:99"
# Long: a change must be seen through inotify, never through the fallback re-read.
SLOW_FALLBACK = 60.0
# How long a test waits for a change before failing.
PATIENCE = 5.0
# How long "no change" is watched for.
QUIET = 0.3


def marker_path(home: Path) -> Path:
    return home / ".drain_request.json"


def put(home: Path, body: Any) -> None:
    """An atomic hand-written marker (temp file and rename, as every writer does)."""
    home.mkdir(parents=True, exist_ok=True)
    tmp = home / "..drain_request_test.tmp"
    if isinstance(body, bytes):
        tmp.write_bytes(body)
    else:
        tmp.write_text(json.dumps(body, indent=2), encoding="utf-8")
    os.replace(tmp, marker_path(home))


def iso(moment: datetime) -> str:
    return moment.isoformat()


def body(epoch: str = EPOCH, requested_at: Optional[str] = None, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "action": "drain",
        "requested_at": requested_at or iso(datetime.now(timezone.utc)),
        "principal": "dashboard",
        "epoch": epoch,
        "suppress_notification": False,
    }
    result.update(extra)
    return result


def watcher(dc: ModuleType, home: Path, **options: Any) -> drain_control.DrainWatcher:
    options.setdefault("fallback_interval", SLOW_FALLBACK)
    w: drain_control.DrainWatcher = dc.watch(home=home, **options)
    return w


def expect(w: drain_control.DrainWatcher, state: str) -> drain_control.Change:
    change = w.next(timeout=PATIENCE)
    assert change is not None, f"no change within {PATIENCE}s, expected {state}"
    assert change.state == state, change
    return change


def expect_quiet(w: drain_control.DrainWatcher) -> None:
    change = w.next(timeout=QUIET)
    assert change is None, f"unexpected change: {change}"
