"""Leases for Python: the errors of lease operations and the scoped form, ``drain()``.

Use :func:`drain_control.begin_lease`, :func:`drain_control.resume_lease` and
:func:`drain_control.drain`, which judge as the module's (possibly patched) names say.
The classes live here, not in ``drain_control/__init__.py``, so that a module installed
under a host's name (``install_as``) raises and hands out the same classes; the native
part raises these exceptions. Importing this module imports only ``errno`` and the
native part.
"""

from __future__ import annotations

import errno

from drain_control._native import DrainHolder, Lease

TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    from types import TracebackType
    from typing import Callable, Optional, Type

    from drain_control._native import LeaseBegin


class LeaseError(Exception):
    """A lease operation did not do what was asked. Its I/O failures are ``OSError``\\ s
    (with ``errno`` and ``filename``), as a write's are."""


class DrainHeldError(LeaseError):
    """A begin found another drain active (and still active at the end of its wait)."""

    #: Who holds the drain: ``principal``, ``requested_at``, ``owned``, ``state``.
    holder: DrainHolder

    def __init__(self, message: str, holder: DrainHolder) -> None:
        super().__init__(message)
        self.holder = holder


class LeaseLostError(LeaseError):
    """The marker no longer carries the lease's token: another writer replaced it, or
    removed it (``holder`` is then ``None``), or a restart ended it. Nothing was
    written."""

    #: Who holds the drain now; ``None`` when the marker was removed.
    holder: Optional[DrainHolder]

    def __init__(self, message: str, holder: Optional[DrainHolder]) -> None:
        super().__init__(message)
        self.holder = holder


class LeaseBusyError(LeaseError, TimeoutError):
    """Another writer held the lock (``filename``) for the whole lock wait; the marker
    was not touched. ``errno`` is ``ETIMEDOUT``."""

    #: How long the operation waited for the lock, in seconds.
    waited: float

    def __init__(self, strerror: str, filename: str, waited: float) -> None:
        super().__init__(errno.ETIMEDOUT, strerror, filename)
        self.waited = waited


class InvalidLeaseTokenError(LeaseError, ValueError):
    """A token that is not 32 lower-case hexadecimal digits, so no lease's."""

    #: The token given.
    token: str

    def __init__(self, message: str, token: str) -> None:
        super().__init__(message)
        self.token = token


class ScopedDrain:
    """``with drain_control.drain(...) as lease:`` (or ``async with``): begins a drain
    exclusively, keeps it alive in the background while the block runs, and releases
    it at the end, also when the block raises or its task is cancelled.

    The lease is that of :func:`drain_control.begin_lease`, held: its ``lost`` says
    whether another writer took the drain meanwhile. ``async with`` begins and releases
    in the event loop's default executor, so the loop is never blocked; a task cancelled
    while its begin waits stops the wait, and a lease begun all the same is released.
    """

    __slots__ = ("_begin", "_lease")

    def __init__(self, begin: Callable[[], LeaseBegin]) -> None:
        self._begin = begin
        self._lease: Optional[Lease] = None

    def __enter__(self) -> Lease:
        return self._held(self._begin().run())

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        lease, self._lease = self._lease, None
        if lease is not None:
            lease.release()

    async def __aenter__(self) -> Lease:
        import asyncio

        begin = self._begin()
        running = asyncio.get_running_loop().run_in_executor(None, begin.run)
        try:
            lease = await asyncio.shield(running)
        except asyncio.CancelledError:
            begin.stop()
            running.add_done_callback(_release_begun)
            raise
        return self._held(lease)

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        import asyncio

        lease, self._lease = self._lease, None
        if lease is not None:
            # Shielded: a cancellation now does not stop the release.
            await asyncio.shield(asyncio.get_running_loop().run_in_executor(None, lease.release))

    def _held(self, lease: Lease) -> Lease:
        lease.hold()
        self._lease = lease
        return lease


def _release_begun(running: asyncio.Future[Lease]) -> None:
    """Releases, off the event loop, the lease a begin got after its task was cancelled
    (in a thread of its own: the loop's executor may be shutting down by now)."""
    if running.cancelled() or running.exception() is not None:
        return
    import threading

    release = running.result().release
    threading.Thread(target=release, name="drain-lease-release").start()
