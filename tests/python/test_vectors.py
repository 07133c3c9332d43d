"""Every shared contract vector through ``classify_marker``.

The vectors were produced by running the original. This harness only runs each
vector's marker bytes, epoch and "now" through ``classify_marker`` and writes what it
made of it, one JSON line a vector; whether that is what the vector expects is decided
by ``tests/vectors/match.py``, the one matcher of every binding, which this test runs.
The line carries ``read`` exactly: the JSON text must give back a value equal to the
one ``classify_marker`` returned, in Python's own types.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import drain_control

VECTORS_DIR = Path(__file__).resolve().parents[1] / "vectors"
VECTORS = json.loads((VECTORS_DIR / "contract-vectors.json").read_text())["vectors"]
MATCHER = VECTORS_DIR / "match.py"


def result(vector: dict[str, Any]) -> str:
    """What ``classify_marker`` makes of one vector: a line for the matcher."""
    got = drain_control.classify_marker(
        base64.b64decode(vector["marker_b64"]),
        current_epoch=vector["current_epoch"],
        now=datetime.fromisoformat(vector["now"]),
    )
    line = json.dumps(
        {
            "name": vector["name"],
            "read": got.read,
            "present": got.present,
            "active": got.active,
            "suppressed": got.suppressed,
            "epoch_stale": got.epoch_stale,
            "expired": got.expired,
        }
    )
    # json.dumps would write a tuple as a list and an int key as a string: the read
    # must be exactly what its JSON says.
    assert json.loads(line)["read"] == got.read, f"{vector['name']}: {got.read!r}"
    return line


def test_every_shared_vector_classifies_as_the_original_did() -> None:
    lines = "".join(result(vector) + "\n" for vector in VECTORS)
    matched = subprocess.run(
        [sys.executable, str(MATCHER), "python", "-"],
        input=lines,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert matched.returncode == 0, f"{MATCHER}:\n{matched.stdout}{matched.stderr}"


def test_a_naive_now_is_utc() -> None:
    raw = b'{"requested_at": "2026-11-27T11:00:00+00:00"}'
    aware = datetime.fromisoformat("2026-11-27T12:00:00.000001+00:00")
    naive = datetime.fromisoformat("2026-11-27T12:00:00.000001")
    for now in (aware, naive):
        got = drain_control.classify_marker(raw, current_epoch="", now=now)
        assert got.expired is True and got.active is False
    on_the_hour = datetime.fromisoformat("2026-11-27T12:00:00")
    assert drain_control.classify_marker(raw, current_epoch="", now=on_the_hour).active
