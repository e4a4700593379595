"""The state side of `FeatureFlagClient`: applying snapshots, change and status listeners.

`FeatureFlagClient` inherits these methods; they are documented there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from unified_health.feature_flags._clock import Clock
from unified_health.feature_flags._logging import logger
from unified_health.feature_flags._models import ClientStatus, FlagChangeEvent, SyncMetrics
from unified_health.feature_flags._snapshot import (
    Snapshot,
    build_snapshot,
    changed_keys,
    export_state,
)
from unified_health.feature_flags._sync import Synchronizer
from unified_health.feature_flags.stores._protocol import StoreState

__all__ = ["ClientState"]


class ClientState:
    """Snapshot installation, listeners, status and readiness of a `FeatureFlagClient`.

    Examples:
        >>> from unified_health.feature_flags import FeatureFlagClient
        >>> isinstance(FeatureFlagClient(), ClientState)
        True
    """

    _snapshot: Snapshot
    _snapshot_version: int
    _sync: Synchronizer
    _clock: Clock
    _stale_after: float
    _ready: threading.Event
    _listeners: list[Callable[[FlagChangeEvent], None]]
    _status_listeners: list[Callable[[ClientStatus], None]]
    _status_lock: threading.RLock
    _last_status: ClientStatus
    _poll_interval: float
    _reconnect_cap: float

    # ------------------------------------------------------------------ snapshots

    def _apply(self, state: StoreState) -> bool:
        current = self._snapshot
        if (
            current.source == "store"
            and state.epoch == current.epoch
            and state.version <= current.version
        ):
            self._ready.set()
            return False
        if current.source == "store" and state.epoch != current.epoch:
            logger.info("store_epoch_changed", version=state.version)
        self._install(build_snapshot(state, source="store", previous=current), notify=True)
        self._ready.set()
        return True

    def _install(self, snapshot: Snapshot, *, notify: bool) -> None:
        previous = self._snapshot
        version = snapshot.version
        if version <= self._snapshot_version and previous.source != "empty":
            version = self._snapshot_version + 1
        self._snapshot_version = max(version, self._snapshot_version)
        self._snapshot = snapshot
        changed = changed_keys(previous, snapshot)
        logger.debug("snapshot_applied", version=snapshot.version, changed=len(changed))
        if not notify or not changed:
            return
        event = FlagChangeEvent(changed_keys=changed, version=self._snapshot_version)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception as exc:  # noqa: BLE001 - a listener must not break propagation
                logger.warning("listener_failed", error_class=type(exc).__name__)

    @property
    def status(self) -> ClientStatus:
        """``NOT_READY`` (no flag data), ``READY``, or ``STALE`` (store out of reach too long).

        Examples:
            >>> from unified_health.feature_flags import FeatureFlagClient
            >>> FeatureFlagClient(background=False).status
            <ClientStatus.READY: 'READY'>
        """
        if self._snapshot.source == "empty":
            return ClientStatus.NOT_READY
        if self._sync.is_stale(self._stale_after):
            return ClientStatus.STALE
        if not self._sync.healthy and self._sync.counters.outage_started is not None:
            return ClientStatus.DISCONNECTED
        return ClientStatus.READY

    def sync_metrics(self) -> SyncMetrics:
        """Return the synchronisation's counters: outages, recoveries, reconnect attempts.

        Examples:
            >>> from unified_health.feature_flags import FeatureFlagClient
            >>> FeatureFlagClient(background=False).sync_metrics().recoveries
            0
        """
        sync = self._sync
        counters = sync.counters
        now = self._clock.monotonic()
        started = counters.outage_started
        return SyncMetrics(
            connected=started is None,
            outages=counters.outages,
            recoveries=counters.recoveries,
            reconnect_attempts=counters.reconnect_attempts,
            reads=counters.reads,
            polls=counters.polls,
            announcements=counters.announcements,
            current_outage_seconds=None if started is None else max(0.0, now - started),
            last_outage_seconds=counters.last_outage_seconds,
            seconds_since_contact=max(0.0, now - sync.last_ok),
            poll_interval=self._poll_interval,
            reconnect_max_delay=self._reconnect_cap,
        )

    def add_status_listener(self, callback: Callable[[ClientStatus], None]) -> Callable[[], None]:
        """Call ``callback`` with the new `status` each time it changes.

        The synchronisation checks the status after every attempt to reach the store (on the
        sync thread, or on the thread calling `refresh`), so ``STALE`` is reported at the first
        failed attempt after ``stale_after`` seconds out of reach (attempts are at most
        ``reconnect_max_delay`` apart) and ``READY`` as soon as the store answers again, whether
        or not anything evaluates a flag.

        Args:
            callback: Receives a `ClientStatus`; exceptions are logged and ignored.

        Returns:
            A function that unsubscribes.

        Examples:
            >>> from unified_health.feature_flags import FeatureFlagClient
            >>> client = FeatureFlagClient(background=False)
            >>> seen = []
            >>> unsubscribe = client.add_status_listener(seen.append)
            >>> unsubscribe()
            >>> client.status, seen
            (<ClientStatus.READY: 'READY'>, [])
        """
        self._status_listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._status_listeners:
                self._status_listeners.remove(callback)

        return unsubscribe

    def _check_status(self) -> None:
        with self._status_lock:
            status = self.status
            if status is self._last_status:
                return
            self._last_status = status
            logger.info("status_changed", status=status.value)
            for listener in list(self._status_listeners):
                try:
                    listener(status)
                except Exception as exc:  # noqa: BLE001 - a listener must not break the sync
                    logger.warning("listener_failed", error_class=type(exc).__name__)

    @property
    def snapshot_version(self) -> int:
        """A number that grows with every change this client applies.

        It is local to this process (another worker may count differently), so it suits
        in-process caches; the OFREP bulk endpoint's ETag hashes the response body instead.

        Examples:
            >>> from unified_health.feature_flags import FeatureFlagClient
            >>> FeatureFlagClient().snapshot_version
            0
        """
        return self._snapshot_version

    def ready(self) -> bool:
        """Whether flag data from the store has been loaded at least once.

        Examples:
            >>> from unified_health.feature_flags import FeatureFlagClient
            >>> FeatureFlagClient().ready()
            True
        """
        return self._ready.is_set()

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the first load from the store.

        Args:
            timeout: Seconds to wait.

        Returns:
            Whether the client is ready.

        Examples:
            >>> from unified_health.feature_flags import FeatureFlagClient
            >>> FeatureFlagClient().wait_ready(1.0)
            True
        """
        return self._ready.wait(timeout)

    def refresh(self) -> bool:
        """Read the store now, on this thread, and apply what changed.

        Returns:
            Whether the store answered with usable state.

        Examples:
            >>> from unified_health.feature_flags import FeatureFlagClient
            >>> FeatureFlagClient(background=False).refresh()
            True
        """
        return self._sync.sync_once()

    def export_snapshot(self) -> str:
        """Return the current data as a bootstrap document (JSON) for ``bootstrap=``.

        Examples:
            >>> from unified_health.feature_flags import FeatureFlagClient
            >>> '"format":"uh-feature-flags/v1"' in FeatureFlagClient().export_snapshot()
            True
        """
        return export_state(self._snapshot.state)

    def add_listener(self, callback: Callable[[FlagChangeEvent], None]) -> Callable[[], None]:
        """Call ``callback`` (on the sync thread) after each applied change.

        Args:
            callback: Receives a `FlagChangeEvent`; exceptions are logged and ignored.

        Returns:
            A function that unsubscribes.

        Examples:
            >>> from unified_health.feature_flags import FeatureFlagAdmin, FeatureFlagClient, Flag
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> store = InMemoryFeatureFlagStore()
            >>> client = FeatureFlagClient(store, background=False)
            >>> seen = []
            >>> unsubscribe = client.add_listener(lambda event: seen.append(event.changed_keys))
            >>> _ = FeatureFlagAdmin(store).create_flag(Flag(key="beta"), actor="ops", reason="new")
            >>> client.refresh()
            True
            >>> unsubscribe()
            >>> seen
            [frozenset({'beta'})]
        """
        self._listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return unsubscribe
