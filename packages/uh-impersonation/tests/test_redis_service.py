"""The service on real Redis: one round trip, Redis's clock, races in threads and processes,
revocation across processes, and failing closed."""

from __future__ import annotations

import multiprocessing
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from unified_health.impersonation import (
    AuditAction,
    ImpersonationDeniedError,
    ImpersonationService,
    InvalidInputError,
    Principal,
    RedisAuditLog,
    RedisImpersonationStore,
    SessionStatus,
    StoreUnavailableError,
    redis_persistence_warnings,
)
from unified_health.impersonation.testing import FakeClock, capture_logs

REASON = "Cannot see lab results"
PATIENT = Principal(user_id="patient-42", role="patient")


def agent(n: int = 7) -> Principal:
    return Principal(user_id=f"agent-{n}", role="support_agent", login_session_id=f"ls-{n}")


class CountingConnection(redis.Connection):
    """Counts the replies read: one per round trip."""

    replies = 0

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        type(self).replies += 1
        return super().read_response(*args, **kwargs)


@pytest.fixture
def service(redis_url: str, redis_prefix: str) -> Iterator[ImpersonationService]:
    client = redis.Redis.from_url(redis_url)
    yield ImpersonationService(
        RedisImpersonationStore(client, prefix=redis_prefix),
        audit=RedisAuditLog(client, prefix=redis_prefix),
    )
    client.close()


def test_validate_is_exactly_one_round_trip(redis_url: str, redis_prefix: str) -> None:
    pool = redis.ConnectionPool.from_url(redis_url, connection_class=CountingConnection)
    client = redis.Redis(connection_pool=pool)
    service = ImpersonationService(
        RedisImpersonationStore(client, prefix=redis_prefix),
        audit=RedisAuditLog(client, prefix=redis_prefix),
    )
    started = service.start(agent(), PATIENT, ticket_id="ZD-1", reason=REASON)
    assert service.validate(started.token).valid
    before = CountingConnection.replies
    for _ in range(20):
        assert service.validate(started.token).valid
    assert CountingConnection.replies - before == 20
    client.close()


def test_expiry_follows_the_redis_clock_not_the_caller(redis_url: str, redis_prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    far_future = FakeClock(datetime(2040, 1, 1, tzinfo=UTC))
    service = ImpersonationService(
        RedisImpersonationStore(client, prefix=redis_prefix),
        audit=RedisAuditLog(client, prefix=redis_prefix),
        clock=far_future,
    )
    started = service.start(
        agent(), PATIENT, ticket_id="ZD-1", reason=REASON, duration=timedelta(minutes=5)
    )
    server_now = service.store.now()
    assert abs((started.session.started_at - server_now).total_seconds()) < 60
    assert started.session.expires_at - started.session.started_at == timedelta(minutes=5)
    assert service.validate(started.token).valid
    client.close()


def test_a_session_past_its_expiry_is_expired_by_the_script(
    service: ImpersonationService, redis_client: redis.Redis
) -> None:
    started = service.start(agent(), PATIENT, ticket_id="ZD-1", reason=REASON)
    store = service.store
    assert isinstance(store, RedisImpersonationStore)
    past = int(store.now().timestamp() * 1_000_000) - 1
    redis_client.hset(store.key(f"s:{started.id}"), "ex", str(past))
    result = service.validate(started.token)
    assert (result.valid, result.reason) == (False, "expired")
    assert redis_client.hget(store.key(f"s:{started.id}"), "s") == b"expired"
    redis_client.hset(store.key(f"s:{started.id}"), "ex", str(past + 10**12))
    assert service.validate(started.token).reason == "expired"
    actions = [r.event.action for r in service.audit.log.records()]
    assert actions.count(AuditAction.EXPIRE) == 1


def test_only_a_hash_of_the_token_is_stored(
    service: ImpersonationService, redis_client: redis.Redis, redis_prefix: str
) -> None:
    started = service.start(agent(), PATIENT, ticket_id="ZD-1", reason=REASON)
    dump = ""
    for key in redis_client.scan_iter(match=f"*{redis_prefix}*"):
        kind = redis_client.type(key)
        if kind == b"hash":
            dump += repr(redis_client.hgetall(key))
        elif kind == b"string":
            dump += repr(redis_client.get(key))
        elif kind == b"stream":
            dump += repr(redis_client.xrange(key))
    assert "s:" + started.id in dump or started.id in dump
    assert started.token not in dump
    assert started.token[4:] not in dump


def _start_in_thread(service: ImpersonationService, n: int, outcomes: list[str]) -> None:
    try:
        service.start(
            agent(),
            Principal(user_id=f"patient-{n}", role="patient"),
            ticket_id="ZD-1",
            reason=REASON,
        )
        outcomes.append("won")
    except ImpersonationDeniedError as exc:
        outcomes.append(exc.reason)


def test_64_concurrent_starts_from_threads_have_one_winner(
    service: ImpersonationService,
) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(64)

    def run(n: int) -> None:
        barrier.wait()
        _start_in_thread(service, n, outcomes)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already_impersonating"] * 63 + ["won"]
    assert len(service.list_active()) == 1
    assert service.audit.verify().ok


def _start_in_process(
    url: str, prefix: str, n: int, barrier: Any, results: Any
) -> None:  # pragma: no cover - runs in a child process
    client = redis.Redis.from_url(url)
    service = ImpersonationService(
        RedisImpersonationStore(client, prefix=prefix), audit=RedisAuditLog(client, prefix=prefix)
    )
    outcomes: list[str] = []
    barrier.wait()
    _start_in_thread(service, n, outcomes)
    results.put(outcomes[0])
    client.close()


def test_64_concurrent_starts_from_processes_have_one_winner(
    service: ImpersonationService, redis_url: str, redis_prefix: str
) -> None:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(64)
    results = context.Queue()
    processes = [
        context.Process(
            target=_start_in_process, args=(redis_url, redis_prefix, n, barrier, results)
        )
        for n in range(64)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert sorted(outcomes) == ["already_impersonating"] * 63 + ["won"]
    assert len(service.list_active()) == 1
    report = service.audit.verify()
    assert report.ok
    assert report.checked == 64


def _revoke_in_process(url: str, prefix: str, session_id: str) -> None:  # pragma: no cover
    client = redis.Redis.from_url(url)
    service = ImpersonationService(
        RedisImpersonationStore(client, prefix=prefix), audit=RedisAuditLog(client, prefix=prefix)
    )
    admin = Principal(user_id="admin-1", role="admin", login_session_id="ls-admin")
    service.revoke(session_id, by=admin, reason="other_process")
    client.close()


def test_a_revocation_in_another_process_is_seen_by_the_next_validation(
    service: ImpersonationService, redis_url: str, redis_prefix: str
) -> None:
    started = service.start(agent(), PATIENT, ticket_id="ZD-1", reason=REASON)
    assert service.validate(started.token).valid
    process = multiprocessing.get_context("fork").Process(
        target=_revoke_in_process, args=(redis_url, redis_prefix, started.id)
    )
    process.start()
    process.join(timeout=60)
    assert process.exitcode == 0
    result = service.validate(started.token)
    assert (result.valid, result.reason) == (False, "revoked")
    assert result.session is not None
    assert (result.session.status, result.session.ended_by) == (SessionStatus.REVOKED, "admin-1")


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


def test_an_unreachable_redis_fails_closed() -> None:
    service = ImpersonationService.from_url(_dead_url())
    assert service.validate("uhi_" + "A" * 43).reason == "store_unavailable"
    with pytest.raises(StoreUnavailableError) as caught:
        service.start(agent(), PATIENT, ticket_id="ZD-1", reason=REASON)
    assert isinstance(caught.value.__cause__, redis.ConnectionError)
    service.close()


def test_a_start_whose_audit_cannot_be_written_is_revoked(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    store = RedisImpersonationStore(redis_client, prefix=redis_prefix)
    dead_log = RedisAuditLog.from_url(_dead_url())
    service = ImpersonationService(store, audit=dead_log)
    with pytest.raises(StoreUnavailableError):
        service.start(agent(), PATIENT, ticket_id="ZD-1", reason=REASON)
    assert store.list_active() == []
    healthy = ImpersonationService(store)
    healthy.start(agent(), PATIENT, ticket_id="ZD-1", reason=REASON)
    dead_log.close()


@pytest.mark.parametrize("client", ["redis://127.0.0.1:6379/0", None, object()])
def test_anything_but_a_client_is_refused_by_name(client: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        RedisImpersonationStore(client)  # type: ignore[arg-type]
    assert caught.value.field == "client"
    assert "from_url" in caught.value.rule


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "http://example.invalid"}, "url"),
        ({"url": 6379}, "url"),
        ({"url": "redis://127.0.0.1", "socket_timeout": 0}, "socket_timeout"),
        ({"url": "redis://127.0.0.1", "prefix": ""}, "prefix"),
    ],
)
def test_from_url_refuses_bad_settings_by_name(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        RedisImpersonationStore.from_url(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_keys_share_one_hash_tag(redis_client: redis.Redis) -> None:
    store = RedisImpersonationStore(redis_client, prefix="app")
    log = RedisAuditLog(redis_client, prefix="{t7}:app")
    assert store.key("active") == "{app}:v1:active"
    assert log.stream_key == "{t7}:app:v1:audit"
    store.close()
    assert redis_client.ping() is True


def test_the_persistence_check_reports_what_the_server_says(redis_client: redis.Redis) -> None:
    settings = {
        name: redis_client.config_get(name)[name]
        for name in ("appendonly", "appendfsync", "maxmemory-policy")
    }
    warnings = redis_persistence_warnings(redis_client)
    assert ("aof_disabled" in warnings) == (settings["appendonly"] != "yes")
    assert ("evicting_policy" in warnings) == (
        settings["maxmemory-policy"] in ("allkeys-lru", "allkeys-lfu", "allkeys-random")
    )


def test_the_persistence_check_warns_about_a_server_that_can_lose_data(
    redis_server_factory: Callable[[], Any],
) -> None:
    server = redis_server_factory()
    client = redis.Redis.from_url(server.url, decode_responses=True)
    client.config_set("appendonly", "no")
    client.config_set("maxmemory-policy", "allkeys-lru")
    with capture_logs() as logged:
        assert redis_persistence_warnings(client) == ["aof_disabled", "evicting_policy"]
    assert [e["risk"] for e in logged] == ["aof_disabled", "evicting_policy"]
    client.config_set("appendonly", "yes")
    client.config_set("maxmemory-policy", "noeviction")
    assert redis_persistence_warnings(client) == []
    client.close()
    with pytest.raises(InvalidInputError):
        redis_persistence_warnings("redis://x")  # type: ignore[arg-type]
