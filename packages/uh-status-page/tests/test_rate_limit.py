"""The token budget: in one process with a virtual clock, and across real processes on Redis."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from unified_health.status_page import (
    InMemoryStatusPageStore,
    InvalidInputError,
    RateLimitedError,
    RateLimiter,
    RedisStatusPageStore,
    StatusPageClient,
    token_bucket,
)
from unified_health.status_page.testing import FakeClock, FakeStatuspage


def test_no_window_ever_holds_more_than_the_limit() -> None:
    clock = FakeClock()
    limiter = RateLimiter("t", limit=60, window=60.0, margin=0.0, clock=clock, sleep=clock.sleep)
    admitted = []
    for index in range(300):
        limiter.acquire()
        admitted.append(clock.monotonic())
        clock.advance(0.1 * (index % 7))  # bursts and lulls
    assert all(admitted[i + 60] - admitted[i] >= 60.0 - 1e-6 for i in range(len(admitted) - 60))


def test_a_pause_stops_every_limiter_on_the_bucket() -> None:
    clock = FakeClock()
    store = InMemoryStatusPageStore(clock=clock)
    first = RateLimiter("t", store=store, clock=clock, sleep=clock.sleep)
    second = RateLimiter("t", store=store, clock=clock, sleep=clock.sleep)
    first.pause(12.0)
    with pytest.raises(RateLimitedError) as caught:
        second.acquire(max_wait=5.0)
    assert caught.value.retry_after == 12.0
    assert second.acquire() == 12.0


def test_the_bucket_of_a_token_does_not_hold_the_token() -> None:
    assert "secret" not in token_bucket("secret")
    assert token_bucket("secret") == token_bucket("secret") != token_bucket("other")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"limit": 0}, "limit"), ({"window": 0}, "window"), ({"margin": -1}, "margin")],
)
def test_bad_limiter_settings_are_refused(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        RateLimiter("t", **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


WORKER = textwrap.dedent(
    """
    import sys, redis
    from unified_health.status_page import RateLimiter, RedisStatusPageStore, StatusPageClient
    url, prefix, vendor, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = RedisStatusPageStore(redis.Redis.from_url(url), prefix=prefix)
    limiter = RateLimiter("shared-token", store=store, limit=8, window=1.0, margin=0.5)
    status = StatusPageClient("test-key", "page-1", base_url=vendor, limiter=limiter,
                              max_retries=0)
    for _ in range(count):
        status.get_page()
    """
)


def test_four_processes_share_one_budget(redis_url: str, redis_prefix: str) -> None:
    with FakeStatuspage(limit=8, window=1.0) as vendor:
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, redis_url, redis_prefix, vendor.url, "6"],
                stderr=subprocess.PIPE,
            )
            for _ in range(4)
        ]
        errors = [worker.communicate(timeout=60)[1] for worker in workers]
        assert [worker.returncode for worker in workers] == [0, 0, 0, 0], errors
        assert vendor.over_limit == 0
        times = sorted(call.at for call in vendor.calls)
    assert len(times) == 24
    assert all(times[i + 8] - times[i] >= 1.0 for i in range(len(times) - 8))


PROBE_PAUSE = textwrap.dedent(
    """
    import sys, redis
    from unified_health.status_page import RateLimitedError, RateLimiter, RedisStatusPageStore
    store = RedisStatusPageStore(redis.Redis.from_url(sys.argv[1]), prefix=sys.argv[2])
    try:
        RateLimiter(sys.argv[3], store=store).acquire(max_wait=0.0)
    except RateLimitedError as exc:
        print(exc.retry_after)
    else:
        print("admitted")
    """
)


def test_one_workers_rate_limit_answer_pauses_the_others(
    redis_client: redis.Redis, redis_prefix: str, redis_url: str
) -> None:
    store = RedisStatusPageStore(redis_client, prefix=redis_prefix)
    with FakeStatuspage() as vendor:
        status = StatusPageClient(
            "test-key", "page-1", base_url=vendor.url, store=store, max_retries=0
        )
        vendor.fail_next(429, retry_after=30)
        with pytest.raises(RateLimitedError):
            status.get_page()
    other = subprocess.run(
        [sys.executable, "-c", PROBE_PAUSE, redis_url, redis_prefix, token_bucket("test-key")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert 25.0 < float(other.stdout) <= 30.0


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=0, max_value=5, allow_nan=False), min_size=1, max_size=120),
    limit=st.integers(min_value=1, max_value=10),
    window=st.floats(min_value=0.5, max_value=30, allow_nan=False),
)
def test_any_arrival_pattern_stays_within_the_limit(
    gaps: list[float], limit: int, window: float
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(
        "t", limit=limit, window=window, margin=0.0, clock=clock, sleep=clock.sleep
    )
    admitted = []
    for gap in gaps:
        clock.advance(gap)
        limiter.acquire()
        admitted.append(clock.now().timestamp())
    assert all(
        admitted[i + limit] - admitted[i] >= window - 1e-5 for i in range(len(admitted) - limit)
    )
