"""Finding a user's events in the spill store when their consent is withdrawn.

Spilled records (format ``v2``) hold only pseudonymous ids, so they are matched on every id the
user may have been spilled under (`unified_health.analytics._outbound.outbound_ids`).
"""

from __future__ import annotations

import json
from collections.abc import Collection

__all__ = ["withdrawn_record"]

_ID_FIELDS = ("distinct_id", "user_id", "device_id")


def withdrawn_record(
    raw: bytes, subject: str, ids: Collection[str], allowed: Collection[str]
) -> bool:
    """Whether a spilled record is ``subject``'s and its category is no longer ``allowed``.

    Records that cannot be read are left alone (the replay counts them as it does today).

    Examples:
        >>> record = b'{"v": 2, "category": "analytics", "ids": {"distinct_id": "k1_ab"}}'
        >>> withdrawn_record(record, "user-1", {"k1_ab"}, {"essential"})
        True
        >>> withdrawn_record(record, "user-1", {"k1_ab"}, {"essential", "analytics"})
        False
    """
    try:
        data = json.loads(raw)
    except ValueError:
        return False
    if not isinstance(data, dict) or data.get("category") in allowed:
        return False
    if data.get("v") == 1:  # written by older versions, with raw ids
        return subject in (data.get("user_id"), data.get("anonymous_id"))
    found = data.get("ids")
    if not isinstance(found, dict):
        return False
    return any(found.get(name) in ids for name in _ID_FIELDS)
