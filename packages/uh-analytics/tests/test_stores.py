"""One contract suite per store Protocol, run against the in-memory and the Redis implementation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from unified_health.analytics import (
    InMemoryConsentStore,
    InMemorySpillStore,
    InMemorySurrogateIdStore,
    InvalidInputError,
    RedisClientProtocol,
    RedisConsentStore,
    RedisSpillStore,
    RedisSurrogateIdStore,
    StoreUnavailableError,
)
from unified_health.analytics.stores import ConsentStore, SpillStore, SurrogateIdStore


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def prefix(backend: str, request: pytest.FixtureRequest) -> str:
    if backend == "memory":
        return ""
    return "{" + str(request.getfixturevalue("redis_prefix")) + "}"


@pytest.fixture
def consent_store(backend: str, prefix: str, request: pytest.FixtureRequest) -> ConsentStore:
    if backend == "memory":
        return InMemoryConsentStore()
    return RedisConsentStore(request.getfixturevalue("redis_client"), prefix=prefix)


@pytest.fixture
def surrogate_store(backend: str, prefix: str, request: pytest.FixtureRequest) -> SurrogateIdStore:
    if backend == "memory":
        return InMemorySurrogateIdStore()
    return RedisSurrogateIdStore(request.getfixturevalue("redis_client"), prefix=prefix)


@pytest.fixture
def spill_store(backend: str, prefix: str, request: pytest.FixtureRequest) -> SpillStore:
    if backend == "memory":
        return InMemorySpillStore()
    return RedisSpillStore(request.getfixturevalue("redis_client"), prefix=prefix)


def test_consent_round_trip(consent_store: ConsentStore) -> None:
    assert consent_store.get_consent("user-1") is None
    consent_store.set_consent("user-1", ["analytics", "essential"])
    assert consent_store.get_consent("user-1") == frozenset({"analytics", "essential"})
    consent_store.set_consent("user-1", ["essential"])
    assert consent_store.get_consent("user-1") == frozenset({"essential"})


def test_consent_bulk_lookup_leaves_out_unknown_users(consent_store: ConsentStore) -> None:
    consent_store.set_consent("a", ["analytics"])
    consent_store.set_consent("b", [])
    assert consent_store.get_consents(["a", "b", "c", "a"]) == {"a": {"analytics"}, "b": set()}
    assert consent_store.get_consents([]) == {}


def test_consent_delete_is_idempotent(consent_store: ConsentStore) -> None:
    consent_store.set_consent("a", ["analytics"])
    consent_store.delete_consent("a")
    consent_store.delete_consent("a")
    assert consent_store.get_consent("a") is None


def test_surrogate_first_writer_wins(surrogate_store: SurrogateIdStore) -> None:
    first = surrogate_store.get_or_create("user", "u-1", "s_first")
    assert first == "s_first"
    assert surrogate_store.get_or_create("user", "u-1", "s_second") == "s_first"
    assert surrogate_store.get_or_create("device", "u-1", "s_third") == "s_third"


def test_surrogate_get_creates_nothing(surrogate_store: SurrogateIdStore) -> None:
    assert surrogate_store.get("user", "u-9") is None
    assert surrogate_store.get("user", "u-9") is None
    assert surrogate_store.get_or_create("user", "u-9", "s_1") == "s_1"
    assert surrogate_store.get("user", "u-9") == "s_1"
    assert surrogate_store.get("device", "u-9") is None


def test_spill_is_fifo_per_lane(spill_store: SpillStore) -> None:
    spill_store.push("posthog", [b"1", b"2", b"3"])
    spill_store.push("mixpanel", [b"x"])
    assert spill_store.size("posthog") == 3
    assert spill_store.pop("posthog", 2) == [b"1", b"2"]
    assert spill_store.pop("posthog", 10) == [b"3"]
    assert spill_store.pop("posthog", 10) == []
    assert spill_store.size("mixpanel") == 1


def test_spill_remove_if_keeps_the_order_of_the_rest(spill_store: SpillStore) -> None:
    spill_store.push("posthog", [b"1", b"x", b"2", b"x", b"3"])
    spill_store.push("mixpanel", [b"x"])
    assert spill_store.remove_if("posthog", lambda raw: raw == b"x") == 2
    assert spill_store.remove_if("posthog", lambda raw: raw == b"x") == 0
    assert spill_store.remove_if("amplitude", lambda raw: True) == 0
    assert spill_store.pop("posthog", 10) == [b"1", b"2", b"3"]
    assert spill_store.size("mixpanel") == 1


@pytest.mark.redis
def test_redis_keys_hold_no_raw_user_id(redis_client: redis.Redis, redis_prefix: str) -> None:
    prefix = "{" + redis_prefix + "}"
    RedisConsentStore(redis_client, prefix=prefix).set_consent("jane.doe-77", ["analytics"])
    RedisSurrogateIdStore(redis_client, prefix=prefix).get_or_create("user", "jane.doe-77", "s_1")
    keys = [k.decode() for k in redis_client.scan_iter(match=f"{prefix}*")]
    assert len(keys) == 2
    assert all(":v1:" in k and "jane" not in k for k in keys)


@pytest.mark.redis
def test_redis_outage_raises_store_unavailable(
    redis_server_factory: Callable[..., object],
) -> None:
    server = redis_server_factory()
    client = redis.Redis.from_url(server.url, socket_timeout=0.5)  # type: ignore[attr-defined]
    store = RedisConsentStore(client, prefix="{t}")
    store.set_consent("u", ["analytics"])
    server.stop()  # type: ignore[attr-defined]
    with pytest.raises(StoreUnavailableError) as err:
        store.get_consent("u")
    assert isinstance(err.value.__cause__, redis.RedisError)
    client.close()


STORES = [RedisConsentStore, RedisSurrogateIdStore, RedisSpillStore]


@pytest.mark.parametrize("store_class", STORES)
def test_the_prefix_is_wrapped_in_a_hash_tag_once(store_class: type[RedisConsentStore]) -> None:
    client = redis.Redis()
    assert store_class(client).prefix == "{uh:analytics}"
    assert store_class(client, prefix="app").prefix == "{app}"
    assert store_class(client, prefix="{uh:analytics}").prefix == "{uh:analytics}"
    assert store_class(client, prefix="{t7}:app").prefix == "{t7}:app"


@pytest.mark.redis
def test_a_braced_prefix_keeps_the_keys_where_they_were(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    braced = RedisConsentStore(redis_client, prefix="{" + redis_prefix + "}")
    braced.set_consent("user-1", ["analytics"])
    plain = RedisConsentStore(redis_client, prefix=redis_prefix)
    assert plain.get_consent("user-1") == frozenset({"analytics"})


@pytest.mark.parametrize("store_class", STORES)
@pytest.mark.parametrize("client", ["redis://127.0.0.1:6379/0", b"redis://x", None, object()])
def test_anything_but_a_client_is_refused_by_name(
    store_class: type[RedisConsentStore], client: object
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        store_class(client)  # type: ignore[arg-type]
    assert caught.value.field == "client"
    assert f"{store_class.__name__}.from_url(url)" in caught.value.rule


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "http://example.invalid"}, "url"),
        ({"url": 6379}, "url"),
        ({"url": "redis://127.0.0.1", "socket_timeout": 0}, "socket_timeout"),
        ({"url": "redis://127.0.0.1", "socket_connect_timeout": True}, "socket_connect_timeout"),
        ({"url": "redis://127.0.0.1", "prefix": ""}, "prefix"),
    ],
)
def test_from_url_refuses_bad_settings_by_name(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        RedisSpillStore.from_url(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


@pytest.mark.redis
def test_from_url_owns_its_client_and_closes_it(
    redis_url: str, redis_client: redis.Redis, redis_prefix: str
) -> None:
    def connected() -> int:
        return sum(c.get("name") == redis_prefix for c in redis_client.client_list())

    url = f"{redis_url}{'&' if '?' in redis_url else '?'}client_name={redis_prefix}"
    with RedisConsentStore.from_url(url, prefix=redis_prefix) as store:
        store.set_consent("user-1", ["analytics"])
        assert store.get_consent("user-1") == frozenset({"analytics"})
        assert connected() == 1
    assert connected() == 0


@pytest.mark.redis
def test_close_leaves_an_injected_client_open(redis_client: redis.Redis, redis_prefix: str) -> None:
    with RedisSpillStore(redis_client, prefix=redis_prefix) as spill:
        spill.push("posthog", [b"1"])
    assert redis_client.ping() is True


def test_redis_py_satisfies_the_client_protocol() -> None:
    assert isinstance(redis.Redis(), RedisClientProtocol)
