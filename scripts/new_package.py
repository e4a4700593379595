"""Create a new package of the family from ``packages/_template``.

Usage::

    python scripts/new_package.py uh-widgets "Widgets for health-care apps" WidgetsError

Every ``{{dist}}``, ``{{module}}``, ``{{summary}}`` and ``{{error_base}}`` in the template's files
is replaced, the ``__module__`` folder is renamed to the import name, and ``__all__`` lists
are sorted.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "packages" / "_template"
ALL_BLOCK = re.compile(r"__all__ = \[\n(?P<body>(?:    \"[^\"]+\",\n)+)\]")
IMPORT_BLOCK = re.compile(r"import \(\n(?P<body>(?:    \w+,\n)+)\)")


def _sorted_block(match: re.Match[str], opening: str, closing: str) -> str:
    lines = sorted(match.group("body").splitlines(keepends=True))
    return opening + "".join(lines) + closing


def render(text: str, values: dict[str, str]) -> str:
    """Fill the template tokens in ``text`` and sort its ``__all__`` and import lists."""
    for token, value in values.items():
        text = text.replace("{{" + token + "}}", value)
    text = ALL_BLOCK.sub(lambda m: _sorted_block(m, "__all__ = [\n", "]"), text)
    return IMPORT_BLOCK.sub(lambda m: _sorted_block(m, "import (\n", ")"), text)


def create(dist: str, summary: str, error_base: str) -> Path:
    """Copy the template to ``packages/<dist>`` with every token filled."""
    if not re.fullmatch(r"uh-[a-z][a-z0-9-]*", dist):
        raise SystemExit(f"dist: must look like 'uh-name', got {dist!r}")
    if not re.fullmatch(r"[A-Z][A-Za-z]*Error", error_base):
        raise SystemExit("error_base: must be a CamelCase name ending in 'Error'")
    module = dist.removeprefix("uh-").replace("-", "_")
    target = ROOT / "packages" / dist
    if target.exists():
        raise SystemExit(f"{target.relative_to(ROOT)} exists already")
    values = {"dist": dist, "module": module, "summary": summary, "error_base": error_base}
    for source in sorted(TEMPLATE.rglob("*")):
        relative = source.relative_to(TEMPLATE)
        destination = target / Path(*(module if p == "__module__" else p for p in relative.parts))
        if source.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.suffix in {".py", ".md", ".toml", ".txt"}:
            destination.write_text(render(source.read_text(), values))
        else:
            shutil.copyfile(source, destination)
    return target


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and create the package."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist", help="distribution name, e.g. uh-widgets")
    parser.add_argument("summary", help="one-line description")
    parser.add_argument("error_base", help="base error class, e.g. WidgetsError")
    args = parser.parse_args(argv)
    target = create(args.dist, args.summary, args.error_base)
    print(f"created {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
