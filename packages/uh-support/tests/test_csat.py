"""CSAT: one signed, expiring survey per solve cycle; ratings per cycle; scores by group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from unified_health.support import InvalidInputError, SupportClient
from unified_health.support.testing import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 30, 9, tzinfo=UTC))


@pytest.fixture
def support(clock: FakeClock) -> SupportClient:
    return SupportClient(clock=clock, csat_secret="survey-key")


def test_one_survey_per_solve_cycle_and_ratings_stay_with_their_cycle(
    support: SupportClient,
) -> None:
    ticket = support.create_ticket("s", "d", "r", assignee="agent-1")
    support.solve(ticket.id)
    first = support.offer_survey(ticket.id)
    assert first is not None
    assert support.offer_survey(ticket.id) is None
    support.reopen(ticket.id)
    support.solve(ticket.id)
    second = support.offer_survey(ticket.id)
    assert second is not None
    support.record_rating(second, 2, comment="slow")
    rated = support.record_rating(first, "good")
    assert [(r.cycle, r.score, r.scale) for r in rated.csat] == [
        (1, 5, "good_bad"),
        (2, 2, "five_point"),
    ]


def test_a_rating_after_close_is_recorded(support: SupportClient) -> None:
    ticket = support.solve(support.create_ticket("s", "d", "r").id)
    token = support.offer_survey(ticket.id)
    assert token is not None
    support.set_status(ticket.id, "closed")
    assert support.record_rating(token, "bad").csat[0].good is False


def test_forged_expired_and_bad_ratings_are_refused(
    support: SupportClient, clock: FakeClock
) -> None:
    ticket = support.solve(support.create_ticket("s", "d", "r").id)
    token = support.offer_survey(ticket.id)
    assert token is not None
    other = SupportClient(clock=clock, csat_secret="another-key")
    with pytest.raises(InvalidInputError, match="not a valid survey token"):
        other.record_rating(token, "good")
    for rating in (0, 6, "great", True):
        with pytest.raises(InvalidInputError) as info:
            support.record_rating(token, rating)
        assert info.value.field == "rating"
    clock.advance(timedelta(days=15).total_seconds())
    with pytest.raises(InvalidInputError, match="expired"):
        support.record_rating(token, "good")


def test_no_survey_before_the_ticket_is_solved(support: SupportClient) -> None:
    ticket = support.create_ticket("s", "d", "r")
    with pytest.raises(InvalidInputError):
        support.offer_survey(ticket.id)


def test_scores_by_agent_priority_and_month(support: SupportClient, clock: FakeClock) -> None:
    plan: list[tuple[str, str, str | int]] = [
        ("agent-1", "high", "good"),
        ("agent-1", "high", 2),
        ("agent-2", "low", 5),
    ]
    for n, (agent, priority, rating) in enumerate(plan):
        ticket = support.create_ticket(f"s{n}", "d", f"r{n}", assignee=agent, priority=priority)
        support.solve(ticket.id)
        token = support.offer_survey(ticket.id)
        assert token is not None
        support.record_rating(token, rating)
        clock.advance(timedelta(days=2).total_seconds())
    by_agent = {s.key: (s.rated, s.good) for s in support.csat_scores(by="agent")}
    assert by_agent == {"agent-1": (2, 1), "agent-2": (1, 1)}
    by_priority = {s.key: s.score for s in support.csat_scores(by="priority")}
    assert by_priority == {"high": 0.5, "low": 1.0}
    by_month = {s.key: s.rated for s in support.csat_scores(by="month")}
    assert by_month == {"2026-01": 1, "2026-02": 2}
    february = support.csat_scores(by="agent", since=datetime(2026, 2, 1, tzinfo=UTC))
    assert [(s.key, s.rated) for s in february] == [("agent-1", 1), ("agent-2", 1)]
