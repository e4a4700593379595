"""Bucketing is a cross-runtime contract: known answers pin it, properties keep it monotonic."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from unified_health.feature_flags._bucketing import (
    BUCKETS,
    bucket_value,
    buckets,
    percentage_units,
    pick_variant,
)
from unified_health.feature_flags.testing import FeatureFlagTestEnv, flag


def test_known_answers_pin_the_algorithm() -> None:
    # Any change to these numbers breaks every other runtime that implements the contract.
    assert buckets("new-checkout", "", "user-123") == (90211, 2819)
    assert buckets("f", "s", "u") == (10010, 86491)
    assert buckets("checkout", "s1", "42") == (93727, 22767)


def test_buckets_follow_the_documented_formula() -> None:
    digest = hashlib.sha1(b"salt.flag-key.user-9", usedforsecurity=False).digest()
    high = int.from_bytes(digest[:8], "big")
    low = int.from_bytes(digest[8:16], "big")
    assert buckets("flag-key", "salt", "user-9") == (
        high * BUCKETS >> 64,
        low * BUCKETS >> 64,
    )


def test_bucket_values_are_strings_or_integers_only() -> None:
    assert bucket_value("abc") == "abc"
    assert bucket_value(12) == "12"
    assert bucket_value(True) is None
    assert bucket_value(1.5) is None
    assert bucket_value(None) is None
    assert bucket_value(["a"]) is None


def test_integer_and_string_keys_land_in_the_same_bucket() -> None:
    with FeatureFlagTestEnv(flag("ramp").rollout(50)) as env:
        for number in range(200):
            assert env.client.is_enabled("ramp", {"user_id": number}) == env.client.is_enabled(
                "ramp", {"user_id": str(number)}
            )


def test_percentages_resolve_to_thousandths() -> None:
    assert percentage_units(0) == 0
    assert percentage_units(0.001) == 1
    assert percentage_units(25) == 25_000
    assert percentage_units(100) == BUCKETS


def test_pick_variant_walks_cumulative_bounds() -> None:
    bounds = (10_000, 60_000, 100_000)
    assert pick_variant(0, bounds) == 0
    assert pick_variant(9_999, bounds) == 0
    assert pick_variant(10_000, bounds) == 1
    assert pick_variant(99_999, bounds) == 2


def test_a_quarter_rollout_covers_about_a_quarter() -> None:
    with FeatureFlagTestEnv(flag("ramp").rollout(25)) as env:
        on = sum(env.client.is_enabled("ramp", {"user_id": f"user-{i}"}) for i in range(20_000))
    assert 4_600 < on < 5_400


def test_salt_reshuffles_who_is_in() -> None:
    users = [f"user-{i}" for i in range(2_000)]
    with FeatureFlagTestEnv(flag("a").rollout(50), flag("b").rollout(50)) as env:
        first = [env.client.is_enabled("a", {"user_id": u}) for u in users]
        env.set(flag("a").rollout(50).with_fields(salt="rerun-2"))
        second = [env.client.is_enabled("a", {"user_id": u}) for u in users]
        other = [env.client.is_enabled("b", {"user_id": u}) for u in users]
    assert first != second
    assert first != other  # the flag key is part of the hash: flags are independent


@given(
    user=st.text(min_size=1, max_size=40),
    low=st.integers(min_value=0, max_value=100_000),
    high=st.integers(min_value=0, max_value=100_000),
)
def test_raising_the_percentage_only_adds_users(user: str, low: int, high: int) -> None:
    low, high = sorted((low, high))
    cover, _ = buckets("ramp", "", user)
    in_low = cover < low
    in_high = cover < high
    assert not in_low or in_high


@given(
    users=st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=30, unique=True),
    first=st.integers(min_value=1, max_value=100),
    second=st.integers(min_value=1, max_value=100),
)
def test_changing_coverage_never_moves_a_user_between_variants(
    users: list[str], first: int, second: int
) -> None:
    weights = {"blue": 30, "green": 30, "red": 40}
    builder = (
        flag("colour", kind="string")
        .variants(none="none", blue="blue", green="green", red="red")
        .default("none")
        .off("none")
    )
    with FeatureFlagTestEnv(builder.rollout(first, variants=weights)) as env:
        before = {u: env.client.get_variant("colour", {"user_id": u}) for u in users}
        env.set(builder.rollout(second, variants=weights))
        after = {u: env.client.get_variant("colour", {"user_id": u}) for u in users}
    for user in users:
        if before[user] != "none" and after[user] != "none":
            assert before[user] == after[user]
        if second >= first and before[user] != "none":
            assert after[user] == before[user]


@given(user=st.text(max_size=50), key=st.text(min_size=1, max_size=20), salt=st.text(max_size=10))
def test_buckets_are_in_range_and_deterministic(user: str, key: str, salt: str) -> None:
    result = buckets(key, salt, user)
    assert result == buckets(key, salt, user)
    assert all(0 <= b < BUCKETS for b in result)
