"""What the family conformance tests know about the repository: packages and their imports."""

from __future__ import annotations

import ast
import doctest
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[4]


@dataclass(frozen=True)
class PackageInfo:
    """One distribution of the family, as laid out on disk."""

    dist: str
    module: str
    path: Path

    @property
    def portion(self) -> Path:
        """The folder that is the package's namespace portion."""
        return self.path / "src" / "unified_health" / self.module

    @property
    def import_name(self) -> str:
        """The dotted import name, e.g. ``unified_health.feature_flags``."""
        return f"unified_health.{self.module}"


def discover_packages(root: Path = REPO_ROOT) -> list[PackageInfo]:
    """Every ``packages/uh-*`` folder with a ``pyproject.toml``, sorted by name."""
    found = []
    for path in sorted((root / "packages").glob("uh-*")):
        if (path / "pyproject.toml").is_file():
            module = path.name.removeprefix("uh-").replace("-", "_")
            found.append(PackageInfo(dist=path.name, module=module, path=path))
    return found


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    names: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append((node.lineno, node.module))
            names.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.append((node.lineno, node.args[0].value))
    return names


def find_sibling_imports(package: PackageInfo, siblings: list[PackageInfo]) -> list[str]:
    """Places where ``package`` (source or tests) imports another package of the family.

    Returns ``"path:line imports unified_health.<other>"`` strings; empty when independent.
    """
    others = {p.import_name for p in siblings if p.module != package.module}
    problems = []
    for source in sorted(package.path.rglob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
        for line, name in _imported_modules(tree):
            for other in others:
                if name == other or name.startswith(other + "."):
                    where = source.relative_to(package.path)
                    problems.append(f"{package.dist}/{where}:{line} imports {other}")
    return sorted(set(problems))


# ------------------------------------------------------------------ the shared shape, checked
#
# Each check reads a package's source as text or syntax trees (nothing is imported), returns
# "path:line what" strings, and is empty when the package keeps the family's shape. The family
# tests run them on every package and on a copy with a planted drift, so a check cannot rot.

CLOCK_MODULE = "_clock.py"
LOGGING_MODULE = "_logging.py"
SYSTEM_TIME_CALLS = {
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
    ("time", "monotonic_ns"),
    ("time", "perf_counter"),
    ("time", "perf_counter_ns"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
}
LOGGER_FACTORIES = {
    ("structlog", "get_logger"),
    ("structlog", "getLogger"),
    ("structlog", "wrap_logger"),
    ("logging", "getLogger"),
}
FAKE_CLOCK_API = {"now": [], "monotonic": [], "advance": ["seconds"], "sleep": ["seconds"]}
FACTORY_SUFFIXES = ("Client", "Service")


def _sources(package: PackageInfo) -> list[tuple[str, ast.Module]]:
    found = []
    for source in sorted(package.portion.rglob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
        found.append((str(source.relative_to(package.portion)), tree))
    return found


def _dotted(node: ast.expr) -> tuple[str, str] | None:
    """``time.monotonic`` -> ("time", "monotonic"); ``datetime.datetime.now`` -> ("datetime",
    "now")."""
    if isinstance(node, ast.Attribute):
        owner = node.value
        if isinstance(owner, ast.Name):
            return owner.id, node.attr
        if isinstance(owner, ast.Attribute):
            return owner.attr, node.attr
    return None


def find_system_time_reads(package: PackageInfo) -> list[str]:
    """Places outside ``_clock.py`` that read the system clock instead of an injected `Clock`."""
    problems: list[str] = []
    for name, tree in _sources(package):
        if name == CLOCK_MODULE:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in {"time", "datetime"}:
                problems.extend(
                    f"{name}:{node.lineno} imports {node.module}.{alias.name}"
                    for alias in node.names
                    if (node.module, alias.name) in SYSTEM_TIME_CALLS
                )
            if not isinstance(node, ast.Call):
                continue
            target = _dotted(node.func)
            if target is not None and target in SYSTEM_TIME_CALLS:
                problems.append(f"{name}:{node.lineno} calls {'.'.join(target)}()")
    return problems


def find_logging_drift(package: PackageInfo) -> list[str]:
    """Loggers made outside ``_logging.py``, other logger names, tracebacks and a wrong name."""
    problems = []
    expected = f'LOGGER_NAME = "unified_health.{package.module}"'
    logging_module = package.portion / LOGGING_MODULE
    if not logging_module.is_file() or expected not in logging_module.read_text():
        problems.append(f"{LOGGING_MODULE}: must define {expected}")
    for name, tree in _sources(package):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("._logging"):
                problems.extend(
                    f"{name}:{node.lineno} renames the logger {alias.asname}"
                    for alias in node.names
                    if alias.name == "logger" and alias.asname not in (None, "logger")
                )
            if not isinstance(node, ast.Call):
                continue
            target = _dotted(node.func)
            named = bool(node.args) and getattr(node.args[0], "id", None) == "LOGGER_NAME"
            if (
                target is not None
                and target in LOGGER_FACTORIES
                and name != LOGGING_MODULE
                and not named
            ):
                problems.append(f"{name}:{node.lineno} makes a logger with {'.'.join(target)}")
            if isinstance(node.func, ast.Attribute) and node.func.attr == "exception":
                owner = node.func.value
                if isinstance(owner, ast.Name) and "log" in owner.id:
                    problems.append(f"{name}:{node.lineno} logs a traceback with .exception()")
            if any(keyword.arg in {"exc_info", "stack_info"} for keyword in node.keywords):
                problems.append(f"{name}:{node.lineno} logs a traceback (exc_info/stack_info)")
    return problems


def _exported(package: PackageInfo) -> list[str]:
    tree = ast.parse((package.portion / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            and isinstance(node.value, ast.List | ast.Tuple)
        ):
            return [
                e.value
                for e in node.value.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            ]
    return []


def _error_classes(package: PackageInfo) -> dict[str, list[str]]:
    """Every class defined in the package whose name ends in ``Error``, with its base names."""
    classes: dict[str, list[str]] = {}
    for _, tree in _sources(package):
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Error"):
                classes[node.name] = [
                    base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
                    for base in node.bases
                ]
    return classes


def _raised_names(package: PackageInfo) -> set[str]:
    raised = set()
    for _, tree in _sources(package):
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and node.exc is not None:
                exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if isinstance(exc, ast.Name):
                    raised.add(exc.id)
                elif isinstance(exc, ast.Attribute):
                    raised.add(exc.attr)
            if isinstance(node, ast.Return | ast.Assign) and isinstance(node.value, ast.Call):
                # ``return SomeError(...)`` from a factory that callers raise.
                func = node.value.func
                if isinstance(func, ast.Name) and func.id.endswith("Error"):
                    raised.add(func.id)
    return raised


def find_unraised_exported_errors(package: PackageInfo) -> list[str]:
    """Exported error classes that the package never raises (nor any subclass of them)."""
    classes = _error_classes(package)
    raised = _raised_names(package)

    def ancestors(name: str) -> set[str]:
        seen: set[str] = set()
        stack = [name]
        while stack:
            for base in classes.get(stack.pop(), []):
                if base not in seen:
                    seen.add(base)
                    stack.append(base)
        return seen

    covered = set(raised)
    for name in raised:
        covered |= ancestors(name)
    exported_errors = [name for name in _exported(package) if name in classes]
    bases = [name for name in exported_errors if classes[name] == ["Exception"]]
    return [
        f"__init__.py exports {name}, which the package never raises"
        for name in exported_errors
        if name not in covered and name not in bases
    ]


def _class(package: PackageInfo, wanted: str) -> tuple[str, ast.ClassDef] | None:
    for name, tree in _sources(package):
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == wanted:
                return name, node
    return None


def _public_methods(node: ast.ClassDef) -> dict[str, ast.FunctionDef]:
    return {
        item.name: item
        for item in node.body
        if isinstance(item, ast.FunctionDef) and not item.name.startswith("_")
    }


def find_fake_clock_drift(package: PackageInfo) -> list[str]:
    """``testing.FakeClock`` must have exactly the family's methods, with the same parameters."""
    testing = package.portion / "testing.py"
    if not testing.is_file():
        return ["testing.py is missing"]
    tree = ast.parse(testing.read_text(encoding="utf-8"))
    clock = next(
        (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "FakeClock"), None
    )
    if clock is None:
        return ["testing.py has no FakeClock"]
    methods = _public_methods(clock)
    problems = []
    if set(methods) != set(FAKE_CLOCK_API):
        problems.append(
            f"testing.FakeClock has methods {sorted(methods)}, "
            f"the family's are {sorted(FAKE_CLOCK_API)}"
        )
    for method, params in FAKE_CLOCK_API.items():
        if method in methods:
            found = [a.arg for a in methods[method].args.args[1:]]
            if found != params:
                problems.append(
                    f"testing.FakeClock.{method} takes {found}, the family's takes {params}"
                )
    init = next(
        (i for i in clock.body if isinstance(i, ast.FunctionDef) and i.name == "__init__"), None
    )
    if init is None or [a.arg for a in init.args.args[1:]] != ["start"]:
        problems.append("testing.FakeClock(start=None) is the family's constructor")
    if not any(isinstance(n, ast.FunctionDef) and n.name == "capture_logs" for n in tree.body):
        problems.append("testing.py has no capture_logs()")
    return problems


def find_factory_drift(package: PackageInfo) -> list[str]:
    """Every exported ``*Client``/``*Service`` offers ``from_url`` and ``from_env`` classmethods
    with named keyword arguments (no ``**options`` bag)."""
    problems = []
    for exported in _exported(package):
        if not exported.endswith(FACTORY_SUFFIXES):
            continue
        found = _class(package, exported)
        if found is None:
            continue
        where, node = found
        methods = {i.name: i for i in node.body if isinstance(i, ast.FunctionDef)}
        for factory in ("from_url", "from_env"):
            method = methods.get(factory)
            if method is None:
                problems.append(f"{where}: {exported}.{factory} is missing")
                continue
            decorators = [d.id for d in method.decorator_list if isinstance(d, ast.Name)]
            if "classmethod" not in decorators:
                problems.append(f"{where}: {exported}.{factory} must be a classmethod")
            if method.args.kwarg is not None:
                problems.append(f"{where}: {exported}.{factory} takes **{method.args.kwarg.arg}")
    return problems


def find_store_drift(package: PackageInfo) -> list[str]:
    """The stores folder (protocol, memory, Redis) and one contract suite run against both."""
    problems = [
        f"stores/{name} is missing"
        for name in ("__init__.py", "_protocol.py", "_memory.py", "_redis.py")
        if not (package.portion / "stores" / name).is_file()
    ]
    contract = package.path / "tests" / "test_store_contract.py"
    if not contract.is_file():
        problems.append("tests/test_store_contract.py is missing")
    elif not all(word in contract.read_text().lower() for word in ("memory", "redis")):
        problems.append("tests/test_store_contract.py must run against memory and redis")
    return problems


def find_skipped_examples(package: PackageInfo) -> list[str]:
    """Docstring examples marked ``+SKIP``: they never run."""
    problems = []
    for source in sorted(package.portion.rglob("*.py")):
        for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
            if "doctest:" in line and "+SKIP" in line:
                problems.append(f"{source.relative_to(package.portion)}:{number} skips an example")
    return problems


def find_silent_examples(package: PackageInfo) -> list[str]:
    """Docstrings whose examples show no result at all: such an example asserts nothing."""
    parser = doctest.DocTestParser()
    problems = []
    for name, tree in _sources(package):
        nodes = [tree, *ast.walk(tree)]
        for node in nodes:
            if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef):
                continue
            docstring = ast.get_docstring(node, clean=True)
            if not docstring or ">>>" not in docstring:
                continue
            examples = parser.get_examples(docstring)
            if examples and not any(example.want.strip() for example in examples):
                line = getattr(node, "lineno", 1)
                problems.append(f"{name}:{line} has examples that show no result")
    return sorted(set(problems))


def find_shape_drift(package: PackageInfo) -> list[str]:
    """Every shape check at once."""
    return [
        *find_system_time_reads(package),
        *find_logging_drift(package),
        *find_unraised_exported_errors(package),
        *find_fake_clock_drift(package),
        *find_factory_drift(package),
        *find_store_drift(package),
        *find_skipped_examples(package),
        *find_silent_examples(package),
    ]
