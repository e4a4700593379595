"""Hand-checked SLA cases: daylight-saving changes both ways, holidays, pauses and re-targeting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from unified_health.support import (
    BusinessCalendar,
    InvalidInputError,
    SlaEvent,
    SlaPolicy,
    SlaTarget,
    SlaTimeline,
)

NINE_TO_FIVE = {"mon-fri": [("09:00", "17:00")]}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_new_york_spring_forward_weekend_then_monday() -> None:
    # Fri 2026-03-06 16:00 EST (21:00 UTC); DST starts Sun 03-08; Mon 09:00 EDT is 13:00 UTC
    cal = BusinessCalendar("America/New_York", hours=NINE_TO_FIVE)
    due = cal.add_business_time(utc(2026, 3, 6, 21, 0), timedelta(hours=2))
    assert due == utc(2026, 3, 9, 14, 0)


def test_a_window_across_the_spring_gap_is_an_hour_shorter() -> None:
    cal = BusinessCalendar("America/New_York", hours={"sun": [("00:00", "06:00")]})
    day = cal.business_time_between(utc(2026, 3, 8, 0, 0), utc(2026, 3, 9, 0, 0))
    assert day == timedelta(hours=5)


def test_a_window_across_the_fall_back_repeat_counts_the_hour_twice() -> None:
    cal = BusinessCalendar("America/New_York", hours={"sun": [("00:00", "06:00")]})
    day = cal.business_time_between(utc(2026, 11, 1, 0, 0), utc(2026, 11, 2, 0, 0))
    assert day == timedelta(hours=7)


def test_sydney_autumn_change_moves_the_utc_opening() -> None:
    # DST ends Sun 2026-04-05 in Sydney: Fri 09:00 AEDT = 22:00 UTC Thu, Mon 09:00 AEST = 23:00 Sun
    cal = BusinessCalendar("Australia/Sydney", hours=NINE_TO_FIVE)
    windows = cal.windows(utc(2026, 4, 2, 0, 0), utc(2026, 4, 7, 0, 0))
    assert windows[0] == (utc(2026, 4, 2, 0, 0), utc(2026, 4, 2, 6, 0))  # Thu, clipped
    assert windows[1] == (utc(2026, 4, 2, 22, 0), utc(2026, 4, 3, 6, 0))
    assert windows[2] == (utc(2026, 4, 5, 23, 0), utc(2026, 4, 6, 7, 0))


def test_london_holidays_and_lunch_break() -> None:
    cal = BusinessCalendar(
        "Europe/London",
        hours={"mon-fri": [("09:00", "12:30"), ("13:30", "17:30")]},
        holidays=[date(2026, 12, 25), date(2026, 12, 28)],
    )
    # Thu 24 Dec 17:00 GMT: 30 min left that day; Fri 25 and Mon 28 are holidays; Tue 29 from 09:00
    due = cal.add_business_time(utc(2026, 12, 24, 17, 0), timedelta(hours=4, minutes=30))
    assert due == utc(2026, 12, 29, 14, 0)  # 0.5 h + 3.5 h to lunch + 0.5 h after it


def test_hours_from_a_date_replace_the_weekly_hours() -> None:
    cal = BusinessCalendar(
        "UTC",
        hours=NINE_TO_FIVE,
        hours_from={date(2026, 6, 1): {"mon-fri": [("08:00", "12:00")]}},
    )
    assert cal.business_time_between(utc(2026, 5, 29), utc(2026, 5, 30)) == timedelta(hours=8)
    assert cal.business_time_between(utc(2026, 6, 1), utc(2026, 6, 2)) == timedelta(hours=4)


def test_lord_howe_half_hour_shift() -> None:
    cal = BusinessCalendar("Australia/Lord_Howe", hours={"sun": [("00:00", "24:00")]})
    # DST ends Sun 2026-04-05 (02:00 -> 01:30): that Sunday lasts 24.5 hours
    sunday = cal.business_time_between(utc(2026, 4, 4), utc(2026, 4, 6))
    assert sunday == timedelta(hours=24, minutes=30)


def test_a_calendar_without_business_time_is_refused() -> None:
    with pytest.raises(InvalidInputError) as info:
        BusinessCalendar("UTC", hours={})
    assert info.value.field == "hours"


def test_holidays_forever_end_in_a_clear_error_not_a_loop() -> None:
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(366 * 25)]
    cal = BusinessCalendar("UTC", hours={"mon": [("09:00", "10:00")]}, holidays=days)
    with pytest.raises(InvalidInputError) as info:
        cal.add_business_time(utc(2026, 1, 1), timedelta(hours=1))
    assert info.value.field == "calendar"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"zone": "Mars/Olympus", "hours": NINE_TO_FIVE}, "zone"),
        ({"zone": "UTC", "hours": {"mon": [("10:00", "09:00")]}}, "hours.mon.0"),
        ({"zone": "UTC", "hours": {"mon": [("09:00", "12:00"), ("11:00", "13:00")]}}, "hours.mon"),
        ({"zone": "UTC", "hours": {"funday": [("09:00", "12:00")]}}, "hours"),
        ({"zone": "UTC", "hours": {"mon": [("9am", "12:00")]}}, "hours.mon.0"),
        ({"zone": "UTC", "hours": NINE_TO_FIVE, "holidays": ["2026-12-25"]}, "holidays.0"),
    ],
)
def test_bad_calendars_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        BusinessCalendar(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_naive_datetimes_are_refused() -> None:
    cal = BusinessCalendar("UTC", hours=NINE_TO_FIVE)
    with pytest.raises(InvalidInputError) as info:
        cal.add_business_time(datetime(2026, 1, 5, 9), timedelta(hours=1))
    assert info.value.field == "start"
    with pytest.raises(InvalidInputError):
        SlaTimeline(datetime(2026, 1, 5, 9), priority="high")


POLICY = SlaPolicy(
    {
        "normal": {
            "first_reply": timedelta(hours=8),
            "next_reply": timedelta(hours=4),
            "periodic_update": timedelta(hours=24),
            "resolution": timedelta(hours=40),
            "agent_work": timedelta(hours=16),
        },
        "urgent": {
            "first_reply": timedelta(hours=1),
            "next_reply": SlaTarget(timedelta(hours=1), business_hours=False),
            "resolution": timedelta(hours=8),
        },
    },
    calendar=BusinessCalendar("America/New_York", hours=NINE_TO_FIVE),
)
MONDAY_9 = utc(2026, 1, 5, 14, 0)  # 09:00 EST


def test_next_reply_is_rearmed_by_each_customer_comment_after_an_agent_reply() -> None:
    events = [
        SlaEvent(MONDAY_9 + timedelta(hours=1), "comment", "agent"),
        SlaEvent(MONDAY_9 + timedelta(hours=2), "comment", "customer"),
        SlaEvent(MONDAY_9 + timedelta(hours=2, minutes=30), "comment", "customer"),
        SlaEvent(MONDAY_9 + timedelta(hours=3), "comment", "agent", public=False),
        SlaEvent(MONDAY_9 + timedelta(hours=5), "comment", "agent"),
        SlaEvent(MONDAY_9 + timedelta(hours=6), "comment", "customer"),
    ]
    status = POLICY.evaluate(
        SlaTimeline(MONDAY_9, "normal", events=events), MONDAY_9 + timedelta(hours=7)
    )
    replies = [i for i in status.instances if i.metric == "next_reply"]
    assert [i.started_at for i in replies] == [
        MONDAY_9 + timedelta(hours=2),  # the second customer comment does not restart it
        MONDAY_9 + timedelta(hours=6),
    ]
    assert replies[0].fulfilled_at == MONDAY_9 + timedelta(hours=5)  # the note does not count
    assert replies[0].state == "met"
    assert replies[1].due_at == utc(2026, 1, 6, 16, 0)  # 2 h left Monday, 2 h Tuesday from 09:00
    assert status.current("first_reply").state == "met"  # type: ignore[union-attr]


def test_priority_change_retargets_from_the_original_start_and_breach_is_sticky() -> None:
    raised = SlaEvent(MONDAY_9 + timedelta(hours=3), "priority", "urgent")
    lowered = SlaEvent(MONDAY_9 + timedelta(hours=4), "priority", "normal")
    timeline = SlaTimeline(MONDAY_9, "normal", events=[raised, lowered])
    status = POLICY.evaluate(timeline, MONDAY_9 + timedelta(hours=5))
    first = status.current("first_reply")
    assert first is not None
    # urgent's 1 h target, counted from 09:00, was already passed when the change came at 12:00
    assert first.breached_at == MONDAY_9 + timedelta(hours=1)
    assert first.state == "breached"  # lowering again does not clear it
    assert first.due_at == MONDAY_9 + timedelta(hours=8)  # normal's target from the same start


def test_reopen_resumes_the_accumulated_resolution_time() -> None:
    events = [
        SlaEvent(MONDAY_9 + timedelta(hours=2), "status", "solved"),
        SlaEvent(MONDAY_9 + timedelta(hours=6), "status", "open"),
    ]
    status = POLICY.evaluate(
        SlaTimeline(MONDAY_9, "normal", events=events), MONDAY_9 + timedelta(hours=7)
    )
    resolution = status.current("resolution")
    assert resolution is not None
    assert resolution.elapsed == timedelta(hours=3)  # 2 h before solving, 1 h since reopening
    lines = resolution.explain().lines()
    assert "paused (solved) 2026-01-05T16:00:00+00:00 -> 2026-01-05T20:00:00+00:00" in lines


def test_agent_work_pauses_while_pending_and_explains_it() -> None:
    events = [
        SlaEvent(MONDAY_9 + timedelta(hours=1), "status", "pending"),
        SlaEvent(MONDAY_9 + timedelta(hours=3), "status", "open"),
    ]
    status = POLICY.evaluate(
        SlaTimeline(MONDAY_9, "normal", events=events), MONDAY_9 + timedelta(hours=4)
    )
    work = status.current("agent_work")
    assert work is not None
    assert work.elapsed == timedelta(hours=2)
    # 14 h left: Mon 13:00-17:00, all of Tue, then Wed 09:00-11:00 EST
    assert work.due_at == utc(2026, 1, 7, 16, 0)
    explanation = work.explain()
    assert explanation.basis == "business hours (America/New_York)"
    assert [why for _, _, why in explanation.pauses] == ["pending"]


def test_a_reply_at_the_due_second_is_met_one_second_later_is_a_breach() -> None:
    on_time = SlaEvent(MONDAY_9 + timedelta(hours=1), "comment", "agent")
    late = SlaEvent(MONDAY_9 + timedelta(hours=1, seconds=1), "comment", "agent")
    now = MONDAY_9 + timedelta(hours=2)
    met = POLICY.evaluate(SlaTimeline(MONDAY_9, "urgent", events=[on_time]), now)
    missed = POLICY.evaluate(SlaTimeline(MONDAY_9, "urgent", events=[late]), now)
    assert met.current("first_reply").state == "met"  # type: ignore[union-attr]
    assert missed.current("first_reply").breached_at == on_time.at  # type: ignore[union-attr]


def test_calendar_hours_target_ignores_the_business_calendar() -> None:
    reply = SlaEvent(MONDAY_9, "comment", "agent")
    customer = SlaEvent(utc(2026, 1, 5, 23, 0), "comment", "customer")  # 18:00 local, closed
    status = POLICY.evaluate(
        SlaTimeline(MONDAY_9, "urgent", events=[reply, customer]), utc(2026, 1, 5, 23, 30)
    )
    assert status.current("next_reply").due_at == utc(2026, 1, 6, 0, 0)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("targets", "field"),
    [
        ({"critical": {"first_reply": timedelta(hours=1)}}, "targets"),
        ({"high": {"first_response": timedelta(hours=1)}}, "targets.high"),
        ({"high": {"first_reply": 60}}, "targets.high.first_reply"),
        ({"high": {"first_reply": timedelta(0)}}, "targets.high.first_reply"),
    ],
)
def test_bad_policies_name_the_field(targets: dict[str, dict[str, object]], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        SlaPolicy(targets)  # type: ignore[arg-type]
    assert info.value.field == field
