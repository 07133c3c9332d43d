"""Writing and clearing: errors as OSError with errno and filename, nothing left behind,
the GIL released around the file I/O."""

from __future__ import annotations

import errno
import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import pytest

PutMarker = Callable[[Path, Any], Path]


def listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_write_into_a_home_that_is_a_file_raises_oserror_and_leaves_nothing(
    dc: ModuleType, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(OSError) as caught:
        dc.write_drain_request(home=home)
    error = caught.value
    assert isinstance(error, (FileExistsError, NotADirectoryError))
    assert error.errno in (errno.EEXIST, errno.ENOTDIR)
    assert error.filename == str(home)
    assert error.strerror == os.strerror(error.errno)
    assert sorted(os.listdir(tmp_path)) == before
    assert home.read_text() == "not a folder"


def test_write_over_a_folder_at_the_marker_path_raises_and_cleans_up(
    dc: ModuleType, home: Path
) -> None:
    (home / ".drain_request.json").mkdir(parents=True)
    with pytest.raises(IsADirectoryError) as caught:
        dc.write_drain_request(home=home)
    assert caught.value.errno == errno.EISDIR
    assert caught.value.filename == str(home / ".drain_request.json")
    assert os.listdir(home) == [".drain_request.json"], "the temp file was left behind"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes whatever the folder's mode")
def test_write_into_a_read_only_home_raises_permission_error(
    dc: ModuleType, home: Path, put_marker: PutMarker
) -> None:
    put_marker(home, {"epoch": "kept"})
    home.chmod(0o555)
    try:
        with pytest.raises(PermissionError) as caught:
            dc.write_drain_request(home=home)
        assert caught.value.errno == errno.EACCES
        assert caught.value.filename.startswith(str(home))
        assert listing(home) == {".drain_request.json": b'{\n  "epoch": "kept"\n}'}
    finally:
        home.chmod(0o755)


def test_failed_write_leaves_the_old_marker_untouched(
    dc: ModuleType, home: Path, put_marker: PutMarker, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = put_marker(home, {"epoch": "old"})
    elsewhere = home / "sub"
    elsewhere.write_text("a file")
    monkeypatch.setattr(dc, "drain_request_path", lambda home=None: elsewhere / "m.json")
    with pytest.raises(OSError):
        dc.write_drain_request(home=home)
    assert json.loads(path.read_text()) == {"epoch": "old"}
    assert sorted(os.listdir(home)) == [".drain_request.json", "sub"]


def test_write_creates_missing_parents(dc: ModuleType, tmp_path: Path) -> None:
    home = tmp_path / "a" / "b" / "c"
    dc.write_drain_request(home=home)
    assert (home / ".drain_request.json").is_file()
    assert os.listdir(home) == [".drain_request.json"]


def test_write_through_a_symlinked_marker_keeps_the_link(
    dc: ModuleType, home: Path, tmp_path: Path
) -> None:
    home.mkdir()
    real = tmp_path / "real.json"
    real.write_text("{}")
    (home / ".drain_request.json").symlink_to(real)
    payload = dc.write_drain_request(home=home)
    assert (home / ".drain_request.json").is_symlink()
    assert json.loads(real.read_text()) == payload


def test_clear_failure_is_a_warning_and_false(
    dc: ModuleType, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=dc.__name__)
    (home / ".drain_request.json").mkdir(parents=True)
    assert dc.clear_drain_request(home=home) is False
    assert [r.name for r in caplog.records] == [dc.__name__]
    assert "failed to remove" in caplog.records[0].getMessage()
    assert (home / ".drain_request.json").is_dir()


def test_principal_must_be_a_string(dc: ModuleType, home: Path) -> None:
    with pytest.raises(TypeError):
        dc.write_drain_request(principal=None, home=home)
    assert not home.exists() or os.listdir(home) == []


def test_suppress_notification_is_written_as_a_bool(dc: ModuleType, home: Path) -> None:
    payload = dc.write_drain_request(suppress_notification=1, home=home)
    assert payload["suppress_notification"] is True
    assert b'"suppress_notification": true' in (home / ".drain_request.json").read_bytes()


def test_file_io_releases_the_gil(dc: ModuleType, home: Path) -> None:
    """Another Python thread runs while the native code writes and fsyncs.

    With a huge switch interval the interpreter never takes the GIL from the main
    thread by itself, so the counter can only move while the native code has let go.
    """
    dc.write_drain_request(home=home)
    counter = [0]
    stop = threading.Event()
    started = threading.Event()

    def spin() -> None:
        started.set()
        while not stop.is_set():
            counter[0] += 1
            time.sleep(0)  # gives the GIL back at once

    old_interval = sys.getswitchinterval()
    worker = threading.Thread(target=spin, daemon=True)
    worker.start()
    started.wait()
    sys.setswitchinterval(1000.0)
    try:
        before = counter[0]
        for _ in range(50):
            dc.write_drain_request(home=home)
            dc.drain_requested(home=home)
        during = counter[0] - before
    finally:
        sys.setswitchinterval(old_interval)
        stop.set()
        worker.join()
    assert during > 0, "no other thread ran during 50 writes: the GIL was held"
