"""The delivery pipeline: one queue and one sender thread per provider.

A `Lane` batches its provider's events (by the vendor's count and byte limits), re-checks
consent right before every attempt, pseudonymises identifiers, sends, and applies the vendor's
per-event verdicts: accepted events are counted sent, rejected ones dropped with a reason,
retryable ones retried with jittered exponential backoff (never sooner than Retry-After) up to the
provider's ``max_retries``. A batch the vendor finds too large is halved. Events that cannot be
delivered (retries exhausted, shutdown deadline) go to the spill store when there is one, or are
dropped and counted.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import structlog

from unified_health.analytics._consent import ConsentGate
from unified_health.analytics._errors import ProviderError, RateLimitedError, StoreUnavailableError
from unified_health.analytics._metrics import Metrics
from unified_health.analytics._models import DropReason, Event
from unified_health.analytics._queue import DropPolicy, EventQueue
from unified_health.analytics.providers._base import OutboundEvent, Provider, SendResult
from unified_health.analytics.stores._protocol import SpillStore

__all__ = ["Lane"]

log = structlog.get_logger("unified_health.analytics")

_ENVELOPE_MARGIN = 4096
_JOIN_GRACE = 0.25
_REQUEST_MARGIN = 0.05


class Lane:
    """One provider's bounded queue and the thread that delivers it.

    Example:
        >>> from unified_health.analytics.testing import RecordingProvider
        >>> from unified_health.analytics.stores import InMemoryConsentStore
        >>> gate = ConsentGate(InMemoryConsentStore(), {"analytics"}, {"analytics"})
        >>> lane = Lane(RecordingProvider(), gate=gate, to_outbound=lambda e: None,
        ...             metrics=Metrics(), max_events=10, max_bytes=10_000)
        >>> lane.name
        'recording'
    """

    def __init__(
        self,
        provider: Provider,
        *,
        gate: ConsentGate,
        to_outbound: Callable[[Event], OutboundEvent | None],
        metrics: Metrics,
        max_events: int,
        max_bytes: int,
        policy: DropPolicy = "drop_newest",
        flush_interval: float = 0.5,
        spill: SpillStore | None = None,
        debug: bool = False,
    ) -> None:
        self.provider = provider
        self.name = provider.name
        self.queue = EventQueue(max_events=max_events, max_bytes=max_bytes, policy=policy)
        self.batch_size = max(1, provider.limits.max_events_per_request)
        self.queue.notify_at = self.batch_size
        self.flush_interval = flush_interval
        self._gate = gate
        self._to_outbound = to_outbound
        self._metrics = metrics
        self._spill = spill
        self._debug = debug
        self._reset_state()

    def _reset_state(self) -> None:
        self._idle = threading.Condition(self.queue.lock)
        self._overflow: deque[Event] = deque()
        self._inflight = 0
        self._flush_requested = False
        self._stopping = False
        self._deadline: float | None = None
        self._spill_pending = self._spill is not None
        self._replaying = self._spill is not None
        self._thread: threading.Thread | None = None
        self.delivered = 0
        self.undelivered = 0
        self.spilled = 0
        self.last_error: ProviderError | None = None

    # -- the caller's side ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the sender thread (idempotent)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._run, name=f"uh-analytics-{self.name}", daemon=True
            )
            self._thread.start()

    def put(self, event: Event) -> bool:
        """Queue ``event``; count (or hold for the spill store) what the bounds push out."""
        if self._stopping:
            self._metrics.drop(DropReason.CLIENT_CLOSED)
            return False
        dropped = self.queue.put(event)
        if not dropped:
            return True
        if self._spill is not None and len(self._overflow) + len(dropped) <= self.queue.max_events:
            self._overflow.extend(dropped)  # the sender writes them to the spill store
            return True
        self._metrics.drop(DropReason.QUEUE_FULL, len(dropped))
        return dropped[-1] is not event

    def purge(self, predicate: Callable[[Event], bool]) -> int:
        """Drop queued events matching ``predicate`` (consent withdrawn); return how many."""
        removed = self.queue.purge(predicate)
        overflow = [e for e in list(self._overflow) if predicate(e)]
        for event in overflow:
            try:
                self._overflow.remove(event)
            except ValueError:  # the worker spilled it meanwhile
                continue
        count = len(removed) + len(overflow)
        self._metrics.drop(DropReason.CONSENT_WITHDRAWN, count)
        return count

    def flush(self, timeout: float) -> bool:
        """Send what is queued now; wait until the lane is idle or ``timeout`` passes."""
        end = time.monotonic() + timeout
        with self.queue.lock:
            self._flush_requested = True
            self.queue.ready.notify_all()
            while len(self.queue) or self._inflight or self._overflow or self._replaying:
                remaining = end - time.monotonic()
                if remaining <= 0 or self._thread is None or not self._thread.is_alive():
                    return False
                self._idle.wait(min(remaining, 0.25))
        return True

    def begin_shutdown(self, deadline: float) -> None:
        """Drain as fast as possible until the monotonic ``deadline``; accept nothing new."""
        with self.queue.lock:
            self._stopping = True
            self._deadline = deadline
            self.queue.ready.notify_all()
        interrupt = getattr(self.provider, "interrupt", None)
        if callable(interrupt):
            interrupt()

    def finish(self, timeout: float) -> None:
        """Wait for the thread, then give up on whatever is still queued."""
        if self._thread is not None:
            self._thread.join(max(timeout, 0.0) + _JOIN_GRACE)
            if self._thread.is_alive():  # stuck past the deadline: count its batch as lost
                self.undelivered += self._inflight
                log.warning("sender_still_busy", provider=self.name, count=self._inflight)
        with self.queue.lock:
            leftover = self.queue.take_locked(len(self.queue))
        leftover.extend(self._drain_overflow())
        if leftover:
            self._give_up(leftover, DropReason.SHUTDOWN_DEADLINE)

    def after_fork_in_child(self) -> None:
        """Start over in a forked child: new locks, no inherited events, no thread yet."""
        self.queue.reset_after_fork()
        self._reset_state()
        self.provider.reset_after_fork()

    def depth(self) -> int:
        """Events waiting (queued plus held for the spill store)."""
        return len(self.queue) + len(self._overflow)

    # -- the worker's side ---------------------------------------------------------------------
    def _expired(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def _time_left(self) -> float:
        if self._deadline is None:
            return float("inf")
        return max(self._deadline - time.monotonic(), 0.0)

    def _run(self) -> None:
        try:
            self._replay_spill()
        except StoreUnavailableError:
            log.warning("spill_replay_failed", provider=self.name)
        finally:
            with self.queue.lock:
                self._replaying = False
        while True:
            self._housekeeping()
            batch = self._next_batch()
            if batch is None:
                break
            if not batch:
                continue
            try:
                self._deliver(batch)
            except Exception:
                log.exception("delivery_crashed", provider=self.name, count=len(batch))
                self._metrics.drop(DropReason.INTERNAL_ERROR, len(batch))
            finally:
                with self.queue.lock:
                    self._inflight = 0
                    if not len(self.queue):
                        self._idle.notify_all()
        with self.queue.lock:
            self._idle.notify_all()

    def _next_batch(self) -> list[Event] | None:
        queue = self.queue
        with queue.lock:
            started = time.monotonic()
            while True:
                count = len(queue)
                if self._stopping:
                    if count == 0 or self._expired():
                        return None
                    return self._take(count)
                if count >= self.batch_size or (count and self._flush_requested):
                    return self._take(count)
                elapsed = time.monotonic() - started
                if count and elapsed >= self.flush_interval:
                    return self._take(count)
                if not count:
                    self._flush_requested = False
                    self._idle.notify_all()
                if elapsed >= self.flush_interval:
                    return []
                queue.ready.wait(self.flush_interval - elapsed)

    def _take(self, count: int) -> list[Event]:
        batch = self.queue.take_locked(min(count, self.batch_size))
        self._inflight = len(batch)
        return batch

    def _drain_overflow(self) -> list[Event]:
        out: list[Event] = []
        while self._overflow:
            try:
                out.append(self._overflow.popleft())
            except IndexError:
                break
        return out

    def _housekeeping(self) -> None:
        with self.queue.lock:
            overflow = self._drain_overflow()
            self._inflight = len(overflow)  # flush() waits until they are in the spill store
        if overflow:
            try:
                self._give_up(overflow, DropReason.QUEUE_FULL)
            finally:
                with self.queue.lock:
                    self._inflight = 0
                    self._idle.notify_all()
        if self._spill_pending and not self._stopping and len(self.queue) < self.batch_size:
            try:
                self._replay_spill()
            except StoreUnavailableError:
                log.warning("spill_replay_failed", provider=self.name)

    def _replay_spill(self) -> None:
        if self._spill is None:
            return
        with self.queue.lock:
            self._replaying = True  # flush() waits: popped events are briefly in no queue
        try:
            self._replay_spill_locked_out()
        finally:
            with self.queue.lock:
                self._replaying = False
                self._idle.notify_all()

    def _replay_spill_locked_out(self) -> None:
        assert self._spill is not None
        room = self.queue.max_events - len(self.queue)
        replayed = 0
        while room > 0:
            wanted = min(room, self.batch_size)
            raws = self._spill.pop(self.name, wanted)
            for raw in raws:
                try:
                    event = Event.from_json(raw)
                except (ValueError, KeyError, TypeError):
                    self._metrics.drop(DropReason.INTERNAL_ERROR)
                    continue
                for dropped in self.queue.put(event):
                    self._give_up([dropped], DropReason.QUEUE_FULL)
            replayed += len(raws)
            room -= len(raws)
            if len(raws) < wanted:
                self._spill_pending = False
                break
        if replayed:
            log.info("spill_replayed", provider=self.name, count=replayed)

    def _give_up(self, events: list[Event], reason: str) -> None:
        """Spill ``events`` if there is a spill store, else drop them counting ``reason``."""
        if not events:
            return
        self.undelivered += len(events)
        if self._spill is not None:
            try:
                self._spill.push(self.name, [e.to_json() for e in events])
            except StoreUnavailableError:
                log.warning("spill_failed", provider=self.name, count=len(events))
            else:
                self.spilled += len(events)
                self._metrics.spilled(len(events))
                return
        self._metrics.drop(reason, len(events))
        log.warning("events_dropped", provider=self.name, count=len(events), reason=str(reason))

    def _deliver(self, batch: list[Event]) -> None:
        attempt = 0
        while True:
            if self._expired():
                self._give_up(batch, DropReason.SHUTDOWN_DEADLINE)
                return
            try:
                allowed, denied = self._gate.split(batch)
                encoded = self._encode(allowed)
            except StoreUnavailableError:
                attempt += 1
                if attempt > self.provider.max_retries:
                    self._give_up(batch, DropReason.RETRIES_EXHAUSTED)
                    return
                log.warning("store_unavailable", provider=self.name, attempt=attempt)
                self._sleep(self.provider.backoff(attempt - 1, None))
                continue
            break
        self._metrics.drop(DropReason.NO_CONSENT, len(denied))
        for events, parts in self._chunks(encoded):
            self._send(events, parts)

    def _encode(self, events: Iterable[Event]) -> list[tuple[Event, bytes]]:
        limit = self.provider.limits.max_event_bytes
        out: list[tuple[Event, bytes]] = []
        unsupported = oversized = 0
        for event in events:
            outbound = self._to_outbound(event)
            part = self.provider.encode(outbound) if outbound is not None else None
            if part is None:
                unsupported += 1
            elif len(part) > limit:
                oversized += 1
            else:
                out.append((event, part))
        self._metrics.drop(DropReason.UNSUPPORTED_BY_PROVIDER, unsupported)
        self._metrics.drop(DropReason.OVERSIZED, oversized)
        return out

    def _chunks(
        self, encoded: list[tuple[Event, bytes]]
    ) -> Iterable[tuple[list[Event], list[bytes]]]:
        limits = self.provider.limits
        max_bytes = limits.max_request_bytes - _ENVELOPE_MARGIN
        events: list[Event] = []
        parts: list[bytes] = []
        size = 0
        for event, part in encoded:
            if parts and (
                len(parts) >= limits.max_events_per_request or size + len(part) + 1 > max_bytes
            ):
                yield events, parts
                events, parts, size = [], [], 0
            events.append(event)
            parts.append(part)
            size += len(part) + 1
        if parts:
            yield events, parts

    def _sleep(self, seconds: float) -> None:
        self.provider.sleep(min(seconds, self._time_left()))

    def _send(self, events: list[Event], parts: list[bytes]) -> None:
        work: list[tuple[list[Event], list[bytes]]] = [(events, parts)]
        while work:
            events, parts = work.pop()
            attempt = 0
            while events:
                if self._expired():
                    self._give_up(events, DropReason.SHUTDOWN_DEADLINE)
                    break
                result = self.provider.deliver(
                    parts, timeout=max(self._time_left() - _REQUEST_MARGIN, 0.01)
                )
                self._account(result, len(parts))
                if result.split:
                    if len(events) > 1:
                        mid = len(events) // 2
                        work.append((events[mid:], parts[mid:]))
                        work.append((events[:mid], parts[:mid]))
                    else:
                        self._metrics.drop(DropReason.REJECTED_BY_VENDOR, len(events))
                    break
                again = sorted(set(result.retry) | set(result.resend))
                if not again:
                    break
                events = [events[i] for i in again]
                parts = [parts[i] for i in again]
                if not result.retry:
                    continue
                attempt += 1
                self.last_error = self._error(result, attempt)
                if attempt > self.provider.max_retries:
                    log.warning(
                        "delivery_failed",
                        provider=self.name,
                        status_code=result.status_code,
                        request_id=result.request_id,
                        attempts=attempt,
                        count=len(events),
                    )
                    self._give_up(events, DropReason.RETRIES_EXHAUSTED)
                    break
                self._metrics.retried(self.name)
                delay = self.provider.backoff(attempt - 1, result.retry_after)
                log.info(
                    "delivery_retry",
                    provider=self.name,
                    status_code=result.status_code,
                    attempt=attempt,
                    delay=round(delay, 3),
                    count=len(events),
                )
                self._sleep(delay)
                events, parts = self._still_allowed(events, parts)

    def _still_allowed(
        self, events: list[Event], parts: list[bytes]
    ) -> tuple[list[Event], list[bytes]]:
        """Re-check consent before a retry; on a store outage keep the events (checked later)."""
        try:
            _, denied = self._gate.split(events)
        except StoreUnavailableError:
            return events, parts
        if not denied:
            return events, parts
        gone = {id(e) for e in denied}
        self._metrics.drop(DropReason.CONSENT_WITHDRAWN, len(denied))
        kept = [(e, p) for e, p in zip(events, parts, strict=True) if id(e) not in gone]
        return [e for e, _ in kept], [p for _, p in kept]

    def _account(self, result: SendResult, count: int) -> None:
        accepted = len(result.accepted)
        if accepted:
            self.delivered += accepted
            self._metrics.sent(self.name, accepted)
        if result.rejected:
            by_reason: dict[str, int] = {}
            for reason in result.rejected.values():
                by_reason[reason] = by_reason.get(reason, 0) + 1
            for reason, n in by_reason.items():
                self._metrics.drop(reason, n)
            log.warning(
                "events_rejected",
                provider=self.name,
                status_code=result.status_code,
                request_id=result.request_id,
                count=len(result.rejected),
            )
        if self._debug:
            log.debug(
                "batch_delivered",
                provider=self.name,
                status_code=result.status_code,
                count=count,
                accepted=accepted,
            )

    def _error(self, result: SendResult, attempt: int) -> ProviderError:
        kwargs: dict[str, Any] = {
            "status_code": result.status_code,
            "request_id": result.request_id,
            "retry_after": result.retry_after,
            "attempts": attempt,
        }
        message = f"{self.name}: {result.error or 'delivery failed'}"
        if result.status_code == 429:
            return RateLimitedError(message, **kwargs)
        return ProviderError(message, **kwargs)
