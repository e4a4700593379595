"""The shared test harness does what the package suites rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from uh_testkit import LoopbackServer, RedisServerProcess
from uh_testkit._redis import delete_prefix


def _echo_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    body = json.dumps({"path": environ["PATH_INFO"], "method": environ["REQUEST_METHOD"]})
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body.encode()]


def test_loopback_server_serves_real_http(
    loopback_server: Callable[[Any], LoopbackServer],
) -> None:
    server = loopback_server(_echo_app)
    assert server.url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(f"{server.url}/ping", timeout=5) as response:
        assert json.loads(response.read()) == {"path": "/ping", "method": "GET"}


def test_delete_prefix_removes_only_that_prefix(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    mine = [f"{{{redis_prefix}}}:k{i}" for i in range(1200)]
    other = f"{{uhtest-other-{redis_prefix[::-1]}}}:kept"  # shares no substring with mine
    redis_client.mset(dict.fromkeys(mine, "1"))
    redis_client.set(other, "1")
    try:
        assert delete_prefix(redis_client, redis_prefix) == 1200
        assert redis_client.exists(*mine) == 0
        assert redis_client.exists(other) == 1
    finally:
        redis_client.delete(other)


def test_private_redis_server_stops_and_starts(
    redis_server_factory: Callable[[], RedisServerProcess],
) -> None:
    server = redis_server_factory()
    client = redis.Redis.from_url(server.url, socket_timeout=1, socket_connect_timeout=1)
    assert client.ping()
    server.stop()
    assert not server.running
    with pytest.raises(redis.ConnectionError):
        client.ping()
    server.start()
    assert client.ping()
    client.close()


PROBE_TEST = """
def test_needs_redis(redis_url):
    assert redis_url
"""


def _run_probe(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_probe.py").write_text(PROBE_TEST)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )


def _env_without_redis() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "UH_REQUIRE_REDIS"}
    env["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    return env


def test_missing_redis_skips_with_a_reason(tmp_path: Path) -> None:
    result = _run_probe(tmp_path, _env_without_redis())
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "needs Redis: REDIS_URL is set but the server does not answer PING" in result.stdout


def test_missing_redis_fails_when_required(tmp_path: Path) -> None:
    result = _run_probe(tmp_path, {**_env_without_redis(), "UH_REQUIRE_REDIS": "1"})
    assert result.returncode == 1, result.stdout
    assert "UH_REQUIRE_REDIS=1 but no Redis could be had" in result.stdout


def test_postgres_url_is_the_server_found(postgres_url: str) -> None:
    from uh_testkit import find_postgres_url

    assert find_postgres_url() == (postgres_url, "")


def test_postgres_connection_writes_into_its_own_schema(
    postgres_connection: object, postgres_schema: str
) -> None:
    import psycopg

    assert isinstance(postgres_connection, psycopg.Connection)
    postgres_connection.execute("CREATE TABLE things (id int PRIMARY KEY)")
    row = postgres_connection.execute(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = 'things'"
    ).fetchone()
    assert row == (postgres_schema,)
