"""Against real Redis: pub/sub propagation, polling, outages (a real stop/start), wipes, fork."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from unified_health.feature_flags import (
    ErrorCode,
    FeatureFlagAdmin,
    FeatureFlagClient,
    Flag,
    FlagChangeEvent,
    Reason,
    RedisFeatureFlagStore,
    Rollout,
    StoreUnavailableError,
)
from unified_health.feature_flags.stores import ChangeFeed
from unified_health.feature_flags.testing import FakeClock

pytestmark = pytest.mark.redis

USER = {"user_id": "user-123"}


class Changes:
    """Collects listener events and lets a test wait for one that satisfies a predicate."""

    def __init__(self, client: FeatureFlagClient) -> None:
        self.events: list[FlagChangeEvent] = []
        self._condition = threading.Condition()
        client.add_listener(self._on_change)

    def _on_change(self, event: FlagChangeEvent) -> None:
        with self._condition:
            self.events.append(event)
            self._condition.notify_all()

    def wait_for_key(self, key: str, timeout: float = 5.0) -> bool:
        with self._condition:
            return self._condition.wait_for(
                lambda: any(key in e.changed_keys for e in self.events), timeout
            )


@pytest.fixture
def redis_store(redis_client: redis.Redis, redis_prefix: str) -> RedisFeatureFlagStore:
    return RedisFeatureFlagStore(redis_client, prefix=redis_prefix)


@pytest.fixture
def seeded_admin(redis_store: RedisFeatureFlagStore) -> FeatureFlagAdmin:
    admin = FeatureFlagAdmin(redis_store)
    admin.initialize(actor="test", reason="fresh keyspace")
    admin.create_flag(Flag(key="beta", enabled=False), actor="ops", reason="new")
    admin.create_flag(
        Flag(key="ramp", enabled=True, rollout=Rollout(percentage=50)), actor="ops", reason="new"
    )
    return admin


@pytest.fixture
def make_client() -> Iterator[Callable[..., FeatureFlagClient]]:
    clients: list[FeatureFlagClient] = []

    def make(store: Any, **options: Any) -> FeatureFlagClient:
        client = FeatureFlagClient(store, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def test_a_change_reaches_the_client_through_pubsub(
    redis_store: RedisFeatureFlagStore,
    seeded_admin: FeatureFlagAdmin,
    make_client: Callable[..., FeatureFlagClient],
) -> None:
    client = make_client(redis_store, poll_interval=3600)  # only pub/sub can deliver in time
    assert client.ready()
    changes = Changes(client)
    before = client.snapshot_version
    assert not client.is_enabled("beta", USER)
    seeded_admin.toggle_flag("beta", True, actor="ops", reason="launch")
    assert changes.wait_for_key("beta")
    assert client.is_enabled("beta", USER)
    assert client.snapshot_version > before
    assert changes.events[-1].changed_keys == frozenset({"beta"})


class DeafStore:
    """A Redis store whose change feed never delivers: only the reconciliation poll can."""

    def __init__(self, inner: RedisFeatureFlagStore) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def watch(self) -> ChangeFeed:
        feed = self.inner.watch()
        inner_next = feed.next

        class Deaf:
            def next(self, timeout: float) -> tuple[str, int] | None:
                inner_next(timeout)
                return None

            def close(self) -> None:
                feed.close()

        return Deaf()


def test_the_reconciliation_poll_catches_lost_announcements(
    redis_store: RedisFeatureFlagStore,
    seeded_admin: FeatureFlagAdmin,
    make_client: Callable[..., FeatureFlagClient],
) -> None:
    client = make_client(DeafStore(redis_store), poll_interval=0.05)
    changes = Changes(client)
    seeded_admin.toggle_flag("beta", True, actor="ops", reason="launch")
    assert changes.wait_for_key("beta")
    assert client.is_enabled("beta", USER)


class CountingStore:
    """Delegates to a Redis store and counts full reads, so a test can wait for them."""

    def __init__(self, inner: RedisFeatureFlagStore) -> None:
        self.inner = inner
        self.reads = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def read(self) -> Any:
        self.reads += 1
        return self.inner.read()


def test_duplicate_and_stale_announcements_never_move_the_snapshot_back(
    redis_client: redis.Redis,
    redis_store: RedisFeatureFlagStore,
    seeded_admin: FeatureFlagAdmin,
    make_client: Callable[..., FeatureFlagClient],
) -> None:
    counting = CountingStore(redis_store)
    client = make_client(counting, poll_interval=3600)  # only pub/sub can deliver in time
    assert client._sync.wait_for(lambda s: counting.reads >= 1 and s.healthy, timeout=10)
    changes = Changes(client)
    old = redis_store.read_version()
    assert old is not None
    seeded_admin.toggle_flag("beta", True, actor="ops", reason="launch")
    assert changes.wait_for_key("beta")
    current = redis_store.read_version()
    assert current is not None
    reads = counting.reads
    version = client.snapshot_version
    channel = redis_store.keys.channel
    for message in (f"{old[0]}:{old[1]}", f"{current[0]}:{current[1]}") * 3:
        redis_client.publish(channel, message)  # stale and duplicate, out of order
    seeded_admin.toggle_flag("ramp", False, actor="ops", reason="the next real change")
    assert changes.wait_for_key("ramp")  # delivered after the six above, in channel order
    assert counting.reads == reads + 1  # only the real change cost a read
    assert client.snapshot_version == version + 1
    assert client.is_enabled("beta", USER)
    assert client._apply(redis_store.read() or _never()) is False  # a late read changes nothing


def _never() -> Any:
    raise AssertionError("the store must be readable here")


def test_an_announcement_from_a_new_epoch_with_the_same_version_reloads_at_once(
    redis_store: RedisFeatureFlagStore,
    make_client: Callable[..., FeatureFlagClient],
) -> None:
    counting = CountingStore(redis_store)
    bootstrap = '{"version": 1, "flags": {"beta": {"key": "beta", "enabled": false}}}'
    client = make_client(
        counting, bootstrap=bootstrap, poll_interval=3600, reconnect_max_delay=0.05
    )
    assert client._sync.wait_for(lambda s: counting.reads >= 1, timeout=10)  # subscribed
    document = '{"version": 9, "flags": {"beta": {"key": "beta", "enabled": true}}}'
    FeatureFlagAdmin(redis_store).initialize(actor="ops", reason="restore", document=document)
    found = redis_store.read_version()
    assert found is not None
    assert found[1] == 1  # the version the bootstrap already claims, in another epoch
    assert client.wait_ready(10)
    assert client.is_enabled("beta", USER)


def test_corrupt_data_in_redis_affects_only_that_flag(
    redis_client: redis.Redis,
    redis_store: RedisFeatureFlagStore,
    seeded_admin: FeatureFlagAdmin,
    make_client: Callable[..., FeatureFlagClient],
) -> None:
    client = make_client(redis_store, background=False)
    redis_client.hset(redis_store.keys.flags, "ramp", "{definitely not json")
    seeded_admin.toggle_flag("beta", True, actor="ops", reason="bump the version")
    assert client.refresh()
    assert client.is_enabled("beta", USER)
    result = client.evaluate("ramp", USER, default=False)
    assert (result.value, result.error_code) == (False, ErrorCode.PARSE_ERROR)


def test_a_wiped_or_half_deleted_keyspace_is_never_applied(
    redis_client: redis.Redis,
    redis_store: RedisFeatureFlagStore,
    seeded_admin: FeatureFlagAdmin,
    make_client: Callable[..., FeatureFlagClient],
) -> None:
    client = make_client(redis_store, background=False)
    seeded_admin.toggle_flag("beta", True, actor="ops", reason="launch")
    assert client.refresh()
    redis_client.delete(redis_store.keys.flags)  # half: meta still says two flags
    assert redis_store.read() is None
    assert client.refresh() is False
    assert client.is_enabled("beta", USER)
    redis_client.delete(*redis_store.keys.all)  # whole keyspace gone
    assert client.refresh() is False
    assert client.is_enabled("beta", USER)
    with pytest.raises(StoreUnavailableError):
        seeded_admin.toggle_flag("beta", False, actor="ops", reason="would re-create one flag")


def test_redis_outage_keeps_values_then_reports_stale_then_recovers(
    redis_server_factory: Callable[[], Any],
    make_client: Callable[..., FeatureFlagClient],
) -> None:
    server = redis_server_factory()
    store = RedisFeatureFlagStore.from_url(server.url, prefix="outage", socket_timeout=1.0)
    admin = FeatureFlagAdmin(store)
    admin.initialize(actor="test", reason="fresh")
    admin.create_flag(Flag(key="beta", enabled=True), actor="ops", reason="new")
    admin.create_flag(
        Flag(key="ramp", enabled=True, rollout=Rollout(percentage=50)), actor="ops", reason="new"
    )
    clock = FakeClock()
    client = make_client(
        store, clock=clock, stale_after=60, poll_interval=0.1, reconnect_max_delay=0.1, seed=1
    )
    users = [{"user_id": f"u{i}"} for i in range(200)]
    before = [client.is_enabled("ramp", u) for u in users]
    document = client.export_snapshot()

    server.stop()
    assert client._sync.wait_for(lambda s: not s.healthy, timeout=10)
    assert [client.is_enabled("ramp", u) for u in users] == before
    assert client.evaluate("beta", USER).reason is Reason.STATIC
    clock.advance(61)
    stale = client.evaluate("beta", USER)
    assert (stale.value, stale.reason) == (True, Reason.STALE)
    assert all(r.reason is Reason.STALE for r in client.evaluate_all(USER).values())
    with pytest.raises(StoreUnavailableError):
        admin.toggle_flag("beta", False, actor="ops", reason="during the outage")

    server.start()  # it comes back empty: nothing may be applied from it
    for _ in range(3):  # every read finds the empty store and applies nothing
        assert client.refresh() is False
    assert [client.is_enabled("ramp", u) for u in users] == before
    admin.initialize(actor="ops", reason="restore after data loss", document=document)
    clock.advance(1)  # the announcement or, if it was lost, the next poll brings it in
    assert client._sync.wait_for(lambda s: s.healthy, timeout=10)
    assert client.evaluate("beta", USER).reason is Reason.STATIC
    assert [client.is_enabled("ramp", u) for u in users] == before
    store.close()


def test_redis_down_at_start_serves_the_bootstrap_then_the_store(
    redis_server_factory: Callable[[], Any],
    make_client: Callable[..., FeatureFlagClient],
) -> None:
    server = redis_server_factory()
    server.stop()
    store = RedisFeatureFlagStore.from_url(server.url, prefix="boot", socket_timeout=1.0)
    bootstrap = '{"version": 3, "flags": {"beta": {"key": "beta", "enabled": true}}}'
    with_bootstrap = make_client(store, bootstrap=bootstrap, reconnect_max_delay=0.1)
    without = make_client(store, reconnect_max_delay=0.1)
    assert not with_bootstrap.ready()
    assert with_bootstrap.is_enabled("beta", USER)
    assert with_bootstrap.evaluate("gamma", USER).error_code is ErrorCode.FLAG_NOT_FOUND
    result = without.evaluate("beta", USER, default=False)
    assert (result.value, result.error_code) == (False, ErrorCode.PROVIDER_NOT_READY)

    server.start()
    admin = FeatureFlagAdmin(store)
    admin.initialize(actor="ops", reason="fresh")
    admin.create_flag(Flag(key="beta", enabled=False), actor="ops", reason="new")
    assert without.wait_ready(10)
    assert with_bootstrap.wait_ready(10)
    assert with_bootstrap._sync.wait_for(lambda s: s.healthy, timeout=10)
    assert not with_bootstrap.is_enabled("beta", USER)
    store.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_client_created_before_fork_keeps_receiving_updates_in_the_child(
    redis_store: RedisFeatureFlagStore,
    seeded_admin: FeatureFlagAdmin,
    make_client: Callable[..., FeatureFlagClient],
) -> None:
    client = make_client(redis_store, poll_interval=3600)
    assert not client.is_enabled("beta", USER)
    ready_read, ready_write = os.pipe()
    result_read, result_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no pytest machinery from here on
        code = 1
        try:
            changed = threading.Event()
            client.add_listener(lambda event: changed.set())
            os.write(ready_write, b"1")
            changed.wait(10)
            code = 0 if client.is_enabled("beta", USER) else 2
            os.write(result_write, str(code).encode())
        finally:
            os._exit(code)
    os.close(ready_write)
    os.close(result_write)
    assert os.read(ready_read, 1) == b"1"
    seeded_admin.toggle_flag("beta", True, actor="ops", reason="launch")
    outcome = os.read(result_read, 1)
    _, status = os.waitpid(pid, 0)
    os.close(ready_read)
    os.close(result_read)
    assert outcome == b"0"
    assert os.waitstatus_to_exitcode(status) == 0
