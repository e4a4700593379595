"""The background thread that keeps a client's snapshot current: feed, poll, reconnect.

One daemon thread per client. It subscribes to the store's change feed and reloads when an
announcement names another epoch or a higher version than the one it serves (older and duplicate
announcements cost nothing); every ``poll_interval`` seconds of the injected clock it compares
the store's ``(epoch, version)`` with its own to catch lost announcements. Reads may race (the
thread and a manual `Synchronizer.sync_once`): each read takes a ticket first, and a read that
returns after a later one was applied is dropped, so a late read from an old epoch never
replaces newer data.

Recovery is bounded by configuration. When the store fails the thread keeps the last snapshot,
logs once, and keeps trying: every attempt opens the subscription *and* reads the store (a
reconciliation read that runs whether or not the subscription could be opened), and attempts
are spaced by exponential backoff with full jitter capped at ``retry_cap`` (the client passes at
most half its poll interval). So once the store answers again, the next attempt, at most
``retry_cap`` later, loads whatever changed during the outage: a change is seen within the poll
interval plus one connection attempt, however long the outage lasted. It never raises into the
host application.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from unified_health.feature_flags._clock import Clock
from unified_health.feature_flags._config import Backoff
from unified_health.feature_flags._logging import logger
from unified_health.feature_flags.stores._protocol import ChangeFeed, FeatureFlagStore, StoreState

__all__ = ["SyncCounters", "Synchronizer"]

_SLICE = 0.2
"""The longest single wait on the change feed, in seconds (bounds how long `stop` takes)."""


@dataclass(slots=True)
class SyncCounters:
    """What the synchronisation has done so far (read by `FeatureFlagClient.sync_metrics`).

    Examples:
        >>> SyncCounters().outages
        0
    """

    outages: int = 0
    recoveries: int = 0
    reconnect_attempts: int = 0
    reads: int = 0
    polls: int = 0
    announcements: int = 0
    outage_started: float | None = None
    last_outage_seconds: float | None = None


class Synchronizer:
    """Loads store state into a client, in the background or on demand.

    Args:
        store: Where flags live.
        apply: Called with each state read; returns whether it was applied.
        current: Returns the ``(epoch, version)`` the client serves.
        clock: Measures time since the last successful contact (for staleness) and paces the
            reconciliation poll.
        poll_interval: Seconds (of ``clock``) between reconciliation polls.
        backoff: Delays between reconnection attempts (its cap bounds recovery).
        on_contact: Called with no arguments after every attempt to reach the store.

    Examples:
        >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
        >>> _example_synchronizer(InMemoryFeatureFlagStore()).sync_once()
        True
    """

    def __init__(
        self,
        store: FeatureFlagStore,
        *,
        apply: Callable[[StoreState], bool],
        current: Callable[[], tuple[str, int]],
        clock: Clock,
        poll_interval: float,
        backoff: Backoff,
        on_contact: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._on_contact = on_contact
        self._apply = apply
        self._current = current
        self._clock = clock
        self._poll_interval = poll_interval
        self._backoff = backoff
        self._changed = threading.Condition()
        self._reload_lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._feed: ChangeFeed | None = None
        self._ticket = 0
        self._applied_ticket = 0
        self.healthy = False
        self.synced_once = False
        self.last_ok = clock.monotonic()
        self.failures = 0
        self.counters = SyncCounters()
        self._attempted = threading.Event()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the background thread (idempotent).

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> sync = _example_synchronizer(InMemoryFeatureFlagStore())
            >>> sync.start()
            >>> sync.wait_for(lambda s: s.synced_once, timeout=5.0)
            True
            >>> sync.stop()
        """
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="uh-feature-flags-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and close the feed, quietly (closing is not an outage).

        Args:
            timeout: Seconds to wait for the thread to end.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> sync = _example_synchronizer(InMemoryFeatureFlagStore())
            >>> sync.stop()
            >>> sync.is_stale(300)
            False
        """
        self._stop.set()
        feed = self._feed
        if feed is not None:
            _close_quietly(feed)  # wakes the thread; it sees the stop flag and ends quietly
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    def after_fork_in_child(self) -> None:
        """Reset state inherited from the parent (locks, the dead thread, the feed) and restart.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> sync = _example_synchronizer(InMemoryFeatureFlagStore())
            >>> sync.stop()
            >>> sync.after_fork_in_child()  # stopped: stays stopped
            >>> sync.sync_once()  # reading on demand still works
            True
        """
        self._changed = threading.Condition()
        self._reload_lock = threading.RLock()
        self._feed = None  # the parent's connection: never reuse it, never close it here
        self._thread = None
        if not self._stop.is_set():
            self.start()

    def before_fork(self) -> None:
        """Hold the reload lock across fork so the child never inherits it mid-reload.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> sync = _example_synchronizer(InMemoryFeatureFlagStore())
            >>> sync.before_fork()
            >>> sync.after_fork_in_parent()
            >>> sync.sync_once()  # the reload lock is free again
            True
        """
        self._reload_lock.acquire()

    def after_fork_in_parent(self) -> None:
        """Release the lock taken by `before_fork`.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> sync = _example_synchronizer(InMemoryFeatureFlagStore())
            >>> sync.before_fork()
            >>> sync.after_fork_in_parent()
            >>> sync.sync_once()  # the reload lock is free again
            True
        """
        self._reload_lock.release()

    # ------------------------------------------------------------------ work

    def sync_once(self) -> bool:
        """Read the store once and hand the state to the client.

        The read happens outside the reload lock (a slow store never blocks another reader),
        but a read that returns after a later read was applied is dropped, not applied.

        Returns:
            Whether the store answered with usable state.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> _example_synchronizer(InMemoryFeatureFlagStore()).sync_once()
            True
        """
        with self._reload_lock:
            self._ticket += 1
            ticket = self._ticket
        self.counters.reads += 1
        try:
            state = self._store.read()
            if state is None:
                self._mark(healthy=False, cause="store_not_initialized")
                self._attempted.set()
                return False
            with self._reload_lock:
                if ticket < self._applied_ticket:
                    logger.debug("late_read_dropped", version=state.version)
                else:
                    self._applied_ticket = ticket
                    self._apply(state)
        except Exception as exc:  # noqa: BLE001 - a refresh must never raise into the host
            self._mark(healthy=False, error_class=type(exc).__name__)
            self._attempted.set()
            return False
        self.synced_once = True
        self._mark(healthy=True)
        self._attempted.set()
        return True

    def wait_first_attempt(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until a first read of the store has been attempted.

        Args:
            timeout: Seconds to wait (0 returns at once).

        Returns:
            Whether a read was attempted (successfully or not) in time.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> sync = _example_synchronizer(InMemoryFeatureFlagStore())
            >>> sync.wait_first_attempt(0.0)
            False
            >>> sync.sync_once()
            True
            >>> sync.wait_first_attempt(0.0)
            True
        """
        return self._attempted.wait(timeout)

    def is_stale(self, stale_after: float) -> bool:
        """Whether the store has been out of reach for at least ``stale_after`` seconds.

        Args:
            stale_after: Seconds of the injected clock.

        Returns:
            Whether results should carry reason ``STALE``.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> _example_synchronizer(InMemoryFeatureFlagStore()).is_stale(300)
            False
        """
        return not self.healthy and self._clock.monotonic() - self.last_ok >= stale_after

    def wait_for(self, predicate: Callable[[Synchronizer], bool], timeout: float) -> bool:
        """Wait until ``predicate(self)`` holds after a sync attempt, or ``timeout`` passes.

        Args:
            predicate: Checked now and after every sync attempt.
            timeout: Seconds to wait.

        Returns:
            Whether the predicate holds.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> sync = _example_synchronizer(InMemoryFeatureFlagStore())
            >>> sync.sync_once() and sync.wait_for(lambda s: s.healthy, timeout=1.0)
            True
        """
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    def _mark(self, *, healthy: bool, cause: str = "", error_class: str = "") -> None:
        """Record the outcome of a contact; ``cause`` or ``error_class`` says why it failed."""
        counters = self.counters
        now = self._clock.monotonic()
        if healthy:
            self.last_ok = now
            if counters.outage_started is not None:
                outage = max(0.0, now - counters.outage_started)
                counters.outage_started = None
                counters.recoveries += 1
                counters.last_outage_seconds = outage
                logger.info(
                    "store_recovered", failures=self.failures, outage_ms=round(outage * 1000)
                )
            self.failures = 0
            self._backoff.reset()
        else:
            if counters.outage_started is None:
                counters.outage_started = now
                counters.outages += 1
                if error_class:
                    logger.warning("store_sync_failed", error_class=error_class)
                else:
                    logger.warning("store_sync_failed", cause=cause)
            self.failures += 1
        self.healthy = healthy
        with self._changed:
            self._changed.notify_all()
        if self._on_contact is not None:
            self._on_contact()

    def _run(self) -> None:
        clock = self._clock
        next_poll = clock.monotonic() + self._poll_interval
        feed: ChangeFeed | None = None
        try:
            while not self._stop.is_set():
                if feed is None:
                    if self.counters.outage_started is not None:
                        self.counters.reconnect_attempts += 1
                    feed = self._open_feed()
                    # The reconciliation read runs whether or not the feed opened, so changes
                    # made during an outage are loaded at the first attempt that reaches them.
                    self.sync_once()
                    next_poll = clock.monotonic() + self._poll_interval
                    if feed is None:
                        self._stop.wait(self._backoff.next())
                        continue
                try:
                    # Wait in short slices: a subscription cannot always be woken from another
                    # thread, and `stop` must not wait for a whole poll interval.
                    announced = feed.next(min(_SLICE, max(0.0, next_poll - clock.monotonic())))
                except Exception as exc:  # noqa: BLE001 - the feed broke; reopen it after a pause
                    self._feed = None
                    _close_quietly(feed)
                    feed = None
                    if self._stop.is_set():
                        break  # closed under us by stop(): not an outage
                    self._mark(healthy=False, error_class=type(exc).__name__)
                    self._stop.wait(self._backoff.next())
                    continue
                if self._stop.is_set():
                    break
                if announced is not None:
                    self.counters.announcements += 1
                    if self._is_news(announced):
                        self.sync_once()
                if clock.monotonic() >= next_poll:
                    next_poll = clock.monotonic() + self._poll_interval
                    self._poll()
        finally:
            self._feed = None
            if feed is not None:
                _close_quietly(feed)

    def _is_news(self, announced: tuple[str, int]) -> bool:
        epoch, version = announced
        current_epoch, current_version = self._current()
        return epoch != current_epoch or version > current_version

    def _open_feed(self) -> ChangeFeed | None:
        try:
            feed = self._store.watch()
        except Exception as exc:  # noqa: BLE001 - logged once, retried with backoff
            if not self._stop.is_set():
                self._mark(healthy=False, error_class=type(exc).__name__)
            return None
        self._feed = feed
        if self._stop.is_set():  # stop() ran while the feed was opening
            self._feed = None
            _close_quietly(feed)
            return None
        return feed

    def _poll(self) -> None:
        self.counters.polls += 1
        try:
            found = self._store.read_version()
        except Exception as exc:  # noqa: BLE001 - logged once, retried at the next poll
            self._mark(healthy=False, error_class=type(exc).__name__)
            return
        if found is None:
            self._mark(healthy=False, cause="store_not_initialized")
        elif found != self._current() or not self.healthy:
            self.sync_once()
        else:
            self._mark(healthy=True)


def _close_quietly(feed: ChangeFeed) -> None:
    with contextlib.suppress(Exception):  # the connection is already gone
        feed.close()


def _example_synchronizer(store: FeatureFlagStore) -> Synchronizer:
    """Build a synchronizer that applies nothing (for the examples in this module)."""
    from unified_health.feature_flags._clock import SystemClock

    return Synchronizer(
        store,
        apply=lambda state: True,
        current=lambda: ("", 0),
        clock=SystemClock(),
        poll_interval=30.0,
        backoff=Backoff(),
    )
