"""Authoritative and cached revocation: the cache is dropped by the revocation feed (in memory and
over Redis pub/sub, across processes) and never outlives its hard lifetime."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
import redis

from unified_health.impersonation import (
    ImpersonationService,
    ImpersonationSession,
    InMemoryImpersonationStore,
    InvalidInputError,
    Principal,
    RedisAuditLog,
    RedisImpersonationStore,
)
from unified_health.impersonation.stores._subscription import Subscription
from unified_health.impersonation.testing import FakeClock

AGENT = Principal(user_id="agent-7", role="support_agent", login_session_id="ls-7")
ADMIN = Principal(user_id="admin-1", role="admin", login_session_id="ls-1")
PATIENT = Principal(user_id="patient-42", role="patient")
REASON = "Cannot see lab results"


class CountingStore(InMemoryImpersonationStore):
    lookups = 0

    def lookup(self, session_id: str, token_hash: str) -> tuple[ImpersonationSession | None, bool]:
        self.lookups += 1
        return super().lookup(session_id, token_hash)


class DeafStore(CountingStore):
    """A feed that never delivers: what a lost pub/sub message looks like."""

    def subscribe_revocations(
        self, callback: Callable[[str], None], on_error: Callable[[], None]
    ) -> Subscription:
        return Subscription(lambda: None)


def test_authoritative_mode_asks_the_store_every_time() -> None:
    store = CountingStore()
    service = ImpersonationService(store)
    started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    for _ in range(3):
        assert service.validate(started.token).valid
    assert store.lookups == 3


def test_cached_mode_reuses_a_valid_answer_and_drops_it_on_revocation() -> None:
    clock = FakeClock()
    store = CountingStore(clock=clock)
    cached = ImpersonationService(store, revocation="cached", clock=clock)
    other = ImpersonationService(store, clock=clock)
    started = cached.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    for _ in range(4):
        assert cached.validate(started.token).valid
    assert store.lookups == 1  # the first call subscribes to the feed and fills the cache
    other.revoke(started.id, by=ADMIN)
    assert cached.validate(started.token).reason == "revoked"
    cached.close()


def test_a_cached_answer_never_outlives_its_hard_lifetime() -> None:
    clock = FakeClock()
    store = DeafStore(clock=clock)
    cached = ImpersonationService(
        store, revocation="cached", cache_ttl=timedelta(seconds=2), clock=clock
    )
    other = ImpersonationService(store, clock=clock)
    started = cached.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    cached.validate(started.token)
    assert cached.validate(started.token).valid
    other.revoke(started.id, by=ADMIN)
    assert cached.validate(started.token).valid  # the feed lost the message: stale for now
    clock.advance(2)
    assert cached.validate(started.token).reason == "revoked"


def test_a_cached_answer_never_outlives_the_session() -> None:
    clock = FakeClock()
    cached = ImpersonationService(
        DeafStore(clock=clock), revocation="cached", cache_ttl=timedelta(seconds=5), clock=clock
    )
    started = cached.start(
        AGENT, PATIENT, ticket_id="ZD-1", reason=REASON, duration=timedelta(seconds=3)
    )
    cached.validate(started.token)
    assert cached.validate(started.token).valid
    clock.advance(3)
    assert cached.validate(started.token).reason == "expired"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"revocation": "lazy"}, "revocation"),
        ({"cache_ttl": timedelta(seconds=6)}, "cache_ttl"),
        ({"cache_ttl": 2}, "cache_ttl"),
    ],
)
def test_bad_revocation_settings_are_named(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        ImpersonationService(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


class SignallingRedisStore(RedisImpersonationStore):
    """Sets ``heard`` when the pub/sub feed delivers a revocation."""

    heard = threading.Event()

    def subscribe_revocations(
        self, callback: Callable[[str], None], on_error: Callable[[], None]
    ) -> Subscription:
        def relay(session_id: str) -> None:
            callback(session_id)
            self.heard.set()

        return super().subscribe_revocations(relay, on_error)


def _revoke_elsewhere(url: str, prefix: str, session_id: str) -> None:  # pragma: no cover
    client = redis.Redis.from_url(url)
    service = ImpersonationService(
        RedisImpersonationStore(client, prefix=prefix), audit=RedisAuditLog(client, prefix=prefix)
    )
    service.revoke(session_id, by=ADMIN, reason="other_process")
    client.close()


def test_a_revocation_in_another_process_reaches_a_cached_service(
    redis_url: str, redis_prefix: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    store = SignallingRedisStore(client, prefix=redis_prefix)
    service = ImpersonationService(
        store,
        audit=RedisAuditLog(client, prefix=redis_prefix),
        revocation="cached",
        cache_ttl=timedelta(seconds=5),
    )
    started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    assert service.validate(started.token).valid
    assert service.validate(started.token).valid
    process = multiprocessing.get_context("fork").Process(
        target=_revoke_elsewhere, args=(redis_url, redis_prefix, started.id)
    )
    process.start()
    process.join(timeout=60)
    assert process.exitcode == 0
    assert store.heard.wait(timeout=10)
    assert service.validate(started.token).reason == "revoked"
    service.close()
    client.close()
