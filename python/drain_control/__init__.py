# This file is long because the original's functions, the names they look up and the
# glue between them must live in this module's globals, where a host's patch of
# ``drain_control.<name>`` reaches them; what needs no namespace and can load later is in
# _micros.py and _watch.py (a module imported here would slow the import and first poll).
"""External drain-control marker contract (dashboard -> gateway).

A drop-in for the original ``gateway/drain_control.py``: the same names, signatures,
defaults, return types, patch points and logging, backed by the Rust core, where every
rule of the contract lives.

A host adopts it by replacing its own module with a one-line shim::

    from drain_control import install_as; install_as(__name__)

after which ``import gateway.drain_control as dc`` gives a module of its own, whose
functions consult *its* namespace and log under its name.

The module namespace is the original's. Its functions look up the module-level names
the original's functions look up, where they look them up, so that a host's
``monkeypatch.setattr(dc, NAME, ...)`` takes effect exactly where it would in the
original:

- ``drain_request_path(home=None)`` calls ``get_hermes_home()`` when ``home`` is None,
  and joins ``_DRAIN_REQUEST_FILENAME``;
- ``write_drain_request`` stamps ``datetime.now(timezone.utc).isoformat()`` and
  ``current_instantiation_epoch()``, then calls
  ``atomic_json_write(drain_request_path(home), payload)``;
- ``clear_drain_request`` and ``read_drain_request`` call ``drain_request_path`` and log
  through ``_log``;
- ``drain_requested`` and ``drain_notification_suppressed`` call
  ``_active_drain_body(home)``, which calls ``read_drain_request``,
  ``current_instantiation_epoch`` and ``_marker_is_expired``;
- ``_marker_is_expired(body)`` calls ``_parse_iso``, ``datetime.now(timezone.utc)``,
  compares with ``DRAIN_REQUEST_MAX_AGE_SECONDS`` and logs through ``_log`` once per
  ``requested_at`` (``_expiry_logged_for``).

``get_hermes_home``, ``_parse_iso`` and ``atomic_json_write`` are working functions
with the host's signatures and results. The decisions (is this epoch stale, is this
marker expired, what does a marker read as) come from the core, also when a host's
replacement supplied the values judged.

While nothing is patched, a read is one native call (a ``Poller``), which checks with a
dictionary look-up per name that each name it depends on is still the module's own
(``_OWN`` records them); a patched name sends the call through the Python functions
below, which make the original's calls.

Importing this module is cheap: it imports only ``functools``. The native extension is
loaded on first use, and the names that come from it or from other standard-library
modules (``DRAIN_REQUEST_MAX_AGE_SECONDS``, ``_DRAIN_REQUEST_FILENAME``, ``_log``,
``datetime``, ``timezone``, ``Path``, ``json``...) are bound when first read (PEP 562),
so a host can read and patch them as before.
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
    from typing import Any, Callable, Optional, Union

    # Absolute, not relative: this source also runs as a plain module under a host's
    # name (see ``install_as``), where it has no package of its own.
    from drain_control import _native
    from drain_control._lease import (
        DrainHeldError,
        InvalidLeaseTokenError,
        LeaseBusyError,
        LeaseError,
        LeaseLostError,
        ScopedDrain,
    )
    from drain_control._native import Classification, DrainHolder, GatewayState, Lease
    from drain_control._watch import Change, DrainWatcher, State

    #: What a ``home`` argument may be: a ``str`` or any path-like object.
    HomeArg = Union[str, "os.PathLike[str]"]

__all__ = [
    "DRAIN_REQUEST_MAX_AGE_SECONDS",
    "Change",
    "Classification",
    "DrainHeldError",
    "DrainHolder",
    "DrainWatcher",
    "GatewayState",
    "InvalidLeaseTokenError",
    "Lease",
    "LeaseBusyError",
    "LeaseError",
    "LeaseLostError",
    "ScopedDrain",
    "State",
    "begin_lease",
    "classify_marker",
    "clear_drain_request",
    "current_instantiation_epoch",
    "drain",
    "drain_notification_suppressed",
    "drain_request_path",
    "drain_requested",
    "gateway_state",
    "install_as",
    "read_drain_request",
    "resume_lease",
    "wait_gateway_idle",
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

#: The ``requested_at`` of the last expired marker logged, as in the original: an
#: expired marker is logged when its ``requested_at`` differs from this (so A, then B,
#: then A again logs A again), which a host may reset with ``None``.
_expiry_logged_for: "Optional[str]" = None

#: The unreadable markers already logged, by path and failure (the contract: once per
#: distinct failure).
_unreadable_logged_for: "set[str]" = set()

# A process that meets endless distinct failures repeats itself rather than growing.
_WARNINGS_REMEMBERED = 1024

_BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"
_PID1_STAT_PATH = "/proc/1/stat"

#: The module's own object for each name a host may replace: its functions (recorded at
#: the end of this file), and the names bound on first use (recorded when bound). A name
#: is patched when the namespace holds anything else (for a name bound on first use:
#: anything while unbound).
_OWN: "dict[str, object]" = {}

# Stands for "no such name" in look-ups.
_ABSENT = object()


def _global(name: str) -> "Any":
    """The module-level ``name``, as a global look-up in the original's code reads it
    (``NameError`` once a host deleted it); a name bound on first use is bound now."""
    value = globals().get(name, _ABSENT)
    if value is not _ABSENT:
        return value
    if name in _OWN:
        raise NameError(f"name {name!r} is not defined")
    return _lazy_attribute(name)


def _unpatched(*names: str) -> bool:
    """Whether each of ``names`` is still the module's own (see ``_OWN``)."""
    namespace = globals()
    return all(namespace.get(name, _ABSENT) is _OWN.get(name, _ABSENT) for name in names)


# What the native reads behind drain_requested, drain_notification_suppressed,
# read_drain_request and _active_drain_body watch (see Poller in
# src/python/poller.rs): the module's functions above the read in the original's call
# tree ("calls"; a patched one hands the read to the Python function named next, which
# makes the original's calls); what drain_request_path consults (PATH, and HOME when
# ``home`` is None); what _marker_is_expired consults (JUDGE: a patched one hands the
# body read, and the epoch, to the Python function named last).
_PATH = ("drain_request_path", "_DRAIN_REQUEST_FILENAME")
_HOME = ("get_hermes_home",)
_JUDGE = (
    "_marker_is_expired",
    "_parse_iso",
    "datetime",
    "timezone",
    "DRAIN_REQUEST_MAX_AGE_SECONDS",
)
_READERS = {
    "_active_of": (
        "active",
        ("_active_drain_body", "read_drain_request"),
        "_drain_requested_py",
        "_active_tail",
    ),
    "_suppressed_of": (
        "suppressed",
        ("_active_drain_body", "read_drain_request"),
        "_drain_notification_suppressed_py",
        "_suppressed_tail",
    ),
    "_body_of": ("read", (), None, None),
    "_active_body_of": (
        "active_body",
        ("read_drain_request",),
        "_active_drain_body_py",
        "_unless_stale",
    ),
}


def _load() -> None:
    """Loads the native extension and binds what comes from it in this namespace:
    the names a host may read (left alone if the host already set them) and the
    native reads (replacing the stand-ins below)."""
    global _native_loaded
    # Not ``from drain_control import _native``: that asks the package for the
    # attribute first, which is this module's __getattr__, which would load it.
    import drain_control._native

    native = sys.modules["drain_control._native"]
    namespace = globals()
    namespace["_native"] = native
    namespace.setdefault("__version__", native.__version__)
    namespace.setdefault("Classification", native.Classification)
    namespace.setdefault("GatewayState", native.GatewayState)
    for name, value in (
        ("_DRAIN_REQUEST_FILENAME", native.MARKER_FILE_NAME),
        ("DRAIN_REQUEST_MAX_AGE_SECONDS", native.MAX_AGE_SECONDS),
    ):
        _OWN[name] = value
        namespace.setdefault(name, value)
    for name, (read, calls, fallback, tail) in _READERS.items():
        namespace[name] = native.Poller(
            namespace,
            _OWN,
            read,
            calls=calls,
            path=_PATH,
            home=_HOME,
            judge=_JUDGE,
            fallback=namespace[fallback] if fallback else None,
            tail=namespace[tail] if tail else None,
        )
    _native_loaded = True


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


# --- what the original imports from its host ------------------------------------------


def get_hermes_home() -> "Path":
    """The home folder: ``HERMES_HOME`` when set (surrounding whitespace ignored), else
    ``~/.hermes``, as the host's ``hermes_constants.get_hermes_home()`` gives it."""
    if not _native_loaded:
        _load()
    return _native.home_folder(os.environ.get("HERMES_HOME"))


def _parse_iso(value: "Any") -> "Optional[datetime]":
    """``datetime.fromisoformat(value)`` for a non-empty ``str``, a naive result taken as
    UTC; ``None`` for anything else or what it rejects: the host's
    ``gateway.memory_status._parse_iso``."""
    # The host's function has datetime of its own: a patched module-level ``datetime``
    # here does not reach it.
    from datetime import datetime, timezone

    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None
    if parsed is not None and parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed


def atomic_json_write(
    path: "Union[str, os.PathLike[str]]",
    data: "Any",
    *,
    indent: int = 2,
    mode: "Optional[int]" = None,
    ensure_ascii: bool = False,
    fsync_dir: bool = False,
    **dump_kwargs: "Any",
) -> None:
    """Write JSON to *path* atomically, with the host's ``utils.atomic_json_write``'s
    signature and serialisation (``json.dumps(data, indent=indent,
    ensure_ascii=ensure_ascii, **dump_kwargs)``; a text with lone surrogates, as
    ``os.fsdecode`` makes of bytes that are not UTF-8, is written with
    ``ensure_ascii=True`` escapes instead), then the contract's durable write:
    exclusive temp file beside *path*, fsync, rename, and an fsync of the folder (always:
    ``fsync_dir`` is accepted for the signature's sake).

    ``mode=0o600`` (or any ``mode``) is the file's permission bits: the temp file is
    0600 from its creation and gets ``mode`` before any byte is written. Without a
    ``mode`` an existing file keeps its own, and a new one gets 0644 less the umask.
    Failures raise ``OSError`` naming *path* and the step that failed; nothing is left
    behind, and the old file is untouched unless the failure came after the rename.
    """
    import json

    text = json.dumps(data, indent=indent, ensure_ascii=ensure_ascii, **dump_kwargs)
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(data, indent=indent, ensure_ascii=True, **dump_kwargs)
        raw = text.encode("utf-8")
    if not _native_loaded:
        _load()
    _native.write_file(path, raw, mode)


# --- the original's functions -----------------------------------------------------------


def drain_request_path(home: "Optional[HomeArg]" = None) -> "Path":
    """Absolute path to the drain-request marker, respecting ``HERMES_HOME``.

    ``home`` when given, else ``get_hermes_home()`` (``$HERMES_HOME``, whitespace
    stripped, else ``~/.hermes``), joined with ``_DRAIN_REQUEST_FILENAME``; resolved at
    every call.
    """
    if _unpatched("_DRAIN_REQUEST_FILENAME") and (
        home is not None or _unpatched("get_hermes_home")
    ):
        if not _native_loaded:
            _load()
        hermes_home = os.environ.get("HERMES_HOME") if home is None else None
        return _native.marker_path(home, hermes_home)
    from pathlib import Path

    base = home if home is not None else get_hermes_home()
    name: "Union[str, os.PathLike[str]]" = _global("_DRAIN_REQUEST_FILENAME")
    return Path(base) / name


def write_drain_request(
    *,
    principal: str = "drain-control",
    suppress_notification: bool = False,
    home: "Optional[HomeArg]" = None,
) -> "dict[str, Any]":
    """Write the begin-drain marker (or keep a drain alive). Returns the payload written.

    Atomic and crash-safe; stamped with :func:`current_instantiation_epoch` and the
    current UTC time. A ``principal`` that is not a ``str`` raises ``TypeError``; a
    payload that a reader would not read back as written (over the 1 MiB a reader reads,
    or holding a lone surrogate) raises ``ValueError`` before anything is touched. A
    failed write raises ``OSError`` (with ``errno``, ``filename`` the marker path, and a
    message naming the step that failed), leaving the previous marker, or its absence,
    untouched.
    """
    if not isinstance(principal, str):
        raise TypeError(f"principal must be a str, not {type(principal).__name__}")
    if not _native_loaded:
        _load()
    if _unpatched("datetime", "timezone", "atomic_json_write"):
        epoch = current_instantiation_epoch()
        if type(epoch) is str:
            # The core stamps the time, checks the payload and writes it.
            path = drain_request_path(home)
            return _native.write_marker(path, principal, bool(suppress_notification), epoch)
        requested_at = _native.now_isoformat()
    else:
        requested_at = _global("datetime").now(_global("timezone").utc).isoformat()
        epoch = current_instantiation_epoch()
    payload = {
        "action": "drain",
        "requested_at": requested_at,
        "principal": principal,
        "epoch": epoch,
        "suppress_notification": bool(suppress_notification),
    }
    _native.check_payload(payload)
    atomic_json_write(drain_request_path(home), payload)
    return payload


def clear_drain_request(*, home: "Optional[HomeArg]" = None) -> bool:
    """Remove the drain marker (cancel-drain). Returns True if one existed.

    A missing file is not an error; any other failure is logged and returns False.
    """
    path = drain_request_path(home)
    if not _native_loaded:
        _load()
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


def _marker_is_expired(body: "dict[str, Any]") -> bool:
    """True iff ``body``'s ``requested_at`` parses and is more than
    ``DRAIN_REQUEST_MAX_AGE_SECONDS`` ago; logged once per ``requested_at``.

    Missing, unparseable and future ``requested_at`` values are never expired.
    """
    global _expiry_logged_for
    from drain_control._micros import age_micros, unix_datetime

    if not _native_loaded:
        _load()
    raw = body.get("requested_at")
    parse_iso = _parse_iso
    if parse_iso is _OWN.get("_parse_iso"):
        # The core reads the timestamp (the contract's subset of fromisoformat), so
        # that this judges as the native reads do.
        micros = _native.timestamp_micros(raw)
        requested_at = None if micros is None else unix_datetime(micros)
    else:
        requested_at = parse_iso(raw)
    if requested_at is None:
        return False
    age = _global("datetime").now(_global("timezone").utc) - requested_at
    age_seconds = age.total_seconds()
    max_age = _global("DRAIN_REQUEST_MAX_AGE_SECONDS")
    if not _native.is_expired(age_micros(age, age_seconds), _max_age_micros(max_age)):
        return False
    if _expiry_logged_for != raw:
        _expiry_logged_for = raw
        message = _native.expired_message(
            raw, age_seconds, float(max_age), body.get("principal")
        )
        _logger().warning("%s", message)
    return True


def _active_drain_body(home: "Optional[HomeArg]") -> "Optional[dict[str, Any]]":
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


# --- the original's calls, for reads whose names a host replaced ------------------------
# The native reads hand over to these (see _READERS) when a name they depend on is not
# the module's own: each makes the calls the original's code makes, through the module
# namespace, with the core's rules.


def _drain_requested_py(home: "Optional[HomeArg]") -> bool:
    return _active_drain_body(home) is not None


def _drain_notification_suppressed_py(home: "Optional[HomeArg]") -> bool:
    body = _active_drain_body(home)
    return bool(body and body.get("suppress_notification"))


def _active_drain_body_py(home: "Optional[HomeArg]") -> "Optional[dict[str, Any]]":
    body = read_drain_request(home=home)
    if body is None:
        return None
    return _unless_stale(body, current_instantiation_epoch())


def _unless_stale(body: "Any", current: "Any") -> "Optional[dict[str, Any]]":
    """The rest of ``_active_drain_body``, once ``body`` is read and the epoch known."""
    if not _native_loaded:
        _load()
    if _native.epoch_is_stale(current, body.get("epoch")) or _marker_is_expired(body):
        return None
    return body  # type: ignore[no-any-return]


def _active_tail(body: "Any", current: "Any") -> bool:
    return _unless_stale(body, current) is not None


def _suppressed_tail(body: "Any", current: "Any") -> bool:
    active = _unless_stale(body, current)
    return bool(active and active.get("suppress_notification"))


# --- the older names, for hosts of older versions -----------------------------------------


def _marker_epoch_is_stale(body: "dict[str, Any]") -> bool:
    """True iff ``body``'s epoch is a *definite* mismatch with this instantiation."""
    if not _native_loaded:
        _load()
    return _native.epoch_is_stale(current_instantiation_epoch(), body.get("epoch"))


def _marker_is_stale(body: "dict[str, Any]") -> bool:
    """True iff ``body`` must be ignored: from another instantiation, or expired."""
    return _marker_epoch_is_stale(body) or _marker_is_expired(body)


# --- helpers ----------------------------------------------------------------------------

# (DRAIN_REQUEST_MAX_AGE_SECONDS, its microseconds) for the last value a host set, so
# that a judgement does no timedelta work per call.
_max_age_memo: "Optional[tuple[object, int]]" = None


def _max_age_micros(seconds: object = _ABSENT) -> int:
    """A maximum age in seconds (default: ``DRAIN_REQUEST_MAX_AGE_SECONDS``) in
    microseconds for the core (see ``_micros.max_age_micros``), kept for the last value
    object converted."""
    global _max_age_memo
    if not _native_loaded:
        _load()
    if seconds is _ABSENT:
        seconds = _global("DRAIN_REQUEST_MAX_AGE_SECONDS")
    if seconds is _native.MAX_AGE_SECONDS:
        return _native.MAX_AGE_MICROS
    memo = _max_age_memo
    if memo is not None and memo[0] is seconds:
        return memo[1]
    from drain_control._micros import max_age_micros

    micros = max_age_micros(seconds)
    _max_age_memo = (seconds, micros)
    return micros


def _bind_for_judging() -> None:
    """Binds the names ``_marker_is_expired`` reads that this module binds on first
    use (``datetime``, ``timezone``), as the original has them bound, unless a host
    already bound or deleted them. The native reads call it before they judge their
    first marker: they check at every read that these names are still the module's
    own, which costs less for a bound name than for an absent one."""
    namespace = globals()
    for name in ("datetime", "timezone"):
        if name not in namespace and name not in _OWN:
            _lazy_attribute(name)


def _logger() -> "logging.Logger":
    """The module's logger, ``_log`` (which a host may replace), made on first use."""
    return _global("_log")  # type: ignore[no-any-return]


def _log_warning(warning: "Optional[_native.MarkerWarning]") -> None:
    """Logs a warning of the core: an expired marker as the original's
    ``_marker_is_expired`` does (when its ``requested_at`` is not
    ``_expiry_logged_for``), an unreadable one once per distinct failure."""
    global _expiry_logged_for
    if warning is None:
        return
    if warning.kind == "expired":
        # The original's test, ``!=`` (a host may have set any value).
        if _expiry_logged_for != warning.key:
            _expiry_logged_for = warning.key
        else:
            return
    else:
        seen = _unreadable_logged_for
        if warning.key in seen:
            return
        if len(seen) >= _WARNINGS_REMEMBERED:
            seen.clear()
        seen.add(warning.key)
    _logger().warning("%s", warning.message)


def classify_marker(
    raw: bytes, *, current_epoch: str, now: "datetime"
) -> "Classification":
    """Classify marker bytes against an epoch and a clock reading (a naive ``now`` is
    UTC), without touching the disk.

    The result has ``read`` (``{}`` if contentless, else the object), ``present``,
    ``active``, ``suppressed``, ``epoch_stale`` and ``expired``.
    """
    from drain_control._micros import unix_micros

    if not _native_loaded:
        _load()
    return _native.classify(
        bytes(raw), current_epoch, unix_micros(now), _max_age_micros()
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


# --- leases (CONTRACT.md): drains that belong to someone ---------------------------------


def begin_lease(
    principal: str,
    suppress_notification: bool = False,
    *,
    home: "Optional[HomeArg]" = None,
    wait: "Optional[float]" = None,
    lock_wait: "Optional[float]" = None,
) -> "Lease":
    """Begin a drain only if none is active, and return its :class:`Lease`.

    The marker is a plain write's plus an ``owner_token`` (every reader, the original
    module's included, sees an ordinary active drain). ``wait``: seconds to wait for an
    active drain to end (``None``: do not wait; ``math.inf``: as long as it takes), each
    change of the marker being a new attempt. Raises :class:`DrainHeldError` naming the
    holder when a drain is (still) active, :class:`LeaseBusyError` (a ``TimeoutError``)
    when other writers kept the lock taken for ``lock_wait`` seconds (``None``: 5), and
    ``OSError`` when writing fails.

    Judged as :func:`drain_requested` judges: the marker of :func:`drain_request_path`,
    :func:`current_instantiation_epoch`, ``DRAIN_REQUEST_MAX_AGE_SECONDS``; the lease
    keeps these.
    """
    return _lease_begin(principal, suppress_notification, home, wait, lock_wait).run()


def resume_lease(
    token: str, *, home: "Optional[HomeArg]" = None, lock_wait: "Optional[float]" = None
) -> "Lease":
    """The :class:`Lease` whose ``token`` another process or an earlier run handed on,
    to keep alive, hold or release (``InvalidLeaseTokenError``, a ``ValueError``, unless
    it is 32 lower-case hexadecimal digits). Judged as :func:`begin_lease` judges."""
    options = _lease_options(home, lock_wait)
    return _native.resume_lease(options, token)


def drain(
    principal: str,
    suppress_notification: bool = False,
    *,
    home: "Optional[HomeArg]" = None,
    wait: "Optional[float]" = None,
    lock_wait: "Optional[float]" = None,
) -> "ScopedDrain":
    """A drain for the length of a block: ``with drain(...) as lease:`` (or ``async
    with``) begins as :func:`begin_lease` does, keeps the drain alive in the background
    (every quarter of ``DRAIN_REQUEST_MAX_AGE_SECONDS``) and releases it at the end,
    also on an exception or a cancellation. ``lease.lost`` says whether another writer
    took the drain meanwhile."""
    from drain_control._lease import ScopedDrain

    begin = functools.partial(
        _lease_begin, principal, suppress_notification, home, wait, lock_wait
    )
    return ScopedDrain(begin)


def _lease_begin(
    principal: str,
    suppress_notification: bool,
    home: "Optional[HomeArg]",
    wait: "Optional[float]",
    lock_wait: "Optional[float]",
) -> "_native.LeaseBegin":
    options = _lease_options(home, lock_wait)
    return _native.LeaseBegin(options, principal, bool(suppress_notification), wait)


def _lease_options(
    home: "Optional[HomeArg]", lock_wait: "Optional[float]"
) -> "_native.LeaseOptions":
    """What lease operations judge with, from this module's (possibly patched) names."""
    if not _native_loaded:
        _load()
    return _native.LeaseOptions(
        drain_request_path(home), current_instantiation_epoch(), _max_age_micros(), lock_wait
    )


# --- the gateway's observed state (its gateway_state.json) ----------------------------------


def gateway_state(*, home: "Optional[HomeArg]" = None) -> "GatewayState":
    """What the gateway says of itself in ``gateway_state.json`` beside the marker,
    checked against the living processes: ``state`` is ``"not-running"`` (no record,
    or its writer is gone), ``"running"``, ``"draining"`` (``in_flight`` turns, named
    in ``work``, still running), ``"quiesced"`` (no longer running, nothing in flight)
    or ``"unknown"`` (``reason`` says why). Never raises for what is on disk."""
    if not _native_loaded:
        _load()
    return _native.observe_gateway(drain_request_path(home).parent)


def wait_gateway_idle(
    timeout: "Optional[float]" = None, *, home: "Optional[HomeArg]" = None
) -> "GatewayState":
    """Wait until the gateway is idle (quiesced, or not running), at most ``timeout``
    seconds (``None``: as long as it takes), woken by each change of its record. Returns
    the last state observed: check ``.idle`` (false at a timeout, with what was still in
    flight). The GIL is released while waiting; Ctrl-C interrupts it."""
    if not _native_loaded:
        _load()
    _, state = _native.wait_gateway_idle(drain_request_path(home).parent, timeout)
    return state


# The names bound on first read, by __getattr__ (PEP 562). The watcher's types come
# from their own module, imported only then: it imports dataclasses, threading, typing.
_WATCH_NAMES = frozenset({"Change", "DrainWatcher", "State"})
# The lease API's classes, from their own module (and the native part) likewise.
_LEASE_NAMES = frozenset(
    {
        "DrainHeldError",
        "DrainHolder",
        "InvalidLeaseTokenError",
        "Lease",
        "LeaseBusyError",
        "LeaseError",
        "LeaseLostError",
        "ScopedDrain",
    }
)
# What the module loaded from the native extension, bound by _load().
_NATIVE_NAMES = frozenset(
    {
        "__version__",
        "_DRAIN_REQUEST_FILENAME",
        "DRAIN_REQUEST_MAX_AGE_SECONDS",
        "Classification",
        "GatewayState",
        "_native",
    }
)
# The standard library's names the original's namespace holds, and a few more: a host
# may read or patch them (monkeypatch.setattr needs the attribute to exist).
_STDLIB_NAMES = {
    "Path": ("pathlib", "Path"),
    "json": ("json", ""),
    "logging": ("logging", ""),
    "contextlib": ("contextlib", ""),
    "annotations": ("__future__", "annotations"),
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
    """Binds ``name`` in this namespace (see __getattr__), records it as the module's
    own, and returns it."""
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
        # The record keeps the first object bound: the pollers keep what they read of it.
        namespace[name] = value
        _OWN.setdefault(name, value)
        return value
    elif name == "_log":
        import logging

        log = namespace[name] = logging.getLogger(__name__)
        _OWN.setdefault(name, log)
        return log
    elif name == "HomeArg":
        from typing import Union

        namespace[name] = Union[str, "os.PathLike[str]"]
        return namespace[name]
    elif name in _WATCH_NAMES:
        from drain_control import _watch

        return getattr(_watch, name)
    elif name in _LEASE_NAMES:
        from drain_control import _lease

        return getattr(_lease, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __getattr__(name: str) -> "Any":
    """The names this module binds on first use, so that importing it loads neither
    the native extension nor json, logging, pathlib, datetime, typing or asyncio (the
    watcher's types)."""
    return _lazy_attribute(name)


def __dir__() -> "list[str]":
    lazy = _WATCH_NAMES | _LEASE_NAMES | _NATIVE_NAMES | set(_STDLIB_NAMES) | {"_log", "HomeArg"}
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


# The module's own objects of the names a host may replace (see _OWN).
_OWN.update(
    (name, globals()[name])
    for name in (
        "current_instantiation_epoch",
        "drain_request_path",
        "write_drain_request",
        "clear_drain_request",
        "read_drain_request",
        "_marker_is_expired",
        "_active_drain_body",
        "drain_requested",
        "drain_notification_suppressed",
        "_marker_epoch_is_stale",
        "_marker_is_stale",
        "get_hermes_home",
        "_parse_iso",
        "atomic_json_write",
    )
)

# A reload runs this body again in the same namespace: forget what the last run bound
# on first use, as a fresh import starts without it.
for _name in set(_NATIVE_NAMES) | set(_STDLIB_NAMES) | {"_log", "HomeArg"}:
    globals().pop(_name, None)
del _name
