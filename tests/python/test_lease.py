"""Leases (issue 14, CONTRACT.md): ``begin_lease``, ``resume_lease`` and ``Lease``
against the installed wheel; the scoped form ``drain()`` and waiting begins are in
test_lease_scoped.py.

Each test runs on the package and on the host's alias of it (the ``dc`` fixture), and
the compatibility ones against the ORIGINAL module beside it (skipped, saying so, where
``../shared`` is absent). Short maximum ages are injected the way a host's test does:
``monkeypatch.setattr(dc, "DRAIN_REQUEST_MAX_AGE_SECONDS", ...)``.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import pytest

import drain_control
from drain_control import _lease

PutMarker = Callable[[Path, Any], Path]
EPOCH = "0f6d3c1e-7d1a-4c55-9a43-0f2b1e4b5c6d:1234"
OTHER_EPOCH = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:99"
MARKER = ".drain_request.json"
FIELDS = ["action", "requested_at", "principal", "epoch", "suppress_notification"]


def marker_of(home: Path) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((home / MARKER).read_text(encoding="utf-8"))
    return body


def requested_at(home: Path) -> datetime:
    return datetime.fromisoformat(marker_of(home)["requested_at"])


# --- begin, keep_alive, release --------------------------------------------------------


def test_begin_keep_alive_release_round_trip(dc: ModuleType, home: Path) -> None:
    lease = dc.begin_lease("migration", True, home=home)
    assert isinstance(lease, dc.Lease) and lease.held is False and lease.lost is None
    assert re.fullmatch(r"[0-9a-f]{32}", lease.token)
    assert lease.path == home / MARKER
    body = marker_of(home)
    assert list(body) == FIELDS + ["owner_token"]
    assert body["owner_token"] == lease.token
    assert (body["action"], body["principal"], body["suppress_notification"]) == (
        "drain",
        "migration",
        True,
    )
    assert body["epoch"] == dc.current_instantiation_epoch()
    first = requested_at(home)
    time.sleep(0.01)
    written = lease.keep_alive()
    assert written == marker_of(home)
    assert requested_at(home) > first
    assert written["owner_token"] == lease.token and written["principal"] == "migration"
    assert lease.release() is True
    assert not (home / MARKER).exists()
    assert lease.release() is False
    with pytest.raises(dc.LeaseLostError) as caught:
        lease.keep_alive()
    assert caught.value.holder is None
    assert not (home / MARKER).exists()


def test_lease_file_io_releases_the_gil(dc: ModuleType, home: Path, others_run: Any) -> None:
    with others_run() as moved:
        for _ in range(20):
            lease = dc.begin_lease("p", home=home)
            lease.keep_alive()
            assert lease.release() is True
    assert moved[0] > 0, "no other thread ran during 20 leases: the GIL was held"


def test_tokens_are_new_each_time(dc: ModuleType, home: Path) -> None:
    tokens = set()
    for _ in range(5):
        lease = dc.begin_lease("p", home=home)
        tokens.add(lease.token)
        assert lease.release() is True
    assert len(tokens) == 5


def test_a_second_begin_is_refused_naming_the_holder(dc: ModuleType, home: Path) -> None:
    first = dc.begin_lease("deploy-bot", home=home)
    before = (home / MARKER).read_bytes()
    with pytest.raises(dc.DrainHeldError) as caught:
        dc.begin_lease("someone-else", home=home)
    holder = caught.value.holder
    assert isinstance(holder, dc.DrainHolder)
    assert holder.principal == "deploy-bot"
    assert holder.requested_at == marker_of(home)["requested_at"]
    assert holder.owned is True and holder.state == "active"
    assert "deploy-bot" in str(caught.value) and "leased" in str(caught.value)
    assert (home / MARKER).read_bytes() == before
    assert first.release() is True


def test_a_plain_drain_is_held_too_and_not_owned(
    dc: ModuleType, home: Path, put_marker: PutMarker
) -> None:
    dc.write_drain_request(principal="dashboard", suppress_notification=True, home=home)
    with pytest.raises(dc.DrainHeldError) as caught:
        dc.begin_lease("p", home=home)
    holder = caught.value.holder
    assert (holder.principal, holder.owned, holder.state) == ("dashboard", False, "suppressed")
    put_marker(home, {})  # contentless: active, nobody's
    with pytest.raises(dc.DrainHeldError) as caught:
        dc.begin_lease("p", home=home)
    holder = caught.value.holder
    assert (holder.principal, holder.requested_at, holder.owned) == (None, None, False)
    put_marker(home, {"principal": {"team": ["ops", 1]}, "epoch": ""})
    with pytest.raises(dc.DrainHeldError) as caught:
        dc.begin_lease("p", home=home)
    assert caught.value.holder.principal == {"team": ["ops", 1]}  # verbatim


# --- lost leases ---------------------------------------------------------------------------


@pytest.mark.parametrize("writer", ["ours", "original"])
def test_a_lease_lost_to_a_plain_write_reports_it_and_removes_nothing(
    dc: ModuleType, original: ModuleType, home: Path, writer: str
) -> None:
    lease = dc.begin_lease("mine", home=home)
    plain = dc if writer == "ours" else original
    plain.write_drain_request(principal="dashboard", home=home)
    before = (home / MARKER).read_bytes()
    assert "owner_token" not in marker_of(home)
    with pytest.raises(dc.LeaseLostError) as caught:
        lease.keep_alive()
    holder = caught.value.holder
    assert holder is not None
    assert (holder.principal, holder.owned, holder.state) == ("dashboard", False, "active")
    assert holder.requested_at == marker_of(home)["requested_at"]
    assert (home / MARKER).read_bytes() == before
    assert lease.release() is False
    assert (home / MARKER).read_bytes() == before


def test_a_lease_lost_to_a_plain_clear_has_no_holder(dc: ModuleType, home: Path) -> None:
    lease = dc.begin_lease("mine", home=home)
    assert dc.clear_drain_request(home=home) is True
    with pytest.raises(dc.LeaseLostError) as caught:
        lease.keep_alive()
    assert caught.value.holder is None
    assert not (home / MARKER).exists()
    assert lease.release() is False


def test_a_release_after_another_lease_replaced_an_expired_one_removes_nothing(
    dc: ModuleType, home: Path, monkeypatch: pytest.MonkeyPatch, wait_until: Any
) -> None:
    monkeypatch.setattr(dc, "DRAIN_REQUEST_MAX_AGE_SECONDS", 0.3)
    old = dc.begin_lease("old", home=home)
    assert wait_until(lambda: not dc.drain_requested(home=home))  # expired
    new = dc.begin_lease("new", home=home)  # an expired drain is no one's
    assert old.release() is False
    assert marker_of(home)["owner_token"] == new.token
    with pytest.raises(dc.LeaseLostError) as caught:
        old.keep_alive()
    assert caught.value.holder.principal == "new" and caught.value.holder.owned is True
    # The newer drain expires in its turn: still not the old lease's to remove.
    assert wait_until(lambda: not dc.drain_requested(home=home))
    assert old.release() is False
    assert marker_of(home)["owner_token"] == new.token
    assert new.release() is True


# --- resuming from a token -----------------------------------------------------------------


def test_a_resumed_lease_keeps_alive_and_releases(dc: ModuleType, home: Path) -> None:
    lease = dc.begin_lease("handed-on", home=home)
    resumed = dc.resume_lease(lease.token, home=home)
    assert resumed.token == lease.token and resumed.path == home / MARKER
    time.sleep(0.01)
    first = requested_at(home)
    resumed.keep_alive()
    assert requested_at(home) > first
    assert marker_of(home)["principal"] == "handed-on"
    assert resumed.release() is True
    assert lease.release() is False


@pytest.mark.parametrize(
    "token", ["", "0" * 31, "0" * 33, "A" * 32, "g" * 32, " " + "0" * 31, "0" * 31 + "\n"]
)
def test_a_token_of_another_form_is_a_value_error(dc: ModuleType, home: Path, token: str) -> None:
    with pytest.raises(dc.InvalidLeaseTokenError) as caught:
        dc.resume_lease(token, home=home)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, dc.LeaseError)
    assert caught.value.token == token


# --- the lock: busy ------------------------------------------------------------------------


@contextmanager
def lock_held(home: Path) -> Iterator[Path]:
    home.mkdir(parents=True, exist_ok=True)
    path = home / ".drain_request.lock"
    with open(path, "a+") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        yield path


def test_a_begin_fails_as_busy_while_another_writer_holds_the_lock(
    dc: ModuleType, home: Path, others_run: Any
) -> None:
    with lock_held(home) as lock, others_run() as moved:
        started = time.monotonic()
        with pytest.raises(dc.LeaseBusyError) as caught:
            dc.begin_lease("p", home=home, lock_wait=0.3)
        assert 0.3 <= time.monotonic() - started < 3
    error = caught.value
    assert isinstance(error, TimeoutError) and isinstance(error, dc.LeaseError)
    assert error.errno == errno.ETIMEDOUT and error.filename == str(lock)
    assert error.waited >= 0.3
    assert "busy" in str(error) and str(lock) in str(error)
    assert not (home / MARKER).exists()
    assert moved[0] > 0, "no other thread ran during the lock wait: the GIL was held"


def test_keep_alive_and_release_fail_as_busy_and_touch_nothing(
    dc: ModuleType, home: Path
) -> None:
    lease = dc.begin_lease("p", home=home)
    resumed = dc.resume_lease(lease.token, home=home, lock_wait=0.2)
    before = (home / MARKER).read_bytes()
    with lock_held(home):
        with pytest.raises(dc.LeaseBusyError):
            resumed.keep_alive()
        with pytest.raises(dc.LeaseBusyError):
            resumed.release()
    assert (home / MARKER).read_bytes() == before
    assert resumed.release() is True


# --- I/O errors ----------------------------------------------------------------------------


def test_io_errors_are_the_oserrors_a_write_raises(dc: ModuleType, tmp_path: Path) -> None:
    home = tmp_path / "a-file"
    home.write_text("not a folder")
    with pytest.raises(OSError) as by_write:
        dc.write_drain_request(home=home)
    with pytest.raises(OSError) as by_begin:
        dc.begin_lease("p", home=home)
    ours, theirs = by_begin.value, by_write.value
    assert type(ours) is type(theirs)
    assert (ours.errno, ours.filename) == (theirs.errno, str(home / MARKER))
    assert ours.errno in (errno.EEXIST, errno.ENOTDIR)
    assert ours.strerror.startswith(os.strerror(ours.errno))


def test_a_refused_payload_is_a_value_error_before_the_disk(dc: ModuleType, home: Path) -> None:
    with pytest.raises(ValueError, match="principal"):
        dc.begin_lease("x" * (1 << 20), home=home)
    with pytest.raises(ValueError, match="principal"):
        dc.begin_lease("a\udcffb", home=home)
    with pytest.raises(TypeError):
        dc.begin_lease(123, home=home)
    assert not (home / MARKER).exists()


# --- the module's (possibly patched) names -------------------------------------------------


def test_a_patched_epoch_is_the_one_leases_judge_and_stamp(
    dc: ModuleType, home: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    now = datetime.now(timezone.utc).isoformat()
    put_marker(home, {"requested_at": now, "epoch": EPOCH, "principal": "host"})
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: EPOCH)
    with pytest.raises(dc.DrainHeldError):  # active in the patched epoch
        dc.begin_lease("p", home=home)
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: OTHER_EPOCH)
    lease = dc.begin_lease("p", home=home)  # epoch-stale in this one
    assert marker_of(home)["epoch"] == OTHER_EPOCH
    # After a restart (another epoch) the lease is over: lost, and nothing is removed.
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: EPOCH)
    resumed = dc.resume_lease(lease.token, home=home)
    with pytest.raises(dc.LeaseLostError) as caught:
        resumed.keep_alive()
    assert caught.value.holder is not None and caught.value.holder.state == "epoch-stale"
    assert resumed.release() is False
    assert marker_of(home)["owner_token"] == lease.token


def test_an_epoch_that_is_not_a_string_is_refused(
    dc: ModuleType, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: 123)
    with pytest.raises(TypeError, match="epoch"):
        dc.begin_lease("p", home=home)
    assert not (home / MARKER).exists()


def test_a_patched_max_age_is_the_one_leases_judge_with(
    dc: ModuleType, home: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    ninety_seconds_ago = datetime.fromtimestamp(time.time() - 90, timezone.utc).isoformat()
    put_marker(home, {"requested_at": ninety_seconds_ago, "principal": "old"})
    with pytest.raises(dc.DrainHeldError):
        dc.begin_lease("p", home=home)
    monkeypatch.setattr(dc, "DRAIN_REQUEST_MAX_AGE_SECONDS", 60.0)
    lease = dc.begin_lease("p", home=home)
    assert marker_of(home)["owner_token"] == lease.token


def test_the_home_is_resolved_as_the_module_resolves_it(
    dc: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERMES_HOME", str(tmp_path / "from-env"))
    lease = dc.begin_lease("p")
    assert lease.path == tmp_path / "from-env" / MARKER
    assert dc.resume_lease(lease.token).release() is True
    monkeypatch.setattr(dc, "get_hermes_home", lambda: tmp_path / "patched")
    with dc.drain("p") as held:
        assert held.path == tmp_path / "patched" / MARKER
        assert dc.drain_requested() is True
    monkeypatch.setattr(dc, "_DRAIN_REQUEST_FILENAME", "other.json")
    with pytest.raises(ValueError, match="marker"):  # the lock is the contract's marker's
        dc.begin_lease("p")
    assert not (tmp_path / "patched" / "other.json").exists()


# --- compatibility: the original's readers -------------------------------------------------


def test_the_originals_readers_see_a_leased_drain_as_an_ordinary_one(
    dc: ModuleType, original: ModuleType, home: Path
) -> None:
    lease = dc.begin_lease("migration", True, home=home)
    assert original.drain_requested(home=home) is True
    assert original.drain_notification_suppressed(home=home) is True
    assert original.read_drain_request(home=home) == marker_of(home)
    assert original._active_drain_body(home) == marker_of(home)
    assert lease.release() is True
    assert original.drain_requested(home=home) is False
    lease = dc.begin_lease("quiet", home=home)
    assert original.drain_requested(home=home) is True
    assert original.drain_notification_suppressed(home=home) is False
    assert lease.release() is True


# --- the API's shape -----------------------------------------------------------------------


def test_the_lease_names_are_the_packages_and_lazy(dc: ModuleType, tmp_path: Path) -> None:
    for name in ("DrainHeldError", "LeaseLostError", "LeaseBusyError", "ScopedDrain"):
        assert getattr(dc, name) is getattr(_lease, name)
        assert name in dir(dc) and name in drain_control.__all__
    assert dc.Lease is _lease.Lease and dc.DrainHolder is _lease.DrainHolder
    assert issubclass(dc.InvalidLeaseTokenError, ValueError)
    assert issubclass(dc.InvalidLeaseTokenError, dc.LeaseError)
    assert issubclass(dc.LeaseBusyError, TimeoutError)
    assert not issubclass(dc.DrainHeldError, OSError)
    code = "import sys, drain_control; print('drain_control._lease' in sys.modules)"
    env = dict(os.environ, HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    assert out.stdout.split() == ["False"]
