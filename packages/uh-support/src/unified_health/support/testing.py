"""Test helpers for code that uses uh-support.

A fake clock, log capture and the in-memory store.

The family's ``testing`` modules share these names and shapes: `FakeClock` (``now``,
``monotonic``, ``advance``, ``sleep``, ``sleeps``) and `capture_logs`. Package-specific fakes
(fake vendor servers, builders) are added beside them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from unified_health.support._errors import InvalidInputError
from unified_health.support._logging import LOGGER_NAME
from unified_health.support.stores._memory import InMemoryTicketStore

__all__ = ["FakeClock", "InMemoryTicketStore", "capture_logs"]

_DEFAULT_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class FakeClock:
    """A `Clock` that moves only when told to; ``sleep`` advances it instead of waiting.

    Pass its ``sleep`` wherever the package takes a ``sleep=`` function.

    Args:
        start: The initial wall time (timezone-aware); 2026-01-05 09:00 UTC by default.

    Raises:
        InvalidInputError: ``start`` is naive.

    Examples:
        >>> clock = FakeClock()
        >>> before = clock.monotonic()
        >>> clock.sleep(2.5)
        >>> (clock.monotonic() - before, clock.sleeps)
        (2.5, [2.5])
        >>> clock.now().isoformat()
        '2026-01-05T09:00:02.500000+00:00'
    """

    def __init__(self, start: datetime | None = None) -> None:
        given: object = _DEFAULT_START if start is None else start
        if not isinstance(given, datetime) or given.tzinfo is None:
            raise InvalidInputError("start", "must be a timezone-aware datetime")
        self._now = given.astimezone(UTC)
        self._monotonic = 1000.0
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        """Return the fake wall time, aware UTC."""
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        """Return the fake monotonic time in seconds."""
        with self._lock:
            return self._monotonic

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by ``seconds``.

        Raises:
            InvalidInputError: ``seconds`` is negative.
        """
        if seconds < 0:
            raise InvalidInputError("seconds", "must not be negative")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._monotonic += seconds

    def sleep(self, seconds: float) -> None:
        """Record the requested sleep in ``sleeps`` and advance instead of waiting."""
        with self._lock:
            self.sleeps.append(seconds)
        self.advance(max(seconds, 0.0))


class _Capture(logging.Handler):
    def __init__(self, entries: list[dict[str, Any]]) -> None:
        super().__init__(logging.DEBUG)
        self.entries = entries

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, "uh_fields", {})
        entry = {"event": getattr(record, "uh_event", record.getMessage())}
        entry.update(fields)
        entry["log_level"] = record.levelname.lower()
        self.entries.append(entry)


@contextmanager
def capture_logs() -> Iterator[list[dict[str, Any]]]:
    """Collect the package's log events (every level) as dicts while the block runs.

    Each entry holds ``event``, ``log_level`` and the event's fields, like
    ``structlog.testing.capture_logs``. Nothing is printed.

    Yields:
        The list that receives the entries.

    Examples:
        >>> from unified_health.support._logging import logger
        >>> with capture_logs() as events:
        ...     logger.info("record_written", key_count=1)
        >>> events
        [{'event': 'record_written', 'key_count': 1, 'log_level': 'info'}]
    """
    entries: list[dict[str, Any]] = []
    handler = _Capture(entries)
    stdlib_logger = logging.getLogger(LOGGER_NAME)
    previous_level = stdlib_logger.level
    stdlib_logger.addHandler(handler)
    stdlib_logger.setLevel(logging.DEBUG)
    try:
        yield entries
    finally:
        stdlib_logger.removeHandler(handler)
        stdlib_logger.setLevel(previous_level)
