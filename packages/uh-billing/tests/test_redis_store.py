"""What only the Redis store does: hash-tagged keys, client ownership, clear setup errors."""

from __future__ import annotations

import socket

import pytest
import redis

from unified_health.billing import (
    InvalidInputError,
    RedisReconciliationStore,
    StoreUnavailableError,
)


def test_the_prefix_is_wrapped_in_a_hash_tag_once() -> None:
    client = redis.Redis()
    assert RedisReconciliationStore(client, prefix="app").runs_key == "{app}:v1:runs"
    assert RedisReconciliationStore(client, prefix="{t7}:app").runs_key == "{t7}:app:v1:runs"


@pytest.mark.parametrize("client", ["redis://127.0.0.1:6379/0", b"redis://x", None, object()])
def test_anything_but_a_client_is_refused_by_name(client: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        RedisReconciliationStore(client)  # type: ignore[arg-type]
    assert caught.value.field == "client"
    assert "from_url" in caught.value.rule


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "http://example.invalid"}, "url"),
        ({"url": 6379}, "url"),
        ({"url": "redis://127.0.0.1", "socket_timeout": 0}, "socket_timeout"),
        ({"url": "redis://127.0.0.1", "prefix": ""}, "prefix"),
    ],
)
def test_from_url_refuses_bad_settings_by_name(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        RedisReconciliationStore.from_url(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_dead_server_is_store_unavailable_not_a_driver_error() -> None:
    store = RedisReconciliationStore.from_url(f"redis://127.0.0.1:{_dead_port()}/0")
    with pytest.raises(StoreUnavailableError) as caught:
        store.get_run("r-1")
    assert isinstance(caught.value.__cause__, redis.ConnectionError)
    store.close()


def test_close_leaves_an_injected_client_open(redis_client: redis.Redis, redis_prefix: str) -> None:
    RedisReconciliationStore(redis_client, prefix=redis_prefix).close()
    assert redis_client.ping() is True


def test_postgres_store_without_tables_says_migrate(postgres_connection: object) -> None:
    from unified_health.billing import PostgresReconciliationStore

    store = PostgresReconciliationStore(postgres_connection)
    with pytest.raises(StoreUnavailableError, match="migrate"):
        store.get_run("r-1")


def test_postgres_from_url_dead_server_is_store_unavailable() -> None:
    from unified_health.billing import PostgresReconciliationStore

    with pytest.raises(StoreUnavailableError):
        PostgresReconciliationStore.from_url(
            f"postgresql://postgres@127.0.0.1:{_dead_port()}/test", connect_timeout=1
        )
