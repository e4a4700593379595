"""One command makes a package that passes the gate untouched, and the shape checks catch drift.

The package is generated in a throwaway copy of the repository, then linted, type-checked and
tested with the gate's own tools and configuration. Each shape check of the family tests is then
shown to fail on a copy with one planted drift.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from uh_testkit.family import (
    PackageInfo,
    discover_packages,
    find_factory_drift,
    find_fake_clock_drift,
    find_logging_drift,
    find_shape_drift,
    find_silent_examples,
    find_skipped_examples,
    find_store_drift,
    find_system_time_reads,
    find_unraised_exported_errors,
)

SKELETON = ["packages/_template", "scripts", "pyproject.toml", "README.md", "mkdocs.yml"]


def _copy_skeleton(repo_root: Path, target: Path) -> Path:
    copy = target / "repo"
    for name in SKELETON:
        source = repo_root / name
        if source.is_dir():
            shutil.copytree(
                source, copy / name, ignore=shutil.ignore_patterns("__pycache__", ".*_cache")
            )
        else:
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy / name)
    (copy / "docs").mkdir()
    shutil.copyfile(repo_root / "docs" / "index.md", copy / "docs" / "index.md")
    return copy


def _generate(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/new_package.py", *args],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def generated(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = _copy_skeleton(repo_root, tmp_path_factory.mktemp("generated"))
    result = _generate(copy, "uh-widgets", "Widgets for health-care apps.")
    assert result.returncode == 0, result.stderr
    return copy


def _widgets(copy: Path) -> PackageInfo:
    (package,) = discover_packages(copy)
    return package


def test_template_is_not_a_package(repo_root: Path) -> None:
    assert "_template" not in [p.dist for p in discover_packages(repo_root)]


def test_the_generator_registers_the_package_in_every_list(generated: Path) -> None:
    readme = (generated / "README.md").read_text()
    assert "| [uh-widgets](packages/uh-widgets) | `pip install uh-widgets` |" in readme
    assert (
        "| `uh-widgets` | `unified_health.widgets` |" in (generated / "docs/index.md").read_text()
    )
    mkdocs = (generated / "mkdocs.yml").read_text()
    assert "            - packages/uh-widgets/src\n" in mkdocs
    nav = mkdocs.split("- Packages:")[1].split("- Development:")[0]
    assert "      - Widgets: packages/widgets.md\n" in nav
    assert "::: unified_health.widgets" in (generated / "docs/packages/widgets.md").read_text()
    assert (generated / "examples/walkthrough/widgets.py").is_file()
    made = [*(generated / "packages/uh-widgets").rglob("*"), *(generated / "examples").rglob("*")]
    assert [p for p in made if p.is_file() and "{{" in p.read_text()] == []


def test_a_generated_package_keeps_the_family_shape(generated: Path) -> None:
    assert find_shape_drift(_widgets(generated)) == []


def _tool(name: str) -> str:
    found = shutil.which(name, path=os.path.dirname(sys.executable)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed in this environment (dev group)")
    return found


def _run(command: list[str], cwd: Path, **env: str) -> None:
    result = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_a_generated_package_passes_lint(generated: Path) -> None:
    targets = ["packages/uh-widgets", "examples"]
    _run([_tool("ruff"), "check", *targets], generated)
    _run([_tool("ruff"), "format", "--check", *targets], generated)


def test_a_generated_package_passes_mypy_strict_with_its_tests(
    generated: Path, tmp_path: Path
) -> None:
    src = str(generated / "packages/uh-widgets/src")
    cache = str(tmp_path / "mypy-cache")
    mypy = [_tool("mypy"), "--cache-dir", cache, "--config-file", "pyproject.toml"]
    _run([*mypy, "-p", "unified_health.widgets"], generated, MYPYPATH=src)
    _run([*mypy, "packages/uh-widgets/tests"], generated, MYPYPATH=src)


def test_a_generated_package_passes_its_tests_and_doctests(generated: Path) -> None:
    _run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            "pyproject.toml",
            "--rootdir",
            ".",
            "--doctest-modules",
            "--pyargs",
            "unified_health.widgets",
            "packages/uh-widgets/tests",
        ],
        generated,
        PYTHONPATH=str(generated / "packages/uh-widgets/src"),
    )


def test_the_walkthrough_step_runs(generated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(generated / "packages/uh-widgets/src"))
    path = generated / "examples/walkthrough/widgets.py"
    spec = importlib.util.spec_from_file_location("walkthrough_widgets", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    said: list[str] = []
    module.run(said.append)
    assert said[0] == "stored record example-1 at version 1"
    assert any("stale write is refused" in line for line in said)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["widgets", "x"], "must be 'uh-' followed by lower-case words"),
        (["uh-Widgets", "x"], "must be 'uh-' followed by lower-case words"),
        (["uh-widgets_2", "x"], "must be 'uh-' followed by lower-case words"),
        (["uh-", "x"], "must be 'uh-' followed by lower-case words"),
        (["uh-class", "x"], "'class' is a Python keyword"),
        (["uh-lambda-tools", "x"], "'lambda' is a Python keyword"),
        (["uh-gadgets", ""], "summary: must be one line"),
        (["uh-gadgets", "a | b"], "summary: must be one line"),
        (["uh-gadgets", "x", "gadgetsError"], "error_base: must be a CamelCase name"),
        (["uh-widgets", "again"], "packages/uh-widgets exists already"),
    ],
)
def test_a_bad_name_is_refused_and_leaves_nothing_behind(
    generated: Path, args: list[str], message: str
) -> None:
    before = _snapshot(generated)
    result = _generate(generated, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert _snapshot(generated) == before


def test_a_failure_half_way_undoes_every_write(repo_root: Path, tmp_path: Path) -> None:
    copy = _copy_skeleton(repo_root, tmp_path)
    (copy / "examples").mkdir()
    (copy / "examples" / "walkthrough").write_text("a file where a folder must go\n")
    before = _snapshot(copy)
    result = _generate(copy, "uh-gadgets", "Gadgets.")
    assert result.returncode != 0
    assert _snapshot(copy) == before
    assert not (copy / "packages" / "uh-gadgets").exists()


# ------------------------------------------------------------------ planted drift is caught


def _planted(generated: Path, tmp_path: Path) -> PackageInfo:
    copy = tmp_path / "planted"
    shutil.copytree(generated, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return _widgets(copy)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _plant_time_read(package: PackageInfo) -> None:
    _edit(
        package.portion / "stores/_memory.py",
        "import threading\n",
        "import threading\nimport time\n\nSTARTED = time.time()\n",
    )


def _plant_own_logger(package: PackageInfo) -> None:
    (package.portion / "_planted.py").write_text(
        '"""Planted."""\n\nimport structlog\n\nlog = structlog.get_logger(__name__)\n'
    )


def _plant_traceback(package: PackageInfo) -> None:
    _edit(
        package.portion / "stores/_redis.py",
        'logger.warning("store_call_failed", operation=operation, error_class=type(exc).__name__)',
        'logger.exception("store_call_failed", operation=operation)',
    )


def _plant_unraised_export(package: PackageInfo) -> None:
    init = package.portion / "__init__.py"
    _edit(init, "    InvalidInputError,\n", "    InvalidInputError,\n    ProviderError,\n")
    _edit(init, '    "Record",\n', '    "ProviderError",\n    "Record",\n')


def _plant_fake_clock_drift(package: PackageInfo) -> None:
    _edit(
        package.portion / "testing.py",
        "    def advance(self, seconds",
        "    def tick(self, seconds",
    )


def _plant_options_bag(package: PackageInfo) -> None:
    (package.portion / "_client.py").write_text(
        '"""Planted."""\n\n\nclass WidgetsClient:\n    """Planted."""\n\n'
        "    @classmethod\n    def from_url(cls, url: str, **options: object) -> None:\n"
        '        """Planted."""\n'
    )
    init = package.portion / "__init__.py"
    _edit(
        init,
        "from unified_health.widgets._clock",
        "from unified_health.widgets._client import WidgetsClient\n"
        "from unified_health.widgets._clock",
    )
    _edit(init, '    "__version__",\n', '    "WidgetsClient",\n    "__version__",\n')


def _plant_missing_contract(package: PackageInfo) -> None:
    (package.path / "tests/test_store_contract.py").unlink()


def _plant_skipped_example(package: PackageInfo) -> None:
    _edit(
        package.portion / "stores/_memory.py",
        ">>> store = InMemoryRecordStore()",
        ">>> store = InMemoryRecordStore()  # doctest: +SKIP",
    )


def _plant_silent_example(package: PackageInfo) -> None:
    _edit(
        package.portion / "_clock.py",
        """        >>> isinstance(SystemClock(), Clock)
        True""",
        """        >>> clock = SystemClock()""",
    )


@pytest.mark.parametrize(
    ("plant", "check", "expected"),
    [
        (_plant_time_read, find_system_time_reads, "stores/_memory.py:8 calls time.time()"),
        (_plant_own_logger, find_logging_drift, "_planted.py:5 makes a logger"),
        (_plant_traceback, find_logging_drift, "logs a traceback with .exception()"),
        (_plant_unraised_export, find_unraised_exported_errors, "exports ProviderError"),
        (_plant_fake_clock_drift, find_fake_clock_drift, "testing.FakeClock has methods"),
        (_plant_options_bag, find_factory_drift, "WidgetsClient.from_url takes **options"),
        (_plant_missing_contract, find_store_drift, "test_store_contract.py is missing"),
        (_plant_skipped_example, find_skipped_examples, "skips an example"),
        (_plant_silent_example, find_silent_examples, "_clock.py:18 has examples that show no"),
    ],
)
def test_each_shape_check_catches_a_planted_drift(
    generated: Path,
    tmp_path: Path,
    plant: Callable[[PackageInfo], None],
    check: Callable[[PackageInfo], list[str]],
    expected: str,
) -> None:
    package = _planted(generated, tmp_path)
    assert check(package) == []
    plant(package)
    problems = check(package)
    assert any(expected in problem for problem in problems), problems
