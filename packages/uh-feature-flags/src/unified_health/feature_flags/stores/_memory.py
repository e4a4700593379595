"""The in-memory store: the embedded default, and the reference the Redis store must match."""

from __future__ import annotations

import threading
import uuid

from unified_health.feature_flags._errors import ConflictError, StoreUnavailableError
from unified_health.feature_flags.stores._protocol import COLLECTIONS, Commit, StoreState

__all__ = ["InMemoryFeatureFlagStore"]


class InMemoryFeatureFlagStore:
    """A thread-safe store held in this process. It starts initialised and empty.

    Args:
        initialized: Start with an empty keyspace (the default); pass ``False`` to model a store
            that holds no data until an admin initialises it.

    Examples:
        >>> store = InMemoryFeatureFlagStore()
        >>> store.read().version
        0
    """

    def __init__(self, *, initialized: bool = True) -> None:
        self._lock = threading.Condition()
        self._epoch: str | None = uuid.uuid4().hex if initialized else None
        self._version = 0
        self._data: dict[str, dict[str, str]] = {name: {} for name in COLLECTIONS}
        self._audit: list[str] = []
        self._audit_head = ""
        self._audit_key = ""

    def read(self) -> StoreState | None:
        """Return a consistent copy of the state, or ``None`` when not initialised.

        Examples:
            >>> InMemoryFeatureFlagStore(initialized=False).read() is None
            True
        """
        with self._lock:
            if self._epoch is None:
                return None
            return StoreState(
                version=self._version,
                epoch=self._epoch,
                flags=dict(self._data["flags"]),
                segments=dict(self._data["segments"]),
                settings=dict(self._data["settings"]),
                schedules=dict(self._data["schedules"]),
                audit_head=self._audit_head,
                audit_length=len(self._audit),
                audit_key=self._audit_key,
            )

    def read_version(self) -> tuple[str, int] | None:
        """Return ``(epoch, version)``, or ``None`` when not initialised.

        Examples:
            >>> InMemoryFeatureFlagStore().read_version()[1]
            0
        """
        with self._lock:
            return None if self._epoch is None else (self._epoch, self._version)

    def commit(self, commit: Commit) -> int:
        """Apply ``commit`` atomically; see `FeatureFlagStore.commit`.

        Examples:
            >>> from unified_health.feature_flags.stores import Commit, Write
            >>> store = InMemoryFeatureFlagStore()
            >>> state = store.read()
            >>> store.commit(Commit(state.epoch, state.version, (Write("flags", "f", "{}"),)))
            1
        """
        with self._lock:
            if commit.initialize:
                if self._epoch is not None:
                    raise ConflictError("the store is already initialised")
                if commit.audit_base is not None and commit.audit_base != len(self._audit):
                    raise ConflictError("the audit log moved while the store was initialised")
                self._data = {name: {} for name in COLLECTIONS}
                self._epoch, self._version = commit.new_epoch or uuid.uuid4().hex, 0
                self._audit_key = ""
            elif self._epoch is None:
                raise StoreUnavailableError("the store holds no flag data (not initialised)")
            elif (commit.base_epoch, commit.base_version) != (self._epoch, self._version):
                raise ConflictError(
                    f"the store is at version {self._version}, the write expected "
                    f"{commit.base_version}"
                )
            for write in commit.writes:
                collection = self._data[write.collection]
                if write.value is None:
                    collection.pop(write.key, None)
                else:
                    collection[write.key] = write.value
            if commit.audit_record is not None:
                self._audit.append(commit.audit_record)
                self._audit_head = commit.audit_hash
            if not self._audit_key and commit.audit_key:
                self._audit_key = commit.audit_key
            self._version += 1
            self._lock.notify_all()
            return self._version

    def audit_records(self) -> list[str]:
        """Return every audit record, oldest first.

        Examples:
            >>> InMemoryFeatureFlagStore().audit_records()
            []
        """
        with self._lock:
            return list(self._audit)

    def watch(self) -> _MemoryFeed:
        """Open a feed that wakes when a commit lands.

        Examples:
            >>> feed = InMemoryFeatureFlagStore().watch()
            >>> feed.next(0.0) is None
            True
        """
        return _MemoryFeed(self)

    def wipe(self, *, keep_audit: bool = False) -> None:
        """Forget everything, as a flushed Redis would (for outage tests).

        Args:
            keep_audit: Keep the audit log (and its recorded head), as when only the flag data
                was lost; a later `FeatureFlagAdmin.initialize` then chains onto it.

        Examples:
            >>> store = InMemoryFeatureFlagStore()
            >>> store.wipe()
            >>> store.read() is None
            True
        """
        with self._lock:
            self._epoch = None
            self._version = 0
            self._data = {name: {} for name in COLLECTIONS}
            self._audit_key = ""
            if not keep_audit:
                self._audit = []
                self._audit_head = ""
            self._lock.notify_all()

    def close(self) -> None:
        """Nothing to release.

        Examples:
            >>> store = InMemoryFeatureFlagStore()
            >>> store.close()
            >>> store.read_version() is not None
            True
        """

    def _announced(self) -> tuple[str, int] | None:
        return None if self._epoch is None else (self._epoch, self._version)


class _MemoryFeed:
    def __init__(self, store: InMemoryFeatureFlagStore) -> None:
        self._store = store
        with store._lock:
            self._seen = store._announced()
        self._closed = threading.Event()

    def next(self, timeout: float) -> tuple[str, int] | None:
        store = self._store
        with store._lock:
            if store._announced() == self._seen and not self._closed.is_set():
                store._lock.wait(timeout)
            current = store._announced()
            if self._closed.is_set() or current == self._seen:
                return None
            self._seen = current
            return current

    def close(self) -> None:
        self._closed.set()
        with self._store._lock:
            self._store._lock.notify_all()
