"""Test helpers for code that uses uh-impersonation.

A fake clock, log capture, the in-memory stores and notifier, and a fake webhook receiver.

The family's ``testing`` modules share these names and shapes: `FakeClock` (``now``,
``monotonic``, ``advance``, ``sleep``, ``sleeps``) and `capture_logs`. Package-specific fakes
(fake vendor servers, builders) are added beside them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from unified_health.impersonation._errors import InvalidInputError
from unified_health.impersonation._logging import LOGGER_NAME
from unified_health.impersonation._notify import InMemoryNotifier
from unified_health.impersonation.stores._memory import (
    InMemoryAuditLog,
    InMemoryImpersonationStore,
)

__all__ = [
    "FakeClock",
    "FakeWebhookReceiver",
    "InMemoryAuditLog",
    "InMemoryImpersonationStore",
    "InMemoryNotifier",
    "capture_logs",
]

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
        >>> from unified_health.impersonation._logging import logger
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


_Start = Callable[[str, list[tuple[str, str]]], object]


class FakeWebhookReceiver:
    """A WSGI app that receives `WebhookNotifier` posts the way your endpoint should.

    It checks the method, the JSON content type, the idempotency key and the ``X-UH-Signature``
    HMAC (401 when wrong), answers 200 and keeps each accepted notice once per idempotency key.
    Tell it to fail: ``fail_next(503)``, ``fail_next(429, retry_after=2)``. Serve it on 127.0.0.1
    with any WSGI server (``wsgiref.simple_server`` in a thread is enough).

    Args:
        secret: The shared HMAC key.

    Examples:
        >>> receiver = FakeWebhookReceiver(b"s" * 32)
        >>> receiver.received
        []
    """

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self.received: list[dict[str, Any]] = []
        self.attempts = 0
        self._failures: list[tuple[int, float | None]] = []
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def fail_next(self, status: int, *, times: int = 1, retry_after: float | None = None) -> None:
        """Answer ``status`` to the next ``times`` requests."""
        with self._lock:
            self._failures.extend([(status, retry_after)] * times)

    def _answer(
        self, start_response: _Start, status: str, headers: Iterable[tuple[str, str]] = ()
    ) -> list[bytes]:
        start_response(status, [("content-type", "application/json"), *headers])
        return [b"{}"]

    def __call__(self, environ: dict[str, Any], start_response: _Start) -> list[bytes]:
        """Handle one WSGI request."""
        with self._lock:
            self.attempts += 1
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            status, retry_after = failure
            headers = [] if retry_after is None else [("retry-after", str(retry_after))]
            return self._answer(start_response, f"{status} Failure", headers)
        if environ.get("REQUEST_METHOD") != "POST":
            return self._answer(start_response, "405 Method Not Allowed")
        if environ.get("CONTENT_TYPE") != "application/json":
            return self._answer(start_response, "415 Unsupported Media Type")
        key = environ.get("HTTP_IDEMPOTENCY_KEY")
        if not key:
            return self._answer(start_response, "422 Unprocessable Entity")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        signature = str(environ.get("HTTP_X_UH_SIGNATURE", ""))
        parts = dict(part.split("=", 1) for part in signature.split(",") if "=" in part)
        expected = hmac.new(
            self._secret, f"{parts.get('t', '')}.".encode() + body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            return self._answer(start_response, "401 Unauthorized")
        with self._lock:
            if key not in self._seen:
                self._seen.add(key)
                self.received.append(json.loads(body))
        return self._answer(start_response, "200 OK")
