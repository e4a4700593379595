"""`ZendeskProvider` over real HTTP against the fake Zendesk on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from unified_health.support import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    SupportClient,
    ZendeskProvider,
)
from unified_health.support.testing import FakeClock, FakeZendesk


@pytest.fixture
def zendesk() -> Iterator[FakeZendesk]:
    with FakeZendesk(email="agent@clinic.test", api_token="secret-token") as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def provider(zendesk: FakeZendesk, clock: FakeClock, **options: object) -> ZendeskProvider:
    return ZendeskProvider(
        subdomain="clinic",
        email="agent@clinic.test",
        api_token="secret-token",
        base_url=zendesk.url,
        sleep=clock.sleep,
        timeout=0.5,
        seed=1,
        **options,  # type: ignore[arg-type]
    )


def test_create_show_comment_and_update_round_trip(zendesk: FakeZendesk, clock: FakeClock) -> None:
    support = SupportClient(provider(zendesk, clock), clock=clock)
    ticket = support.create_ticket(
        "Login",
        "Cannot sign in",
        "pat@example.test",
        priority="high",
        tags=["portal"],
        custom_fields={"360001": "gold"},
        idempotency_key="req-1",
    )
    assert (ticket.status, ticket.priority, ticket.tags) == ("new", "high", ("portal",))
    support.add_comment(ticket.id, "Internal check", public=False)
    support.set_status(ticket.id, "on_hold")
    shown = support.get_ticket(ticket.id)
    assert (shown.status, shown.raw_status) == ("on_hold", "hold")
    assert [(c.author, c.public) for c in shown.comments] == [("agent", False)]
    assert shown.custom_fields == {"360001": "gold"}


def test_a_lost_answer_is_retried_and_makes_one_ticket(
    zendesk: FakeZendesk, clock: FakeClock
) -> None:
    zendesk.lose_next_answer(1.5)  # committed, answer held past the 0.5 s timeout
    support = SupportClient(provider(zendesk, clock), clock=clock)
    ticket = support.create_ticket("Login", "Cannot sign in", "p-1", idempotency_key="req-1")
    assert list(zendesk.tickets) == [int(ticket.id)]
    assert [m for m, p in zendesk.requests if p == "/api/v2/tickets.json"] == ["POST", "POST"]


def test_same_key_other_payload_is_a_conflict(zendesk: FakeZendesk, clock: FakeClock) -> None:
    support = SupportClient(provider(zendesk, clock), clock=clock)
    support.create_ticket("Login", "Cannot sign in", "p-1", idempotency_key="req-1")
    with pytest.raises(ConflictError):
        support.create_ticket("Login", "Other text", "p-1", idempotency_key="req-1")
    assert len(zendesk.tickets) == 1


def test_stale_update_is_a_conflict(zendesk: FakeZendesk, clock: FakeClock) -> None:
    zd = provider(zendesk, clock)
    created, _ = SupportClient(zd, clock=clock).create_ticket("s", "d", "r"), None
    stale = zd.get_ticket(created.id)
    zd.update_ticket(stale.model_copy(update={"priority": "urgent"}), expected_version=1)
    with pytest.raises(ConflictError):
        zd.update_ticket(stale.model_copy(update={"priority": "low"}), expected_version=1)
    assert zendesk.tickets[int(created.id)]["priority"] == "urgent"


def test_retry_after_is_honoured_within_the_budget(zendesk: FakeZendesk, clock: FakeClock) -> None:
    zendesk.fail_next(429, retry_after=2)
    zd = provider(zendesk, clock)
    SupportClient(zd, clock=clock).create_ticket("s", "d", "r")
    assert clock.sleeps == [2.0]


def test_past_the_budget_rate_limited_error_carries_retry_after(
    zendesk: FakeZendesk, clock: FakeClock
) -> None:
    zendesk.fail_next(429, retry_after=90)
    zd = provider(zendesk, clock, retry_budget=30.0)
    with pytest.raises(RateLimitedError) as info:
        zd.get_ticket("1")
    assert (info.value.retry_after, info.value.status_code) == (90.0, 429)
    assert clock.sleeps == []


def test_errors_map_to_the_family_tree(zendesk: FakeZendesk, clock: FakeClock) -> None:
    zd = provider(zendesk, clock, max_retries=1)
    with pytest.raises(NotFoundError):
        zd.get_ticket("999")
    zendesk.fail_next(503, times=2)
    with pytest.raises(ProviderError) as info:
        zd.get_ticket("1")
    assert info.value.status_code == 503
    bad = ZendeskProvider(
        subdomain="c",
        email="agent@clinic.test",
        api_token="wrong",
        base_url=zendesk.url,
        sleep=clock.sleep,
    )
    with pytest.raises(ProviderError) as info:
        bad.get_ticket("1")
    assert info.value.status_code == 401
    assert "wrong" not in str(info.value)


def test_cursor_pagination_and_incremental_export(zendesk: FakeZendesk, clock: FakeClock) -> None:
    support = SupportClient(provider(zendesk, clock), clock=clock)
    for n in range(5):
        support.create_ticket(f"s{n}", "d", "r", idempotency_key=f"k{n}")
    zd = provider(zendesk, clock)
    assert [t.subject for t in zd.list_tickets()] == [f"s{n}" for n in range(5)]
    assert len(list(zd.export_tickets(0))) == 5


def test_a_stalled_export_cursor_raises_instead_of_looping(clock: FakeClock) -> None:
    def stalled(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"tickets": [], "after_cursor": "c1", "end_of_stream": False}
        )

    http = httpx.Client(transport=httpx.MockTransport(stalled))
    zd = ZendeskProvider(
        subdomain="c", email="e@x.test", api_token="t", sleep=clock.sleep, http_client=http
    )
    with pytest.raises(ProviderError, match="stalled"):
        list(zd.export_tickets(0))


def test_an_invalid_transition_raises_before_any_write(
    zendesk: FakeZendesk, clock: FakeClock
) -> None:
    support = SupportClient(provider(zendesk, clock), clock=clock)
    ticket = support.create_ticket("s", "d", "r")
    before = len(zendesk.requests)
    with pytest.raises(InvalidInputError):
        support.reopen(ticket.id)
    assert [method for method, _ in zendesk.requests[before:]] == ["GET", "GET"]  # reads only


def test_the_fake_enforces_a_per_minute_limit_and_the_provider_waits_it_out() -> None:
    clock = FakeClock()
    with FakeZendesk(email="a@x.test", api_token="t", requests_per_minute=2, clock=clock) as fake:
        zd = ZendeskProvider(
            subdomain="c",
            email="a@x.test",
            api_token="t",
            base_url=fake.url,
            sleep=clock.sleep,
            retry_budget=120.0,
        )
        support = SupportClient(zd, clock=clock)
        for n in range(3):
            support.create_ticket(f"s{n}", "d", "r", idempotency_key=f"k{n}")
        assert len(fake.tickets) == 3
        assert len(clock.sleeps) == 1
        assert 0 < clock.sleeps[0] <= 60


def test_sla_status_reads_replies_from_zendesk_comments(
    zendesk: FakeZendesk, clock: FakeClock
) -> None:
    from datetime import timedelta

    from unified_health.support import SlaPolicy

    policy = SlaPolicy({"normal": {"first_reply": timedelta(days=365 * 20)}})
    support = SupportClient(provider(zendesk, clock), policy=policy, clock=clock)
    ticket = support.create_ticket("s", "d", "r")
    support.add_comment(ticket.id, "Hello")
    clock.advance(60)  # the fake's clock runs a few seconds ahead of the host's
    first = support.sla_status(ticket.id).current("first_reply")
    assert first is not None
    assert first.state == "met"
