"""Recovery is bounded by configuration: a real redis-server is stopped and started again."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from unified_health.feature_flags import (
    ClientStatus,
    FeatureFlagAdmin,
    FeatureFlagClient,
    Flag,
    RedisFeatureFlagStore,
)
from unified_health.feature_flags.testing import capture_logs

USER = {"user_id": "u-1"}
POLL_INTERVAL = 2.0
CONNECT_TIMEOUT = 1.0


def _wait(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)  # polling a real background thread, not waiting for test time
    return predicate()


@pytest.mark.redis
def test_a_change_made_after_redis_returns_is_seen_within_the_poll_interval(
    redis_server_factory: Callable[[], Any],
) -> None:
    server = redis_server_factory()
    store = RedisFeatureFlagStore.from_url(
        server.url, prefix="recovery", socket_connect_timeout=CONNECT_TIMEOUT
    )
    admin = FeatureFlagAdmin(store)
    admin.initialize(actor="ops", reason="fresh")
    admin.create_flag(Flag(key="beta", enabled=False), actor="ops", reason="new")
    with (
        capture_logs() as logs,
        FeatureFlagClient.from_url(
            server.url, prefix="recovery", poll_interval=POLL_INTERVAL
        ) as client,
    ):
        assert client.wait_ready(10)
        assert client.status is ClientStatus.READY
        server.stop()
        assert _wait(lambda: client.status is ClientStatus.DISCONNECTED, 10)
        # A long outage: under an uncapped backoff the pauses would have grown far beyond the
        # poll interval by now.
        assert _wait(lambda: client.sync_metrics().reconnect_attempts >= 8, 20)
        outage = client.sync_metrics()
        assert (outage.connected, outage.outages) == (False, 1)
        assert outage.reconnect_max_delay == POLL_INTERVAL / 2
        assert not client.is_enabled("beta", USER)  # the last snapshot is still served

        server.start()  # back, and empty: the admin restores it with the change
        restore = '{"flags": {"beta": {"key": "beta", "enabled": true}}}'
        admin.initialize(actor="ops", reason="restore after restart", document=restore)
        assert _wait(lambda: client.is_enabled("beta", USER), 10)
        assert _wait(lambda: client.status is ClientStatus.READY, 5)
        recovered = client.sync_metrics()
        assert (recovered.connected, recovered.outages, recovered.recoveries) == (True, 1, 1)
        assert recovered.last_outage_seconds is not None
        assert recovered.last_outage_seconds > 0
    events = [e["event"] for e in logs]
    assert "store_sync_failed" in events
    assert "store_recovered" in events
    statuses = [e["status"] for e in logs if e["event"] == "status_changed"]
    assert statuses == ["READY", "DISCONNECTED", "READY"]
    store.close()


@pytest.mark.redis
def test_reconnect_attempts_are_spaced_by_at_most_half_the_poll_interval(
    redis_server_factory: Callable[[], Any],
) -> None:
    server = redis_server_factory()
    server.stop()
    with FeatureFlagClient.from_url(
        server.url, prefix="spacing", poll_interval=0.2, reconnect_max_delay=60.0
    ) as client:
        assert client.sync_metrics().reconnect_max_delay == 0.1  # 60 s is lowered to 0.1 s
        assert _wait(lambda: client.sync_metrics().reconnect_attempts >= 20, 20)
        assert not client.ready()
        server.start()
        FeatureFlagAdmin(RedisFeatureFlagStore.from_url(server.url, prefix="spacing")).initialize(
            actor="ops", reason="fresh"
        )
        assert client.wait_ready(10)
