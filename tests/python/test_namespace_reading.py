"""The original's module namespace (issue 11, part 1): the rows of
``clear_drain_request`` and ``read_drain_request`` (``drain_request_path``, ``_log``),
of ``_active_drain_body`` (``read_drain_request``, ``current_instantiation_epoch``,
``_marker_is_expired``) and of the two questions, ``drain_requested`` and
``drain_notification_suppressed`` (``_active_drain_body``).

The rows, and how each test runs one scenario on the module under test and on
the original, are in ``namespace_helpers.py``.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from namespace_helpers import EPOCH, MARKER, OTHER_EPOCH, PutMarker, ago, host_logger


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
