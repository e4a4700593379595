"""Every routine task of the repository. Plain ``nox`` is the CI gate.

Default sessions (the gate): ``lint``, ``typecheck(package)``, ``test(package)``,
``packaging(package)`` and ``repo``. Opt-in: ``demo``, ``bench``, ``docs``, ``load``.

Packages are discovered from ``packages/uh-*``; ``packages/_template`` is not one. Run one package's
sessions with ``nox -s "test(package='uh-billing')"`` or ``nox -t uh-billing``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_external_run = True
nox.options.sessions = ["lint", "typecheck", "test", "packaging", "repo"]

ROOT = Path(__file__).resolve().parent
PACKAGES = sorted(
    path.name for path in (ROOT / "packages").glob("uh-*") if (path / "pyproject.toml").is_file()
)
PACKAGE_PARAMS = [nox.param(name, id=name, tags=[name]) for name in PACKAGES]
TESTKIT = ROOT / "tests" / "testkit"
PYTHON = "3.11"


def module_of(package: str) -> str:
    """``uh-feature-flags`` -> ``feature_flags``."""
    return package.removeprefix("uh-").replace("-", "_")


def _pyproject(package: str) -> dict[str, object]:
    return nox.project.load_toml(ROOT / "packages" / package / "pyproject.toml")


def _extras(package: str) -> list[str]:
    project = _pyproject(package)["project"]
    assert isinstance(project, dict)
    return sorted(project.get("optional-dependencies", {}))


def _install_package(session: nox.Session, package: str, *, editable: bool = True) -> None:
    """Install one package with every extra it declares (and nothing of its siblings)."""
    extras = _extras(package)
    spec = str(ROOT / "packages" / package) + (f"[{','.join(extras)}]" if extras else "")
    session.install(*(["-e", spec] if editable else [spec]))


def _test_group(package: str) -> list[str]:
    return list(nox.project.dependency_groups(_pyproject(package), "test"))


def _root_group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(nox.project.load_toml(ROOT / "pyproject.toml"), name))


def _tool(requirement_prefix: str) -> str:
    """The dev group's pinned range for a tool, e.g. ``ruff`` -> ``ruff>=0.8``."""
    for requirement in _root_group("dev"):
        if requirement.split(">")[0].split("=")[0].split("[")[0].strip() == requirement_prefix:
            return requirement
    return requirement_prefix


def importlinter_config(packages: list[str]) -> str:
    """The import-linter configuration for ``packages``: each portion is independent of the others.

    Written from the discovered packages on every run, so a new package is covered untouched.
    """
    modules = "".join(f"\n    unified_health.{module_of(package)}" for package in packages)
    return (
        f"[importlinter]\nroot_packages ={modules}\n\n"
        "[importlinter:contract:independence]\n"
        "name = The packages are independent: none imports another\n"
        f"type = independence\nmodules ={modules}\n"
    )


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff (lint and format) and import-linter's independence contract."""
    session.install(_tool("ruff"), _tool("import-linter"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    for package in PACKAGES:
        _install_package(session, package)
    config = Path(session.create_tmp()) / "importlinter.ini"
    config.write_text(importlinter_config(PACKAGES))
    session.run("lint-imports", "--no-cache", "--config", str(config))


@nox.session(python=PYTHON)
@nox.parametrize("package", PACKAGE_PARAMS)
def typecheck(session: nox.Session, package: str) -> None:
    """mypy --strict over one package and its tests, in a venv holding only that package, its
    test group and the test kit."""
    _install_package(session, package)
    session.install(_tool("mypy"), *_test_group(package), "-e", str(TESTKIT))
    session.run("mypy", "-p", f"unified_health.{module_of(package)}")
    session.run("mypy", str(ROOT / "packages" / package / "tests"))


@nox.session(python=PYTHON)
@nox.parametrize("package", PACKAGE_PARAMS)
def test(session: nox.Session, package: str) -> None:
    """One package's tests and docstring examples, in a venv holding only that package, its test
    group and the testkit."""
    _install_package(session, package)
    session.install(*_test_group(package), "pytest-cov>=5.0", "-e", str(TESTKIT))
    coverage_file = Path(session.create_tmp()) / ".coverage"
    session.run(
        "pytest",
        "-c",
        str(ROOT / "pyproject.toml"),
        "--rootdir",
        str(ROOT),
        f"--cov=unified_health.{module_of(package)}",
        "--cov-report=term-missing:skip-covered",
        "--doctest-modules",
        "--pyargs",
        f"unified_health.{module_of(package)}",
        str(ROOT / "packages" / package / "tests"),
        *session.posargs,
        env={"COVERAGE_FILE": str(coverage_file)},
    )


def namespace_strays(package_dir: Path) -> list[str]:
    """Names in ``src/unified_health/`` other than the package's own portion (should be none)."""
    module = module_of(package_dir.name)
    namespace = package_dir / "src" / "unified_health"
    return sorted(p.name for p in namespace.iterdir() if p.name != module)


def check_wheel(wheel: Path, module: str) -> None:
    """Reject a wheel that lacks ``py.typed``, masks the namespace, or ships anything else."""
    names = zipfile.ZipFile(wheel).namelist()
    portion = f"unified_health/{module}/"
    problems = []
    if f"{portion}py.typed" not in names:
        problems.append(f"{portion}py.typed is missing")
    if "unified_health/__init__.py" in names:
        problems.append("unified_health/__init__.py would mask every sibling package")
    strays = [
        name
        for name in names
        if not name.startswith(portion) and not name.split("/", 1)[0].endswith(".dist-info")
    ]
    if strays:
        problems.append(f"files outside {portion}: {', '.join(sorted(strays)[:5])}")
    if problems:
        raise ValueError(f"{wheel.name}: " + "; ".join(problems))


@nox.session(python=PYTHON)
@nox.parametrize("package", PACKAGE_PARAMS)
def packaging(session: nox.Session, package: str) -> None:
    """Build sdist and wheel, inspect the wheel, install it alone in a fresh venv and import it."""
    source = ROOT / "packages" / package
    module = module_of(package)
    strays = namespace_strays(source)
    if strays:
        session.error(f"src/unified_health/ must hold only {module}/, found: {', '.join(strays)}")
    out = Path(tempfile.mkdtemp(prefix=f"{package}-dist-"))
    if shutil.which("uv"):
        session.run("uv", "build", "--quiet", "--out-dir", str(out), str(source), external=True)
    else:
        session.install("build")
        session.run("python", "-m", "build", "--outdir", str(out), str(source))
    wheels = sorted(out.glob("*.whl"))
    if len(wheels) != 1 or not list(out.glob("*.tar.gz")):
        session.error(f"expected one wheel and one sdist in {out}, found {sorted(out.iterdir())}")
    try:
        check_wheel(wheels[0], module)
    except ValueError as exc:
        session.error(str(exc))
    session.install(str(wheels[0]))
    session.run(
        "python",
        "-c",
        f"import importlib.metadata as md, sys, unified_health.{module} as pkg; "
        f"meta = md.version('{package}'); "
        "sys.exit(0 if meta == pkg.__version__ else f'version {meta} != {pkg.__version__}'); ",
    )
    shutil.rmtree(out, ignore_errors=True)


@nox.session(python=PYTHON)
def repo(session: nox.Session) -> None:
    """Repository-level tests: family conformance, packaging guards, examples smoke."""
    for package in PACKAGES:
        _install_package(session, package)
    session.install(*_root_group("dev"), "build", "hatchling>=1.26", "pyyaml", "-e", str(TESTKIT))
    session.run(
        "pytest",
        "-c",
        str(ROOT / "pyproject.toml"),
        "--rootdir",
        str(ROOT),
        str(ROOT / "tests"),
        *session.posargs,
    )


@nox.session(python=PYTHON, default=False)
def demo(session: nox.Session) -> None:
    """Install every package and run the demo application in ``examples/``."""
    for package in PACKAGES:
        _install_package(session, package, editable=False)
    session.run("python", str(ROOT / "examples" / "demo.py"), *session.posargs)


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Run benchmarks: ``nox -s bench -- feature-flags [--quick]`` (all packages without a name)."""
    names = [arg for arg in session.posargs if not arg.startswith("-")]
    flags = [arg for arg in session.posargs if arg.startswith("-")]
    wanted = [f"uh-{name.removeprefix('uh-')}" for name in names] or PACKAGES
    ran = 0
    for package in wanted:
        if package not in PACKAGES:
            session.error(f"unknown package {package!r}; known: {', '.join(PACKAGES)}")
        script = ROOT / "benchmarks" / f"{module_of(package)}.py"
        if not script.is_file():
            session.log(f"{package}: no benchmark yet")
            continue
        _install_package(session, package, editable=False)
        peers = ROOT / "benchmarks" / "requirements" / f"{module_of(package)}.txt"
        if peers.is_file():
            session.install("-r", str(peers))
        session.run("python", str(script), *flags)
        ran += 1
    if not ran:
        session.skip("no benchmark for the packages asked for")


@nox.session(python=PYTHON, default=False)
def load(session: nox.Session) -> None:
    """Run load scenarios from ``benchmarks/load/`` (bounded, loopback only)."""
    scenarios = sorted((ROOT / "benchmarks" / "load").glob("*.py"))
    if not scenarios:
        session.skip("no load scenario in benchmarks/load/ yet")
    for package in PACKAGES:
        _install_package(session, package, editable=False)
    for scenario in scenarios:
        session.run("python", str(scenario), *session.posargs)


@nox.session(python=PYTHON, default=False)
def docs(session: nox.Session) -> None:
    """Build the mkdocs site with ``--strict`` (``nox -s docs -- serve`` to preview)."""
    session.install(*_root_group("docs"))
    for package in PACKAGES:
        _install_package(session, package)
    if session.posargs[:1] == ["serve"]:
        session.run("mkdocs", "serve", *session.posargs[1:])
    else:
        session.run(
            "mkdocs",
            "build",
            "--strict",
            "--site-dir",
            str(ROOT / "site"),
            env={"NO_MKDOCS_2_WARNING": "1"},
        )


if __name__ == "__main__":
    sys.exit("run with nox: python3 -m pip install nox && nox")
