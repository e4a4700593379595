"""Argument checks shared by every store, so all of them refuse the same input."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from unified_health.status_page._errors import ConflictError, InvalidInputError

__all__ = [
    "check_key",
    "check_limit",
    "check_number",
    "check_version",
    "conflict",
    "decode_state",
    "encode_state",
]


def check_key(value: object, field: str) -> str:
    """Return ``value`` if it is a usable key (1 to 200 printable characters)."""
    if not isinstance(value, str) or not 0 < len(value) <= 200:
        raise InvalidInputError(field, "must be a str of 1 to 200 characters")
    if any(ord(char) < 33 or ord(char) == 127 for char in value):
        raise InvalidInputError(field, "must not contain spaces or control characters")
    return value


def check_number(value: object, field: str, *, positive: bool = True) -> float:
    """Return ``value`` as a float if it is a finite (positive) int or float, not a bool."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(field, "must be a finite number")
    if positive and value <= 0:
        raise InvalidInputError(field, "must be > 0")
    return float(value)


def check_limit(value: object) -> int:
    """Return ``value`` if it is an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError("limit", "must be an int >= 1")
    return value


def check_version(value: object) -> int:
    """Return ``value`` if it is an int >= 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError("expected_version", "must be an int >= 0")
    return value


def encode_state(state: object) -> str:
    """Return the page state as compact JSON, or raise `InvalidInputError`."""
    if not isinstance(state, Mapping):
        raise InvalidInputError("state", "must be a mapping")
    try:
        return json.dumps(state, separators=(",", ":"), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidInputError("state", "must hold only JSON values") from None


def decode_state(payload: str | bytes) -> dict[str, Any]:
    """Decode a stored page state."""
    decoded: dict[str, Any] = json.loads(payload)
    return decoded


def conflict(expected: int, current: int) -> ConflictError:
    """The error for a failed version check (numbers only)."""
    return ConflictError(f"page state is at version {current}, the write expected {expected}")
