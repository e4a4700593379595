"""The family demo: which Unified Health packages are installed, and what each one is.

Run it with ``nox -s demo``, which installs every package into a fresh environment first.
"""

from __future__ import annotations

import importlib
import importlib.metadata

FAMILY = [
    ("uh-feature-flags", "unified_health.feature_flags"),
    ("uh-analytics", "unified_health.analytics"),
    ("uh-status-page", "unified_health.status_page"),
    ("uh-support", "unified_health.support"),
    ("uh-knowledge-base", "unified_health.knowledge_base"),
    ("uh-billing", "unified_health.billing"),
    ("uh-impersonation", "unified_health.impersonation"),
]


def main() -> int:
    """Print one line per package: distribution, version, import name and summary."""
    missing = 0
    for dist, import_name in FAMILY:
        try:
            module = importlib.import_module(import_name)
        except ImportError:
            print(f"{dist:<20} not installed")
            missing += 1
            continue
        summary = importlib.metadata.metadata(dist)["Summary"]
        print(f"{dist:<20} {module.__version__:<8} {import_name:<32} {summary}")
    return 1 if missing == len(FAMILY) else 0


if __name__ == "__main__":
    raise SystemExit(main())
