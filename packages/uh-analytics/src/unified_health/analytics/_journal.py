"""Durable mode's journal: every accepted event in the spill store within a bounded delay.

A `Journal` remembers, in acceptance order, the events its lane accepted. Its ``keep`` step
(run by the lane's spill writer every few hundredths of a second) appends the new ones to this
process's journal in the store, trims the oldest ones once they are settled (sent, spilled or
dropped) and so renews the process's lease. It also adopts the journals of processes whose lease
ran out (killed ones), moving their events to the spill lane for replay. Settled events are
tracked by identity, and kept referenced until trimmed so that an identity is never reused
while it is tracked.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Sequence

from unified_health.analytics._clock import Clock
from unified_health.analytics._logging import logger
from unified_health.analytics._models import Event
from unified_health.analytics._spill import SpillCodec
from unified_health.analytics.stores._protocol import JournalingSpillStore

__all__ = ["ADOPT_EVERY", "LEASE_EVERY", "Journal"]

#: Seconds between two looks for journals of dead processes.
ADOPT_EVERY = 1.0
#: Seconds after which an idle durable journal renews its lease anyway.
LEASE_EVERY = 0.25


class Journal:
    """One lane's journal (written only in durable mode; adoption happens in every mode).

    Examples:
        >>> import redis
        >>> from unified_health.analytics import RedisSpillStore, SystemClock
        >>> store = RedisSpillStore(redis.Redis(), prefix="doc-journal")
        >>> journal = Journal(store, "posthog", SpillCodec(lambda e: None), SystemClock(),
        ...                   durable=False)
        >>> journal.keep()  # adopts nothing, writes nothing
        0
    """

    def __init__(
        self,
        store: JournalingSpillStore,
        lane: str,
        codec: SpillCodec,
        clock: Clock,
        *,
        durable: bool,
    ) -> None:
        self._store = store
        self._lane = lane
        self._codec = codec
        self._clock = clock
        self.durable = durable
        self.reset_after_fork()

    def reset_after_fork(self) -> None:
        """A new owner with empty state (a forked child journals its own events)."""
        self.owner = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._unwritten: deque[Event] = deque()
        self._written: deque[Event] = deque()
        self._done: set[int] = set()
        self._trim_pending = 0
        self._written_at = float("-inf")
        self._adopted_at = float("-inf")

    def add(self, event: Event) -> None:
        """``event`` was accepted (or taken back from the spill store)."""
        if self.durable:
            self._unwritten.append(event)

    def done(self, events: Sequence[Event]) -> None:
        """``events`` are settled: their records may be trimmed."""
        if self.durable and events:
            with self._lock:
                self._done.update(id(e) for e in events)

    def keep(self) -> int:
        """Adopt dead processes' journals (when due), then write and trim this one.

        Returns:
            How many events were adopted into the spill lane.

        Raises:
            StoreUnavailableError: The store failed (nothing is lost: retried next time).
        """
        now = self._clock.monotonic()
        moved = 0
        if now - self._adopted_at >= ADOPT_EVERY:
            self._adopted_at = now
            moved = self._store.adopt(self._lane)
            if moved:
                logger.info("journal_adopted", provider=self._lane, count=moved)
        if self.durable:
            self._write(now)
        return moved

    def _write(self, now: float) -> None:
        fresh, trim = self._take_work()
        if not fresh and not trim and now - self._written_at < LEASE_EVERY:
            return
        try:
            records = [self._codec.encode(e, remember=False) for e in fresh]
            self._store.journal(self._lane, self.owner, records, trim)
        except BaseException:
            with self._lock:  # written next time
                self._unwritten.extendleft(reversed(fresh))
                self._trim_pending += trim
            raise
        self._written_at = now
        with self._lock:
            self._written.extend(fresh)

    def _take_work(self) -> tuple[list[Event], int]:
        """New events still unsettled, and how many of the oldest written ones are settled."""
        with self._lock:
            done = self._done
            fresh: list[Event] = []
            while self._unwritten:
                event = self._unwritten.popleft()
                if id(event) in done:
                    done.discard(id(event))
                else:
                    fresh.append(event)
            trim = self._trim_pending
            written = self._written
            while written and id(written[0]) in done:
                done.discard(id(written.popleft()))
                trim += 1
            self._trim_pending = 0
        return fresh, trim

    def close(self) -> None:
        """Delete this process's journal (call only when every event is settled)."""
        if self.durable:
            self._store.close_journal(self._lane, self.owner)
