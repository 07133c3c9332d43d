"""The tests exercise the installed wheel, never the source tree."""

from __future__ import annotations

import re
import sysconfig
from pathlib import Path

import drain_control
from drain_control import _native


def test_drain_control_is_imported_from_site_packages() -> None:
    site = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    package = Path(drain_control.__file__).resolve().parent
    assert package.parent in site, f"{package} is not the installed wheel"
    assert Path(_native.__file__).resolve().parent == package
    assert (package / "py.typed").is_file()
    assert (package / "_native.pyi").is_file()


def test_native_module_is_an_abi3_extension() -> None:
    assert Path(_native.__file__).name.endswith(".abi3.so")


def test_version_is_the_crates() -> None:
    cargo = (Path(__file__).resolve().parents[2] / "Cargo.toml").read_text()
    version = re.search(r'^version = "([^"]+)"', cargo, re.MULTILINE)
    assert version is not None
    assert drain_control.__version__ == _native.__version__ == version.group(1)
