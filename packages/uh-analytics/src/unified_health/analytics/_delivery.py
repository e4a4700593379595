"""The delivery lane of one provider: a bounded queue, a lane thread, senders, a spill writer.

Who does what:

- the caller's thread `Lane.put` s events on the bounded queue (no I/O); what does not fit goes
  to a bounded spill buffer when there is a spill store, else is dropped as ``queue_full``;
- the lane thread takes batches, re-checks consent, plans requests with `plan_requests` (a pure
  function) and hands each request to a sender; between batches it replays the spill store
  when the vendor is healthy (or, after a quiet spell, to probe it);
- sender threads (``max_in_flight``) send one request each, retrying what the vendor says may
  succeed later (jittered exponential backoff, never sooner than Retry-After), re-checking
  consent before every attempt;
- the spill writer (with a spill store only) writes the spill buffer to the store as soon as
  events reach it, so a full queue never loses an event while the store answers; with a
  journaling store it also keeps the `Journal` (durable mode) and adopts the journals of
  processes that died.

Every accepted event is in exactly one place of the lane's `Ledger` (queued, in flight, sent,
spilled or dropped by reason). No thread can die: each catches what it did not expect, logs the
error's class (never its message), counts it, settles what it held as ``internal_error`` and
goes on. Events queued or in flight stay within ``max_events`` and ``max_bytes``; the spill
buffer holds at most as much again while the writer moves it to the store.

A batch that used up its provider's ``max_retries``, or whose next backoff would exceed two
seconds, is spilled when there is a spill store (so a sender never sits on a slot the next
batch needs to find out whether the vendor is back).
Without one it keeps retrying while its queue has room and its ``retry_budget`` (seconds since
its first failure) lasts, and is dropped (``retries_exhausted``) only then.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast, runtime_checkable

from unified_health.analytics._batching import Chunk, plan_requests
from unified_health.analytics._clock import Clock, SystemClock
from unified_health.analytics._consent import ConsentGate
from unified_health.analytics._errors import (
    ProviderError,
    RateLimitedError,
    StoreUnavailableError,
)
from unified_health.analytics._journal import Journal
from unified_health.analytics._ledger import SENT, SPILLED, Ledger
from unified_health.analytics._logging import logger
from unified_health.analytics._metrics import Metrics
from unified_health.analytics._models import (
    DeliveryFailure,
    DeliveryState,
    DropReason,
    Event,
    FailureCause,
    ProviderStatus,
)
from unified_health.analytics._queue import DropPolicy, EventQueue
from unified_health.analytics._spill import SpillCodec
from unified_health.analytics.providers._base import (
    OutboundEvent,
    Provider,
    RoutedProvider,
    SendResult,
)
from unified_health.analytics.stores._protocol import JournalingSpillStore, SpillStore

__all__ = ["ErrorCallback", "Interruptible", "Lane"]


_JOIN_GRACE = 0.25
_REQUEST_MARGIN = 0.05
#: Seconds without success after which an idle lane replays one batch to probe the vendor.
_PROBE_AFTER = 5.0
#: Seconds a thread pauses after an unexpected error before it goes on.
_ERROR_PAUSE = 0.05
#: Seconds between two looks at the spill buffer (it is also woken when events arrive).
_SPILL_TICK = 0.05
#: With a spill store, a batch whose next backoff is longer than this is spilled instead.
_SPILL_RATHER_THAN_WAIT = 2.0
#: Events encoded and pushed to the spill store at a time.
_SPILL_CHUNK = 250
#: A caller finding the spill buffer full waits for the writer at most this many times...
_SPILL_WAITS = 50
#: ...of at most this many seconds each (the writer wakes it as soon as there is room).
_SPILL_WAIT = 0.002

#: Called (on a delivery thread) with each failed delivery attempt.
ErrorCallback = Callable[[ProviderError], None]


@runtime_checkable
class Interruptible(Protocol):
    """A provider whose backoff sleep can be cut short at shutdown (`HttpProvider` is one)."""

    def interrupt(self) -> None:
        """Wake a sleeping `Provider.sleep`."""
        ...


class Lane:
    """One provider's bounded queue and the threads that deliver it.

    Examples:
        >>> from unified_health.analytics.testing import RecordingProvider
        >>> from unified_health.analytics.stores import InMemoryConsentStore
        >>> gate = ConsentGate(InMemoryConsentStore(), {"analytics"}, {"analytics"})
        >>> lane = Lane(RecordingProvider(), gate=gate, to_outbound=lambda e: None,
        ...             metrics=Metrics(), max_events=10, max_bytes=10_000)
        >>> lane.name, lane.status().state
        ('recording', 'healthy')
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
        retry_budget: float = 600.0,
        on_error: ErrorCallback | None = None,
        durable: bool = False,
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
        self._codec = SpillCodec(to_outbound)
        self._journal = (
            Journal(spill, self.name, self._codec, self._clock, durable=durable)
            if isinstance(spill, JournalingSpillStore)
            else None
        )
        self._debug = debug
        self.max_in_flight = max(1, max_in_flight)
        self._retry_budget = retry_budget
        self._on_error = on_error
        self._buffer_events = max_events
        self._buffer_bytes = max_bytes
        self.ledger = Ledger(self.name)
        self._reset_state()

    def _reset_state(self) -> None:
        self._idle = threading.Condition(self.queue.lock)
        self._slots = threading.Semaphore(self.max_in_flight)
        self._jobs: queue.SimpleQueue[Chunk | None] = queue.SimpleQueue()
        self._senders: list[threading.Thread] = []
        self._buffer: deque[Event] = deque()  # on its way to the spill store
        self._buffer_size = 0
        self._buffer_lock = threading.Lock()
        self._buffer_room = threading.Condition(self._buffer_lock)
        self._store_ok = True
        self._spill_wake = threading.Event()
        self._writer: threading.Thread | None = None
        self._handed: list[Event] = []
        self._flush_requested = False
        self._stopping = False
        self._stopped = False
        self._deadline: float | None = None
        self._spill_pending = self._spill is not None
        self._replaying = self._spill is not None
        self._healthy = True
        self._last_failure = float("-inf")
        self._thread: threading.Thread | None = None
        self.delivered = 0
        self.undelivered = 0
        self.spilled = 0
        self._count_lock = threading.Lock()

    # -- the caller's side ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the lane's threads (idempotent; restarts a thread found dead)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._senders = [
            threading.Thread(
                target=self._send_loop, name=f"uh-analytics-{self.name}-send-{i}", daemon=True
            )
            for i in range(self.max_in_flight)
        ]
        for sender in self._senders:
            sender.start()
        if self._spill is not None:
            self._writer = threading.Thread(
                target=self._spill_loop, name=f"uh-analytics-{self.name}-spill", daemon=True
            )
            self._writer.start()
        self._thread = threading.Thread(
            target=self._run, name=f"uh-analytics-{self.name}", daemon=True
        )
        self._thread.start()

    def put(self, event: Event) -> bool:
        """Queue ``event``; hold for the spill store (or count) what the bounds push out."""
        if self._stopping:
            self.ledger.refuse(DropReason.CLIENT_CLOSED)
            self._metrics.drop(DropReason.CLIENT_CLOSED)
            return False
        pushed_out = self.queue.put(event)
        if not pushed_out:
            self.ledger.accept()
            self._journal_add(event)
            return True
        lost = self._hold_for_spill(pushed_out) if self._spill is not None else pushed_out
        refused = pushed_out[-1] is event
        event_lost = refused and bool(lost) and lost[-1] is event
        if event_lost:
            self.ledger.refuse(DropReason.QUEUE_FULL)
        else:
            self.ledger.accept()
            self._journal_add(event)
        self.ledger.drop_queued(DropReason.QUEUE_FULL, len(lost) - int(event_lost))
        self._metrics.drop(DropReason.QUEUE_FULL, len(lost))
        self._journal_done(lost)
        return not event_lost

    def _hold_for_spill(self, events: list[Event]) -> list[Event]:
        """Put ``events`` in the spill buffer; return those it has no room for.

        When the buffer is full while the store answers, the caller waits for the writer, at
        most ``_SPILL_WAITS`` times ``_SPILL_WAIT`` seconds in all; with the store failing,
        it does not wait.
        """
        left: list[Event] = []
        waits = 0
        with self._buffer_room:
            for event in events:
                while not self._fits(event) and self._store_ok and waits < _SPILL_WAITS:
                    waits += 1
                    self._spill_wake.set()
                    self._buffer_room.wait(_SPILL_WAIT)
                if self._fits(event):
                    self._buffer.append(event)
                    self._buffer_size += event.size
                else:
                    left.append(event)
        self._spill_wake.set()
        return left

    def _fits(self, event: Event) -> bool:
        return (
            len(self._buffer) < self._buffer_events
            and self._buffer_size + event.size <= self._buffer_bytes
        )

    def purge(self, predicate: Callable[[Event], bool]) -> int:
        """Drop queued events matching ``predicate`` (consent withdrawn); return how many."""
        removed = self.queue.purge(predicate)
        with self._buffer_lock:
            held = [e for e in self._buffer if predicate(e)]
            if held:
                gone = {id(e) for e in held}
                self._buffer = deque(e for e in self._buffer if id(e) not in gone)
                self._buffer_size -= sum(e.size for e in held)
        count = len(removed) + len(held)
        self._journal_done([*removed, *held])
        self.ledger.drop_queued(DropReason.CONSENT_WITHDRAWN, count)
        self._metrics.drop(DropReason.CONSENT_WITHDRAWN, count)
        return count

    def _busy(self) -> bool:
        return bool(len(self.queue) or self.ledger.in_flight or self._buffer or self._replaying)

    def flush(self, timeout: float) -> bool:
        """Send what is queued now; wait until the lane is idle or ``timeout`` passes."""
        if not self._stopping:
            self.start()  # a thread found dead is started again
        end = self._clock.monotonic() + timeout
        with self.queue.lock:
            self._flush_requested = True
            self.queue.ready.notify_all()
            while self._busy():
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
        self._spill_wake.set()
        if isinstance(self.provider, Interruptible):
            self.provider.interrupt()

    def finish(self, timeout: float) -> None:
        """Wait for the threads, then give up on whatever is still queued."""
        if self._thread is not None:
            end = self._clock.monotonic() + max(timeout, 0.0) + _JOIN_GRACE
            threads = [self._thread, *self._senders]
            if self._writer is not None:
                threads.append(self._writer)
            for thread in threads:
                thread.join(max(end - self._clock.monotonic(), 0.0))
            stuck = self.ledger.in_flight
            if self._thread.is_alive() or stuck:  # stuck past the deadline
                with self._count_lock:
                    self.undelivered += stuck
                logger.warning("sender_abandoned", provider=self.name, count=stuck)
        with self.queue.lock:
            leftover = self.queue.take_locked(len(self.queue))
        self.ledger.take(leftover)
        held = self._drain_buffer()
        self.ledger.take(held, from_queue=False)
        self._give_up([*leftover, *held], DropReason.SHUTDOWN_DEADLINE)
        if self._journal is not None and not self.ledger.in_flight:  # all settled: no journal
            try:
                self._journal.close()
            except StoreUnavailableError:
                logger.warning("journal_close_failed", provider=self.name, cause="spill_store")
        self._stopped = True

    def after_fork_in_child(self) -> None:
        """Start over in a forked child: new locks, no inherited events, no thread yet."""
        self.queue.reset_after_fork()
        self.ledger.reset_after_fork()
        self._codec.reset_after_fork()
        if self._journal is not None:
            self._journal.reset_after_fork()
        self._reset_state()
        self.provider.reset_after_fork()

    def depth(self) -> int:
        """Events waiting in memory (queued plus held for the spill store)."""
        return len(self.queue) + len(self._buffer)

    def status(self) -> ProviderStatus:
        """Where every event of this lane is, the lane's state and its last failure."""
        state: DeliveryState = (
            "stopped" if self._stopped else "healthy" if self._healthy else "retrying"
        )
        return self.ledger.status(
            state, spill_pending=self._spill is not None and self._spill_pending
        )

    # -- settling ------------------------------------------------------------------------------
    def _settle(self, events: Sequence[Event], outcome: str) -> int:
        """Record how in-flight ``events`` ended; give back their room; count them."""
        settled: list[Event] | None = [] if self._journal is not None else None
        count, from_queue, size = self.ledger.settle(events, outcome, settled)
        if not count:
            return 0
        if settled:
            self._journal_done(settled)  # only these: others may be trimmed and gone already
        self.queue.release(from_queue, size)
        if outcome == SENT:
            with self._count_lock:
                self.delivered += count
            self._metrics.sent(self.name, count)
        elif outcome == SPILLED:
            self._metrics.spilled(count)
        else:
            self._metrics.drop(outcome, count)
        if not self.ledger.in_flight:
            with self.queue.lock:
                self._idle.notify_all()
        return count

    def _survive(self, where: str, exc: Exception, held: Sequence[Event]) -> None:
        """A thread met an unexpected error: log its class, count it, settle what it held."""
        self.ledger.error()
        lost = self._settle(held, DropReason.INTERNAL_ERROR)
        logger.error(
            "delivery_crashed",
            provider=self.name,
            thread=where,
            count=lost,
            error_class=type(exc).__name__,
        )
        threading.Event().wait(_ERROR_PAUSE)  # no hot loop if the error repeats

    # -- the lane thread -----------------------------------------------------------------------
    def _expired(self) -> bool:
        return self._deadline is not None and self._clock.monotonic() >= self._deadline

    def _time_left(self) -> float:
        if self._deadline is None:
            return float("inf")
        return max(self._deadline - self._clock.monotonic(), 0.0)

    def _run(self) -> None:
        try:
            self._replay_spill()
        except Exception as exc:  # noqa: BLE001 - the lane must survive; logged, counted
            self._survive("lane", exc, [])
        while True:
            batch: list[Event] = []
            self._handed = []
            try:
                self._housekeeping()
                taken = self._next_batch()
                if taken is None:
                    break
                batch = taken
                if batch:
                    self._deliver(batch)
            except Exception as exc:  # noqa: BLE001 - the lane must survive; logged, counted
                handed = {id(e) for e in self._handed}
                self._survive("lane", exc, [e for e in batch if id(e) not in handed])
        self._stop_senders()
        with self.queue.lock:
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
        self.ledger.take(batch)
        return batch

    def _housekeeping(self) -> None:
        if self._wants_replay():
            self._replay_spill()

    def _wants_replay(self) -> bool:
        """Replay when the vendor is healthy, or idle long enough after a failure to probe it."""
        if not self._spill_pending or self._stopping or len(self.queue) >= self.batch_size:
            return False
        if self._healthy:
            return True
        quiet = self._clock.monotonic() - self._last_failure >= _PROBE_AFTER
        return quiet and not self.ledger.in_flight

    def _replay_spill(self) -> None:
        if self._spill is None:
            return
        with self.queue.lock:
            self._replaying = True  # flush() waits: popped events are briefly in no queue
        try:
            self._replay_into_room(self._spill)
        except StoreUnavailableError:
            logger.warning("spill_replay_failed", provider=self.name, cause="spill_store")
        finally:
            with self.queue.lock:
                self._replaying = False
                self._idle.notify_all()

    def _replay_into_room(self, spill: SpillStore) -> None:
        room = self.queue.max_events - len(self.queue) - self.queue.held
        if not self._healthy:
            room = min(room, self.batch_size)  # a probe: one batch
        replayed = 0
        while room > 0:
            wanted = min(room, self.batch_size)
            raws = spill.pop(self.name, wanted)
            for raw in raws:
                self._requeue(raw)
            replayed += len(raws)
            room -= len(raws)
            if len(raws) < wanted:
                self._spill_pending = False
                break
        if replayed:
            logger.info("spill_replayed", provider=self.name, count=replayed)

    def _requeue(self, raw: bytes) -> None:
        """Queue one event taken from the spill store (held for it again if there is no room)."""
        self.ledger.replay(1)
        try:
            event = self._codec.decode(raw)
        except (ValueError, KeyError, TypeError):
            self.ledger.drop_queued(DropReason.INTERNAL_ERROR, 1)
            self._metrics.drop(DropReason.INTERNAL_ERROR)
            return
        self._journal_add(event)
        pushed_out = self.queue.put(event)
        if pushed_out:
            lost = self._hold_for_spill(pushed_out)
            self.ledger.drop_queued(DropReason.QUEUE_FULL, len(lost))
            self._metrics.drop(DropReason.QUEUE_FULL, len(lost))
            self._journal_done(lost)

    def _deliver(self, batch: list[Event]) -> None:
        """Check consent, plan the requests and hand them to the senders."""
        allowed = self._allowed_for_delivery(batch)
        if allowed is None:
            return
        plan = plan_requests(allowed, self.provider, self._to_outbound)
        self._settle(plan.unsupported, DropReason.UNSUPPORTED_BY_PROVIDER)
        self._settle(plan.oversized, DropReason.OVERSIZED)
        for index, chunk in enumerate(plan.chunks):
            while not self._slots.acquire(timeout=min(self._time_left(), 0.5)):
                if self._expired():
                    rest = [e for c in plan.chunks[index:] for e in c.events]
                    self._give_up(rest, DropReason.SHUTDOWN_DEADLINE)
                    return
            self._handed.extend(chunk.events)
            self._jobs.put(chunk)

    def _allowed_for_delivery(self, batch: list[Event]) -> list[Event] | None:
        """The batch's consented events (``None``: given up while the store was down)."""
        attempt = 0
        while True:
            if self._expired():
                self._give_up(batch, DropReason.SHUTDOWN_DEADLINE)
                return None
            try:
                allowed, denied = self._gate.split(batch)
            except StoreUnavailableError:
                attempt += 1
                if attempt > self.provider.max_retries:
                    self._give_up(batch, DropReason.RETRIES_EXHAUSTED)
                    return None
                logger.warning("store_call_failed", provider=self.name, attempt=attempt)
                self._sleep(self.provider.backoff(attempt - 1, None))
                continue
            self._settle(denied, DropReason.NO_CONSENT)
            return allowed

    # -- the spill writer ----------------------------------------------------------------------
    def _drain_buffer(self) -> list[Event]:
        with self._buffer_room:
            out = list(self._buffer)
            self._buffer.clear()
            self._buffer_size = 0
            self._buffer_room.notify_all()
        return out

    def _spill_loop(self) -> None:
        while True:
            self._spill_wake.wait(_SPILL_TICK)
            self._spill_wake.clear()
            held: list[Event] = []
            try:
                with self.queue.lock:  # flush() sees them either buffered or in flight
                    held = self._drain_buffer()
                    self.ledger.take(held, from_queue=False)
                if held:
                    self._give_up(held, DropReason.QUEUE_FULL)
                self._keep_journal()
            except StoreUnavailableError as exc:
                self._store_ok = False
                self._record(self._store_failure(exc))
                logger.warning("journal_failed", provider=self.name, cause="spill_store")
            except Exception as exc:  # noqa: BLE001 - the writer must survive; logged, counted
                self._survive("spill", exc, held)
            if self._stopping and not self._buffer:
                return

    # -- durable mode: the journal -------------------------------------------------------------
    def _journal_add(self, event: Event) -> None:
        if self._journal is not None:
            self._journal.add(event)

    def _journal_done(self, events: Sequence[Event]) -> None:
        if self._journal is not None:
            self._journal.done(events)

    def _keep_journal(self) -> None:
        if self._journal is not None and self._journal.keep():
            self._spill_pending = True

    def _give_up(self, events: list[Event], reason: str) -> None:
        """Spill ``events`` if there is a spill store, else drop them counting ``reason``."""
        if not events:
            return
        if self._spill is not None:
            try:
                allowed, denied = self._gate.split(events)
                self._settle(denied, DropReason.CONSENT_WITHDRAWN)
                for start in range(0, len(allowed), _SPILL_CHUNK):
                    self._spill_chunk(self._spill, allowed[start : start + _SPILL_CHUNK])
                return
            except StoreUnavailableError as exc:
                self._store_ok = False
                self._record(self._store_failure(exc))
                logger.warning(
                    "spill_failed", provider=self.name, count=len(events), cause="spill_store"
                )
        lost = self._settle(events, reason)  # what was spilled already is skipped
        with self._count_lock:
            self.undelivered += lost
        if lost:
            last = None if self._healthy else self.ledger.last_error
            logger.warning(
                "events_dropped", provider=self.name, count=lost, reason=str(reason),
                cause=last.cause if last is not None else None,
            )  # fmt: skip

    def _spill_chunk(self, spill: SpillStore, events: list[Event]) -> None:
        """Write some events to the spill store, then let the host thread run (the GIL)."""
        spill.push(self.name, [self._codec.encode(e) for e in events])
        self._store_ok = True
        self._spill_pending = True
        spilled = self._settle(events, SPILLED)
        with self._count_lock:
            self.spilled += spilled
            self.undelivered += spilled
        time.sleep(0)  # a long spill must not hold the GIL past the host's next track()

    def _sleep(self, seconds: float) -> None:
        self.provider.sleep(min(seconds, self._time_left()))

    # -- the senders ---------------------------------------------------------------------------
    def _send_loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                self._send(job)
            except Exception as exc:  # noqa: BLE001 - a sender must survive; logged, counted
                self._survive("sender", exc, job.events)
            finally:
                self._slots.release()

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

    def _attempt(self, route: str | None, parts: list[bytes]) -> SendResult:
        timeout = max(self._time_left() - _REQUEST_MARGIN, 0.01)
        if self._routed and route is not None:
            provider = cast(RoutedProvider, self.provider)
            return provider.deliver(parts, timeout=timeout, route=route)
        return self.provider.deliver(parts, timeout=timeout)

    def _send(self, chunk: Chunk) -> None:
        """Send one request; split, retry or give up on its events as the vendor answers."""
        work: list[tuple[list[Event], list[bytes]]] = [(chunk.events, chunk.parts)]
        while work:
            events, parts = work.pop()
            attempt = 0
            first_failure: float | None = None
            while events:
                if self._expired():
                    self._give_up(events, DropReason.SHUTDOWN_DEADLINE)
                    break
                # Consent may have been withdrawn while the request waited for a sender or
                # backed off: check right before every attempt, the first one included.
                events, parts = self._still_allowed(events, parts)
                if not events:
                    break
                result = self._attempt(chunk.route, parts)
                self._account(result, events)
                if result.split:
                    if len(events) > 1:
                        mid = len(events) // 2
                        work.append((events[mid:], parts[mid:]))
                        work.append((events[:mid], parts[:mid]))
                    else:
                        self._settle(events, DropReason.REJECTED_BY_VENDOR)
                    break
                again = sorted(set(result.retry) | set(result.resend))
                events = [events[i] for i in again]
                parts = [parts[i] for i in again]
                if not events or not result.retry:
                    continue
                attempt += 1
                now = self._clock.monotonic()
                first_failure = now if first_failure is None else first_failure
                failure = self._failure(result, attempt)
                self._record(failure)
                if attempt > self.provider.max_retries and self._stop_retrying(first_failure):
                    logger.warning(
                        "delivery_failed", provider=self.name, route=chunk.route,
                        cause=failure.cause, status_code=result.status_code,
                        error_class=failure.error_class, request_id=result.request_id,
                        attempts=attempt, count=len(events),
                    )  # fmt: skip
                    self._give_up(events, DropReason.RETRIES_EXHAUSTED)
                    break
                delay = self.provider.backoff(min(attempt, 30) - 1, result.retry_after)
                if self._spill is not None and delay > _SPILL_RATHER_THAN_WAIT:
                    # A sender backing off for long holds a slot the next batch (a probe of
                    # the vendor) needs: spill instead, replayed once the vendor answers.
                    logger.info(
                        "delivery_deferred", provider=self.name, cause=failure.cause,
                        attempts=attempt, count=len(events),
                    )  # fmt: skip
                    self._give_up(events, DropReason.RETRIES_EXHAUSTED)
                    break
                self.ledger.retried()
                self._metrics.retried(self.name)
                logger.info(
                    "delivery_retried", provider=self.name, cause=failure.cause,
                    status_code=result.status_code, error_class=failure.error_class,
                    attempt=attempt, delay=round(delay, 3), count=len(events),
                )  # fmt: skip
                if not self._wait_before_retry(delay):
                    self._give_up(events, DropReason.SHUTDOWN_DEADLINE)
                    break

    def _stop_retrying(self, first_failure: float) -> bool:
        """After ``max_retries``: spill now; without a spill store, keep on while there is room."""
        if self._spill is not None:
            return True
        spent = self._clock.monotonic() - first_failure
        return spent >= self._retry_budget or not self.queue.has_room()

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
        self._settle(denied, DropReason.CONSENT_WITHDRAWN)
        kept = [(e, p) for e, p in zip(events, parts, strict=True) if id(e) not in gone]
        return [e for e, _ in kept], [p for _, p in kept]

    def _account(self, result: SendResult, events: list[Event]) -> None:
        """Settle what the vendor accepted or rejected; note whether it is healthy."""
        if result.accepted:
            self._settle([events[i] for i in result.accepted], SENT)
        if result.rejected:
            by_reason: dict[str, list[Event]] = {}
            for index, reason in result.rejected.items():
                by_reason.setdefault(reason, []).append(events[index])
            for reason, rejected in by_reason.items():
                self._settle(rejected, reason)
            logger.warning(
                "events_rejected", provider=self.name, status_code=result.status_code,
                request_id=result.request_id, count=len(result.rejected),
            )  # fmt: skip
        if result.retry:
            self._healthy = False
            self._last_failure = self._clock.monotonic()
        elif result.accepted:
            self._healthy = True
        if self._debug:
            logger.debug(
                "batch_delivered", provider=self.name, status_code=result.status_code,
                count=len(events), accepted=len(result.accepted),
            )  # fmt: skip

    # -- failures ------------------------------------------------------------------------------
    def _failure(self, result: SendResult, attempt: int) -> DeliveryFailure:
        cause: FailureCause
        if result.status_code is None:
            cause = cast(FailureCause, result.cause or "transport")
            error_class = result.error or "TransportError"
        elif result.status_code == 429:
            cause, error_class = "rate_limit", RateLimitedError.__name__
        else:
            cause, error_class = "http_status", ProviderError.__name__
        return DeliveryFailure(
            cause=cause,
            error_class=error_class,
            status_code=result.status_code,
            retry_after=result.retry_after,
            attempts=attempt,
            request_id=result.request_id,
            at=self._clock.now().timestamp(),
        )

    def _store_failure(self, exc: StoreUnavailableError) -> DeliveryFailure:
        return DeliveryFailure(
            cause="spill_store",
            error_class=type(exc).__name__,
            at=self._clock.now().timestamp(),
        )

    def _record(self, failure: DeliveryFailure) -> None:
        """Keep ``failure`` as the last error and tell the error callback, if any."""
        self.ledger.last_error = failure
        callback = self._on_error
        if callback is None:
            return
        try:
            callback(provider_error(self.name, failure))
        except Exception as exc:  # noqa: BLE001 - a user's callback must not stop delivery
            logger.warning("error_callback_failed", provider=self.name,
                           error_class=type(exc).__name__)  # fmt: skip


def provider_error(provider: str, failure: DeliveryFailure) -> ProviderError:
    """The `ProviderError` (`RateLimitedError` for 429) describing ``failure``."""
    kwargs: dict[str, Any] = {
        "status_code": failure.status_code,
        "request_id": failure.request_id,
        "retry_after": failure.retry_after,
        "attempts": failure.attempts,
        "provider": provider,
        "cause": failure.cause,
    }
    status = f" (status {failure.status_code})" if failure.status_code is not None else ""
    message = f"{provider}: delivery failed, cause {failure.cause}{status}"
    if failure.cause == "rate_limit":
        return RateLimitedError(message, **kwargs)
    return ProviderError(message, **kwargs)
