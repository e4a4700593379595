"""`FeatureFlagAdmin`: validated, audited, optimistic-concurrency writes for dashboards.

See `unified_health.feature_flags._mutation` for the write cycle every verb goes through.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from unified_health.feature_flags._admin_segments import SegmentAdmin
from unified_health.feature_flags._audit import AuditRecord, AuditVerification, seal, verify_chain
from unified_health.feature_flags._errors import ConflictError, InvalidInputError, NotFoundError
from unified_health.feature_flags._models import Flag, Segment
from unified_health.feature_flags._mutation import Mutation, StoreView, check_who, doc, dump
from unified_health.feature_flags._schedule import ScheduleAdmin
from unified_health.feature_flags._snapshot import state_from_document
from unified_health.feature_flags._validation import check_references, parse_model
from unified_health.feature_flags.stores._protocol import Commit, Write

__all__ = ["FeatureFlagAdmin"]


class FeatureFlagAdmin(ScheduleAdmin, SegmentAdmin):
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
        check_who(actor, reason)
        writes: list[Write] = []
        if document is not None:
            state = state_from_document(document)
            for key, raw in state.segments.items():
                segment = parse_model(Segment, raw)
                if segment.key != key:
                    raise InvalidInputError(f"segments.{key}.key", "must equal its map key")
                writes.append(Write("segments", key, doc(segment)))
            for key, raw in state.flags.items():
                flag = parse_model(Flag, raw)
                if flag.key != key:
                    raise InvalidInputError(f"flags.{key}.key", "must equal its map key")
                writes.append(Write("flags", key, doc(flag)))
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
                "flag.create", new.key, (Write("flags", new.key, doc(new)),), None, dump(new), new
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
            return Mutation("flag.delete", key, (Write("flags", key, None),), dump(before), None)

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
            writes = (Write("flags", key, doc(new)),)
            return Mutation(action, key, writes, dump(current), dump(new), new)

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


def _raw_version(raw: str) -> int:
    try:
        value = json.loads(raw).get("version", 0)
    except (ValueError, AttributeError):
        return 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
