"""In-memory stores: the embedded defaults, thread-safe, lost when the process exits."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence

__all__ = ["InMemoryConsentStore", "InMemorySpillStore", "InMemorySurrogateIdStore"]


class InMemoryConsentStore:
    """Consent records in a dict.

    Examples:
        >>> store = InMemoryConsentStore()
        >>> store.set_consent("user-1", {"essential", "analytics"})
        >>> sorted(store.get_consent("user-1"))
        ['analytics', 'essential']
    """

    #: Lookups never leave the process, so `track()` may consult this store directly.
    in_process = True

    def __init__(self) -> None:
        self._records: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()

    def reset_after_fork(self) -> None:
        """Give a forked child a fresh lock (another thread may have held it at fork time)."""
        self._lock = threading.Lock()

    def get_consent(self, user_id: str) -> frozenset[str] | None:
        """Return the user's categories, or ``None``."""
        return self._records.get(user_id)

    def get_consents(self, user_ids: Sequence[str]) -> dict[str, frozenset[str]]:
        """Return the records of the users that have one."""
        records = self._records
        return {uid: records[uid] for uid in user_ids if uid in records}

    def set_consent(self, user_id: str, categories: Iterable[str]) -> None:
        """Replace the user's categories."""
        with self._lock:
            self._records[user_id] = frozenset(categories)

    def delete_consent(self, user_id: str) -> None:
        """Forget the user's record. Idempotent."""
        with self._lock:
            self._records.pop(user_id, None)


class InMemorySurrogateIdStore:
    """Surrogate ids in a dict (stable for the life of the process).

    Examples:
        >>> InMemorySurrogateIdStore().get_or_create("user", "u-1", "s_abc")
        's_abc'
    """

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def reset_after_fork(self) -> None:
        """Give a forked child a fresh lock (another thread may have held it at fork time)."""
        self._lock = threading.Lock()

    def get_or_create(self, kind: str, raw_id: str, candidate: str) -> str:
        """Return the surrogate of ``raw_id``, storing ``candidate`` when there is none."""
        with self._lock:
            return self._ids.setdefault((kind, raw_id), candidate)

    def get(self, kind: str, raw_id: str) -> str | None:
        """Return the surrogate of ``raw_id`` if it has one."""
        with self._lock:
            return self._ids.get((kind, raw_id))


class InMemorySpillStore:
    """A spill store that only survives as long as the process (useful in tests).

    Examples:
        >>> spill = InMemorySpillStore()
        >>> spill.size("mixpanel")
        0
    """

    def __init__(self) -> None:
        self._lanes: dict[str, deque[bytes]] = {}
        self._lock = threading.Lock()

    def reset_after_fork(self) -> None:
        """Give a forked child a fresh lock (another thread may have held it at fork time)."""
        self._lock = threading.Lock()

    def push(self, lane: str, items: Sequence[bytes]) -> None:
        """Append events to a lane."""
        with self._lock:
            self._lanes.setdefault(lane, deque()).extend(items)

    def pop(self, lane: str, count: int) -> list[bytes]:
        """Remove and return up to ``count`` events, oldest first."""
        with self._lock:
            queue = self._lanes.get(lane)
            if not queue:
                return []
            return [queue.popleft() for _ in range(min(count, len(queue)))]

    def size(self, lane: str) -> int:
        """Return how many events wait in the lane."""
        with self._lock:
            return len(self._lanes.get(lane, ()))

    def remove_if(self, lane: str, predicate: Callable[[bytes], bool]) -> int:
        """Remove the lane's events for which ``predicate`` is true; return how many."""
        with self._lock:
            queue = self._lanes.get(lane)
            if not queue:
                return 0
            kept = deque(item for item in queue if not predicate(item))
            removed = len(queue) - len(kept)
            self._lanes[lane] = kept
            return removed
