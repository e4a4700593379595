"""What the family conformance tests know about the repository: packages and their imports."""

from __future__ import annotations

import ast
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
