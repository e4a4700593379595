"""A fake clock: wall time and monotonic time that move only when a test says so."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class FakeClock:
    """A deterministic clock with ``now()``, ``monotonic()`` and a ``sleep()`` that advances it.

    Examples:
        >>> clock = FakeClock()
        >>> start = clock.monotonic()
        >>> clock.sleep(2.5)
        >>> clock.monotonic() - start
        2.5
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("start: must be timezone-aware")
        self._now = start.astimezone(UTC)
        self._monotonic = 1000.0
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        """Return the current fake UTC time."""
        with self._lock:
            return self._now

    def time(self) -> float:
        """Return the current fake time as a Unix timestamp."""
        return self.now().timestamp()

    def monotonic(self) -> float:
        """Return the fake monotonic time in seconds."""
        with self._lock:
            return self._monotonic

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by ``seconds``."""
        if seconds < 0:
            raise ValueError("seconds: must not be negative")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._monotonic += seconds

    def sleep(self, seconds: float) -> None:
        """Record the requested sleep and advance the clock instead of waiting."""
        self.sleeps.append(seconds)
        self.advance(max(seconds, 0.0))
