"""Evaluation: every flag kind, rules, segments, prerequisites, reasons and error isolation."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from unified_health.feature_flags import (
    ErrorCode,
    EvaluationContext,
    FeatureFlagClient,
    InMemoryFeatureFlagStore,
    Reason,
)
from unified_health.feature_flags.stores import Commit, Write
from unified_health.feature_flags.testing import (
    FeatureFlagTestEnv,
    capture_logs,
    condition,
    flag,
    segment,
)


@pytest.fixture
def env() -> Iterator[FeatureFlagTestEnv]:
    with FeatureFlagTestEnv() as environment:
        yield environment


def test_a_plain_boolean_flag_is_static(env: FeatureFlagTestEnv) -> None:
    env.set(flag("beta"))
    result = env.client.evaluate("beta", {"user_id": "u1"})
    assert (result.value, result.variant, result.reason) == (True, "on", Reason.STATIC)
    assert env.client.is_enabled("beta")


def test_a_disabled_flag_serves_its_off_variant(env: FeatureFlagTestEnv) -> None:
    env.set(flag("beta").disabled())
    result = env.client.evaluate("beta", {"user_id": "u1"})
    assert (result.value, result.reason) == (False, Reason.DISABLED)
    assert env.client.is_enabled("beta", {"user_id": "u1"}, default=True) is False


def test_individual_targets_win_over_rules_and_rollout(env: FeatureFlagTestEnv) -> None:
    env.set(
        flag("beta")
        .target("off", "vip-1")
        .target("on", "clinic-7", context_kind="clinic")
        .rule("everyone", condition("plan", "exists"), variant="on")
        .rollout(0)
    )
    assert env.client.evaluate("beta", {"user_id": "vip-1", "plan": "x"}).value is False
    result = env.client.evaluate("beta", {"user_id": "u2", "clinic": {"key": "clinic-7"}})
    assert (result.value, result.reason) == (True, Reason.TARGETING_MATCH)
    assert env.client.evaluate("beta", {"user_id": "u3", "plan": "x"}).rule_id == "everyone"
    assert env.client.evaluate("beta", {"user_id": "u4"}).reason is Reason.DEFAULT


def test_rules_are_tried_in_order_and_report_their_id(env: FeatureFlagTestEnv) -> None:
    env.set(
        flag("tier", kind="string")
        .variants(basic="basic", staff="staff", eu="eu")
        .default("basic")
        .off("basic")
        .rule("staff", condition("email", "ends_with", "@clinic.org"), variant="staff")
        .rule(
            "eu-clinics",
            condition("region", "in", "eu", context_kind="clinic"),
            condition("role", "in", "doctor"),
            variant="eu",
        )
    )
    both = {"user_id": "u1", "email": "a@clinic.org", "role": "doctor", "clinic": {"region": "eu"}}
    assert env.client.evaluate("tier", both).rule_id == "staff"
    doctor = {"user_id": "u1", "role": "doctor", "clinic": {"region": "eu"}}
    result = env.client.evaluate("tier", doctor)
    assert (result.value, result.reason, result.rule_id) == (
        "eu",
        Reason.TARGETING_MATCH,
        "eu-clinics",
    )
    assert env.client.evaluate("tier", {"user_id": "u1", "role": "doctor"}).value == "basic"


def test_a_rule_rollout_that_does_not_cover_falls_through_to_the_next_rule(
    env: FeatureFlagTestEnv,
) -> None:
    env.set(
        flag("beta")
        .rule("nobody-yet", condition("plan", "in", "pro"), percentage=0)
        .rule("pros", condition("plan", "in", "pro"), variant="off")
    )
    result = env.client.evaluate("beta", {"user_id": "u1", "plan": "pro"})
    assert (result.value, result.rule_id) == (False, "pros")


def test_a_fallthrough_rollout_splits_and_serves_off_outside_coverage(
    env: FeatureFlagTestEnv,
) -> None:
    env.set(flag("ramp").rollout(50))
    reasons = {env.client.evaluate("ramp", {"user_id": f"u{i}"}).reason for i in range(200)}
    assert reasons == {Reason.SPLIT, Reason.DEFAULT}
    for i in range(200):
        result = env.client.evaluate("ramp", {"user_id": f"u{i}"})
        assert result.value is (result.reason is Reason.SPLIT)


def test_weighted_variants_serve_string_number_and_json_values(env: FeatureFlagTestEnv) -> None:
    env.set(
        flag("button", kind="string")
        .variants(control="grey", a="blue", b="green")
        .default("control")
        .off("control")
        .rollout(100, variants={"a": 50, "b": 50}),
        flag("limit", kind="number").variants(low=5, high=50.5).default("low").off("low"),
        flag("layout", kind="json").variants(one={"cols": 1}, two=[1, 2]).default("two").off("one"),
    )
    seen = {env.client.get_variant("button", {"user_id": f"u{i}"}) for i in range(100)}
    assert seen == {"a", "b"}
    assert env.client.get_value("button", {"user_id": "u1"}, "grey") in {"blue", "green"}
    assert env.client.get_value("limit", {"user_id": "u1"}, 0) == 5
    assert env.client.get_value("limit", {"user_id": "u1"}, 0.0) == 5
    assert env.client.get_value("layout", None, {}) == [1, 2]


def test_wrong_type_returns_the_default_and_logs_once_per_flag(env: FeatureFlagTestEnv) -> None:
    env.set(flag("label", kind="string").variants(on="x", off="y"))
    with capture_logs() as logs:
        assert env.client.is_enabled("label", {"user_id": "u1"}, default=True) is True
        assert env.client.get_value("label", {"user_id": "u1"}, 3) == 3
        result = env.client.evaluate("label", {"user_id": "u1"}, default=False)
    assert (result.value, result.error_code) == (False, ErrorCode.TYPE_MISMATCH)
    warnings = [e for e in logs if e["event"] == "default_served"]
    assert len(warnings) == 1
    assert warnings[0]["flag_key"] == "label"


def test_an_unknown_flag_returns_the_default_and_logs_once(env: FeatureFlagTestEnv) -> None:
    with capture_logs() as logs:
        for _ in range(100):
            assert env.client.is_enabled("nope", {"user_id": "u1"}, default=True) is True
    result = env.client.evaluate("nope", default="x")
    assert (result.value, result.reason, result.error_code) == (
        "x",
        Reason.ERROR,
        ErrorCode.FLAG_NOT_FOUND,
    )
    assert [e["event"] for e in logs] == ["default_served"]


def test_a_missing_bucket_key_yields_the_default_with_a_reason(env: FeatureFlagTestEnv) -> None:
    env.set(flag("ramp").rollout(50), flag("full").rollout(100))
    result = env.client.evaluate("ramp", {"email": "a@b.org"}, default=False)
    assert (result.value, result.error_code) == (False, ErrorCode.TARGETING_KEY_MISSING)
    assert env.client.is_enabled("ramp", {}, default=True) is True
    # A split whose outcome cannot depend on the key does not need one.
    assert env.client.evaluate("full", {}).reason is Reason.SPLIT


def test_a_rule_rollout_without_a_bucket_key_falls_through_to_the_next_rule(
    env: FeatureFlagTestEnv,
) -> None:
    env.set(
        flag("ramp")
        .rule("by-clinic", condition("plan", "in", "pro"), percentage=50, context_kind="clinic")
        .rule("pro", condition("plan", "in", "pro"), variant="on")
        .with_fields(default_variant="off"),
        flag("ramp-default")
        .rule("by-clinic", condition("plan", "in", "pro"), percentage=50, context_kind="clinic")
        .with_fields(default_variant="off"),
    )
    result = env.client.evaluate("ramp", {"user_id": "u1", "plan": "pro"})
    assert (result.value, result.rule_id, result.error_code) == (True, "pro", None)
    result = env.client.evaluate("ramp-default", {"user_id": "u1", "plan": "pro"})
    assert (result.value, result.reason, result.error_code) == (False, Reason.DEFAULT, None)


def test_bucketing_by_another_attribute_or_kind(env: FeatureFlagTestEnv) -> None:
    env.set(flag("per-clinic").rollout(50, context_kind="clinic"))
    values = {
        env.client.is_enabled("per-clinic", {"user_id": f"u{i}", "clinic": {"key": "c1"}})
        for i in range(50)
    }
    assert len(values) == 1  # every user of one clinic gets the same answer


def test_segments_include_exclude_and_match_rules(env: FeatureFlagTestEnv) -> None:
    env.set(
        segment(
            "pilot",
            included=["u-in"],
            excluded=["u-out"],
            rules=[[condition("email", "ends_with", "@pilot.org")]],
        ),
        flag("beta")
        .default("off")
        .rule("pilot", condition("key", "in_segment", "pilot"), variant="on"),
        flag("not-pilot")
        .default("off")
        .rule("rest", condition("key", "not_in_segment", "pilot"), variant="on"),
    )
    assert env.client.is_enabled("beta", {"user_id": "u-in"})
    assert not env.client.is_enabled("beta", {"user_id": "u-out", "email": "x@pilot.org"})
    assert env.client.is_enabled("beta", {"user_id": "u-9", "email": "x@pilot.org"})
    assert not env.client.is_enabled("beta", {"user_id": "u-9"})
    assert env.client.is_enabled("not-pilot", {"user_id": "u-9"})


def test_prerequisites_gate_a_flag(env: FeatureFlagTestEnv) -> None:
    env.set(flag("billing-v2").disabled(), flag("invoices-v2").requires("billing-v2"))
    result = env.client.evaluate("invoices-v2", {"user_id": "u1"})
    assert (result.value, result.reason) == (False, Reason.PREREQUISITE_FAILED)
    env.set(flag("billing-v2"))
    assert env.client.evaluate("invoices-v2", {"user_id": "u1"}).value is True


def _write_raw(store: InMemoryFeatureFlagStore, **flags: str) -> None:
    state = store.read()
    assert state is not None
    writes = tuple(Write("flags", key, raw) for key, raw in flags.items())
    store.commit(Commit(base_epoch=state.epoch, base_version=state.version, writes=writes))


def test_corrupt_or_foreign_documents_affect_only_their_flag() -> None:
    store = InMemoryFeatureFlagStore()
    good = flag("good").build().model_dump_json()
    newer = json.dumps({"key": "newer", "enabled": True, "field_from_v9": 1})
    operator = json.dumps(
        {
            "key": "op",
            "enabled": True,
            "rules": [{"id": "r", "variant": "on", "conditions": [{"operator": "geo_near"}]}],
        }
    )
    _write_raw(store, good=good, broken="{not json", newer=newer, op=operator, other=good)
    with FeatureFlagClient(store, background=False) as client:
        assert client.is_enabled("good", {"user_id": "u1"})
        for key in ("broken", "newer", "op", "other"):
            result = client.evaluate(key, {"user_id": "u1"}, default=False)
            assert (result.value, result.error_code) == (False, ErrorCode.PARSE_ERROR), key


def test_stored_prerequisite_cycles_are_an_error_reason_not_a_crash() -> None:
    store = InMemoryFeatureFlagStore()
    cycle = {
        "a": json.dumps({"key": "a", "enabled": True, "prerequisites": [{"key": "b"}]}),
        "b": json.dumps({"key": "b", "enabled": True, "prerequisites": [{"key": "a"}]}),
    }
    chain = {
        f"c{i}": json.dumps(
            {"key": f"c{i}", "enabled": True, "prerequisites": [{"key": f"c{i + 1}"}]}
        )
        for i in range(50)
    }
    _write_raw(store, **cycle, **chain, c50=flag("c50").build().model_dump_json())
    with FeatureFlagClient(store, background=False) as client:
        for key in ("a", "b", "c0"):
            result = client.evaluate(key, {"user_id": "u1"}, default=False)
            assert (result.reason, result.error_code) == (Reason.ERROR, ErrorCode.GENERAL), key
        assert client.is_enabled("c45", {"user_id": "u1"})


def test_the_kill_switch_turns_every_flag_off(env: FeatureFlagTestEnv) -> None:
    env.set(flag("a"), flag("b").rollout(100))
    env.admin.set_kill_switch(True, actor="oncall", reason="incident 7")
    env.client.refresh()
    for key in ("a", "b"):
        result = env.client.evaluate(key, {"user_id": "u1"})
        assert (result.value, result.reason, result.rule_id) == (
            False,
            Reason.DISABLED,
            "kill_switch",
        )
    env.admin.set_kill_switch(False, actor="oncall", reason="resolved")
    env.client.refresh()
    assert env.client.is_enabled("a", {"user_id": "u1"})


def test_archived_flags_are_not_served(env: FeatureFlagTestEnv) -> None:
    env.set(flag("old"))
    env.admin.archive_flag("old", actor="ops", reason="cleanup")
    env.client.refresh()
    assert env.client.evaluate("old", default=True).error_code is ErrorCode.FLAG_NOT_FOUND


def test_evaluate_all_and_client_side_only(env: FeatureFlagTestEnv) -> None:
    env.set(flag("server"), flag("browser").with_fields(client_side=True), flag("off").disabled())
    everything = env.client.evaluate_all({"user_id": "u1"})
    assert sorted(everything) == ["browser", "off", "server"]
    assert everything["off"].value is False
    assert list(env.client.evaluate_all({"user_id": "u1"}, client_side_only=True)) == ["browser"]


def test_evaluation_context_objects_and_invalid_contexts(env: FeatureFlagTestEnv) -> None:
    env.set(
        flag("staff")
        .default("off")
        .rule("s", condition("email", "ends_with", "@c.org"), variant="on")
    )
    typed = EvaluationContext(targeting_key="u1", attributes={"email": "a@c.org"})
    assert env.client.is_enabled("staff", typed)  # type: ignore[arg-type]
    result = env.client.evaluate("staff", ["not", "a", "mapping"], default=False)  # type: ignore[arg-type]
    assert result.error_code is ErrorCode.INVALID_CONTEXT


def test_context_values_never_reach_the_logs(env: FeatureFlagTestEnv) -> None:
    env.set(flag("ramp").rollout(50), flag("label", kind="string").variants(on="a", off="b"))
    patient = {"user_id": "mrn-000123", "email": "jane.doe@example.org", "dob": "1970-01-01"}
    with capture_logs() as logs:
        env.client.evaluate("label", patient, default=True)
        env.client.evaluate("missing", patient)
        env.client.evaluate("ramp", {"email": patient["email"]})
    text = repr(logs)
    assert logs
    for value in patient.values():
        assert value not in text


def test_evaluation_results_are_frozen_and_shared(env: FeatureFlagTestEnv) -> None:
    env.set(flag("beta"))
    first = env.client.evaluate("beta", {"user_id": "u1"})
    assert first is env.client.evaluate("beta", {"user_id": "u2"})
    with pytest.raises(ValueError, match="frozen"):
        first.value = False  # type: ignore[misc]
