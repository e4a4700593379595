"""Every package of the family has the same shape: the rules of DESIGN.md, checked."""

from __future__ import annotations
import __future__

import importlib
import importlib.metadata
import inspect
import re
import tomllib
from types import ModuleType

import pytest

from uh_testkit.family import PackageInfo

SHARED_ERRORS = {
    "InvalidInputError": ValueError,
    "NotFoundError": LookupError,
    "ConflictError": None,
    "ProviderError": None,
    "RateLimitedError": None,
    "StoreUnavailableError": ConnectionError,
}


def _import(package: PackageInfo) -> ModuleType:
    return importlib.import_module(package.import_name)


def _public_names(module: ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and not isinstance(value, __future__._Feature)
    } | {"__version__"}


def test_seven_packages_are_discovered(all_packages: list[PackageInfo]) -> None:
    assert [p.dist for p in all_packages] == [
        "uh-analytics",
        "uh-billing",
        "uh-feature-flags",
        "uh-impersonation",
        "uh-knowledge-base",
        "uh-status-page",
        "uh-support",
    ]


def test_portion_has_py_typed(package: PackageInfo) -> None:
    assert (package.portion / "py.typed").is_file()


def test_nothing_but_the_portion_in_the_namespace_folder(package: PackageInfo) -> None:
    namespace = package.path / "src" / "unified_health"
    assert sorted(p.name for p in namespace.iterdir()) == [package.module]
    assert sorted(p.name for p in (package.path / "src").iterdir()) == ["unified_health"]


def test_all_is_sorted_and_complete(package: PackageInfo) -> None:
    module = _import(package)
    exported = list(module.__all__)
    assert exported == sorted(exported), "__all__ must be sorted"
    assert len(exported) == len(set(exported)), "__all__ lists a name twice"
    eager = _public_names(module)
    # Names served by a module __getattr__ (exports that need an optional extra) count too,
    # as long as they resolve: the test venv holds every extra.
    lazy = {name for name in set(exported) - eager if getattr(module, name, None) is not None}
    assert set(exported) == eager | lazy


def test_version_matches_the_built_metadata(package: PackageInfo) -> None:
    module = _import(package)
    source = (package.portion / "_version.py").read_text()
    written = re.findall(r'^__version__ = "([^"]+)"$', source, flags=re.M)
    assert written == [module.__version__]
    assert importlib.metadata.version(package.dist) == module.__version__


def test_every_public_exception_derives_from_the_package_base_error(package: PackageInfo) -> None:
    module = _import(package)
    errors = {
        name: value
        for name in module.__all__
        if inspect.isclass(value := getattr(module, name)) and issubclass(value, BaseException)
    }
    roots = [
        name
        for name, cls in errors.items()
        if not any(other is not cls and issubclass(cls, other) for other in errors.values())
    ]
    assert len(roots) == 1, f"one base error expected, found {roots}"
    base = errors[roots[0]]
    assert base.__bases__ == (Exception,)
    assert roots[0].endswith("Error")
    assert all(issubclass(cls, base) for cls in errors.values())


def test_shared_error_names_subclass_the_builtin_a_caller_would_catch(
    package: PackageInfo,
) -> None:
    module = _import(package)
    assert "InvalidInputError" in module.__all__
    for name, builtin in SHARED_ERRORS.items():
        if name in module.__all__ and builtin is not None:
            assert issubclass(getattr(module, name), builtin), f"{name} must be a {builtin}"
    if "RateLimitedError" in module.__all__:
        assert issubclass(module.RateLimitedError, module.ProviderError)


def test_invalid_input_error_names_field_and_rule(package: PackageInfo) -> None:
    module = _import(package)
    err = module.InvalidInputError("email", "must not be empty")
    assert (err.field, err.rule) == ("email", "must not be empty")


def _pyproject(package: PackageInfo) -> dict[str, object]:
    return tomllib.loads((package.path / "pyproject.toml").read_text())


def test_pyproject_follows_the_family_recipe(package: PackageInfo) -> None:
    data = _pyproject(package)
    project = data["project"]
    assert isinstance(project, dict)
    assert project["name"] == package.dist
    assert project["dynamic"] == ["version"]
    assert project["requires-python"] == ">=3.11"
    assert data["build-system"] == {
        "requires": ["hatchling>=1.26"],
        "build-backend": "hatchling.build",
    }
    tool = data["tool"]
    assert isinstance(tool, dict)
    hatch = tool["hatch"]
    assert hatch["version"] == {"path": f"src/unified_health/{package.module}/_version.py"}
    wheel = hatch["build"]["targets"]["wheel"]
    assert wheel["only-include"] == [f"src/unified_health/{package.module}"]
    assert wheel["sources"] == ["src"]
    assert tool["ruff"]["extend"] == "../../pyproject.toml"
    assert "test" in data["dependency-groups"]


def test_runtime_dependencies_are_ranges_not_pins(package: PackageInfo) -> None:
    project = _pyproject(package)["project"]
    assert isinstance(project, dict)
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    pinned = [r for r in requirements if "==" in r or "===" in r]
    assert pinned == []


def test_readme_and_changelog_exist(package: PackageInfo) -> None:
    readme = (package.path / "README.md").read_text()
    assert f"pip install {package.dist}" in readme
    assert "## [Unreleased]" in (package.path / "CHANGELOG.md").read_text()


def test_package_has_tests(package: PackageInfo) -> None:
    assert list((package.path / "tests").glob("test_*.py"))


@pytest.mark.parametrize("name", ["__init__.py", "_version.py", "_errors.py"])
def test_family_file_names(package: PackageInfo, name: str) -> None:
    assert (package.portion / name).is_file()
