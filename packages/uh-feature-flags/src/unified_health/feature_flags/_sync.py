"""The background thread that keeps a client's snapshot current: feed, poll, reconnect.

One daemon thread per client. It subscribes to the store's change feed and reloads when a
version other than the current one is announced; every ``poll_interval`` seconds it compares the
store's version with its own to catch lost announcements. When the store fails it keeps the last
snapshot, logs once, and retries with exponential backoff and full jitter. It never raises into
the host application.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

import structlog

from unified_health.feature_flags._config import Backoff, Clock
from unified_health.feature_flags.stores._protocol import ChangeFeed, FeatureFlagStore, StoreState

__all__ = ["Synchronizer"]

_log = structlog.get_logger("unified_health.feature_flags")


class Synchronizer:
    """Loads store state into a client, in the background or on demand.

    Args:
        store: Where flags live.
        apply: Called with each state read; returns whether it was applied.
        current: Returns the ``(epoch, version)`` the client serves.
        clock: Measures time since the last successful contact (for staleness).
        poll_interval: Seconds between reconciliation polls.
        backoff: Delays between reconnection attempts.
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
    ) -> None:
        self._store = store
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
        self.healthy = False
        self.synced_once = False
        self.last_ok = clock.monotonic()
        self.failures = 0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the background thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="uh-feature-flags-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and close the feed."""
        self._stop.set()
        feed, self._feed = self._feed, None
        if feed is not None:
            _close_quietly(feed)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    def after_fork_in_child(self) -> None:
        """Reset state inherited from the parent (locks, the dead thread, the feed) and restart."""
        self._changed = threading.Condition()
        self._reload_lock = threading.RLock()
        self._feed = None  # the parent's connection: never reuse it, never close it here
        self._thread = None
        if not self._stop.is_set():
            self.start()

    def before_fork(self) -> None:
        """Hold the reload lock across fork so the child never inherits it mid-reload."""
        self._reload_lock.acquire()

    def after_fork_in_parent(self) -> None:
        """Release the lock taken by `before_fork`."""
        self._reload_lock.release()

    # ------------------------------------------------------------------ work

    def sync_once(self) -> bool:
        """Read the store once and hand the state to the client.

        Returns:
            Whether the store answered with usable state.
        """
        try:
            state = self._store.read()
            if state is None:
                self._mark(healthy=False, cause="store_not_initialized")
                return False
            with self._reload_lock:
                self._apply(state)
        except Exception as exc:  # noqa: BLE001 - a refresh must never raise into the host
            self._mark(healthy=False, cause=type(exc).__name__)
            return False
        self.synced_once = True
        self._mark(healthy=True, cause="")
        return True

    def is_stale(self, stale_after: float) -> bool:
        """Whether the store has been out of reach for at least ``stale_after`` seconds."""
        return not self.healthy and self._clock.monotonic() - self.last_ok >= stale_after

    def wait_for(self, predicate: Callable[[Synchronizer], bool], timeout: float) -> bool:
        """Wait until ``predicate(self)`` holds after a sync attempt, or ``timeout`` passes."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    def _mark(self, *, healthy: bool, cause: str) -> None:
        if healthy:
            self.last_ok = self._clock.monotonic()
            if not self.healthy and self.failures:
                _log.info("feature_flags_store_recovered", failures=self.failures)
            self.failures = 0
            self._backoff.reset()
        else:
            if self.healthy or self.failures == 0:
                _log.warning("feature_flags_store_unavailable", cause=cause)
            self.failures += 1
        self.healthy = healthy
        with self._changed:
            self._changed.notify_all()

    def _run(self) -> None:
        next_poll = time.monotonic() + self._poll_interval
        while not self._stop.is_set():
            if self._feed is None:
                self._feed = self._open_feed()
                if self._feed is None or not self.sync_once():
                    self._stop.wait(self._backoff.next())
                    next_poll = time.monotonic() + self._poll_interval
                    continue
            try:
                announced = self._feed.next(max(0.0, next_poll - time.monotonic()))
            except Exception as exc:  # noqa: BLE001 - the feed broke; reopen it after a pause
                feed, self._feed = self._feed, None
                if feed is not None:
                    _close_quietly(feed)
                self._mark(healthy=False, cause=type(exc).__name__)
                self._stop.wait(self._backoff.next())
                continue
            if self._stop.is_set():
                break
            if announced is not None and announced != self._current()[1]:
                self.sync_once()
            if time.monotonic() >= next_poll:
                next_poll = time.monotonic() + self._poll_interval
                self._poll()

    def _open_feed(self) -> ChangeFeed | None:
        try:
            return self._store.watch()
        except Exception as exc:  # noqa: BLE001 - logged once, retried with backoff
            self._mark(healthy=False, cause=type(exc).__name__)
            return None

    def _poll(self) -> None:
        try:
            found = self._store.read_version()
        except Exception as exc:  # noqa: BLE001 - logged once, retried at the next poll
            self._mark(healthy=False, cause=type(exc).__name__)
            return
        if found is None:
            self._mark(healthy=False, cause="store_not_initialized")
        elif found != self._current() or not self.healthy:
            self.sync_once()
        else:
            self._mark(healthy=True, cause="")


def _close_quietly(feed: ChangeFeed) -> None:
    with contextlib.suppress(Exception):  # the connection is already gone
        feed.close()
