"""The async twin: the same rules awaited, sharing Redis keys with the sync service."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import pytest
import redis
import redis.asyncio

from unified_health.impersonation import (
    AuditAction,
    ImpersonationDeniedError,
    ImpersonationPolicy,
    InMemoryNotifier,
    InvalidInputError,
    Principal,
    ProviderError,
    StoreUnavailableError,
)
from unified_health.impersonation import (
    ImpersonationService as SyncService,
)
from unified_health.impersonation import (
    PostgresAuditLog as SyncPostgresAuditLog,
)
from unified_health.impersonation import (
    RedisAuditLog as SyncRedisAuditLog,
)
from unified_health.impersonation import (
    RedisImpersonationStore as SyncRedisStore,
)
from unified_health.impersonation.aio import (
    ImpersonationService,
    InMemoryImpersonationStore,
    PostgresAuditLog,
    RedisAuditLog,
    RedisImpersonationStore,
)
from unified_health.impersonation.testing import FakeClock

T = TypeVar("T")
AGENT = Principal(user_id="agent-7", role="support_agent", login_session_id="ls-7")
ADMIN = Principal(user_id="admin-1", role="admin", login_session_id="ls-1")
PATIENT = Principal(user_id="patient-42", role="patient")
REASON = "Cannot see lab results"


def run(factory: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await factory()

    return asyncio.run(main())


def test_the_life_of_a_session_in_memory() -> None:
    clock = FakeClock()

    async def scenario() -> list[str]:
        service = ImpersonationService(InMemoryImpersonationStore(clock=clock), clock=clock)
        started = await service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
        result = await service.validate(started.token, login_session_id="ls-7")
        assert (result.valid, result.actor_id, result.target_id) == (
            True,
            "agent-7",
            "patient-42",
        )
        await service.require_scope(result, "read")
        with pytest.raises(ImpersonationDeniedError):
            await service.require_scope(result, "messages:send")
        with pytest.raises(ImpersonationDeniedError):
            await service.require_not_impersonating(result, action="change_password")
        assert [s.id for s in await service.list_active()] == [started.id]
        clock.advance(3600)
        assert (await service.validate(started.token)).reason == "expired"
        assert (await service.verify_audit()).ok
        return [r.event.action.value for r in await service.audit.records()]

    assert run(scenario) == [
        "start",
        "scope_violation",
        "scope_violation",
        "expire",
        "validation_failure",
    ]


def test_denials_and_bad_input_are_the_same_as_sync() -> None:
    async def scenario() -> None:
        service = ImpersonationService(policy=ImpersonationPolicy(approval_required_for={"vip"}))
        with pytest.raises(ImpersonationDeniedError) as caught:
            await service.start(AGENT, ADMIN, ticket_id="ZD-1", reason=REASON)
        assert caught.value.reason == "rank_not_lower"
        vip = Principal(user_id="vip", role="patient")
        with pytest.raises(ImpersonationDeniedError) as caught:
            await service.start(AGENT, vip, ticket_id="ZD-1", reason=REASON)
        assert caught.value.reason == "approval_required"
        with pytest.raises(InvalidInputError) as invalid:
            await service.start(AGENT, PATIENT, ticket_id="nope", reason=REASON)
        assert invalid.value.field == "ticket_id"
        with pytest.raises(InvalidInputError) as invalid:
            await service.validate(42)  # type: ignore[arg-type]
        assert invalid.value.field == "token"
        assert (await service.validate("uhi_short")).reason == "malformed_token"
        started = await service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
        with pytest.raises(ImpersonationDeniedError):
            await service.end(started.id, actor=ADMIN)
        with pytest.raises(ImpersonationDeniedError):
            await service.revoke(started.id, by=PATIENT)
        assert (await service.revoke(started.id, by=ADMIN)).status.value == "revoked"
        actions = [r.event.action for r in await service.audit.records()]
        assert actions.count(AuditAction.DENY) == 5

    run(scenario)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"store": "redis://x"}, "store"), ({"audit": 1}, "audit"), ({"clock": 1}, "clock")],
)
def test_bad_construction_is_named(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        ImpersonationService(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
    with pytest.raises(InvalidInputError) as caught:
        RedisImpersonationStore("redis://x")
    assert caught.value.field == "client"


def test_the_twins_share_sessions_on_redis(redis_url: str, redis_prefix: str) -> None:
    sync_client = redis.Redis.from_url(redis_url)
    sync = SyncService(
        SyncRedisStore(sync_client, prefix=redis_prefix),
        audit=SyncRedisAuditLog(sync_client, prefix=redis_prefix),
    )

    async def scenario() -> None:
        client = redis.asyncio.Redis.from_url(redis_url)
        service = ImpersonationService(
            RedisImpersonationStore(client, prefix=redis_prefix),
            audit=RedisAuditLog(client, prefix=redis_prefix),
        )
        started = await service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
        assert sync.validate(started.token).valid
        sync.revoke(started.id, by=ADMIN)
        assert (await service.validate(started.token)).reason == "revoked"
        again = sync.start(AGENT, PATIENT, ticket_id="ZD-2", reason=REASON)
        assert (await service.validate(again.token)).valid
        await service.end(again.id, actor=AGENT)
        assert sync.validate(again.token).reason == "ended"
        assert (await service.verify_audit()).ok
        await client.aclose()

    run(scenario)
    assert sync.audit.verify().ok
    sync_client.close()


def test_64_concurrent_async_starts_have_one_winner(redis_url: str, redis_prefix: str) -> None:
    async def scenario() -> list[str]:
        client = redis.asyncio.Redis.from_url(redis_url)
        service = ImpersonationService(
            RedisImpersonationStore(client, prefix=redis_prefix),
            audit=RedisAuditLog(client, prefix=redis_prefix),
        )

        async def one(n: int) -> str:
            target = Principal(user_id=f"patient-{n}", role="patient")
            try:
                await service.start(AGENT, target, ticket_id="ZD-1", reason=REASON)
            except ImpersonationDeniedError as exc:
                return exc.reason
            return "won"

        outcomes = await asyncio.gather(*(one(n) for n in range(64)))
        assert len(await service.list_active()) == 1
        assert (await service.verify_audit()).checked == 64
        await client.aclose()
        return sorted(outcomes)

    assert run(scenario) == ["already_impersonating"] * 63 + ["won"]


def test_an_unreachable_redis_fails_closed() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"

    async def scenario() -> None:
        service = ImpersonationService.from_url(url)
        assert (await service.validate("uhi_" + "A" * 43)).reason == "store_unavailable"
        with pytest.raises(StoreUnavailableError):
            await service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
        await service.aclose()

    run(scenario)


def test_the_async_postgres_log_shares_tables_and_chain_with_the_sync_one(
    postgres_url: str, postgres_schema: str
) -> None:
    import psycopg

    async def scenario() -> list[str]:
        connection = await psycopg.AsyncConnection.connect(
            postgres_url, autocommit=True, options=f"-c search_path={postgres_schema}"
        )
        log = PostgresAuditLog(connection)
        await log.migrate()
        await log.migrate()
        service = ImpersonationService(audit=log)
        started = await service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
        await service.end(started.id, actor=AGENT)
        assert (await service.verify_audit()).checked == 2
        await connection.execute(
            "UPDATE uh_impersonation_audit SET body = replace(body, 'ZD-1', 'ZD-2') WHERE seq = 1"
        )
        report = await service.verify_audit()
        assert (report.problem, report.seq) == ("tampered", 1)
        actions = [r.event.action.value for r in await log.records()]
        await connection.close()
        return actions

    assert run(scenario) == ["start", "end"]
    with psycopg.connect(postgres_url, options=f"-c search_path={postgres_schema}") as sync_conn:
        sync_log = SyncPostgresAuditLog(sync_conn)
        assert sync_log.head()[0] == 2
        assert [r.seq for r in sync_log.records()] == [1, 2]


def test_sweep_audits_expiry_in_the_async_twin() -> None:
    clock = FakeClock()

    async def scenario() -> int:
        service = ImpersonationService(InMemoryImpersonationStore(clock=clock), clock=clock)
        await service.start(
            AGENT, PATIENT, ticket_id="ZD-1", reason=REASON, duration=timedelta(minutes=1)
        )
        clock.advance(60)
        swept = await service.sweep_expired()
        assert await service.sweep_expired() == []
        with pytest.raises(InvalidInputError):
            await service.sweep_expired(0)
        return len(swept)

    assert run(scenario) == 1


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_async_second_person_approval(backend: str, request: pytest.FixtureRequest) -> None:
    policy = ImpersonationPolicy(approval_required_for={"patient-42"})

    async def scenario() -> None:
        client = None
        store: InMemoryImpersonationStore | RedisImpersonationStore
        if backend == "memory":
            store = InMemoryImpersonationStore()
        else:
            client = redis.asyncio.Redis.from_url(request.getfixturevalue("redis_url"))
            store = RedisImpersonationStore(client, prefix=request.getfixturevalue("redis_prefix"))
        service = ImpersonationService(store, policy=policy)
        with pytest.raises(ImpersonationDeniedError) as caught:
            await service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
        assert caught.value.reason == "approval_required"
        pending = await service.request_approval(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
        with pytest.raises(ImpersonationDeniedError) as caught:
            await service.approve(pending.id, approver=AGENT)
        assert caught.value.reason == "approver_not_allowed"
        assert (await service.approve(pending.id, approver=ADMIN)).approved_by == "admin-1"
        started = await service.start(
            AGENT, PATIENT, ticket_id="ZD-1", reason=REASON, approval_id=pending.id
        )
        await service.end(started.id, actor=AGENT)
        with pytest.raises(ImpersonationDeniedError) as caught:
            await service.start(
                AGENT, PATIENT, ticket_id="ZD-1", reason=REASON, approval_id=pending.id
            )
        assert caught.value.reason == "approval_invalid"
        if client is not None:
            await client.aclose()

    run(scenario)


def test_async_required_notification_fails_closed() -> None:
    notifier = InMemoryNotifier(fail=True)

    async def scenario() -> None:
        service = ImpersonationService(notifier=notifier, notification="required")
        with pytest.raises(ProviderError):
            await service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
        assert await service.list_active() == []
        notifier.fail = False
        started = await service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
        assert notifier.notices[0].session_id == started.id

    run(scenario)
