"""Delivery that survives a vendor outage, observed through `delivery_status()`.

Real HTTP to the fake vendors on 127.0.0.1, the real Redis spill store; backoff waits go to a
`FakeClock`, so an "outage" is a run of scripted failures that passes in milliseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import redis

from unified_health.analytics import (
    AnalyticsClient,
    PostHogProvider,
    ProviderError,
    ProviderStatus,
    RateLimitedError,
    RedisSpillStore,
)
from unified_health.analytics.providers import OutboundEvent, SendResult
from unified_health.analytics.testing import (
    FakeClock,
    FakePostHog,
    RecordingProvider,
    capture_logs,
)

Make = Callable[..., AnalyticsClient]


@pytest.fixture
def spill(redis_client: redis.Redis, redis_prefix: str) -> RedisSpillStore:
    return RedisSpillStore(redis_client, prefix="{" + redis_prefix + "}")


def status_of(client: AnalyticsClient, name: str = "posthog") -> ProviderStatus:
    return client.delivery_status()[name]


class Watcher:
    """Reads `delivery_status()` in a loop on another thread and keeps every unbalanced one."""

    def __init__(self, client: AnalyticsClient) -> None:
        self.client = client
        self.reads = 0
        self.unbalanced: list[ProviderStatus] = []
        self.peak_in_memory = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            for status in self.client.delivery_status().values():
                self.reads += 1
                self.peak_in_memory = max(self.peak_in_memory, status.queued + status.in_flight)
                if status.unaccounted:
                    self.unbalanced.append(status)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.mark.redis
def test_every_accepted_event_is_accounted_for_at_every_moment_of_an_outage(
    make_client: Make, spill: RedisSpillStore, clock: FakeClock
) -> None:
    with FakePostHog() as vendor:
        vendor.fail_next(500, times=6)
        vendor.fail_next(429, times=4, retry_after=1)
        client = make_client(
            [vendor.provider(sleep=clock.sleep, max_retries=2)],
            spill_store=spill,
            max_queue_events=200,
            flush_interval=0.01,
        )
        watcher = Watcher(client)
        for i in range(1_000):
            client.track("page_viewed", {"n": i}, user_id=f"user-{i % 7}")
        client.track("page_viewed", {"n": -1}, user_id="user-1")  # after the outage
        assert client.flush(10)
        status = status_of(client)
        watcher.stop()
        assert watcher.reads > 0
        assert watcher.unbalanced == []
        assert status.accepted == 1_001
        assert "queue_full" not in status.dropped
        assert status.dropped == {}
        assert status.unaccounted == 0
        # Nothing was lost: once the vendor answers again, the process replays its spill and
        # the vendor receives every event. (The spill may still be replaying after flush(), so
        # vendor and store are not read as one snapshot.)
        for _ in range(50):
            if spill.size("posthog") == 0 and not status_of(client).spill_pending:
                break
            client.track("heartbeat", user_id="user-1")
            assert client.flush(10)
        received = {e["properties"]["n"] for e in vendor.events if e["event"] == "page_viewed"}
        assert received == set(range(-1, 1_000))
        assert status_of(client).unaccounted == 0


@pytest.mark.redis
def test_a_full_queue_overflows_to_the_store_and_the_process_replays_its_own_spill(
    make_client: Make, spill: RedisSpillStore
) -> None:
    with FakePostHog() as vendor:
        vendor.stall_next(0.3, times=2)  # the vendor hangs while the burst arrives
        client = make_client(
            [vendor.provider(timeout=0.2, max_retries=0)],
            spill_store=spill,
            max_queue_events=50,
            flush_interval=0.01,
        )
        accepted = [client.track("page_viewed", {"n": i}, user_id="user-1") for i in range(400)]
        assert all(accepted)
        during = status_of(client)
        assert "queue_full" not in during.dropped
        # The same process delivers its spill once the vendor answers again.
        assert client.flush(10)
        for _ in range(50):
            if spill.size("posthog") == 0 and not status_of(client).spill_pending:
                break
            client.track("heartbeat", user_id="user-1")
            assert client.flush(10)
        after = status_of(client)
        assert spill.size("posthog") == 0
        assert after.dropped == {}
        assert after.spilled > 0
        assert after.replayed >= after.spilled
        assert {e["properties"]["n"] for e in vendor.events if e["event"] == "page_viewed"} == (
            set(range(400))
        )
        assert after.unaccounted == 0


def test_a_failing_vendor_makes_no_drop_while_the_queue_has_room(
    make_client: Make, clock: FakeClock
) -> None:
    with FakePostHog() as vendor:
        vendor.fail_next(503, times=12)  # more failures than max_retries allows
        client = make_client([vendor.provider(sleep=clock.sleep, max_retries=2)])
        for i in range(30):
            client.track("page_viewed", {"n": i}, user_id="user-1")
        assert client.flush(10)
        status = status_of(client)
    assert status.dropped == {}
    assert status.sent == 30
    assert status.retried >= 12
    assert status.state == "healthy"


def test_without_a_store_drops_happen_only_at_the_queue_bound(
    make_client: Make, clock: FakeClock
) -> None:
    with FakePostHog() as vendor:
        vendor.fail_next(503, times=1_000)
        client = make_client(
            [vendor.provider(sleep=clock.sleep, max_retries=1)],
            max_queue_events=40,
            flush_interval=0.01,
        )
        watcher = Watcher(client)
        for i in range(300):
            client.track("page_viewed", {"n": i}, user_id="user-1")
        client.flush(2)
        watcher.stop()
        status = status_of(client)
    assert watcher.unbalanced == []
    assert watcher.peak_in_memory <= 40  # queued plus in flight stay within the bound
    assert status.dropped.get("queue_full", 0) > 0
    assert status.state == "retrying"
    assert status.unaccounted == 0


class Exploding(RecordingProvider):
    """A provider whose encode and deliver fail unexpectedly the first times."""

    def __init__(self, encode_failures: int, deliver_failures: int) -> None:
        super().__init__("exploding")
        self.encode_failures = encode_failures
        self.deliver_failures = deliver_failures

    def encode(self, event: OutboundEvent) -> bytes | None:
        if self.encode_failures:
            self.encode_failures -= 1
            raise RuntimeError("patient jane.doe in a message that must not be logged")
        return super().encode(event)

    def deliver(self, parts: list[bytes], *, timeout: float) -> SendResult:
        if self.deliver_failures:
            self.deliver_failures -= 1
            raise KeyError("boom")
        return super().deliver(parts, timeout=timeout)


def test_no_delivery_thread_dies_of_an_unexpected_error(make_client: Make) -> None:
    provider = Exploding(encode_failures=1, deliver_failures=1)
    client = make_client([provider], flush_interval=0.01)
    with capture_logs() as logs:
        client.track("page_viewed", {"n": 1}, user_id="user-1")
        assert client.flush(5)  # the lane thread survived the encode error
        client.track("page_viewed", {"n": 2}, user_id="user-1")
        assert client.flush(5)  # a sender survived the deliver error
        client.track("page_viewed", {"n": 3}, user_id="user-1")
        assert client.flush(5)
    status = status_of(client, "exploding")
    assert status.lane_errors == 2
    assert status.dropped == {"internal_error": 2}
    assert status.sent == 1
    assert [e["properties"]["n"] for e in provider.events] == [3]
    crashes = [e for e in logs if e["event"] == "delivery_crashed"]
    assert {e["error_class"] for e in crashes} == {"RuntimeError", "KeyError"}
    assert "jane.doe" not in str(logs)


def test_the_error_callback_and_the_status_name_the_cause(
    make_client: Make, clock: FakeClock
) -> None:
    seen: list[ProviderError] = []
    with FakePostHog() as vendor:
        vendor.fail_next(429, times=1, retry_after=3)
        vendor.fail_next(502, times=1)
        client = make_client(
            [vendor.provider(sleep=clock.sleep)], on_error=seen.append, flush_interval=0.01
        )
        with capture_logs() as logs:
            client.track("page_viewed", {"n": 1}, user_id="user-1")
            assert client.flush(5)
    assert [type(e) for e in seen] == [RateLimitedError, ProviderError]
    assert (seen[0].cause, seen[0].status_code, seen[0].retry_after) == ("rate_limit", 429, 3.0)
    assert (seen[1].cause, seen[1].status_code, seen[1].attempts) == ("http_status", 502, 2)
    assert clock.sleeps[0] >= 3.0  # Retry-After honoured
    retried = [e for e in logs if e["event"] == "delivery_retried"]
    assert [e["cause"] for e in retried] == ["rate_limit", "http_status"]
    last = status_of(client).last_error
    assert last is not None
    assert last.cause == "http_status"
    assert status_of(client).state == "healthy"  # the final attempt succeeded


def test_dns_and_timeout_failures_are_told_apart(make_client: Make, clock: FakeClock) -> None:
    nowhere = PostHogProvider(
        "phc_test_key", base_url="http://vendor.invalid", sleep=clock.sleep, max_retries=0
    )
    with FakePostHog() as vendor:
        vendor.stall_next(1.0, times=1)
        slow = vendor.provider(timeout=0.2, sleep=clock.sleep, max_retries=0)
        client = make_client([nowhere], retry_budget=0, flush_interval=0.01)
        client.track("page_viewed", user_id="user-1")
        assert client.flush(5)
        other = make_client([slow], retry_budget=0, flush_interval=0.01)
        other.track("page_viewed", user_id="user-1")
        assert other.flush(5)
    dns = status_of(client).last_error
    timeout = status_of(other).last_error
    assert dns is not None
    assert (dns.cause, dns.error_class) == ("dns", "ConnectError")
    assert timeout is not None
    assert (timeout.cause, timeout.error_class) == (
        "timeout",
        "ReadTimeout",
    )
    assert status_of(client).dropped == {"retries_exhausted": 1}


def test_a_failing_error_callback_does_not_stop_delivery(
    make_client: Make, clock: FakeClock
) -> None:
    def broken(error: ProviderError) -> None:
        raise ValueError("callback bug")

    with FakePostHog() as vendor:
        vendor.fail_next(500)
        client = make_client([vendor.provider(sleep=clock.sleep)], on_error=broken)
        client.track("page_viewed", user_id="user-1")
        assert client.flush(5)
        assert status_of(client).sent == 1
