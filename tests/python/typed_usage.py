"""A small typed use of the public API: `mypy --strict` must accept it as it is."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import drain_control
from drain_control import Classification


def begin(home: Path) -> dict[str, Any]:
    return drain_control.write_drain_request(principal="dashboard", home=home)


def status(home: str) -> tuple[bool, bool, Optional[dict[str, Any]]]:
    return (
        drain_control.drain_requested(home=home),
        drain_control.drain_notification_suppressed(home=home),
        drain_control.read_drain_request(home=home),
    )


def cancel(home: Optional[Path] = None) -> bool:
    return drain_control.clear_drain_request(home=home)


def judge(raw: bytes) -> Classification:
    result = drain_control.classify_marker(
        raw,
        current_epoch=drain_control.current_instantiation_epoch(),
        now=datetime.now(timezone.utc),
    )
    read: Optional[dict[str, Any]] = result.read
    flags: list[bool] = [
        result.present,
        result.active,
        result.suppressed,
        result.epoch_stale,
        result.expired,
    ]
    assert read is not None and len(flags) == 5
    return result


marker: Path = drain_control.drain_request_path()
max_age: float = drain_control.DRAIN_REQUEST_MAX_AGE_SECONDS
drain_control.current_instantiation_epoch.cache_clear()
alias = drain_control.install_as("my_host.drain_control")
version: str = drain_control.__version__


def watch_once(home: Path) -> Optional[drain_control.Change]:
    with drain_control.watch(home=home, fallback_interval=0.5, every_change=False) as w:
        fd: int = w.fileno()
        assert fd >= 0
        change = w.next(timeout=0.1)
        if change is not None:
            state: drain_control.State = change.state
            body: Optional[dict[str, Any]] = change.body
            moments: list[Optional[datetime]] = [change.at, change.expires_at]
            flags = [change.active, change.suppressed, change.present, change.initial]
            assert state and moments and flags and (body is None or isinstance(body, dict))
        for later in w:
            return later
    return None


async def watch_async(home: Path) -> list[str]:
    states: list[str] = []
    watcher: drain_control.DrainWatcher = drain_control.watch(home=home)
    async with watcher:
        async for change in watcher:
            states.append(change.state)
            if change.draining:
                break
        last = await watcher.wait(timeout=0.1)
        if last is not None:
            states.append(last.state)
    return states


def lease_round_trip(home: Path) -> Optional[str]:
    try:
        lease: drain_control.Lease = drain_control.begin_lease(
            "migration", True, home=home, wait=1.5, lock_wait=0.5
        )
    except drain_control.DrainHeldError as held:
        holder: drain_control.DrainHolder = held.holder
        owned: bool = holder.owned
        return f"{holder.principal!r} since {holder.requested_at} ({holder.state}, {owned})"
    except drain_control.LeaseBusyError as busy:
        return f"busy after {busy.waited} s: {busy.filename}"
    token: str = lease.token
    written: dict[str, Any] = lease.keep_alive()
    assert written["owner_token"] == token
    resumed = drain_control.resume_lease(token, home=home)
    try:
        resumed.keep_alive()
    except drain_control.LeaseLostError as lost:
        return None if lost.holder is None else lost.holder.state
    removed: bool = resumed.release()
    return str(removed)


def scoped_drain(home: Path) -> Optional[drain_control.LeaseLostError]:
    scope: drain_control.ScopedDrain = drain_control.drain("job", home=home)
    with scope as lease:
        assert lease.held
    return lease.lost


async def scoped_drain_async(home: Path) -> Path:
    async with drain_control.drain("job", home=home, wait=math.inf) as lease:
        return lease.path
