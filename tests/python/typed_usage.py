"""A small typed use of the public API: `mypy --strict` must accept it as it is."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import drain_control
from drain_control import Classification


def begin(home: Path) -> dict[str, Any]:
    return drain_control.write_drain_request(principal="dashboard", home=home)


def status(home: str) -> tuple[bool, bool, Optional[dict[str, Any]]]:
    return (
        drain_control.drain_requested(home=home),
        drain_control.drain_notification_suppressed(home=home),
        drain_control.read_drain_request(home=home),
    )


def cancel(home: Optional[Path] = None) -> bool:
    return drain_control.clear_drain_request(home=home)


def judge(raw: bytes) -> Classification:
    result = drain_control.classify_marker(
        raw,
        current_epoch=drain_control.current_instantiation_epoch(),
        now=datetime.now(timezone.utc),
    )
    read: Optional[dict[str, Any]] = result.read
    flags: list[bool] = [
        result.present,
        result.active,
        result.suppressed,
        result.epoch_stale,
        result.expired,
    ]
    assert read is not None and len(flags) == 5
    return result


marker: Path = drain_control.drain_request_path()
max_age: float = drain_control.DRAIN_REQUEST_MAX_AGE_SECONDS
drain_control.current_instantiation_epoch.cache_clear()
alias = drain_control.install_as("my_host.drain_control")
version: str = drain_control.__version__
