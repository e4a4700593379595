"""The in-memory `StatusPageStore`: the embedded default, thread-safe, for one process."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from unified_health.status_page._clock import Clock, SystemClock
from unified_health.status_page.stores._checks import (
    check_key,
    check_limit,
    check_number,
    check_version,
    conflict,
    decode_state,
    encode_state,
)

__all__ = ["InMemoryStatusPageStore"]


class InMemoryStatusPageStore:
    """A `StatusPageStore` in memory: shared by the threads of one process, not across processes.

    Args:
        clock: Measures lock leases; the system clock by default.

    Examples:
        >>> store = InMemoryStatusPageStore()
        >>> [store.take_slot("token", now=100.0, limit=2, window=60.0) for _ in range(3)]
        [0.0, 0.0, 60.0]
        >>> store.acquire_lock("outage-1", "worker-a", ttl=30)
        True
        >>> store.acquire_lock("outage-1", "worker-b", ttl=30)
        False
        >>> store.save_page({"components": []}, expected_version=0)
        1
    """

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._lock = threading.Lock()
        self._logs: dict[str, deque[float]] = {}
        self._pauses: dict[str, float] = {}
        self._leases: dict[str, tuple[str, float]] = {}
        self._incidents: dict[str, str] = {}
        self._page: tuple[int, str] = (0, "{}")

    def take_slot(self, bucket: str, *, now: float, limit: int, window: float) -> float:
        """Admit one request at ``now`` if fewer than ``limit`` were admitted in ``window`` s."""
        check_key(bucket, "bucket")
        check_number(now, "now")
        check_limit(limit)
        check_number(window, "window")
        with self._lock:
            paused = self._pauses.get(bucket, 0.0)
            if paused > now:
                return paused - now
            log = self._logs.setdefault(bucket, deque())
            while log and log[0] <= now - window:
                log.popleft()
            if len(log) < limit:
                log.append(now)
                return 0.0
            return max(log[len(log) - limit] + window - now, 1e-3)

    def pause_bucket(self, bucket: str, *, until: float) -> None:
        """Admit nothing in ``bucket`` before ``until``; a longer pause already set stays."""
        check_key(bucket, "bucket")
        check_number(until, "until")
        with self._lock:
            self._pauses[bucket] = max(self._pauses.get(bucket, 0.0), until)

    def acquire_lock(self, name: str, owner: str, *, ttl: float) -> bool:
        """Take the lease ``name`` for ``owner``; re-taking one's own lease renews it."""
        check_key(name, "name")
        check_key(owner, "owner")
        check_number(ttl, "ttl")
        now = self._clock.monotonic()
        with self._lock:
            held = self._leases.get(name)
            if held is not None and held[1] > now and held[0] != owner:
                return False
            self._leases[name] = (owner, now + ttl)
            return True

    def release_lock(self, name: str, owner: str) -> bool:
        """Release the lease if ``owner`` holds it."""
        check_key(name, "name")
        check_key(owner, "owner")
        with self._lock:
            held = self._leases.get(name)
            if held is None or held[0] != owner or held[1] <= self._clock.monotonic():
                return False
            del self._leases[name]
            return True

    def get_open_incident(self, fingerprint: str) -> str | None:
        """Return the id of the outage's open incident, or ``None``."""
        check_key(fingerprint, "fingerprint")
        with self._lock:
            return self._incidents.get(fingerprint)

    def set_open_incident(self, fingerprint: str, incident_id: str) -> None:
        """Remember the incident that reports the outage."""
        check_key(fingerprint, "fingerprint")
        check_key(incident_id, "incident_id")
        with self._lock:
            self._incidents[fingerprint] = incident_id

    def clear_open_incident(self, fingerprint: str, incident_id: str) -> bool:
        """Forget the outage's incident if it is still ``incident_id``."""
        check_key(fingerprint, "fingerprint")
        check_key(incident_id, "incident_id")
        with self._lock:
            if self._incidents.get(fingerprint) != incident_id:
                return False
            del self._incidents[fingerprint]
            return True

    def load_page(self) -> tuple[int, dict[str, Any]]:
        """Return the page's version and state (``(0, {})`` before the first save)."""
        with self._lock:
            version, payload = self._page
        return version, decode_state(payload)

    def save_page(self, state: Mapping[str, Any], *, expected_version: int) -> int:
        """Write the page state over ``expected_version``; return the new version."""
        expected = check_version(expected_version)
        payload = encode_state(state)
        with self._lock:
            current = self._page[0]
            if current != expected:
                raise conflict(expected, current)
            self._page = (current + 1, payload)
            return current + 1

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> InMemoryStatusPageStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
