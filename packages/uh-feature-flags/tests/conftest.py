"""Shared fixtures: a store per implementation (the contract suite runs on both), fake clocks."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx
import pytest

from unified_health.feature_flags import (
    FeatureFlagAdmin,
    FeatureFlagStore,
    InMemoryFeatureFlagStore,
    RedisFeatureFlagStore,
    StoreUnavailableError,
)
from unified_health.feature_flags.stores import ChangeFeed, Commit, StoreState
from unified_health.feature_flags.testing import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[FeatureFlagStore]:
    """An initialised, empty store of each implementation."""
    if request.param == "memory":
        yield InMemoryFeatureFlagStore()
        return
    redis_client = request.getfixturevalue("redis_client")
    prefix = request.getfixturevalue("redis_prefix")
    redis_store = RedisFeatureFlagStore(redis_client, prefix=prefix)
    FeatureFlagAdmin(redis_store, clock=clock).initialize(actor="test", reason="fresh keyspace")
    yield redis_store
    redis_store.close()


@pytest.fixture
def admin(store: FeatureFlagStore, clock: FakeClock) -> FeatureFlagAdmin:
    return FeatureFlagAdmin(store, clock=clock)


class FlakyStore:
    """Wraps a store; while ``down`` every call fails as an unreachable backend would."""

    def __init__(self, inner: InMemoryFeatureFlagStore | None = None) -> None:
        self.inner = inner if inner is not None else InMemoryFeatureFlagStore()
        self.down = False
        self.reads = 0

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailableError("store is down")

    def read(self) -> StoreState | None:
        self._check()
        self.reads += 1
        return self.inner.read()

    def read_version(self) -> tuple[str, int] | None:
        self._check()
        return self.inner.read_version()

    def commit(self, commit: Commit) -> int:
        self._check()
        return self.inner.commit(commit)

    def audit_records(self) -> list[str]:
        self._check()
        return self.inner.audit_records()

    def watch(self) -> ChangeFeed:
        self._check()
        return self.inner.watch()

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def flaky() -> FlakyStore:
    return FlakyStore()


Served = Callable[..., AbstractContextManager[httpx.Client]]


@contextmanager
def _serve(app: Any, path: str = "") -> Iterator[httpx.Client]:
    """Serve ``app`` with uvicorn on a free 127.0.0.1 port; yield an HTTP client for ``path``."""
    uvicorn = pytest.importorskip("uvicorn")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="error", lifespan="off", ws="none", http="h11")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.005)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}{path}", timeout=10) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def served() -> Served:
    """``served(app, path="")``: a context manager serving an ASGI app over real HTTP."""
    return _serve
