"""What only the Redis stores do: hash-tagged keys, client ownership, clear setup errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from unified_health.analytics import (
    InvalidInputError,
    RedisClientProtocol,
    RedisConsentStore,
    RedisSpillStore,
    RedisSurrogateIdStore,
    StoreUnavailableError,
)


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
