"""Every package of the family has the same shape: the rules of DESIGN.md, checked."""

from __future__ import annotations
import __future__

import importlib
import importlib.metadata
import inspect
import re
import subprocess
import sys
import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from uh_testkit.family import (
    PackageInfo,
    find_factory_drift,
    find_fake_clock_drift,
    find_logging_drift,
    find_silent_examples,
    find_skipped_examples,
    find_store_drift,
    find_system_time_reads,
    find_unraised_exported_errors,
)

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


def test_every_package_folder_is_discovered(
    repo_root: Path, all_packages: list[PackageInfo]
) -> None:
    folders = sorted(p.name for p in (repo_root / "packages").iterdir() if p.name.startswith("uh-"))
    assert [p.dist for p in all_packages] == folders
    assert len(folders) >= 7


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


@pytest.mark.parametrize(
    "name",
    [
        "__init__.py",
        "_version.py",
        "_errors.py",
        "_clock.py",
        "_logging.py",
        "_models.py",
        "testing.py",
        "stores/_protocol.py",
    ],
)
def test_family_file_names(package: PackageInfo, name: str) -> None:
    assert (package.portion / name).is_file()


# ------------------------------------------------------------------ the shared shape


def test_time_is_read_only_through_the_clock(package: PackageInfo) -> None:
    assert find_system_time_reads(package) == []


def test_logging_follows_the_family_rule(package: PackageInfo) -> None:
    assert find_logging_drift(package) == []


def test_no_exported_error_goes_unraised(package: PackageInfo) -> None:
    assert find_unraised_exported_errors(package) == []


def test_fake_clock_has_the_family_api(package: PackageInfo) -> None:
    assert find_fake_clock_drift(package) == []


def test_clients_offer_from_url_and_from_env_without_an_options_bag(package: PackageInfo) -> None:
    assert find_factory_drift(package) == []


def test_stores_folder_and_contract_suite_are_there(package: PackageInfo) -> None:
    assert find_store_drift(package) == []


def test_no_docstring_example_is_skipped(package: PackageInfo) -> None:
    assert find_skipped_examples(package) == []


def test_every_docstring_example_shows_a_result(package: PackageInfo) -> None:
    assert find_silent_examples(package) == []


def test_clock_and_system_clock_are_exported(package: PackageInfo) -> None:
    module = _import(package)
    assert {"Clock", "SystemClock"} <= set(module.__all__)
    assert isinstance(module.SystemClock(), module.Clock)
    assert module.SystemClock().now().utcoffset() == timedelta(0)


def test_fake_clock_behaves_the_same_in_every_package(package: PackageInfo) -> None:
    testing = importlib.import_module(f"{package.import_name}.testing")
    module = _import(package)
    clock = testing.FakeClock()
    assert isinstance(clock, module.Clock)
    start, now = clock.monotonic(), clock.now()
    clock.advance(1.5)
    clock.sleep(2)
    assert clock.monotonic() - start == 3.5
    assert clock.now() - now == timedelta(seconds=3.5)
    assert clock.sleeps == [2]
    with pytest.raises(module.InvalidInputError):
        clock.advance(-1)
    with pytest.raises(module.InvalidInputError):
        testing.FakeClock(datetime(2026, 1, 1))


def test_capture_logs_sees_the_package_events(package: PackageInfo) -> None:
    testing = importlib.import_module(f"{package.import_name}.testing")
    logging_module = importlib.import_module(f"{package.import_name}._logging")
    with testing.capture_logs() as events:
        logging_module.logger.debug("shape_checked", count=1)
    assert events == [{"event": "shape_checked", "count": 1, "log_level": "debug"}]


def test_every_package_is_silent_until_the_host_configures_logging(
    all_packages: list[PackageInfo],
) -> None:
    code = "; ".join(
        f"import {p.import_name}._logging as m{i}; "
        f"m{i}.logger.warning('shape_checked'); m{i}.logger.error('shape_checked')"
        for i, p in enumerate(all_packages)
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")
