"""Finding a user's events in the spill store when their consent is withdrawn.

Spilled records (format ``v2``) hold only pseudonymous ids, so the user's raw id is turned into
every id a vendor may have been sent for them (as a user and as a device, under the active key
and, for keyed hashes, under the previous keys) and the records are matched on those.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection

from unified_health.analytics._identity import Pseudonymizer

__all__ = ["outbound_ids", "withdrawn_record"]

_ID_FIELDS = ("distinct_id", "user_id", "device_id")


def outbound_ids(pseudonymizer: Pseudonymizer, subject: str) -> frozenset[str]:
    """Every pseudonymous id ``subject`` may have been spilled under.

    Examples:
        >>> from unified_health.analytics import HmacPseudonymizer
        >>> hmac = HmacPseudonymizer({"k1": b"0123456789abcdef0123456789abcdef"})
        >>> len(outbound_ids(hmac, "user-1"))  # as a user and as a device
        2
    """
    found: set[str] = set()
    previous: Callable[[str, str], list[str]] | None = getattr(pseudonymizer, "previous_ids", None)
    for kind in ("user", "device"):
        found.add(pseudonymizer.pseudonymize(subject, kind))
        if previous is not None:
            found.update(previous(subject, kind))
    return frozenset(found)


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
