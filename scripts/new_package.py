"""Create a new package of the family from ``packages/_template``, ready for the whole gate.

Usage::

    python scripts/new_package.py uh-widgets "Widgets for health-care apps."
    python scripts/new_package.py uh-widgets "Widgets for health-care apps." WidgetsError

It writes ``packages/<dist>/`` (every ``{{dist}}``, ``{{module}}``, ``{{summary}}``,
``{{error_base}}`` and ``{{title}}`` filled in, the ``__module__`` folder renamed), the files under
the template's ``_repo/`` folder to their places in the repository (the docs page and the demo's
walkthrough step), and adds the package to every list that names the packages by hand: the
README's and the docs home's package tables, and ``mkdocs.yml`` (API paths and navigation).
Everything else (nox sessions, the import-linter contract, the family tests) discovers packages
from ``packages/uh-*``.

A bad name is refused before anything is written, and a failure half-way undoes every write.
"""

from __future__ import annotations

import argparse
import keyword
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = Path("packages") / "_template"
REPO_FILES = "_repo"
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".yml", ".yaml", ".cfg", ".typed"}
DIST_RULE = re.compile(r"uh-[a-z]+(?:-[a-z]+)*")
ERROR_RULE = re.compile(r"[A-Z][A-Za-z0-9]*Error")
ALL_BLOCK = re.compile(r"__all__ = \[\n(?P<body>(?:    \"[^\"]+\",\n)+)\]")
IMPORT_BLOCK = re.compile(r"import \(\n(?P<body>(?:    \w+,\n)+)\)")


class GeneratorError(Exception):
    """A name or a repository file that the generator cannot work with."""


@dataclass(frozen=True)
class Names:
    """Every spelling of the new package's name that the template uses."""

    dist: str
    module: str
    summary: str
    error_base: str
    title: str

    def tokens(self) -> dict[str, str]:
        """The template tokens and their values."""
        return {
            "dist": self.dist,
            "module": self.module,
            "summary": self.summary,
            "error_base": self.error_base,
            "title": self.title,
        }


def names_for(dist: str, summary: str, error_base: str | None = None) -> Names:
    """Check the names and derive the others from ``dist``.

    Raises:
        GeneratorError: A name breaks a rule; the message names the argument and the rule.
    """
    if not DIST_RULE.fullmatch(dist):
        raise GeneratorError(
            f"dist: must be 'uh-' followed by lower-case words joined by '-', "
            f"e.g. 'uh-widgets'; got {dist!r}"
        )
    module = dist.removeprefix("uh-").replace("-", "_")
    words = module.split("_")
    clashes = [w for w in (module, *words) if keyword.iskeyword(w) or keyword.issoftkeyword(w)]
    if clashes:
        raise GeneratorError(f"dist: {clashes[0]!r} is a Python keyword; choose another name")
    if not summary.strip() or "\n" in summary or "|" in summary or len(summary) > 200:
        raise GeneratorError("summary: must be one line of 1 to 200 characters without '|'")
    base = error_base or "".join(word.capitalize() for word in words) + "Error"
    if not ERROR_RULE.fullmatch(base):
        raise GeneratorError("error_base: must be a CamelCase name ending in 'Error'")
    title = " ".join(words).capitalize()
    return Names(dist=dist, module=module, summary=summary.strip(), error_base=base, title=title)


def _sorted_block(match: re.Match[str], opening: str, closing: str) -> str:
    lines = sorted(match.group("body").splitlines(keepends=True))
    return opening + "".join(lines) + closing


def render(text: str, values: dict[str, str]) -> str:
    """Fill the template tokens in ``text`` and sort its ``__all__`` and import lists."""
    for token, value in values.items():
        text = text.replace("{{" + token + "}}", value)
    text = ALL_BLOCK.sub(lambda m: _sorted_block(m, "__all__ = [\n", "]"), text)
    return IMPORT_BLOCK.sub(lambda m: _sorted_block(m, "import (\n", ")"), text)


def _insert_after_last(text: str, prefix: str, line: str, where: str) -> str:
    lines = text.splitlines(keepends=True)
    hits = [index for index, current in enumerate(lines) if current.lstrip().startswith(prefix)]
    if not hits:
        raise GeneratorError(f"{where}: found no line starting with {prefix!r} to add to")
    lines.insert(hits[-1] + 1, line + "\n")
    return "".join(lines)


def list_edits(root: Path, names: Names) -> dict[Path, str]:
    """The new text of every repository file that lists the packages by hand."""
    readme = root / "README.md"
    index = root / "docs" / "index.md"
    mkdocs = root / "mkdocs.yml"
    edits: dict[Path, str] = {}
    row = (
        f"| [{names.dist}](packages/{names.dist}) | `pip install {names.dist}` | "
        f"`unified_health.{names.module}` | {names.summary} |"
    )
    edits[readme] = _insert_after_last(readme.read_text(), "| [uh-", row, "README.md")
    home_row = f"| `{names.dist}` | `unified_health.{names.module}` | {names.summary} |"
    edits[index] = _insert_after_last(index.read_text(), "| `uh-", home_row, "docs/index.md")
    paths = _insert_after_last(
        mkdocs.read_text(), "- packages/uh-", f"            - packages/{names.dist}/src", "mkdocs"
    )
    edits[mkdocs] = _nav_edit(paths, f"      - {names.title}: packages/{names.module}.md")
    return edits


def _nav_edit(text: str, nav: str) -> str:
    """Add ``nav`` as the last entry of the Packages section of ``mkdocs.yml``."""
    lines = text.splitlines(keepends=True)
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "- Packages:")
    except StopIteration:
        raise GeneratorError("mkdocs.yml nav: found no '- Packages:' section") from None
    end = start + 1
    while end < len(lines) and lines[end].startswith("      - "):
        end += 1
    lines.insert(end, nav + "\n")
    return "".join(lines)


def planned_files(root: Path, names: Names) -> dict[Path, bytes]:
    """Every new file and its content, without writing anything."""
    template = root / TEMPLATE_DIR
    if not template.is_dir():
        raise GeneratorError(f"{TEMPLATE_DIR} is missing")
    target = root / "packages" / names.dist
    files: dict[Path, bytes] = {}
    for source in sorted(p for p in template.rglob("*") if p.is_file()):
        relative = source.relative_to(template)
        if "__pycache__" in relative.parts:
            continue
        if relative.parts[0] == REPO_FILES:
            base, parts = root, relative.parts[1:]
        else:
            base, parts = target, relative.parts
        filled = [render(part, names.tokens()) for part in parts]
        destination = base.joinpath(*(names.module if p == "__module__" else p for p in filled))
        content = source.read_bytes()
        if source.suffix in TEXT_SUFFIXES:
            content = render(content.decode(), names.tokens()).encode()
        files[destination] = content
    return files


def create(dist: str, summary: str, error_base: str | None = None, *, root: Path = ROOT) -> Path:
    """Create the package and register it; on any failure leave the repository as it was.

    Returns:
        The new package's folder.

    Raises:
        GeneratorError: A bad name, an existing package, or a repository file it cannot edit.
    """
    names = names_for(dist, summary, error_base)
    target = root / "packages" / names.dist
    files = planned_files(root, names)
    existing = [path for path in [target, *files] if path.exists()]
    if existing:
        raise GeneratorError(f"{existing[0].relative_to(root)} exists already")
    edits = list_edits(root, names)
    originals = {path: path.read_text() for path in edits}
    made_dirs: list[Path] = []
    written: list[Path] = []
    try:
        for path, content in files.items():
            for parent in reversed(path.parents):
                if not parent.exists():
                    parent.mkdir()
                    made_dirs.append(parent)
            path.write_bytes(content)
            written.append(path)
        for path, text in edits.items():
            path.write_text(text)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        for directory in reversed(made_dirs):
            if directory.exists() and not any(directory.iterdir()):
                directory.rmdir()
        for path, text in originals.items():
            path.write_text(text)
        raise
    return target


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and create the package."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist", help="distribution name, e.g. uh-widgets")
    parser.add_argument("summary", help="one-line description")
    parser.add_argument(
        "error_base", nargs="?", help="base error class (default: from the name, WidgetsError)"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        target = create(args.dist, args.summary, args.error_base, root=args.root.resolve())
    except GeneratorError as exc:
        print(f"new_package: {exc}", file=sys.stderr)
        return 2
    print(f"created {target.relative_to(args.root.resolve())} and registered it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
