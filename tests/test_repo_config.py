"""The repository's shared configuration knows every package and nothing else."""

from __future__ import annotations

import configparser
import tomllib
from pathlib import Path
from types import ModuleType

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
    all_packages: list[PackageInfo], noxfile: ModuleType
) -> None:
    parser = configparser.ConfigParser()
    parser.read_string(noxfile.importlinter_config(noxfile.PACKAGES))
    names = sorted(p.import_name for p in all_packages)
    assert parser["importlinter"]["root_packages"].split() == names
    contract = parser["importlinter:contract:independence"]
    assert contract["type"] == "independence"
    assert contract["modules"].split() == names


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


def test_every_list_of_packages_names_each_package(
    repo_root: Path, all_packages: list[PackageInfo]
) -> None:
    """The generator adds a package to these; a package missing from one fails here."""
    config = yaml.safe_load((repo_root / "mkdocs.yml").read_text())
    (packages_nav,) = [entry["Packages"] for entry in config["nav"] if "Packages" in entry]
    pages = sorted(next(iter(entry.values())) for entry in packages_nav)
    assert pages == sorted(f"packages/{p.module}.md" for p in all_packages)
    home = (repo_root / "docs" / "index.md").read_text()
    for package in all_packages:
        assert f"| `{package.dist}` | `{package.import_name}` |" in home
        assert (repo_root / "examples" / "walkthrough" / f"{package.module}.py").is_file()


def test_classifiers_name_only_the_python_the_gate_runs(
    package: PackageInfo, noxfile: ModuleType
) -> None:
    project = tomllib.loads((package.path / "pyproject.toml").read_text())["project"]
    versions = sorted(
        c.rsplit(" :: ", 1)[1]
        for c in project["classifiers"]
        if c.startswith("Programming Language :: Python :: 3.")
    )
    gate = noxfile.PYTHON if isinstance(noxfile.PYTHON, list) else [noxfile.PYTHON]
    assert versions == sorted(gate)
