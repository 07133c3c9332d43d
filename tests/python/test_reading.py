"""Reading never raises, never blocks and never uses unbounded memory."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import pytest

PutMarker = Callable[[Path, Any], Path]


def read_all(dc: ModuleType, home: Any) -> tuple[Any, bool, bool, Any]:
    return (
        dc.read_drain_request(home=home),
        dc.drain_requested(home=home),
        dc.drain_notification_suppressed(home=home),
        dc._active_drain_body(home=home),
    )


def test_invalid_utf8_reads_as_contentless(
    dc: ModuleType, home: Path, put_marker: PutMarker
) -> None:
    put_marker(home, b'{"principal": "dash\xff\xfeboard", "epoch": "other:1"}')
    assert read_all(dc, home) == ({}, True, False, {})


def test_nesting_5000_deep_reads_as_contentless(
    dc: ModuleType, home: Path, put_marker: PutMarker
) -> None:
    put_marker(home, b'{"epoch": "other:1", "n": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    assert read_all(dc, home) == ({}, True, False, {})


def test_marker_over_one_mib_reads_as_contentless(
    dc: ModuleType, home: Path, put_marker: PutMarker
) -> None:
    path = put_marker(home, b'{"epoch": "other:1"}')
    with open(path, "r+b") as f:
        f.truncate(64 << 20)  # sparse: 64 MiB that must not be read
    assert read_all(dc, home) == ({}, True, False, {})


def assert_unreadable_once(
    dc: ModuleType, home: Any, caplog: pytest.LogCaptureFixture, what: str
) -> None:
    caplog.set_level(logging.WARNING, logger=dc.__name__)
    for _ in range(3):
        assert read_all(dc, home) == (None, False, False, None)
    warnings = [r for r in caplog.records if "failed to read" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
    assert warnings[0].name == dc.__name__
    assert what in warnings[0].getMessage()


def test_folder_at_marker_path_reads_as_absent_with_one_warning(
    dc: ModuleType, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (home / ".drain_request.json").mkdir(parents=True)
    assert_unreadable_once(dc, home, caplog, "folder")


def test_fifo_at_marker_path_does_not_block(
    dc: ModuleType, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home.mkdir()
    os.mkfifo(home / ".drain_request.json")
    done = threading.Event()

    def poll() -> None:
        assert_unreadable_once(dc, home, caplog, "FIFO")
        done.set()

    worker = threading.Thread(target=poll, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert done.is_set(), "reading a FIFO blocked (or failed)"


def test_link_to_dev_zero_reads_as_absent(
    dc: ModuleType, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home.mkdir()
    (home / ".drain_request.json").symlink_to("/dev/zero")
    assert_unreadable_once(dc, home, caplog, "character device")


def test_nul_byte_in_path_reads_as_unreadable_with_a_warning(
    dc: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert_unreadable_once(dc, str(tmp_path) + "/a\x00b", caplog, "NUL")


def test_link_loop_reads_as_absent(
    dc: ModuleType, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home.mkdir()
    (home / ".drain_request.json").symlink_to(home / ".drain_request.json")
    assert_unreadable_once(dc, home, caplog, "symbolic links")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_reads_as_absent(
    dc: ModuleType, home: Path, put_marker: PutMarker, caplog: pytest.LogCaptureFixture
) -> None:
    put_marker(home, {"epoch": ""}).chmod(0)
    assert_unreadable_once(dc, home, caplog, "ermission")


def test_home_that_is_a_file_reads_as_absent(dc: ModuleType, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    assert dc.read_drain_request(home=not_a_folder) is None
    assert dc.drain_requested(home=not_a_folder) is False


def test_body_values_convert_to_python_types(
    dc: ModuleType, home: Path, put_marker: PutMarker
) -> None:
    put_marker(
        home,
        b'{"s": "\\u00e9\\ud83d\\ude00", "i": -12, "u": 18446744073709551615, '
        b'"f": 0.5, "e": 1e2, "t": true, "n": null, "l": [1, [2, {}]], '
        b'"o": {"k": false}, "s": "last"}',
    )
    body = dc.read_drain_request(home=home)
    assert body == {
        "s": "last",
        "i": -12,
        "u": 18446744073709551615,
        "f": 0.5,
        "e": 100.0,
        "t": True,
        "n": None,
        "l": [1, [2, {}]],
        "o": {"k": False},
    }
    assert list(body) == ["s", "i", "u", "f", "e", "t", "n", "l", "o"]
    assert [type(body[k]) for k in ("i", "u", "f", "e", "t")] == [int, int, float, float, bool]
