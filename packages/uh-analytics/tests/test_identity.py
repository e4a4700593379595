"""Pseudonymous identities: HMAC with rotation, surrogate ids from a store."""

from __future__ import annotations

import pytest
import redis

from unified_health.analytics import (
    HmacPseudonymizer,
    InvalidInputError,
    RedisSurrogateIdStore,
    SurrogatePseudonymizer,
)


def test_hmac_is_deterministic_keyed_and_kind_separated() -> None:
    a = HmacPseudonymizer({"k1": b"a" * 32})
    b = HmacPseudonymizer({"k1": b"b" * 32})
    assert a.pseudonymize("user-1") == a.pseudonymize("user-1")
    assert a.pseudonymize("user-1") != b.pseudonymize("user-1")
    assert a.pseudonymize("user-1") != a.pseudonymize("user-1", "device")
    assert a.pseudonymize("user-1").startswith("k1_")
    assert len(a.pseudonymize("user-1")) == 35


def test_rotation_keeps_old_ids_derivable() -> None:
    old = HmacPseudonymizer({"k1": b"a" * 32})
    rotated = HmacPseudonymizer({"k1": b"a" * 32, "k2": b"c" * 32}, active="k2")
    assert rotated.active_key_id == "k2"
    assert rotated.pseudonymize("user-1").startswith("k2_")
    assert rotated.previous_ids("user-1") == [old.pseudonymize("user-1")]


@pytest.mark.parametrize(
    ("keys", "active"),
    [({}, None), ({"K1": b"a" * 32}, None), ({"k1": b"short"}, None), ({"k1": b"a" * 32}, "k9")],
)
def test_bad_keys_fail_at_construction(keys: dict[str, bytes], active: str | None) -> None:
    with pytest.raises(InvalidInputError):
        HmacPseudonymizer(keys, active=active)


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYS_FOR_TEST", "k1:0123456789abcdef0123,k2:fedcba9876543210fedc")
    assert HmacPseudonymizer.from_env("KEYS_FOR_TEST").active_key_id == "k2"
    monkeypatch.setenv("KEYS_FOR_TEST", "no-colon-secret")
    with pytest.raises(InvalidInputError) as err:
        HmacPseudonymizer.from_env("KEYS_FOR_TEST")
    assert "no-colon-secret" not in str(err.value)


def test_surrogates_are_random_but_stable() -> None:
    p = SurrogatePseudonymizer(seed=1)
    q = SurrogatePseudonymizer(seed=2)
    assert p.pseudonymize("u") == p.pseudonymize("u")
    assert p.pseudonymize("u") != q.pseudonymize("u")
    assert p.pseudonymize("u").startswith("s_")


@pytest.mark.redis
def test_surrogates_are_shared_through_redis(redis_client: redis.Redis, redis_prefix: str) -> None:
    store = RedisSurrogateIdStore(redis_client, prefix="{" + redis_prefix + "}")
    one = SurrogatePseudonymizer(store, seed=1)
    two = SurrogatePseudonymizer(store, seed=2)
    assert one.pseudonymize("user-1") == two.pseudonymize("user-1")
