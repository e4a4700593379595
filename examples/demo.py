"""The family demo: a short walkthrough of what each installed package does, on embedded defaults.

Run it with ``nox -s demo``, which installs every package into a fresh environment first. Each
package contributes one step module in ``examples/walkthrough/`` (the package generator writes a
first one); the demo runs them in the order of the README's package table, and says so when a
package is not installed. Nothing here needs a network, Redis or a vendor account.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STEPS = HERE / "walkthrough"


def family() -> list[str]:
    """Distribution names in the order of the README's package table."""
    return re.findall(r"^\| \[(uh-[a-z-]+)\]", (ROOT / "README.md").read_text(), flags=re.M)


def load_step(dist: str) -> ModuleType | None:
    """The walkthrough module of ``dist``, or ``None`` when the package has none."""
    path = STEPS / f"{dist.removeprefix('uh-').replace('-', '_')}.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"walkthrough_{path.stem}", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # so pydantic models in the step can resolve their types
    spec.loader.exec_module(module)
    return module


def say(line: str) -> None:
    """Print one line of a step, indented under its package."""
    print(f"    {line}")


def main() -> int:
    """Run every installed package's walkthrough step; non-zero if one fails or none ran."""
    ran = failed = 0
    for dist in family():
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            print(f"\n{dist}: not installed")
            continue
        summary = importlib.metadata.metadata(dist)["Summary"]
        print(f"\n{dist} {version}: {summary}")
        step = load_step(dist)
        if step is None:
            say("(no walkthrough step yet)")
            continue
        try:
            step.run(say)
        except Exception as exc:  # noqa: BLE001 - the demo reports and goes on to the next package
            say(f"FAILED: {type(exc).__name__}: {exc}")
            failed += 1
        else:
            ran += 1
    print(f"\n{ran} packages shown, {failed} failed")
    return 1 if failed or not ran else 0


if __name__ == "__main__":
    sys.exit(main())
