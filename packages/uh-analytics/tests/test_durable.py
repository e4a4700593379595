"""Durable mode: a process killed outright loses at most the journal's window.

A real child process tracks events against a vendor that hangs, is killed with SIGKILL, and
another client sharing the real Redis delivers what the dead process had accepted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
import redis

from unified_health.analytics import AnalyticsClient, InvalidInputError, RedisSpillStore
from unified_health.analytics.stores import InMemorySpillStore
from unified_health.analytics.testing import FakePostHog, RecordingProvider

Make = Callable[..., AnalyticsClient]
pytestmark = pytest.mark.redis

#: What the test allows between acceptance and the journal on a busy machine (docs: ~0.1 s).
WINDOW = 0.5

CHILD = """
import sys, time
import redis
from unified_health.analytics import (
    AnalyticsClient, HmacPseudonymizer, PostHogProvider, RedisSpillStore,
)
url, prefix, vendor = sys.argv[1:4]
spill = RedisSpillStore(redis.Redis.from_url(url), prefix=prefix, lease_ttl=1.0)
client = AnalyticsClient(
    [PostHogProvider("phc_test_key", base_url=vendor, timeout=30)],
    spill_store=spill, durable=True, default_consent="analytics", register_atexit=False,
    pseudonymizer=HmacPseudonymizer({"k1": b"test-key-0123456789abcdef-0123456"}),
)
i = 0
while True:
    assert client.track("page_viewed", {"n": i}, user_id=f"user-{i % 13}")
    if i % 20 == 0:
        print(i, time.monotonic(), flush=True)
    i += 1
    time.sleep(0.001)
"""


def test_sigkill_in_durable_mode_loses_at_most_the_window(
    make_client: Make, redis_url: str, redis_client: redis.Redis, redis_prefix: str
) -> None:
    prefix = "{" + redis_prefix + "}"
    with FakePostHog() as hung:
        hung.stall_next(30, times=20)  # an outage: every request hangs
        accepted_at: dict[int, float] = {}
        with subprocess.Popen(
            [sys.executable, "-c", CHILD, redis_url, prefix, hung.url],
            stdout=subprocess.PIPE,
            text=True,
        ) as child:
            assert child.stdout is not None
            for line in child.stdout:
                index, at = line.split()
                accepted_at[int(index)] = float(at)
                if int(index) >= 1_000:
                    break
            killed_at = time.monotonic()
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
        assert child.returncode == -signal.SIGKILL
        assert hung.events == []  # nothing reached the vendor before the kill
    older = max(i for i, at in accepted_at.items() if at <= killed_at - WINDOW)

    spill = RedisSpillStore(redis_client, prefix=prefix)
    with FakePostHog() as vendor:
        client = make_client([vendor.provider()], spill_store=spill, flush_interval=0.05)
        delivered: set[int] = set()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not set(range(older + 1)) <= delivered:
            client.flush(1)
            delivered = {e["properties"]["n"] for e in vendor.events}
        assert set(range(older + 1)) <= delivered
        assert client.delivery_status()["posthog"].replayed >= older + 1


def test_a_clean_exit_in_durable_mode_leaves_no_journal(
    make_client: Make, redis_client: redis.Redis, redis_prefix: str
) -> None:
    spill = RedisSpillStore(redis_client, prefix="{" + redis_prefix + "}", lease_ttl=1.0)
    with FakePostHog() as vendor:
        client = make_client([vendor.provider()], spill_store=spill, durable=True)
        for i in range(50):
            client.track("page_viewed", {"n": i}, user_id="user-1")
        report = client.shutdown(timeout=5)
        assert report.lost == 0
        assert len(vendor.events) == 50
    assert spill.adopt("posthog") == 0
    assert list(redis_client.scan_iter(match="{" + redis_prefix + "}:journal*")) == []


def test_durable_mode_needs_a_journaling_store(make_client: Make) -> None:
    with pytest.raises(InvalidInputError) as caught:
        make_client([RecordingProvider()], spill_store=InMemorySpillStore(), durable=True)
    assert caught.value.field == "durable"
    with pytest.raises(InvalidInputError) as caught:
        make_client([RecordingProvider()], durable=True)
    assert caught.value.field == "durable"


def test_an_adopted_journal_is_moved_once(redis_client: redis.Redis, redis_prefix: str) -> None:
    spill = RedisSpillStore(redis_client, prefix="{" + redis_prefix + "}", lease_ttl=1.0)
    spill.journal("posthog", "dead-owner", [b"a", b"b", b"c"], trim=0)
    spill.journal("posthog", "dead-owner", [b"d"], trim=1)  # "a" was settled
    assert spill.adopt("posthog") == 0  # the lease still runs
    redis_client.delete(f"{spill.prefix}:lease:v1:dead-owner")  # as when it expires
    assert spill.adopt("posthog") == 3
    assert spill.adopt("posthog") == 0
    assert spill.pop("posthog", 10) == [b"b", b"c", b"d"]
