"""The store contracts, run against every implementation.

`ImpersonationStore`: in memory and on real Redis. `AuditLog`: in memory, on real Redis (Streams)
and in real PostgreSQL.

Redis decides expiry with its own ``TIME``, which a test cannot move; to make a Redis session's
time run out without waiting, ``age`` rewrites its stored expiry (and its actor lock) into the
past, exactly what the passing of time would have left in Redis.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import redis

from unified_health.impersonation import (
    AuditAction,
    AuditEvent,
    AuditLog,
    ImpersonationDeniedError,
    ImpersonationSession,
    ImpersonationStore,
    InMemoryAuditLog,
    InMemoryImpersonationStore,
    NewSession,
    PostgresAuditLog,
    RedisAuditLog,
    RedisImpersonationStore,
    SessionStatus,
)
from unified_health.impersonation._chain import GENESIS, chain_hash
from unified_health.impersonation.testing import FakeClock


@dataclass
class Subject:
    store: ImpersonationStore
    age: Callable[[ImpersonationSession], None]


@pytest.fixture(params=["memory", "redis"])
def subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    if request.param == "memory":
        clock = FakeClock()

        def advance(session: ImpersonationSession) -> None:
            clock.advance((session.expires_at - clock.now()).total_seconds())

        yield Subject(InMemoryImpersonationStore(clock=clock), advance)
        return
    client: redis.Redis = request.getfixturevalue("redis_client")
    store = RedisImpersonationStore(client, prefix=request.getfixturevalue("redis_prefix"))

    def rewrite(session: ImpersonationSession) -> None:
        past = int(store.now().timestamp() * 1_000_000) - 1
        client.hset(store.key(f"s:{session.id}"), "ex", str(past))
        client.set(store.key(f"actor:{session.actor_id}"), f"{session.id} {past}")
        client.zadd(store.key("active"), {session.id: past})
        client.zadd(store.key(f"target:{session.target_id}"), {session.id: past})

    yield Subject(store, rewrite)


def new_session(
    actor: str = "agent-1", target: str = "patient-1", seconds: int = 600
) -> NewSession:
    return NewSession(
        id="imp_" + secrets.token_hex(16),
        actor_id=actor,
        actor_role="support_agent",
        actor_login_session_id=f"ls-{actor}",
        target_id=target,
        target_role="patient",
        ticket_id="ZD-1",
        reason="Cannot see lab results",
        scopes=("read",),
        duration_us=seconds * 1_000_000,
        source_ip="10.0.0.7",
    )


def test_create_stamps_the_session_with_the_store_clock(subject: Subject) -> None:
    before = subject.store.now()
    session = subject.store.create(new_session(seconds=600), "h" * 64)
    assert session.status is SessionStatus.ACTIVE
    assert before <= session.started_at <= subject.store.now()
    assert (session.expires_at - session.started_at).total_seconds() == 600
    assert (session.actor_id, session.target_id, session.source_ip) == (
        "agent-1",
        "patient-1",
        "10.0.0.7",
    )


def test_lookup_needs_the_right_token_hash(subject: Subject) -> None:
    session = subject.store.create(new_session(), "a" * 64)
    assert subject.store.lookup(session.id, "a" * 64) == (session, False)
    assert subject.store.lookup(session.id, "b" * 64) == (None, False)
    assert subject.store.lookup("imp_" + "0" * 32, "a" * 64) == (None, False)


def test_one_active_session_per_actor(subject: Subject) -> None:
    subject.store.create(new_session(target="patient-1"), "a" * 64)
    with pytest.raises(ImpersonationDeniedError) as caught:
        subject.store.create(new_session(target="patient-2"), "b" * 64)
    assert caught.value.reason == "already_impersonating"
    assert len(subject.store.list_active()) == 1


def test_someone_being_impersonated_cannot_start_one(subject: Subject) -> None:
    subject.store.create(new_session(actor="admin-1", target="agent-1"), "a" * 64)
    with pytest.raises(ImpersonationDeniedError) as caught:
        subject.store.create(new_session(actor="agent-1", target="patient-1"), "b" * 64)
    assert caught.value.reason == "nested_impersonation"


def test_expiry_is_final_and_reported_once(subject: Subject) -> None:
    session = subject.store.create(new_session(), "a" * 64)
    subject.age(session)
    found, expired_now = subject.store.lookup(session.id, "a" * 64)
    assert found is not None
    assert (found.status, expired_now) == (SessionStatus.EXPIRED, True)
    assert found.ended_at == found.expires_at
    again, expired_again = subject.store.lookup(session.id, "a" * 64)
    assert again is not None
    assert (again.status, expired_again) == (SessionStatus.EXPIRED, False)
    finished, changed = subject.store.finish(session.id, SessionStatus.ENDED, by="x", reason="y")
    assert finished is not None
    assert (finished.status, changed) == (SessionStatus.EXPIRED, False)
    assert subject.store.list_active() == []


def test_an_expired_actor_may_start_again(subject: Subject) -> None:
    session = subject.store.create(new_session(), "a" * 64)
    subject.age(session)
    second = subject.store.create(new_session(target="patient-2"), "b" * 64)
    assert [s.id for s in subject.store.list_active()] == [second.id]


def test_finish_happens_once_and_frees_the_actor(subject: Subject) -> None:
    session = subject.store.create(new_session(), "a" * 64)
    ended, changed = subject.store.finish(
        session.id, SessionStatus.ENDED, by="agent-1", reason="done"
    )
    assert ended is not None
    assert (ended.status, changed, ended.ended_by, ended.end_reason) == (
        SessionStatus.ENDED,
        True,
        "agent-1",
        "done",
    )
    revoked, changed = subject.store.finish(
        session.id, SessionStatus.REVOKED, by="admin-1", reason="late"
    )
    assert revoked is not None
    assert (revoked.status, changed) == (SessionStatus.ENDED, False)
    found, _ = subject.store.lookup(session.id, "a" * 64)
    assert found is not None
    assert found.status is SessionStatus.ENDED
    subject.store.create(new_session(target="patient-2"), "b" * 64)
    missing = subject.store.finish("imp_" + "1" * 32, SessionStatus.ENDED, by="x", reason="y")
    assert missing == (None, False)


def test_expire_due_marks_each_session_once(subject: Subject) -> None:
    first = subject.store.create(new_session(actor="agent-1"), "a" * 64)
    subject.store.create(new_session(actor="agent-2", seconds=1200), "b" * 64)
    subject.age(first)
    assert [s.id for s in subject.store.expire_due()] == [first.id]
    assert subject.store.expire_due() == []
    assert [s.actor_id for s in subject.store.list_active()] == ["agent-2"]


def test_get_applies_expiry(subject: Subject) -> None:
    session = subject.store.create(new_session(), "a" * 64)
    current = subject.store.get(session.id)
    assert current is not None
    assert current.status is SessionStatus.ACTIVE
    subject.age(session)
    current = subject.store.get(session.id)
    assert current is not None
    assert current.status is SessionStatus.EXPIRED
    assert subject.store.get("imp_" + "2" * 32) is None


def test_concurrent_creates_by_one_actor_have_one_winner(subject: Subject) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(16)

    def create(worker: int) -> None:
        barrier.wait()
        try:
            subject.store.create(new_session(target=f"patient-{worker}"), f"{worker:064d}")
            outcomes.append("won")
        except ImpersonationDeniedError:
            outcomes.append("lost")

    threads = [threading.Thread(target=create, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost"] * 15 + ["won"]


def test_an_approval_is_approved_once_and_consumed_once(subject: Subject) -> None:
    store = subject.store
    request = store.create_approval("apr_" + "1" * 32, "agent-1", "vip-1", "ZD-1", 900_000_000)
    assert (request.approved_by, request.consumed) == (None, False)
    assert (request.expires_at - request.requested_at).total_seconds() == 900
    assert store.get_approval(request.id) == request
    assert not store.consume_approval(request.id, "agent-1", "vip-1", "ZD-1")
    approved = store.approve(request.id, "admin-1")
    assert approved is not None
    assert approved.approved_by == "admin-1"
    second = store.approve(request.id, "admin-2")
    assert second is not None
    assert second.approved_by == "admin-1"
    assert not store.consume_approval(request.id, "agent-2", "vip-1", "ZD-1")
    assert not store.consume_approval(request.id, "agent-1", "vip-1", "ZD-2")
    assert store.consume_approval(request.id, "agent-1", "vip-1", "ZD-1")
    assert not store.consume_approval(request.id, "agent-1", "vip-1", "ZD-1")
    assert store.get_approval("apr_" + "2" * 32) is None
    assert store.approve("apr_" + "2" * 32, "admin-1") is None
    assert not store.consume_approval("apr_" + "2" * 32, "agent-1", "vip-1", "ZD-1")


def test_concurrent_consumers_of_one_approval_have_one_winner(subject: Subject) -> None:
    store = subject.store
    request = store.create_approval("apr_" + "3" * 32, "agent-1", "vip-1", "ZD-1", 900_000_000)
    store.approve(request.id, "admin-1")
    outcomes: list[bool] = []
    barrier = threading.Barrier(16)

    def consume() -> None:
        barrier.wait()
        outcomes.append(store.consume_approval(request.id, "agent-1", "vip-1", "ZD-1"))

    threads = [threading.Thread(target=consume) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False] * 15 + [True]


# ------------------------------------------------------------------ the audit log contract


@pytest.fixture(params=["memory", "redis", "postgres"])
def log(request: pytest.FixtureRequest) -> Iterator[AuditLog]:
    if request.param == "memory":
        yield InMemoryAuditLog()
    elif request.param == "redis":
        client: redis.Redis = request.getfixturevalue("redis_client")
        yield RedisAuditLog(client, prefix=request.getfixturevalue("redis_prefix"))
    else:
        connection: Any = request.getfixturevalue("postgres_connection")
        postgres = PostgresAuditLog(connection)
        postgres.migrate()
        yield postgres


def event(n: int) -> AuditEvent:
    return AuditEvent(
        action=AuditAction.START,
        outcome="success",
        at=datetime(2026, 1, 5, 9, 0, n % 60, tzinfo=UTC),
        actor_id=f"agent-{n}",
        target_id="patient-1",
        reason="Cannot see lab results \u00e9",
    )


def test_appends_form_a_chain(log: AuditLog) -> None:
    assert log.head() == (0, GENESIS)
    records = [log.append(event(n)) for n in range(5)]
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    prev = GENESIS
    for record in records:
        assert record.prev_hash == prev
        assert record.hash == chain_hash(record.seq, prev, record.body)
        prev = record.hash
    assert list(log.records()) == records
    assert list(log.records(after=3)) == records[3:]
    assert log.head() == (5, records[-1].hash)
    assert records[0].event == event(0)


def test_many_records_page_in_order(log: AuditLog) -> None:
    for n in range(2500):
        log.append(event(n))
    assert [r.seq for r in log.records()] == list(range(1, 2501))


def test_concurrent_appends_never_fork_the_chain(
    log: AuditLog, request: pytest.FixtureRequest
) -> None:
    barrier = threading.Barrier(8)

    def writer() -> AuditLog:
        if not isinstance(log, PostgresAuditLog):
            return log
        import psycopg

        schema = request.getfixturevalue("postgres_schema")
        connection = psycopg.connect(
            request.getfixturevalue("postgres_url"),
            autocommit=True,
            options=f"-c search_path={schema}",
        )
        return PostgresAuditLog(connection)

    writers = [writer() for _ in range(8)]

    def write(worker: int) -> None:
        own = writers[worker]
        barrier.wait()
        for n in range(25):
            own.append(event(worker * 100 + n))
        if own is not log:
            own._connection.close()  # type: ignore[attr-defined]

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = list(log.records())
    assert [r.seq for r in records] == list(range(1, 201))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))


def test_checkpoints_are_kept_in_order(log: AuditLog) -> None:
    from unified_health.impersonation import Checkpoint

    first = Checkpoint(seq=1, hash="a" * 64, at="2026-01-05T09:00:00Z", key_id="k1", signature="s")
    second = Checkpoint(seq=2, hash="b" * 64, at="2026-01-05T09:01:00Z", key_id="k1", signature="t")
    log.add_checkpoint(first)
    log.add_checkpoint(second)
    assert log.checkpoints() == [first, second]
