"""Every shared contract vector through ``classify_marker``, comparing ``read`` too.

The vectors were produced by running the original. ``also_allowed`` names a second
acceptable outcome (it may leave ``read`` out: then only the verdict is constrained);
``read_python_json`` is Python's own reading where it has no strict-JSON form, which
this library reads as contentless instead, so only ``also_allowed`` can match there;
``reference_raises`` marks inputs on which the original raised, read as contentless.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

import pytest

import drain_control

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "contract-vectors.json").read_text()
)["vectors"]


def matches(outcome: Optional[dict[str, Any]], got: drain_control.Classification) -> bool:
    if outcome is None:
        return False
    read_ok = "read" not in outcome or outcome["read"] == got.read
    return (
        read_ok
        and outcome["active"] == got.active
        and outcome["suppressed"] == got.suppressed
    )


def test_the_vector_file_is_complete() -> None:
    assert len(VECTORS) >= 90


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_classifies_as_the_original_did(vector: dict[str, Any]) -> None:
    raw = base64.b64decode(vector["marker_b64"])
    got = drain_control.classify_marker(
        raw,
        current_epoch=vector["current_epoch"],
        now=datetime.fromisoformat(vector["now"]),
    )
    assert got.present is True, "bytes always make a present marker"
    assert got.active == (got.present and not got.epoch_stale and not got.expired)
    expect = vector["expect"]
    python_only = "read_python_json" in expect
    ok = not python_only and matches(expect, got)
    ok = ok or matches(vector.get("also_allowed"), got)
    if "reference_raises" in vector:
        ok = ok and got.read == {}
    if python_only:
        assert got.read == {}, "Python-only JSON reads as contentless in every binding"
    assert ok, f"{vector['name']}: got {got!r}, expected {expect!r}"


def test_a_naive_now_is_utc() -> None:
    raw = b'{"requested_at": "2026-11-27T11:00:00+00:00"}'
    aware = datetime.fromisoformat("2026-11-27T12:00:00.000001+00:00")
    naive = datetime.fromisoformat("2026-11-27T12:00:00.000001")
    for now in (aware, naive):
        got = drain_control.classify_marker(raw, current_epoch="", now=now)
        assert got.expired is True and got.active is False
    on_the_hour = datetime.fromisoformat("2026-11-27T12:00:00")
    assert drain_control.classify_marker(raw, current_epoch="", now=on_the_hour).active
