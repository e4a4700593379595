"""Thread-safe counters behind `AnalyticsClient.metrics()`: counts only, never values."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping

from unified_health.analytics._models import MetricsSnapshot

__all__ = ["Metrics"]


class Metrics:
    """Counters for enqueued, sent, retried, dropped (by reason), redacted (by category).

    Examples:
        >>> m = Metrics()
        >>> m.drop("no_consent")
        >>> m.snapshot().dropped["no_consent"]
        1
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._enqueued = 0
        self._spilled = 0
        self._sent: Counter[str] = Counter()
        self._retried: Counter[str] = Counter()
        self._dropped: Counter[str] = Counter()
        self._redacted: Counter[str] = Counter()
        self._adjusted: Counter[str] = Counter()
        self._queued: Callable[[], Mapping[str, int]] = dict

    def reset_lock(self) -> None:
        """Give a forked child a fresh lock (the parent's may have been held at fork time)."""
        self._lock = threading.Lock()

    def set_queue_probe(self, probe: Callable[[], Mapping[str, int]]) -> None:
        """Tell the snapshot how to read the current queue depths."""
        self._queued = probe

    def enqueue(self) -> None:
        """Count one accepted event."""
        with self._lock:
            self._enqueued += 1

    def sent(self, provider: str, count: int) -> None:
        """Count events a vendor accepted."""
        if count:
            with self._lock:
                self._sent[provider] += count

    def retried(self, provider: str, count: int = 1) -> None:
        """Count repeated delivery attempts."""
        with self._lock:
            self._retried[provider] += count

    def drop(self, reason: str, count: int = 1) -> None:
        """Count dropped events by reason."""
        if count:
            with self._lock:
                self._dropped[reason] += count

    def spilled(self, count: int) -> None:
        """Count events written to the spill store."""
        with self._lock:
            self._spilled += count

    def redacted(self, counts: Mapping[str, int]) -> None:
        """Add the sanitiser's per-category redaction counts."""
        if counts:
            with self._lock:
                self._redacted.update(counts)

    def adjusted(self, counts: Mapping[str, int]) -> None:
        """Add per-rule counts of properties coerced, truncated or removed."""
        if counts:
            with self._lock:
                self._adjusted.update(counts)

    def snapshot(self) -> MetricsSnapshot:
        """Return a consistent copy of every counter."""
        queued = dict(self._queued())
        with self._lock:
            return MetricsSnapshot(
                enqueued=self._enqueued,
                sent=dict(self._sent),
                retried=dict(self._retried),
                dropped=dict(self._dropped),
                redacted=dict(self._redacted),
                adjusted=dict(self._adjusted),
                spilled=self._spilled,
                queued=queued,
            )
