"""Evaluation never raises, whatever Python value lands in any argument; models refuse bad input
with `InvalidInputError` naming the field, never the value, and never coerce."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unified_health.feature_flags import (
    Condition,
    EvaluationContext,
    EvaluationResult,
    FeatureFlagAdmin,
    FeatureFlagClient,
    Flag,
    InMemoryFeatureFlagStore,
    InvalidInputError,
    Operator,
    Prerequisite,
    Rollout,
    Rule,
    Segment,
    Target,
    WeightedVariant,
)


class _Hostile:
    """An object whose every dunder a careless evaluator might call raises."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        raise RuntimeError("bool")

    def __str__(self) -> str:
        raise RuntimeError("str")

    def __repr__(self) -> str:
        return "_Hostile()"


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.just(math.nan),
    st.just(object()),
    st.just(_Hostile()),
    st.just(datetime(2026, 1, 1, tzinfo=UTC)),
    st.just(datetime(2026, 1, 1)),
    st.sampled_from(["new-checkout", "variants", "segmented", "prereq", "u-1", "role"]),
    st.builds(EvaluationContext, targeting_key=st.text(max_size=10)),
)
anything = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.frozensets(st.integers(), max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), inner, max_size=4),
    ),
    max_leaves=12,
)
contexts = st.one_of(
    anything,
    st.dictionaries(
        st.sampled_from(["user_id", "targeting_key", "key", "role", "clinic", "email", "age"]),
        anything,
        max_size=5,
    ),
)


@pytest.fixture(scope="module")
def client() -> FeatureFlagClient:
    store = InMemoryFeatureFlagStore()
    admin = FeatureFlagAdmin(store)
    admin.create_segment(Segment(key="staff", included=["u-1"]), actor="t", reason="t")
    flags = [
        Flag(key="new-checkout", enabled=True, rollout=Rollout(percentage=50)),
        Flag(
            key="variants",
            kind="string",
            enabled=True,
            variants={"a": "A", "b": "B", "off": "O"},
            default_variant="a",
            off_variant="off",
            rollout=Rollout(
                variants=[
                    WeightedVariant(variant="a", weight=50),
                    WeightedVariant(variant="b", weight=50),
                ],
                bucket_by="email",
            ),
        ),
        Flag(
            key="segmented",
            enabled=True,
            targets=[Target(variant="on", values=["u-2"])],
            rules=[
                Rule(
                    id="r1",
                    conditions=[
                        Condition(
                            attribute="role", operator=Operator.IN, values=["nurse", 3, True]
                        ),
                        Condition(attribute="age", operator=Operator.GTE, values=[18]),
                    ],
                    variant="on",
                ),
                Rule(
                    id="r2",
                    conditions=[
                        Condition(attribute="key", operator=Operator.IN_SEGMENT, values=["staff"])
                    ],
                    variant="on",
                ),
                Rule(
                    id="r3",
                    conditions=[
                        Condition(
                            attribute="email", operator=Operator.MATCHES, values=["^a[0-9]+@x$"]
                        ),
                        Condition(
                            attribute="key",
                            operator=Operator.SEMVER_GTE,
                            values=["1.2.3"],
                            negate=True,
                        ),
                    ],
                    variant="on",
                ),
            ],
            default_variant="off",
        ),
    ]
    for flag in flags:
        admin.create_flag(flag, actor="t", reason="t")
    admin.create_flag(
        Flag(key="prereq", enabled=True, prerequisites=[Prerequisite(key="segmented")]),
        actor="t",
        reason="t",
    )
    return FeatureFlagClient(store, background=False)


_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(key=anything, context=contexts, default=anything)
def test_no_evaluation_method_raises(
    client: FeatureFlagClient, key: Any, context: Any, default: Any
) -> None:
    assert isinstance(client.is_enabled(key, context, default), bool)
    client.get_variant(key, context, default)
    client.get_value(key, context, default)
    result = client.evaluate(key, context, default)
    assert isinstance(result, EvaluationResult)
    assert isinstance(client.evaluate_all(context), dict)
    assert isinstance(client.evaluate_all(context, client_side_only=default), dict)


@_SETTINGS
@given(context=contexts, default=anything)
def test_known_flags_never_raise_for_any_context(
    client: FeatureFlagClient, context: Any, default: Any
) -> None:
    for key in ("new-checkout", "variants", "segmented", "prereq"):
        assert isinstance(client.is_enabled(key, context, default), bool)
        result = client.evaluate(key, context, default)
        assert isinstance(result, EvaluationResult)


def test_a_key_that_is_not_a_string_serves_the_default_with_an_error_code(
    client: FeatureFlagClient,
) -> None:
    assert client.is_enabled(123, {"user_id": "u"}, True) is True  # type: ignore[arg-type]
    assert client.is_enabled(None, {"user_id": "u"}) is False  # type: ignore[arg-type]
    result = client.evaluate(["x"], {"user_id": "u"}, "d")  # type: ignore[arg-type]
    assert (result.value, result.error_code) == ("d", "FLAG_NOT_FOUND")


def test_a_context_that_is_not_a_mapping_is_an_invalid_context(client: FeatureFlagClient) -> None:
    result = client.evaluate("new-checkout", ["x"], False)  # type: ignore[arg-type]
    assert (result.value, result.error_code) == (False, "INVALID_CONTEXT")


_BAD: list[tuple[type[Any], dict[str, Any], str]] = [
    (Flag, {"key": "Bad Key!"}, "key"),
    (Flag, {"key": "f", "enabled": "yes"}, "enabled"),
    (Flag, {"key": "f", "version": "3"}, "version"),
    (Rollout, {"percentage": 150}, "percentage"),
    (Rollout, {"percentage": "25"}, "percentage"),
    (WeightedVariant, {"variant": "a", "weight": "50"}, "weight"),
    (Condition, {"attribute": "a", "operator": "nope", "values": ["x"]}, "operator"),
    (Condition, {"attribute": "a", "operator": "in", "values": ["x"], "negate": 1}, "negate"),
    (Target, {"variant": "on", "values": [1]}, "values.0"),
    (Segment, {"key": "s", "included": "u-1"}, "included"),
    (Flag, {"key": "f", "created_at": 1_700_000_000}, "created_at"),
    (Flag, {"key": "f", "unknown": 1}, "unknown"),
    (EvaluationContext, {"targeting_key": 7}, "targeting_key"),
    (Flag, {"key": "f", "rollout": {"percentage": "25"}}, "rollout.percentage"),
]


@pytest.mark.parametrize(("model", "fields", "field"), _BAD)
def test_models_refuse_bad_input_naming_the_field_not_the_value(
    model: type[Any], fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        model(**fields)
    assert caught.value.field == field
    assert caught.value.__cause__ is None  # pydantic's text, which echoes the value, is dropped
    for secret in ("Bad Key!", "yes", "150", "nope", "u-1", "1700000000"):
        assert secret not in str(caught.value)


@settings(max_examples=200, deadline=None)
@given(value=anything)
def test_a_boolean_field_accepts_only_booleans(value: Any) -> None:
    if isinstance(value, bool):
        assert Flag(key="f", enabled=value).enabled is value
        return
    with pytest.raises(InvalidInputError) as caught:
        Flag(key="f", enabled=value)
    assert caught.value.field == "enabled"


@settings(max_examples=200, deadline=None)
@given(value=anything)
def test_a_percentage_accepts_only_numbers_in_range(value: Any) -> None:
    number = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    three_decimals = number and abs(value * 1000 - round(value * 1000)) < 1e-6
    if number and 0 <= value <= 100 and three_decimals:
        assert Rollout(percentage=value).percentage == value
        return
    with pytest.raises(InvalidInputError) as caught:
        Rollout(percentage=value)
    assert caught.value.field == "percentage"
