from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unified_health.billing import InvalidInputError
from unified_health.billing._periods import (
    Period,
    due_periods,
    parse_period,
    period_containing,
)

ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Kolkata",
    "Pacific/Apia",
    "UTC",
]
KINDS = ["daily", "weekly", "monthly"]
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


def test_dst_days_last_23_and_25_hours() -> None:
    assert parse_period("2026-03-08", "America/New_York").hours == 23
    assert parse_period("2026-11-01", "America/New_York").hours == 25
    assert parse_period("2026-03-29", "Europe/London").hours == 23
    assert parse_period("2026-11-02", "America/New_York").hours == 24


def test_months_of_any_length() -> None:
    assert parse_period("2028-02", "UTC").hours == 29 * 24
    assert parse_period("2026-02", "UTC").hours == 28 * 24
    assert parse_period("2026-03", "America/New_York").hours == 31 * 24 - 1


def test_labels_and_bad_labels() -> None:
    assert parse_period("2026-W48", "UTC").first_day == date(2026, 11, 23)
    for bad in ["2026-13", "2026-02-30", "yesterday", "2026-W60"]:
        with pytest.raises(InvalidInputError) as err:
            parse_period(bad, "UTC")
        assert err.value.field == "period"
    with pytest.raises(InvalidInputError):
        parse_period("2026-11-24", "Mars/Olympus")


@settings(max_examples=300)
@given(instants, st.sampled_from(ZONES), st.sampled_from(KINDS))
def test_every_instant_is_in_exactly_one_period(instant: datetime, zone: str, kind: str) -> None:
    period = period_containing(instant, kind, zone)  # type: ignore[arg-type]
    assert period.start <= instant < period.end
    assert period.next().start == period.end
    assert period.previous().end == period.start
    assert not period.next().contains(instant)
    assert not period.previous().contains(instant)


@settings(max_examples=200)
@given(st.dates(date(2020, 1, 1), date(2035, 12, 31)), st.sampled_from(ZONES))
def test_daily_length_is_a_day_give_or_take_the_clock_change(day: date, zone: str) -> None:
    period = Period.of("daily", day, zone)
    assert 22 <= period.hours <= 26
    local_start = period.start.astimezone(period.end.tzinfo)
    assert local_start < period.end


@given(instants, st.sampled_from(ZONES), st.integers(0, 48))
def test_due_periods_are_settled_contiguous_and_oldest_first(
    now: datetime, zone: str, settle_hours: int
) -> None:
    since = (now - timedelta(days=10)).date()
    settle = timedelta(hours=settle_hours)
    periods = list(due_periods(now, "daily", zone, since=since, settle=settle))
    for a, b in itertools.pairwise(periods):
        assert a.end == b.start
    assert all(p.end + settle <= now for p in periods)
    following = periods[-1].next() if periods else Period.of("daily", since, zone)
    assert following.end + settle > now


def test_naive_instants_are_refused() -> None:
    with pytest.raises(InvalidInputError):
        period_containing(datetime(2026, 1, 1), "daily", "UTC")
