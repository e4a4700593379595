"""The `TicketStore` contract, run against memory, real Redis and real PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from unified_health.support import (
    ConflictError,
    InMemoryTicketStore,
    InvalidInputError,
    PostgresTicketStore,
    RedisTicketStore,
    Ticket,
    TicketStore,
)

AT = datetime(2026, 1, 5, 9, tzinfo=UTC)


def ticket(ticket_id: str = "t-1", *, due: datetime | None = None, subject: str = "s") -> Ticket:
    return Ticket(
        id=ticket_id,
        subject=subject,
        description="d",
        requester="r",
        created_at=AT,
        updated_at=AT,
        sla_due_at=due,
    )


@pytest.fixture(params=["memory", "redis", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[TicketStore]:
    if request.param == "memory":
        yield InMemoryTicketStore()
        return
    if request.param == "redis":
        client: redis.Redis = request.getfixturevalue("redis_client")
        prefix: str = request.getfixturevalue("redis_prefix")
        with RedisTicketStore(client, prefix=prefix) as redis_store:
            yield redis_store
        return
    connection: Any = request.getfixturevalue("postgres_connection")
    postgres = PostgresTicketStore(connection)
    postgres.migrate()
    postgres.migrate()  # idempotent
    yield postgres


def test_create_is_once_per_key(store: TicketStore) -> None:
    first, created = store.create(ticket(), idempotency_key="k", fingerprint="f")
    again, created_again = store.create(ticket("t-2"), idempotency_key="k", fingerprint="f")
    assert (created, created_again) == (True, False)
    assert again == first  # the stored ticket, not the second one
    assert store.get("t-2") is None
    assert store.get("t-1") == first


def test_same_key_other_payload_is_a_conflict_and_writes_nothing(store: TicketStore) -> None:
    store.create(ticket(), idempotency_key="k", fingerprint="f")
    with pytest.raises(ConflictError, match="idempotency key"):
        store.create(ticket("t-2"), idempotency_key="k", fingerprint="other")
    assert store.get("t-2") is None


def test_update_checks_the_version(store: TicketStore) -> None:
    stored, _ = store.create(ticket(), idempotency_key="k", fingerprint="f")
    changed = store.update(stored.model_copy(update={"subject": "new"}), expected_version=1)
    assert (changed.version, changed.subject) == (2, "new")
    with pytest.raises(ConflictError, match="version 2"):
        store.update(stored.model_copy(update={"subject": "lost"}), expected_version=1)
    assert store.get("t-1") == changed
    with pytest.raises(ConflictError, match="does not exist"):
        store.update(ticket("nope"), expected_version=1)


def test_due_index_follows_writes(store: TicketStore) -> None:
    soon, later = AT + timedelta(minutes=10), AT + timedelta(hours=3)
    store.create(ticket("a", due=later), idempotency_key="ka", fingerprint="f")
    b, _ = store.create(ticket("b", due=soon), idempotency_key="kb", fingerprint="f")
    store.create(ticket("c"), idempotency_key="kc", fingerprint="f")
    assert store.due_before(AT + timedelta(minutes=15)) == ["b"]
    assert store.due_before(AT + timedelta(days=1)) == ["b", "a"]
    store.update(b.model_copy(update={"sla_due_at": None}), expected_version=1)
    assert store.due_before(AT + timedelta(days=1)) == ["a"]


def test_claim_once(store: TicketStore) -> None:
    assert store.claim_once("t-1", "first_reply@1/900") is True
    assert store.claim_once("t-1", "first_reply@1/900") is False
    assert store.claim_once("t-1", "first_reply@1/0") is True


def test_claims_race_to_exactly_one_winner(store: TicketStore) -> None:
    wins: list[bool] = []
    lock = threading.Lock()

    def claim() -> None:
        won = store.claim_once("t-9", "m")
        with lock:
            wins.append(won)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 7 + [True]


def test_list_tickets_yields_each_once(store: TicketStore) -> None:
    for n in range(7):
        store.create(ticket(f"t-{n}"), idempotency_key=f"k{n}", fingerprint="f")
    assert sorted(t.id for t in store.list_tickets()) == [f"t-{n}" for n in range(7)]


def test_bad_input_names_the_field(store: TicketStore) -> None:
    with pytest.raises(InvalidInputError) as info:
        store.create(ticket(), idempotency_key="", fingerprint="f")
    assert info.value.field == "idempotency_key"
    with pytest.raises(InvalidInputError) as info:
        store.update(ticket(), expected_version=0)
    assert info.value.field == "expected_version"
    with pytest.raises(InvalidInputError):
        store.due_before(datetime(2026, 1, 1))  # naive


def test_the_round_trip_keeps_every_field(store: TicketStore) -> None:
    from unified_health.support import Comment, HistoryEntry

    full = ticket().model_copy(
        update={
            "tags": ("billing", "vip"),
            "custom_fields": {"plan": "gold", "seats": 3, "trial": False, "note": None},
            "comments": (Comment(id="c1", author="agent", body="hi", created_at=AT),),
            "history": (HistoryEntry(at=AT, kind="status", value="new"),),
            "sla_due_at": AT + timedelta(hours=1),
        }
    )
    stored, _ = store.create(full, idempotency_key="k", fingerprint="f")
    assert store.get("t-1") == full == stored
