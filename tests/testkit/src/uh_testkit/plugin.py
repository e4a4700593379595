"""The pytest plugin: Redis and loopback HTTP fixtures for every package's tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from uh_testkit._http import LoopbackServer, WSGIApp
from uh_testkit._postgres import find_postgres_url, require_postgres
from uh_testkit._redis import RedisServerProcess, delete_prefix, find_redis_url, require_redis


def _unavailable(reason: str) -> None:
    if require_redis():
        pytest.fail(f"UH_REQUIRE_REDIS=1 but no Redis could be had: {reason}", pytrace=False)
    pytest.skip(f"needs Redis: {reason}")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a real Redis server for this test session."""
    url, process, reason = find_redis_url()
    if url is None:
        _unavailable(reason)
        raise AssertionError("unreachable")  # pragma: no cover
    try:
        yield url
    finally:
        if process is not None:
            process.close()


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix private to this test; every key containing it is deleted afterwards."""
    prefix = f"uhtest-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        delete_prefix(client, prefix)
    finally:
        client.close()


@pytest.fixture
def redis_client(redis_url: str, redis_prefix: str) -> Iterator[redis.Redis]:
    """A ``redis.Redis`` client (bytes responses) on the session's server."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def redis_server_factory() -> Iterator[Callable[[], RedisServerProcess]]:
    """Start private ``redis-server`` processes a test can stop and start; all closed after."""
    started: list[RedisServerProcess] = []

    def factory() -> RedisServerProcess:
        try:
            process = RedisServerProcess()
        except FileNotFoundError as exc:
            _unavailable(str(exc))
            raise
        process.start()
        started.append(process)
        return process

    yield factory
    for process in started:
        process.close()


@pytest.fixture
def loopback_server() -> Iterator[Callable[[WSGIApp], LoopbackServer]]:
    """Serve WSGI apps on 127.0.0.1 at free ports; every server is stopped after the test."""
    servers: list[LoopbackServer] = []

    def serve(app: WSGIApp) -> LoopbackServer:
        server = LoopbackServer(app)
        servers.append(server)
        return server

    yield serve
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of a real PostgreSQL server (``DATABASE_URL``, else 127.0.0.1:5432, database test).

    Skips with the reason when none answers, except under ``UH_REQUIRE_POSTGRES=1`` (CI).
    """
    url, reason = find_postgres_url()
    if url is None:
        if require_postgres():
            pytest.fail(f"UH_REQUIRE_POSTGRES=1 but no PostgreSQL: {reason}", pytrace=False)
        pytest.skip(f"needs PostgreSQL: {reason}")
    return url


@pytest.fixture
def postgres_schema(postgres_url: str) -> Iterator[str]:
    """A schema private to this test, dropped (with everything in it) afterwards."""
    import psycopg

    schema = f"uhtest_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def postgres_connection(postgres_url: str, postgres_schema: str) -> Iterator[Any]:
    """A ``psycopg.Connection`` (autocommit) whose ``search_path`` is the test's own schema."""
    import psycopg

    with psycopg.connect(
        postgres_url, autocommit=True, options=f"-c search_path={postgres_schema}"
    ) as connection:
        yield connection
