"""One contract suite per store Protocol, run against the in-memory and the Redis implementation."""

from __future__ import annotations

import pytest

from unified_health.analytics import (
    InMemoryConsentStore,
    InMemorySpillStore,
    InMemorySurrogateIdStore,
    RedisConsentStore,
    RedisSpillStore,
    RedisSurrogateIdStore,
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
