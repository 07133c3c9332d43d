"""The gateway's observed state (issue 15): ``gateway_state`` and ``wait_gateway_idle``
read the host gateway's own ``gateway_state.json`` beside the marker, built here as the
host writes it (``gateway_state``, ``active_agents``, ``active_work``, ``pid``,
``start_time``, ``kind``, ``updated_at``, ``platforms``). Each test runs on the package
and on the host's alias of it (the ``dc`` fixture)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

RECORD = "gateway_state.json"


def start_time(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[19])


def put(home: Path, state: str, work: list[str], pid: int = 0, **extra: Any) -> None:
    pid = pid or os.getpid()
    record = {
        "kind": "hermes-gateway",
        "gateway_state": state,
        "active_agents": len(work),
        "active_work": work,
        "pid": pid,
        "start_time": start_time(pid),
        "updated_at": "2026-12-08T02:00:00+00:00",
        "platforms": {},
        **extra,
    }
    home.mkdir(parents=True, exist_ok=True)
    temp = home / f".{RECORD}.tmp"
    temp.write_text(json.dumps(record))
    os.replace(temp, home / RECORD)


def test_no_record_is_not_running_and_idle(dc: ModuleType, tmp_path: Path) -> None:
    got = dc.gateway_state(home=tmp_path)
    assert (got.state, got.idle, got.in_flight, got.work) == ("not-running", True, None, [])
    assert got.reason == f"no {RECORD}"


def test_a_running_gateway_says_its_turns_in_flight(dc: ModuleType, tmp_path: Path) -> None:
    put(tmp_path, "running", ["chat:1", "chat:2"])
    got = dc.gateway_state(home=tmp_path)
    assert (got.state, got.idle, got.in_flight) == ("running", False, 2)
    assert got.work == ["chat:1", "chat:2"]
    assert got.gateway_state == "running"
    assert got.message == "running, 2 turns in flight (chat:1, chat:2)"


def test_draining_with_turns_then_quiesced_without(dc: ModuleType, tmp_path: Path) -> None:
    put(tmp_path, "draining", ["chat:3"])
    got = dc.gateway_state(home=tmp_path)
    assert (got.state, got.idle, got.in_flight, got.gateway_state) == ("draining", False, 1, "draining")
    put(tmp_path, "draining", [])
    got = dc.gateway_state(home=tmp_path)
    assert (got.state, got.idle, got.in_flight) == ("quiesced", True, None)


def test_a_dead_or_recycled_writer_is_not_running(dc: ModuleType, tmp_path: Path) -> None:
    child = subprocess.Popen(["sleep", "30"])
    put(tmp_path, "running", ["chat:4"], pid=child.pid)
    assert dc.gateway_state(home=tmp_path).state == "running"
    child.kill()
    child.wait()
    got = dc.gateway_state(home=tmp_path)
    assert got.state == "not-running" and "is gone" in (got.reason or "")
    put(tmp_path, "running", ["chat:4"])
    record = json.loads((tmp_path / RECORD).read_text())
    record["start_time"] += 1
    (tmp_path / RECORD).write_text(json.dumps(record))
    got = dc.gateway_state(home=tmp_path)
    assert got.state == "not-running" and "another process" in (got.reason or "")


def test_garbage_is_unknown_with_the_reason(dc: ModuleType, tmp_path: Path) -> None:
    (tmp_path / RECORD).write_text("{not json")
    got = dc.gateway_state(home=tmp_path)
    assert (got.state, got.idle, got.reason) == ("unknown", False, "not a JSON object")


def test_waiting_ends_when_the_turns_finish_and_times_out_naming_them(
    dc: ModuleType, tmp_path: Path
) -> None:
    put(tmp_path, "draining", ["chat:5"])
    started = time.monotonic()
    got = dc.wait_gateway_idle(0.3, home=tmp_path)
    assert not got.idle and got.work == ["chat:5"]
    assert 0.25 < time.monotonic() - started < 5

    finished: list[float] = []

    def finish() -> None:
        time.sleep(0.3)
        put(tmp_path, "draining", [])
        finished.append(time.monotonic())

    writer = threading.Thread(target=finish)
    writer.start()
    got = dc.wait_gateway_idle(10, home=tmp_path)
    returned = time.monotonic()
    writer.join()
    assert got.idle and got.state == "quiesced"
    assert returned - finished[0] < 0.5, "woken by the record's change, not a poll"


def test_the_home_follows_a_patched_drain_request_path(
    dc: ModuleType, tmp_path: Path, monkeypatch: Any
) -> None:
    elsewhere = tmp_path / "elsewhere"
    put(elsewhere, "running", ["chat:6"])
    monkeypatch.setattr(dc, "drain_request_path", lambda home=None: elsewhere / ".drain_request.json")
    assert dc.gateway_state().state == "running"
