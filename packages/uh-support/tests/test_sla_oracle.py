"""The SLA engine against a brute-force oracle that walks time minute by minute.

The oracle knows nothing of interval tables, offsets or bisection: for each minute it asks the time
zone for the local wall time, checks that date's windows and holidays, and counts. Windows, events
and starts sit on minute boundaries, so minute steps see every change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from unified_health.support import BusinessCalendar, SlaEvent, SlaPolicy, SlaTimeline

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # a half-hour DST shift
    "America/Santiago",
    "Asia/Kolkata",
    "Pacific/Chatham",
]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# starts near DST changes in both hemispheres (2026) and a plain week
ANCHORS = [
    datetime(2026, 3, 6, tzinfo=UTC),
    datetime(2026, 3, 27, tzinfo=UTC),
    datetime(2026, 4, 2, tzinfo=UTC),
    datetime(2026, 10, 1, tzinfo=UTC),
    datetime(2026, 10, 23, tzinfo=UTC),
    datetime(2026, 10, 30, tzinfo=UTC),
    datetime(2026, 6, 10, tzinfo=UTC),
]


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def calendars(draw: st.DrawFn) -> tuple[str, dict[str, list[tuple[str, str]]], list[date]]:
    zone = draw(st.sampled_from(ZONES))
    hours: dict[str, list[tuple[str, str]]] = {}
    for day in DAYS:
        cuts = sorted(draw(st.sets(st.integers(0, 48).map(lambda half: half * 30), max_size=4)))
        pairs = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
        if pairs:
            hours[day] = [(hhmm(a), hhmm(b)) for a, b in pairs]
    if not hours:
        hours["wed"] = [("01:30", "02:30")]
    holidays = draw(
        st.lists(st.dates(date(2026, 3, 1), date(2026, 11, 20)), max_size=6, unique=True)
    )
    return zone, hours, holidays


def is_business(
    instant: int, tz: ZoneInfo, hours: dict[str, list[tuple[str, str]]], holidays: set[date]
) -> bool:
    local = datetime.fromtimestamp(instant, tz)
    if local.date() in holidays:
        return False
    wall = local.hour * 60 + local.minute
    for start, end in hours.get(DAYS[local.weekday()], []):
        a = int(start[:2]) * 60 + int(start[3:])
        b = int(end[:2]) * 60 + int(end[3:])
        if a <= wall < b:
            return True
    return False


@settings(max_examples=120, deadline=None)
@given(
    cal=calendars(),
    anchor=st.sampled_from(ANCHORS),
    offset_minutes=st.integers(0, 6 * 24 * 60),
    span_minutes=st.integers(0, 5 * 24 * 60),
)
def test_business_time_between_matches_the_minute_oracle(
    cal: tuple[str, dict[str, list[tuple[str, str]]], list[date]],
    anchor: datetime,
    offset_minutes: int,
    span_minutes: int,
) -> None:
    zone, hours, holidays = cal
    calendar = BusinessCalendar(zone, hours=hours, holidays=holidays)
    start = anchor + timedelta(minutes=offset_minutes)
    end = start + timedelta(minutes=span_minutes)
    tz, days = ZoneInfo(zone), set(holidays)
    t0 = int(start.timestamp())
    expected = sum(
        60 for minute in range(span_minutes) if is_business(t0 + minute * 60, tz, hours, days)
    )
    assert calendar.business_time_between(start, end) == timedelta(seconds=expected)


@settings(max_examples=120, deadline=None)
@given(
    cal=calendars(),
    anchor=st.sampled_from(ANCHORS),
    offset_minutes=st.integers(0, 6 * 24 * 60),
    target_minutes=st.integers(1, 40 * 60),
)
def test_add_business_time_matches_the_minute_oracle(
    cal: tuple[str, dict[str, list[tuple[str, str]]], list[date]],
    anchor: datetime,
    offset_minutes: int,
    target_minutes: int,
) -> None:
    zone, hours, holidays = cal
    calendar = BusinessCalendar(zone, hours=hours, holidays=holidays)
    start = anchor + timedelta(minutes=offset_minutes)
    tz, days = ZoneInfo(zone), set(holidays)
    instant, counted = int(start.timestamp()), 0
    while counted < target_minutes:
        if is_business(instant, tz, hours, days):
            counted += 1
        instant += 60
    due = calendar.add_business_time(start, timedelta(minutes=target_minutes))
    assert int(due.timestamp()) == instant


@st.composite
def tickets(draw: st.DrawFn) -> tuple[list[tuple[int, str, str]], int]:
    """Status and priority changes at minute offsets, and the minute of evaluation."""
    changes: list[tuple[int, str, str]] = []
    minute = 0
    for _ in range(draw(st.integers(0, 6))):
        minute += draw(st.integers(0, 600))
        kind = draw(st.sampled_from(["status", "priority"]))
        if kind == "status":
            value = draw(st.sampled_from(["open", "pending", "on_hold", "solved", "open"]))
        else:
            value = draw(st.sampled_from(["low", "normal", "high", "urgent"]))
        changes.append((minute, kind, value))
    return changes, minute + draw(st.integers(0, 3000))


TARGETS = {"low": 900, "normal": 480, "high": 240, "urgent": 60}  # minutes


def oracle_lifetime(
    created: int,
    priority: str,
    changes: list[tuple[int, str, str]],
    now_minute: int,
    paused_in: set[str],
    business: object,
) -> tuple[int, int | None, int | None]:
    """Counted seconds, due and sticky breach of a lifetime metric, minute by minute."""
    assert callable(business)
    status = "new"
    state_at: list[tuple[str, str]] = []
    pending = list(changes)
    for minute in range(now_minute):
        while pending and pending[0][0] <= minute:
            _, kind, value = pending.pop(0)
            if kind == "status":
                status = value
            else:
                priority = value
        state_at.append((status, priority))
    while pending and pending[0][0] <= now_minute:
        _, kind, value = pending.pop(0)
        if kind == "status":
            status = value
        else:
            priority = value
    final_status, final_priority = status, priority
    counted_before = [0]
    for minute, (status_m, _) in enumerate(state_at):
        counts = status_m not in paused_in and status_m != "solved"
        counts = counts and business(created + minute * 60)
        counted_before.append(counted_before[-1] + (60 if counts else 0))

    def crossing(target_seconds: int) -> int | None:
        for minute, value in enumerate(counted_before):
            if value >= target_seconds:
                return created + minute * 60
        return None

    # the lifetime instance stops at the last solve when the ticket is solved now
    stop_minute = now_minute
    if final_status == "solved":
        last_solve = max(m for m, k, v in changes if k == "status" and v == "solved")
        stop_minute = min(now_minute, last_solve)
        prev = None
        for m, k, v in changes:
            if k == "status" and m <= now_minute:
                if v == "solved" and prev != "solved":
                    stop_minute = m
                prev = v
    # breached once some moment u passes the crossing of the target in force at u
    breached = None
    for minute in range(stop_minute):
        _, priority_m = state_at[minute]
        due = crossing(TARGETS[priority_m] * 60)
        if due is not None and due <= created + minute * 60:
            breached = due
            break
    if breached is None and final_status != "solved":
        due = crossing(TARGETS[final_priority] * 60)
        if due is not None and due < created + now_minute * 60:
            breached = due
    counted = counted_before[stop_minute]
    target = TARGETS[final_priority] * 60
    due_final: int | None
    if counted >= target:
        due_final = crossing(target)
    elif final_status == "solved" or final_status in paused_in:
        due_final = None
    else:
        instant, total = created + now_minute * 60, counted
        while total < target:
            if business(instant):
                total += 60
            instant += 60
        due_final = instant
    return counted, due_final, breached


@settings(max_examples=100, deadline=None)
@given(
    cal=calendars(),
    anchor=st.sampled_from(ANCHORS),
    offset_minutes=st.integers(0, 3 * 24 * 60),
    ticket=tickets(),
    metric=st.sampled_from(["resolution", "agent_work", "requester_wait"]),
)
def test_lifetime_metrics_match_the_minute_oracle(
    cal: tuple[str, dict[str, list[tuple[str, str]]], list[date]],
    anchor: datetime,
    offset_minutes: int,
    ticket: tuple[list[tuple[int, str, str]], int],
    metric: str,
) -> None:
    zone, hours, holidays = cal
    calendar = BusinessCalendar(zone, hours=hours, holidays=holidays)
    policy = SlaPolicy(
        {p: {metric: timedelta(minutes=m)} for p, m in TARGETS.items()}, calendar=calendar
    )
    changes, now_minute = ticket
    created = anchor + timedelta(minutes=offset_minutes)
    events = [SlaEvent(created + timedelta(minutes=m), kind, v) for m, kind, v in changes]  # type: ignore[arg-type]
    timeline = SlaTimeline(created, priority="normal", events=events)
    status = policy.evaluate(timeline, created + timedelta(minutes=now_minute))
    instance = status.current(metric)
    assert instance is not None
    tz, days = ZoneInfo(zone), set(holidays)
    paused_in = {"requester_wait": {"pending"}, "agent_work": {"pending", "on_hold"}}.get(
        metric, set()
    )
    counted, due, breached = oracle_lifetime(
        int(created.timestamp()),
        "normal",
        changes,
        now_minute,
        paused_in,
        lambda instant: is_business(instant, tz, hours, days),
    )
    assert instance.elapsed_seconds == counted
    assert instance.breached_ts == breached
    if instance.fulfilled_ts is None:
        assert instance.due_ts == due


@settings(max_examples=60, deadline=None)
@given(
    cal=calendars(),
    anchor=st.sampled_from(ANCHORS),
    ticket=tickets(),
    later=st.integers(1, 2000),
)
def test_breach_is_sticky_and_counted_time_never_shrinks(
    cal: tuple[str, dict[str, list[tuple[str, str]]], list[date]],
    anchor: datetime,
    ticket: tuple[list[tuple[int, str, str]], int],
    later: int,
) -> None:
    zone, hours, holidays = cal
    policy = SlaPolicy(
        {p: {"resolution": timedelta(minutes=m)} for p, m in TARGETS.items()},
        calendar=BusinessCalendar(zone, hours=hours, holidays=holidays),
    )
    changes, now_minute = ticket
    events = [SlaEvent(anchor + timedelta(minutes=m), k, v) for m, k, v in changes]  # type: ignore[arg-type]
    timeline = SlaTimeline(anchor, priority="normal", events=events)
    early = policy.evaluate(timeline, anchor + timedelta(minutes=now_minute)).current("resolution")
    late = policy.evaluate(timeline, anchor + timedelta(minutes=now_minute + later)).current(
        "resolution"
    )
    assert early is not None
    assert late is not None
    assert late.elapsed_seconds >= early.elapsed_seconds
    if early.breached_ts is not None:
        assert late.breached_ts == early.breached_ts
