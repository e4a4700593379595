"""Finding or starting a real Redis server for tests; never a mock."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

import redis


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


class RedisServerProcess:
    """A private ``redis-server`` on a free port that a test may stop and start again.

    It keeps nothing on disk. ``stop()`` kills the process; ``start()`` brings it back on the
    same port (empty), which is how outage and reconnection tests are made real.
    """

    def __init__(self, executable: str | None = None) -> None:
        found = executable or shutil.which("redis-server")
        if found is None:
            raise FileNotFoundError("redis-server is not on PATH")
        self.executable = found
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.mkdtemp(prefix="uh-redis-")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        if self.running:
            return
        self._process = subprocess.Popen(
            [
                self.executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _answers(self.url):
                return
            if self._process.poll() is not None:
                break
            time.sleep(0.02)  # waiting for a real process to listen, not for test time
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        """Kill the server (as an outage would) and wait for it to exit."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None

    def close(self) -> None:
        """Stop the server and remove its folder."""
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


def find_redis_url() -> tuple[str | None, RedisServerProcess | None, str]:
    """Return ``(url, started_process, reason)`` for a Redis server tests can use.

    Order: ``REDIS_URL``; else 127.0.0.1:6379; else a ``redis-server`` started on a free port.
    ``url`` is ``None`` when none can be had, with ``reason`` saying why.
    """
    env_url = os.environ.get("REDIS_URL")
    if env_url:
        if _answers(env_url):
            return env_url, None, ""
        return None, None, "REDIS_URL is set but the server does not answer PING"
    default = "redis://127.0.0.1:6379/0"
    if _answers(default):
        return default, None, ""
    if shutil.which("redis-server") is None:
        return None, None, "no Redis on 127.0.0.1:6379 and no redis-server on PATH"
    process = RedisServerProcess()
    try:
        process.start()
    except RuntimeError as exc:
        process.close()
        return None, None, str(exc)
    return process.url, process, ""


def require_redis() -> bool:
    """Whether a missing Redis must fail the run instead of skipping (``UH_REQUIRE_REDIS=1``)."""
    return os.environ.get("UH_REQUIRE_REDIS", "") not in {"", "0", "false", "no"}


def delete_prefix(client: redis.Redis, prefix: str) -> int:
    """Delete every key containing ``prefix`` (SCAN, never KEYS); return how many were deleted."""
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=f"*{prefix}*", count=500):
        batch.append(key)
        if len(batch) >= 500:
            deleted += int(client.delete(*batch))
            batch.clear()
    if batch:
        deleted += int(client.delete(*batch))
    return deleted


__all__ = ["RedisServerProcess", "delete_prefix", "find_redis_url", "require_redis"]
