"""External drain-control marker contract (dashboard -> gateway).

A drop-in for the original ``gateway/drain_control.py``: the same names, signatures,
defaults, return types, patch points and logging, backed by the Rust core, where every
rule of the contract lives. This module only gathers what a host must be able to patch
(``current_instantiation_epoch``, ``HERMES_HOME``, the ``/proc`` reads through
``pathlib.Path.read_text``, ``sys.platform`` and a lazily imported ``psutil``) and hands
it to the core.

A host adopts it by replacing its own module with a one-line shim::

    from drain_control import install_as; install_as(__name__)

after which ``import gateway.drain_control as dc`` gives a module whose functions
consult *its* namespace (so ``monkeypatch.setattr(dc, "current_instantiation_epoch",
...)`` changes what ``dc.drain_requested()`` sees) and log under its name.

Every function here looks up the module-level names it depends on at call time, as the
original did: ``current_instantiation_epoch``, ``drain_request_path``,
``DRAIN_REQUEST_MAX_AGE_SECONDS``, ``_expiry_logged_for`` and ``_log``.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import logging
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Optional, Union

# Absolute, not relative: this source also runs as a plain module under a host's
# name (see ``install_as``), where it has no package of its own.
from drain_control import _native
from drain_control._native import Classification

if TYPE_CHECKING:
    from drain_control._watch import Change, DrainWatcher, State

__all__ = [
    "DRAIN_REQUEST_MAX_AGE_SECONDS",
    "Change",
    "Classification",
    "DrainWatcher",
    "State",
    "classify_marker",
    "clear_drain_request",
    "current_instantiation_epoch",
    "drain_notification_suppressed",
    "drain_request_path",
    "drain_requested",
    "install_as",
    "read_drain_request",
    "watch",
    "write_drain_request",
]

__version__: str = _native.__version__

#: What a ``home`` argument may be: a ``str`` or any path-like object.
HomeArg = Union[str, "os.PathLike[str]"]

_log = logging.getLogger(__name__)

_DRAIN_REQUEST_FILENAME: str = _native.MARKER_FILE_NAME

#: How long a marker is honoured after its ``requested_at``, in seconds.
DRAIN_REQUEST_MAX_AGE_SECONDS: float = _native.MAX_AGE_SECONDS

#: The ``requested_at`` values whose expiry was already logged (once per marker, not
#: once per poll). Consulted at call time, so a test may clear or replace it.
_expiry_logged_for: set[str] = set()

#: The same for unreadable markers, keyed by path and failure.
_unreadable_logged_for: set[str] = set()

# A process that meets endless distinct failures repeats itself rather than growing.
_WARNINGS_REMEMBERED = 1024

_BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"
_PID1_STAT_PATH = "/proc/1/stat"
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def _read_proc(path: str) -> Optional[str]:
    """The text of a ``/proc`` file through ``Path.read_text`` (patchable), or ``None``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None
    return text if isinstance(text, str) else None


def _boot_time() -> Optional[float]:
    """The kernel boot time on macOS: ``psutil.boot_time()``, imported only when asked."""
    if sys.platform != "darwin":
        return None
    try:
        psutil = importlib.import_module("psutil")
    except ImportError:
        return _native.kernel_boot_time()
    try:
        return float(psutil.boot_time())
    except Exception:
        return None


@functools.lru_cache(maxsize=1)
def current_instantiation_epoch() -> str:
    """Identity of THIS container / VM instantiation; ``""`` when it cannot be known.

    ``"<boot_id>:<pid1_starttime>"`` on Linux (from ``/proc``), the kernel boot time
    in whole seconds on macOS. Memoised: constant for the life of the process
    (``current_instantiation_epoch.cache_clear()`` recomputes it).
    """
    return _native.compose_epoch(
        _read_proc(_BOOT_ID_PATH), _read_proc(_PID1_STAT_PATH), _boot_time
    )


def drain_request_path(home: Optional[HomeArg] = None) -> Path:
    """Absolute path to the drain-request marker, respecting ``HERMES_HOME``.

    ``home`` when given, else ``$HERMES_HOME`` (whitespace stripped), else
    ``~/.hermes``; resolved at every call.
    """
    return _native.marker_path(home, os.environ.get("HERMES_HOME"))


_unpatched_drain_request_path = drain_request_path

# (DRAIN_REQUEST_MAX_AGE_SECONDS, its microseconds), so a poll does no timedelta work
# unless a host changed the maximum age.
_max_age_memo: tuple[float, int] = (3600.0, 3_600_000_000)


def _max_age_micros() -> int:
    global _max_age_memo
    seconds = DRAIN_REQUEST_MAX_AGE_SECONDS
    if _max_age_memo[0] != seconds:
        _max_age_memo = (seconds, timedelta(seconds=seconds) // _MICROSECOND)
    return _max_age_memo[1]


def _log_warning(warning: Optional[_native.MarkerWarning], *, expiry: bool = True) -> None:
    """Logs a warning of the core once: expired markers once per ``requested_at``."""
    if warning is None:
        return
    if warning.kind == "expired":
        if not expiry:
            return
        seen = _expiry_logged_for
    else:
        seen = _unreadable_logged_for
    if warning.key in seen:
        return
    if len(seen) >= _WARNINGS_REMEMBERED:
        seen.clear()
    seen.add(warning.key)
    _log.warning("%s", warning.message)


def write_drain_request(
    *,
    principal: str = "drain-control",
    suppress_notification: bool = False,
    home: Optional[HomeArg] = None,
) -> dict[str, Any]:
    """Write the begin-drain marker (or keep a drain alive). Returns the payload written.

    Atomic and crash-safe; stamped with :func:`current_instantiation_epoch` and the
    current UTC time. Raises ``OSError`` (with ``errno`` and ``filename``) on failure,
    leaving the previous marker, or its absence, untouched.
    """
    return _native.write_marker(
        drain_request_path(home),
        principal,
        bool(suppress_notification),
        current_instantiation_epoch(),
    )


def clear_drain_request(*, home: Optional[HomeArg] = None) -> bool:
    """Remove the drain marker (cancel-drain). Returns True if one existed.

    A missing file is not an error; any other failure is logged and returns False.
    """
    path = drain_request_path(home)
    try:
        return _native.remove_marker(path)
    except OSError as e:
        # %r: a path is quoted with its control characters escaped (no log injection).
        _log.warning("drain-control: failed to remove %r: %s", str(path), e)
        return False


def read_drain_request(*, home: Optional[HomeArg] = None) -> Optional[dict[str, Any]]:
    """Return the marker payload, ``{}`` if present but contentless, ``None`` if absent.

    Never raises: an unreadable marker (a folder, a FIFO, no permission...) reads as
    absent, with a warning logged once.
    """
    classification, warning = _native.inspect(
        drain_request_path(home), "", _max_age_micros()
    )
    _log_warning(warning, expiry=False)
    read: Optional[dict[str, Any]] = classification.read
    return read


def _active_drain_body(*, home: Optional[HomeArg] = None) -> Optional[dict[str, Any]]:
    """The marker's body if it asks for a drain now (``{}`` if contentless), else None."""
    classification, warning = _native.inspect(
        drain_request_path(home), current_instantiation_epoch(), _max_age_micros()
    )
    _log_warning(warning)
    if not classification.active:
        return None
    body: Optional[dict[str, Any]] = classification.read
    return body


def drain_requested(*, home: Optional[HomeArg] = None) -> bool:
    """True iff a begin-drain marker for THIS instantiation is present and not expired.

    A marker from another instantiation (it survived a restart on a durable volume)
    or older than ``DRAIN_REQUEST_MAX_AGE_SECONDS`` is ignored; a corrupt marker, one
    without an epoch, or an unknown current epoch still reads as drain-active.
    """
    active, _suppressed, warning = _poll(home)
    _log_warning(warning)
    return active


def drain_notification_suppressed(*, home: Optional[HomeArg] = None) -> bool:
    """True iff an active drain asks the gateway to skip its "shutting down" notice."""
    _active, suppressed, warning = _poll(home)
    _log_warning(warning)
    return suppressed


def _poll(home: Optional[HomeArg]) -> tuple[bool, bool, Optional[_native.MarkerWarning]]:
    """One read of the marker, judged now: ``(active, suppressed, warning)``."""
    epoch = current_instantiation_epoch()
    if drain_request_path is _unpatched_drain_request_path:
        # The path is resolved natively, skipping a pathlib.Path per poll.
        return _native.poll_home(home, epoch, _max_age_micros())
    # A host patched drain_request_path: honour it.
    return _native.poll(drain_request_path(home), epoch, _max_age_micros())


def _json_stand_in(value: object) -> Optional[str]:
    """A JSON stand-in for a value ``json`` cannot write, with the same truthiness."""
    return repr(value) if value else None


def _judge(body: dict[str, Any]) -> Classification:
    """The core's verdict on a body the caller already holds, judged now.

    The body goes to the core's classifier as JSON, so the rules are applied exactly
    as to a marker on disk.
    """
    raw = json.dumps(body, default=_json_stand_in, skipkeys=True).encode("utf-8")
    return _native.classify(raw, current_instantiation_epoch(), None, _max_age_micros())


def _marker_epoch_is_stale(body: dict[str, Any]) -> bool:
    """True iff ``body``'s epoch is a *definite* mismatch with this instantiation."""
    return _judge(body).epoch_stale


def _marker_is_expired(body: dict[str, Any]) -> bool:
    """True iff ``body``'s ``requested_at`` is more than the maximum age ago."""
    return _judge(body).expired


def _marker_is_stale(body: dict[str, Any]) -> bool:
    """True iff ``body`` must be ignored: from another instantiation, or expired."""
    verdict = _judge(body)
    return verdict.epoch_stale or verdict.expired


def _unix_micros(now: datetime) -> int:
    if now.tzinfo is None or now.utcoffset() is None:
        now = now.replace(tzinfo=timezone.utc)
    return (now - _UNIX_EPOCH) // _MICROSECOND


def classify_marker(raw: bytes, *, current_epoch: str, now: datetime) -> Classification:
    """Classify marker bytes against an epoch and a clock reading (a naive ``now`` is
    UTC), without touching the disk.

    The result has ``read`` (``{}`` if contentless, else the object), ``present``,
    ``active``, ``suppressed``, ``epoch_stale`` and ``expired``.
    """
    return _native.classify(
        bytes(raw), current_epoch, _unix_micros(now), _max_age_micros()
    )


def watch(
    *,
    home: Optional[HomeArg] = None,
    fallback_interval: float = 1.0,
    every_change: bool = False,
    _max_age_seconds: Optional[float] = None,
) -> DrainWatcher:
    """Watch a home's drain state and report each change as it happens.

    Returns a :class:`DrainWatcher`: iterate it (``for change in w``, or
    ``async for change in w`` inside asyncio, which never blocks the event loop), or
    call ``w.next(timeout)``. The first change is the state when watching began. On
    Linux the home folder is watched with inotify, so a change is seen within
    milliseconds; the marker is also re-read every ``fallback_interval`` seconds as a
    safety net (the only mechanism elsewhere), and a wake-up is scheduled for the
    instant an active marker expires. The home need not exist yet, and may be deleted
    and recreated. A re-write that changes nothing but ``requested_at`` (a keep-alive)
    is not reported unless ``every_change`` is true.

    The home is resolved now (``home``, else ``$HERMES_HOME``, else ``~/.hermes``), and
    so are :func:`current_instantiation_epoch` and ``DRAIN_REQUEST_MAX_AGE_SECONDS``:
    the watcher judges markers as :func:`drain_requested` would at this moment.
    Warnings (unreadable or expired marker) are logged once, as the polls log them.

    ``_max_age_seconds`` is for tests only: a short maximum age, so that a test can
    watch a marker expire without waiting an hour. Never use it in production.
    """
    if _max_age_seconds is None:
        max_age_micros = _max_age_micros()
    else:
        max_age_micros = timedelta(seconds=_max_age_seconds) // _MICROSECOND
    from drain_control._watch import DrainWatcher

    native = _native.Watcher(
        drain_request_path(home).parent,
        float(fallback_interval),
        bool(every_change),
        max_age_micros,
        current_instantiation_epoch(),
    )
    return DrainWatcher(native, _log_warning)


_WATCH_NAMES = frozenset({"Change", "DrainWatcher", "State"})


def __getattr__(name: str) -> Any:
    """The watcher's types, imported on first use: a gateway that only polls should not
    pay for asyncio and dataclasses at import time (they are most of the import cost)."""
    if name in _WATCH_NAMES:
        from drain_control import _watch

        return getattr(_watch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def install_as(name: str) -> ModuleType:
    """Install this module under a host's module name and return it.

    The one-line shim ``from drain_control import install_as; install_as(__name__)``
    in ``gateway/drain_control.py`` makes ``import gateway.drain_control`` give a
    fresh module object that runs this same source under that name: its functions
    consult its own namespace (so patching an attribute of it changes what its
    functions see), it has its own ``_expiry_logged_for`` and epoch cache, and it logs
    through ``logging.getLogger(name)``. It is put in ``sys.modules[name]`` and, when
    the parent package is imported, set as its attribute.
    """
    if not name or name == "drain_control" or name.startswith("drain_control."):
        raise ValueError(f"cannot install drain_control as {name!r}")
    source = __file__
    spec = importlib.util.spec_from_file_location(
        name, source, submodule_search_locations=None
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {source!r} as {name!r}")
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if previous is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = previous
        raise
    parent_name, _, child = name.rpartition(".")
    parent = sys.modules.get(parent_name) if parent_name else None
    if parent is not None:
        setattr(parent, child, module)
    return module
