"""`SupportClient`: lifecycle before writes, idempotent creation, SLA status, scans, escalations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from unified_health.support import (
    BreachWarning,
    BusinessCalendar,
    ConflictError,
    InternalProvider,
    InvalidInputError,
    NotFoundError,
    PostgresTicketStore,
    RedisTicketStore,
    SlaPolicy,
    SupportClient,
    Ticket,
)
from unified_health.support.testing import FakeClock, InMemoryTicketStore, capture_logs

MONDAY_9_NY = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)
POLICY = SlaPolicy(
    {
        "normal": {"first_reply": timedelta(hours=4), "resolution": timedelta(hours=24)},
        "urgent": {"first_reply": timedelta(minutes=30), "resolution": timedelta(hours=4)},
    },
    calendar=BusinessCalendar("America/New_York", hours={"mon-fri": [("09:00", "17:00")]}),
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_9_NY)


@pytest.fixture
def support(clock: FakeClock) -> SupportClient:
    return SupportClient(policy=POLICY, clock=clock)


def test_retried_create_makes_one_ticket_and_a_changed_payload_conflicts(
    support: SupportClient,
) -> None:
    first = support.create_ticket("Refill", "Need a refill", "p-1", idempotency_key="req-1")
    again = support.create_ticket("Refill", "Need a refill", "p-1", idempotency_key="req-1")
    assert again == first
    with pytest.raises(ConflictError):
        support.create_ticket("Refill", "Another text", "p-1", idempotency_key="req-1")
    derived = support.create_ticket("Same", "Same body", "p-2")
    assert support.create_ticket("Same", "Same body", "p-2").id == derived.id
    assert len(list(support.provider.list_tickets())) == 2


class LosingStore(InMemoryTicketStore):
    """Commits the first create, then loses the answer (as a dropped connection would)."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = 0

    def create(
        self, ticket: Ticket, *, idempotency_key: str, fingerprint: str
    ) -> tuple[Ticket, bool]:
        stored = super().create(ticket, idempotency_key=idempotency_key, fingerprint=fingerprint)
        if self.lost == 0:
            self.lost += 1
            raise ConnectionError("answer lost after commit")
        return stored


def test_a_lost_answer_then_a_retry_still_makes_one_ticket(clock: FakeClock) -> None:
    store = LosingStore()
    support = SupportClient(InternalProvider(store), clock=clock)
    with pytest.raises(ConnectionError):
        support.create_ticket("s", "d", "r", idempotency_key="req-9")
    ticket = support.create_ticket("s", "d", "r", idempotency_key="req-9")
    assert [t.id for t in store.list_tickets()] == [ticket.id]


def test_invalid_transition_raises_before_any_write(support: SupportClient) -> None:
    ticket = support.create_ticket("s", "d", "r")
    with pytest.raises(InvalidInputError) as info:
        support.reopen(ticket.id)
    assert info.value.field == "status"
    support.solve(ticket.id)
    closed = support.set_status(ticket.id, "closed")
    attempts: list[Callable[[], Ticket]] = [
        lambda: support.set_status(ticket.id, "open"),
        lambda: support.add_comment(ticket.id, "more"),
        lambda: support.set_priority(ticket.id, "high"),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidInputError, match="closed ticket is final"):
            attempt()
    assert support.get_ticket(ticket.id) == closed
    follow_up = support.create_follow_up(ticket.id, "It happened again")
    assert (follow_up.follow_up_of, follow_up.status) == (ticket.id, "new")


def test_comments_move_the_status_like_a_help_desk(support: SupportClient) -> None:
    ticket = support.create_ticket("s", "d", "r")
    ticket = support.add_comment(ticket.id, "note to self", public=False)
    assert ticket.status == "new"
    ticket = support.add_comment(ticket.id, "Hello")
    assert ticket.status == "open"
    support.set_status(ticket.id, "pending")
    assert support.add_comment(ticket.id, "Here it is", author="customer").status == "open"
    support.solve(ticket.id)
    assert support.add_comment(ticket.id, "Still broken", author="customer").status == "open"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: s.create_ticket("", "d", "r"), "subject"),
        (lambda s: s.create_ticket("s", "d", "r", priority="critical"), "priority"),
        (lambda s: s.create_ticket("s", "x" * 70_000, "r"), "description"),
        (lambda s: s.create_ticket("s", "d", "r", tags=["Bad Tag"]), "tags.0"),
        (lambda s: s.create_ticket("s", "d", "r", custom_fields={"x": object()}), "custom_fields"),
    ],
)
def test_bad_input_on_create_names_the_field(support: SupportClient, call: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        call(support)
    assert info.value.field == field
    assert list(support.provider.list_tickets()) == []


def test_oversized_comment_is_refused_and_the_ticket_is_unchanged(support: SupportClient) -> None:
    ticket = support.create_ticket("s", "d", "r")
    with pytest.raises(InvalidInputError) as info:
        support.add_comment(ticket.id, "x" * 70_000)
    assert info.value.field == "body"
    assert support.get_ticket(ticket.id) == ticket


def test_missing_ticket_is_not_found(support: SupportClient) -> None:
    with pytest.raises(NotFoundError):
        support.get_ticket("nope")


def test_sla_status_retargets_on_priority_change(support: SupportClient, clock: FakeClock) -> None:
    ticket = support.create_ticket("s", "d", "r")
    clock.advance(20 * 60)
    support.set_priority(ticket.id, "urgent")
    status = support.sla_status(ticket.id)
    first = status.current("first_reply")
    assert first is not None
    assert first.due_at == MONDAY_9_NY + timedelta(minutes=30)  # from the original start
    clock.advance(11 * 60)
    assert support.sla_status(ticket.id).current("first_reply").breached_at == (  # type: ignore[union-attr]
        MONDAY_9_NY + timedelta(minutes=30)
    )


def test_scan_and_escalate_once_per_ticket_and_threshold(
    support: SupportClient, clock: FakeClock
) -> None:
    urgent = support.create_ticket("u", "d", "r", priority="urgent")
    support.create_ticket("n", "d", "r2", priority="normal")
    clock.advance(20 * 60)
    warnings = support.scan_breaches(timedelta(minutes=15))
    assert [(w.ticket_id, w.metric, w.breached) for w in warnings] == [
        (urgent.id, "first_reply", False)
    ]
    calls: list[tuple[BreachWarning, timedelta]] = []
    assert support.escalate(lambda w, level: calls.append((w, level))) == 1
    assert support.escalate(lambda w, level: calls.append((w, level))) == 0
    clock.advance(11 * 60)
    assert support.escalate(lambda w, level: calls.append((w, level))) == 1
    assert [level for _, level in calls] == [timedelta(minutes=15), timedelta(0)]
    assert calls[1][0].breached


def test_escalation_is_once_across_clients_sharing_redis(
    redis_client: redis.Redis, redis_prefix: str, clock: FakeClock
) -> None:
    clients = [
        SupportClient(
            InternalProvider(RedisTicketStore(redis_client, prefix=redis_prefix)),
            policy=POLICY,
            clock=clock,
        )
        for _ in range(2)
    ]
    clients[0].create_ticket("u", "d", "r", priority="urgent", idempotency_key="k")
    clock.advance(31 * 60)
    fired = [client.escalate(lambda w, level: None) for client in clients]
    assert fired == [2, 0]


def test_a_failing_callback_is_logged_by_class_and_does_not_stop_the_scan(
    support: SupportClient, clock: FakeClock
) -> None:
    support.create_ticket("u", "d", "r", priority="urgent")
    support.create_ticket("u2", "d", "r2", priority="urgent")
    clock.advance(20 * 60)

    def boom(warning: BreachWarning, level: timedelta) -> None:
        raise RuntimeError("patient Jane Doe")

    with capture_logs() as events:
        assert support.escalate(boom) == 2
    failures = [e for e in events if e["event"] == "escalation_callback_failed"]
    assert len(failures) == 2
    assert all(e["error_class"] == "RuntimeError" for e in failures)
    assert "Jane" not in repr(events)


def test_postgres_is_a_system_of_record(postgres_connection: Any, clock: FakeClock) -> None:
    store = PostgresTicketStore(postgres_connection)
    store.migrate()
    support = SupportClient(InternalProvider(store), policy=POLICY, clock=clock)
    ticket = support.create_ticket("s", "d", "r", priority="urgent", idempotency_key="k")
    support.add_comment(ticket.id, "hello")
    again = SupportClient(InternalProvider(PostgresTicketStore(postgres_connection)), clock=clock)
    assert again.get_ticket(ticket.id).status == "open"


def test_from_url_and_from_env(redis_url: str) -> None:
    with SupportClient.from_url(redis_url, prefix="uhtest:support:url") as support:
        assert isinstance(support.provider, InternalProvider)
    assert (
        SupportClient.from_env(environ={"UH_SUPPORT_URL": "memory://"}).provider.name == "internal"
    )
    with pytest.raises(InvalidInputError) as info:
        SupportClient.from_url("ftp://example")
    assert info.value.field == "url"


def test_a_customer_reply_to_a_solved_ticket_reopens_it_and_arms_next_reply(
    clock: FakeClock,
) -> None:
    policy = SlaPolicy({"normal": {"next_reply": timedelta(hours=1)}})
    support = SupportClient(policy=policy, clock=clock)
    ticket = support.create_ticket("s", "d", "r")
    support.add_comment(ticket.id, "Try again now")
    support.solve(ticket.id)
    clock.advance(600)
    support.add_comment(ticket.id, "Still broken", author="customer")
    reply = support.sla_status(ticket.id).current("next_reply")
    assert reply is not None
    assert (reply.started_at, reply.state) == (clock.now(), "running")
