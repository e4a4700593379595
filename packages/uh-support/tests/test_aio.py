"""The async twin: same behaviour as the sync client, over the fake Zendesk and the stores."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from unified_health.support import ConflictError, InvalidInputError, SlaPolicy
from unified_health.support.aio import InternalProvider, SupportClient, ZendeskProvider
from unified_health.support.testing import FakeClock, FakeZendesk


def test_lifecycle_and_sla_over_the_internal_store() -> None:
    clock = FakeClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
    policy = SlaPolicy({"high": {"first_reply": timedelta(hours=1)}})

    async def scenario() -> None:
        support = SupportClient(InternalProvider(), policy=policy, clock=clock)
        ticket = await support.create_ticket("s", "d", "r", priority="high", idempotency_key="k")
        again = await support.create_ticket("s", "d", "r", priority="high", idempotency_key="k")
        assert again.id == ticket.id
        with pytest.raises(ConflictError):
            await support.create_ticket("s", "other", "r", idempotency_key="k")
        with pytest.raises(InvalidInputError):
            await support.reopen(ticket.id)
        clock.advance(3601)
        status = await support.sla_status(ticket.id)
        assert status.current("first_reply").state == "breached"  # type: ignore[union-attr]
        assert (await support.add_comment(ticket.id, "hi")).status == "open"
        await support.solve(ticket.id)
        assert (await support.set_status(ticket.id, "closed")).status == "closed"
        with pytest.raises(InvalidInputError, match="final"):
            await support.set_priority(ticket.id, "low")

    asyncio.run(scenario())


def test_zendesk_over_httpx_async_with_a_lost_answer_and_a_rate_limit() -> None:
    clock = FakeClock()
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    with FakeZendesk(email="a@x.test", api_token="t") as zendesk:

        async def scenario() -> None:
            provider = ZendeskProvider(
                subdomain="c",
                email="a@x.test",
                api_token="t",
                base_url=zendesk.url,
                sleep=sleep,
                timeout=0.5,
            )
            support = SupportClient(provider, clock=clock)
            zendesk.lose_next_answer(1.5)
            ticket = await support.create_ticket("s", "d", "r", idempotency_key="req-1")
            zendesk.fail_next(429, retry_after=2)
            updated = await support.add_comment(ticket.id, "Internal", public=False)
            assert [c.public for c in updated.comments] == [False]
            assert (await support.get_ticket(ticket.id)).status == "new"
            await provider.aclose()

        asyncio.run(scenario())
        assert len(zendesk.tickets) == 1
        assert 2.0 in sleeps
