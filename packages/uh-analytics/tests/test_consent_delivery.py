"""Consent is checked at the door and again before every delivery attempt."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence

import pytest
import redis

from unified_health.analytics import (
    AnalyticsClient,
    InMemoryConsentStore,
    InMemorySurrogateIdStore,
    RedisConsentStore,
    SurrogatePseudonymizer,
)
from unified_health.analytics._consent import ConsentGate
from unified_health.analytics._models import Event
from unified_health.analytics._outbound import outbound_ids
from unified_health.analytics._withdrawal import withdrawn_record
from unified_health.analytics.providers import OutboundEvent
from unified_health.analytics.testing import FakeClock, FakePostHog, RecordingProvider

Make = Callable[..., AnalyticsClient]


def test_withdrawal_purges_queued_events(make_client: Make) -> None:
    rec = RecordingProvider()
    client = make_client([rec], flush_interval=30)
    for _ in range(5):
        client.track("page_viewed", user_id="user-1")
        client.track("page_viewed", user_id="user-2")
    client.set_consent("user-1", {"essential"})
    assert client.flush(5)
    assert len(rec.events) == 5
    assert {e["user_id"] for e in rec.events} == {client._pseudonymizer.pseudonymize("user-2")}
    assert client.metrics().dropped == {"consent_withdrawn": 5}


def test_withdrawal_stops_events_waiting_for_a_retry(
    make_client: Make, posthog: FakePostHog
) -> None:
    """A batch in backoff is re-checked before the next attempt."""
    withdraw: list[Callable[[], None]] = []

    def sleep(seconds: float) -> None:
        withdraw[0]()

    posthog.fail_next(503)
    client = make_client([posthog.provider(sleep=sleep)])
    withdraw.append(lambda: client.set_consent("user-1", set()))
    client.track("page_viewed", user_id="user-1")
    client.track("page_viewed", user_id="user-2")
    assert client.flush(5)
    assert len(posthog.events) == 1
    assert client.metrics().dropped == {"consent_withdrawn": 1}


def test_withdrawal_stops_a_batch_waiting_for_a_sender(
    make_client: Make, posthog: FakePostHog
) -> None:
    """A batch prepared while every sender is busy is re-checked before its first attempt."""
    prepared = threading.Event()
    in_backoff = threading.Event()
    release = threading.Event()

    class Store(InMemoryConsentStore):
        def get_consents(self, user_ids: Sequence[str]) -> dict[str, frozenset[str]]:
            records = super().get_consents(user_ids)
            if "user-1" in user_ids:
                prepared.set()
            return records

    def sleep(seconds: float) -> None:
        in_backoff.set()
        release.wait(5)

    posthog.fail_next(503)
    client = make_client([posthog.provider(sleep=sleep)], consent_store=Store(), max_in_flight=1)
    client.track("page_viewed", user_id="user-2")
    assert in_backoff.wait(5)  # the only sender is backing off
    client.track("page_viewed", user_id="user-1")
    assert prepared.wait(5)  # checked and encoded, waiting for the sender
    client.set_consent("user-1", {"essential"})
    release.set()
    assert client.flush(5)
    assert [e["distinct_id"] for e in posthog.events] == [
        client._pseudonymizer.pseudonymize("user-2")
    ]
    assert client.metrics().dropped == {"consent_withdrawn": 1}


@pytest.mark.redis
def test_redis_consent_is_checked_at_delivery(
    make_client: Make,
    redis_client: redis.Redis,
    redis_url: str,
    redis_prefix: str,
    posthog: FakePostHog,
) -> None:
    """With a shared store, track() does no I/O; the sender applies another process's change."""
    prefix = "{" + redis_prefix + "}"
    store = RedisConsentStore(redis_client, prefix=prefix)
    other_client = redis.Redis.from_url(redis_url)
    other = RedisConsentStore(other_client, prefix=prefix)  # "another process"
    clock = FakeClock()

    def sleep(seconds: float) -> None:  # the other process withdraws during the backoff
        clock.sleep(seconds)
        other.delete_consent("user-ok")

    client = make_client(
        [posthog.provider(sleep=sleep)], consent_store=store, default_consent="essential",
        flush_interval=30,
    )  # fmt: skip
    store.set_consent("user-ok", ["analytics"])
    assert client.track("page_viewed", user_id="user-ok")
    assert client.track("page_viewed", user_id="user-none")  # no record: decided at delivery
    assert client.flush(5)
    assert len(posthog.events) == 1
    assert client.metrics().dropped == {"no_consent": 1}

    posthog.fail_next(503)
    client.track("page_viewed", user_id="user-ok")
    assert client.flush(5)
    assert len(posthog.events) == 1
    assert client.metrics().dropped == {"no_consent": 1, "consent_withdrawn": 1}
    other_client.close()


def test_restored_events_of_a_withdrawn_user_are_denied() -> None:
    gate = ConsentGate(InMemoryConsentStore(), {"analytics"}, {"analytics", "marketing"})

    def restored(distinct_id: str, category: str) -> Event:
        event = Event("track", "page_viewed", {}, None, None, category, 1.0, "0" * 32)
        event.outbound = OutboundEvent(
            "track", "page_viewed", {}, distinct_id, distinct_id, None, 1.0, "0" * 32
        )
        return event

    events = [
        restored("k1_a", "analytics"),
        restored("k1_a", "essential"),
        restored("k1_b", "analytics"),
    ]
    assert gate.split(events) == (events, [])  # checked when spilled: trusted
    gate.note_withdrawal({"k1_a"}, frozenset({"essential"}), at=1.0)
    assert gate.split(events) == ([events[1], events[2]], [events[0]])
    later = restored("k1_a", "analytics")  # tracked after a new grant made elsewhere
    later.timestamp = 2.0
    assert gate.split([later]) == ([later], [])


def test_a_devices_withdrawal_leaves_the_signed_in_users_spilled_events() -> None:
    def record(distinct_id: str, user_id: str | None) -> bytes:
        ids = {"distinct_id": distinct_id, "user_id": user_id, "device_id": "k1_dev"}
        return json.dumps({"v": 2, "category": "analytics", "ids": ids}).encode()

    essential = {"essential"}
    assert withdrawn_record(record("k1_dev", None), "device-9", {"k1_dev"}, essential)
    assert not withdrawn_record(record("k1_user", "k1_user"), "device-9", {"k1_dev"}, essential)
    assert not withdrawn_record(b'{"v": 2, "category": ["x"]}', "device-9", {"k1_dev"}, essential)
    assert not withdrawn_record(b"not json", "device-9", {"k1_dev"}, essential)


def test_finding_a_users_surrogate_ids_creates_none() -> None:
    store = InMemorySurrogateIdStore()
    pseudonymizer = SurrogatePseudonymizer(store, seed=1)
    assert outbound_ids(pseudonymizer, "never-tracked") == frozenset()
    assert store.get("user", "never-tracked") is None
    known = pseudonymizer.pseudonymize("user-1")
    assert outbound_ids(pseudonymizer, "user-1") == {known}
