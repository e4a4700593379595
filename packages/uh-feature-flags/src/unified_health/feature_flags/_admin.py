"""`FeatureFlagAdmin`: validated, audited, optimistic-concurrency writes for dashboards.

See `unified_health.feature_flags._mutation` for the write cycle every verb goes through.
"""

from __future__ import annotations

import contextlib
import functools
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self

from unified_health.feature_flags._audit import (
    AuditRecord,
    AuditVerification,
    new_audit_key,
    raw_digest,
    seal,
    verify_chain,
)
from unified_health.feature_flags._changes import ChangeSet, ChangeSetResult
from unified_health.feature_flags._clock import Clock, SystemClock
from unified_health.feature_flags._config import redis_settings_from_env
from unified_health.feature_flags._errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StoreUnavailableError,
)
from unified_health.feature_flags._models import Flag, Rollout, Segment
from unified_health.feature_flags._mutation import (
    Mutation,
    StoreView,
    Writer,
    change_set_mutation,
    check_who,
    doc,
    document_writes,
    dump,
)
from unified_health.feature_flags._operators import SEGMENT_OPERATORS
from unified_health.feature_flags._schedule import (
    DEFAULT_SCHEDULE_RETENTION,
    FINISHED,
    SCHEDULER_ACTOR,
    ScheduledChange,
    StaleFlag,
    due_mutation,
    finished_at,
    fully_rolled_out,
    parse_schedule,
    parse_schedules,
)
from unified_health.feature_flags._snapshot import state_from_document
from unified_health.feature_flags._validation import check_references, parse_model
from unified_health.feature_flags.stores._protocol import Commit, FeatureFlagStore, Write
from unified_health.feature_flags.stores._redis import DEFAULT_PREFIX, RedisFeatureFlagStore

__all__ = ["FeatureFlagAdmin"]


class FeatureFlagAdmin:
    """Create, change and retire flags and segments; every write is validated and audited.

    Args:
        store: Where flags live.
        clock: Injected time for audit records, schedules and the stale-flag report.
        max_attempts: How often a write is retried when another writer moved the store.

    Examples:
        >>> from unified_health.feature_flags import Flag, InMemoryFeatureFlagStore
        >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
        >>> admin.create_flag(Flag(key="beta", enabled=True), actor="ops", reason="launch").version
        1
        >>> admin.toggle_flag("beta", False, actor="ops", reason="incident 42").enabled
        False
    """

    def __init__(
        self, store: FeatureFlagStore, *, clock: Clock | None = None, max_attempts: int = 5
    ) -> None:
        self._store = store
        self._clock = clock if clock is not None else SystemClock()
        self._writer = Writer(store, clock=self._clock, max_attempts=max_attempts)
        self._owns_store = False

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        clock: Clock | None = None,
        max_attempts: int = 5,
    ) -> FeatureFlagAdmin:
        """Build an admin on a `RedisFeatureFlagStore` it owns (closed with the admin).

        No connection is made until the first call.

        Args:
            url: A Redis URL such as ``redis://127.0.0.1:6379/0``.
            prefix: The key prefix.
            clock: As for `FeatureFlagAdmin`.
            max_attempts: As for `FeatureFlagAdmin`.

        Returns:
            The admin.

        Raises:
            InvalidInputError: The URL or the prefix is invalid.

        Examples:
            >>> url = "redis://127.0.0.1:6379/0"
            >>> with FeatureFlagAdmin.from_url(url, prefix="myapp:ff", max_attempts=3) as admin:
            ...     type(admin).__name__
            'FeatureFlagAdmin'
        """
        admin = cls(
            RedisFeatureFlagStore.from_url(url, prefix=prefix),
            clock=clock,
            max_attempts=max_attempts,
        )
        admin._owns_store = True
        return admin

    @classmethod
    def from_env(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        max_attempts: int = 5,
    ) -> FeatureFlagAdmin:
        """Build an admin like `from_url`, with the URL and prefix from the environment.

        Reads ``UH_FEATURE_FLAGS_REDIS_URL`` (required) and ``UH_FEATURE_FLAGS_PREFIX``
        (optional, ``uh:ff`` by default).

        Args:
            environ: The environment to read; ``os.environ`` by default.
            clock: As for `FeatureFlagAdmin`.
            max_attempts: As for `FeatureFlagAdmin`.

        Returns:
            The admin.

        Raises:
            InvalidInputError: ``UH_FEATURE_FLAGS_REDIS_URL`` is not set, or a setting is
                invalid.

        Examples:
            >>> env = {
            ...     "UH_FEATURE_FLAGS_REDIS_URL": "redis://127.0.0.1:6379/0",
            ...     "UH_FEATURE_FLAGS_PREFIX": "myapp:ff",
            ... }
            >>> with FeatureFlagAdmin.from_env(environ=env) as admin:
            ...     type(admin).__name__
            'FeatureFlagAdmin'
            >>> from unified_health.feature_flags import InvalidInputError
            >>> try:
            ...     FeatureFlagAdmin.from_env(environ={"UH_FEATURE_FLAGS_PREFIX": "myapp:ff"})
            ... except InvalidInputError as err:
            ...     print(err.field, err.rule)
            UH_FEATURE_FLAGS_REDIS_URL must be set
        """
        url, prefix = redis_settings_from_env(environ, DEFAULT_PREFIX)
        return cls.from_url(url, prefix=prefix, clock=clock, max_attempts=max_attempts)

    def close(self) -> None:
        """Close the store if the admin created it (`from_url`); an injected one stays open."""
        if self._owns_store:
            self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def initialize(
        self, *, actor: str, reason: str, document: str | bytes | Mapping[str, Any] | None = None
    ) -> int:
        """Create an empty keyspace, or restore one from a snapshot document.

        Use it once per fresh deployment, or after Redis lost its data (wholly, or a part that
        leaves the keyspace incomplete): pass a document exported by a running client
        (`FeatureFlagClient.export_snapshot`) to restore every flag. The documents of an
        incomplete keyspace are replaced; a surviving audit log is kept and the initialise record
        chains onto it.

        Args:
            actor: Who asks.
            reason: Why.
            document: A bootstrap document to seed the store with.

        Returns:
            The new store version.

        Raises:
            ConflictError: The store already holds a complete keyspace.
            InvalidInputError: A document in ``document`` is invalid.
            StoreUnavailableError: The store could not be reached.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore(initialized=False))
            >>> admin.initialize(actor="ops", reason="new keyspace")
            1
        """
        check_who(actor, reason)
        writes: list[Write] = []
        if document is not None:
            writes.extend(document_writes(state_from_document(document)))
        records = self._store.audit_records()
        record, digest = seal(
            seq=len(records) + 1,
            at=self._clock.now(),
            actor=actor,
            reason=reason,
            action="store.initialize",
            target="*",
            before=None,
            after={"flags": sum(w.collection == "flags" for w in writes)},
            store_version=1,
            prev_hash=_last_hash(records),
        )
        return self._store.commit(
            Commit(
                base_epoch="",
                base_version=0,
                writes=tuple(writes),
                audit_record=record,
                audit_hash=digest,
                initialize=True,
                new_epoch=uuid.uuid4().hex,
                audit_base=len(records),
                audit_key=new_audit_key(),
            )
        )

    def seed(
        self,
        flags: Sequence[Flag | Mapping[str, Any]] = (),
        segments: Sequence[Segment | Mapping[str, Any]] = (),
        *,
        actor: str,
        reason: str,
    ) -> list[str]:
        """Make sure the store holds these flags and segments; safe to run again and again.

        Initialises the keyspace when it holds none (a fresh Redis; an in-memory store starts
        initialised), then creates, in one change set, the flags and segments that do not exist
        yet. Existing ones are left exactly as they are (an operator may have changed them
        since), so a second run writes nothing. Every store behaves the same.

        Args:
            flags: Flag definitions to create when missing.
            segments: Segment definitions to create when missing.
            actor: Who asks.
            reason: Why.

        Returns:
            The keys created by this call (``segment:<key>`` for segments), sorted; empty when
            everything was already there.

        Raises:
            InvalidInputError: A definition is invalid, or the result would be inconsistent.
            StoreUnavailableError: The store could not be reached.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore(initialized=False))
            >>> admin.seed([Flag(key="new-feature", enabled=True)], actor="ops", reason="setup")
            ['new-feature']
            >>> admin.seed([Flag(key="new-feature", enabled=True)], actor="ops", reason="setup")
            []
        """
        check_who(actor, reason)
        changes = ChangeSet()
        for segment in segments:
            changes.put_segment(segment, expected_version=0)
        for flag in flags:
            changes.put_flag(flag, expected_version=0)
        if self._store.read() is None:
            with contextlib.suppress(ConflictError):  # another process initialised it first
                self.initialize(actor=actor, reason=reason)
        frozen = changes.changes
        if not frozen:
            return []

        def build(view: StoreView) -> Mutation | None:
            missing = tuple(
                change
                for change in frozen
                if change.key
                not in (view.state.flags if change.kind == "flag" else view.state.segments)
            )
            if not missing:
                return None
            return change_set_mutation(view, missing, None, self._clock.now(), action="seed")

        result: ChangeSetResult | None = self._writer.mutate(build, actor=actor, reason=reason)
        if result is None:
            return []
        return sorted([*result.flags, *(f"segment:{key}" for key in result.segments)])

    # ------------------------------------------------------------------ change sets

    def change_set(self) -> ChangeSet:
        """Start an empty `ChangeSet` (the same as ``ChangeSet()``).

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> len(FeatureFlagAdmin(InMemoryFeatureFlagStore()).change_set())
            0
        """
        return ChangeSet()

    def apply_change_set(
        self,
        changes: ChangeSet,
        *,
        expected_store_version: int | None = None,
        actor: str,
        reason: str,
    ) -> ChangeSetResult:
        """Commit several flag and segment changes as one: all of them or none.

        The changes are resolved against one read of the store and the resulting state is
        validated as a whole (prerequisites and segments may refer to what the same change set
        creates, and must not refer to what it deletes). Then every document, one audit record
        naming every change, and one version bump are committed in a single compare-and-set,
        announced once. Clients install the new version in one swap, so no reader sees part of
        it. If another writer commits first, the change set is re-resolved and re-checked
        (per-change ``expected_version`` conditions then decide).

        Args:
            changes: The change set.
            expected_store_version: Commit only if the store is still at this version (the
                whole store's optimistic lock, e.g. the version a release was reviewed at).
            actor: Who asks.
            reason: Why.

        Returns:
            What was committed, with the store version of the commit.

        Raises:
            InvalidInputError: A change is invalid, or the resulting state is (field named).
            ConflictError: A version expectation failed; nothing was written.
            NotFoundError: A patch names a missing flag; nothing was written.
            StoreUnavailableError: The store could not be reached; nothing was written.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore, Prerequisite
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> release = (
            ...     admin.change_set()
            ...     .put_flag(Flag(key="new-billing", enabled=True))
            ...     .put_flag(
            ...         Flag(key="new-invoices", prerequisites=[Prerequisite(key="new-billing")])
            ...     )
            ... )
            >>> admin.apply_change_set(release, actor="ops", reason="release 42").version
            1
            >>> [record.action for record in admin.audit_log()]
            ['change_set.apply']
        """
        given: object = changes
        if not isinstance(given, ChangeSet):
            raise InvalidInputError("changes", "must be a ChangeSet")
        if expected_store_version is not None and (
            isinstance(expected_store_version, bool) or not isinstance(expected_store_version, int)
        ):
            raise InvalidInputError("expected_store_version", "must be an integer")
        frozen = changes.changes
        if not frozen:
            raise InvalidInputError("changes", "must hold at least one change")
        clock = self._clock
        result: ChangeSetResult = self._writer.mutate(
            lambda view: change_set_mutation(view, frozen, expected_store_version, clock.now()),
            actor=actor,
            reason=reason,
        )
        return result

    # ------------------------------------------------------------------ flags

    def get_flag(self, key: str) -> Flag:
        """Return a flag (archived ones included).

        Args:
            key: The flag key.

        Returns:
            The flag.

        Raises:
            NotFoundError: No such flag (or its stored document is unreadable).

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> _ = admin.create_flag(Flag(key="beta"), actor="ops", reason="new")
            >>> admin.get_flag("beta").version
            1
        """
        found = self._writer.view().flags.get(key)
        if found is None:
            raise NotFoundError("flag", key)
        return found

    def flag_exists(self, key: str) -> bool:
        """Whether a flag with this key exists (archived, or unreadable, or not).

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> FeatureFlagAdmin(InMemoryFeatureFlagStore()).flag_exists("beta")
            False
        """
        return key in self._writer.view().state.flags

    def list_flags(self, *, include_archived: bool = True) -> list[Flag]:
        """Return every readable flag, sorted by key.

        Args:
            include_archived: Include archived flags.

        Returns:
            The flags.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> FeatureFlagAdmin(InMemoryFeatureFlagStore()).list_flags()
            []
        """
        flags = self._writer.view().flags
        return [f for _, f in sorted(flags.items()) if include_archived or not f.archived]

    def create_flag(self, flag: Flag | Mapping[str, Any], *, actor: str, reason: str) -> Flag:
        """Create a flag at version 1.

        Args:
            flag: The definition (a model, or a mapping validated here).
            actor: Who asks.
            reason: Why.

        Returns:
            The stored flag.

        Raises:
            InvalidInputError: The definition is invalid (field and rule named).
            ConflictError: A flag with this key exists.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> admin.create_flag({"key": "beta"}, actor="ops", reason="new").key
            'beta'
        """
        candidate = parse_model(Flag, flag)

        def build(view: StoreView) -> Mutation:
            if candidate.key in view.state.flags:
                raise ConflictError(f"flag {candidate.key!r} already exists")
            now = self._clock.now()
            new = candidate.model_copy(update={"version": 1, "created_at": now, "updated_at": now})
            self._check_flag(new, view)
            return Mutation(
                "flag.create", new.key, (Write("flags", new.key, doc(new)),), None, dump(new), new
            )

        result: Flag = self._writer.mutate(build, actor=actor, reason=reason)
        return result

    def update_flag(
        self, flag: Flag | Mapping[str, Any], *, expected_version: int, actor: str, reason: str
    ) -> Flag:
        """Replace a flag's definition if it is still at ``expected_version``.

        This is also how an unreadable stored document (corrupt, or from a newer version) is
        repaired: the audit record then describes the old one by the hash of its text.

        Args:
            flag: The new definition (its ``version`` is ignored).
            expected_version: The version the caller read (the ETag).
            actor: Who asks.
            reason: Why.

        Returns:
            The stored flag, at ``expected_version + 1``.

        Raises:
            InvalidInputError: The definition is invalid.
            NotFoundError: No such flag.
            ConflictError: The flag changed since ``expected_version``.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> _ = admin.create_flag(Flag(key="beta"), actor="ops", reason="new")
            >>> new = Flag(key="beta", enabled=True)
            >>> admin.update_flag(new, expected_version=1, actor="ops", reason="on").version
            2
        """
        candidate = parse_model(Flag, flag)
        return self._replace_flag(
            candidate.key,
            lambda current: candidate,
            expected_version,
            "flag.update",
            actor,
            reason,
            whole=True,
        )

    def toggle_flag(
        self,
        key: str,
        enabled: bool,
        *,
        expected_version: int | None = None,
        actor: str,
        reason: str,
    ) -> Flag:
        """Turn a flag on or off.

        Args:
            key: The flag.
            enabled: On or off.
            expected_version: The version the caller read, if it must still be current.
            actor: Who asks.
            reason: Why.

        Returns:
            The stored flag.

        Raises:
            NotFoundError: No such flag.
            ConflictError: ``expected_version`` is stale, or the stored document is unreadable
                (replace it in full with `update_flag`).

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> _ = admin.create_flag(Flag(key="beta"), actor="ops", reason="new")
            >>> admin.toggle_flag("beta", True, actor="ops", reason="launch").enabled
            True
        """
        return self._replace_flag(
            key,
            lambda current: current.model_copy(update={"enabled": enabled}),
            expected_version,
            "flag.toggle",
            actor,
            reason,
        )

    def archive_flag(
        self, key: str, *, expected_version: int | None = None, actor: str, reason: str
    ) -> Flag:
        """Archive a flag: clients stop serving it (callers get their defaults).

        Args:
            key: The flag.
            expected_version: The version the caller read, if it must still be current
                (an HTTP ``If-Match``).
            actor: Who asks.
            reason: Why.

        Returns:
            The archived flag.

        Raises:
            NotFoundError: No such flag.
            InvalidInputError: Another flag requires it.
            ConflictError: ``expected_version`` is stale, or the stored document is unreadable
                (replace it in full with `update_flag`, or delete it).

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> _ = admin.create_flag(Flag(key="old"), actor="ops", reason="new")
            >>> admin.archive_flag("old", expected_version=1, actor="ops", reason="done").archived
            True
        """
        return self._replace_flag(
            key,
            lambda current: current.model_copy(update={"archived": True, "enabled": False}),
            expected_version,
            "flag.archive",
            actor,
            reason,
        )

    def delete_flag(
        self, key: str, *, expected_version: int | None = None, actor: str, reason: str
    ) -> None:
        """Delete a flag; deleting a missing flag does nothing (unless a version is expected).

        Unreadable documents (corrupt, foreign, from a newer version) can be deleted too.

        Args:
            key: The flag.
            expected_version: The version the caller read, if it must still be current
                (an HTTP ``If-Match``); a missing flag is then a conflict.
            actor: Who asks.
            reason: Why.

        Raises:
            InvalidInputError: Another flag requires it.
            ConflictError: ``expected_version`` is stale.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> _ = admin.create_flag(Flag(key="old"), actor="ops", reason="new")
            >>> admin.delete_flag("old", actor="ops", reason="cleanup")
            >>> admin.flag_exists("old")
            False
        """
        self._writer.delete_document(
            "flag", key, expected_version, self._check_unused_flag, actor=actor, reason=reason
        )

    def _replace_flag(
        self,
        key: str,
        change: Callable[[Flag], Flag],
        expected_version: int | None,
        action: str,
        actor: str,
        reason: str,
        *,
        whole: bool = False,
    ) -> Flag:
        return self._writer.replace_document(
            "flag", Flag, key, change, expected_version, action, actor=actor, reason=reason,
            whole=whole, check_unused=self._check_unused_flag, check_live=self._check_flag,
        )  # fmt: skip

    @staticmethod
    def _check_flag(flag: Flag, view: StoreView) -> None:
        others = view.live_flags()
        others.pop(flag.key, None)
        check_references(flag, {**others, flag.key: flag}, view.live_segments())
        for other in others.values():
            for index, prerequisite in enumerate(other.prerequisites):
                if prerequisite.key == flag.key and not set(prerequisite.variants) <= set(
                    flag.variants
                ):
                    raise InvalidInputError(
                        "variants",
                        f"flag {other.key!r} requires a variant removed here "
                        f"(prerequisites.{index})",
                    )

    @staticmethod
    def _check_unused_flag(key: str, view: StoreView) -> None:
        users = sorted(
            other.key
            for other in view.live_flags().values()
            if other.key != key and any(p.key == key for p in other.prerequisites)
        )
        if users:
            raise InvalidInputError("key", f"is a prerequisite of other flags: {', '.join(users)}")

    # ------------------------------------------------------------------ kill switch, audit

    def set_kill_switch(self, engaged: bool, *, actor: str, reason: str) -> None:
        """Engage (every flag serves its off variant) or release the global kill switch.

        An unreadable stored setting is overwritten (its audit ``before`` says so).

        Args:
            engaged: Engage or release.
            actor: Who asks.
            reason: Why.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> admin.set_kill_switch(True, actor="ops", reason="incident 42")
            >>> admin.kill_switch_engaged()
            True
        """

        def build(view: StoreView) -> Mutation | None:
            raw = view.state.settings.get("kill_switch")
            before = _kill_switch_value(raw)
            if before is engaged:
                return None
            writes = (Write("settings", "kill_switch", json.dumps(engaged)),)
            return Mutation(
                "settings.kill_switch",
                "kill_switch",
                writes,
                raw_digest(raw) if before is None and raw is not None else {"engaged": before},
                {"engaged": engaged},
            )

        self._writer.mutate(build, actor=actor, reason=reason)

    def kill_switch_engaged(self) -> bool:
        """Whether the global kill switch is engaged (an unreadable setting is not engaged).

        Clients treat an unreadable setting the same way, so this answers what they serve.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> FeatureFlagAdmin(InMemoryFeatureFlagStore()).kill_switch_engaged()
            False
        """
        return _kill_switch_value(self._writer.view().state.settings.get("kill_switch")) is True

    def audit_log(self) -> list[AuditRecord]:
        """Return every audit record, oldest first.

        Raises:
            StoreUnavailableError: The store could not be reached, or a record is unreadable
                (`verify_audit` says which).

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> _ = admin.create_flag(Flag(key="beta"), actor="ops", reason="new")
            >>> admin.audit_log()[0].action
            'flag.create'
        """
        records = self._store.audit_records()
        try:
            return [AuditRecord.model_validate_json(raw) for raw in records]
        except ValueError as exc:
            raise StoreUnavailableError(
                "an audit record is unreadable: run verify_audit() to find it"
            ) from exc

    def verify_audit(self) -> AuditVerification:
        """Recompute the audit chain and compare it with the head the store recorded.

        ``ok`` is false if any record was altered, reordered or removed, including records
        removed from the end. When the keyspace is wiped (no recorded head), only the chain
        itself is checked.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> _ = admin.create_flag(Flag(key="beta"), actor="ops", reason="new")
            >>> admin.verify_audit().ok
            True
        """
        state = self._store.read()  # first: records appended after this read are allowed
        records = self._store.audit_records()
        if state is None:
            return verify_chain(records)
        return verify_chain(records, head=state.audit_head, length=state.audit_length)

    # ------------------------------------------------------------------ segments, schedules

    def get_segment(self, key: str) -> Segment:
        """Return a segment (archived ones included).

        Args:
            key: The segment key.

        Returns:
            The segment.

        Raises:
            NotFoundError: No such segment (or its stored document is unreadable).

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> _ = admin.create_segment(Segment(key="staff"), actor="ops", reason="new")
            >>> admin.get_segment("staff").version
            1
        """
        found = self._writer.view().segments.get(key)
        if found is None:
            raise NotFoundError("segment", key)
        return found

    def list_segments(self) -> list[Segment]:
        """Return every readable segment, sorted by key.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> FeatureFlagAdmin(InMemoryFeatureFlagStore()).list_segments()
            []
        """
        return [s for _, s in sorted(self._writer.view().segments.items())]

    def create_segment(
        self, segment: Segment | Mapping[str, Any], *, actor: str, reason: str
    ) -> Segment:
        """Create a segment at version 1.

        Args:
            segment: The definition (a model, or a mapping validated here).
            actor: Who asks.
            reason: Why.

        Returns:
            The stored segment.

        Raises:
            InvalidInputError: The definition is invalid.
            ConflictError: A segment with this key exists.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> admin.create_segment({"key": "staff"}, actor="ops", reason="new").key
            'staff'
        """
        candidate = parse_model(Segment, segment)

        def build(view: StoreView) -> Mutation:
            if candidate.key in view.state.segments:
                raise ConflictError(f"segment {candidate.key!r} already exists")
            now = self._clock.now()
            new = candidate.model_copy(update={"version": 1, "created_at": now, "updated_at": now})
            writes = (Write("segments", new.key, doc(new)),)
            return Mutation("segment.create", new.key, writes, None, dump(new), new)

        result: Segment = self._writer.mutate(build, actor=actor, reason=reason)
        return result

    def update_segment(
        self,
        segment: Segment | Mapping[str, Any],
        *,
        expected_version: int,
        actor: str,
        reason: str,
    ) -> Segment:
        """Replace a segment if it is still at ``expected_version``.

        This is also how an unreadable stored document is repaired.

        Args:
            segment: The new definition (its ``version`` is ignored).
            expected_version: The version the caller read (the ETag).
            actor: Who asks.
            reason: Why.

        Returns:
            The stored segment, at ``expected_version + 1``.

        Raises:
            InvalidInputError: The definition is invalid.
            NotFoundError: No such segment.
            ConflictError: The segment changed since ``expected_version``.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> _ = admin.create_segment(Segment(key="staff"), actor="ops", reason="new")
            >>> new = Segment(key="staff", included=["u1"])
            >>> admin.update_segment(new, expected_version=1, actor="ops", reason="add").version
            2
        """
        candidate = parse_model(Segment, segment)
        return self._replace_segment(
            candidate.key,
            lambda _: candidate,
            expected_version,
            "segment.update",
            actor,
            reason,
            whole=True,
        )

    def archive_segment(
        self, key: str, *, expected_version: int | None = None, actor: str, reason: str
    ) -> Segment:
        """Archive a segment.

        Args:
            key: The segment.
            expected_version: The version the caller read, if it must still be current
                (an HTTP ``If-Match``).
            actor: Who asks.
            reason: Why.

        Returns:
            The archived segment.

        Raises:
            NotFoundError: No such segment.
            InvalidInputError: A live flag uses it.
            ConflictError: ``expected_version`` is stale, or the stored document is unreadable
                (replace it in full with `update_segment`, or delete it).

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> _ = admin.create_segment(Segment(key="staff"), actor="ops", reason="new")
            >>> admin.archive_segment("staff", actor="ops", reason="unused").archived
            True
        """
        return self._replace_segment(
            key,
            lambda s: s.model_copy(update={"archived": True}),
            expected_version,
            "segment.archive",
            actor,
            reason,
        )

    def delete_segment(
        self, key: str, *, expected_version: int | None = None, actor: str, reason: str
    ) -> None:
        """Delete a segment; deleting a missing segment does nothing (unless a version is expected).

        Args:
            key: The segment.
            expected_version: The version the caller read, if it must still be current
                (an HTTP ``If-Match``); a missing segment is then a conflict.
            actor: Who asks.
            reason: Why.

        Raises:
            InvalidInputError: A live flag uses it.
            ConflictError: ``expected_version`` is stale.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> admin.delete_segment("missing", actor="ops", reason="idempotent")
            >>> admin.list_segments()
            []
        """
        self._writer.delete_document(
            "segment", key, expected_version, self._check_unused_segment, actor=actor, reason=reason
        )

    def _replace_segment(
        self,
        key: str,
        change: Callable[[Segment], Segment],
        expected_version: int | None,
        action: str,
        actor: str,
        reason: str,
        *,
        whole: bool = False,
    ) -> Segment:
        return self._writer.replace_document(
            "segment", Segment, key, change, expected_version, action, actor=actor, reason=reason,
            whole=whole, check_unused=self._check_unused_segment,
        )  # fmt: skip

    @staticmethod
    def _check_unused_segment(key: str, view: StoreView) -> None:
        users = sorted(
            flag.key
            for flag in view.live_flags().values()
            if any(
                c.operator.value in SEGMENT_OPERATORS and key in c.values
                for rule in flag.rules
                for c in rule.conditions
            )
        )
        if users:
            raise InvalidInputError("key", f"is used by flags: {', '.join(users)}")

    def schedule_change(
        self,
        key: str,
        at: datetime,
        *,
        enabled: bool | None = None,
        percentage: float | None = None,
        actor: str,
        reason: str,
    ) -> ScheduledChange:
        """Schedule one change to a flag.

        Args:
            key: The flag.
            at: When (timezone-aware).
            enabled: Turn the flag on or off, if given.
            percentage: Set the fallthrough rollout percentage, if given.
            actor: Who asks.
            reason: Why.

        Returns:
            The pending change.

        Raises:
            InvalidInputError: Nothing to change, a naive time, or a bad percentage.
            NotFoundError: No such flag.

        Examples:
            >>> from datetime import UTC
            >>> from unified_health.feature_flags import Flag
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> _ = admin.create_flag(Flag(key="f"), actor="ops", reason="new")
            >>> at = datetime(2026, 3, 1, tzinfo=UTC)
            >>> admin.schedule_change("f", at, percentage=5, actor="ops", reason="ramp").status
            'pending'
        """
        return self.schedule_ramp(
            key, [(at, percentage)], enabled=enabled, actor=actor, reason=reason
        )[0]

    def schedule_ramp(
        self,
        key: str,
        steps: Sequence[tuple[datetime, float | None]],
        *,
        enabled: bool | None = None,
        actor: str,
        reason: str,
    ) -> list[ScheduledChange]:
        """Schedule a staged rollout, e.g. 1 -> 5 -> 25 -> 100 % at set times, in one write.

        Args:
            key: The flag.
            steps: ``(at, percentage)`` pairs, times strictly increasing, percentages never
                decreasing.
            enabled: Also turn the flag on or off at every step, if given.
            actor: Who asks.
            reason: Why.

        Returns:
            The pending changes, in order.

        Raises:
            InvalidInputError: Bad steps (the field names the step).
            NotFoundError: No such flag.

        Examples:
            >>> from datetime import UTC
            >>> from unified_health.feature_flags import Flag
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> _ = admin.create_flag(Flag(key="f", enabled=True), actor="ops", reason="new")
            >>> day = lambda d: datetime(2026, 3, d, tzinfo=UTC)
            >>> steps = [(day(1), 1), (day(2), 5), (day(3), 25), (day(4), 100)]
            >>> len(admin.schedule_ramp("f", steps, actor="ops", reason="ramp"))
            4
        """
        if not steps:
            raise InvalidInputError("steps", "must not be empty")
        ramp_id = uuid.uuid4().hex if len(steps) > 1 else None
        changes: list[ScheduledChange] = []
        for index, (at, percentage) in enumerate(steps):
            field = f"steps.{index}"
            if at.tzinfo is None or at.utcoffset() is None:
                raise InvalidInputError(f"{field}.at", "must be timezone-aware")
            if percentage is None and enabled is None:
                raise InvalidInputError(field, "must change something (enabled or percentage)")
            if changes and at <= changes[-1].at:
                raise InvalidInputError(f"{field}.at", "must be later than the previous step")
            previous = changes[-1].percentage if changes else None
            if percentage is not None and previous is not None and percentage < previous:
                raise InvalidInputError(f"{field}.percentage", "must not decrease along a ramp")
            payload = {
                "id": uuid.uuid4().hex,
                "flag_key": key,
                "at": at,
                "enabled": enabled,
                "percentage": percentage,
                "ramp_id": ramp_id,
                "created_by": actor,
            }
            change = parse_model(ScheduledChange, payload)
            if change.percentage is not None:
                parse_model(Rollout, {"percentage": change.percentage})
            changes.append(change)

        def build(view: StoreView) -> Mutation:
            flag = view.flags.get(key)
            if flag is None or flag.archived:
                raise NotFoundError("flag", key)
            writes = tuple(Write("schedules", c.id, doc(c)) for c in changes)
            after = {"steps": [dump(c) for c in changes]}
            return Mutation("schedule.create", key, writes, None, after, changes)

        result: list[ScheduledChange] = self._writer.mutate(build, actor=actor, reason=reason)
        return result

    def list_schedules(self, *, include_done: bool = False) -> list[ScheduledChange]:
        """Return scheduled changes ordered by time (pending only unless ``include_done``).

        Unreadable schedule documents are left out (and logged by id).

        Args:
            include_done: Include applied, cancelled and skipped changes.

        Returns:
            The changes.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> FeatureFlagAdmin(InMemoryFeatureFlagStore()).list_schedules()
            []
        """
        changes = parse_schedules(self._writer.view().state.schedules)
        wanted = [c for c in changes if include_done or c.status == "pending"]
        return sorted(wanted, key=lambda c: (c.at, c.id))

    def cancel_schedule(self, schedule_id: str, *, actor: str, reason: str) -> ScheduledChange:
        """Cancel a pending change.

        Args:
            schedule_id: The change.
            actor: Who asks.
            reason: Why.

        Returns:
            The cancelled change.

        Raises:
            NotFoundError: No such pending change.
            ConflictError: The stored document is unreadable (delete it with
                `delete_schedule`).

        Examples:
            >>> from datetime import UTC
            >>> from unified_health.feature_flags import Flag
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> _ = admin.create_flag(Flag(key="f"), actor="ops", reason="new")
            >>> at = datetime(2026, 3, 1, tzinfo=UTC)
            >>> change = admin.schedule_change("f", at, enabled=True, actor="ops", reason="go")
            >>> admin.cancel_schedule(change.id, actor="ops", reason="later").status
            'cancelled'
        """

        def build(view: StoreView) -> Mutation:
            raw = view.state.schedules.get(schedule_id)
            change = parse_schedule(schedule_id, raw) if raw is not None else None
            if raw is not None and change is None:
                raise ConflictError(
                    f"schedule {schedule_id!r} is stored in a form this version cannot read; "
                    "delete it with delete_schedule"
                )
            if change is None or change.status != "pending":
                raise NotFoundError("pending schedule", schedule_id)
            done = change.model_copy(update={"status": "cancelled"})
            writes = (Write("schedules", schedule_id, doc(done)),)
            return Mutation(
                "schedule.cancel", change.flag_key, writes, dump(change), dump(done), done
            )

        result: ScheduledChange = self._writer.mutate(build, actor=actor, reason=reason)
        return result

    def delete_schedule(self, schedule_id: str, *, actor: str, reason: str) -> None:
        """Delete a scheduled change outright, readable or not; a missing one does nothing.

        Prefer `cancel_schedule` for a pending change; this removes what cannot be cancelled
        (a corrupt document, or one from a newer version).

        Args:
            schedule_id: The change.
            actor: Who asks.
            reason: Why.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> admin.delete_schedule("missing", actor="ops", reason="cleanup")
            >>> admin.list_schedules(include_done=True)
            []
        """

        def build(view: StoreView) -> Mutation | None:
            raw = view.state.schedules.get(schedule_id)
            if raw is None:
                return None
            change = parse_schedule(schedule_id, raw)
            before = dump(change) if change is not None else raw_digest(raw)
            writes = (Write("schedules", schedule_id, None),)
            target = change.flag_key if change is not None else schedule_id
            return Mutation("schedule.delete", target, writes, before, None)

        self._writer.mutate(build, actor=actor, reason=reason)

    def prune_schedules(
        self,
        *,
        older_than: timedelta = DEFAULT_SCHEDULE_RETENTION,
        now: datetime | None = None,
        actor: str = SCHEDULER_ACTOR,
        reason: str = "prune finished schedules",
    ) -> int:
        """Delete applied, cancelled and skipped changes that finished before the retention.

        A change finished at its ``applied_at`` (applied or skipped) or, when cancelled, at its
        scheduled time. Pending changes are never pruned; the audit records of pruned changes
        stay. The removal
        is one write with one audit record listing the ids.

        Args:
            older_than: How long finished changes are kept.
            now: The time to compare with (the admin's clock by default).
            actor: Who asks.
            reason: Why.

        Returns:
            How many changes were removed.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> FeatureFlagAdmin(InMemoryFeatureFlagStore()).prune_schedules()
            0
        """
        moment = now if now is not None else self._clock.now()
        cutoff = moment - older_than

        def build(view: StoreView) -> Mutation | None:
            old = sorted(
                change.id
                for change in parse_schedules(view.state.schedules)
                if change.status in FINISHED and finished_at(change) < cutoff
            )
            if not old:
                return None
            writes = tuple(Write("schedules", schedule_id, None) for schedule_id in old)
            return Mutation("schedule.prune", "*", writes, None, {"removed": old}, len(old))

        result: int | None = self._writer.mutate(build, actor=actor, reason=reason)
        return result or 0

    def run_due_schedules(self, *, now: datetime | None = None) -> list[ScheduledChange]:
        """Apply every pending change whose time has come, oldest first, each exactly once.

        Everything due is applied as one change set: one commit, one version, one audit record
        naming every flag changed and every schedule applied, so readers never see part of it.
        Several due steps of one flag fold into one change (the latest step wins). Safe to call
        from many processes at once: the commit is a compare-and-set that also marks the
        schedules applied, so exactly one process applies each. A change whose flag is gone
        is ``skipped``.

        Args:
            now: The time to compare with (the admin's clock by default).

        Returns:
            The changes this call applied or skipped (not those another process took).

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> FeatureFlagAdmin(InMemoryFeatureFlagStore()).run_due_schedules()
            []
        """
        moment = now if now is not None else self._clock.now()
        result: list[ScheduledChange] | None = self._writer.mutate(
            functools.partial(due_mutation, moment=moment),
            actor=SCHEDULER_ACTOR,
            reason="scheduled changes",
        )
        return result or []

    def stale_flag_report(
        self, *, now: datetime | None = None, unchanged_for: timedelta = timedelta(days=30)
    ) -> list[StaleFlag]:
        """List live flags that look ready for removal.

        Args:
            now: The time to compare with (the admin's clock by default).
            unchanged_for: How long a temporary flag may go unchanged before it is reported.

        Returns:
            One entry per stale flag, sorted by key.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> FeatureFlagAdmin(InMemoryFeatureFlagStore()).stale_flag_report()
            []
        """
        moment = now if now is not None else self._clock.now()
        report: list[StaleFlag] = []
        for key, flag in sorted(self._writer.view().live_flags().items()):
            reasons: list[str] = []
            if flag.expires_at is not None and flag.expires_at <= moment:
                reasons.append("expired")
            changed = flag.updated_at or flag.created_at
            if flag.temporary and changed is not None and moment - changed >= unchanged_for:
                reasons.append("unchanged")
            if flag.temporary and fully_rolled_out(flag):
                reasons.append("fully_rolled_out")
            if reasons:
                report.append(
                    StaleFlag(key=key, owner=flag.owner, reasons=reasons, last_changed=changed)
                )
        return report

    @staticmethod
    def json_schemas() -> dict[str, dict[str, Any]]:
        """Return the JSON Schemas of `Flag` and `Segment` (for dashboards and API docs).

        Examples:
            >>> sorted(FeatureFlagAdmin.json_schemas())
            ['Flag', 'Segment']
        """
        return {"Flag": Flag.model_json_schema(), "Segment": Segment.model_json_schema()}


def _kill_switch_value(raw: str | None) -> bool | None:
    if raw is None:
        return False
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, bool) else None


def _last_hash(records: list[str]) -> str:
    if not records:
        return ""
    try:
        value = json.loads(records[-1]).get("hash", "")
    except (ValueError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""
