"""The drain watcher (``drain_control.watch``), with real files, against the installed
wheel: the states it reports as a marker comes, goes, changes epoch and expires, and
as its folder comes and goes; and the host's alias, which logs under its own name.
(Timeouts and closing: ``test_watch_lifecycle.py``; asyncio: ``test_watch_asyncio.py``.)

Most tests run against the package and against the host's alias of it (the ``dc``
fixture). Waits are bounded by generous timeouts (a slow CI machine must not fail a
test), while the fallback interval is set long, so that a change seen in time was seen
through the folder watch, not through a fallback re-read (``watch_helpers.py``).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Optional

import pytest

import drain_control

from watch_helpers import (
    EPOCH,
    OTHER_EPOCH,
    PATIENCE,
    QUIET,
    SLOW_FALLBACK,
    body,
    expect,
    expect_quiet,
    iso,
    marker_path,
    put,
    watcher,
)


# --- the states ------------------------------------------------------------------


def test_first_change_is_the_initial_state(dc: ModuleType, home: Path, epoch: str) -> None:
    with watcher(dc, home) as w:
        change = expect(w, "absent")
        assert change.initial
        assert change.body is None and not change.present and not change.active
        assert change.at.tzinfo is not None
        assert abs(datetime.now(timezone.utc) - change.at) < timedelta(seconds=PATIENCE)
        expect_quiet(w)
    put(home, body())
    with watcher(dc, home) as w:
        change = expect(w, "active")
        assert change.initial and change.active and change.draining


def test_begin_and_cancel(dc: ModuleType, home: Path, epoch: str) -> None:
    with watcher(dc, home) as w:
        expect(w, "absent")
        payload = dc.write_drain_request(principal="dashboard", home=home)
        change = expect(w, "active")
        assert not change.initial
        assert change.present and change.active and not change.suppressed
        assert not change.epoch_stale and not change.expired
        assert change.body == payload == dc.read_drain_request(home=home)
        requested = datetime.fromisoformat(payload["requested_at"])
        assert change.expires_at == requested + timedelta(hours=1, microseconds=1)
        assert dc.clear_drain_request(home=home)
        change = expect(w, "absent")
        assert change.body is None and change.expires_at is None
        expect_quiet(w)


def test_suppressed_and_back(dc: ModuleType, home: Path, epoch: str) -> None:
    with watcher(dc, home) as w:
        expect(w, "absent")
        dc.write_drain_request(suppress_notification=True, home=home)
        change = expect(w, "suppressed")
        assert change.active and change.suppressed
        dc.write_drain_request(suppress_notification=False, home=home)
        assert not expect(w, "active").suppressed


def test_a_rewrite_is_no_change_unless_every_change(
    dc: ModuleType, home: Path, epoch: str
) -> None:
    dc.write_drain_request(home=home)
    with watcher(dc, home) as quiet, watcher(dc, home, every_change=True) as every:
        expect(quiet, "active")
        first = expect(every, "active")
        time.sleep(0.002)  # a distinct requested_at
        payload = dc.write_drain_request(home=home)  # the keep-alive
        expect_quiet(quiet)
        second = expect(every, "active")
        assert second.body == payload
        assert first.body is not None and first.body != second.body
        assert second.expires_at is not None and first.expires_at is not None
        assert second.expires_at > first.expires_at
        # A change other than requested_at is reported by both.
        dc.write_drain_request(principal="someone-else", home=home)
        change = expect(quiet, "active")
        assert change.body is not None and change.body["principal"] == "someone-else"
        expect(every, "active")


def test_a_marker_from_another_instantiation_is_ignored(
    dc: ModuleType, home: Path, epoch: str
) -> None:
    with watcher(dc, home) as w:
        expect(w, "absent")
        put(home, body(epoch=OTHER_EPOCH))
        change = expect(w, "epoch-stale")
        assert change.present and change.epoch_stale and not change.active
        assert change.body is not None and change.body["epoch"] == OTHER_EPOCH
        put(home, body(epoch=EPOCH))
        expect(w, "active")


def test_the_epoch_is_the_modules_at_watch_time(
    dc: ModuleType, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A host's patch of current_instantiation_epoch decides, as for drain_requested.
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: EPOCH)
    put(home, body(epoch=EPOCH))
    with watcher(dc, home) as w:
        expect(w, "active")
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: OTHER_EPOCH)
    assert dc.drain_requested(home=home) is False
    with watcher(dc, home) as w:
        expect(w, "epoch-stale")


def test_a_contentless_marker_is_active(dc: ModuleType, home: Path, epoch: str) -> None:
    with watcher(dc, home) as w:
        expect(w, "absent")
        put(home, b"")
        change = expect(w, "active")
        assert change.body == {} and change.expires_at is None


def test_expiry_with_a_short_injected_max_age(
    dc: ModuleType, home: Path, epoch: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=dc.__name__)
    max_age = 0.5
    with watcher(dc, home, _max_age_seconds=max_age) as w:
        expect(w, "absent")
        payload = dc.write_drain_request(principal="forgetful", home=home)
        active = expect(w, "active")
        requested = datetime.fromisoformat(payload["requested_at"])
        assert active.expires_at == requested + timedelta(seconds=max_age, microseconds=1)
        # No file event announces an expiry: the watcher's own wake-up does.
        expired = expect(w, "expired")
        assert expired.expired and expired.present and not expired.active
        assert expired.expires_at is None
        assert active.expires_at is not None and expired.at >= active.expires_at
        assert expired.at - active.expires_at < timedelta(seconds=PATIENCE)
        # A keep-alive would have avoided it; a re-write brings the drain back.
        dc.write_drain_request(principal="forgetful", home=home)
        expect(w, "active")
    # The expiry was logged once, under the module's name, as a poll logs it.
    records = [r for r in caplog.records if "expired drain marker" in r.getMessage()]
    assert len(records) == 1, [r.getMessage() for r in caplog.records]
    assert records[0].name == dc.__name__
    assert payload["requested_at"] in records[0].getMessage()
    assert "forgetful" in records[0].getMessage()
    assert payload["requested_at"] == dc._expiry_logged_for


def test_a_patched_max_age_is_honoured(
    dc: ModuleType, home: Path, epoch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(home, body(requested_at=iso(datetime.now(timezone.utc) - timedelta(seconds=30))))
    with watcher(dc, home) as w:
        expect(w, "active")
    monkeypatch.setattr(dc, "DRAIN_REQUEST_MAX_AGE_SECONDS", 10.0)
    with watcher(dc, home) as w:
        expect(w, "expired")


def test_a_marker_already_expired_stays_quiet(dc: ModuleType, home: Path, epoch: str) -> None:
    put(home, body(requested_at=iso(datetime.now(timezone.utc) - timedelta(hours=2))))
    with watcher(dc, home) as w:
        change = expect(w, "expired")
        assert change.initial and change.expires_at is None
        expect_quiet(w)


def test_the_folder_created_late(dc: ModuleType, tmp_path: Path, epoch: str) -> None:
    home = tmp_path / "not" / "yet" / "there"
    with watcher(dc, home) as w:
        expect(w, "absent")
        expect_quiet(w)
        home.mkdir(parents=True)
        expect_quiet(w)  # an empty folder changes nothing
        dc.write_drain_request(home=home)
        expect(w, "active")


def test_the_folder_deleted_and_recreated(dc: ModuleType, home: Path, epoch: str) -> None:
    dc.write_drain_request(home=home)
    with watcher(dc, home) as w:
        expect(w, "active")
        shutil.rmtree(home)
        expect(w, "absent")
        # The write creates the folder again; the watch is re-armed on it.
        dc.write_drain_request(home=home)
        expect(w, "active")
        # And again, through a rename of another folder into place.
        shutil.rmtree(home)
        expect(w, "absent")
        staging = home.parent / "staging"
        dc.write_drain_request(suppress_notification=True, home=staging)
        staging.rename(home)
        expect(w, "suppressed")
        dc.clear_drain_request(home=home)
        expect(w, "absent")


def test_a_burst_reports_the_final_state(dc: ModuleType, home: Path, epoch: str) -> None:
    with watcher(dc, home) as w:
        expect(w, "absent")
        for i in range(100):
            if i % 3 == 0:
                dc.clear_drain_request(home=home)
            else:
                dc.write_drain_request(suppress_notification=i % 2 == 0, principal=f"p{i}", home=home)
        dc.write_drain_request(suppress_notification=True, principal="final", home=home)
        final = dc.read_drain_request(home=home)
        assert final is not None and final["principal"] == "final"
        last: Optional[drain_control.Change] = None
        while True:
            change = w.next(timeout=QUIET)
            if change is None:
                break
            last = change
        assert last is not None
        assert last.state == "suppressed" and last.body == final


def test_the_fallback_catches_what_inotify_cannot(
    dc: ModuleType, tmp_path: Path, epoch: str
) -> None:
    # The marker is a symbolic link into another folder: a write there is no event in
    # the home, but the fallback re-read sees it.
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    marker_path(home).symlink_to(elsewhere / "real.json")
    with watcher(dc, home, fallback_interval=0.05) as w:
        expect(w, "absent")
        (elsewhere / "real.json").write_text(json.dumps(body()))
        expect(w, "active")


def test_an_unreadable_marker_reads_absent_and_warns_once(
    dc: ModuleType, home: Path, epoch: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=dc.__name__)
    marker_path(home).mkdir(parents=True)  # a folder where the marker should be
    with watcher(dc, home) as w:
        change = expect(w, "absent")
        assert change.body is None
    assert dc.read_drain_request(home=home) is None
    records = [r for r in caplog.records if "failed to read" in r.getMessage()]
    assert len(records) == 1 and records[0].name == dc.__name__


def test_home_resolution_at_watch_time(
    dc: ModuleType, tmp_path: Path, epoch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    monkeypatch.setenv("HERMES_HOME", f"  {first}\n")
    with dc.watch(fallback_interval=SLOW_FALLBACK) as w:
        assert w.home == str(first)
        expect(w, "absent")
        monkeypatch.setenv("HERMES_HOME", str(second))  # does not move a running watch
        dc.write_drain_request(home=second)
        expect_quiet(w)
        dc.write_drain_request(home=first)
        expect(w, "active")


# --- the host's alias ------------------------------------------------------------------


def test_the_alias_logs_under_its_name(
    host_module: ModuleType, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dc = host_module
    caplog.set_level(logging.WARNING)
    with dc.watch(home=home, fallback_interval=SLOW_FALLBACK, _max_age_seconds=0.2) as w:
        assert isinstance(w, drain_control.DrainWatcher)
        expect(w, "absent")
        payload = dc.write_drain_request(principal="alias-test", home=home)
        expect(w, "active")
        expect(w, "expired")
    records = [r for r in caplog.records if "expired drain marker" in r.getMessage()]
    assert [r.name for r in records] == ["gateway.drain_control"]
    assert payload["requested_at"] == dc._expiry_logged_for
    assert payload["requested_at"] != drain_control._expiry_logged_for
