"""Bucketing is a cross-runtime contract: known answers pin it, properties keep it monotonic."""

from __future__ import annotations

import hashlib
import math

from hypothesis import given
from hypothesis import strategies as st

from unified_health.feature_flags._bucketing import (
    BUCKETS,
    bucket_input,
    bucket_value,
    buckets,
    percentage_units,
    pick_variant,
)
from unified_health.feature_flags.testing import FeatureFlagTestEnv, flag


def test_known_answers_pin_the_algorithm() -> None:
    # Any change to these numbers breaks every other runtime that implements the contract.
    assert buckets("new-checkout", "", "user-123") == (16766, 46961)
    assert buckets("f", "s", "u") == (94712, 83190)
    assert buckets("checkout", "s1", "42") == (25816, 22631)
    assert buckets("a.b", "", "c") != buckets("a", "", "b.c")
    assert bucket_input("new-checkout", "", "user-123") == bytes.fromhex(
        "756866662d6275636b65742d7632"  # b"uhff-bucket-v2"
        "00000000"  # salt: 0 bytes
        "0000000c" "6e65772d636865636b6f7574"  # flag key: 12 bytes
        "00000008" "757365722d313233"  # user key: 8 bytes
    )  # fmt: skip


def test_buckets_follow_the_documented_formula() -> None:
    def part(text: str) -> bytes:
        data = text.encode("utf-8")
        return len(data).to_bytes(4, "big") + data

    layout = b"uhff-bucket-v2" + part("salt") + part("flag-key") + part("\u00e9l\u00e8ve-9")
    assert bucket_input("flag-key", "salt", "\u00e9l\u00e8ve-9") == layout
    digest = hashlib.sha1(layout, usedforsecurity=False).digest()
    high = int.from_bytes(digest[:8], "big")
    low = int.from_bytes(digest[8:16], "big")
    assert buckets("flag-key", "salt", "\u00e9l\u00e8ve-9") == (
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


def test_flags_whose_keys_and_users_concatenate_alike_are_independent() -> None:
    # Under a "salt.flag.user" join, flag "a.b" with user "c-i" and flag "a" with user "b.c-i"
    # hashed the same bytes: they agreed for every user. Independent 50 % flags agree for about
    # half the users; the tolerance is six standard deviations of Binomial(n, 1/2).
    n = 20_000
    tolerance = 6 * math.sqrt(n * 0.5 * 0.5)
    with FeatureFlagTestEnv(flag("a.b").rollout(50), flag("a").rollout(50)) as env:
        agree = sum(
            env.client.is_enabled("a.b", {"user_id": f"c-{i}"})
            == env.client.is_enabled("a", {"user_id": f"b.c-{i}"})
            for i in range(n)
        )
    assert abs(agree - n / 2) < tolerance


@given(
    triples=st.lists(
        st.tuples(st.text(max_size=6), st.text(min_size=1, max_size=6), st.text(max_size=6)),
        min_size=2,
        max_size=20,
        unique=True,
    )
)
def test_different_triples_never_share_a_hash_input(triples: list[tuple[str, str, str]]) -> None:
    inputs = {bucket_input(key, salt, user) for salt, key, user in triples}
    assert len(inputs) == len(triples)


@given(
    users=st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=40, unique=True),
    low=st.integers(min_value=0, max_value=100),
    high=st.integers(min_value=0, max_value=100),
)
def test_raising_the_percentage_only_adds_users(users: list[str], low: int, high: int) -> None:
    low, high = sorted((low, high))
    with FeatureFlagTestEnv(flag("ramp").rollout(low)) as env:
        before = {u for u in users if env.client.is_enabled("ramp", {"user_id": u})}
        env.set(flag("ramp").rollout(high))
        after = {u for u in users if env.client.is_enabled("ramp", {"user_id": u})}
    assert before <= after


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
