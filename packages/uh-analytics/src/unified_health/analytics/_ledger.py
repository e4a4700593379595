"""Where each of a provider's accepted events is: one lock, one counter per place.

Every change moves events from one place to another in a single call, so a snapshot taken at
any moment balances: ``accepted + replayed == sent + queued + in_flight + spilled + dropped``.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable

from unified_health.analytics._models import (
    DeliveryFailure,
    DeliveryState,
    Event,
    ProviderStatus,
)

__all__ = ["SENT", "SPILLED", "Ledger"]

#: The outcomes that settle in-flight events besides drop reasons.
SENT = "sent"
SPILLED = "spilled"


class Ledger:
    """The counters of one provider's lane.

    Examples:
        >>> events = [Event("track", "e", {}, None, "a", "analytics", 0.0, str(n), size=9)
        ...           for n in range(3)]
        >>> ledger = Ledger("posthog")
        >>> ledger.accept(3)
        >>> ledger.take(events)
        >>> ledger.settle(events[:2], SENT)
        (2, 2, 18)
        >>> ledger.settle(events, "rejected_by_vendor")  # the first two are already settled
        (1, 1, 9)
        >>> status = ledger.status("healthy")
        >>> (status.sent, status.dropped, status.unaccounted)
        (2, {'rejected_by_vendor': 1}, 0)
    """

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self._lock = threading.Lock()
        self._zero()

    def _zero(self) -> None:
        self._accepted = 0
        self._replayed = 0
        self._queued = 0
        self._sent = 0
        self._spilled = 0
        self._dropped: Counter[str] = Counter()
        self._retried = 0
        self._errors = 0
        # id(event) -> its size while it came from the queue (its room is given back when it
        # settles), or -1 for an event held for the spill store outside the queue.
        self._flying: dict[int, int] = {}
        self.last_error: DeliveryFailure | None = None

    def reset_after_fork(self) -> None:
        """Give a forked child a fresh lock and empty counters (its queues start empty)."""
        self._lock = threading.Lock()
        self._zero()

    def accept(self, count: int = 1) -> None:
        """``count`` new events are queued."""
        with self._lock:
            self._accepted += count
            self._queued += count

    def refuse(self, reason: str, count: int = 1) -> None:
        """``count`` new events are dropped before they were queued."""
        with self._lock:
            self._accepted += count
            self._dropped[reason] += count

    def replay(self, count: int) -> None:
        """``count`` events came back from the spill store and are queued."""
        if count:
            with self._lock:
                self._replayed += count
                self._queued += count

    def drop_queued(self, reason: str, count: int) -> None:
        """``count`` queued events are dropped (evicted, purged)."""
        if count:
            with self._lock:
                self._queued -= count
                self._dropped[reason] += count

    def take(self, events: Iterable[Event], *, from_queue: bool = True) -> None:
        """Queued events are taken for delivery (or, not ``from_queue``, for the spill store)."""
        with self._lock:
            flying = self._flying
            count = 0
            for event in events:
                flying[id(event)] = event.size if from_queue else -1
                count += 1
            self._queued -= count

    def settle(
        self, events: Iterable[Event], outcome: str, settled: list[Event] | None = None
    ) -> tuple[int, int, int]:
        """In-flight ``events`` end as ``outcome`` (sent, spilled or a drop reason).

        Events already settled are skipped, so a thread that survives an error can settle
        everything it held without counting anything twice. The events settled by this call
        are appended to ``settled`` when it is given.

        Returns:
            How many were settled, how many of them came from the queue, and their bytes.
        """
        count = queued = size = 0
        with self._lock:
            flying = self._flying
            for event in events:
                held = flying.pop(id(event), None)
                if held is None:
                    continue
                if settled is not None:
                    settled.append(event)
                count += 1
                if held >= 0:
                    queued += 1
                    size += held
            if count:
                if outcome == SENT:
                    self._sent += count
                elif outcome == SPILLED:
                    self._spilled += count
                else:
                    self._dropped[outcome] += count
        return count, queued, size

    @property
    def in_flight(self) -> int:
        """Events taken and not yet settled."""
        return len(self._flying)

    def retried(self) -> None:
        """Count one repeated attempt."""
        with self._lock:
            self._retried += 1

    def error(self) -> None:
        """Count one unexpected error a delivery thread survived."""
        with self._lock:
            self._errors += 1

    @property
    def sent(self) -> int:
        """Events sent so far."""
        return self._sent

    def status(self, state: DeliveryState, *, spill_pending: bool = False) -> ProviderStatus:
        """A consistent copy of the counters."""
        with self._lock:
            return ProviderStatus(
                provider=self.provider,
                state=state,
                accepted=self._accepted,
                replayed=self._replayed,
                sent=self._sent,
                queued=self._queued,
                in_flight=len(self._flying),
                spilled=self._spilled,
                dropped=dict(self._dropped),
                retried=self._retried,
                lane_errors=self._errors,
                spill_pending=spill_pending,
                last_error=self.last_error,
            )
