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

Importing this module is cheap: it imports only ``functools`` (for the epoch's
``lru_cache``). The native extension is loaded on first use, and the names that come
from it or from other standard-library modules (``DRAIN_REQUEST_MAX_AGE_SECONDS``,
``Classification``, ``__version__``, ``_log``, ``Path``, ``json``, ``datetime``...) are
bound when first read (PEP 562), so a host can read and patch them as before.
"""

# No ``from __future__ import annotations``: it imports ``__future__`` at run time.
# The annotations are strings instead, so that nothing is imported to evaluate them.
import functools
import os
import sys

# typing.TYPE_CHECKING without importing typing (type checkers know the name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from datetime import datetime
    from pathlib import Path
    from types import ModuleType
    from typing import Any, Optional, Union

    # Absolute, not relative: this source also runs as a plain module under a host's
    # name (see ``install_as``), where it has no package of its own.
    from drain_control import _native
    from drain_control._native import Classification
    from drain_control._watch import Change, DrainWatcher, State

    #: What a ``home`` argument may be: a ``str`` or any path-like object.
    HomeArg = Union[str, "os.PathLike[str]"]

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

# Bound by _load() from the native extension (see __getattr__), so that importing this
# module does not load it.
__version__: str
_DRAIN_REQUEST_FILENAME: str
#: How long a marker is honoured after its ``requested_at``, in seconds.
DRAIN_REQUEST_MAX_AGE_SECONDS: float
_native_loaded = False

#: The logger, ``logging.getLogger(__name__)``: made when first needed (see _logger).
_log: "logging.Logger"

#: The ``requested_at`` values whose expiry was already logged (once per marker, not
#: once per poll). Consulted at call time, so a test may clear or replace it.
_expiry_logged_for: "set[str]" = set()

#: The same for unreadable markers, keyed by path and failure.
_unreadable_logged_for: "set[str]" = set()

# A process that meets endless distinct failures repeats itself rather than growing.
_WARNINGS_REMEMBERED = 1024

_BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"
_PID1_STAT_PATH = "/proc/1/stat"


def _load() -> None:
    """Loads the native extension and binds what comes from it in this namespace:
    the names a host may read (left alone if the host already set them) and the
    native calls behind the reads (replacing the stand-ins below)."""
    global _native_loaded
    # Not ``from drain_control import _native``: that asks the package for the
    # attribute first, which is this module's __getattr__, which would load it.
    import drain_control._native

    native = sys.modules["drain_control._native"]
    namespace = globals()
    namespace["_native"] = native
    namespace.setdefault("__version__", native.__version__)
    namespace.setdefault("_DRAIN_REQUEST_FILENAME", native.MARKER_FILE_NAME)
    namespace.setdefault("DRAIN_REQUEST_MAX_AGE_SECONDS", native.MAX_AGE_SECONDS)
    namespace.setdefault("Classification", native.Classification)
    for name, read in _READERS.items():
        namespace[name] = native.Poller(
            namespace, _own_drain_request_path, native.MAX_AGE_SECONDS, read
        )
    _native_loaded = True


# The native reads behind drain_requested, drain_notification_suppressed,
# read_drain_request and _active_drain_body: ``_active_of[home]`` is the answer of
# drain_requested(home=home), and so on (a subscript, not a call: see Poller in
# src/python.rs). Each looks up, at every read, the names a host may patch
# (current_instantiation_epoch, drain_request_path, DRAIN_REQUEST_MAX_AGE_SECONDS,
# _log_warning) in this namespace, and resolves the marker path itself while
# drain_request_path is this module's own. Until the first read loads the native
# extension, stand-ins hold their places.
_READERS = {
    "_active_of": "active",
    "_suppressed_of": "suppressed",
    "_body_of": "read",
    "_active_body_of": "active_body",
}


class _NotLoaded:
    """Stands in for a native reader: the first read loads the native extension, which
    replaces every stand-in (see _load), and hands over to it."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getitem__(self, home: "Optional[HomeArg]") -> "Any":
        _load()
        return globals()[self._name][home]


if TYPE_CHECKING:
    _active_of: "_native.Poller[bool]"
    _suppressed_of: "_native.Poller[bool]"
    _body_of: "_native.Poller[Optional[dict[str, Any]]]"
    _active_body_of: "_native.Poller[Optional[dict[str, Any]]]"
else:
    _active_of = _NotLoaded("_active_of")
    _suppressed_of = _NotLoaded("_suppressed_of")
    _body_of = _NotLoaded("_body_of")
    _active_body_of = _NotLoaded("_active_body_of")


def _read_proc(path: str) -> "Optional[str]":
    """The text of a ``/proc`` file through ``Path.read_text`` (patchable), or ``None``."""
    try:
        path_class = globals().get("Path")
        if path_class is None and "pathlib" in sys.modules:
            path_class = _lazy_attribute("Path")
        if path_class is None:
            # pathlib was never imported, so nobody can have patched Path.read_text:
            # read the file as Path.read_text would, without importing pathlib.
            with open(path, encoding="utf-8") as file:
                text = file.read()
        else:
            text = path_class(path).read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None
    return text if isinstance(text, str) else None


def _boot_time() -> "Optional[float]":
    """The kernel boot time on macOS: ``psutil.boot_time()``, imported only when asked."""
    if sys.platform != "darwin":
        return None
    import importlib

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
    if not _native_loaded:
        _load()
    return _native.compose_epoch(
        _read_proc(_BOOT_ID_PATH), _read_proc(_PID1_STAT_PATH), _boot_time
    )


def drain_request_path(home: "Optional[HomeArg]" = None) -> "Path":
    """Absolute path to the drain-request marker, respecting ``HERMES_HOME``.

    ``home`` when given, else ``$HERMES_HOME`` (whitespace stripped), else
    ``~/.hermes``; resolved at every call.
    """
    if not _native_loaded:
        _load()
    return _native.marker_path(home, os.environ.get("HERMES_HOME"))


# The reads resolve the path natively while drain_request_path is still this one.
_own_drain_request_path = drain_request_path

# (DRAIN_REQUEST_MAX_AGE_SECONDS, its microseconds) for the last value a host set, so
# that a poll does no timedelta work per call.
_max_age_memo: "Optional[tuple[float, int]]" = None


def _max_age_micros() -> int:
    global _max_age_memo
    if not _native_loaded:
        _load()
    seconds = DRAIN_REQUEST_MAX_AGE_SECONDS
    if seconds is _native.MAX_AGE_SECONDS:
        return _native.MAX_AGE_MICROS
    memo = _max_age_memo
    if memo is None or memo[0] != seconds:
        from datetime import timedelta

        micros = timedelta(seconds=seconds) // timedelta(microseconds=1)
        memo = _max_age_memo = (seconds, micros)
    return memo[1]


def _logger() -> "logging.Logger":
    """The module's logger, ``_log`` (which a host may replace), made on first use."""
    try:
        return _log
    except NameError:
        import logging

        log = globals()["_log"] = logging.getLogger(__name__)
        return log


def _log_warning(
    warning: "Optional[_native.MarkerWarning]", *, expiry: bool = True
) -> None:
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
    _logger().warning("%s", warning.message)


def write_drain_request(
    *,
    principal: str = "drain-control",
    suppress_notification: bool = False,
    home: "Optional[HomeArg]" = None,
) -> "dict[str, Any]":
    """Write the begin-drain marker (or keep a drain alive). Returns the payload written.

    Atomic and crash-safe; stamped with :func:`current_instantiation_epoch` and the
    current UTC time. Raises ``OSError`` (with ``errno`` and ``filename``) on failure,
    leaving the previous marker, or its absence, untouched.
    """
    if not _native_loaded:
        _load()
    return _native.write_marker(
        drain_request_path(home),
        principal,
        bool(suppress_notification),
        current_instantiation_epoch(),
    )


def clear_drain_request(*, home: "Optional[HomeArg]" = None) -> bool:
    """Remove the drain marker (cancel-drain). Returns True if one existed.

    A missing file is not an error; any other failure is logged and returns False.
    """
    if not _native_loaded:
        _load()
    path = drain_request_path(home)
    try:
        return _native.remove_marker(path)
    except OSError as e:
        # %r: a path is quoted with its control characters escaped (no log injection).
        _logger().warning("drain-control: failed to remove %r: %s", str(path), e)
        return False


def read_drain_request(*, home: "Optional[HomeArg]" = None) -> "Optional[dict[str, Any]]":
    """Return the marker payload, ``{}`` if present but contentless, ``None`` if absent.

    Never raises: an unreadable marker (a folder, a FIFO, no permission...) reads as
    absent, with a warning logged once.
    """
    return _body_of[home]


def _active_drain_body(*, home: "Optional[HomeArg]" = None) -> "Optional[dict[str, Any]]":
    """The marker's body if it asks for a drain now (``{}`` if contentless), else None."""
    return _active_body_of[home]


def drain_requested(*, home: "Optional[HomeArg]" = None) -> bool:
    """True iff a begin-drain marker for THIS instantiation is present and not expired.

    A marker from another instantiation (it survived a restart on a durable volume)
    or older than ``DRAIN_REQUEST_MAX_AGE_SECONDS`` is ignored; a corrupt marker, one
    without an epoch, or an unknown current epoch still reads as drain-active.
    """
    return _active_of[home]


def drain_notification_suppressed(*, home: "Optional[HomeArg]" = None) -> bool:
    """True iff an active drain asks the gateway to skip its "shutting down" notice."""
    return _suppressed_of[home]


def _json_stand_in(value: object) -> "Optional[str]":
    """A JSON stand-in for a value ``json`` cannot write, with the same truthiness."""
    return repr(value) if value else None


def _judge(body: "dict[str, Any]") -> "Classification":
    """The core's verdict on a body the caller already holds, judged now.

    The body goes to the core's classifier as JSON, so the rules are applied exactly
    as to a marker on disk.
    """
    import json

    if not _native_loaded:
        _load()
    raw = json.dumps(body, default=_json_stand_in, skipkeys=True).encode("utf-8")
    return _native.classify(raw, current_instantiation_epoch(), None, _max_age_micros())


def _marker_epoch_is_stale(body: "dict[str, Any]") -> bool:
    """True iff ``body``'s epoch is a *definite* mismatch with this instantiation."""
    return _judge(body).epoch_stale


def _marker_is_expired(body: "dict[str, Any]") -> bool:
    """True iff ``body``'s ``requested_at`` is more than the maximum age ago."""
    return _judge(body).expired


def _marker_is_stale(body: "dict[str, Any]") -> bool:
    """True iff ``body`` must be ignored: from another instantiation, or expired."""
    verdict = _judge(body)
    return verdict.epoch_stale or verdict.expired


def _unix_micros(now: "datetime") -> int:
    from datetime import datetime, timedelta, timezone

    if now.tzinfo is None or now.utcoffset() is None:
        now = now.replace(tzinfo=timezone.utc)
    return (now - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)


def classify_marker(
    raw: bytes, *, current_epoch: str, now: "datetime"
) -> "Classification":
    """Classify marker bytes against an epoch and a clock reading (a naive ``now`` is
    UTC), without touching the disk.

    The result has ``read`` (``{}`` if contentless, else the object), ``present``,
    ``active``, ``suppressed``, ``epoch_stale`` and ``expired``.
    """
    if not _native_loaded:
        _load()
    return _native.classify(
        bytes(raw), current_epoch, _unix_micros(now), _max_age_micros()
    )


def watch(
    *,
    home: "Optional[HomeArg]" = None,
    fallback_interval: float = 1.0,
    every_change: bool = False,
    _max_age_seconds: "Optional[float]" = None,
) -> "DrainWatcher":
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
    if not _native_loaded:
        _load()
    if _max_age_seconds is None:
        max_age_micros = _max_age_micros()
    else:
        from datetime import timedelta

        max_age = timedelta(seconds=_max_age_seconds)
        max_age_micros = max_age // timedelta(microseconds=1)
    from drain_control._watch import DrainWatcher

    native = _native.Watcher(
        drain_request_path(home).parent,
        float(fallback_interval),
        bool(every_change),
        max_age_micros,
        current_instantiation_epoch(),
    )
    return DrainWatcher(native, _log_warning)


# The names bound on first read, by __getattr__ (PEP 562). The watcher's types come
# from their own module, which imports asyncio's friends: most of the import cost.
_WATCH_NAMES = frozenset({"Change", "DrainWatcher", "State"})
# What the module loaded from the native extension, bound by _load().
_NATIVE_NAMES = frozenset(
    {
        "__version__",
        "_DRAIN_REQUEST_FILENAME",
        "DRAIN_REQUEST_MAX_AGE_SECONDS",
        "Classification",
        "_native",
    }
)
# The standard library's names this module offered since the original: a host may read
# or patch them (monkeypatch.setattr needs the attribute to exist).
_STDLIB_NAMES = {
    "Path": ("pathlib", "Path"),
    "json": ("json", ""),
    "logging": ("logging", ""),
    "importlib": ("importlib", ""),
    "datetime": ("datetime", "datetime"),
    "timedelta": ("datetime", "timedelta"),
    "timezone": ("datetime", "timezone"),
    "ModuleType": ("types", "ModuleType"),
    "Any": ("typing", "Any"),
    "Optional": ("typing", "Optional"),
    "Union": ("typing", "Union"),
}


def _lazy_attribute(name: str) -> "Any":
    """Binds ``name`` in this namespace (see __getattr__) and returns it."""
    namespace = globals()
    if name in _NATIVE_NAMES:
        if not _native_loaded:
            _load()
        if name in namespace:
            return namespace[name]
    elif name in _STDLIB_NAMES:
        module_name, attribute = _STDLIB_NAMES[name]
        __import__(module_name)
        value = sys.modules[module_name]
        if attribute:
            value = getattr(value, attribute)
        namespace[name] = value
        return value
    elif name == "_log":
        return _logger()
    elif name == "HomeArg":
        from typing import Union

        namespace[name] = Union[str, "os.PathLike[str]"]
        return namespace[name]
    elif name in _WATCH_NAMES:
        from drain_control import _watch

        return getattr(_watch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __getattr__(name: str) -> "Any":
    """The names this module binds on first use: importing it loads neither the native
    extension nor json, logging, pathlib, datetime, typing or asyncio (the watcher's
    types), which were most of its import time."""
    return _lazy_attribute(name)


def __dir__() -> "list[str]":
    lazy = _WATCH_NAMES | _NATIVE_NAMES | set(_STDLIB_NAMES) | {"_log", "HomeArg"}
    return sorted(set(globals()) | lazy)


def install_as(name: str) -> "ModuleType":
    """Install this module under a host's module name and return it.

    The one-line shim ``from drain_control import install_as; install_as(__name__)``
    in ``gateway/drain_control.py`` makes ``import gateway.drain_control`` give a
    fresh module object that runs this same source under that name: its functions
    consult its own namespace (so patching an attribute of it changes what its
    functions see), it has its own ``_expiry_logged_for`` and epoch cache, and it logs
    through ``logging.getLogger(name)``. It is put in ``sys.modules[name]`` and, when
    the parent package is imported, set as its attribute.
    """
    import importlib.util

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


# A reload runs this body again in the same namespace: forget what the last run bound
# on first use, as a fresh import starts without it.
for _name in set(_NATIVE_NAMES) | set(_STDLIB_NAMES) | {"_log", "HomeArg"}:
    globals().pop(_name, None)
del _name
