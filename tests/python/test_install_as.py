"""``install_as``: the host's one-line shim gives a module of its own under its name."""

from __future__ import annotations

import importlib
import json
import logging
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType

import pytest

import drain_control


def test_the_shim_installs_a_module_under_the_hosts_name(host_module: ModuleType) -> None:
    import gateway
    import gateway.drain_control as dc
    from gateway import drain_control as same

    assert dc is host_module is same is gateway.drain_control
    assert sys.modules["gateway.drain_control"] is dc
    assert dc is not drain_control
    assert dc.__name__ == "gateway.drain_control"
    assert dc._log.name == "gateway.drain_control"
    assert dc.drain_requested.__module__ == "gateway.drain_control"
    assert dc.drain_requested.__globals__ is vars(dc)
    assert dc._expiry_logged_for is None and dc._OWN is not drain_control._OWN
    assert dc.current_instantiation_epoch() == drain_control.current_instantiation_epoch()
    assert not hasattr(dc, "__path__"), "the alias is a module, not a package"
    from gateway.drain_control import drain_requested, write_drain_request

    assert drain_requested is dc.drain_requested
    assert write_drain_request is dc.write_drain_request


def test_patching_the_alias_changes_what_its_functions_see(
    host_module: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import gateway.drain_control as dc

    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: "mine:1")
    payload = dc.write_drain_request(home=tmp_path)
    assert payload["epoch"] == "mine:1"
    assert dc.drain_requested(home=tmp_path) is True
    monkeypatch.setattr(dc, "current_instantiation_epoch", lambda: "after-restart:2")
    assert dc.drain_requested(home=tmp_path) is False
    assert dc._marker_epoch_is_stale(payload) is True
    # The package itself is not affected by the host's patch, and vice versa.
    assert drain_control.current_instantiation_epoch() != "after-restart:2"
    monkeypatch.setattr(drain_control, "current_instantiation_epoch", lambda: "mine:1")
    assert dc.drain_requested(home=tmp_path) is False
    assert drain_control.drain_requested(home=tmp_path) is True


def test_patching_by_dotted_name_works(
    host_module: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(
        "gateway.drain_control.current_instantiation_epoch", lambda: "dotted:1"
    )
    import gateway.drain_control as dc

    assert dc.write_drain_request(home=tmp_path)["epoch"] == "dotted:1"


def test_patching_drain_request_path_redirects_every_function(
    host_module: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import gateway.drain_control as dc

    target = tmp_path / "elsewhere.json"
    monkeypatch.setattr(dc, "drain_request_path", lambda home=None: target)
    dc.write_drain_request()
    assert json.loads(target.read_text())["action"] == "drain"
    assert dc.drain_requested() is True
    assert dc.read_drain_request() is not None
    assert dc.clear_drain_request() is True
    assert not target.exists()


def test_alias_warnings_are_logged_under_the_alias_name(
    host_module: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import gateway.drain_control as dc

    caplog.set_level(logging.WARNING)
    old = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat()
    (tmp_path / ".drain_request.json").write_text(json.dumps({"requested_at": old}))
    for _ in range(3):
        assert dc.drain_requested(home=tmp_path) is False
    names = [r.name for r in caplog.records if "expired drain marker" in r.getMessage()]
    assert names == ["gateway.drain_control"]
    assert dc._expiry_logged_for == old
    assert drain_control._expiry_logged_for != old


def test_install_as_without_a_shim_and_parent_attribute(
    host_module: ModuleType,
) -> None:
    import gateway

    module = drain_control.install_as("gateway.extra_drain")
    try:
        assert sys.modules["gateway.extra_drain"] is module
        assert gateway.extra_drain is module  # type: ignore[attr-defined]
        assert module.__name__ == "gateway.extra_drain"
        import gateway.extra_drain as again

        assert again is module
    finally:
        del sys.modules["gateway.extra_drain"]
        del gateway.extra_drain  # type: ignore[attr-defined]


def test_install_as_a_top_level_name() -> None:
    module = drain_control.install_as("legacy_drain_control")
    try:
        import legacy_drain_control

        assert legacy_drain_control is module
        assert module.drain_request_path("/x") == Path("/x/.drain_request.json")
    finally:
        del sys.modules["legacy_drain_control"]


@pytest.mark.parametrize("name", ["drain_control", "drain_control._native", ""])
def test_install_as_refuses_its_own_names(name: str) -> None:
    with pytest.raises(ValueError):
        drain_control.install_as(name)
    assert sys.modules["drain_control"] is drain_control


def test_reload_of_the_alias_gives_a_fresh_working_module(
    host_module: ModuleType, tmp_path: Path
) -> None:
    import gateway.drain_control as dc

    dc._expiry_logged_for = "stale state"
    reloaded = importlib.reload(dc)
    assert sys.modules["gateway.drain_control"] is reloaded
    assert reloaded.__name__ == "gateway.drain_control"
    assert reloaded._expiry_logged_for is None
    assert reloaded.drain_requested(home=tmp_path) is False
