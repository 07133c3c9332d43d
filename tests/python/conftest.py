"""Fixtures for the Python tests, which run against the INSTALLED wheel.

``dc`` is the module under test, twice over: the ``drain_control`` package itself, and
the module a host gets through the one-line shim ``gateway/drain_control.py``
(``from drain_control import install_as; install_as(__name__)``), imported as
``gateway.drain_control`` exactly as the host's own code and tests import it. Every
test that uses ``dc`` runs against both.

What only some test files share is in helper modules beside this file
(``namespace_helpers.py``, ``differential_helpers.py``, ``watch_helpers.py``,
``original_behaviours_helpers.py``), which they import by name.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import pytest

import drain_control

SHIM = "from drain_control import install_as; install_as(__name__)\n"
#: The original module as the host runs it (gateway/drain_control.py and the host code it
#: imports), beside this repository: ../shared/reference/upstream.
UPSTREAM = Path(
    os.environ.get("DRAIN_CONTROL_UPSTREAM")
    or Path(__file__).resolve().parents[3] / "shared" / "reference" / "upstream"
)
EPOCH = "0f6d3c1e-7d1a-4c55-9a43-0f2b1e4b5c6d:1234"
OTHER_EPOCH = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:99"

# Makes the helper modules beside this file importable by the test modules:
# --import-mode=importlib puts no test folder on sys.path. Appended, so that nothing
# installed is shadowed.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.append(_HERE)


def load_original(name: str = "original_drain_control") -> ModuleType:
    """A fresh copy of the ORIGINAL module, from ``UPSTREAM``, under the module name
    ``name`` (its logger's name), with fresh copies of the host modules it imports
    (``hermes_constants``, ``utils``, ``gateway.memory_status``). ``sys.modules`` is left
    as it was: the host package of the ``host_module`` fixture is also ``gateway``.

    Skips the test when ``UPSTREAM`` is missing (CI has it).
    """
    if not (UPSTREAM / "gateway" / "drain_control.py").is_file():
        pytest.skip(
            f"the original module is not at {UPSTREAM} (../shared/reference/upstream "
            "beside this repository, or $DRAIN_CONTROL_UPSTREAM); CI has it"
        )
    parts = [
        ("hermes_constants", UPSTREAM / "hermes_constants.py", False),
        ("utils", UPSTREAM / "utils.py", False),
        ("gateway", UPSTREAM / "gateway" / "__init__.py", True),
        ("gateway.memory_status", UPSTREAM / "gateway" / "memory_status.py", False),
        (name, UPSTREAM / "gateway" / "drain_control.py", False),
    ]
    saved = {part: sys.modules.get(part) for part, _, _ in parts}
    try:
        for part, path, package in parts:
            locations = [str(path.parent)] if package else None
            spec = importlib.util.spec_from_file_location(
                part, path, submodule_search_locations=locations
            )
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[part] = module
            spec.loader.exec_module(module)
        return module
    finally:
        for part, previous in saved.items():
            if previous is None:
                sys.modules.pop(part, None)
            else:
                sys.modules[part] = previous


@pytest.fixture
def original() -> ModuleType:
    """The original module, fresh for each test (its epoch cache, its
    ``_expiry_logged_for``), logging as ``original_drain_control``."""
    return load_original()


@pytest.fixture(name="load_original_once", scope="session")
def load_original_once_fixture() -> Any:
    """:func:`load_original` for fixtures of a wider scope."""
    return load_original


@pytest.fixture(name="load_original")
def load_original_fixture() -> Any:
    """:func:`load_original`, for test modules (which cannot import this file)."""
    return load_original


def _forget_host_package() -> None:
    for name in [n for n in sys.modules if n == "gateway" or n.startswith("gateway.")]:
        del sys.modules[name]


@pytest.fixture(scope="session")
def host_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A host application's source tree whose ``gateway/drain_control.py`` is the shim."""
    root = tmp_path_factory.mktemp("host")
    (root / "gateway").mkdir()
    (root / "gateway" / "__init__.py").write_text('"""The host\'s package."""\n')
    (root / "gateway" / "drain_control.py").write_text(SHIM)
    return root


@pytest.fixture
def host_module(host_root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """``import gateway.drain_control as dc``, through the shim, fresh for each test."""
    monkeypatch.syspath_prepend(str(host_root))
    _forget_host_package()
    importlib.invalidate_caches()
    import gateway.drain_control as dc

    yield dc
    _forget_host_package()


def _reset(module: ModuleType) -> None:
    # At teardown a test's monkeypatch may still be in place (it is undone later).
    epoch = getattr(module, "current_instantiation_epoch", None)
    clear = getattr(epoch, "cache_clear", None)
    if clear is not None:
        clear()
    module._expiry_logged_for = None
    module._unreadable_logged_for.clear()


@pytest.fixture(params=["drain_control", "gateway.drain_control"])
def dc(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[ModuleType]:
    """The module under test: the package, or the host's alias of it."""
    monkeypatch.delenv("HERMES_HOME", raising=False)
    # Never touch the real ~/.hermes: the default home lives in the test's folder.
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    if request.param == "drain_control":
        module = drain_control
    else:
        module = request.getfixturevalue("host_module")
    _reset(module)
    yield module
    _reset(module)


@pytest.fixture
def both(dc: ModuleType, original: ModuleType) -> list[ModuleType]:
    """The module under test and the original, to run one scenario on each."""
    return [dc, original]


@pytest.fixture
def epoch(dc: ModuleType, monkeypatch: pytest.MonkeyPatch) -> str:
    """Pins the current epoch through the module attribute hosts patch."""
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: EPOCH)
    return EPOCH


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home folder for the marker (not created: a write must create it)."""
    return tmp_path / "hermes-home"


def put_marker(home: Path, body: Any) -> Path:
    """Writes a marker by hand: a dict or list as the original's JSON, bytes as is."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / ".drain_request.json"
    if isinstance(body, bytes):
        path.write_bytes(body)
    else:
        path.write_text(json.dumps(body, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(name="put_marker")
def put_marker_fixture() -> Any:
    """:func:`put_marker`, for test modules (which cannot import this file)."""
    return put_marker


def wait_until(condition: Callable[[], object], timeout: float = 5.0) -> bool:
    """Whether ``condition()`` became true within ``timeout`` seconds (asked every 10 ms)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture(name="wait_until")
def wait_until_fixture() -> Any:
    """:func:`wait_until`, for test modules (which cannot import this file)."""
    return wait_until


@contextlib.contextmanager
def others_run() -> Iterator[list[int]]:
    """Counts how far another Python thread gets meanwhile (the one item of the list
    yielded, set at the end). With a huge switch interval the interpreter never takes the
    GIL from this thread by itself: the count moves only while native code let go of it."""
    counter, stop = [0], threading.Event()

    def spin() -> None:
        while not stop.is_set():
            counter[0] += 1
            time.sleep(0)  # gives the GIL back at once

    worker = threading.Thread(target=spin, daemon=True)
    worker.start()
    while counter[0] == 0:
        time.sleep(0.001)
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    start, moved = counter[0], [0]
    try:
        yield moved
    finally:
        moved[0] = counter[0] - start
        sys.setswitchinterval(old_interval)
        stop.set()
        worker.join()


@pytest.fixture(name="others_run")
def others_run_fixture() -> Any:
    """:func:`others_run`, for test modules (which cannot import this file)."""
    return others_run
