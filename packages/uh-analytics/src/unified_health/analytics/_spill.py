"""The spill store's record of an event, and back.

Spilled events hold pseudonymous ids only (format ``v2``); raw ids never reach the spill store.
The process that spilled an event remembers its raw subject (a bounded map, oldest forgotten
first) so that its own replay re-checks consent with it; an event replayed by another process
was checked right before it was spilled.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

from unified_health.analytics._errors import StoreUnavailableError
from unified_health.analytics._models import Event
from unified_health.analytics.providers._base import OutboundEvent, dumps

__all__ = ["SpillCodec"]

SUBJECTS_KEPT = 100_000


class SpillCodec:
    """Encode events for the spill store and restore them (thread-safe).

    Args:
        to_outbound: Pseudonymises an event (``None`` when it cannot).
        keep: How many raw subjects of spilled events to remember.

    Examples:
        >>> from unified_health.analytics import HmacPseudonymizer
        >>> from unified_health.analytics._outbound import to_outbound
        >>> ids = HmacPseudonymizer({"k1": b"0123456789abcdef0123456789abcdef"})
        >>> codec = SpillCodec(lambda e: to_outbound(e, ids))
        >>> event = Event("track", "e", {"n": 1}, "user-1", None, "analytics", 0.0, "id-1")
        >>> raw = codec.encode(event)
        >>> b"user-1" in raw, codec.decode(raw).user_id
        (False, 'user-1')
    """

    def __init__(
        self, to_outbound: Callable[[Event], OutboundEvent | None], keep: int = SUBJECTS_KEPT
    ) -> None:
        self._to_outbound = to_outbound
        self._keep = max(1, keep)
        self._lock = threading.Lock()
        # insert id -> (user_id, anonymous_id) of the events this process spilled
        self._subjects: dict[str, tuple[str | None, str | None]] = {}

    def reset_after_fork(self) -> None:
        """A fresh lock for a forked child (the parent's may have been held)."""
        self._lock = threading.Lock()

    @property
    def remembered(self) -> int:
        """How many raw subjects are remembered now (at most ``keep``)."""
        with self._lock:
            return len(self._subjects)

    def encode(self, event: Event, *, remember: bool = True) -> bytes:
        """The spill store's record of ``event``: pseudonymous ids only (format ``v2``).

        With ``remember`` the raw subject is kept for this process's own replay.
        """
        out = self._to_outbound(event)
        if out is None:
            raise StoreUnavailableError("pseudonymisation failed")
        if remember and (event.user_id is not None or event.anonymous_id is not None):
            with self._lock:  # the spill writer and the senders spill at the same time
                kept = self._subjects
                while len(kept) >= self._keep:
                    kept.pop(next(iter(kept)))
                kept[event.insert_id] = (event.user_id, event.anonymous_id)
        return dumps(
            {
                "v": 2,
                "kind": event.kind,
                "name": event.name,
                "properties": event.properties,
                "category": event.category,
                "timestamp": event.timestamp,
                "insert_id": event.insert_id,
                "traits": event.traits,
                "group_type": event.group_type,
                "ids": {
                    "distinct_id": out.distinct_id,
                    "user_id": out.user_id,
                    "device_id": out.device_id,
                    "groups": out.groups,
                    "previous_id": out.previous_id,
                    "group_key": out.group_key,
                },
            }
        )

    def decode(self, raw: bytes) -> Event:
        """Rebuild a spilled event (``v1`` records, written by older versions, hold raw ids)."""
        data = json.loads(raw)
        if data.get("v") == 1:
            return Event.from_json(raw)
        ids = data["ids"]
        props = data["properties"]
        is_profile = data["kind"] in ("identify", "group")
        body = None if is_profile else dumps(props)
        with self._lock:
            user_id, anonymous_id = self._subjects.pop(data["insert_id"], (None, None))
        return Event(
            kind=data["kind"],
            name=data["name"],
            properties=props,
            user_id=user_id,
            anonymous_id=anonymous_id,
            category=data["category"],
            timestamp=float(data["timestamp"]),
            insert_id=data["insert_id"],
            traits=data.get("traits"),
            group_type=data.get("group_type"),
            size=len(raw),
            properties_json=body,
            outbound=OutboundEvent(
                kind=data["kind"],
                name=data["name"],
                properties=props,
                properties_json=body,
                distinct_id=ids["distinct_id"],
                user_id=ids.get("user_id"),
                device_id=ids.get("device_id"),
                timestamp=float(data["timestamp"]),
                insert_id=data["insert_id"],
                groups=ids.get("groups"),
                traits=data.get("traits"),
                previous_id=ids.get("previous_id"),
                group_type=data.get("group_type"),
                group_key=ids.get("group_key"),
            ),
        )
