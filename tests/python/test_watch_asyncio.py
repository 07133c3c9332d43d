"""The drain watcher (``drain_control.watch``) in asyncio, with ``async for`` and
``wait()``: the event loop never blocks; closing from another task or thread,
timeouts and cancellation, and an expiry without any file event.

Most tests run against the package and against the host's alias of it (the ``dc``
fixture). Waits are bounded by generous timeouts (a slow CI machine must not fail a
test), while the fallback interval is set long, so that a change seen in time was seen
through the folder watch, not through a fallback re-read (``watch_helpers.py``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from types import ModuleType

import pytest

from watch_helpers import PATIENCE, watcher


# --- asyncio ---------------------------------------------------------------------------


def test_async_for_does_not_block_the_event_loop(dc: ModuleType, home: Path, epoch: str) -> None:
    async def main() -> tuple[list[str], int, list[float]]:
        w = watcher(dc, home)
        ticks = 0
        gaps: list[float] = []

        async def heartbeat() -> None:
            nonlocal ticks
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now
                ticks += 1

        async def dashboard() -> None:
            await asyncio.sleep(0.3)
            dc.write_drain_request(home=home)
            await asyncio.sleep(0.3)
            dc.clear_drain_request(home=home)
            await asyncio.sleep(0.3)
            w.close()  # from another task: ends the async for

        beat = asyncio.create_task(heartbeat())
        board = asyncio.create_task(dashboard())
        seen = []
        async with w:
            async for change in w:
                seen.append(change.state)
        await board
        beat.cancel()
        return seen, ticks, gaps

    seen, ticks, gaps = asyncio.run(asyncio.wait_for(main(), PATIENCE * 2))
    assert seen == ["absent", "active", "absent"]
    # 0.9 s of 10 ms beats: the loop ran all along (a blocked loop would give ~0).
    assert ticks > 30, ticks
    assert max(gaps) < 0.5, max(gaps)


def test_async_close_from_another_thread(dc: ModuleType, home: Path, epoch: str) -> None:
    w = watcher(dc, home)

    async def main() -> list[str]:
        threading.Timer(0.3, w.close).start()
        return [change.state async for change in w]

    started = time.monotonic()
    assert asyncio.run(asyncio.wait_for(main(), PATIENCE)) == ["absent"]
    assert time.monotonic() - started < PATIENCE
    assert w.closed
    with pytest.raises(ValueError):
        w.fileno()


def test_async_wait_timeout_and_cancellation(dc: ModuleType, home: Path, epoch: str) -> None:
    async def main() -> None:
        with watcher(dc, home) as w:
            change = await w.wait(timeout=PATIENCE)
            assert change is not None and change.state == "absent"
            assert await w.wait(timeout=0.1) is None
            # A cancelled wait unregisters the descriptor: the watcher stays usable.
            task = asyncio.create_task(w.wait())
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            dc.write_drain_request(home=home)
            change = await w.wait(timeout=PATIENCE)
            assert change is not None and change.state == "active"
            # Two concurrent waits on one watcher are refused, not silently starved.
            first = asyncio.create_task(w.wait())
            await asyncio.sleep(0.05)
            with pytest.raises(RuntimeError):
                await w.wait()
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first

    asyncio.run(asyncio.wait_for(main(), PATIENCE * 2))


def test_async_expiry_without_any_file_event(dc: ModuleType, home: Path, epoch: str) -> None:
    async def main() -> list[str]:
        states = []
        async with watcher(dc, home, _max_age_seconds=0.3) as w:
            dc.write_drain_request(home=home)
            async for change in w:
                states.append(change.state)
                if change.state == "expired":
                    break
        return states

    assert asyncio.run(asyncio.wait_for(main(), PATIENCE)) in (
        ["absent", "active", "expired"],
        ["active", "expired"],
    )
