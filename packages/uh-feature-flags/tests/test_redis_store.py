"""What only the Redis store does: hash-tagged keys, client ownership, clear setup errors."""

from __future__ import annotations

import socket

import pytest
import redis

from unified_health.feature_flags import (
    InvalidInputError,
    RedisClientProtocol,
    RedisFeatureFlagStore,
    StoreUnavailableError,
)
from unified_health.feature_flags.stores._redis import hash_tagged


def test_the_prefix_is_wrapped_in_a_hash_tag_once() -> None:
    client = redis.Redis()
    assert RedisFeatureFlagStore(client).keys.meta == "{uh:ff}:v1:meta"
    assert RedisFeatureFlagStore(client, prefix="app").keys.flags == "{app}:v1:flags"
    assert RedisFeatureFlagStore(client, prefix="{t7}:app").keys.audit == "{t7}:app:v1:audit"
    assert hash_tagged("a{}b") == "{a{}b}"


def test_a_redis_client_satisfies_the_protocol() -> None:
    assert isinstance(redis.Redis(), RedisClientProtocol)


@pytest.mark.parametrize("client", ["redis://127.0.0.1:6379/0", b"redis://x", None, object()])
def test_anything_but_a_client_is_refused_by_name(client: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        RedisFeatureFlagStore(client)  # type: ignore[arg-type]
    assert caught.value.field == "client"
    assert "from_url" in caught.value.rule


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "http://example.invalid"}, "url"),
        ({"url": 6379}, "url"),
        ({"url": "redis://127.0.0.1", "socket_timeout": 0}, "socket_timeout"),
        ({"url": "redis://127.0.0.1", "socket_connect_timeout": True}, "socket_connect_timeout"),
        ({"url": "redis://127.0.0.1", "prefix": ""}, "prefix"),
        ({"url": "redis://127.0.0.1", "prefix": 7}, "prefix"),
    ],
)
def test_from_url_refuses_bad_settings_by_name(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        RedisFeatureFlagStore.from_url(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_dead_server_is_store_unavailable_not_a_driver_error() -> None:
    with RedisFeatureFlagStore.from_url(f"redis://127.0.0.1:{_dead_port()}/0") as store:
        with pytest.raises(StoreUnavailableError) as caught:
            store.read()
        assert isinstance(caught.value.__cause__, redis.ConnectionError)
        with pytest.raises(StoreUnavailableError):
            store.watch()


def test_close_leaves_an_injected_client_open(redis_client: redis.Redis, redis_prefix: str) -> None:
    with RedisFeatureFlagStore(redis_client, prefix=redis_prefix) as store:
        assert store.read() is None
    assert redis_client.ping() is True


def test_from_url_owns_its_client_and_closes_it(
    redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RedisFeatureFlagStore.from_url(redis_url, prefix=redis_prefix)
    assert store.read_version() is None
    owned = store._redis
    assert isinstance(owned, redis.Redis)
    really_close = owned.close
    closed: list[bool] = []
    monkeypatch.setattr(owned, "close", lambda: closed.append(True))
    store.close()
    assert closed == [True]
    really_close()
