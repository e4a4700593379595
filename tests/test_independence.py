"""No package imports a sibling, and the guards that say so really fail when one does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from uh_testkit.family import PackageInfo, discover_packages, find_sibling_imports


def _sibling_of(package: PackageInfo, all_packages: list[PackageInfo]) -> PackageInfo:
    return next(p for p in all_packages if p.module != package.module)


def _copy_repo(repo_root: Path, target: Path) -> Path:
    copy = target / "repo"
    shutil.copytree(
        repo_root,
        copy,
        ignore=shutil.ignore_patterns(".git", ".nox", "site", "__pycache__", "*.egg-info"),
    )
    return copy


def _plant_import(package_dir: Path, module: str, sibling: PackageInfo) -> Path:
    planted = package_dir / "src" / "unified_health" / module / "_planted.py"
    planted.write_text(f'"""Planted."""\n\nimport {sibling.import_name}\n')
    init = planted.parent / "__init__.py"
    init.write_text(init.read_text() + f"\nfrom unified_health.{module} import _planted\n")
    return planted


def test_no_package_imports_a_sibling(
    package: PackageInfo, all_packages: list[PackageInfo]
) -> None:
    assert find_sibling_imports(package, all_packages) == []


def test_the_check_finds_a_planted_sibling_import(
    package: PackageInfo, all_packages: list[PackageInfo], repo_root: Path, tmp_path: Path
) -> None:
    copy = _copy_repo(repo_root, tmp_path)
    sibling = _sibling_of(package, all_packages)
    _plant_import(copy / "packages" / package.dist, package.module, sibling)
    copied = discover_packages(copy)
    planted = next(p for p in copied if p.module == package.module)
    problems = find_sibling_imports(planted, copied)
    assert problems == [
        f"{package.dist}/src/unified_health/{package.module}/_planted.py:3 "
        f"imports {sibling.import_name}"
    ]


def test_import_linter_breaks_on_a_planted_sibling_import(
    all_packages: list[PackageInfo], repo_root: Path, tmp_path: Path, noxfile: ModuleType
) -> None:
    lint_imports = shutil.which("lint-imports")
    if lint_imports is None:
        pytest.fail("lint-imports is not installed in this environment (dev group)")
    package, sibling = all_packages[0], all_packages[1]
    copy = _copy_repo(repo_root, tmp_path)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            str(copy / "packages" / p.dist / "src") for p in all_packages
        ),
    }
    config = tmp_path / "importlinter.ini"
    config.write_text(noxfile.importlinter_config([p.dist for p in all_packages]))
    command = [lint_imports, "--no-cache", "--config", str(config)]
    clean = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    _plant_import(copy / "packages" / package.dist, package.module, sibling)
    broken = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True)
    assert broken.returncode != 0
    assert "BROKEN" in broken.stdout
    assert f"{package.import_name}._planted -> {sibling.import_name}" in broken.stdout


def test_a_planted_sibling_import_fails_where_only_the_package_is_installed(
    all_packages: list[PackageInfo], repo_root: Path, tmp_path: Path
) -> None:
    """What a per-package test venv sees: the package alone, its dependencies, no siblings."""
    package, sibling = all_packages[0], all_packages[1]
    copy = _copy_repo(repo_root, tmp_path)
    script = (
        f"import sys; sys.path[:0] = sys.argv[1:]; import {package.import_name}; print('imported')"
    )
    # -S: no site processing, so the editable installs of the siblings are not on sys.path;
    # the site-packages folder is added by hand for pydantic, structlog and friends.
    paths = [str(copy / "packages" / package.dist / "src"), sysconfig.get_paths()["purelib"]]
    ok = subprocess.run(
        [sys.executable, "-S", "-c", script, *paths], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    _plant_import(copy / "packages" / package.dist, package.module, sibling)
    failed = subprocess.run(
        [sys.executable, "-S", "-c", script, *paths], capture_output=True, text=True
    )
    assert failed.returncode != 0
    assert f"No module named '{sibling.import_name}'" in failed.stderr


def test_packaging_rejects_a_stray_namespace_init(
    package: PackageInfo, noxfile: ModuleType, tmp_path: Path
) -> None:
    copy = tmp_path / package.dist
    shutil.copytree(package.path, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert noxfile.namespace_strays(copy) == []
    (copy / "src" / "unified_health" / "__init__.py").write_text("")
    assert noxfile.namespace_strays(copy) == ["__init__.py"]


def _wheel(tmp_path: Path, entries: dict[str, str]) -> Path:
    wheel = tmp_path / "uh_demo-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    return wheel


def test_wheel_check_accepts_a_clean_portion(noxfile: ModuleType, tmp_path: Path) -> None:
    wheel = _wheel(
        tmp_path,
        {
            "unified_health/demo/__init__.py": "",
            "unified_health/demo/py.typed": "",
            "uh_demo-0.1.0.dist-info/METADATA": "",
        },
    )
    noxfile.check_wheel(wheel, "demo")


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            {"unified_health/__init__.py": "", "unified_health/demo/py.typed": ""},
            "unified_health/__init__.py would mask every sibling package",
        ),
        ({"unified_health/demo/__init__.py": ""}, "unified_health/demo/py.typed is missing"),
        (
            {"unified_health/demo/py.typed": "", "unified_health/other/x.py": ""},
            "files outside unified_health/demo/",
        ),
    ],
)
def test_wheel_check_rejects_a_broken_wheel(
    noxfile: ModuleType, tmp_path: Path, entries: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        noxfile.check_wheel(_wheel(tmp_path, entries), "demo")


def test_a_wheel_built_from_the_namespace_folder_is_rejected(
    all_packages: list[PackageInfo], noxfile: ModuleType, tmp_path: Path
) -> None:
    """The mistake the recipe prevents: a wheel target of ``src/unified_health`` ships a stray."""
    package = all_packages[0]
    copy = tmp_path / package.dist
    shutil.copytree(package.path, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "src" / "unified_health" / "__init__.py").write_text("")
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            f'only-include = ["src/unified_health/{package.module}"]',
            'only-include = ["src/unified_health"]',
        )
    )
    out = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(copy),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("*.whl")
    with pytest.raises(ValueError, match="would mask every sibling package"):
        noxfile.check_wheel(wheel, package.module)
