"""The delivery pipeline: one queue and one sender thread per provider.

A `Lane` batches its provider's events (by the vendor's count and byte limits; an event over
the vendor's per-event bytes or properties is dropped as ``oversized``), re-checks
consent right before every attempt, pseudonymises identifiers, sends, and applies the vendor's
per-event verdicts: accepted events are counted sent, rejected ones dropped with a reason,
retryable ones retried with jittered exponential backoff (never sooner than Retry-After) up to the
provider's ``max_retries``. A batch the vendor finds too large is halved. A `RoutedProvider`
(Mixpanel: ``/import``, ``/engage``, ``/groups``) gets one request per route, each within that
route's limits. Events that cannot be
delivered (retries exhausted, shutdown deadline) go to the spill store when there is one, or are
dropped and counted.

The lane's thread prepares batches (consent, pseudonymisation, vendor JSON per event) and hands
each request to a small pool of sender threads, so up to ``max_in_flight`` requests wait on the
vendor while the next batch is prepared. The host's ``track()`` shares the GIL with this work, so
it is kept small (pseudonymised ids built once per event for every provider, vendor JSON appended
to pre-serialised properties) and the queue's lock is only ever held for O(1) steps. The
preparation deliberately does not yield the GIL every few events: each voluntary release makes
the host thread wait again when the sender takes the GIL back, which measured worse than a few
switch intervals per batch.

Spilled events hold pseudonymous ids only (format ``v2``); raw ids never reach the spill store.
Consent is re-checked just before an event is spilled; an event replayed by the process that
spilled it is re-checked again, one replayed by another process was checked when it was spilled.
"""

from __future__ import annotations

import json
import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, cast

from unified_health.analytics._clock import Clock, SystemClock
from unified_health.analytics._consent import ConsentGate
from unified_health.analytics._errors import (
    ProviderError,
    RateLimitedError,
    StoreUnavailableError,
)
from unified_health.analytics._logging import logger
from unified_health.analytics._metrics import Metrics
from unified_health.analytics._models import DropReason, Event
from unified_health.analytics._queue import DropPolicy, EventQueue
from unified_health.analytics.providers._base import (
    OutboundEvent,
    Provider,
    ProviderLimits,
    RoutedProvider,
    SendResult,
    dumps,
)
from unified_health.analytics.stores._protocol import SpillStore

__all__ = ["Lane"]


_ENVELOPE_MARGIN = 4096
_JOIN_GRACE = 0.25
_REQUEST_MARGIN = 0.05
_SUBJECTS_KEPT = 100_000


def _own_properties(event: OutboundEvent) -> int:
    """An event's properties plus its group keys (vendors send group keys as properties)."""
    groups = event.groups
    return len(event.properties) + (len(groups) if groups else 0)


#: One request's worth of events: the route (``None`` for single-endpoint providers), the events
#: and their encoded parts.
Chunk = tuple[str | None, list[Event], list[bytes]]


class Lane:
    """One provider's bounded queue and the thread that delivers it.

    Examples:
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
        max_in_flight: int = 2,
        clock: Clock | None = None,
    ) -> None:
        self.provider = provider
        self._clock: Clock = clock if clock is not None else SystemClock()
        self.name = provider.name
        self.queue = EventQueue(max_events=max_events, max_bytes=max_bytes, policy=policy)
        self.batch_size = max(1, provider.limits.max_events_per_request)
        self._routed = isinstance(provider, RoutedProvider)
        self.queue.notify_at = self.batch_size
        self.flush_interval = flush_interval
        self._gate = gate
        self._to_outbound = to_outbound
        self._metrics = metrics
        self._spill = spill
        self._debug = debug
        self.max_in_flight = max(1, max_in_flight)
        self._reset_state()

    def _reset_state(self) -> None:
        self._idle = threading.Condition(self.queue.lock)
        self._count_lock = threading.Lock()
        self._slots = threading.Semaphore(self.max_in_flight)
        self._jobs: queue.SimpleQueue[Chunk | None] = queue.SimpleQueue()
        self._senders: list[threading.Thread] = []
        # insert id -> (user_id, anonymous_id) of events this process spilled, so that their
        # replay here re-checks consent with the raw subject the spill store does not hold.
        self._spilled_subjects: dict[str, tuple[str | None, str | None]] = {}
        self._handed = 0
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
        """Start the lane's thread and its sender threads (idempotent)."""
        if self._thread is None or not self._thread.is_alive():
            self._senders = [
                threading.Thread(
                    target=self._send_loop, name=f"uh-analytics-{self.name}-send-{i}", daemon=True
                )
                for i in range(self.max_in_flight)
            ]
            for sender in self._senders:
                sender.start()
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
        end = self._clock.monotonic() + timeout
        with self.queue.lock:
            self._flush_requested = True
            self.queue.ready.notify_all()
            while len(self.queue) or self._inflight or self._overflow or self._replaying:
                remaining = end - self._clock.monotonic()
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
            end = self._clock.monotonic() + max(timeout, 0.0) + _JOIN_GRACE
            for thread in (self._thread, *self._senders):
                thread.join(max(end - self._clock.monotonic(), 0.0))
            if self._thread.is_alive() or self._inflight:  # stuck past the deadline: lost
                self.undelivered += self._inflight
                logger.warning("sender_abandoned", provider=self.name, count=self._inflight)
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
        return self._deadline is not None and self._clock.monotonic() >= self._deadline

    def _time_left(self) -> float:
        if self._deadline is None:
            return float("inf")
        return max(self._deadline - self._clock.monotonic(), 0.0)

    def _run(self) -> None:
        try:
            self._replay_spill()
        except StoreUnavailableError:
            logger.warning("spill_replay_failed", provider=self.name)
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
            self._handed = 0
            try:
                self._deliver(batch)
            except Exception as exc:  # noqa: BLE001 - a sender must survive; logged, counted
                logger.error(
                    "delivery_crashed",
                    provider=self.name,
                    count=len(batch),
                    error_class=type(exc).__name__,
                )
                self._metrics.drop(DropReason.INTERNAL_ERROR, len(batch) - self._handed)
            finally:
                self._done(len(batch) - self._handed)
        self._stop_senders()
        with self.queue.lock:
            self._idle.notify_all()

    def _done(self, count: int) -> None:
        """``count`` taken events are settled (sent, dropped or spilled)."""
        with self.queue.lock:
            self._inflight -= count
            if not self._inflight and not len(self.queue):
                self._idle.notify_all()

    def _stop_senders(self) -> None:
        """Wait (until the deadline) for requests in flight, then let the sender threads end."""
        held = 0
        for _ in range(self.max_in_flight):
            if self._slots.acquire(timeout=min(self._time_left(), 3600.0)):
                held += 1
        for _ in self._senders:
            self._jobs.put(None)
        for _ in range(held):
            self._slots.release()

    def _send_loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            route, events, parts = job
            try:
                self._send(route, events, parts)
            except Exception as exc:  # noqa: BLE001 - a sender must survive; logged, counted
                logger.error(
                    "delivery_crashed",
                    provider=self.name,
                    count=len(events),
                    error_class=type(exc).__name__,
                )
                self._metrics.drop(DropReason.INTERNAL_ERROR, len(events))
            finally:
                self._slots.release()
                self._done(len(events))

    def _next_batch(self) -> list[Event] | None:
        queue = self.queue
        with queue.lock:
            started = self._clock.monotonic()
            while True:
                count = len(queue)
                if self._stopping:
                    if count == 0 or self._expired():
                        return None
                    return self._take(count)
                if count >= self.batch_size or (count and self._flush_requested):
                    return self._take(count)
                elapsed = self._clock.monotonic() - started
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
        self._inflight += len(batch)
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
            self._inflight += len(overflow)  # flush() waits until they are in the spill store
        if overflow:
            try:
                self._give_up(overflow, DropReason.QUEUE_FULL)
            finally:
                self._done(len(overflow))
        if self._spill_pending and not self._stopping and len(self.queue) < self.batch_size:
            try:
                self._replay_spill()
            except StoreUnavailableError:
                logger.warning("spill_replay_failed", provider=self.name)

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
                    event = self._restore(raw)
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
            logger.info("spill_replayed", provider=self.name, count=replayed)

    def _give_up(self, events: list[Event], reason: str) -> None:
        """Spill ``events`` if there is a spill store, else drop them counting ``reason``."""
        if not events:
            return
        if self._spill is not None:
            try:
                events = self._consented(events)
                records = [self._spill_record(e) for e in events]
                if records:
                    self._spill.push(self.name, records)
            except StoreUnavailableError:
                logger.warning("spill_failed", provider=self.name, count=len(events))
            else:
                with self._count_lock:
                    self.undelivered += len(events)
                    self.spilled += len(events)
                self._metrics.spilled(len(events))
                return
        with self._count_lock:
            self.undelivered += len(events)
        self._metrics.drop(reason, len(events))
        logger.warning("events_dropped", provider=self.name, count=len(events), reason=str(reason))

    def _consented(self, events: list[Event]) -> list[Event]:
        """Drop (counting ``consent_withdrawn``) the events whose consent is gone."""
        allowed, denied = self._gate.split(events)
        self._metrics.drop(DropReason.CONSENT_WITHDRAWN, len(denied))
        return allowed

    def _spill_record(self, event: Event) -> bytes:
        """The spill store's record of ``event``: pseudonymous ids only (format ``v2``)."""
        out = self._to_outbound(event)
        if out is None:
            raise StoreUnavailableError("pseudonymisation failed")
        if event.user_id is not None or event.anonymous_id is not None:
            kept = self._spilled_subjects
            if len(kept) >= _SUBJECTS_KEPT:
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

    def _restore(self, raw: bytes) -> Event:
        """Rebuild a spilled event (``v1`` records, written by older versions, hold raw ids)."""
        data = json.loads(raw)
        if data.get("v") == 1:
            return Event.from_json(raw)
        ids = data["ids"]
        props = data["properties"]
        is_profile = data["kind"] in ("identify", "group")
        body = None if is_profile else dumps(props)
        user_id, anonymous_id = self._spilled_subjects.pop(data["insert_id"], (None, None))
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

    def _deliver(self, batch: list[Event]) -> None:
        """Prepare ``batch`` and hand its requests to the senders (counted in ``_handed``)."""
        attempt = 0
        while True:
            if self._expired():
                self._give_up(batch, DropReason.SHUTDOWN_DEADLINE)
                return
            try:
                allowed, denied = self._gate.split(batch)
                chunks = self._encode(allowed)
            except StoreUnavailableError:
                attempt += 1
                if attempt > self.provider.max_retries:
                    self._give_up(batch, DropReason.RETRIES_EXHAUSTED)
                    return
                logger.warning("store_call_failed", provider=self.name, attempt=attempt)
                self._sleep(self.provider.backoff(attempt - 1, None))
                continue
            break
        self._metrics.drop(DropReason.NO_CONSENT, len(denied))
        for index, chunk in enumerate(chunks):
            while not self._slots.acquire(timeout=min(self._time_left(), 0.5)):
                if self._expired():
                    rest = [e for _, pending, _ in chunks[index:] for e in pending]
                    self._give_up(rest, DropReason.SHUTDOWN_DEADLINE)
                    return
            self._jobs.put(chunk)
            self._handed += len(chunk[1])

    def _encode(self, events: list[Event]) -> list[Chunk]:
        """Encode events into request-sized chunks (one route per chunk for routed providers)."""
        provider = self.provider
        if self._routed:
            return self._encode_routed(cast(RoutedProvider, provider), events)
        limits = provider.limits
        limit = limits.max_event_bytes
        own = limits.own_properties_per_event
        max_count = limits.max_events_per_request
        max_bytes = limits.max_request_bytes - _ENVELOPE_MARGIN
        to_outbound = self._to_outbound
        encode = provider.encode
        chunks: list[Chunk] = []
        chunk_events: list[Event] = []
        parts: list[bytes] = []
        size = 0
        unsupported = oversized = 0
        for event in events:
            outbound = to_outbound(event)
            part = encode(outbound) if outbound is not None else None
            if part is None:
                unsupported += 1
                continue
            if len(part) > limit or (
                own is not None and _own_properties(cast(OutboundEvent, outbound)) > own
            ):
                oversized += 1
                continue
            if parts and (len(parts) >= max_count or size + len(part) + 1 > max_bytes):
                chunks.append((None, chunk_events, parts))
                chunk_events, parts, size = [], [], 0
            chunk_events.append(event)
            parts.append(part)
            size += len(part) + 1
        if parts:
            chunks.append((None, chunk_events, parts))
        self._metrics.drop(DropReason.UNSUPPORTED_BY_PROVIDER, unsupported)
        self._metrics.drop(DropReason.OVERSIZED, oversized)
        return chunks

    def _encode_routed(self, provider: RoutedProvider, events: list[Event]) -> list[Chunk]:
        """Like `_encode`, keeping one open chunk per route within that route's limits."""
        to_outbound = self._to_outbound
        encode = provider.encode_routed
        limits: dict[str, ProviderLimits] = {}
        open_chunks: dict[str, tuple[list[Event], list[bytes], list[int]]] = {}
        chunks: list[Chunk] = []
        unsupported = oversized = 0
        for event in events:
            outbound = to_outbound(event)
            routed = encode(outbound) if outbound is not None else None
            if routed is None:
                unsupported += 1
                continue
            route, part = routed
            lim = limits.get(route)
            if lim is None:
                lim = limits[route] = provider.limits_for(route)
            own = lim.own_properties_per_event
            if len(part) > lim.max_event_bytes or (
                own is not None and _own_properties(cast(OutboundEvent, outbound)) > own
            ):
                oversized += 1
                continue
            current = open_chunks.get(route)
            if current is not None:
                _, parts, size = current
                if len(parts) >= lim.max_events_per_request or (
                    size[0] + len(part) + 1 > lim.max_request_bytes - _ENVELOPE_MARGIN
                ):
                    chunks.append((route, current[0], parts))
                    current = None
            if current is None:
                current = open_chunks[route] = ([], [], [0])
            current[0].append(event)
            current[1].append(part)
            current[2][0] += len(part) + 1
        chunks.extend((route, held, parts) for route, (held, parts, _) in open_chunks.items())
        self._metrics.drop(DropReason.UNSUPPORTED_BY_PROVIDER, unsupported)
        self._metrics.drop(DropReason.OVERSIZED, oversized)
        return chunks

    def _sleep(self, seconds: float) -> None:
        self.provider.sleep(min(seconds, self._time_left()))

    def _wait_before_retry(self, delay: float) -> bool:
        """Wait ``delay`` before a retry; ``False`` when the shutdown deadline comes first.

        The vendor's Retry-After is never cut short: a wait that shutdown interrupts is resumed
        for what is left of it, or, when that runs past the deadline, the retry is given up.
        """
        if delay > self._time_left():
            return False
        due = self._clock.monotonic() + delay
        self._sleep(delay)
        if self._deadline is not None:  # shutdown began, and may have cut the wait short
            rest = due - self._clock.monotonic()
            if rest > self._time_left():
                return False
            if rest > 0:
                self._sleep(rest)
        return True

    def _send(self, route: str | None, events: list[Event], parts: list[bytes]) -> None:
        routed = self._routed and route is not None
        work: list[tuple[list[Event], list[bytes]]] = [(events, parts)]
        while work:
            events, parts = work.pop()
            attempt = 0
            while events:
                if self._expired():
                    self._give_up(events, DropReason.SHUTDOWN_DEADLINE)
                    break
                # Consent may have been withdrawn while the request waited for a sender or
                # backed off: check right before every attempt, the first one included.
                events, parts = self._still_allowed(events, parts)
                if not events:
                    break
                timeout = max(self._time_left() - _REQUEST_MARGIN, 0.01)
                result = (
                    cast(RoutedProvider, self.provider).deliver(parts, timeout=timeout, route=route)
                    if routed
                    else self.provider.deliver(parts, timeout=timeout)
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
                    logger.warning(
                        "delivery_failed",
                        provider=self.name,
                        route=route,
                        status_code=result.status_code,
                        request_id=result.request_id,
                        attempts=attempt,
                        count=len(events),
                    )
                    self._give_up(events, DropReason.RETRIES_EXHAUSTED)
                    break
                self._metrics.retried(self.name)
                delay = self.provider.backoff(attempt - 1, result.retry_after)
                logger.info(
                    "delivery_retried",
                    provider=self.name,
                    status_code=result.status_code,
                    attempt=attempt,
                    delay=round(delay, 3),
                    count=len(events),
                )
                if not self._wait_before_retry(delay):
                    self._give_up(events, DropReason.SHUTDOWN_DEADLINE)
                    break

    def _still_allowed(
        self, events: list[Event], parts: list[bytes]
    ) -> tuple[list[Event], list[bytes]]:
        """Re-check consent before an attempt; on a store outage keep the events (checked later)."""
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
            with self._count_lock:
                self.delivered += accepted
            self._metrics.sent(self.name, accepted)
        if result.rejected:
            by_reason: dict[str, int] = {}
            for reason in result.rejected.values():
                by_reason[reason] = by_reason.get(reason, 0) + 1
            for reason, n in by_reason.items():
                self._metrics.drop(reason, n)
            logger.warning(
                "events_rejected",
                provider=self.name,
                status_code=result.status_code,
                request_id=result.request_id,
                count=len(result.rejected),
            )
        if self._debug:
            logger.debug(
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
