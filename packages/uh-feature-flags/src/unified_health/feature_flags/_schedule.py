"""Scheduled changes, staged ramps and the stale-flag report.

A scheduled change is a document in the store's ``schedules`` collection. `run_due_schedules`
may run in any number of processes at once (a cron job, every web worker): each change is applied
in a compare-and-set commit that also marks it ``applied``, so exactly one process applies it and
the others find it done when they retry. A schedule document that cannot be read is skipped
(logged by id) and never stops the others; finished changes can be pruned after a retention
period (their audit records stay).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from unified_health.feature_flags._audit import raw_digest
from unified_health.feature_flags._changes import ChangeSet
from unified_health.feature_flags._errors import ConflictError, InvalidInputError, NotFoundError
from unified_health.feature_flags._logging import logger
from unified_health.feature_flags._models import KEY_PATTERN, Flag, FrozenModel, Instant, Rollout
from unified_health.feature_flags._mutation import (
    AdminCore,
    Mutation,
    StoreView,
    change_set_mutation,
    doc,
    dump,
)
from unified_health.feature_flags._validation import parse_model
from unified_health.feature_flags.stores._protocol import Write

__all__ = ["ScheduleAdmin", "ScheduledChange", "StaleFlag"]

SCHEDULER_ACTOR = "scheduler"
DEFAULT_SCHEDULE_RETENTION = timedelta(days=90)
"""How long `ScheduleAdmin.prune_schedules` keeps finished changes by default."""

_FINISHED = frozenset({"applied", "cancelled", "skipped"})


def _parse(schedule_id: str, raw: str) -> ScheduledChange | None:
    try:
        return ScheduledChange.model_validate_json(raw)
    except ValidationError:
        logger.warning("document_rejected", kind="ScheduledChange", key=schedule_id)
        return None


def _parse_all(schedules: Mapping[str, str]) -> list[ScheduledChange]:
    found = (_parse(schedule_id, raw) for schedule_id, raw in schedules.items())
    return [change for change in found if change is not None]


def _finished_at(change: ScheduledChange) -> datetime:
    return change.applied_at if change.applied_at is not None else change.at


class ScheduledChange(FrozenModel):
    """A change to one flag at a set time: turn it on/off and/or set its rollout percentage.

    Examples:
        >>> from datetime import UTC
        >>> ScheduledChange(
        ...     id="s1", flag_key="f", at=datetime(2026, 3, 1, tzinfo=UTC), percentage=5,
        ...     created_by="ops",
        ... ).status
        'pending'
    """

    id: str = Field(pattern=KEY_PATTERN)
    flag_key: str = Field(pattern=KEY_PATTERN)
    at: Instant
    enabled: bool | None = None
    percentage: float | None = Field(default=None, ge=0, le=100)
    status: Literal["pending", "applied", "cancelled", "skipped"] = "pending"
    applied_at: Instant | None = None
    ramp_id: str | None = None
    created_by: str


class StaleFlag(BaseModel):
    """A flag the report suggests cleaning up, and why.

    Reasons: ``expired`` (past ``expires_at``), ``unchanged`` (temporary and not changed for
    the report's window), ``fully_rolled_out`` (temporary, on, and serving one value to all).

    Examples:
        >>> StaleFlag(key="old", owner=None, reasons=["expired"], last_changed=None).reasons
        ['expired']
    """

    model_config = ConfigDict(frozen=True)

    key: str
    owner: str | None
    reasons: list[str]
    last_changed: datetime | None


def _due_mutation(view: StoreView, *, moment: datetime) -> Mutation | None:
    due = sorted(
        (c for c in _parse_all(view.state.schedules) if c.status == "pending" and c.at <= moment),
        key=lambda c: (c.at, c.id),
    )
    if not due:
        return None
    by_flag: dict[str, list[ScheduledChange]] = {}
    for change in due:
        by_flag.setdefault(change.flag_key, []).append(change)
    changes = ChangeSet()
    done: list[ScheduledChange] = []
    for key, steps in by_flag.items():
        flag = view.flags.get(key)
        status: Literal["applied", "skipped"] = "applied"
        if flag is None or flag.archived:
            status = "skipped"
        else:
            enabled = next((s.enabled for s in reversed(steps) if s.enabled is not None), None)
            percentage = next(
                (s.percentage for s in reversed(steps) if s.percentage is not None), None
            )
            changes.patch_flag(key, enabled=enabled, percentage=percentage)
        done.extend(s.model_copy(update={"status": status, "applied_at": moment}) for s in steps)
    schedule_writes = tuple(Write("schedules", s.id, doc(s)) for s in done)
    audit = {"schedules": [{"id": s.id, "status": s.status} for s in done]}
    return change_set_mutation(
        view,
        changes.changes,
        None,
        moment,
        action="schedule.apply",
        extra_writes=schedule_writes,
        extra_audit=audit,
        result=done,
    )


def _fully_rolled_out(flag: Flag) -> bool:
    if not flag.enabled or flag.targets or flag.rules or flag.prerequisites:
        return False
    rollout = flag.rollout
    return rollout is None or (rollout.percentage >= 100 and len(rollout.variants) <= 1)


class ScheduleAdmin(AdminCore):
    """The scheduling half of `FeatureFlagAdmin`.

    Examples:
        >>> from unified_health.feature_flags import FeatureFlagAdmin, InMemoryFeatureFlagStore
        >>> FeatureFlagAdmin(InMemoryFeatureFlagStore()).list_schedules(include_done=True)
        []
    """

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
            >>> from unified_health.feature_flags import FeatureFlagAdmin, Flag
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
            >>> from unified_health.feature_flags import FeatureFlagAdmin, Flag
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

        result: list[ScheduledChange] = self.mutate(build, actor=actor, reason=reason)
        return result

    def list_schedules(self, *, include_done: bool = False) -> list[ScheduledChange]:
        """Return scheduled changes ordered by time (pending only unless ``include_done``).

        Unreadable schedule documents are left out (and logged by id).

        Args:
            include_done: Include applied, cancelled and skipped changes.

        Returns:
            The changes.

        Examples:
            >>> from unified_health.feature_flags import FeatureFlagAdmin, InMemoryFeatureFlagStore
            >>> FeatureFlagAdmin(InMemoryFeatureFlagStore()).list_schedules()
            []
        """
        changes = _parse_all(self.view().state.schedules)
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
            >>> from unified_health.feature_flags import FeatureFlagAdmin, Flag
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
            change = _parse(schedule_id, raw) if raw is not None else None
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

        result: ScheduledChange = self.mutate(build, actor=actor, reason=reason)
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
            >>> from unified_health.feature_flags import FeatureFlagAdmin, InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> admin.delete_schedule("missing", actor="ops", reason="cleanup")
            >>> admin.list_schedules(include_done=True)
            []
        """

        def build(view: StoreView) -> Mutation | None:
            raw = view.state.schedules.get(schedule_id)
            if raw is None:
                return None
            change = _parse(schedule_id, raw)
            before = dump(change) if change is not None else raw_digest(raw)
            writes = (Write("schedules", schedule_id, None),)
            target = change.flag_key if change is not None else schedule_id
            return Mutation("schedule.delete", target, writes, before, None)

        self.mutate(build, actor=actor, reason=reason)

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
            >>> from unified_health.feature_flags import FeatureFlagAdmin, InMemoryFeatureFlagStore
            >>> FeatureFlagAdmin(InMemoryFeatureFlagStore()).prune_schedules()
            0
        """
        moment = now if now is not None else self._clock.now()
        cutoff = moment - older_than

        def build(view: StoreView) -> Mutation | None:
            old = sorted(
                change.id
                for change in _parse_all(view.state.schedules)
                if change.status in _FINISHED and _finished_at(change) < cutoff
            )
            if not old:
                return None
            writes = tuple(Write("schedules", schedule_id, None) for schedule_id in old)
            return Mutation("schedule.prune", "*", writes, None, {"removed": old}, len(old))

        result: int | None = self.mutate(build, actor=actor, reason=reason)
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
            >>> from unified_health.feature_flags import FeatureFlagAdmin, InMemoryFeatureFlagStore
            >>> FeatureFlagAdmin(InMemoryFeatureFlagStore()).run_due_schedules()
            []
        """
        moment = now if now is not None else self._clock.now()
        result: list[ScheduledChange] | None = self.mutate(
            functools.partial(_due_mutation, moment=moment),
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
            >>> from unified_health.feature_flags import FeatureFlagAdmin, InMemoryFeatureFlagStore
            >>> FeatureFlagAdmin(InMemoryFeatureFlagStore()).stale_flag_report()
            []
        """
        moment = now if now is not None else self._clock.now()
        report: list[StaleFlag] = []
        for key, flag in sorted(self.view().live_flags().items()):
            reasons: list[str] = []
            if flag.expires_at is not None and flag.expires_at <= moment:
                reasons.append("expired")
            changed = flag.updated_at or flag.created_at
            if flag.temporary and changed is not None and moment - changed >= unchanged_for:
                reasons.append("unchanged")
            if flag.temporary and _fully_rolled_out(flag):
                reasons.append("fully_rolled_out")
            if reasons:
                report.append(
                    StaleFlag(key=key, owner=flag.owner, reasons=reasons, last_changed=changed)
                )
        return report
