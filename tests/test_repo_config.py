"""The repository's shared configuration knows every package and nothing else."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

from uh_testkit.family import PackageInfo


def _root(repo_root: Path) -> dict[str, object]:
    return tomllib.loads((repo_root / "pyproject.toml").read_text())


def test_root_pyproject_is_not_a_distribution(repo_root: Path) -> None:
    data = _root(repo_root)
    assert "project" not in data
    assert data["tool"]["uv"]["workspace"]["members"] == ["packages/uh-*"]  # type: ignore[index]
    assert "dev" in data["dependency-groups"]  # type: ignore[operator]


def test_import_linter_contract_covers_exactly_the_packages(
    repo_root: Path, all_packages: list[PackageInfo]
) -> None:
    linter = _root(repo_root)["tool"]["importlinter"]  # type: ignore[index]
    names = sorted(p.import_name for p in all_packages)
    assert sorted(linter["root_packages"]) == names
    (contract,) = linter["contracts"]
    assert contract["type"] == "independence"
    assert sorted(contract["modules"]) == names


def test_pytest_runs_in_importlib_mode_with_warnings_as_errors(repo_root: Path) -> None:
    pytest_config = _root(repo_root)["tool"]["pytest"]["ini_options"]  # type: ignore[index]
    assert "--import-mode=importlib" in pytest_config["addopts"]
    assert "--strict-markers" in pytest_config["addopts"]
    assert pytest_config["xfail_strict"] is True
    assert pytest_config["filterwarnings"] == ["error"]


def test_docs_have_a_page_and_an_api_path_per_package(
    repo_root: Path, all_packages: list[PackageInfo]
) -> None:
    config = yaml.safe_load((repo_root / "mkdocs.yml").read_text())
    (mkdocstrings,) = [p["mkdocstrings"] for p in config["plugins"] if isinstance(p, dict)]
    paths = mkdocstrings["handlers"]["python"]["paths"]
    assert sorted(paths) == sorted(f"packages/{p.dist}/src" for p in all_packages)
    for package in all_packages:
        page = repo_root / "docs" / "packages" / f"{package.module}.md"
        assert f"::: {package.import_name}" in page.read_text()


def test_readme_lists_every_package_with_its_install_line(
    repo_root: Path, all_packages: list[PackageInfo]
) -> None:
    readme = (repo_root / "README.md").read_text()
    for package in all_packages:
        assert f"`pip install {package.dist}`" in readme
        assert f"`{package.import_name}`" in readme


def test_ci_runs_the_readme_test_command_with_redis_required(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text()
    ci = (repo_root / ".ci" / "run").read_text()
    command = readme.split("<!-- test-command -->", 1)[1].split("```bash\n", 1)[1].split("\n")[0]
    assert command in ci.splitlines()
    assert "UH_REQUIRE_REDIS=1" in ci
