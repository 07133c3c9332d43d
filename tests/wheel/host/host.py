"""A host that uses every public name of gateway.drain_control (drain_control.__all__
and the original module's names a host reads or patches) through the README's shim:
scripts/test-wheel type-checks it with mypy --strict and runs it (HERMES_HOME set)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, Optional

import gateway.drain_control as dc
from gateway.drain_control import (
    DRAIN_REQUEST_MAX_AGE_SECONDS,
    Change,
    Classification,
    DrainHeldError,
    DrainHolder,
    DrainWatcher,
    GatewayState,
    InvalidLeaseTokenError,
    Lease,
    LeaseBusyError,
    LeaseError,
    LeaseLostError,
    ScopedDrain,
    State,
    begin_lease,
    classify_marker,
    clear_drain_request,
    current_instantiation_epoch,
    drain,
    drain_notification_suppressed,
    drain_request_path,
    drain_requested,
    gateway_state,
    install_as,
    read_drain_request,
    resume_lease,
    wait_gateway_idle,
    watch,
    write_drain_request,
)


def dashboard(home: Path) -> tuple[dict[str, Any], bool]:
    payload: dict[str, Any] = write_drain_request(
        principal="dashboard", suppress_notification=True, home=home
    )
    return payload, clear_drain_request(home=home)


def gateway_poll(home: Optional[str] = None) -> tuple[bool, bool, Optional[dict[str, Any]]]:
    return (
        drain_requested(home=home),
        drain_notification_suppressed(home=home),
        read_drain_request(home=home),
    )


def judge(raw: bytes) -> Classification:
    verdict = classify_marker(
        raw, current_epoch=current_instantiation_epoch(), now=datetime.now(timezone.utc)
    )
    flags: list[bool] = [verdict.present, verdict.active, verdict.suppressed,
                         verdict.epoch_stale, verdict.expired]
    assert len(flags) == 5
    return verdict


async def follow(home: Path) -> list[State]:
    states: list[State] = []
    watcher: DrainWatcher = watch(home=home, fallback_interval=0.5, every_change=True)
    async with watcher:
        async for change in watcher:
            seen: Change = change
            states.append(seen.state)
            break
    return states


def exclusive(home: Path) -> Optional[DrainHolder]:
    try:
        lease: Lease = begin_lease("host-job", home=home, wait=0.5, lock_wait=1.0)
    except DrainHeldError as held:
        return held.holder
    except LeaseBusyError as busy:
        raise RuntimeError(f"busy for {busy.waited} s") from busy
    try:
        resume_lease(lease.token, home=home).keep_alive()
    except (InvalidLeaseTokenError, LeaseLostError) as error:
        raise AssertionError("the lease's own token") from error
    except LeaseError:
        raise
    assert lease.release()
    return None


async def scoped(home: Path) -> bool:
    scope: ScopedDrain = drain("host-job", True, home=home)
    async with scope as lease:
        return lease.lost is None and drain_notification_suppressed(home=home)


def before_migrating(home: Path) -> bool:
    now: GatewayState = gateway_state(home=home)
    waited: GatewayState = wait_gateway_idle(0.5, home=home)
    return now.idle == waited.idle and waited.in_flight is None


# The original's module-level names that a host reads or patches.
path: Path = drain_request_path()
path_in: Path = dc.drain_request_path(Path("/srv/hermes"))
max_age: float = DRAIN_REQUEST_MAX_AGE_SECONDS + dc.DRAIN_REQUEST_MAX_AGE_SECONDS
filename: str = dc._DRAIN_REQUEST_FILENAME
home: Path = dc.get_hermes_home()
logger: logging.Logger = dc._log
dc._expiry_logged_for = None
last_expired: Optional[str] = dc._expiry_logged_for
body: Optional[dict[str, Any]] = dc._active_drain_body(None)
expired: bool = dc._marker_is_expired({"requested_at": "2026-01-01T00:00:00+00:00"})
parsed: Optional[datetime] = dc._parse_iso("2026-01-01T00:00:00+00:00")
dc.atomic_json_write(path, {"principal": "host"}, indent=2, mode=0o600)
dc.current_instantiation_epoch.cache_clear()
epoch: str = dc.current_instantiation_epoch()
states: list[State] = asyncio.run(follow(home))
copy: ModuleType = install_as("host_drain_control_copy")
lease_home: Path = home / "leases"
assert exclusive(lease_home) is None and asyncio.run(scoped(lease_home))
assert before_migrating(lease_home)
