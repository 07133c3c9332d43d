"""The native part of drain_control (Rust): type and error conversion over the core.

Not a public API: use the ``drain_control`` module.
"""

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, Generic, Literal, Optional, TypeVar, Union, final, overload

from drain_control._lease import LeaseLostError

__all__ = [
    "MARKER_FILE_NAME",
    "MAX_AGE_MICROS",
    "MAX_AGE_SECONDS",
    "MAX_MARKER_BYTES",
    "TEMP_PREFIX",
    "TEMP_SUFFIX",
    "__version__",
    "Change",
    "Classification",
    "DrainHolder",
    "GatewayState",
    "Lease",
    "LeaseBegin",
    "LeaseOptions",
    "MarkerWarning",
    "Poller",
    "Watcher",
    "check_payload",
    "classify",
    "compose_epoch",
    "epoch_is_stale",
    "expired_message",
    "home_folder",
    "is_expired",
    "kernel_boot_time",
    "marker_path",
    "now_isoformat",
    "observe_gateway",
    "remove_marker",
    "resume_lease",
    "timestamp_micros",
    "wait_gateway_idle",
    "write_file",
    "write_marker",
]

__version__: Final[str]
MARKER_FILE_NAME: Final[str]
MAX_AGE_SECONDS: Final[float]
MAX_AGE_MICROS: Final[int]
MAX_MARKER_BYTES: Final[int]
TEMP_PREFIX: Final[str]
TEMP_SUFFIX: Final[str]

_PathArg = Union[str, os.PathLike[str]]
_State = Literal["absent", "active", "suppressed", "epoch-stale", "expired"]

@final
class Classification:
    """The read result and verdict of one marker (also a ``Change``'s)."""

    @property
    def read(self) -> Optional[dict[str, Any]]: ...
    @property
    def present(self) -> bool: ...
    @property
    def active(self) -> bool: ...
    @property
    def suppressed(self) -> bool: ...
    @property
    def epoch_stale(self) -> bool: ...
    @property
    def expired(self) -> bool: ...

@final
class MarkerWarning:
    """A warning to log once per ``key``."""

    @property
    def kind(self) -> Literal["unreadable", "expired"]: ...
    @property
    def message(self) -> str: ...
    @property
    def key(self) -> str: ...

@final
class Change:
    """One change of the drain state, as a ``Watcher`` reports it."""

    @property
    def state(self) -> _State: ...
    @property
    def classification(self) -> Classification: ...
    @property
    def at_micros(self) -> int: ...
    @property
    def expires_at_micros(self) -> Optional[int]: ...
    @property
    def initial(self) -> bool: ...
    @property
    def warning(self) -> Optional[MarkerWarning]: ...

@final
class Watcher:
    """The Rust watcher of one home folder; ``next`` releases the GIL while waiting."""

    def __new__(
        cls,
        home: _PathArg,
        fallback_interval: float,
        every_change: bool,
        max_age_micros: int,
        epoch: Optional[str],
    ) -> Watcher: ...
    def next(self, timeout: Optional[float] = None) -> Optional[Change]: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...
    def fileno(self) -> int: ...
    def poll_timeout(self) -> float: ...
    @property
    def stopped(self) -> bool: ...
    @property
    def closed(self) -> bool: ...
    @property
    def home(self) -> Path: ...

_T = TypeVar("_T")

@final
class Poller(Generic[_T]):
    """One read of a drop-in module, ``poller[home]``: one native call while the names
    it depends on are the module's own (``own``, looked up in ``namespace``, the
    module's ``globals()``, at every read), else the module's Python functions."""

    @overload
    def __new__(
        cls,
        namespace: dict[str, Any],
        own: dict[str, object],
        read: Literal["active", "suppressed"],
        *,
        calls: Sequence[str],
        path: Sequence[str],
        home: Sequence[str],
        judge: Sequence[str],
        fallback: Optional[Callable[[Any], bool]],
        tail: Optional[Callable[[Any, Any], bool]],
    ) -> Poller[bool]: ...
    @overload
    def __new__(
        cls,
        namespace: dict[str, Any],
        own: dict[str, object],
        read: Literal["read", "active_body"],
        *,
        calls: Sequence[str],
        path: Sequence[str],
        home: Sequence[str],
        judge: Sequence[str],
        fallback: Optional[Callable[[Any], Optional[dict[str, Any]]]],
        tail: Optional[Callable[[Any, Any], Optional[dict[str, Any]]]],
    ) -> Poller[Optional[dict[str, Any]]]: ...
    def __getitem__(self, home: Optional[_PathArg], /) -> _T: ...

def marker_path(home: Optional[_PathArg], hermes_home: Optional[str]) -> Path: ...
def home_folder(hermes_home: Optional[str]) -> Path: ...
def compose_epoch(
    boot_id: Optional[str],
    pid1_stat: Optional[str],
    boot_time: Callable[[], Optional[float]],
) -> str: ...
def kernel_boot_time() -> Optional[float]: ...
def classify(
    raw: bytes,
    current_epoch: str,
    now_micros: Optional[int] = None,
    max_age_micros: int = ...,
) -> Classification: ...
def epoch_is_stale(current: object, marker_epoch: object) -> bool: ...
def is_expired(age_micros: int, max_age_micros: int) -> bool: ...
def timestamp_micros(value: object) -> Optional[int]: ...
def now_isoformat() -> str: ...
def expired_message(
    requested_at: object, age_seconds: float, max_age_seconds: float, principal: object
) -> str: ...
def write_marker(
    path: _PathArg, principal: str, suppress_notification: bool, epoch: str
) -> dict[str, Any]: ...
def check_payload(payload: dict[str, Any]) -> None: ...
def write_file(path: _PathArg, data: bytes, mode: Optional[int] = None) -> None: ...
def remove_marker(path: _PathArg) -> bool: ...

@final
class DrainHolder:
    """Who holds a drain, as a refused begin or a lost lease reports it."""

    @property
    def principal(self) -> Any: ...
    @property
    def requested_at(self) -> Optional[str]: ...
    @property
    def owned(self) -> bool: ...
    @property
    def state(self) -> _State: ...

@final
class LeaseOptions:
    """Where and how lease operations act (the module's marker, epoch, maximum age)."""

    def __new__(
        cls,
        marker: _PathArg,
        epoch: object,
        max_age_micros: int,
        lock_wait: Optional[float] = None,
    ) -> LeaseOptions: ...

@final
class Lease:
    """A drain this process began exclusively, or whose token it was given."""

    @property
    def token(self) -> str: ...
    @property
    def path(self) -> Path: ...
    @property
    def held(self) -> bool: ...
    @property
    def lost(self) -> Optional[LeaseLostError]: ...
    def keep_alive(self) -> dict[str, Any]: ...
    def release(self) -> bool: ...
    def hold(self) -> None: ...

@final
class LeaseBegin:
    """One begin, which may wait; ``stop`` from another thread gives up."""

    def __new__(
        cls,
        options: LeaseOptions,
        principal: str,
        suppress_notification: bool,
        wait: Optional[float] = None,
    ) -> LeaseBegin: ...
    def run(self) -> Lease: ...
    def stop(self) -> None: ...

def resume_lease(options: LeaseOptions, token: str) -> Lease: ...

@final
class GatewayState:
    """What the gateway's ``gateway_state.json`` says, checked against the living
    processes."""

    @property
    def state(self) -> Literal["not-running", "running", "draining", "quiesced", "unknown"]: ...
    @property
    def idle(self) -> bool: ...
    @property
    def in_flight(self) -> Optional[int]: ...
    @property
    def work(self) -> list[str]: ...
    @property
    def gateway_state(self) -> Optional[str]: ...
    @property
    def reason(self) -> Optional[str]: ...
    @property
    def message(self) -> str: ...

def observe_gateway(home: Path) -> GatewayState: ...
def wait_gateway_idle(home: Path, timeout: Optional[float] = None) -> tuple[bool, GatewayState]: ...
