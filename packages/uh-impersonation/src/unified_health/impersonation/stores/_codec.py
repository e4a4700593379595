"""Checks and encoding shared by every record store, so all of them refuse the same input."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

from unified_health.impersonation._errors import ConflictError, InvalidInputError
from unified_health.impersonation._models import Record

__all__ = ["check_expected_version", "check_key", "decode", "encode_data"]

_MAX_KEY_LENGTH = 256


def check_key(key: object) -> str:
    """Return ``key`` if it is a usable record key, else raise `InvalidInputError`."""
    if not isinstance(key, str):
        raise InvalidInputError("key", "must be a str")
    if not 0 < len(key) <= _MAX_KEY_LENGTH:
        raise InvalidInputError("key", f"must be 1 to {_MAX_KEY_LENGTH} characters")
    if any(ord(char) < 32 or ord(char) == 127 for char in key):
        raise InvalidInputError("key", "must not contain control characters")
    return key


def _check_json(value: object, field: str, depth: int = 0) -> None:
    if depth > 32:
        raise InvalidInputError(field, "must not nest deeper than 32 levels")
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError(field, "must be a finite number")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_json(item, f"{field}.{index}", depth + 1)
        return
    if isinstance(value, Mapping):
        for name, item in value.items():
            if not isinstance(name, str):
                raise InvalidInputError(field, "must have str keys")
            _check_json(item, f"{field}.{name}", depth + 1)
        return
    raise InvalidInputError(field, "must hold only str, int, float, bool, None, lists and dicts")


def encode_data(data: object) -> str:
    """Return ``data`` as compact JSON, or raise `InvalidInputError` naming the bad field."""
    if not isinstance(data, Mapping):
        raise InvalidInputError("data", "must be a mapping")
    _check_json(data, "data")
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


def check_expected_version(expected: object) -> int | None:
    """Return ``expected`` if it is ``None`` or a non-negative int, else raise."""
    if expected is None:
        return None
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise InvalidInputError("expected_version", "must be None or an int >= 0")
    return expected


def conflict(key: str, expected: int, current: int) -> ConflictError:
    """The error for a failed version check (ids and numbers only)."""
    return ConflictError(f"record {key!r} is at version {current}, the write expected {expected}")


def decode(key: str, version: int, payload: str | bytes) -> Record:
    """Build a `Record` from its stored JSON."""
    return Record(key=key, version=version, data=json.loads(payload))
