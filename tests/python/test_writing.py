"""Writing and clearing: errors as OSError with errno and filename, nothing left behind,
the GIL released around the file I/O."""

from __future__ import annotations

import errno
import json
import logging
import os
import subprocess
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
    assert error.filename == str(home / ".drain_request.json")
    assert error.strerror == f"{os.strerror(error.errno)} (creating the home folder {str(home)!r})"
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
    assert caught.value.strerror == "Is a directory (renaming the new marker into place)"
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
        assert caught.value.filename == str(home / ".drain_request.json")
        assert "creating a temporary file" in caught.value.strerror
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
    for principal in (None, b"dashboard", 7):
        with pytest.raises(TypeError, match="principal"):
            dc.write_drain_request(principal=principal, home=home)
    assert not home.exists()


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


# --- never write a marker the reader would call corrupt (issue 11, part 3) ------------

MAX_MARKER_BYTES = 1 << 20


def test_a_principal_over_the_read_cap_is_refused_before_the_disk(
    dc: ModuleType, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A marker over 1 MiB reads as contentless, and a contentless marker drains for ever.
    with pytest.raises(ValueError, match=r"principal.*1048576 bytes \(1 MiB\)"):
        dc.write_drain_request(principal="x" * 2_000_000, home=home)
    assert not home.exists()
    # Whichever atomic_json_write is in place: it is not even called.
    calls: list[Any] = []
    monkeypatch.setattr(dc, "atomic_json_write", lambda *a, **k: calls.append(a))
    with pytest.raises(ValueError, match="principal"):
        dc.write_drain_request(principal="x" * 2_000_000, home=home)
    assert calls == [] and not home.exists()


def test_the_largest_principal_that_fits_is_written_and_read_back(
    dc: ModuleType, home: Path
) -> None:
    payload = dc.write_drain_request(principal="", home=home)
    room = MAX_MARKER_BYTES - len((home / ".drain_request.json").read_bytes())
    payload = dc.write_drain_request(principal="p" * room, home=home)
    assert len((home / ".drain_request.json").read_bytes()) == MAX_MARKER_BYTES
    assert dc.read_drain_request(home=home) == payload
    assert dc.drain_requested(home=home) is True
    with pytest.raises(ValueError, match="principal"):
        dc.write_drain_request(principal="p" * (room + 1), home=home)
    assert dc.read_drain_request(home=home) == payload, "the old marker is untouched"


def test_an_epoch_over_the_read_cap_is_refused(
    dc: ModuleType, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: "e" * 2_000_000)
    with pytest.raises(ValueError, match=r"epoch.*1 MiB"):
        dc.write_drain_request(home=home)
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: ["e" * 100] * 20_000)
    with pytest.raises(ValueError, match="1 MiB"):
        dc.write_drain_request(home=home)
    assert not home.exists()


def test_a_principal_with_a_lone_surrogate_is_refused(
    dc: ModuleType, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # os.fsdecode of bytes that are not UTF-8: the original would write "\udcff", which
    # a strict reader takes for a torn marker (contentless: a drain that never ends).
    principal = os.fsdecode(b"dash\xffboard")
    with pytest.raises(ValueError, match="principal"):
        dc.write_drain_request(principal=principal, home=home)
    calls: list[Any] = []
    monkeypatch.setattr(dc, "atomic_json_write", lambda *a, **k: calls.append(a))
    with pytest.raises(ValueError, match="principal"):
        dc.write_drain_request(principal=principal, home=home)
    assert calls == [] and not home.exists()


def test_a_payload_of_patched_values_is_checked_too(
    dc: ModuleType, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: float("nan"))
    with pytest.raises(ValueError, match="read back"):
        dc.write_drain_request(home=home)
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: object())
    with pytest.raises(TypeError):
        dc.write_drain_request(home=home)
    assert not home.exists()
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: {"boot": [1, 2.5]})
    assert dc.write_drain_request(home=home)["epoch"] == {"boot": [1, 2.5]}


# --- errors that say what failed (issue 11, part 4) -----------------------------------


def write_in_a_child(home: Path, limit: str) -> list[str]:
    """Writes a marker in a child process after ``limit`` (resource limits that make a
    step fail); the error's type, errno, filename and strerror, one per line."""
    code = f"""
import os, resource, signal, sys
import drain_control as dc
home = {str(home)!r}
# Loaded and computed before the limit: the native part, the epoch.
dc.drain_requested(home=home)
dc.current_instantiation_epoch()
dc.drain_request_path(home)  # pathlib
os.makedirs(home, exist_ok=True)
{limit}
try:
    dc.write_drain_request(home=home)
except OSError as e:
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    print(type(e).__name__, e.errno, e.filename, e.strerror, str(e), sep="\\n")
else:
    print("no error")
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.PIPE, text=True)
    return out.stdout.splitlines()


def test_a_failure_to_create_the_temp_file_names_the_marker_and_the_step(home: Path) -> None:
    limit = """
free = os.dup(0)
os.close(free)
resource.setrlimit(resource.RLIMIT_NOFILE, (free, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
"""
    kind, code, filename, strerror, text = write_in_a_child(home, limit)
    marker = str(home / ".drain_request.json")
    temp = str(home / "..drain_request_0.tmp")
    assert (kind, int(code), filename) == ("OSError", errno.EMFILE, marker)
    assert strerror == f"{os.strerror(errno.EMFILE)} (creating a temporary file {temp!r})"
    assert text == f"[Errno {errno.EMFILE}] {strerror}: {marker!r}"
    assert os.listdir(home) == []


def test_a_failure_to_write_names_the_marker_and_the_step(home: Path) -> None:
    limit = """
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (16, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
"""
    kind, code, filename, strerror, _ = write_in_a_child(home, limit)
    assert (kind, int(code), filename) == ("OSError", errno.EFBIG, str(home / ".drain_request.json"))
    assert strerror.startswith(f"{os.strerror(errno.EFBIG)} (writing the temporary file ")
    assert os.listdir(home) == []


def test_a_failed_clear_is_logged_with_the_marker_and_the_step(
    dc: ModuleType, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=dc.__name__)
    (home / ".drain_request.json" / "inside").mkdir(parents=True)
    assert dc.clear_drain_request(home=home) is False
    [message] = [r.getMessage() for r in caplog.records]
    assert "failed to remove" in message and "removing the marker" in message
    assert str(home / ".drain_request.json") in message


def test_atomic_json_write_errors_name_the_file_and_the_step(
    dc: ModuleType, tmp_path: Path
) -> None:
    target = tmp_path / "state.json"
    target.mkdir()
    with pytest.raises(IsADirectoryError) as caught:
        dc.atomic_json_write(target, {"a": 1})
    assert caught.value.filename == str(target)
    assert "renaming the new marker into place" in str(caught.value)
    assert os.listdir(target) == [] and os.listdir(tmp_path) == ["state.json"]
