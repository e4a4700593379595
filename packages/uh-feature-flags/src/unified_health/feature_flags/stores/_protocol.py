"""The storage Protocol every flag store implements, and the plain values it exchanges.

A store keeps four collections of JSON documents (``flags``, ``segments``, ``settings``,
``schedules``), a version counter, an epoch (a random id drawn when the keyspace is initialised),
an append-only audit log with its recorded head hash and length, and the keyspace's audit key
(the secret that keys the hashes audit records hold instead of context keys). Stores never
parse documents: a corrupt document is the evaluator's problem and affects only that flag.

Writes are compare-and-set on the whole store: `FeatureFlagStore.commit` applies every write,
bumps the version, appends the audit record and announces the change in one atomic step, or does
nothing and raises `ConflictError` when the store moved past ``base_version``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

__all__ = [
    "COLLECTIONS",
    "ChangeFeed",
    "Collection",
    "Commit",
    "FeatureFlagStore",
    "StoreState",
    "Write",
]

Collection = Literal["flags", "segments", "settings", "schedules"]
COLLECTIONS: tuple[Collection, ...] = ("flags", "segments", "settings", "schedules")


@dataclass(frozen=True, slots=True)
class StoreState:
    """Everything a store holds except the audit log, read atomically.

    ``audit_head`` and ``audit_length`` are the hash of the last audit record and the number of
    records, as recorded by the last commit (the verifier compares the log with them).
    ``audit_key`` is empty until the first commit that asks for one.

    Examples:
        >>> StoreState(version=3, epoch="e1").flags
        {}
    """

    version: int
    epoch: str
    flags: Mapping[str, str] = field(default_factory=dict)
    segments: Mapping[str, str] = field(default_factory=dict)
    settings: Mapping[str, str] = field(default_factory=dict)
    schedules: Mapping[str, str] = field(default_factory=dict)
    audit_head: str = ""
    audit_length: int = 0
    audit_key: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class Write:
    """Set (``value`` is a JSON document) or delete (``value`` is ``None``) one document.

    Examples:
        >>> Write("flags", "new-checkout", None).value is None
        True
    """

    collection: Collection
    key: str
    value: str | None


@dataclass(frozen=True, slots=True)
class Commit:
    """One atomic change: writes, one audit record, one version bump, one announcement.

    Args:
        base_epoch: The epoch the writer read (ignored when ``initialize`` is true).
        base_version: The version the writer read; the commit fails if the store moved.
        writes: The documents to set or delete.
        audit_record: The audit record as one JSON line, or ``None`` for none.
        audit_hash: The record's hash, which becomes the new audit head.
        initialize: Create the keyspace with a fresh ``new_epoch`` instead of requiring one.
            Allowed when the store holds no data or only an incomplete keyspace (wiped or
            half-written); the documents of the incomplete keyspace are replaced, its audit log
            is kept and the record is appended to it.
        new_epoch: The epoch to create when ``initialize`` is true.
        audit_base: With ``initialize``: the audit log length the record chains onto; the
            commit is a conflict when the log has another length. ``None`` skips the check.
        audit_key: A fresh audit key the store records when it holds none yet (ignored when
            it has one: the version check guarantees it was read with the state).

    Examples:
        >>> Commit(base_epoch="e1", base_version=3, writes=()).initialize
        False
    """

    base_epoch: str
    base_version: int
    writes: tuple[Write, ...]
    audit_record: str | None = None
    audit_hash: str = ""
    initialize: bool = False
    new_epoch: str = ""
    audit_base: int | None = None
    audit_key: str = field(default="", repr=False)


@runtime_checkable
class ChangeFeed(Protocol):
    """A subscription to change announcements.

    Examples:
        >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
        >>> feed = InMemoryFeatureFlagStore().watch()
        >>> feed.next(0.0) is None
        True
        >>> feed.close()
    """

    def next(self, timeout: float) -> tuple[str, int] | None:
        """Wait up to ``timeout`` seconds for an announcement.

        Args:
            timeout: Seconds to wait.

        Returns:
            The announced ``(epoch, version)``, or ``None`` when nothing arrived in time.

        Raises:
            StoreUnavailableError: The subscription broke; open a new one.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> InMemoryFeatureFlagStore().watch().next(0.0) is None
            True
        """
        ...

    def close(self) -> None:
        """Stop the subscription and release its connection.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> feed = InMemoryFeatureFlagStore().watch()
            >>> feed.next(0.0) is None
            True
            >>> feed.close()
        """
        ...


@runtime_checkable
class FeatureFlagStore(Protocol):
    """Where flag definitions live. Implement it to plug in your own backend.

    Examples:
        >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
        >>> isinstance(InMemoryFeatureFlagStore(), FeatureFlagStore)
        True
    """

    def read(self) -> StoreState | None:
        """Read the whole state atomically.

        Returns:
            The state, or ``None`` when the keyspace is not initialised or is incomplete
            (wiped, half-written): callers must then keep what they had.

        Raises:
            StoreUnavailableError: The store could not be reached.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> store = InMemoryFeatureFlagStore()
            >>> store.read().version
            0
        """
        ...

    def read_version(self) -> tuple[str, int] | None:
        """Read ``(epoch, version)`` cheaply, or ``None`` when not initialised.

        Raises:
            StoreUnavailableError: The store could not be reached.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> store = InMemoryFeatureFlagStore()
            >>> store.read_version()[1]
            0
        """
        ...

    def commit(self, commit: Commit) -> int:
        """Apply a commit atomically and announce it.

        Args:
            commit: The change.

        Returns:
            The new version.

        Raises:
            ConflictError: The store moved past ``base_version`` (or already exists when
                initialising); nothing was written.
            StoreUnavailableError: The store could not be reached, or is not initialised.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> store = InMemoryFeatureFlagStore()
            >>> state = store.read()
            >>> store.commit(Commit(state.epoch, state.version, (Write("flags", "f", "{}"),)))
            1
        """
        ...

    def audit_records(self) -> list[str]:
        """Return every audit record, oldest first, as JSON lines.

        Raises:
            StoreUnavailableError: The store could not be reached.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> store = InMemoryFeatureFlagStore()
            >>> store.audit_records()
            []
        """
        ...

    def watch(self) -> ChangeFeed:
        """Open a subscription to change announcements.

        Raises:
            StoreUnavailableError: The store could not be reached.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> store = InMemoryFeatureFlagStore()
            >>> feed = store.watch()
            >>> feed.next(0.0) is None
            True
            >>> feed.close()
        """
        ...

    def close(self) -> None:
        """Release what the store opened itself (never a client the caller passed in).

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> store = InMemoryFeatureFlagStore()
            >>> store.close()
            >>> store.read_version() is not None
            True
        """
        ...
