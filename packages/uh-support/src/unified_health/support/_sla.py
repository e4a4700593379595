"""The SLA engine: pure, exact to the second, and able to explain itself.

A `SlaPolicy` holds targets per priority and metric, the calendar they are counted in and the
statuses that pause each metric. `SlaPolicy.evaluate` reads a ticket's `SlaTimeline` (created,
status and priority changes, comments) at an instant and returns an `SlaStatus`: every metric
instance with its target, due time, fulfilment, sticky breach and counted time.

Semantics (the docs page has the full reference):

- ``first_reply`` runs from creation to the first public agent comment.
- ``next_reply`` starts at the first public customer comment after an agent's public reply and is
  fulfilled by the next public agent comment; each later customer comment re-arms it.
- ``periodic_update`` runs from each public agent comment to the next one.
- ``requester_wait``, ``agent_work`` and ``resolution`` run from creation until the ticket is
  solved; reopening resumes the time already counted.
- Solving fulfils every running instance. A metric counts nothing while the ticket is in one of
  its pause statuses (defaults: ``requester_wait`` pauses in pending, ``agent_work`` in pending and
  on hold) or, for the three lifetime metrics, while solved or closed.
- The target is the one of the ticket's current priority, always measured from the instance's
  original start, so a priority change re-targets without restarting the clock.
- An instance fulfilled at or before its due second is met. Once the clock passes the due time
  unfulfilled, the instance is breached, dated at the due time, and stays breached whatever
  happens later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from unified_health.support._calendar import (
    BusinessCalendar,
    CalendarHours,
    to_datetime,
    to_epoch,
)
from unified_health.support._errors import InvalidInputError

__all__ = [
    "METRICS",
    "PRIORITIES",
    "STATUSES",
    "SlaEvent",
    "SlaExplanation",
    "SlaInstance",
    "SlaPolicy",
    "SlaStatus",
    "SlaTarget",
    "SlaTimeline",
]

METRICS: tuple[str, ...] = (
    "first_reply",
    "next_reply",
    "periodic_update",
    "requester_wait",
    "agent_work",
    "resolution",
)
"""The SLA metrics, in the order results list them."""

STATUSES: tuple[str, ...] = ("new", "open", "pending", "on_hold", "solved", "closed")
"""The common ticket statuses."""

PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
"""The common ticket priorities, lowest first."""

_LIFETIME = frozenset({"requester_wait", "agent_work", "resolution"})
_DONE = frozenset({"solved", "closed"})
_DEFAULT_PAUSES: dict[str, frozenset[str]] = {
    "first_reply": frozenset(),
    "next_reply": frozenset(),
    "periodic_update": frozenset(),
    "requester_wait": frozenset({"pending"}),
    "agent_work": frozenset({"pending", "on_hold"}),
    "resolution": frozenset(),
}
_ALWAYS = CalendarHours()

EventKind = Literal["status", "priority", "comment"]


def _choice(value: object, allowed: tuple[str, ...], field: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInputError(field, f"must be one of: {', '.join(allowed)}")
    return value


@dataclass(frozen=True, slots=True)
class SlaEvent:
    """One thing that happened to a ticket, as the SLA engine sees it.

    Args:
        at: When it happened (aware).
        kind: ``"status"`` (value: the new status), ``"priority"`` (value: the new priority) or
            ``"comment"`` (value: ``"agent"`` or ``"customer"``).
        value: See ``kind``.
        public: For comments: ``False`` for an internal note, which no metric counts.

    Raises:
        InvalidInputError: An unknown kind or value, or a naive ``at``.

    Examples:
        >>> from datetime import UTC
        >>> SlaEvent(datetime(2026, 1, 5, 9, tzinfo=UTC), "comment", "agent").value
        'agent'
    """

    at: datetime
    kind: EventKind
    value: str
    public: bool = True
    epoch: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "epoch", to_epoch(self.at, "at"))
        kind = _choice(self.kind, ("status", "priority", "comment"), "kind")
        allowed = {"status": STATUSES, "priority": PRIORITIES, "comment": ("agent", "customer")}
        _choice(self.value, allowed[kind], "value")
        if not isinstance(self.public, bool):
            raise InvalidInputError("public", "must be a bool")


@dataclass(frozen=True, slots=True)
class SlaTimeline:
    """What the SLA engine needs to know about one ticket.

    Args:
        created_at: When the ticket was created (aware).
        priority: The priority at creation.
        status: The status at creation (``"new"`` by default).
        events: Later events, in any order (sorted by time; equal times keep their order).

    Raises:
        InvalidInputError: A naive time, an unknown status or priority, or an event before
            ``created_at``.

    Examples:
        >>> from datetime import UTC
        >>> t0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
        >>> timeline = SlaTimeline(t0, priority="high", events=[SlaEvent(t0, "status", "open")])
        >>> len(timeline.events)
        1
    """

    created_at: datetime
    priority: str
    status: str = "new"
    events: Sequence[SlaEvent] = ()
    created: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        created = to_epoch(self.created_at, "created_at")
        object.__setattr__(self, "created", created)
        _choice(self.priority, PRIORITIES, "priority")
        _choice(self.status, STATUSES, "status")
        given: object = self.events
        if isinstance(given, str | bytes) or not isinstance(given, Iterable):
            raise InvalidInputError("events", "must be a sequence of SlaEvent")
        events = list(given)
        for index, event in enumerate(events):
            if not isinstance(event, SlaEvent):
                raise InvalidInputError(f"events.{index}", "must be an SlaEvent")
            if event.epoch < created:
                raise InvalidInputError(f"events.{index}.at", "must not be before created_at")
        events.sort(key=lambda event: event.epoch)
        object.__setattr__(self, "events", tuple(events))


@dataclass(frozen=True, slots=True)
class SlaTarget:
    """One target: a duration counted in business hours (the policy's calendar) or 24/7.

    Examples:
        >>> SlaTarget(timedelta(hours=4), business_hours=False).business_hours
        False
    """

    duration: timedelta
    business_hours: bool = True

    def __post_init__(self) -> None:
        duration: object = self.duration
        if not isinstance(duration, timedelta) or duration < timedelta(seconds=1):
            raise InvalidInputError("duration", "must be a timedelta of at least one second")
        business_hours: object = self.business_hours
        if not isinstance(business_hours, bool):
            raise InvalidInputError("business_hours", "must be a bool")


@dataclass(frozen=True, slots=True)
class SlaExplanation:
    """How an instance's time was counted: windows, holidays skipped and pauses.

    ``windows`` are the counted ``(start, end)`` intervals (UTC); ``pauses`` the
    ``(start, end, status)`` stretches that did not count; ``holidays`` the local dates skipped.

    Examples:
        >>> SlaExplanation("resolution", "business hours (UTC)", (), (), ()).lines()[0]
        'resolution counted in business hours (UTC)'
    """

    metric: str
    basis: str
    windows: tuple[tuple[datetime, datetime], ...]
    holidays: tuple[date, ...]
    pauses: tuple[tuple[datetime, datetime, str], ...]

    def lines(self) -> list[str]:
        """Return the explanation as readable lines (times in UTC, ISO 8601).

        Examples:
            >>> SlaExplanation("first_reply", "calendar hours", (), (), ()).lines()
            ['first_reply counted in calendar hours']
        """
        out = [f"{self.metric} counted in {self.basis}"]
        out += [f"counted {a.isoformat()} -> {b.isoformat()}" for a, b in self.windows]
        out += [f"holiday {day.isoformat()} skipped" for day in self.holidays]
        out += [f"paused ({why}) {a.isoformat()} -> {b.isoformat()}" for a, b, why in self.pauses]
        return out


@dataclass(frozen=True, slots=True)
class SlaInstance:
    """One run of one metric: its target, due time, fulfilment and breach (epoch seconds).

    The ``*_ts`` fields are epoch seconds (``None`` when not applicable); the matching
    properties (`due_at`, ...) give aware datetimes.

    Examples:
        >>> from datetime import UTC
        >>> policy = SlaPolicy({"high": {"first_reply": timedelta(hours=1)}})
        >>> t0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
        >>> status = policy.evaluate(SlaTimeline(t0, priority="high"), t0 + timedelta(hours=2))
        >>> instance = status.current("first_reply")
        >>> (instance.state, instance.breached_at.isoformat())
        ('breached', '2026-01-05T10:00:00+00:00')
    """

    metric: str
    started_ts: int
    target_seconds: int | None
    due_ts: int | None
    fulfilled_ts: int | None
    breached_ts: int | None
    paused: bool
    elapsed_seconds: int
    pieces: tuple[tuple[int, int, str | None], ...] = field(repr=False, compare=False)
    basis: BusinessCalendar | CalendarHours = field(repr=False, compare=False)

    @property
    def started_at(self) -> datetime:
        """When the instance started."""
        return to_datetime(self.started_ts)

    @property
    def due_at(self) -> datetime | None:
        """When the target is (or was) due; ``None`` without a target or while paused."""
        return None if self.due_ts is None else to_datetime(self.due_ts)

    @property
    def fulfilled_at(self) -> datetime | None:
        """When the instance was fulfilled, if it was."""
        return None if self.fulfilled_ts is None else to_datetime(self.fulfilled_ts)

    @property
    def breached_at(self) -> datetime | None:
        """When it breached (the due time then in force); sticky."""
        return None if self.breached_ts is None else to_datetime(self.breached_ts)

    @property
    def target(self) -> timedelta | None:
        """The target in force (the ticket's current priority), if any."""
        return None if self.target_seconds is None else timedelta(seconds=self.target_seconds)

    @property
    def elapsed(self) -> timedelta:
        """The counted time so far (pauses and closed hours excluded)."""
        return timedelta(seconds=self.elapsed_seconds)

    @property
    def state(self) -> str:
        """``breached``, ``met``, ``paused``, ``running`` or ``no_target``."""
        if self.breached_ts is not None:
            return "breached"
        if self.target_seconds is None:
            return "no_target"
        if self.fulfilled_ts is not None:
            return "met"
        return "paused" if self.paused else "running"

    def explain(self) -> SlaExplanation:
        """Return the counted windows, the holidays skipped and the pauses of this instance.

        Examples:
            >>> from datetime import UTC
            >>> policy = SlaPolicy({"normal": {"resolution": timedelta(hours=8)}})
            >>> t0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
            >>> timeline = SlaTimeline(t0, priority="normal")
            >>> status = policy.evaluate(timeline, t0 + timedelta(hours=1))
            >>> status.current("resolution").explain().lines()[1]
            'counted 2026-01-05T09:00:00+00:00 -> 2026-01-05T10:00:00+00:00'
        """
        windows: list[tuple[datetime, datetime]] = []
        pauses: list[tuple[datetime, datetime, str]] = []
        for low, high, why in self.pieces:
            if why is None:
                windows.extend(
                    (to_datetime(a), to_datetime(b)) for a, b in self.basis.intervals(low, high)
                )
            else:
                pauses.append((to_datetime(low), to_datetime(high), why))
        holidays: list[date] = []
        if self.pieces:
            holidays = self.basis.holidays_between(self.pieces[0][0], self.pieces[-1][1])
        if isinstance(self.basis, BusinessCalendar):
            basis = f"business hours ({self.basis.zone})"
        else:
            basis = "calendar hours"
        return SlaExplanation(self.metric, basis, tuple(windows), tuple(holidays), tuple(pauses))


@dataclass(frozen=True, slots=True)
class SlaStatus:
    """Every SLA metric instance of a ticket at one instant.

    Examples:
        >>> from datetime import UTC
        >>> policy = SlaPolicy({"low": {"resolution": timedelta(days=2)}})
        >>> t0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
        >>> status = policy.evaluate(SlaTimeline(t0, priority="low"), t0)
        >>> (status.breached, status.next_due_at.isoformat())
        (False, '2026-01-07T09:00:00+00:00')
    """

    evaluated_ts: int
    instances: tuple[SlaInstance, ...]

    def current(self, metric: str) -> SlaInstance | None:
        """Return the latest instance of ``metric``, or ``None`` if it never started."""
        found = None
        for instance in self.instances:
            if instance.metric == metric:
                found = instance
        return found

    @property
    def breached(self) -> bool:
        """Whether any instance is breached."""
        return any(instance.breached_ts is not None for instance in self.instances)

    @property
    def next_due_ts(self) -> int | None:
        """The earliest due time of a running, not yet breached instance (epoch seconds)."""
        dues = [
            instance.due_ts
            for instance in self.instances
            if instance.due_ts is not None
            and instance.fulfilled_ts is None
            and instance.breached_ts is None
            and not instance.paused
        ]
        return min(dues) if dues else None

    @property
    def next_due_at(self) -> datetime | None:
        """`next_due_ts` as an aware datetime."""
        due = self.next_due_ts
        return None if due is None else to_datetime(due)


class SlaPolicy:
    """SLA targets per priority and metric, the calendar they count in, and pauses per metric.

    Args:
        targets: ``{priority: {metric: timedelta | SlaTarget}}``; a priority or metric left out
            has no target.
        calendar: The business calendar for targets in business hours; ``None`` counts every
            target in calendar hours.
        pauses: ``{metric: statuses}`` replacing the default pause statuses of those metrics.
        name: A label for the policy.

    Raises:
        InvalidInputError: An unknown priority, metric or status, or a negative duration.

    Examples:
        >>> from datetime import UTC
        >>> policy = SlaPolicy(
        ...     {"urgent": {"first_reply": timedelta(minutes=30)}},
        ...     calendar=BusinessCalendar("Europe/London", hours={"mon-fri": [("09:00", "17:00")]}),
        ... )
        >>> t0 = datetime(2026, 1, 9, 16, 45, tzinfo=UTC)  # a Friday, 16:45 in London
        >>> policy.evaluate(SlaTimeline(t0, priority="urgent"), t0).current(
        ...     "first_reply").due_at.isoformat()
        '2026-01-12T09:15:00+00:00'
    """

    def __init__(
        self,
        targets: Mapping[str, Mapping[str, timedelta | SlaTarget]],
        *,
        calendar: BusinessCalendar | None = None,
        pauses: Mapping[str, Iterable[str]] | None = None,
        name: str = "default",
    ) -> None:
        if calendar is not None and not isinstance(calendar, BusinessCalendar):
            raise InvalidInputError("calendar", "must be a BusinessCalendar or None")
        if not isinstance(targets, Mapping):
            raise InvalidInputError("targets", "must map priorities to {metric: duration}")
        self.name = name
        self.calendar = calendar
        table: dict[str, dict[str, tuple[int, BusinessCalendar | CalendarHours]]] = {}
        for priority, metrics in targets.items():
            _choice(priority, PRIORITIES, "targets")
            if not isinstance(metrics, Mapping):
                raise InvalidInputError(f"targets.{priority}", "must map metrics to durations")
            row: dict[str, tuple[int, BusinessCalendar | CalendarHours]] = {}
            for metric, value in metrics.items():
                _choice(metric, METRICS, f"targets.{priority}")
                target = value if isinstance(value, SlaTarget) else None
                if target is None:
                    if not isinstance(value, timedelta):
                        raise InvalidInputError(
                            f"targets.{priority}.{metric}", "must be a timedelta or SlaTarget"
                        )
                    if value < timedelta(seconds=1):
                        raise InvalidInputError(
                            f"targets.{priority}.{metric}", "must be at least one second"
                        )
                    target = SlaTarget(value)
                basis: BusinessCalendar | CalendarHours = _ALWAYS
                if target.business_hours and calendar is not None:
                    basis = calendar
                row[metric] = (int(target.duration.total_seconds()), basis)
            table[priority] = row
        self._targets = table
        self._tracked = tuple(m for m in METRICS if any(m in row for row in table.values()))
        self._pauses = dict(_DEFAULT_PAUSES)
        for metric, statuses in (pauses or {}).items():
            _choice(metric, METRICS, "pauses")
            if isinstance(statuses, str) or not isinstance(statuses, Iterable):
                raise InvalidInputError(f"pauses.{metric}", "must be a collection of statuses")
            self._pauses[metric] = frozenset(
                _choice(status, STATUSES, f"pauses.{metric}") for status in statuses
            )

    def __repr__(self) -> str:
        return f"SlaPolicy(name={self.name!r})"

    def metrics_for(self, priority: str) -> tuple[str, ...]:
        """Return the metrics that have a target at ``priority``.

        Examples:
            >>> SlaPolicy({"high": {"resolution": timedelta(days=1)}}).metrics_for("high")
            ('resolution',)
        """
        row = self._targets.get(_choice(priority, PRIORITIES, "priority"), {})
        return tuple(metric for metric in METRICS if metric in row)

    def evaluate(self, timeline: SlaTimeline, now: datetime) -> SlaStatus:
        """Compute every metric instance of ``timeline`` as it stands at ``now``.

        Events after ``now`` are ignored, so the same timeline can be replayed at any instant.

        Args:
            timeline: The ticket's history.
            now: The instant of evaluation (aware).

        Returns:
            The status of every metric that started and that the policy targets or tracks.

        Raises:
            InvalidInputError: ``timeline`` is not an `SlaTimeline`, or ``now`` is naive.

        Examples:
            >>> from datetime import UTC
            >>> policy = SlaPolicy({"normal": {"first_reply": timedelta(hours=2)}})
            >>> t0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
            >>> reply = SlaEvent(t0 + timedelta(minutes=90), "comment", "agent")
            >>> timeline = SlaTimeline(t0, "normal", events=[reply])
            >>> status = policy.evaluate(timeline, t0 + timedelta(hours=3))
            >>> status.current("first_reply").state
            'met'
        """
        if not isinstance(timeline, SlaTimeline):
            raise InvalidInputError("timeline", "must be an SlaTimeline")
        return self.evaluate_at(timeline, to_epoch(now, "now"))

    def evaluate_at(self, timeline: SlaTimeline, now: int) -> SlaStatus:
        """`evaluate` at an instant given in epoch seconds (the hot path of scans).

        Examples:
            >>> from datetime import UTC
            >>> policy = SlaPolicy({"normal": {"resolution": timedelta(hours=1)}})
            >>> t0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
            >>> policy.evaluate_at(SlaTimeline(t0, "normal"), int(t0.timestamp()) + 3601).breached
            True
        """
        created = timeline.created
        # status/priority change points and the instance boundaries
        changes: list[tuple[int, str, str]] = [(created, timeline.status, timeline.priority)]
        status, priority = timeline.status, timeline.priority
        starts: dict[str, list[int]] = {"first_reply": [created]}
        ends: dict[str, list[int]] = {}
        replied = False
        next_open = False
        periodic_open = False
        first_open = True
        done_since = created
        for event in timeline.events:
            at = event.epoch
            if at > now:
                break
            kind = event.kind
            if kind == "status":
                if event.value == status:
                    continue
                if event.value in _DONE and status not in _DONE:
                    done_since = at
                status = event.value
                changes.append((at, status, priority))
                if status in _DONE:
                    if first_open:
                        ends.setdefault("first_reply", []).append(at)
                        first_open = False
                    if next_open:
                        ends.setdefault("next_reply", []).append(at)
                        next_open = False
                    if periodic_open:
                        ends.setdefault("periodic_update", []).append(at)
                        periodic_open = False
            elif kind == "priority":
                if event.value == priority:
                    continue
                priority = event.value
                changes.append((at, status, priority))
            elif event.public:
                if event.value == "agent":
                    if first_open:
                        ends.setdefault("first_reply", []).append(at)
                        first_open = False
                    if next_open:
                        ends.setdefault("next_reply", []).append(at)
                        next_open = False
                    if periodic_open:
                        ends.setdefault("periodic_update", []).append(at)
                    starts.setdefault("periodic_update", []).append(at)
                    periodic_open = True
                    replied = True
                elif replied and not next_open and status not in _DONE:
                    starts.setdefault("next_reply", []).append(at)
                    next_open = True
        lifetime_end: int | None = done_since if status in _DONE else None
        for metric in _LIFETIME:
            starts[metric] = [created]
            if lifetime_end is not None:
                ends[metric] = [lifetime_end]
        out: list[SlaInstance] = []
        targets = self._targets
        for metric in self._tracked:
            metric_starts = starts.get(metric)
            if not metric_starts:
                continue
            metric_ends = ends.get(metric, [])
            pauses = self._pauses[metric]
            lifetime = metric in _LIFETIME
            for index, start in enumerate(metric_starts):
                end = metric_ends[index] if index < len(metric_ends) else None
                out.append(
                    self._instance(metric, start, end, now, changes, targets, pauses, lifetime)
                )
        return SlaStatus(now, tuple(out))

    def _instance(
        self,
        metric: str,
        start: int,
        end: int | None,
        now: int,
        changes: list[tuple[int, str, str]],
        targets: dict[str, dict[str, tuple[int, BusinessCalendar | CalendarHours]]],
        pauses: frozenset[str],
        lifetime: bool,
    ) -> SlaInstance:
        stop = now if end is None else end
        acc = 0
        breached: int | None = None
        runs: list[tuple[int, int, int, int]] = []  # counted pieces: (from, to, before, counted)
        pieces: list[tuple[int, int, str | None]] = []
        basis: BusinessCalendar | CalendarHours = _ALWAYS
        target: int | None = None
        paused = False
        last = len(changes) - 1
        for index, (at, status, priority) in enumerate(changes):
            following = changes[index + 1][0] if index < last else None
            if following is not None and following <= start:
                continue
            if at > start and (at > stop or (at == stop and end is not None)):
                break
            low = at if at > start else start
            high = stop if following is None or following > stop else following
            found = targets.get(priority, {}).get(metric)
            if found is None:
                target = None
            else:
                target, basis = found
            paused = status in pauses or (lifetime and status in _DONE)
            lasts = high > low or (following is None and end is None)
            if target is not None and breached is None and acc >= target and lasts:
                due = self._crossing(basis, runs, target, start)
                if due < high:
                    breached = due
            if paused:
                if high > low:
                    pieces.append((low, high, status))
                continue
            counted = basis.elapsed_seconds(low, high)
            if target is not None and breached is None and acc + counted >= target:
                due = basis.add_seconds(low, target - acc)
                if due < high:
                    breached = due
            runs.append((low, high, acc, counted))
            if high > low:
                pieces.append((low, high, None))
            acc += counted
        due_ts: int | None = None
        if target is not None:
            if acc >= target:
                due_ts = self._crossing(basis, runs, target, start)
            elif end is None and not paused:
                due_ts = basis.add_seconds(stop, target - acc)
        return SlaInstance(
            metric,
            start,
            target,
            due_ts,
            end,
            breached,
            paused and end is None,
            acc,
            tuple(pieces),
            basis,
        )

    @staticmethod
    def _crossing(
        basis: BusinessCalendar | CalendarHours,
        runs: list[tuple[int, int, int, int]],
        target: int,
        start: int,
    ) -> int:
        """The instant at which the counted time reached ``target`` (it already has)."""
        if target <= 0:
            return start
        for low, _, before, counted in runs:
            if before + counted >= target:
                return basis.add_seconds(low, target - before)
        return start
