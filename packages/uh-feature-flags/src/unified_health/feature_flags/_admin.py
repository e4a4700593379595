"""`FeatureFlagAdmin`: validated, audited, optimistic-concurrency writes for dashboards.

See `unified_health.feature_flags._mutation` for the write cycle every verb goes through.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

from unified_health.feature_flags._admin_segments import SegmentAdmin
from unified_health.feature_flags._audit import (
    AuditRecord,
    AuditVerification,
    new_audit_key,
    raw_digest,
    seal,
    verify_chain,
)
from unified_health.feature_flags._changes import ChangeSet, ChangeSetResult
from unified_health.feature_flags._clock import Clock
from unified_health.feature_flags._config import redis_settings_from_env
from unified_health.feature_flags._errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StoreUnavailableError,
)
from unified_health.feature_flags._models import Flag, Segment
from unified_health.feature_flags._mutation import (
    Mutation,
    StoreView,
    change_set_mutation,
    check_who,
    doc,
    document_writes,
    dump,
)
from unified_health.feature_flags._schedule import ScheduleAdmin
from unified_health.feature_flags._snapshot import state_from_document
from unified_health.feature_flags._validation import check_references, parse_model
from unified_health.feature_flags.stores._protocol import Commit, Write
from unified_health.feature_flags.stores._redis import DEFAULT_PREFIX, RedisFeatureFlagStore

__all__ = ["FeatureFlagAdmin"]


class FeatureFlagAdmin(ScheduleAdmin, SegmentAdmin):
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

        result: ChangeSetResult | None = self.mutate(build, actor=actor, reason=reason)
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
        result: ChangeSetResult = self.mutate(
            lambda view: change_set_mutation(view, frozen, expected_store_version, self.now()),
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
        found = self.view().flags.get(key)
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
        return key in self.view().state.flags

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
        flags = self.view().flags
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

        result: Flag = self.mutate(build, actor=actor, reason=reason)
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
        self.delete_document(
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
        return self.replace_document(
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

        self.mutate(build, actor=actor, reason=reason)

    def kill_switch_engaged(self) -> bool:
        """Whether the global kill switch is engaged (an unreadable setting is not engaged).

        Clients treat an unreadable setting the same way, so this answers what they serve.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> FeatureFlagAdmin(InMemoryFeatureFlagStore()).kill_switch_engaged()
            False
        """
        return _kill_switch_value(self.view().state.settings.get("kill_switch")) is True

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
