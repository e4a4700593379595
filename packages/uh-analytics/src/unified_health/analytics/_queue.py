"""A bounded event queue (by count and by bytes) with a counted drop policy.

Each provider has its own queue so that a slow or failing vendor never holds up the others.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Literal

from unified_health.analytics._models import Event

__all__ = ["DropPolicy", "EventQueue"]

DropPolicy = Literal["drop_newest", "drop_oldest"]


class EventQueue:
    """FIFO of events bounded by ``max_events`` and ``max_bytes``.

    When full, ``drop_newest`` refuses the incoming event and ``drop_oldest`` evicts the oldest
    ones until the new event fits; either way `put` returns what was dropped so it can be
    counted (or spilled). Events taken out for delivery stay inside the bounds until they are
    released (sent, spilled or dropped), so the bounds cover in-flight batches too.

    Examples:
        >>> q = EventQueue(max_events=1, max_bytes=1_000)
        >>> e = Event("track", "a", {}, None, "anon-1", "analytics", 0.0, "1", size=10)
        >>> q.put(e), len(q.put(e))
        ([], 1)
    """

    def __init__(
        self, *, max_events: int, max_bytes: int, policy: DropPolicy = "drop_newest"
    ) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.policy = policy
        self._items: deque[Event] = deque()
        self._bytes = 0
        self._held_events = 0
        self._held_bytes = 0
        self.lock = threading.Lock()
        self.ready = threading.Condition(self.lock)
        self.notify_at = 1

    def reset_after_fork(self) -> None:
        """Fresh lock and condition for a forked child; inherited events are left to the parent."""
        self._items = deque()
        self._bytes = 0
        self._held_events = 0
        self._held_bytes = 0
        self.lock = threading.Lock()
        self.ready = threading.Condition(self.lock)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes(self) -> int:
        """Bytes currently held (the sum of the events' serialised sizes)."""
        return self._bytes

    @property
    def held(self) -> int:
        """Events taken out for delivery and not yet released."""
        return self._held_events

    def has_room(self) -> bool:
        """Whether one more average-sized event would fit (in-flight events count)."""
        with self.lock:
            count = len(self._items) + self._held_events
            size = self._bytes + self._held_bytes
            return count < self.max_events and size < self.max_bytes

    def release(self, count: int, size: int) -> None:
        """Give back the room of ``count`` taken events (``size`` bytes) that are now settled."""
        if count:
            with self.lock:
                self._held_events -= count
                self._held_bytes -= size

    def _over(self, size: int) -> bool:
        count = len(self._items) + self._held_events
        return count >= self.max_events or self._bytes + self._held_bytes + size > self.max_bytes

    def put(self, event: Event) -> list[Event]:
        """Append ``event``; return the events dropped to respect the bounds (maybe ``event``)."""
        size = event.size
        with self.lock:
            items = self._items
            if self._over(size):
                if self.policy == "drop_newest" or size > self.max_bytes:
                    return [event]
                evicted: list[Event] = []
                while items and self._over(size):
                    old = items.popleft()
                    self._bytes -= old.size
                    evicted.append(old)
                if self._over(size):  # in-flight events alone fill the bounds
                    return [*evicted, event]
                items.append(event)
                self._bytes += size
                return evicted
            items.append(event)
            self._bytes += size
            if len(items) >= self.notify_at:
                self.ready.notify()
            return []

    def take(self, max_events: int) -> list[Event]:
        """Remove and return up to ``max_events`` events, oldest first. Caller holds no lock."""
        with self.lock:
            return self._take_locked(max_events)

    def _take_locked(self, max_events: int) -> list[Event]:
        items = self._items
        if len(items) <= max_events:  # the common case: take the whole deque in O(1)
            self._items = deque()
            self._held_events += len(items)
            self._held_bytes += self._bytes
            self._bytes = 0
            return list(items)
        out = [items.popleft() for _ in range(max_events)]
        size = sum(e.size for e in out)
        self._bytes -= size
        self._held_events += len(out)
        self._held_bytes += size
        return out

    def take_locked(self, max_events: int) -> list[Event]:
        """Like `take`, for a caller already holding ``lock``."""
        return self._take_locked(max_events)

    def purge(self, predicate: Callable[[Event], bool]) -> list[Event]:
        """Remove and return every queued event for which ``predicate`` is true."""
        with self.lock:
            kept: deque[Event] = deque()
            removed: list[Event] = []
            for event in self._items:
                (removed if predicate(event) else kept).append(event)
            if removed:
                self._items = kept
                self._bytes -= sum(e.size for e in removed)
            return removed
