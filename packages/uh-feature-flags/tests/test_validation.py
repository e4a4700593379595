"""Invalid definitions are refused with the field and the rule, and never echo the value."""

from __future__ import annotations

from typing import Any

import pytest

from unified_health.feature_flags import Flag, InvalidInputError, Segment
from unified_health.feature_flags._validation import parse_model, prerequisite_depth


def rule(conditions: list[dict[str, Any]], **serve: Any) -> dict[str, Any]:
    return {"id": "r1", "conditions": conditions, **(serve or {"variant": "on"})}


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        (
            {"rollout": {"percentage": 10, "variants": [{"variant": "on", "weight": 60}]}},
            "rollout.variants",
        ),
        (
            {"rollout": {"percentage": 10.0001}},
            "rollout.percentage",
        ),
        (
            {"rules": [rule([{"attribute": "e", "operator": "like", "values": ["a"]}])]},
            "rules.0.conditions.0.operator",
        ),
        (
            {"rules": [rule([{"attribute": "e", "operator": "matches", "values": ["(a+)+"]}])]},
            "rules.0.conditions.0.values.0",
        ),
        (
            {"rules": [rule([{"attribute": "e", "operator": "matches", "values": ["(["]}])]},
            "rules.0.conditions.0.values.0",
        ),
        (
            {"rules": [rule([{"attribute": "age", "operator": "gt", "values": ["old"]}])]},
            "rules.0.conditions.0.values.0",
        ),
        (
            {"rules": [rule([{"attribute": "d", "operator": "after", "values": ["2026-01-01"]}])]},
            "rules.0.conditions.0.values.0",
        ),
        (
            {"rules": [rule([{"attribute": "v", "operator": "semver_gt", "values": ["one"]}])]},
            "rules.0.conditions.0.values.0",
        ),
        (
            {"rules": [rule([{"attribute": "e", "operator": "in", "values": []}])]},
            "rules.0.conditions.0.values",
        ),
        ({"rules": [rule([], variant="missing")]}, "rules.0.variant"),
        ({"rules": [rule([], variant="on", rollout={"percentage": 5})]}, "rules.0.variant"),
        ({"rules": [rule([]), rule([])]}, "rules.1.id"),
        ({"variants": {"on": "yes", "off": False}}, "variants.on"),
        ({"kind": "number", "variants": {"a": True}, "default_variant": "a"}, "variants.a"),
        ({"default_variant": "nope"}, "default_variant"),
        (
            {
                "targets": [
                    {"variant": "on", "values": ["u1"]},
                    {"variant": "off", "values": ["u1"]},
                ]
            },
            "targets.1.values.0",
        ),
        ({"prerequisites": [{"key": "self"}]}, "prerequisites.0.key"),
        ({"unknown_field": 1}, "unknown_field"),
        ({"key": "has space"}, "key"),
    ],
)
def test_invalid_flags_name_the_field(definition: dict[str, Any], field: str) -> None:
    data = {"key": "self", **definition}
    with pytest.raises(InvalidInputError) as caught:
        parse_model(Flag, data)
    assert caught.value.field == field
    assert caught.value.rule


def test_errors_never_echo_the_offending_value() -> None:
    secret = "patient-jane-doe-1970"
    bad = {"key": "f", "rules": [rule([{"attribute": "n", "operator": "gt", "values": [secret]}])]}
    with pytest.raises(InvalidInputError) as caught:
        parse_model(Flag, bad)
    assert secret not in str(caught.value)
    with pytest.raises(InvalidInputError) as caught:
        parse_model(Flag, {"key": "f", "variants": {"on": secret, "off": False}})
    assert secret not in str(caught.value)


def test_json_text_with_a_newer_unknown_field_is_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_model(Flag, '{"key": "f", "enabled": true, "added_in_v9": {}}')
    assert caught.value.field == "added_in_v9"


def test_segment_rules_cannot_refer_to_segments() -> None:
    nested = {
        "key": "s",
        "rules": [{"conditions": [{"operator": "in_segment", "values": ["other"]}]}],
    }
    with pytest.raises(InvalidInputError) as caught:
        parse_model(Segment, nested)
    assert caught.value.field == "rules.0.conditions.0.operator"


def test_json_flags_accept_objects_and_arrays() -> None:
    flag = parse_model(
        Flag,
        {
            "key": "layout",
            "kind": "json",
            "variants": {"a": {"columns": 2}, "b": [1, 2]},
            "default_variant": "a",
            "off_variant": "b",
        },
    )
    assert flag.variants["a"] == {"columns": 2}


def test_prerequisite_depth_is_iterative_and_detects_cycles() -> None:
    chain = {f"f{i}": [f"f{i + 1}"] for i in range(5000)}
    assert prerequisite_depth("f0", chain) == 5000  # no RecursionError on deep data
    assert prerequisite_depth("a", {"a": ["b"], "b": ["c"], "c": ["a"]}) is None
    assert prerequisite_depth("a", {"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}) == 2


def test_flag_json_schema_is_exportable() -> None:
    schema = Flag.model_json_schema()
    assert schema["additionalProperties"] is False
    assert "rules" in schema["properties"]
