"""The drain watcher for Python: a plain iterator, and an async iterator for asyncio.

Use :func:`drain_control.watch`, which makes a :class:`DrainWatcher` for a home. The
classes live here, not in ``drain_control/__init__.py``, so that a module installed
under a host's name (``install_as``) hands out the same classes; it passes its own
warning logger in, so that warnings are logged under its name and deduplicated in its
own records.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, Type

from drain_control import _native
from drain_control._micros import unix_datetime

if TYPE_CHECKING:
    import asyncio

__all__ = ["Change", "DrainWatcher", "State"]

#: The drain state in one word, the same in every binding and in ``drainctl --json``.
State = Literal["absent", "active", "suppressed", "epoch-stale", "expired"]

# Only Linux's descriptor carries the watcher's timers (fallback and expiry); elsewhere
# it becomes readable on a stop alone, and an async wait also wakes on a timer.
_FD_HAS_TIMERS = sys.platform.startswith("linux")


@dataclass(frozen=True)
class Change:
    """One change of the drain state, as a :class:`DrainWatcher` reports it.

    ``active`` is what :func:`drain_control.drain_requested` would say at ``at``;
    ``body`` is what :func:`drain_control.read_drain_request` would return (``None``
    when absent, ``{}`` when contentless).
    """

    #: ``"absent"``, ``"active"``, ``"suppressed"``, ``"epoch-stale"`` or ``"expired"``.
    state: State
    #: The marker's object, ``{}`` if contentless, ``None`` if absent.
    body: Optional[dict[str, Any]]
    #: A marker is there (a contentless one counts).
    present: bool
    #: Present, and neither epoch-stale nor expired: the gateway must drain.
    active: bool
    #: Active, and the marker asks to skip the "shutting down" notice.
    suppressed: bool
    #: The marker was written by another instantiation of this machine: ignored.
    epoch_stale: bool
    #: The marker is older than the maximum age: ignored.
    expired: bool
    #: When the state was judged (UTC).
    at: datetime
    #: When the marker will expire (UTC), if it is present, unexpired and dated.
    expires_at: Optional[datetime]
    #: The first change a watcher reports: the state when watching began.
    initial: bool

    @property
    def draining(self) -> bool:
        """The gateway must drain (the same as ``active``)."""
        return self.active

    @classmethod
    def _from_native(cls, change: _native.Change) -> Change:
        expires = change.expires_at_micros
        classification = change.classification
        return cls(
            state=change.state,
            body=classification.read,
            present=classification.present,
            active=classification.active,
            suppressed=classification.suppressed,
            epoch_stale=classification.epoch_stale,
            expired=classification.expired,
            at=unix_datetime(change.at_micros),
            expires_at=None if expires is None else unix_datetime(expires),
            initial=change.initial,
        )


class DrainWatcher:
    """Reports each change of one home's drain state, within milliseconds.

    Made by :func:`drain_control.watch`. The first change it reports is the state when
    watching began (``initial`` is true); after that, one per real change. Changes
    faster than the caller takes them are coalesced: the latest state is always
    reported.

    - ``for change in watcher:`` blocks between changes and ends after :meth:`close`
      (which may come from another thread, or a signal handler's thread).
    - ``async for change in watcher:`` waits inside asyncio without blocking the event
      loop (the watcher's descriptor is registered with the loop); :meth:`close` from
      another task or thread ends it.
    - :meth:`next` takes a timeout; :meth:`fileno` gives the descriptor for other
      event loops (readable when :meth:`next` with ``timeout=0`` may have something).

    One consumer at a time: a watcher is not meant to be iterated by two threads or
    tasks at once. Close it (or use ``with``) to release its descriptors promptly.
    """

    def __init__(
        self,
        native: _native.Watcher,
        log_warning: Callable[[Optional[_native.MarkerWarning]], None],
    ) -> None:
        self._native = native
        self._log_warning = log_warning
        # Guards the hand-over between close() and an async wait that has the
        # descriptor registered with an event loop: the descriptor must not be closed
        # while a loop still polls it.
        self._lock = threading.Lock()
        self._waiting = False
        self._closing = False

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<DrainWatcher home={str(self._native.home)!r} {state}>"

    @property
    def home(self) -> str:
        """The home folder watched (resolved when the watcher was made)."""
        return str(self._native.home)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._native.stopped

    def fileno(self) -> int:
        """The descriptor to poll for reading; ``ValueError`` once closed."""
        return self._native.fileno()

    def next(self, timeout: Optional[float] = None) -> Optional[Change]:
        """The next change, waiting up to ``timeout`` seconds (``None``: until one comes).

        ``None`` when the timeout passed without a change, or when the watcher is
        closed. ``timeout=0`` never blocks. The GIL is released while waiting.
        """
        change = self._native.next(timeout)
        if change is None:
            return None
        self._log_warning(change.warning)
        return Change._from_native(change)

    def close(self) -> None:
        """Stops the watcher and releases its descriptors. Idempotent, thread-safe.

        An iteration blocked in another thread or task ends (``next`` returns None).
        """
        self._native.stop()
        with self._lock:
            self._closing = True
            waiting = self._waiting
        if not waiting:
            self._native.close()
        # Else the waiting coroutine, woken by the stop, unregisters the descriptor
        # from its loop and then closes.

    def __iter__(self) -> DrainWatcher:
        return self

    def __next__(self) -> Change:
        change = self.next()
        if change is None:
            raise StopIteration
        return change

    def __enter__(self) -> DrainWatcher:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

    async def __aenter__(self) -> DrainWatcher:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

    def __aiter__(self) -> DrainWatcher:
        return self

    async def __anext__(self) -> Change:
        change = await self.wait()
        if change is None:
            raise StopAsyncIteration
        return change

    async def wait(self, timeout: Optional[float] = None) -> Optional[Change]:
        """:meth:`next` for asyncio: waits without blocking the event loop.

        The descriptor is registered with the running loop while waiting; the watcher
        itself is only ever asked with ``timeout=0``. ``None`` when the timeout passed
        or the watcher was closed.
        """
        import asyncio  # here, not at the top: polling gateways never pay for it

        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + max(timeout, 0.0)
        while True:
            change = self.next(timeout=0)
            if change is not None:
                return change
            if self._native.stopped:
                return None
            delay = None if deadline is None else deadline - loop.time()
            if delay is not None and delay <= 0:
                return None
            if not _FD_HAS_TIMERS:
                own = self._native.poll_timeout()
                delay = own if delay is None else min(delay, own)
            await self._readable(loop, delay)

    async def _readable(
        self, loop: asyncio.AbstractEventLoop, delay: Optional[float]
    ) -> None:
        """Until the descriptor is readable, or ``delay`` seconds passed."""
        with self._lock:
            if self._closing:
                return
            if self._waiting:
                raise RuntimeError("another task is already waiting on this watcher")
            self._waiting = True
            fd = self._native.fileno()
        woken: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not woken.done():
                woken.set_result(None)

        timer = None
        try:
            loop.add_reader(fd, wake)
            try:
                if delay is not None:
                    timer = loop.call_later(delay, wake)
                await woken
            finally:
                if timer is not None:
                    timer.cancel()
                loop.remove_reader(fd)
        finally:
            with self._lock:
                self._waiting = False
                closing = self._closing
            if closing:
                self._native.close()
