"""`FeatureFlagAdmin`: validated, audited, optimistic-concurrency writes for dashboards.

Every mutation reads the store, validates the change against everything else (variants, regexes,
prerequisite cycles, segment references), seals one audit record and commits it all in one
atomic step. If another writer got there first the admin re-reads and re-checks (a stale
``expected_version`` then raises `ConflictError`); if the store is unreachable the call raises
`StoreUnavailableError` and nothing was written.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from pydantic import BaseModel

from unified_health.feature_flags._audit import AuditRecord, AuditVerification, seal, verify_chain
from unified_health.feature_flags._config import Clock, SystemClock
from unified_health.feature_flags._errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StoreUnavailableError,
)
from unified_health.feature_flags._models import Flag, Segment
from unified_health.feature_flags._snapshot import state_from_document
from unified_health.feature_flags._validation import check_references, parse_model
from unified_health.feature_flags.stores._protocol import (
    Commit,
    FeatureFlagStore,
    StoreState,
    Write,
)

__all__ = ["FeatureFlagAdmin", "Mutation", "StoreView"]

_log = structlog.get_logger("unified_health.feature_flags")
_SEGMENT_OPS = frozenset({"in_segment", "not_in_segment"})


@dataclass(frozen=True)
class StoreView:
    """A parsed view of one store state (broken documents are left out of ``flags``)."""

    state: StoreState
    flags: dict[str, Flag]
    segments: dict[str, Segment]

    def live_flags(self) -> dict[str, Flag]:
        """Flags that are not archived."""
        return {k: f for k, f in self.flags.items() if not f.archived}

    def live_segments(self) -> dict[str, Segment]:
        """Segments that are not archived."""
        return {k: s for k, s in self.segments.items() if not s.archived}


@dataclass(frozen=True)
class Mutation:
    """What a mutation writes and how the audit record describes it."""

    action: str
    target: str
    writes: tuple[Write, ...]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    result: Any = None


def _dump(model: BaseModel | None) -> dict[str, Any] | None:
    return None if model is None else model.model_dump(mode="json")


def _doc(model: BaseModel) -> str:
    return model.model_dump_json()


def _check_who(actor: str, reason: str) -> None:
    if not actor or len(actor) > 200:
        raise InvalidInputError("actor", "must be 1-200 characters")
    if not reason or len(reason) > 2000:
        raise InvalidInputError("reason", "must be 1-2000 characters")


class FeatureFlagAdmin:
    """Create, change and retire flags and segments; every write is validated and audited.

    Args:
        store: Where flags live.
        clock: Injected time for audit records, schedules and the stale-flag report.
        max_attempts: How often a write is retried when another writer moved the store.

    Example:
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
        self._max_attempts = max_attempts

    # ------------------------------------------------------------------ core

    def view(self) -> StoreView:
        """Read and parse the store.

        Returns:
            The parsed view.

        Raises:
            StoreUnavailableError: The store is unreachable or holds no data (not initialised).
        """
        state = self._store.read()
        if state is None:
            raise StoreUnavailableError(
                "the store holds no flag data (wiped or not initialised): restore it with "
                "initialize()"
            )
        flags: dict[str, Flag] = {}
        for key, raw in state.flags.items():
            try:
                flags[key] = parse_model(Flag, raw)
            except InvalidInputError:
                _log.warning("feature_flags_document_rejected", kind="Flag", key=key)
        segments: dict[str, Segment] = {}
        for key, raw in state.segments.items():
            try:
                segments[key] = parse_model(Segment, raw)
            except InvalidInputError:
                _log.warning("feature_flags_document_rejected", kind="Segment", key=key)
        return StoreView(state, flags, segments)

    def mutate(
        self, build: Callable[[StoreView], Mutation | None], *, actor: str, reason: str
    ) -> Any:
        """Run one read-validate-commit cycle, retrying when the store moved.

        Args:
            build: Computes the mutation from a fresh view, raising on invalid input or
                conflict; ``None`` means nothing to do.
            actor: Who asks.
            reason: Why.

        Returns:
            The mutation's ``result`` (or ``None`` when nothing was done).

        Raises:
            ConflictError: A stale expected version, or the store kept moving.
            StoreUnavailableError: Nothing was written.
        """
        _check_who(actor, reason)
        for _attempt in range(self._max_attempts):
            view = self.view()
            mutation = build(view)
            if mutation is None:
                return None
            state = view.state
            record, digest = seal(
                seq=state.audit_length + 1,
                at=self._clock.now(),
                actor=actor,
                reason=reason,
                action=mutation.action,
                target=mutation.target,
                before=mutation.before,
                after=mutation.after,
                store_version=state.version + 1,
                prev_hash=state.audit_head,
            )
            commit = Commit(
                base_epoch=state.epoch,
                base_version=state.version,
                writes=mutation.writes,
                audit_record=record,
                audit_hash=digest,
            )
            try:
                version = self._store.commit(commit)
            except ConflictError:
                continue
            _log.info(
                "feature_flags_mutation_committed",
                action=mutation.action,
                target=mutation.target,
                version=version,
            )
            return mutation.result
        raise ConflictError(f"the store kept changing; gave up after {self._max_attempts} attempts")

    def initialize(
        self, *, actor: str, reason: str, document: str | bytes | Mapping[str, Any] | None = None
    ) -> int:
        """Create an empty keyspace, or restore one from a snapshot document.

        Use it once per fresh deployment, or after Redis lost its data: pass a document exported
        by a running client (`FeatureFlagClient.export_snapshot`) to restore every flag.

        Args:
            actor: Who asks.
            reason: Why.
            document: A bootstrap document to seed the store with.

        Returns:
            The new store version.

        Raises:
            ConflictError: The store already holds data.
            InvalidInputError: A document in ``document`` is invalid.
        """
        _check_who(actor, reason)
        writes: list[Write] = []
        if document is not None:
            state = state_from_document(document)
            for key, raw in state.segments.items():
                segment = parse_model(Segment, raw)
                if segment.key != key:
                    raise InvalidInputError(f"segments.{key}.key", "must equal its map key")
                writes.append(Write("segments", key, _doc(segment)))
            for key, raw in state.flags.items():
                flag = parse_model(Flag, raw)
                if flag.key != key:
                    raise InvalidInputError(f"flags.{key}.key", "must equal its map key")
                writes.append(Write("flags", key, _doc(flag)))
            writes.extend(Write("settings", k, v) for k, v in state.settings.items())
        record, digest = seal(
            seq=1,
            at=self._clock.now(),
            actor=actor,
            reason=reason,
            action="store.initialize",
            target="*",
            before=None,
            after={"flags": sum(w.collection == "flags" for w in writes)},
            store_version=1,
            prev_hash="",
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
            )
        )

    # ------------------------------------------------------------------ flags

    def get_flag(self, key: str) -> Flag:
        """Return a flag (archived ones included).

        Raises:
            NotFoundError: No such flag.
        """
        found = self.view().flags.get(key)
        if found is None:
            raise NotFoundError("flag", key)
        return found

    def flag_exists(self, key: str) -> bool:
        """Whether a flag with this key exists (archived or not)."""
        return key in self.view().state.flags

    def list_flags(self, *, include_archived: bool = True) -> list[Flag]:
        """Return every flag, sorted by key."""
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
        """
        candidate = parse_model(Flag, flag)

        def build(view: StoreView) -> Mutation:
            if candidate.key in view.state.flags:
                raise ConflictError(f"flag {candidate.key!r} already exists")
            now = self._clock.now()
            new = candidate.model_copy(update={"version": 1, "created_at": now, "updated_at": now})
            self._check_flag(new, view)
            return Mutation(
                "flag.create", new.key, (Write("flags", new.key, _doc(new)),), None, _dump(new), new
            )

        result: Flag = self.mutate(build, actor=actor, reason=reason)
        return result

    def update_flag(
        self, flag: Flag | Mapping[str, Any], *, expected_version: int, actor: str, reason: str
    ) -> Flag:
        """Replace a flag's definition if it is still at ``expected_version``.

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
        """
        candidate = parse_model(Flag, flag)
        return self._replace_flag(
            candidate.key, lambda current: candidate, expected_version, "flag.update", actor, reason
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

        Raises:
            NotFoundError: No such flag.
            ConflictError: ``expected_version`` is stale.
        """
        return self._replace_flag(
            key,
            lambda current: current.model_copy(update={"enabled": enabled}),
            expected_version,
            "flag.toggle",
            actor,
            reason,
        )

    def archive_flag(self, key: str, *, actor: str, reason: str) -> Flag:
        """Archive a flag: clients stop serving it (callers get their defaults).

        Raises:
            NotFoundError: No such flag.
            InvalidInputError: Another flag requires it.
        """
        return self._replace_flag(
            key,
            lambda current: current.model_copy(update={"archived": True, "enabled": False}),
            None,
            "flag.archive",
            actor,
            reason,
        )

    def delete_flag(self, key: str, *, actor: str, reason: str) -> None:
        """Delete a flag; deleting a missing flag does nothing.

        Raises:
            InvalidInputError: Another flag requires it.
        """

        def build(view: StoreView) -> Mutation | None:
            if key not in view.state.flags:
                return None
            self._check_unused_flag(key, view)
            before = view.flags.get(key)
            return Mutation("flag.delete", key, (Write("flags", key, None),), _dump(before), None)

        self.mutate(build, actor=actor, reason=reason)

    def _replace_flag(
        self,
        key: str,
        change: Callable[[Flag], Flag],
        expected_version: int | None,
        action: str,
        actor: str,
        reason: str,
    ) -> Flag:
        def build(view: StoreView) -> Mutation:
            current = view.flags.get(key)
            if current is None:
                if key in view.state.flags:
                    current_version = _raw_version(view.state.flags[key])
                    created = None
                else:
                    raise NotFoundError("flag", key)
            else:
                current_version, created = current.version, current.created_at
            if expected_version is not None and expected_version != current_version:
                raise ConflictError(
                    f"flag {key!r} is at version {current_version}, the write expected "
                    f"{expected_version}"
                )
            base = current if current is not None else Flag(key=key)
            new = parse_model(Flag, change(base)).model_copy(
                update={
                    "version": current_version + 1,
                    "created_at": created,
                    "updated_at": self._clock.now(),
                }
            )
            if new.key != key:
                raise InvalidInputError("key", "cannot be changed")
            if new.archived:
                self._check_unused_flag(key, view)
            else:
                self._check_flag(new, view)
            writes = (Write("flags", key, _doc(new)),)
            return Mutation(action, key, writes, _dump(current), _dump(new), new)

        result: Flag = self.mutate(build, actor=actor, reason=reason)
        return result

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

    # ------------------------------------------------------------------ segments

    def get_segment(self, key: str) -> Segment:
        """Return a segment (archived ones included).

        Raises:
            NotFoundError: No such segment.
        """
        found = self.view().segments.get(key)
        if found is None:
            raise NotFoundError("segment", key)
        return found

    def list_segments(self) -> list[Segment]:
        """Return every segment, sorted by key."""
        return [s for _, s in sorted(self.view().segments.items())]

    def create_segment(
        self, segment: Segment | Mapping[str, Any], *, actor: str, reason: str
    ) -> Segment:
        """Create a segment at version 1.

        Raises:
            InvalidInputError: The definition is invalid.
            ConflictError: A segment with this key exists.
        """
        candidate = parse_model(Segment, segment)

        def build(view: StoreView) -> Mutation:
            if candidate.key in view.state.segments:
                raise ConflictError(f"segment {candidate.key!r} already exists")
            now = self._clock.now()
            new = candidate.model_copy(update={"version": 1, "created_at": now, "updated_at": now})
            writes = (Write("segments", new.key, _doc(new)),)
            return Mutation("segment.create", new.key, writes, None, _dump(new), new)

        result: Segment = self.mutate(build, actor=actor, reason=reason)
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

        Raises:
            InvalidInputError: The definition is invalid.
            NotFoundError: No such segment.
            ConflictError: The segment changed since ``expected_version``.
        """
        candidate = parse_model(Segment, segment)
        return self._replace_segment(
            candidate.key, lambda _: candidate, expected_version, "segment.update", actor, reason
        )

    def archive_segment(self, key: str, *, actor: str, reason: str) -> Segment:
        """Archive a segment.

        Raises:
            NotFoundError: No such segment.
            InvalidInputError: A live flag uses it.
        """
        return self._replace_segment(
            key,
            lambda s: s.model_copy(update={"archived": True}),
            None,
            "segment.archive",
            actor,
            reason,
        )

    def delete_segment(self, key: str, *, actor: str, reason: str) -> None:
        """Delete a segment; deleting a missing segment does nothing.

        Raises:
            InvalidInputError: A live flag uses it.
        """

        def build(view: StoreView) -> Mutation | None:
            if key not in view.state.segments:
                return None
            self._check_unused_segment(key, view)
            before = view.segments.get(key)
            return Mutation(
                "segment.delete", key, (Write("segments", key, None),), _dump(before), None
            )

        self.mutate(build, actor=actor, reason=reason)

    def _replace_segment(
        self,
        key: str,
        change: Callable[[Segment], Segment],
        expected_version: int | None,
        action: str,
        actor: str,
        reason: str,
    ) -> Segment:
        def build(view: StoreView) -> Mutation:
            current = view.segments.get(key)
            if current is None:
                raise NotFoundError("segment", key)
            if expected_version is not None and expected_version != current.version:
                raise ConflictError(
                    f"segment {key!r} is at version {current.version}, the write expected "
                    f"{expected_version}"
                )
            new = parse_model(Segment, change(current)).model_copy(
                update={
                    "version": current.version + 1,
                    "created_at": current.created_at,
                    "updated_at": self._clock.now(),
                }
            )
            if new.archived:
                self._check_unused_segment(key, view)
            writes = (Write("segments", key, _doc(new)),)
            return Mutation(action, key, writes, _dump(current), _dump(new), new)

        result: Segment = self.mutate(build, actor=actor, reason=reason)
        return result

    @staticmethod
    def _check_unused_segment(key: str, view: StoreView) -> None:
        users = sorted(
            flag.key
            for flag in view.live_flags().values()
            if any(
                c.operator.value in _SEGMENT_OPS and key in c.values
                for rule in flag.rules
                for c in rule.conditions
            )
        )
        if users:
            raise InvalidInputError("key", f"is used by flags: {', '.join(users)}")

    # ------------------------------------------------------------------ kill switch, audit

    def set_kill_switch(self, engaged: bool, *, actor: str, reason: str) -> None:
        """Engage (every flag serves its off variant) or release the global kill switch."""

        def build(view: StoreView) -> Mutation | None:
            before = json.loads(view.state.settings.get("kill_switch", "false")) is True
            if before == engaged:
                return None
            writes = (Write("settings", "kill_switch", json.dumps(engaged)),)
            return Mutation(
                "settings.kill_switch",
                "kill_switch",
                writes,
                {"engaged": before},
                {"engaged": engaged},
            )

        self.mutate(build, actor=actor, reason=reason)

    def kill_switch_engaged(self) -> bool:
        """Whether the global kill switch is engaged."""
        return bool(json.loads(self.view().state.settings.get("kill_switch", "false")) is True)

    def audit_log(self) -> list[AuditRecord]:
        """Return every audit record, oldest first."""
        return [AuditRecord.model_validate_json(raw) for raw in self._store.audit_records()]

    def verify_audit(self) -> AuditVerification:
        """Recompute the audit chain; ``ok`` is false if any record was altered or removed."""
        return verify_chain(self._store.audit_records())

    @staticmethod
    def json_schemas() -> dict[str, dict[str, Any]]:
        """Return the JSON Schemas of `Flag` and `Segment` (for dashboards and API docs).

        Example:
            >>> sorted(FeatureFlagAdmin.json_schemas())
            ['Flag', 'Segment']
        """
        return {"Flag": Flag.model_json_schema(), "Segment": Segment.model_json_schema()}

    def now(self) -> datetime:
        """The admin clock's current time."""
        return self._clock.now()


def _raw_version(raw: str) -> int:
    try:
        value = json.loads(raw).get("version", 0)
    except (ValueError, AttributeError):
        return 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
