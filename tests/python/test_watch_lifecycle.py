"""The drain watcher (``drain_control.watch``) as a plain iterator and with
``next(timeout)``: timeouts, bad options, stopping and closing (from another thread,
by a signal), the GIL while it waits, its descriptors, and a plain selector.

Most tests run against the package and against the host's alias of it (the ``dc``
fixture). Waits are bounded by generous timeouts (a slow CI machine must not fail a
test), while the fallback interval is set long, so that a change seen in time was seen
through the folder watch, not through a fallback re-read (``watch_helpers.py``).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from types import ModuleType

import pytest

from watch_helpers import PATIENCE, expect, watcher


# --- timeouts, stopping, closing ----------------------------------------------------


def test_next_with_a_timeout(dc: ModuleType, home: Path, epoch: str) -> None:
    with watcher(dc, home) as w:
        expect(w, "absent")
        started = time.monotonic()
        assert w.next(timeout=0) is None
        assert w.next(timeout=0.2) is None
        assert 0.2 <= time.monotonic() - started < PATIENCE
        with pytest.raises(ValueError):
            w.next(timeout=-1)
        with pytest.raises(ValueError):
            w.next(timeout=float("nan"))


def test_bad_options(dc: ModuleType, home: Path) -> None:
    for bad in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            dc.watch(home=home, fallback_interval=bad)


def test_close_from_another_thread_ends_a_blocked_iteration(
    dc: ModuleType, home: Path, epoch: str
) -> None:
    w = watcher(dc, home)
    seen: list[str] = []
    done = threading.Event()

    def consume() -> None:
        for change in w:  # blocks for ever: only the close ends it
            seen.append(change.state)
        done.set()

    consumer = threading.Thread(target=consume)
    consumer.start()
    time.sleep(0.2)
    dc.write_drain_request(home=home)
    time.sleep(0.2)
    started = time.monotonic()
    w.close()
    assert done.wait(PATIENCE), "the iteration did not end after close()"
    assert time.monotonic() - started < 1.0
    consumer.join()
    assert seen == ["absent", "active"]
    assert w.closed and w.next(timeout=0) is None and list(w) == []
    w.close()  # idempotent
    with pytest.raises(ValueError):
        w.fileno()


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="needs SIGUSR1")
def test_a_signal_interrupts_a_blocked_next(dc: ModuleType, home: Path, epoch: str) -> None:
    # Ctrl-C must reach a program blocked on a watcher: Python's signal handlers run
    # while next() waits (here a handler that raises, as SIGINT's does).
    class Interrupted(Exception):
        pass

    def handler(signum: int, frame: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGUSR1, handler)
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGUSR1))
    try:
        with watcher(dc, home) as w:
            expect(w, "absent")
            started = time.monotonic()
            timer.start()
            with pytest.raises(Interrupted):
                w.next()  # no timeout: only the signal ends it
            assert time.monotonic() - started < 2.0
            # The watcher is still usable afterwards.
            dc.write_drain_request(home=home)
            expect(w, "active")
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, previous)


def test_the_gil_is_released_while_waiting(dc: ModuleType, home: Path, epoch: str) -> None:
    with watcher(dc, home) as w:
        expect(w, "absent")
        counter = [0]
        stop = threading.Event()

        def spin() -> None:
            while not stop.is_set():
                counter[0] += 1

        spinner = threading.Thread(target=spin)
        spinner.start()
        try:
            before = counter[0]
            assert w.next(timeout=0.3) is None
            assert counter[0] - before > 1000
        finally:
            stop.set()
            spinner.join()


def test_close_releases_the_descriptors(dc: ModuleType, home: Path) -> None:
    fds = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    for _ in range(50):
        with dc.watch(home=home) as w:
            assert w.fileno() >= 0
    if fds is not None:
        assert len(os.listdir("/proc/self/fd")) <= fds + 1


def test_a_watcher_is_usable_from_a_plain_selector(dc: ModuleType, home: Path, epoch: str) -> None:
    import selectors

    with watcher(dc, home) as w, selectors.DefaultSelector() as selector:
        selector.register(w, selectors.EVENT_READ)  # through fileno()
        assert selector.select(PATIENCE), "the initial state must make it readable"
        expect(w, "absent")
        dc.write_drain_request(home=home)
        assert selector.select(PATIENCE)
        change = w.next(timeout=0)
        assert change is not None and change.state == "active"
        selector.unregister(w)
