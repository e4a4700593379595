"""``from_url`` and ``from_env``: named keyword arguments, the environment, ownership."""

from __future__ import annotations

import inspect
import socket
from typing import Any

import pytest

from unified_health.feature_flags import (
    ErrorCode,
    FeatureFlagAdmin,
    FeatureFlagClient,
    Flag,
    InMemoryFeatureFlagStore,
    InvalidInputError,
    RedisFeatureFlagStore,
)
from unified_health.feature_flags.testing import FakeClock


@pytest.mark.parametrize("cls", [FeatureFlagClient, FeatureFlagAdmin])
@pytest.mark.parametrize("factory", ["from_url", "from_env"])
def test_factories_name_their_keyword_arguments(cls: type[Any], factory: str) -> None:
    parameters = inspect.signature(getattr(cls, factory)).parameters.values()
    assert all(p.kind is not inspect.Parameter.VAR_KEYWORD for p in parameters)
    init = set(inspect.signature(cls.__init__).parameters) - {"self", "store"}
    assert init <= {p.name for p in parameters}


@pytest.mark.parametrize("cls", [FeatureFlagClient, FeatureFlagAdmin])
@pytest.mark.parametrize("environ", [{}, {"UH_FEATURE_FLAGS_REDIS_URL": ""}])
def test_from_env_needs_the_redis_url(cls: type[Any], environ: dict[str, str]) -> None:
    with pytest.raises(InvalidInputError) as caught:
        cls.from_env(environ=environ)
    assert (caught.value.field, caught.value.rule) == ("UH_FEATURE_FLAGS_REDIS_URL", "must be set")


def test_from_env_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UH_FEATURE_FLAGS_REDIS_URL", raising=False)
    with pytest.raises(InvalidInputError):
        FeatureFlagClient.from_env()


@pytest.mark.parametrize("cls", [FeatureFlagClient, FeatureFlagAdmin])
def test_from_url_refuses_a_bad_url_by_name(cls: type[Any]) -> None:
    with pytest.raises(InvalidInputError) as caught:
        cls.from_url("http://example.invalid")
    assert caught.value.field == "url"


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


def test_a_client_on_a_dead_server_serves_defaults() -> None:
    with FeatureFlagClient.from_url(_dead_url(), background=False) as flags:
        assert flags.is_enabled("beta", default=True) is True
        result = flags.evaluate("beta", default=False)
        assert result.error_code is ErrorCode.PROVIDER_NOT_READY


@pytest.mark.redis
def test_admin_and_client_from_env_share_the_prefix(redis_url: str, redis_prefix: str) -> None:
    env = {"UH_FEATURE_FLAGS_REDIS_URL": redis_url, "UH_FEATURE_FLAGS_PREFIX": redis_prefix}
    clock = FakeClock()
    with FeatureFlagAdmin.from_env(environ=env, clock=clock, max_attempts=2) as admin:
        admin.initialize(actor="ops", reason="fresh keyspace")
        admin.create_flag(Flag(key="beta", enabled=True), actor="ops", reason="launch")
        assert admin.audit_log()[-1].at == clock.now()
    with FeatureFlagClient.from_env(environ=env, clock=clock, background=False) as flags:
        assert flags.is_enabled("beta") is True
    with FeatureFlagClient.from_url(redis_url, prefix="other", background=False) as flags:
        assert flags.is_enabled("beta") is False


@pytest.mark.redis
def test_factories_close_the_store_they_made(
    redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[str] = []
    monkeypatch.setattr(RedisFeatureFlagStore, "close", lambda self: closed.append("store"))
    FeatureFlagAdmin.from_url(redis_url, prefix=redis_prefix).close()
    FeatureFlagClient.from_url(redis_url, prefix=redis_prefix, background=False).close()
    assert closed == ["store", "store"]


def test_an_injected_store_stays_open() -> None:
    class Store(InMemoryFeatureFlagStore):
        closed = False

        def close(self) -> None:
            self.closed = True

    store = Store()
    with FeatureFlagAdmin(store) as admin:
        assert admin.list_flags() == []
    with FeatureFlagClient(store, background=False):
        pass
    assert store.closed is False


def test_a_failing_construction_closes_the_store_it_made(monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[str] = []
    monkeypatch.setattr(RedisFeatureFlagStore, "close", lambda self: closed.append("store"))
    with pytest.raises(InvalidInputError):
        FeatureFlagClient.from_url(_dead_url(), bootstrap="{not json", background=False)
    assert closed == ["store"]
