"""Scheduled changes, staged ramps and the stale-flag report.

A scheduled change is a document in the store's ``schedules`` collection. `run_due_schedules`
may run in any number of processes at once (a cron job, every web worker): each change is applied
in a compare-and-set commit that also marks it ``applied``, so exactly one process applies it and
the others find it done when they retry. A schedule document that cannot be read is skipped
(logged by id) and never stops the others; finished changes can be pruned after a retention
period (their audit records stay).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from unified_health.feature_flags._changes import ChangeSet
from unified_health.feature_flags._logging import logger
from unified_health.feature_flags._models import KEY_PATTERN, Flag, FrozenModel, Instant
from unified_health.feature_flags._mutation import (
    Mutation,
    StoreView,
    change_set_mutation,
    doc,
)
from unified_health.feature_flags.stores._protocol import Write

__all__ = [
    "DEFAULT_SCHEDULE_RETENTION",
    "FINISHED",
    "SCHEDULER_ACTOR",
    "ScheduledChange",
    "StaleFlag",
    "due_mutation",
    "finished_at",
    "fully_rolled_out",
    "parse_schedule",
    "parse_schedules",
]

SCHEDULER_ACTOR = "scheduler"
DEFAULT_SCHEDULE_RETENTION = timedelta(days=90)
"""How long `FeatureFlagAdmin.prune_schedules` keeps finished changes by default."""

FINISHED = frozenset({"applied", "cancelled", "skipped"})


def parse_schedule(schedule_id: str, raw: str) -> ScheduledChange | None:
    """Parse a stored schedule document; ``None`` (logged by id) when it cannot be read.

    Examples:
        >>> parse_schedule("s1", "{not json") is None
        True
    """
    try:
        return ScheduledChange.model_validate_json(raw)
    except ValidationError:
        logger.warning("document_rejected", kind="ScheduledChange", key=schedule_id)
        return None


def parse_schedules(schedules: Mapping[str, str]) -> list[ScheduledChange]:
    """Parse every readable schedule document (unreadable ones are skipped and logged).

    Examples:
        >>> parse_schedules({})
        []
    """
    found = (parse_schedule(schedule_id, raw) for schedule_id, raw in schedules.items())
    return [change for change in found if change is not None]


def finished_at(change: ScheduledChange) -> datetime:
    """When a finished change finished: its ``applied_at``, else its scheduled time.

    Examples:
        >>> from datetime import UTC
        >>> at = datetime(2026, 3, 1, tzinfo=UTC)
        >>> change = ScheduledChange(id="s", flag_key="f", at=at, enabled=True, created_by="o")
        >>> finished_at(change) == at
        True
    """
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


def due_mutation(view: StoreView, *, moment: datetime) -> Mutation | None:
    """Everything due at ``moment`` as one change set (``None`` when nothing is due).

    Several due steps of one flag fold into one change (the latest wins); a change whose flag
    is gone or archived is marked ``skipped``.

    Examples:
        >>> from datetime import UTC
        >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
        >>> from unified_health.feature_flags._mutation import Writer
        >>> view = Writer(InMemoryFeatureFlagStore()).view()
        >>> due_mutation(view, moment=datetime(2026, 1, 1, tzinfo=UTC)) is None
        True
    """
    pending = (c for c in parse_schedules(view.state.schedules) if c.status == "pending")
    due = sorted(
        (c for c in pending if c.at <= moment),
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


def fully_rolled_out(flag: Flag) -> bool:
    """Whether a flag is on and serves one value to everyone (a cleanup candidate).

    Examples:
        >>> fully_rolled_out(Flag(key="f", enabled=True)), fully_rolled_out(Flag(key="f"))
        (True, False)
    """
    if not flag.enabled or flag.targets or flag.rules or flag.prerequisites:
        return False
    rollout = flag.rollout
    return rollout is None or (rollout.percentage >= 100 and len(rollout.variants) <= 1)
