"""The original's module namespace (issue 11, part 1): the host's functions it
imports, ``get_hermes_home``, ``_parse_iso`` and ``atomic_json_write``, are the
host's, outcome for outcome.

The rows, and how each test runs one scenario on the module under test and on
the original, are in ``namespace_helpers.py``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from namespace_helpers import MARKER


# --- the host's functions: get_hermes_home, _parse_iso, atomic_json_write ------------------


@pytest.mark.parametrize(
    ("hermes_home", "user_home"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        (" /srv/hermes \n", None),
        ("/srv/hermes/", None),
        ("relative/home", None),
        ("~/not-expanded", None),
        ("\u3000/srv/wide\u3000", None),
        ("\x1f/srv/separator", None),
        (None, ""),
        (None, "/home/someone//"),
        (None, "/"),
        ("\t", "/home/someone"),
    ],
)
def test_get_hermes_home_is_the_hosts(
    dc: ModuleType,
    original: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    hermes_home: Optional[str],
    user_home: Optional[str],
) -> None:
    if hermes_home is None:
        monkeypatch.delenv("HERMES_HOME", raising=False)
    else:
        monkeypatch.setenv("HERMES_HOME", hermes_home)
    if user_home is not None:
        monkeypatch.setenv("HOME", user_home)
    ours, theirs = dc.get_hermes_home(), original.get_hermes_home()
    assert ours == theirs and type(ours) is type(theirs)
    assert dc.drain_request_path() == original.drain_request_path() == theirs / MARKER


ISO_TEXTS = [
    "2026-11-27T12:00:00",
    "2026-11-27T12:00:00+00:00",
    "2026-11-27 12:00:00.250000+05:30",
    "2026-11-27T12:00:00Z",
    "2026-11-27",
    "20261127T120000",
    "2026-W48-5",
    "2026-11-27T12:00:00+05:30:15",
    "2026-11-27T24:00:00",
    "2026-02-30T00:00:00",
    "",
    " 2026-11-27",
    "yesterday",
    "2026-11-27T12:00:00.123456789",
]


@pytest.mark.parametrize(
    "value", ISO_TEXTS + [None, 0, 1.5, b"2026-11-27", ["2026-11-27"], datetime(2026, 1, 1)]
)
def test_parse_iso_is_the_hosts(dc: ModuleType, original: ModuleType, value: Any) -> None:
    ours, theirs = dc._parse_iso(value), original._parse_iso(value)
    assert repr(ours) == repr(theirs)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.text(max_size=40), st.datetimes().map(datetime.isoformat)))
def test_parse_iso_is_the_hosts_for_any_text(
    dc: ModuleType, original: ModuleType, value: str
) -> None:
    assert repr(dc._parse_iso(value)) == repr(original._parse_iso(value))


JSON_DATA: list[tuple[Any, dict[str, Any]]] = [
    ({"a": 1, "b": [1, 2.5, None, True], "c": {"d": "zoë ☃"}}, {}),
    ({"a": 1, "b": "zoë"}, {"indent": None}),
    ({"b": 1, "a": 2}, {"sort_keys": True, "indent": 4}),
    ({"a": "zoë"}, {"ensure_ascii": True}),
    ({"path": "a\udcffb"}, {}),  # a lone surrogate (os.fsdecode): the ASCII fallback
    ([1, 2, 3], {"separators": (",", ":")}),
    ("just a string", {}),
]


@pytest.mark.parametrize(("data", "kwargs"), JSON_DATA)
def test_atomic_json_write_writes_what_the_hosts_writes(
    dc: ModuleType, original: ModuleType, tmp_path: Path, data: Any, kwargs: dict[str, Any]
) -> None:
    ours, theirs = tmp_path / "ours" / "state.json", tmp_path / "theirs" / "state.json"
    dc.atomic_json_write(str(ours), data, **kwargs)
    original.atomic_json_write(theirs, data, **kwargs)
    assert ours.read_bytes() == theirs.read_bytes()
    assert os.listdir(ours.parent) == ["state.json"]


def test_atomic_json_write_modes_are_the_hosts(
    dc: ModuleType, original: ModuleType, tmp_path: Path
) -> None:
    for module in (dc, original):
        folder = tmp_path / module.__name__
        folder.mkdir()
        secret, shared = folder / "secret.json", folder / "shared.json"
        module.atomic_json_write(secret, {"token": "x"}, mode=0o600)
        assert secret.stat().st_mode & 0o7777 == 0o600
        shared.write_text("{}")
        shared.chmod(0o640)
        module.atomic_json_write(shared, {"a": 1})  # an existing file keeps its mode
        assert shared.stat().st_mode & 0o7777 == 0o640
        module.atomic_json_write(shared, {"a": 2}, mode=0o604)
        assert shared.stat().st_mode & 0o7777 == 0o604
        assert json.loads(shared.read_text()) == {"a": 2}


def test_atomic_json_write_raises_as_json_dumps_before_touching_the_disk(
    dc: ModuleType, original: ModuleType, tmp_path: Path
) -> None:
    for module in (dc, original):
        target = tmp_path / module.__name__ / "state.json"
        target.parent.mkdir()
        with pytest.raises(TypeError):
            module.atomic_json_write(target, {"a": object()})
        assert os.listdir(target.parent) == []


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_atomic_json_write_with_a_mode_creates_the_temp_file_0600(tmp_path: Path) -> None:
    """``mode=...``: the temp file is 0600 from its creation, and gets the mode before
    any byte is written (seen by strace in a child process)."""
    target = tmp_path / "secret.json"
    code = (
        "import drain_control as dc; "
        f"dc.atomic_json_write({str(target)!r}, {{'token': 'x' * 64}}, mode=0o640)"
    )
    traced = subprocess.run(
        ["strace", "-f", "-e", "trace=openat,fchmod,write", sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if traced.returncode != 0 and "ptrace" in traced.stderr:
        pytest.skip("strace cannot trace here")
    assert traced.returncode == 0, traced.stderr
    lines = [re.sub(r"^\[pid +\d+\] ", "", line) for line in traced.stderr.splitlines()]
    creates = [
        (i, m)
        for i, line in enumerate(lines)
        if (m := re.match(r'openat\(AT_FDCWD, "([^"]+\.tmp)", ([A-Z_|]+), (0\d+)\) = (\d+)', line))
    ]
    assert len(creates) == 1, lines
    at, create = creates[0]
    assert create[1].startswith(str(tmp_path)) and "O_EXCL" in create[2], create[0]
    assert create[3] == "0600", create[0]
    fd = create[4]
    after = lines[at + 1 :]
    chmod = [i for i, line in enumerate(after) if line.startswith(f"fchmod({fd}, 0640)")]
    written = [i for i, line in enumerate(after) if line.startswith(f"write({fd},")]
    assert chmod and written and chmod[0] < written[0], lines
    assert target.stat().st_mode & 0o7777 == 0o640
