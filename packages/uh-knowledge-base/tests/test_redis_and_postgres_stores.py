"""What only the Redis and PostgreSQL stores do: keys, client ownership, pools, clear errors."""

from __future__ import annotations

import socket
import threading
from datetime import date

import psycopg
import pytest
import redis
from psycopg_pool import ConnectionPool

from unified_health.knowledge_base import (
    Article,
    ConflictError,
    InvalidInputError,
    PostgresArticleStore,
    RedisActivityStore,
    RedisArticleStore,
    RedisCache,
    StoreUnavailableError,
)


def test_the_prefix_is_wrapped_in_a_hash_tag_once() -> None:
    client = redis.Redis()
    assert RedisArticleStore(client, prefix="app").articles_key == "{app}:v1:articles"
    assert RedisArticleStore(client, prefix="{t7}:app").articles_key == "{t7}:app:v1:articles"
    assert RedisCache(client, prefix="app").cache_key("x") == "{app}:v1:cache:x"


@pytest.mark.parametrize("kind", [RedisArticleStore, RedisActivityStore, RedisCache])
@pytest.mark.parametrize("client", ["redis://127.0.0.1:6379/0", b"redis://x", None, object()])
def test_anything_but_a_client_is_refused_by_name(kind: type, client: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        kind(client)
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
        RedisArticleStore.from_url(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_dead_redis_is_store_unavailable_not_a_driver_error() -> None:
    url = f"redis://127.0.0.1:{_dead_port()}/0"
    with RedisArticleStore.from_url(url) as store, RedisActivityStore.from_url(url) as activity:
        with pytest.raises(StoreUnavailableError) as caught:
            store.get("en/a")
        assert isinstance(caught.value.__cause__, redis.ConnectionError)
        with pytest.raises(StoreUnavailableError):
            activity.add_view("en/a", date(2026, 1, 5))


def test_close_leaves_an_injected_client_open(redis_client: redis.Redis, redis_prefix: str) -> None:
    RedisArticleStore(redis_client, prefix=redis_prefix).close()
    RedisCache(redis_client, prefix=redis_prefix).close()
    assert redis_client.ping() is True


def test_views_are_one_hash_per_day(redis_client: redis.Redis, redis_prefix: str) -> None:
    activity = RedisActivityStore(redis_client, prefix=redis_prefix)
    activity.add_view("en/a", date(2026, 1, 5))
    assert redis_client.hgetall(activity.views_key(date(2026, 1, 5))) == {b"en/a": b"1"}


@pytest.mark.parametrize("connection", ["postgresql://127.0.0.1/test", None, object(), 5])
def test_postgres_store_refuses_what_is_not_a_connection(connection: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        PostgresArticleStore(connection)
    assert caught.value.field == "connection"


@pytest.mark.parametrize("prefix", ["", "Bad", "a;drop", "x" * 40, 3])
def test_postgres_table_prefix_must_be_an_identifier(prefix: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        PostgresArticleStore(psycopg.Connection, table_prefix=prefix)  # type: ignore[arg-type]
    assert caught.value.field == "table_prefix"


def _article(title: str) -> Article:
    return Article(slug="a", title=title, category="c", updated=date(2026, 1, 5))


def test_postgres_over_a_pool_has_one_winner_among_concurrent_creates(
    postgres_url: str, postgres_schema: str
) -> None:
    options = f"-c search_path={postgres_schema}"
    with ConnectionPool(
        postgres_url, min_size=1, max_size=6, kwargs={"options": options}, open=True
    ) as pool:
        store = PostgresArticleStore(pool)
        store.migrate()
        outcomes: list[str] = []
        barrier = threading.Barrier(6)

        def create(worker: int) -> None:
            barrier.wait()
            try:
                store.put(_article(f"Writer {worker}"), expected_version=0)
                outcomes.append("won")
            except ConflictError:
                outcomes.append("lost")

        threads = [threading.Thread(target=create, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["lost"] * 5 + ["won"]
        record = store.get("en/a")
        assert record is not None
        assert record.version == 1


def test_postgres_works_in_the_hosts_open_transaction(
    postgres_url: str, postgres_schema: str
) -> None:
    with psycopg.connect(postgres_url, options=f"-c search_path={postgres_schema}") as conn:
        store = PostgresArticleStore(conn)
        store.migrate()
        store.put(_article("Kept"))
        conn.commit()
        with pytest.raises(ConflictError):
            store.put(_article("Lost"), expected_version=0)
        record = store.get("en/a")
        assert record is not None
        assert record.article.title == "Kept"


def test_a_lost_postgres_connection_is_store_unavailable(postgres_url: str) -> None:
    connection = psycopg.connect(postgres_url, autocommit=True)
    store = PostgresArticleStore(connection)
    connection.close()
    with pytest.raises(StoreUnavailableError) as caught:
        store.get("en/a")
    assert isinstance(caught.value.__cause__, psycopg.OperationalError)
