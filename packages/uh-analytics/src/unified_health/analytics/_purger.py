"""Consent withdrawals applied to the spill store on a thread of their own.

Reading a spill lane to find a user's events costs time proportional to its length (about half
a second per 50,000 events in Redis), so `set_consent` and `clear_consent` only hand the
withdrawal to a `SpillPurger`; its thread notes the withdrawal for this process's replays and
removes the user's spilled events. `AnalyticsClient.flush` waits for pending purges.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence

from unified_health.analytics._consent import ConsentGate
from unified_health.analytics._errors import StoreUnavailableError
from unified_health.analytics._identity import Pseudonymizer
from unified_health.analytics._logging import logger
from unified_health.analytics._metrics import Metrics
from unified_health.analytics._models import DropReason
from unified_health.analytics._outbound import outbound_ids
from unified_health.analytics._withdrawal import withdrawn_record
from unified_health.analytics.stores._protocol import SpillStore

__all__ = ["SpillPurger"]

#: Seconds between attempts when the spill store fails, and how many attempts a purge gets.
_RETRY_WAIT = 0.5
_ATTEMPTS = 4
#: Withdrawals waiting at most; beyond, the oldest waiting one for the same user is replaced.
_PENDING_KEPT = 10_000


class SpillPurger:
    """A thread removing withdrawn users' events from the spill store, one withdrawal at a time.

    Examples:
        >>> from unified_health.analytics import HmacPseudonymizer, InMemorySpillStore
        >>> from unified_health.analytics.stores import InMemoryConsentStore
        >>> gate = ConsentGate(InMemoryConsentStore(), {"analytics"}, {"analytics"})
        >>> purger = SpillPurger(InMemorySpillStore(), ["posthog"], gate=gate, metrics=Metrics(),
        ...                      pseudonymizer=HmacPseudonymizer({"k1": b"0" * 32}))
        >>> purger.submit("user-1", frozenset({"essential"}), at=0.0)
        >>> purger.wait(5)
        True
        >>> purger.close(1)
    """

    def __init__(
        self,
        store: SpillStore,
        lanes: Sequence[str],
        *,
        gate: ConsentGate,
        metrics: Metrics,
        pseudonymizer: Pseudonymizer,
    ) -> None:
        self._store = store
        self._lanes = sorted(set(lanes))
        self._gate = gate
        self._metrics = metrics
        self._pseudonymizer = pseudonymizer
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._pending: deque[tuple[str, frozenset[str], float] | None] = deque()
        self._busy = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def reset_after_fork(self) -> None:
        """Start over in a forked child (the parent keeps its own pending purges)."""
        self._reset()

    def submit(self, subject: str, allowed: frozenset[str], at: float) -> None:
        """Queue the purge of ``subject``'s spilled events outside ``allowed`` (returns at once)."""
        with self._changed:
            if len(self._pending) >= _PENDING_KEPT:
                self._pending = deque(j for j in self._pending if j is None or j[0] != subject)
            self._pending.append((subject, allowed, at))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="uh-analytics-purge", daemon=True
                )
                self._thread.start()
            self._changed.notify_all()

    def wait(self, timeout: float) -> bool:
        """Wait until no purge is pending or running; ``False`` if ``timeout`` passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._pending and not self._busy, timeout)

    def close(self, timeout: float) -> None:
        """Finish pending purges within ``timeout``, then stop the thread."""
        self.wait(max(timeout, 0.0))
        self._stop.set()
        with self._changed:
            self._pending.append(None)
            self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: bool(self._pending))
                job = self._pending.popleft()
                if job is None:
                    return
                self._busy = True
            try:
                self._purge(*job)
            except Exception as exc:  # noqa: BLE001 - the purger must survive; logged
                logger.error("spill_purge_crashed", error_class=type(exc).__name__)
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()

    def _purge(self, subject: str, allowed: frozenset[str], at: float) -> None:
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                removed = self._purge_once(subject, allowed, at)
            except StoreUnavailableError:
                logger.warning("spill_purge_failed", attempt=attempt, cause="spill_store")
                if self._stop.wait(_RETRY_WAIT * attempt):
                    return
                continue
            self._metrics.drop(DropReason.CONSENT_WITHDRAWN, removed)
            if removed:
                logger.info("spill_purged", count=removed)
            return

    def _purge_once(self, subject: str, allowed: frozenset[str], at: float) -> int:
        ids = outbound_ids(self._pseudonymizer, subject)
        self._gate.note_withdrawal(ids, allowed, at)

        def withdrawn(raw: bytes) -> bool:
            return withdrawn_record(raw, subject, ids, allowed)

        return sum(self._store.remove_if(lane, withdrawn) for lane in self._lanes)
