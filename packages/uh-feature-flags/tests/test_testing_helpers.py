"""The public test helpers build valid flags and give a client that sees writes at once."""

from __future__ import annotations

from unified_health.feature_flags import Reason
from unified_health.feature_flags.testing import (
    FakeClock,
    FeatureFlagTestEnv,
    condition,
    flag,
    segment,
)


def test_the_builder_covers_every_flag_feature() -> None:
    built = (
        flag("checkout", kind="string")
        .variants(control="grey", blue="blue")
        .default("control")
        .off("control")
        .target("blue", "vip-1")
        .rule("staff", condition("email", "ends_with", "@clinic.org"), variant="blue")
        .rule("pilot", condition("key", "in_segment", "pilot"), percentage=50)
        .requires("billing-v2")
        .rollout(10, variants={"blue": 100})
        .with_fields(owner="team-a", salt="s1")
        .build()
    )
    assert [r.id for r in built.rules] == ["staff", "pilot"]
    assert built.prerequisites[0].variants == ["on"]
    assert built.owner == "team-a"


def test_the_env_applies_writes_immediately_and_updates_in_place() -> None:
    with FeatureFlagTestEnv(segment("pilot", included=["u1"]), flag("a").disabled()) as env:
        assert not env.client.is_enabled("a", {"user_id": "u1"})
        env.set(
            flag("a").rule("p", condition("key", "in_segment", "pilot"), variant="on").rollout(0)
        )
        result = env.client.evaluate("a", {"user_id": "u1"})
        assert (result.value, result.reason) == (True, Reason.TARGETING_MATCH)
        env.set(segment("pilot", included=["u2"]))
        assert not env.client.is_enabled("a", {"user_id": "u1"})
        env.remove("a")
        assert env.client.evaluate("a").error_code is not None


def test_the_fake_clock_only_moves_when_told() -> None:
    clock = FakeClock()
    start = clock.now()
    clock.sleep(3)
    assert (clock.now() - start).total_seconds() == 3
