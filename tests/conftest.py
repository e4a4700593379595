"""Fixtures of the repository-level tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from uh_testkit.family import PackageInfo, discover_packages

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = discover_packages(ROOT)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize any test that takes ``package`` over every package of the family."""
    if "package" in metafunc.fixturenames:
        metafunc.parametrize("package", PACKAGES, ids=[p.dist for p in PACKAGES])


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def all_packages() -> list[PackageInfo]:
    return PACKAGES


@pytest.fixture(scope="session")
def noxfile() -> ModuleType:
    """The repository's noxfile, imported as a module so its checks can be tested."""
    spec = importlib.util.spec_from_file_location("uh_noxfile", ROOT / "noxfile.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
