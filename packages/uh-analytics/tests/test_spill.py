"""Durable spill to Redis: at-least-once delivery across restarts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from unified_health.analytics import AnalyticsClient, RedisSpillStore
from unified_health.analytics.testing import FakeClock, FakePostHog

Make = Callable[..., AnalyticsClient]
pytestmark = pytest.mark.redis


@pytest.fixture
def spill(redis_client: redis.Redis, redis_prefix: str) -> RedisSpillStore:
    return RedisSpillStore(redis_client, prefix="{" + redis_prefix + "}")


def test_outage_spills_and_the_next_process_delivers(
    make_client: Make, spill: RedisSpillStore, clock: FakeClock
) -> None:
    with FakePostHog() as down:
        down.fail_next(503, times=100)
        first = make_client([down.provider(sleep=clock.sleep, max_retries=1)], spill_store=spill)
        for i in range(30):
            first.track("page_viewed", {"n": i}, user_id=f"user-{i}")
        assert first.flush(5)
        report = first.shutdown(timeout=2)
        assert spill.size("posthog") == 30
        assert first.metrics().spilled == 30
        assert first.metrics().dropped == {}
        assert report.lost == 0
        raw = b"".join(spill._client.lrange(spill._key("posthog"), 0, -1))
        assert b"page_viewed" in raw

    with FakePostHog() as up:
        second = make_client([up.provider()], spill_store=spill)
        assert second.flush(5)
        assert sorted(e["properties"]["n"] for e in up.events) == list(range(30))
        assert spill.size("posthog") == 0


def test_shutdown_deadline_spills_the_queue(make_client: Make, spill: RedisSpillStore) -> None:
    with FakePostHog() as stalled:
        stalled.stall_next(5, times=5)
        client = make_client([stalled.provider()], spill_store=spill, flush_interval=30)
        for i in range(20):
            client.track("page_viewed", {"n": i}, user_id="user-1")
        report = client.shutdown(timeout=0.3)
        assert report.spilled == 20
        assert report.lost == 0
    assert spill.size("posthog") == 20


def test_queue_overflow_goes_to_the_spill(make_client: Make, spill: RedisSpillStore) -> None:
    with FakePostHog(latency=0.2) as slow:
        client = make_client(
            [slow.provider()], spill_store=spill, max_queue_events=100, flush_interval=30
        )
        accepted = [client.track("page_viewed", {"n": i}, user_id="user-1") for i in range(200)]
        assert all(accepted)
        assert "queue_full" not in client.metrics().dropped
        assert client.flush(10)
        m = client.metrics()
        assert m.enqueued == 200
        assert m.spilled >= 90
        assert m.dropped == {}
        # Every event was delivered or waits in the spill store for a later replay (read after
        # shutdown, when no replay can move events between the two counts).
        client.shutdown(timeout=5)
        assert len(slow.events) + spill.size("posthog") == 200


def test_spill_store_holds_no_raw_ids(
    make_client: Make,
    spill: RedisSpillStore,
    clock: FakeClock,
    redis_client: redis.Redis,
    redis_prefix: str,
) -> None:
    raw_ids = [f"patient-raw-{i:04d}" for i in range(10)]
    with FakePostHog() as down:
        down.fail_next(503, times=100)
        first = make_client([down.provider(sleep=clock.sleep, max_retries=0)], spill_store=spill)
        for i, raw in enumerate(raw_ids):
            first.track("page_viewed", {"n": i}, user_id=raw, groups={"clinic": f"{raw}-clinic"})
            first.track("page_viewed", {"n": i}, anonymous_id=f"{raw}-device")
        assert first.flush(5)
        first.shutdown(timeout=2)
    assert spill.size("posthog") == 20
    stored = b""
    for key in redis_client.scan_iter(match="{" + redis_prefix + "}*"):
        items = redis_client.lrange(key, 0, -1)
        stored += key + b"".join(i.encode() if isinstance(i, str) else i for i in items)
    assert b"page_viewed" in stored
    assert b"patient-raw" not in stored

    with FakePostHog() as up:  # replayed by another process: delivered once, pseudonymous ids
        second = make_client([up.provider()], spill_store=spill)
        assert second.flush(5)
        assert len(up.events) == 20
        assert all("patient-raw" not in str(event) for event in up.events)


def test_withdrawal_in_another_process_purges_the_users_spilled_events(
    make_client: Make, spill: RedisSpillStore, clock: FakeClock
) -> None:
    with FakePostHog() as down:
        down.fail_next(503, times=100)
        both = {"essential", "analytics"}
        first = make_client(
            [down.provider(sleep=clock.sleep, max_retries=0, categories=both)], spill_store=spill
        )
        for i in range(5):
            first.track("page_viewed", {"n": i}, user_id="user-1")
            first.track("page_viewed", {"n": i}, user_id="user-2")
            first.track("signed_in", {"n": i}, user_id="user-1", category="essential")
        first.track("page_viewed", {"n": 99}, anonymous_id="user-1")  # the same id as a device
        assert first.flush(5)
        first.shutdown(timeout=2)
    assert spill.size("posthog") == 16

    with FakePostHog() as up:
        second = make_client([up.provider(categories=both)], spill_store=spill, flush_interval=30)
        second.set_consent("user-1", {"essential"})  # the replay may have begun: either way
        assert second.flush(5)
        assert sum(second.metrics().dropped.values()) == 6
        assert set(second.metrics().dropped) <= {"consent_withdrawn", "no_consent"}
        assert spill.size("posthog") == 0
        delivered = sorted((e["event"], e["properties"]["n"]) for e in up.events)
    user_2 = [("page_viewed", i) for i in range(5)]
    essential = [("signed_in", i) for i in range(5)]
    assert delivered == sorted(user_2 + essential)


def test_clearing_consent_purges_spilled_events_outside_the_default(
    make_client: Make, spill: RedisSpillStore, clock: FakeClock
) -> None:
    with FakePostHog() as down:
        down.fail_next(503, times=100)
        first = make_client([down.provider(sleep=clock.sleep, max_retries=0)], spill_store=spill)
        first.track("page_viewed", user_id="user-1")
        assert first.flush(5)
        first.shutdown(timeout=2)
    with FakePostHog() as up:
        second = make_client(
            [up.provider()], spill_store=spill, default_consent="essential", flush_interval=30
        )
        second.clear_consent("user-1")  # the spill is purged off the caller's thread
        assert second.flush(5)
        assert spill.size("posthog") == 0


def test_purge_does_not_undo_concurrent_pushes_and_pops(spill: RedisSpillStore) -> None:
    spill.push("posthog", [b"keep-%d" % i for i in range(50)] + [b"drop-%d" % i for i in range(10)])

    def drop(raw: bytes) -> bool:  # another process pushes and pops while the lane is judged
        if raw == b"keep-0":
            spill.push("posthog", [b"late"])
            assert spill.pop("posthog", 1) == [b"keep-0"]
        return raw.startswith(b"drop")

    assert spill.remove_if("posthog", drop) == 10
    assert spill.pop("posthog", 100) == [b"keep-%d" % i for i in range(1, 50)] + [b"late"]
