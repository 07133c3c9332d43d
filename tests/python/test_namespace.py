"""The original's module namespace, row by row (issue 11, part 1).

The original (``../shared/reference/upstream/gateway/drain_control.py``, as the host
runs it) resolves its module-level names through its globals at call time, so a host's
``monkeypatch.setattr(dc, NAME, ...)`` changes what it does:

| function | the names it looks up |
|---|---|
| ``drain_request_path(home=None)`` | ``get_hermes_home`` (when ``home`` is None), ``_DRAIN_REQUEST_FILENAME`` |
| ``write_drain_request`` | ``datetime``, ``timezone``, ``current_instantiation_epoch``, ``drain_request_path``, ``atomic_json_write`` |
| ``clear_drain_request`` | ``drain_request_path``, ``_log`` |
| ``read_drain_request`` | ``drain_request_path``, ``_log`` |
| ``_active_drain_body(home)`` | ``read_drain_request``, ``current_instantiation_epoch``, ``_marker_is_expired`` |
| ``drain_requested``, ``drain_notification_suppressed`` | ``_active_drain_body`` |
| ``_marker_is_expired(body)`` | ``_parse_iso``, ``datetime``, ``timezone``, ``DRAIN_REQUEST_MAX_AGE_SECONDS``, ``_expiry_logged_for``, ``_log`` |

Each test here patches a row's names the way a host's test does, on the module under
test (the package, and the host's ``gateway.drain_control`` alias: the ``dc`` fixture)
and on the ORIGINAL beside it (the ``original`` fixture), and checks that both give
the same outcome; the outcome is also written into the test. The tests skip, saying
so, where ``../shared`` is absent.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import types
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PutMarker = Callable[[Path, Any], Path]
EPOCH = "0f6d3c1e-7d1a-4c55-9a43-0f2b1e4b5c6d:1234"
OTHER_EPOCH = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:99"
MARKER = ".drain_request.json"


@pytest.fixture
def both(dc: ModuleType, original: ModuleType) -> list[ModuleType]:
    """The module under test and the original, to run one scenario on each."""
    return [dc, original]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def ago(**delta: float) -> str:
    return (utc_now() - timedelta(**delta)).isoformat()


class Recorder(logging.Handler):
    """A host's logger of its own, as ``monkeypatch.setattr(dc, "_log", ...)`` sets it."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def host_logger(name: str) -> tuple[logging.Logger, Recorder]:
    logger = logging.getLogger(f"a.host.logger.{name}")
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    recorder = Recorder()
    logger.addHandler(recorder)
    logger.setLevel(logging.WARNING)
    return logger, recorder


def frozen_datetime(moment: datetime, calls: Optional[list[Any]] = None) -> type[datetime]:
    """A ``datetime`` whose ``now(tz)`` is ``moment`` in ``tz`` (freezegun's way)."""

    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            if calls is not None:
                calls.append(("datetime.now", tz))
            return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)

    return FrozenDatetime


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


# --- drain_request_path: get_hermes_home, _DRAIN_REQUEST_FILENAME -------------------------


def test_a_patched_get_hermes_home_moves_every_function(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERMES_HOME", str(tmp_path / "from-the-environment"))
    for module in both:
        home = tmp_path / module.__name__
        monkeypatch.setattr(module, "get_hermes_home", lambda home=home: home)
        assert module.drain_request_path() == home / MARKER
        payload = module.write_drain_request(principal="dashboard")
        assert json.loads((home / MARKER).read_text()) == payload
        assert module.read_drain_request() == payload
        assert module.drain_requested() is True
        assert module._active_drain_body(None) == payload
        assert module.clear_drain_request() is True
        assert module.drain_requested() is False
    assert not (tmp_path / "from-the-environment").exists()


def test_an_explicit_home_never_asks_get_hermes_home(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom() -> Path:
        raise AssertionError("get_hermes_home asked for an explicit home")

    for module in both:
        monkeypatch.setattr(module, "get_hermes_home", boom)
        home = tmp_path / module.__name__
        assert module.drain_request_path(home) == home / MARKER
        assert module.drain_requested(home=home) is False
        module.write_drain_request(home=home)
        assert module.read_drain_request(home=home) is not None
        assert module.clear_drain_request(home=home) is True
        with pytest.raises(AssertionError):
            module.drain_requested()


def test_get_hermes_home_may_return_a_str(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in both:
        home = str(tmp_path / module.__name__)
        monkeypatch.setattr(module, "get_hermes_home", lambda home=home: home)
        assert module.drain_request_path() == Path(home) / MARKER
        assert isinstance(module.drain_request_path(), Path)


def test_a_patched_marker_file_name_is_used_everywhere(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in both:
        home = tmp_path / module.__name__
        monkeypatch.setattr(module, "_DRAIN_REQUEST_FILENAME", "other-marker.json")
        assert module.drain_request_path(home) == home / "other-marker.json"
        payload = module.write_drain_request(home=home)
        assert os.listdir(home) == ["other-marker.json"]
        assert module.read_drain_request(home=home) == payload
        assert module.drain_requested(home=home) is True
        assert module.drain_notification_suppressed(home=home) is False
        assert module.clear_drain_request(home=home) is True
        assert os.listdir(home) == []


# --- write_drain_request: datetime, timezone, current_instantiation_epoch, ------------------
# --- drain_request_path, atomic_json_write ----------------------------------------------


def written(home: Path) -> bytes:
    return (home / MARKER).read_bytes()


def test_write_stamps_a_patched_datetime(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
    files = []
    for module in both:
        monkeypatch.setattr(module, "datetime", frozen_datetime(moment))
        monkeypatch.setattr(module, "current_instantiation_epoch", lambda: EPOCH)
        home = tmp_path / module.__name__
        payload = module.write_drain_request(principal="zoë", home=home)
        assert payload["requested_at"] == "2026-01-02T03:04:05.678901+00:00"
        assert json.loads(written(home)) == payload
        files.append(written(home))
    assert files[0] == files[1]


def test_write_stamps_in_a_patched_timezone(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plus_two = timezone(timedelta(hours=2))
    for module in both:
        monkeypatch.setattr(module, "timezone", types.SimpleNamespace(utc=plus_two))
        payload = module.write_drain_request(home=tmp_path / module.__name__)
        assert payload["requested_at"].endswith("+02:00")
        # Still the same instant: the marker is not expired, and drains.
        assert module.drain_requested(home=tmp_path / module.__name__) is True


@pytest.mark.parametrize("epoch", [EPOCH, "", 123, None])
def test_write_stamps_what_a_patched_epoch_returns(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, epoch: Any
) -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    files = []
    for module in both:
        monkeypatch.setattr(module, "current_instantiation_epoch", lambda: epoch)
        monkeypatch.setattr(module, "datetime", frozen_datetime(moment))
        home = tmp_path / module.__name__
        payload = module.write_drain_request(home=home)
        assert payload["epoch"] == epoch and type(payload["epoch"]) is type(epoch)
        assert module.read_drain_request(home=home) == payload
        files.append(written(home))
    assert files[0] == files[1]


def test_write_goes_where_a_patched_drain_request_path_says(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in both:
        target = tmp_path / module.__name__ / "elsewhere.json"
        asked = []
        monkeypatch.setattr(
            module, "drain_request_path", lambda home=None, t=target: asked.append(home) or t
        )
        payload = module.write_drain_request(home="/ignored")
        assert asked == ["/ignored"]
        assert json.loads(target.read_text()) == payload
        assert not Path("/ignored").exists()


def test_write_hands_the_payload_to_a_patched_atomic_json_write(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in both:
        calls: list[tuple[Any, ...]] = []
        monkeypatch.setattr(
            module, "atomic_json_write", lambda *args, **kwargs: calls.append((args, kwargs))
        )
        home = tmp_path / module.__name__
        payload = module.write_drain_request(principal="p", suppress_notification=1, home=home)
        assert calls == [((home / MARKER, payload), {})]
        assert payload["suppress_notification"] is True
        assert list(payload) == [
            "action",
            "requested_at",
            "principal",
            "epoch",
            "suppress_notification",
        ]
        assert not home.exists()


def test_write_calls_the_patched_names_in_the_originals_order(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    orders = []
    for module in both:
        calls: list[Any] = []
        moment = datetime(2026, 1, 2, tzinfo=timezone.utc)
        monkeypatch.setattr(module, "datetime", frozen_datetime(moment, calls))
        monkeypatch.setattr(
            module, "current_instantiation_epoch", lambda c=calls: c.append("epoch") or EPOCH
        )
        monkeypatch.setattr(
            module,
            "drain_request_path",
            lambda home=None, c=calls: c.append(("path", home)) or tmp_path / "m.json",
        )
        monkeypatch.setattr(
            module, "atomic_json_write", lambda path, data, c=calls: c.append(("write", path))
        )
        module.write_drain_request(home="h")
        orders.append(calls)
    expected = [
        ("datetime.now", timezone.utc),
        "epoch",
        ("path", "h"),
        ("write", tmp_path / "m.json"),
    ]
    assert orders == [expected, expected]


# --- clear_drain_request and read_drain_request: drain_request_path, _log -------------------


def test_clear_and_read_follow_a_patched_drain_request_path(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in both:
        target = tmp_path / module.__name__ / "elsewhere.json"
        target.parent.mkdir()
        target.write_text('{"epoch": "", "principal": "by hand"}')
        monkeypatch.setattr(module, "drain_request_path", lambda home=None, t=target: t)
        assert module.read_drain_request() == {"epoch": "", "principal": "by hand"}
        assert module.drain_requested() is True
        assert module._active_drain_body("/ignored") == {"epoch": "", "principal": "by hand"}
        assert module.clear_drain_request() is True
        assert not target.exists()
        assert module.read_drain_request() is None
        assert module.clear_drain_request() is False


def test_failures_are_logged_through_a_patched_log(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in both:
        logger, recorder = host_logger(module.__name__)
        monkeypatch.setattr(module, "_log", logger)
        home = tmp_path / module.__name__
        (home / MARKER).mkdir(parents=True)  # a folder: unreadable, and not removable
        assert module.read_drain_request(home=home) is None
        assert module.drain_requested(home=home) is False
        assert module.clear_drain_request(home=home) is False
        assert any("failed to read" in m and str(home) in m for m in recorder.messages)
        assert any("failed to remove" in m and str(home) in m for m in recorder.messages)


# --- _active_drain_body(home): read_drain_request, current_instantiation_epoch, ------------
# --- _marker_is_expired --------------------------------------------------------------


def test_active_drain_body_takes_home_positionally(
    both: list[ModuleType], tmp_path: Path, put_marker: PutMarker
) -> None:
    for module in both:
        home = tmp_path / module.__name__
        assert module._active_drain_body(home) is None
        put_marker(home, {"principal": "by hand"})
        assert module._active_drain_body(home) == {"principal": "by hand"}
        assert module._active_drain_body(home=home) == {"principal": "by hand"}
        with pytest.raises(TypeError):
            module._active_drain_body()


def test_active_drain_body_judges_what_a_patched_read_drain_request_returns(
    both: list[ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in both:
        asked: list[Any] = []
        bodies: list[Any] = [
            {"epoch": EPOCH},
            {"epoch": OTHER_EPOCH},
            None,
            {},
            {"requested_at": ago(hours=2)},
            {"requested_at": ago(minutes=5), "suppress_notification": "yes"},
        ]

        def read(*args: Any, **kwargs: Any) -> Any:
            asked.append((args, kwargs))
            return bodies[len(asked) - 1]

        monkeypatch.setattr(module, "read_drain_request", read)
        monkeypatch.setattr(module, "current_instantiation_epoch", lambda: EPOCH)
        assert module._active_drain_body("h") == {"epoch": EPOCH}
        assert module._active_drain_body("h") is None
        assert module._active_drain_body("h") is None
        assert module._active_drain_body("h") == {}
        assert module.drain_requested(home="h") is False
        assert module.drain_notification_suppressed(home="h") is True
        assert asked == [((), {"home": "h"})] * 6


def test_active_drain_body_asks_a_patched_epoch_only_for_a_marker(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    for module in both:
        home = tmp_path / module.__name__
        asked: list[int] = []
        monkeypatch.setattr(
            module, "current_instantiation_epoch", lambda: asked.append(1) or OTHER_EPOCH
        )
        assert module._active_drain_body(home) is None
        assert asked == []
        put_marker(home, {"epoch": EPOCH})
        assert module._active_drain_body(home) is None
        assert module.drain_requested(home=home) is False
        assert asked == [1, 1]


def test_active_drain_body_asks_a_patched_marker_is_expired(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    for module in both:
        home = tmp_path / module.__name__
        put_marker(home, {"epoch": EPOCH, "principal": "p"})
        seen: list[Any] = []
        monkeypatch.setattr(module, "current_instantiation_epoch", lambda: EPOCH)
        monkeypatch.setattr(module, "_marker_is_expired", lambda body: seen.append(body) or True)
        assert module._active_drain_body(home) is None
        assert module.drain_requested(home=home) is False
        assert module.drain_notification_suppressed(home=home) is False
        assert seen == [{"epoch": EPOCH, "principal": "p"}] * 3
        # A stale epoch decides first: _marker_is_expired is not asked.
        monkeypatch.setattr(module, "current_instantiation_epoch", lambda: OTHER_EPOCH)
        assert module.drain_requested(home=home) is False
        assert len(seen) == 3
        monkeypatch.setattr(module, "_marker_is_expired", lambda body: False)
        monkeypatch.setattr(module, "current_instantiation_epoch", lambda: EPOCH)
        assert module.drain_requested(home=home) is True


# --- drain_requested and drain_notification_suppressed: _active_drain_body ----------------


@pytest.mark.parametrize(
    ("body", "requested", "suppressed"),
    [
        (None, False, False),
        ({}, True, False),
        ({"suppress_notification": True}, True, True),
        ({"suppress_notification": "false"}, True, True),
        ({"suppress_notification": 0}, True, False),
    ],
)
def test_the_two_questions_ask_a_patched_active_drain_body(
    both: list[ModuleType],
    monkeypatch: pytest.MonkeyPatch,
    body: Any,
    requested: bool,
    suppressed: bool,
) -> None:
    for module in both:
        calls: list[Any] = []
        monkeypatch.setattr(
            module, "_active_drain_body", lambda *a, **k: calls.append((a, k)) or body
        )
        assert module.drain_requested(home="h") is requested
        assert module.drain_notification_suppressed(home="h") is suppressed
        assert module.drain_requested() is requested
        assert calls == [(("h",), {}), (("h",), {}), ((None,), {})]


def test_the_two_questions_see_a_patched_read_drain_request(
    both: list[ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in both:
        monkeypatch.setattr(module, "current_instantiation_epoch", lambda: EPOCH)
        monkeypatch.setattr(
            module, "read_drain_request", lambda home=None: {"suppress_notification": True}
        )
        assert module.drain_requested(home="/nowhere") is True
        assert module.drain_notification_suppressed(home="/nowhere") is True
        monkeypatch.setattr(module, "read_drain_request", lambda home=None: None)
        assert module.drain_requested(home="/nowhere") is False


# --- _marker_is_expired(body): _parse_iso, datetime, timezone, -----------------------------
# --- DRAIN_REQUEST_MAX_AGE_SECONDS, _expiry_logged_for, _log -------------------------------


def test_a_patched_parse_iso_decides_what_a_timestamp_is(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    two_hours_ago = utc_now() - timedelta(hours=2)
    for module in both:
        home = tmp_path / module.__name__
        put_marker(home, {"requested_at": "not a timestamp", "suppress_notification": True})
        parsed: list[Any] = []
        monkeypatch.setattr(module, "_parse_iso", lambda v: parsed.append(v) or two_hours_ago)
        assert module._marker_is_expired({"requested_at": "not a timestamp"}) is True
        assert module._marker_is_expired({}) is True  # _parse_iso(None), as patched
        assert module.drain_requested(home=home) is False
        assert module.drain_notification_suppressed(home=home) is False
        assert parsed == ["not a timestamp", None, "not a timestamp", "not a timestamp"]
        monkeypatch.setattr(module, "_parse_iso", lambda v: None)
        put_marker(home, {"requested_at": ago(hours=5)})
        assert module.drain_requested(home=home) is True


def test_a_patched_datetime_is_the_clock_of_expiry(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    requested = datetime(2026, 1, 2, 3, 0, tzinfo=timezone.utc)
    for module in both:
        home = tmp_path / module.__name__
        put_marker(home, {"requested_at": requested.isoformat()})
        calls: list[Any] = []
        for later, expired in [
            (timedelta(minutes=30), False),
            (timedelta(hours=1), False),
            (timedelta(hours=1, microseconds=1), True),
            (timedelta(hours=-3), False),  # from the future: never expired
        ]:
            monkeypatch.setattr(module, "datetime", frozen_datetime(requested + later, calls))
            assert module._marker_is_expired({"requested_at": requested.isoformat()}) is expired
            assert module.drain_requested(home=home) is (not expired)
        assert {tz for _, tz in calls} == {timezone.utc}


def test_a_patched_timezone_is_the_one_now_is_asked_in(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    zone = timezone(timedelta(hours=-7), "host zone")
    for module in both:
        home = tmp_path / module.__name__
        put_marker(home, {"requested_at": ago(minutes=10)})
        calls: list[Any] = []
        monkeypatch.setattr(module, "datetime", frozen_datetime(utc_now(), calls))
        monkeypatch.setattr(module, "timezone", types.SimpleNamespace(utc=zone))
        assert module.drain_requested(home=home) is True
        assert calls == [("datetime.now", zone)]


@pytest.mark.parametrize(
    ("max_age", "expired"),
    [(60.0, True), (100, False), (float("inf"), False), (float("nan"), True), (-1.0, True)],
)
def test_a_patched_max_age_is_compared_as_the_original_compares_it(
    both: list[ModuleType],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    put_marker: PutMarker,
    max_age: float,
    expired: bool,
) -> None:
    for module in both:
        home = tmp_path / module.__name__
        body = {"requested_at": ago(seconds=90), "suppress_notification": True}
        put_marker(home, body)
        monkeypatch.setattr(module, "DRAIN_REQUEST_MAX_AGE_SECONDS", max_age)
        assert module._marker_is_expired(body) is expired
        assert module.drain_requested(home=home) is (not expired)
        assert module.drain_notification_suppressed(home=home) is (not expired)


def test_a_max_age_that_does_not_compare_raises_type_error(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    for module in both:
        home = tmp_path / module.__name__
        put_marker(home, {"requested_at": ago(seconds=90)})
        monkeypatch.setattr(module, "DRAIN_REQUEST_MAX_AGE_SECONDS", "3600")
        with pytest.raises(TypeError):
            module.drain_requested(home=home)
        put_marker(home, {"requested_at": "unparseable"})
        assert module.drain_requested(home=home) is True  # never compared


def test_expiry_is_logged_as_the_original_logs_it(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    a, b = ago(hours=2), ago(hours=3)
    for module in both:
        logger, recorder = host_logger(module.__name__)
        monkeypatch.setattr(module, "_log", logger)
        home = tmp_path / module.__name__
        history = []
        for requested_at in [a, a, b, b, a, None, a]:
            if requested_at is None:
                monkeypatch.setattr(module, "_expiry_logged_for", None)  # a host's reset
                continue
            put_marker(home, {"requested_at": requested_at, "principal": "ops-bot"})
            assert module.drain_requested(home=home) is False
            history.append((len(recorder.messages), module._expiry_logged_for))
        assert history == [(1, a), (1, a), (2, b), (2, b), (3, a), (4, a)]
        for message, requested_at in zip(recorder.messages, [a, b, a, a]):
            assert "expired drain marker" in message
            assert requested_at in message and "ops-bot" in message
        monkeypatch.setattr(module, "_expiry_logged_for", b)
        assert module._marker_is_expired({"requested_at": b}) is True
        assert len(recorder.messages) == 4


def test_expiry_through_patched_names_is_logged_once_per_marker_too(
    both: list[ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, put_marker: PutMarker
) -> None:
    for module in both:
        logger, recorder = host_logger(module.__name__)
        monkeypatch.setattr(module, "_log", logger)
        monkeypatch.setattr(module, "DRAIN_REQUEST_MAX_AGE_SECONDS", 60.0)
        home = tmp_path / module.__name__
        requested_at = ago(seconds=90)
        put_marker(home, {"requested_at": requested_at, "principal": "ops-bot"})
        for _ in range(3):
            assert module.drain_requested(home=home) is False
        assert len(recorder.messages) == 1
        assert module._expiry_logged_for == requested_at
        message = recorder.messages[0]
        assert "expired drain marker" in message and requested_at in message
        assert "90s" in message and "60s" in message and "ops-bot" in message


@pytest.mark.parametrize(
    "patch",
    [
        pytest.param(("_parse_iso", lambda v: datetime(2026, 1, 1)), id="naive-parse"),
        pytest.param(("_parse_iso", lambda v: "2026-01-01"), id="str-parse"),
        pytest.param(("datetime", "naive-now"), id="naive-now"),
    ],
)
def test_odd_values_from_patched_names_fail_as_in_the_original(
    both: list[ModuleType],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    put_marker: PutMarker,
    patch: tuple[str, Any],
) -> None:
    name, value = patch
    if value == "naive-now":

        class NaiveNow(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
                return datetime(2030, 1, 1)

        value = NaiveNow
    for module in both:
        home = tmp_path / module.__name__
        put_marker(home, {"requested_at": "2026-01-01T00:00:00+00:00"})
        monkeypatch.setattr(module, name, value)
        with pytest.raises(TypeError):
            module.drain_requested(home=home)
        with pytest.raises(TypeError):
            module._marker_is_expired({"requested_at": "2026-01-01T00:00:00+00:00"})


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
