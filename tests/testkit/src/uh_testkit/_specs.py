"""Vendors' published specifications, read by tests from outside the repository.

They live in ``$UH_VENDOR_SPECS`` or in ``../shared/vendor-specs`` beside the repository and are
never copied into it. A test that needs one calls `vendor_spec`: without the file it skips with
the reason, or fails when ``UH_REQUIRE_VENDOR_SPECS=1`` (as CI sets when the folder is there).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["vendor_spec", "vendor_specs_dir"]

_REPOSITORY = Path(__file__).resolve().parents[4]


def vendor_specs_dir() -> Path:
    """``$UH_VENDOR_SPECS``, else ``vendor-specs`` in the ``shared`` folder beside the repo."""
    root = os.environ.get("UH_VENDOR_SPECS")
    return Path(root) if root else _REPOSITORY.parent / "shared" / "vendor-specs"


def vendor_spec(*parts: str) -> Path:
    """The path of a vendor's file; skip (or fail, when required) the test if it is missing."""
    path = vendor_specs_dir().joinpath(*parts)
    if not path.is_file():
        reason = f"{'/'.join(parts)} not found under {vendor_specs_dir()} (set UH_VENDOR_SPECS)"
        if os.environ.get("UH_REQUIRE_VENDOR_SPECS", "") not in {"", "0", "false", "no"}:
            pytest.fail(f"UH_REQUIRE_VENDOR_SPECS=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return path
