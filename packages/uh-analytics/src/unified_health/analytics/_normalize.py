"""The bad-input rules for event names and properties, applied before anything is queued.

Properties (before the sanitiser):

==========================================  =============================================
input                                        rule (counted under ``adjusted[...]``)
==========================================  =============================================
key not a string, empty, over 255 chars,     property removed (``invalid_property_name``)
control characters, leading ``$``
key reserved by a vendor or for identity     property removed (``reserved_property_name``)
(``distinct_id``, ``user_id``, ``ip``, ...)
more than ``max_properties`` properties      extras removed (``too_many_properties``)
``None``, bool, int, finite float, str       kept
NaN / infinity, bytes, arbitrary objects     property removed (``unserialisable``)
aware ``datetime`` / ``date``                ISO 8601 string
naive ``datetime``                           property removed (``naive_datetime``)
``Enum`` / ``Decimal`` / ``UUID``            value / float / string
mapping, list, tuple, set                    JSON object / array, depth <= 3 (``too_deep``),
                                             arrays <= 255 items (``list_truncated``)
==========================================  =============================================

Strings are scanned up to ``max_string_length`` plus `SCAN_MARGIN` characters, since the rest is
cut anyway. After the sanitiser, strings longer than ``max_string_length`` are cut
(``truncated``) and any occurrence of the event's own raw user/anonymous id is replaced by
``[REDACTED:user_id]``. An event whose properties still exceed ``max_event_bytes`` of JSON is
dropped (``oversized``).
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from unified_health.analytics._scrub._declared import DeclaredText

__all__ = [
    "EVENT_NAME",
    "GROUP_TYPE",
    "MAX_DEPTH",
    "MAX_NODES",
    "RESERVED_KEYS",
    "SCAN_MARGIN",
    "finish",
    "prepare",
    "to_json",
]

#: Event names: a letter, then letters, digits, ``_ . : / -`` or spaces; at most 128 characters.
EVENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:/ \-]{0,127}$")
#: A group type (``clinic``, ``company``): an identifier, sent to vendors as it is.
GROUP_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
RESERVED_KEYS = frozenset(
    {
        "distinct_id",
        "user_id",
        "device_id",
        "anonymous_id",
        "insert_id",
        "uuid",
        "time",
        "timestamp",
        "token",
        "ip",
        "event",
        "event_type",
        "mp_lib",
        "api_key",
    }
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_KEY = 255
_MAX_DEPTH = 3
#: Containers nest at most this deep (deeper ones are removed, ``too_deep``).
MAX_DEPTH = _MAX_DEPTH
_MAX_LIST = 255
#: Values per event; past it the rest are removed (``too_large``), so work stays linear.
MAX_NODES = 5_000
_PRESCRUB_CAP = 65_536
#: Characters scanned past ``max_string_length``: longer than any identifier the sanitiser finds.
SCAN_MARGIN = 256
_USER_ID_MARKER = "[REDACTED:user_id]"
# Property names seen to pass the key rules; names repeat (they are the events' schemas).
_VALID_KEYS: set[str] = set()
_VALID_KEYS_LIMIT = 4_096


def _bump(counts: dict[str, int], rule: str) -> None:
    counts[rule] = counts.get(rule, 0) + 1


def _key_problem(key: object) -> str | None:
    if not isinstance(key, str) or not key or len(key) > _MAX_KEY:
        return "invalid_property_name"
    if key[0] == "$" or _CONTROL.search(key):
        return "invalid_property_name"
    if key.lower() in RESERVED_KEYS:
        return "reserved_property_name"
    return None


class _Budget:
    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = MAX_NODES


def _text(value: str, cap: int) -> str:
    """A plain ``str`` copy of at most ``cap`` characters.

    A declared free-text value keeps its type; other ``str`` subclasses become ``str`` without
    calling their methods.
    """
    if type(value) is str:
        return value if len(value) <= cap else value[:cap]
    plain = str.__getitem__(value, slice(0, cap))
    return DeclaredText(plain) if isinstance(value, DeclaredText) else plain


_SKIP: tuple[bool, Any] = (False, None)


def _value(
    value: Any, depth: int, counts: dict[str, int], cap: int, budget: _Budget
) -> tuple[bool, Any]:
    """Return (keep, json_value)."""
    budget.left -= 1
    if budget.left < 0:
        _bump(counts, "too_large")
        return _SKIP
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return _container(value, depth, counts, cap, budget)
    return _scalar(value, counts, cap)


def _scalar(value: Any, counts: dict[str, int], cap: int) -> tuple[bool, Any]:
    """A JSON scalar for ``value``, or (False, None) with the reason counted."""
    if value is None or isinstance(value, bool):
        return True, value
    if isinstance(value, int):
        return True, int(value)
    if isinstance(value, str):
        return True, _text(value, cap)
    if isinstance(value, float | Decimal):
        if math.isfinite(value):
            return True, float(value)
        _bump(counts, "unserialisable")
        return _SKIP
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            _bump(counts, "naive_datetime")
            return _SKIP
        return True, value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date | dt.time):
        return True, value.isoformat()
    if isinstance(value, uuid.UUID):
        return True, str(value)
    _bump(counts, "unserialisable")
    return _SKIP


def _container(
    value: Any, depth: int, counts: dict[str, int], cap: int, budget: _Budget
) -> tuple[bool, Any]:
    """A JSON object or array for a mapping or collection, within the depth and length limits."""
    if depth >= _MAX_DEPTH:
        _bump(counts, "too_deep")
        return _SKIP
    if isinstance(value, Mapping):
        return True, _mapping(value, depth + 1, counts, None, cap, budget)
    items = _items(value)
    if len(items) > _MAX_LIST:
        _bump(counts, "list_truncated")
        items = items[:_MAX_LIST]
    out = []
    for item in items:
        keep, clean = _value(item, depth + 1, counts, cap, budget)
        if keep:
            out.append(clean)
    return True, out


def _items(value: Any) -> list[Any]:
    """A list or tuple as it is; a set in a stable order (by type, then repr)."""
    if not isinstance(value, set | frozenset):
        return list(value)
    try:
        return sorted(value, key=lambda item: (type(item).__name__, repr(item)))
    except Exception:  # noqa: BLE001  (a hostile __repr__ or __lt__: keep the set's own order)
        return list(value)


def _mapping(
    data: Mapping[Any, Any],
    depth: int,
    counts: dict[str, int],
    limit: int | None,
    cap: int,
    budget: _Budget,
    top_rules: bool = True,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if depth == 0 and top_rules:
            if type(key) is not str or key not in _VALID_KEYS:
                problem = _key_problem(key)
                if problem:
                    _bump(counts, problem)
                    continue
                if type(key) is str and len(_VALID_KEYS) < _VALID_KEYS_LIMIT:
                    _VALID_KEYS.add(key)
        elif type(key) is not str or not key:
            if isinstance(key, str) and key:
                key = str.__getitem__(key, slice(None))
            else:
                _bump(counts, "invalid_property_name")
                continue
        if limit is not None and len(out) >= limit:
            _bump(counts, "too_many_properties")
            continue
        if budget.left <= 0:
            _bump(counts, "too_large")
            continue
        kind = type(value)
        if kind is str:  # the common cases first, without the general dispatch
            budget.left -= 1
            out[key] = value if len(value) <= cap else value[:cap]
        elif kind is int or kind is bool or value is None:
            budget.left -= 1
            out[key] = value
        else:
            keep, clean = _value(value, depth, counts, cap, budget)
            if keep:
                out[key] = clean
    return out


def prepare(
    properties: Mapping[Any, Any], max_properties: int, max_chars: int = _PRESCRUB_CAP
) -> tuple[dict[str, Any], dict[str, int]]:
    """Apply the pre-sanitiser rules; return JSON-ready properties and per-rule counts.

    Strings longer than ``max_chars`` are cut before they are scanned: the client passes its
    ``max_string_length`` plus a margin (`SCAN_MARGIN`), so an identifier that straddles the
    final cut is still seen whole and redacted, and nothing is scanned only to be thrown away.

    Examples:
        >>> import math
        >>> clean, counts = prepare({"ok": 1, "$bad": 2, "nan": math.nan, "ip": "1.2.3.4"}, 200)
        >>> clean
        {'ok': 1}
        >>> sorted(counts)
        ['invalid_property_name', 'reserved_property_name', 'unserialisable']
    """
    counts: dict[str, int] = {}
    return _mapping(properties, 0, counts, max_properties, max_chars, _Budget()), counts


def to_json(properties: Mapping[Any, Any], max_chars: int) -> tuple[dict[str, Any], dict[str, int]]:
    """The value rules of `prepare` alone (no reserved names, no property limit).

    The public `Sanitizer` applies them, so it gives the client's output for the same input.

    Examples:
        >>> import math
        >>> to_json({"ok": 1, "nan": math.nan, "ip": "1.2.3.4"}, 100)
        ({'ok': 1, 'ip': '1.2.3.4'}, {'unserialisable': 1})
    """
    counts: dict[str, int] = {}
    return _mapping(properties, 0, counts, None, max_chars, _Budget(), top_rules=False), counts


def _finish_value(value: Any, ids: tuple[str, ...], max_len: int, counts: dict[str, int]) -> Any:
    if isinstance(value, str):
        for raw in ids:
            if raw in value:
                value = value.replace(raw, _USER_ID_MARKER)
                _bump(counts, "user_id")
        if len(value) > max_len:
            _bump(counts, "truncated")
            value = value[:max_len]
        return value
    if isinstance(value, dict):
        return {k: _finish_value(v, ids, max_len, counts) for k, v in value.items()}
    if isinstance(value, list):
        return [_finish_value(v, ids, max_len, counts) for v in value]
    return value


def finish(
    properties: dict[str, Any], ids: tuple[str, ...], max_len: int
) -> tuple[dict[str, Any], dict[str, int]]:
    """Apply the post-sanitiser rules: scrub the event's own raw ids, cut long strings.

    Returns:
        The properties and counts; ``counts["user_id"]`` is a redaction, the rest adjustments.

    Examples:
        >>> finish({"note": "for user-42", "n": 1}, ("user-42",), 100)[0]
        {'note': 'for [REDACTED:user_id]', 'n': 1}
    """
    counts: dict[str, int] = {}
    ids = tuple(i for i in ids if len(i) >= 3)
    only = ids[0] if len(ids) == 1 else None  # the common case: one user or device id
    for key, value in properties.items():
        if type(value) is str:
            if len(value) > max_len or (
                only in value if only is not None else any(raw in value for raw in ids)
            ):
                properties[key] = _finish_value(value, ids, max_len, counts)
        elif isinstance(value, str | dict | list):
            properties[key] = _finish_value(value, ids, max_len, counts)
    return properties, counts
