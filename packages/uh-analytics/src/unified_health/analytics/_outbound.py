"""The pseudonymous view of events and users: what a vendor may see instead of raw ids.

`to_outbound` runs on the sender threads, once per event (the result is cached on the event and
shared by every provider); `outbound_ids` lists every id a user may have been sent under.
"""

from __future__ import annotations

from collections.abc import Callable

from unified_health.analytics._identity import (
    KeyedPseudonymizer,
    LookupPseudonymizer,
    Pseudonymizer,
)
from unified_health.analytics._models import Event
from unified_health.analytics.providers._base import OutboundEvent

__all__ = ["outbound_ids", "to_outbound"]


def to_outbound(event: Event, pseudonymizer: Pseudonymizer) -> OutboundEvent:
    """Pseudonymise ``event``'s ids (user, device, groups, previous id) and cache the result.

    Examples:
        >>> from unified_health.analytics import HmacPseudonymizer
        >>> hmac = HmacPseudonymizer({"k1": b"0123456789abcdef0123456789abcdef"})
        >>> event = Event("track", "page_viewed", {}, "user-1", None, "analytics", 1.0, "0" * 32)
        >>> out = to_outbound(event, hmac)
        >>> out.distinct_id == out.user_id == hmac.pseudonymize("user-1")
        True
    """
    cached: OutboundEvent | None = event.outbound
    if cached is not None:  # built by another provider's lane, or restored from the spill
        return cached
    pseudo = pseudonymizer.pseudonymize
    uid = pseudo(event.user_id, "user") if event.user_id else None
    dev = pseudo(event.anonymous_id, "device") if event.anonymous_id else None
    groups = {t: pseudo(k, f"group:{t}") for t, k in event.groups.items()} if event.groups else None
    event.outbound = out = OutboundEvent(
        kind=event.kind,
        name=event.name,
        properties=event.properties,
        properties_json=event.properties_json,
        distinct_id=uid or dev or pseudo(event.insert_id, "device"),
        user_id=uid,
        device_id=dev,
        timestamp=event.timestamp,
        insert_id=event.insert_id,
        groups=groups,
        traits=event.traits,
        previous_id=pseudo(event.previous_id, "device") if event.previous_id else None,
        group_type=event.group_type,
        group_key=(
            pseudo(event.group_key, f"group:{event.group_type}") if event.group_key else None
        ),
    )
    return out


def outbound_ids(pseudonymizer: Pseudonymizer, subject: str) -> frozenset[str]:
    """Every pseudonymous id ``subject`` may have been sent or spilled under.

    As a user and as a device, under the active key and, for keyed hashes, the previous keys.
    A pseudonymiser with a ``lookup`` method (surrogate ids) is only asked for ids it already
    has: finding a user's events must not create a mapping for them.

    Examples:
        >>> from unified_health.analytics import HmacPseudonymizer
        >>> hmac = HmacPseudonymizer({"k1": b"0123456789abcdef0123456789abcdef"})
        >>> len(outbound_ids(hmac, "user-1"))
        2
    """
    found: set[str] = set()
    lookup: Callable[[str, str], str | None] | None = (
        pseudonymizer.lookup if isinstance(pseudonymizer, LookupPseudonymizer) else None
    )
    previous: Callable[[str, str], list[str]] | None = (
        pseudonymizer.previous_ids if isinstance(pseudonymizer, KeyedPseudonymizer) else None
    )
    for kind in ("user", "device"):
        if lookup is not None:
            existing = lookup(subject, kind)
            if existing is not None:
                found.add(existing)
            continue
        found.add(pseudonymizer.pseudonymize(subject, kind))
        if previous is not None:
            found.update(previous(subject, kind))
    return frozenset(found)
