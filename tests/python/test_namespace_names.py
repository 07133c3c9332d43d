"""The original's module namespace (issue 11, part 1): every name of the original,
with its kind, signature and first value; names a host deleted, which fail where
the original's global look-up fails; the older names, which follow the patched
ones; and an unpatched module, which runs no Python below its public functions.

The rows, and how each test runs one scenario on the module under test and on
the original, are in ``namespace_helpers.py``.
"""

from __future__ import annotations

import inspect
import logging
import sys
import types
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from namespace_helpers import EPOCH, MARKER, OTHER_EPOCH, PutMarker, ago


# --- names, kinds, signatures, initial values ---------------------------------------


def unannotated(function: Any) -> str:
    signature = inspect.signature(function)
    return str(
        signature.replace(
            parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()],
            return_annotation=signature.empty,
        )
    )


def test_every_name_of_the_original_is_there_with_its_kind_and_signature(
    dc: ModuleType, original: ModuleType
) -> None:
    names = sorted(n for n in vars(original) if not (n.startswith("__") and n.endswith("__")))
    assert len(names) >= 27
    for name in names:
        theirs = getattr(original, name)
        assert hasattr(dc, name), name
        ours = getattr(dc, name)
        assert name in dir(dc), name
        if isinstance(theirs, (type, ModuleType)) or name in ("Any", "Optional", "annotations"):
            # The standard library's objects: the very same ones.
            assert ours is theirs, name
        elif inspect.isfunction(inspect.unwrap(theirs)):
            assert inspect.isfunction(inspect.unwrap(ours)), name
            assert unannotated(ours) == unannotated(theirs), name
            assert ours.__module__ == dc.__name__ or name in ("get_hermes_home", "_parse_iso", "atomic_json_write"), name
        elif isinstance(theirs, logging.Logger):
            assert ours is logging.getLogger(dc.__name__)
            assert theirs is logging.getLogger(original.__name__)
        else:
            assert type(ours) is type(theirs), name
            assert ours == theirs, name
    # The memoised epoch is an lru_cache in both.
    for module in (dc, original):
        module.current_instantiation_epoch.cache_clear()
        assert module.current_instantiation_epoch.cache_info().maxsize == 1


def test_the_plain_globals_start_as_the_originals(dc: ModuleType, original: ModuleType) -> None:
    for module in (dc, original):
        assert module._expiry_logged_for is None
        assert module.DRAIN_REQUEST_MAX_AGE_SECONDS == 3600.0
        assert type(module.DRAIN_REQUEST_MAX_AGE_SECONDS) is float
        assert module._DRAIN_REQUEST_FILENAME == MARKER
        assert module._log is logging.getLogger(module.__name__)
        assert module.datetime is datetime and module.timezone is timezone
    # The older names stay, for hosts of older versions.
    assert unannotated(dc._marker_epoch_is_stale) == "(body)"
    assert unannotated(dc._marker_is_stale) == "(body)"


# --- deleted names fail where the original's global look-up fails -------------------------


@pytest.mark.parametrize(
    ("name", "fails_without_marker"),
    [
        ("read_drain_request", True),
        ("_active_drain_body", True),
        ("drain_request_path", True),
        ("current_instantiation_epoch", False),
        ("_marker_is_expired", False),
    ],
)
def test_a_deleted_name_raises_name_error_where_the_original_does(
    both: list[ModuleType],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    put_marker: PutMarker,
    name: str,
    fails_without_marker: bool,
) -> None:
    for module in both:
        home = tmp_path / module.__name__
        if name != "current_instantiation_epoch":
            monkeypatch.setattr(module, "current_instantiation_epoch", lambda: EPOCH)
        monkeypatch.delattr(module, name)
        if fails_without_marker:
            with pytest.raises(NameError):
                module.drain_requested(home=home)
        else:
            assert module.drain_requested(home=home) is False
        put_marker(home, {"epoch": EPOCH})
        with pytest.raises(NameError):
            module.drain_requested(home=home)


# --- the older names ----------------------------------------------------------------------


def test_the_older_names_follow_the_patched_ones(
    dc: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: EPOCH)
    assert dc._marker_epoch_is_stale({"epoch": OTHER_EPOCH}) is True
    assert dc._marker_epoch_is_stale({"epoch": EPOCH}) is False
    assert dc._marker_is_stale({"epoch": EPOCH, "requested_at": ago(hours=2)}) is True
    monkeypatch.setattr(dc, "_marker_is_expired", lambda body: True)
    assert dc._marker_is_stale({"epoch": EPOCH}) is True
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: "")
    assert dc._marker_epoch_is_stale({"epoch": OTHER_EPOCH}) is False


def test_an_unpatched_module_runs_no_python_below_its_public_functions(
    dc: ModuleType, tmp_path: Path, put_marker: PutMarker
) -> None:
    """With nothing patched (also after a patch is undone, and with the names bound on
    first use bound), a read is one native call: no mirror of the original's calls
    runs (seen by a profile function)."""
    put_marker(tmp_path, {"requested_at": ago(minutes=1), "suppress_notification": True})
    assert dc.drain_requested(home=tmp_path) is True
    real = dc.datetime
    dc.datetime = object()
    dc.datetime = real
    assert dc.timezone is timezone and dc.DRAIN_REQUEST_MAX_AGE_SECONDS == 3600.0
    called: list[str] = []

    def profile(frame: types.FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_filename == dc.__file__:
            called.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        assert dc.drain_requested(home=tmp_path) is True
        assert dc.drain_notification_suppressed(home=tmp_path) is True
        assert dc.read_drain_request(home=tmp_path) is not None
        assert dc._active_drain_body(tmp_path) is not None
        assert dc.drain_requested(home=tmp_path / "absent") is False
    finally:
        sys.setprofile(None)
    assert called == [
        "drain_requested",
        "drain_notification_suppressed",
        "read_drain_request",
        "_active_drain_body",
        "drain_requested",
    ]
