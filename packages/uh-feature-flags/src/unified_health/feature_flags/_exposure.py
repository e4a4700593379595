"""Exposure events: who saw which variant, through a bounded queue to a pluggable sink.

Recording is a bounded append (no lock, no I/O) on the evaluating thread; a daemon thread builds
events, hashes context keys (HMAC-SHA-256 with your ``hash_key``) and hands batches to the sink.
When the queue is full the event is dropped and counted. Context attributes are never copied
into events unless named in ``allow_attributes``.

Without a ``hash_key`` a random 32-byte key is drawn once per process family (forked workers
inherit it), so hashes cannot be reversed by guessing ids, but differ between separately started
processes and across restarts: pass your own secret when events from several processes must be
joined. Every recorder restarts its delivery thread exactly once in a forked child, whether or
not a client uses it, and the child forgets the parent's queue (the parent delivers it).
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import os
import secrets
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from unified_health.feature_flags._clock import Clock, SystemClock
from unified_health.feature_flags._errors import InvalidInputError
from unified_health.feature_flags._logging import logger
from unified_health.feature_flags._models import ErrorCode, EvaluationResult, Reason
from unified_health.feature_flags._operators import key_getter

__all__ = ["ExposureEvent", "ExposureRecorder", "ExposureSink"]

_user_key = key_getter("user")
_PROCESS_FAMILY_KEY = secrets.token_bytes(32)
_recorders: weakref.WeakSet[ExposureRecorder] = weakref.WeakSet()


class ExposureEvent(BaseModel):
    """One evaluation a user was exposed to. ``context_hash`` is a keyed hash, never the key.

    Examples:
        >>> from datetime import UTC
        >>> event = ExposureEvent(
        ...     flag_key="f", variant="on", reason="SPLIT", context_hash="ab12",
        ...     timestamp=datetime(2026, 1, 1, tzinfo=UTC),
        ... )
        >>> event.attributes
        {}
    """

    model_config = ConfigDict(frozen=True)

    flag_key: str
    variant: str | None
    reason: Reason
    rule_id: str | None = None
    error_code: ErrorCode | None = None
    context_hash: str | None
    timestamp: datetime
    attributes: dict[str, Any] = Field(default_factory=dict)


@runtime_checkable
class ExposureSink(Protocol):
    """Where exposure batches go (an analytics pipeline, a log shipper, a test list).

    Examples:
        >>> class Printer:
        ...     def send(self, events):
        ...         pass
        >>> isinstance(Printer(), ExposureSink)
        True
    """

    def send(self, events: Sequence[ExposureEvent]) -> None:
        """Deliver one batch. Exceptions are caught, counted and logged once."""
        ...


_MIN_KEY_BYTES = 16
_Item = tuple[str, str | None, Reason, str | None, ErrorCode | None, Any, dict[str, Any], datetime]


class ExposureRecorder:
    """Queue exposures from the hot path and deliver them in the background.

    Args:
        sink: Receives batches of `ExposureEvent`.
        hash_key: Secret for the HMAC of context keys (at least 16 bytes). When omitted, a random
            key drawn once per process family is used: hashes then cannot be reversed by
            guessing ids, but differ between separately started processes.
        allow_attributes: Context attributes (of the user kind) that may be copied into events.
        max_queue: Events held before new ones are dropped.
        batch_size: Largest batch handed to the sink.
        flush_interval: Seconds between deliveries.
        clock: Injected time for the events' ``timestamp``; the system clock by default.

    Examples:
        >>> class Keep:
        ...     def __init__(self):
        ...         self.events = []
        ...     def send(self, events):
        ...         self.events.extend(events)
        >>> sink = Keep()
        >>> recorder = ExposureRecorder(sink, hash_key=b"secret-key-0123456789")
        >>> len(recorder.hash_context_key("user-123"))
        32
        >>> recorder.close()
        >>> (recorder.sent, recorder.dropped, sink.events)
        (0, 0, [])

    Raises:
        InvalidInputError: ``hash_key`` is shorter than 16 bytes.
    """

    def __init__(
        self,
        sink: ExposureSink,
        *,
        hash_key: bytes | str | None = None,
        allow_attributes: Iterable[str] = (),
        max_queue: int = 10_000,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        clock: Clock | None = None,
    ) -> None:
        self._sink = sink
        self._clock = clock if clock is not None else SystemClock()
        if hash_key is None:
            hash_key = _PROCESS_FAMILY_KEY
        self._hash_key = hash_key.encode() if isinstance(hash_key, str) else bytes(hash_key)
        if len(self._hash_key) < _MIN_KEY_BYTES:
            raise InvalidInputError("hash_key", f"must be at least {_MIN_KEY_BYTES} bytes")
        self._allow = tuple(sorted(set(allow_attributes)))
        self._max = max_queue
        self._batch = batch_size
        self._interval = flush_interval
        self._queue: collections.deque[_Item] = collections.deque()
        self._wake = threading.Event()
        self._closed = False
        self._deliver_lock = threading.Lock()
        self.dropped = 0
        self.sent = 0
        self.failed = 0
        self._warned = False
        self._thread: threading.Thread | None = None
        self._start()
        _recorders.add(self)

    def _start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name="uh-feature-flags-exposures", daemon=True
        )
        self._thread.start()

    def record(self, flag_key: str, result: EvaluationResult, context: Mapping[str, Any]) -> None:
        """Queue one exposure; never blocks, drops (and counts) when the queue is full.

        Args:
            flag_key: The flag evaluated.
            result: Its result.
            context: The evaluation context (only its key and allow-listed attributes are read).
        """
        if len(self._queue) >= self._max or self._closed:
            self.dropped += 1
            return
        attributes = {a: context[a] for a in self._allow if a in context} if self._allow else {}
        self._queue.append(
            (
                flag_key,
                result.variant,
                result.reason,
                result.rule_id,
                result.error_code,
                _user_key(context),
                attributes,
                self._clock.now(),
            )
        )

    def hash_context_key(self, key: Any) -> str | None:
        """Return the keyed hash used for ``context_hash`` (32 hex characters).

        Args:
            key: A context key.

        Returns:
            The hash, or ``None`` for a missing key.
        """
        if key is None:
            return None
        digest = hmac.new(self._hash_key, str(key).encode(), hashlib.sha256).hexdigest()
        return digest[:32]

    def flush(self) -> int:
        """Deliver everything queued now, on this thread.

        Returns:
            How many events were handed to the sink.
        """
        delivered = 0
        with self._deliver_lock:
            while self._queue:
                batch: list[ExposureEvent] = []
                while self._queue and len(batch) < self._batch:
                    batch.append(self._event(self._queue.popleft()))
                try:
                    self._sink.send(batch)
                except Exception as exc:  # noqa: BLE001 - a sink failure must not reach the host
                    self.failed += len(batch)
                    if not self._warned:
                        self._warned = True
                        logger.warning(
                            "exposure_delivery_failed",
                            count=len(batch),
                            error_class=type(exc).__name__,
                        )
                    continue
                self.sent += len(batch)
                delivered += len(batch)
        return delivered

    def _event(self, item: _Item) -> ExposureEvent:
        flag_key, variant, reason, rule_id, error_code, key, attributes, at = item
        return ExposureEvent(
            flag_key=flag_key,
            variant=variant,
            reason=reason,
            rule_id=rule_id,
            error_code=error_code,
            context_hash=self.hash_context_key(key),
            timestamp=at,
            attributes=attributes,
        )

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self._interval)
            self._wake.clear()
            self.flush()

    def _after_fork_in_child(self) -> None:
        """Forget the parent's queue (the parent delivers it) and restart the thread."""
        self._queue.clear()
        self._deliver_lock = threading.Lock()
        self._wake = threading.Event()
        if not self._closed:
            self._start()

    def close(self) -> None:
        """Stop the thread and deliver what is queued."""
        self._closed = True
        _recorders.discard(self)
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(5.0)
        self.flush()


def _fork_after_in_child() -> None:
    for recorder in list(_recorders):
        recorder._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fork_after_in_child)
