"""The `StatusPageStore` contract, run against every implementation: in memory and real Redis."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import redis

from unified_health.status_page import (
    ConflictError,
    InMemoryStatusPageStore,
    InvalidInputError,
    RedisStatusPageStore,
    StatusPageStore,
    StoreUnavailableError,
)
from unified_health.status_page.testing import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[StatusPageStore]:
    if request.param == "memory":
        yield InMemoryStatusPageStore(clock=clock)
        return
    client: redis.Redis = request.getfixturevalue("redis_client")
    prefix: str = request.getfixturevalue("redis_prefix")
    with RedisStatusPageStore(client, prefix=prefix) as redis_store:
        yield redis_store


def test_the_store_satisfies_the_protocol(store: StatusPageStore) -> None:
    assert isinstance(store, StatusPageStore)


def test_a_bucket_admits_limit_requests_per_window(store: StatusPageStore) -> None:
    admitted = [store.take_slot("t", now=1000.0 + i, limit=3, window=10.0) for i in range(3)]
    assert admitted == [0.0, 0.0, 0.0]
    wait = store.take_slot("t", now=1003.0, limit=3, window=10.0)
    assert wait == pytest.approx(7.0)
    # The first slot leaves the window at 1010: one request fits then, not before.
    assert store.take_slot("t", now=1009.9, limit=3, window=10.0) > 0
    assert store.take_slot("t", now=1010.0, limit=3, window=10.0) == 0.0
    assert store.take_slot("t", now=1010.0, limit=3, window=10.0) > 0


def test_a_refused_request_takes_no_slot(store: StatusPageStore) -> None:
    store.take_slot("t", now=100.0, limit=1, window=10.0)
    for _ in range(5):
        assert store.take_slot("t", now=105.0, limit=1, window=10.0) == pytest.approx(5.0)
    assert store.take_slot("t", now=110.0, limit=1, window=10.0) == 0.0


def test_buckets_are_independent(store: StatusPageStore) -> None:
    assert store.take_slot("a", now=100.0, limit=1, window=10.0) == 0.0
    assert store.take_slot("b", now=100.0, limit=1, window=10.0) == 0.0
    assert store.take_slot("a", now=100.0, limit=1, window=10.0) > 0


def test_a_pause_stops_the_bucket_until_it_ends(store: StatusPageStore) -> None:
    store.pause_bucket("t", until=130.0)
    assert store.take_slot("t", now=100.0, limit=60, window=60.0) == pytest.approx(30.0)
    store.pause_bucket("t", until=110.0)  # a shorter pause never shortens the current one
    assert store.take_slot("t", now=120.0, limit=60, window=60.0) == pytest.approx(10.0)
    assert store.take_slot("t", now=130.0, limit=60, window=60.0) == 0.0


def test_concurrent_takers_never_exceed_the_limit(store: StatusPageStore) -> None:
    admitted: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(20):
            if store.take_slot("shared", now=500.0, limit=25, window=60.0) == 0.0:
                with lock:
                    admitted.append(1.0)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 25


def test_a_lock_has_one_holder_until_released(store: StatusPageStore) -> None:
    assert store.acquire_lock("outage", "a", ttl=30) is True
    assert store.acquire_lock("outage", "b", ttl=30) is False
    assert store.acquire_lock("outage", "a", ttl=30) is True  # renewing one's own lease
    assert store.release_lock("outage", "b") is False
    assert store.release_lock("outage", "a") is True
    assert store.acquire_lock("outage", "b", ttl=30) is True


def test_the_open_incident_of_an_outage_is_shared(store: StatusPageStore) -> None:
    assert store.get_open_incident("fp-1") is None
    store.set_open_incident("fp-1", "inc-1")
    assert store.get_open_incident("fp-1") == "inc-1"
    assert store.clear_open_incident("fp-1", "inc-other") is False
    assert store.get_open_incident("fp-1") == "inc-1"
    assert store.clear_open_incident("fp-1", "inc-1") is True
    assert store.get_open_incident("fp-1") is None


def test_the_page_state_is_versioned(store: StatusPageStore) -> None:
    assert store.load_page() == (0, {})
    assert store.save_page({"components": {"api": "operational"}}, expected_version=0) == 1
    assert store.save_page({"components": {"api": "major_outage"}}, expected_version=1) == 2
    assert store.load_page() == (2, {"components": {"api": "major_outage"}})


def test_a_stale_page_write_changes_nothing(store: StatusPageStore) -> None:
    store.save_page({"n": 1}, expected_version=0)
    with pytest.raises(ConflictError, match="version 1"):
        store.save_page({"n": 2}, expected_version=0)
    assert store.load_page() == (1, {"n": 1})


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: s.take_slot("", now=1.0, limit=1, window=1.0), "bucket"),
        (lambda s: s.take_slot("a b", now=1.0, limit=1, window=1.0), "bucket"),
        (lambda s: s.take_slot("t", now=1.0, limit=0, window=1.0), "limit"),
        (lambda s: s.take_slot("t", now=1.0, limit=True, window=1.0), "limit"),
        (lambda s: s.take_slot("t", now=1.0, limit=1, window=-1.0), "window"),
        (lambda s: s.take_slot("t", now=float("nan"), limit=1, window=1.0), "now"),
        (lambda s: s.acquire_lock("x", "", ttl=1), "owner"),
        (lambda s: s.acquire_lock("x", "a", ttl=0), "ttl"),
        (lambda s: s.set_open_incident("fp", 7), "incident_id"),
        (lambda s: s.save_page({"x": object()}, expected_version=0), "state"),
        (lambda s: s.save_page({"x": 1}, expected_version=-1), "expected_version"),
        (lambda s: s.save_page([1], expected_version=0), "state"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(
    store: StatusPageStore, call: object, field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        call(store)  # type: ignore[operator]
    assert caught.value.field == field
    assert store.load_page() == (0, {})


def test_the_redis_store_refuses_a_url_and_owns_only_what_it_made(redis_url: str) -> None:
    with pytest.raises(InvalidInputError, match="client"):
        RedisStatusPageStore("redis://127.0.0.1:6379")  # type: ignore[arg-type]
    store = RedisStatusPageStore.from_url(redis_url, prefix="uh-test:owned")
    assert store.page_key == "{uh-test:owned}:v1:page"
    store.close()


def test_an_unreachable_redis_raises_store_unavailable() -> None:
    store = RedisStatusPageStore.from_url(
        "redis://127.0.0.1:1/0", socket_timeout=0.2, socket_connect_timeout=0.2
    )
    with pytest.raises(StoreUnavailableError):
        store.take_slot("t", now=1.0, limit=1, window=1.0)
    with pytest.raises(StoreUnavailableError):
        store.load_page()
    store.close()
