"""A new package made from the template has the family's shape and works on its own."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from uh_testkit.family import discover_packages


@pytest.fixture
def generated(repo_root: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    (copy / "packages").mkdir(parents=True)
    shutil.copytree(repo_root / "packages" / "_template", copy / "packages" / "_template")
    shutil.copytree(repo_root / "scripts", copy / "scripts")
    subprocess.run(
        [sys.executable, "scripts/new_package.py", "uh-widgets", "Widgets.", "WidgetsError"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    return copy


def test_template_is_not_a_package(repo_root: Path) -> None:
    assert "_template" not in [p.dist for p in discover_packages(repo_root)]


def test_generated_package_has_every_family_file(generated: Path) -> None:
    (package,) = discover_packages(generated)
    assert package.dist == "uh-widgets"
    files = sorted(str(p.relative_to(package.path)) for p in package.path.rglob("*") if p.is_file())
    assert files == [
        "CHANGELOG.md",
        "README.md",
        "pyproject.toml",
        "src/unified_health/widgets/__init__.py",
        "src/unified_health/widgets/_errors.py",
        "src/unified_health/widgets/_version.py",
        "src/unified_health/widgets/py.typed",
        "tests/test_errors.py",
    ]
    text = "".join(p.read_text() for p in package.path.rglob("*") if p.suffix in {".py", ".toml"})
    assert "{{" not in text


def test_generated_package_imports_alone_with_a_sorted_all(generated: Path) -> None:
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import unified_health.widgets as w; "
        "assert w.__all__ == sorted(w.__all__), w.__all__; "
        "assert issubclass(w.InvalidInputError, w.WidgetsError); print(w.__version__)"
    )
    src = generated / "packages" / "uh-widgets" / "src"
    result = subprocess.run(
        [sys.executable, "-c", script, str(src)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0.1.0"


def test_generator_refuses_a_bad_name_and_an_existing_package(generated: Path) -> None:
    bad = subprocess.run(
        [sys.executable, "scripts/new_package.py", "widgets", "x", "WidgetsError"],
        cwd=generated,
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0
    assert "must look like 'uh-name'" in bad.stderr
    again = subprocess.run(
        [sys.executable, "scripts/new_package.py", "uh-widgets", "x", "WidgetsError"],
        cwd=generated,
        capture_output=True,
        text=True,
    )
    assert again.returncode != 0
    assert "exists already" in again.stderr
