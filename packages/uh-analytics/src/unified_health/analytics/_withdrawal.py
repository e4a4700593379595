"""Finding a user's events in the spill store when their consent is withdrawn.

Spilled records (format ``v2``) hold only pseudonymous ids, so they are matched on every id the
user may have been spilled under (`unified_health.analytics._outbound.outbound_ids`).
"""

from __future__ import annotations

import json
from collections.abc import Collection

__all__ = ["withdrawn_record"]


def withdrawn_record(
    raw: bytes, subject: str, ids: Collection[str], allowed: Collection[str]
) -> bool:
    """Whether a spilled record is ``subject``'s and its category is no longer ``allowed``.

    The record's subject is its ``distinct_id``, the id consent is kept under (the user's when
    the event had one, else the device's): a device's withdrawal leaves a signed-in user's events
    on that device alone. Records that cannot be read are left alone (the replay counts them).

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
    if not isinstance(data, dict):
        return False
    category = data.get("category")
    if not isinstance(category, str) or category in allowed:
        return False
    if data.get("v") == 1:  # written by older versions, with raw ids
        return (data.get("user_id") or data.get("anonymous_id")) == subject
    found = data.get("ids")
    distinct_id = found.get("distinct_id") if isinstance(found, dict) else None
    return isinstance(distinct_id, str) and distinct_id in ids
