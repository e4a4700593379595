"""The bounded queue: count and byte bounds, drop policies, counted drops."""

from __future__ import annotations

from collections.abc import Callable

from unified_health.analytics import AnalyticsClient
from unified_health.analytics._models import Event
from unified_health.analytics._queue import EventQueue
from unified_health.analytics.testing import FakePostHog

Make = Callable[..., AnalyticsClient]


def event(n: int, size: int = 10) -> Event:
    return Event("track", "e", {"n": n}, None, "anon-1", "analytics", 0.0, str(n), size=size)


def test_drop_newest_keeps_the_oldest() -> None:
    q = EventQueue(max_events=2, max_bytes=1000)
    assert q.put(event(1)) == []
    assert q.put(event(2)) == []
    assert q.put(event(3)) == [event(3)]
    assert [e.insert_id for e in q.take(10)] == ["1", "2"]


def test_drop_oldest_evicts_until_the_new_event_fits() -> None:
    q = EventQueue(max_events=10, max_bytes=100, policy="drop_oldest")
    for n in range(4):
        q.put(event(n, size=25))
    assert [e.insert_id for e in q.put(event(9, size=50))] == ["0", "1"]
    assert q.bytes == 100
    assert len(q) == 3


def test_event_larger_than_the_queue_is_refused() -> None:
    q = EventQueue(max_events=10, max_bytes=100, policy="drop_oldest")
    q.put(event(1))
    assert q.put(event(2, size=101)) == [event(2, size=101)]
    assert len(q) == 1


def test_full_queue_drops_are_counted_and_never_block(make_client: Make) -> None:
    with FakePostHog(latency=0.5) as slow:
        client = make_client([slow.provider()], max_queue_events=1000, flush_interval=30)
        results = [client.track("page_viewed", user_id="u-1") for _ in range(3000)]
        m = client.metrics()
        assert results.count(True) + m.dropped["queue_full"] == 3000
        assert m.dropped["queue_full"] >= 1000
