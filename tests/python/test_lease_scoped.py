"""Leases (issue 14, CONTRACT.md), continued: the scoped form ``drain()``, with and
without asyncio, and begins that wait for another drain to end (``wait=``), against the
installed wheel, on the package and on the host's alias of it (the ``dc`` fixture).
"""

from __future__ import annotations

import asyncio
import json
import math
import signal
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

MARKER = ".drain_request.json"


def marker_of(home: Path) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((home / MARKER).read_text(encoding="utf-8"))
    return body


def requested_at(home: Path) -> datetime:
    return datetime.fromisoformat(marker_of(home)["requested_at"])


# --- the scoped form -----------------------------------------------------------------------


class Boom(Exception):
    pass


def test_drain_releases_on_an_exception(dc: ModuleType, home: Path) -> None:
    with pytest.raises(Boom):
        with dc.drain("scoped", home=home) as lease:
            assert isinstance(lease, dc.Lease) and lease.held
            assert marker_of(home)["owner_token"] == lease.token
            assert dc.drain_requested(home=home)
            raise Boom
    assert not (home / MARKER).exists()
    assert lease.held is False


def test_drain_leaves_a_drain_it_lost_in_place(
    dc: ModuleType,
    original: ModuleType,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    wait_until: Any,
) -> None:
    monkeypatch.setattr(dc, "DRAIN_REQUEST_MAX_AGE_SECONDS", 0.4)  # kept alive every 0.1 s
    with dc.drain("scoped", home=home) as lease:
        assert lease.lost is None
        original.write_drain_request(principal="dashboard", home=home)
        assert wait_until(lambda: lease.lost is not None)
        lost = lease.lost
        assert isinstance(lost, dc.LeaseLostError)
        assert lost.holder is not None and lost.holder.principal == "dashboard"
    assert marker_of(home)["principal"] == "dashboard"
    assert isinstance(lease.lost, dc.LeaseLostError)  # still said after the release


def test_drain_keeps_a_drain_alive_past_the_maximum_age(
    dc: ModuleType, original: ModuleType, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in (dc, original):
        monkeypatch.setattr(module, "DRAIN_REQUEST_MAX_AGE_SECONDS", 0.4)
    with dc.drain("long-job", home=home):
        first = requested_at(home)
        time.sleep(1.2)  # three times the maximum age
        assert dc.drain_requested(home=home) is True
        assert original.drain_requested(home=home) is True
        assert requested_at(home) > first
        age = datetime.now(timezone.utc) - requested_at(home)
        assert age.total_seconds() < 0.4
    assert not (home / MARKER).exists()


def test_async_drain_releases_on_cancellation(dc: ModuleType, home: Path) -> None:
    tokens: list[str] = []

    async def main() -> None:
        entered = asyncio.Event()

        async def job() -> None:
            async with dc.drain("async-job", home=home) as lease:
                tokens.append(lease.token)
                entered.set()
                await asyncio.sleep(30)

        task = asyncio.create_task(job())
        await entered.wait()
        assert marker_of(home)["owner_token"] == tokens[0]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not (home / MARKER).exists()

    asyncio.run(main())
    assert len(tokens) == 1


def test_async_drain_releases_on_an_exception(dc: ModuleType, home: Path) -> None:
    async def main() -> None:
        async with dc.drain("async-job", home=home) as lease:
            assert lease.held and dc.drain_requested(home=home)
            raise Boom

    with pytest.raises(Boom):
        asyncio.run(main())
    assert not (home / MARKER).exists()


def test_async_drain_waits_without_blocking_the_loop(
    dc: ModuleType, original: ModuleType, home: Path
) -> None:
    original.write_drain_request(principal="dashboard", home=home)

    async def main() -> int:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        loop = asyncio.get_running_loop()
        loop.call_later(0.5, lambda: original.clear_drain_request(home=home))
        started = time.monotonic()
        async with dc.drain("waiter", home=home, wait=30) as lease:
            assert time.monotonic() - started >= 0.4
            assert marker_of(home)["owner_token"] == lease.token
        ticker.cancel()
        return ticks

    assert asyncio.run(main()) >= 10
    assert not (home / MARKER).exists()


def test_a_cancelled_waiting_begin_takes_no_drain(dc: ModuleType, home: Path) -> None:
    holder = dc.begin_lease("holder", home=home)

    async def main() -> None:
        async def job() -> None:
            # A bounded wait, so that a begin not stopped fails the test, not hangs it.
            async with dc.drain("waiter", home=home, wait=5):
                raise AssertionError("began although cancelled")

        task = asyncio.create_task(job())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    started = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - started < 3
    assert holder.release() is True
    time.sleep(0.5)  # a begin still waiting would take the drain now
    assert not (home / MARKER).exists()


# --- waiting -------------------------------------------------------------------------------


@pytest.mark.parametrize("wait", [30, math.inf])
def test_a_waiting_begin_takes_the_drain_once_released(
    dc: ModuleType, home: Path, wait: float
) -> None:
    first = dc.begin_lease("first", home=home)
    threading.Timer(0.4, first.release).start()
    started = time.monotonic()
    second = dc.begin_lease("second", home=home, wait=wait)
    assert time.monotonic() - started >= 0.3
    assert marker_of(home)["principal"] == "second"
    assert marker_of(home)["owner_token"] == second.token
    assert second.release() is True


def test_a_waiting_begin_gives_up_at_its_bound(
    dc: ModuleType, home: Path, others_run: Any
) -> None:
    first = dc.begin_lease("first", home=home)
    started = time.monotonic()
    with others_run() as moved, pytest.raises(dc.DrainHeldError) as caught:
        dc.begin_lease("second", home=home, wait=0.4)
    assert 0.35 <= time.monotonic() - started < 4
    assert moved[0] > 0, "no other thread ran during the wait: the GIL was held"
    assert caught.value.holder.principal == "first"
    assert marker_of(home)["owner_token"] == first.token
    assert first.release() is True


def test_a_waiting_begin_takes_a_drain_that_expires(
    dc: ModuleType, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dc, "DRAIN_REQUEST_MAX_AGE_SECONDS", 0.5)
    dc.write_drain_request(principal="forgotten", home=home)
    started = time.monotonic()
    lease = dc.begin_lease("next", home=home, wait=10)
    assert 0.4 <= time.monotonic() - started < 4
    assert marker_of(home)["owner_token"] == lease.token
    assert lease.release() is True


def test_a_signal_ends_a_waiting_begin_and_it_takes_nothing(dc: ModuleType, home: Path) -> None:
    holder = dc.begin_lease("holder", home=home)

    class Interrupted(Exception):
        pass

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted

    old = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    started = time.monotonic()
    try:
        with pytest.raises(Interrupted):
            dc.begin_lease("waiter", home=home, wait=5)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert time.monotonic() - started < 3
    assert holder.release() is True
    time.sleep(0.5)
    assert not (home / MARKER).exists()


@pytest.mark.parametrize("wait", [-1.0, math.nan])
def test_a_wait_must_be_a_number_of_seconds(dc: ModuleType, home: Path, wait: float) -> None:
    with pytest.raises(ValueError, match="wait"):
        dc.begin_lease("p", home=home, wait=wait)
    assert not (home / MARKER).exists()
