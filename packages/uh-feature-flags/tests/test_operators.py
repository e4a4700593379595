"""Operators: each one, negate, case, missing attributes, lists, kinds, regex safety."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unified_health.feature_flags import Condition, InvalidInputError
from unified_health.feature_flags._compile import compile_condition
from unified_health.feature_flags._operators import (
    MAX_MATCH_INPUT,
    parse_instant,
    parse_semver,
    regex_problem,
)
from unified_health.feature_flags._validation import parse_model
from unified_health.feature_flags.testing import condition


def holds(cond: Condition, context: dict[str, Any]) -> bool:
    return compile_condition(cond, {})(context)


@pytest.mark.parametrize(
    ("operator", "values", "attribute_value", "expected"),
    [
        ("in", ["a", "b"], "a", True),
        ("in", ["a", "b"], "c", False),
        ("in", [1, 2], 2, True),
        ("in", [1, 2], "2", False),
        ("in", [True], True, True),
        ("in", [1], True, False),
        ("not_in", ["a"], "b", True),
        ("not_in", ["a"], "a", False),
        ("starts_with", ["dr-"], "dr-house", True),
        ("starts_with", ["dr-"], "mr-house", False),
        ("ends_with", ["@clinic.org"], "a@clinic.org", True),
        ("ends_with", ["@clinic.org"], "a@clinic.org.evil", False),
        ("contains", ["cardio"], "pediatric-cardiology", True),
        ("contains", ["cardio"], "oncology", False),
        ("matches", [r"^[a-z]+@clinic\.org$"], "ann@clinic.org", True),
        ("matches", [r"^[a-z]+@clinic\.org$"], "ann@clinic.org ", False),
        ("lt", [10], 9.5, True),
        ("lt", [10], 10, False),
        ("lte", [10], 10, True),
        ("gt", [65], 70, True),
        ("gte", [65], 64, False),
        ("gt", [5], "6", False),
        ("before", ["2026-01-01T00:00:00Z"], "2025-12-31T23:59:59Z", True),
        ("after", ["2026-01-01T00:00:00Z"], "2025-12-31T23:59:59Z", False),
        ("after", ["2026-01-01T00:00:00+00:00"], datetime(2026, 2, 1, tzinfo=UTC), True),
        ("after", ["2026-01-01T00:00:00Z"], 1_800_000_000, True),
        ("semver_eq", ["2.0.0"], "2.0.0+build.7", True),
        ("semver_lt", ["2.0.0"], "2.0.0-rc.1", True),
        ("semver_lt", ["2.0.0"], "1.10.0", True),
        ("semver_gt", ["1.9.0"], "1.10.0", True),
        ("semver_gte", ["1.2.3"], "1.2.3", True),
        ("semver_lte", ["1.2"], "1.2.1", False),
        ("semver_gt", ["1.0.0"], "not-a-version", False),
    ],
)
def test_operator_semantics(
    operator: str, values: list[Any], attribute_value: Any, expected: bool
) -> None:
    assert holds(condition("attr", operator, *values), {"attr": attribute_value}) is expected


def test_a_naive_datetime_never_matches_a_date_rule() -> None:
    cond = condition("signed_up", "before", "2030-01-01T00:00:00Z")
    assert not holds(cond, {"signed_up": datetime(2020, 1, 1)})  # naive on purpose
    assert not holds(cond, {"signed_up": "2020-01-01T00:00:00"})


def test_negate_inverts_a_present_attribute_but_a_missing_one_never_matches() -> None:
    cond = condition("plan", "in", "free", negate=True)
    assert holds(cond, {"plan": "pro"})
    assert not holds(cond, {"plan": "free"})
    assert not holds(cond, {})
    assert not holds(condition("plan", "not_in", "free"), {})


def test_exists_and_its_negation() -> None:
    assert holds(condition("email", "exists"), {"email": "x"})
    assert not holds(condition("email", "exists"), {})
    assert holds(condition("email", "exists", negate=True), {})


def test_case_insensitive_string_operators() -> None:
    for op, value in [
        ("in", "ADMIN"),
        ("starts_with", "ADM"),
        ("ends_with", "MIN"),
        ("contains", "DMI"),
        ("matches", "^ADMIN$"),
    ]:
        assert holds(condition("role", op, value, case_insensitive=True), {"role": "admin"}), op
        assert not holds(condition("role", op, value), {"role": "admin"}), op


def test_list_attributes_match_when_any_element_matches() -> None:
    cond = condition("roles", "in", "nurse")
    assert holds(cond, {"roles": ["doctor", "nurse"]})
    assert not holds(cond, {"roles": ["doctor"]})
    assert holds(condition("roles", "in", "nurse", negate=True), {"roles": ["doctor"]})


def test_other_context_kinds_are_nested_mappings() -> None:
    cond = condition("region", "in", "eu", context_kind="clinic")
    assert holds(cond, {"user_id": "u1", "clinic": {"key": "c1", "region": "eu"}})
    assert not holds(cond, {"user_id": "u1", "region": "eu"})
    assert not holds(cond, {"clinic": "not-a-mapping"})
    assert holds(condition("key", "in", "c1", context_kind="clinic"), {"clinic": {"key": "c1"}})


def test_the_user_key_is_targeting_key_then_user_id_then_key() -> None:
    cond = condition("key", "in", "u1")
    assert holds(cond, {"targeting_key": "u1", "user_id": "other"})
    assert holds(cond, {"user_id": "u1"})
    assert holds(cond, {"key": "u1"})


@pytest.mark.parametrize(
    "pattern",
    [
        "(a+)+$",
        "(a*)*b",
        "(a|aa)+$",
        "(.*a){20}",
        r"(\w+\s?)+$",
        r"(a)\1",
        "([a-z]+)*@",
        # exponential: an optional item inside an unbounded repeat
        r"^(?:a?a?)*$",
        r"^(?:a?b?a?)+$",
        r"^(?:[ab]c?[ab]?)*$",
        # polynomial: unbounded repeats over overlapping characters one after the other
        r"\d*\d*\d*\d*=",
        r".*.*.*.*=",
        r"[a-z]+[a-z]+[a-z]+[a-z]+=",
        r"(?:a|b)*\s*(?:a|b)*\s*(?:a|b)*=",
        "a?" * 20 + "a" * 20,
        "(?:a|a)(?:a|a)(?:a|a)",
        r"(?=a*)a",
    ],
)
def test_patterns_that_can_backtrack_catastrophically_are_rejected(pattern: str) -> None:
    assert regex_problem(pattern) is not None
    with pytest.raises(InvalidInputError) as caught:
        parse_model(Condition, {"attribute": "x", "operator": "matches", "values": [pattern]})
    assert caught.value.field == "values.0"


@pytest.mark.parametrize(
    "pattern",
    [
        r"^[a-z0-9._-]+@clinic\.org$",
        r"^\d{3}-\d{4}$",
        "^(a|b|c)+$",
        "(?i)^dr ",
        r"^\d+(\.\d+)?$",
        r"^(?:\w\s?)*$",
        r"^(foo|bar)$",
        r"^[^@]+@[^@]+$",
        r"^https?://",
    ],
)
def test_ordinary_patterns_are_accepted(pattern: str) -> None:
    assert regex_problem(pattern) is None


def test_invalid_and_oversized_patterns_are_rejected() -> None:
    assert regex_problem("([a-z]") == "must be a valid regular expression"
    assert regex_problem("a" * 300) is not None


def test_very_long_values_never_reach_the_regex_engine() -> None:
    cond = condition("note", "matches", "a")
    assert holds(cond, {"note": "a" * MAX_MATCH_INPUT})
    assert not holds(cond, {"note": "a" * (MAX_MATCH_INPUT + 1)})


def test_semver_precedence_follows_the_specification() -> None:
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
    ]
    keys = [parse_semver(v) for v in ordered]
    assert keys == sorted(keys)  # type: ignore[type-var]
    assert parse_semver("v2") == parse_semver("2.0.0")
    assert parse_semver("01.2.3") is None


def test_instants_require_an_offset() -> None:
    assert parse_instant("2026-01-01T01:00:00+01:00") == parse_instant("2026-01-01T00:00:00Z")
    assert parse_instant("2026-01-01T00:00:00") is None
    assert parse_instant(True) is None
    tz = timezone(timedelta(hours=-5))
    assert parse_instant(datetime(2026, 1, 1, tzinfo=tz)) == parse_instant("2026-01-01T05:00Z")


_ATOMS = ["a", "b", "[ab]", r"\w", r"\s", ".", "[^a]", r"\d", "1", " "]
_QUANTIFIERS = ["", "", "*", "+", "?", "{0,3}", "{2}", "*?"]


def _patterns() -> st.SearchStrategy[str]:
    atom = st.sampled_from(_ATOMS)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        sequence = st.lists(inner, min_size=2, max_size=4).map("".join)
        branch = st.lists(inner, min_size=2, max_size=3).map(lambda bs: "(?:" + "|".join(bs) + ")")
        quantified = st.tuples(inner, st.sampled_from(_QUANTIFIERS)).map(
            lambda pair: f"(?:{pair[0]}){pair[1]}"
        )
        return sequence | branch | quantified

    anchored = st.sampled_from(["{}", "^{}", "^{}$", "{}$", "{}!"])
    return st.tuples(anchored, st.recursive(atom, extend, max_leaves=12)).map(
        lambda pair: pair[0].format(pair[1])
    )


_PROBE = """
import json, re, sys
patterns = json.loads(sys.stdin.read())
for pattern in patterns:
    compiled = re.compile(pattern, re.IGNORECASE)
    for char in "ab1 ":
        for tail in ("!", "", "a"):
            compiled.search(char * (LIMIT - len(tail)) + tail)
            compiled.search((char + "b") * (LIMIT // 2 - 1) + tail)
"""


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_patterns(), min_size=60, max_size=60))
def test_every_accepted_pattern_searches_adversarial_values_quickly(candidates: list[str]) -> None:
    accepted = [p for p in candidates if regex_problem(p) is None]
    # A child process runs every accepted pattern on values of the largest length a condition
    # lets through; a catastrophic pattern would run for minutes, a safe one takes milliseconds.
    script = _PROBE.replace("LIMIT", str(MAX_MATCH_INPUT))
    try:
        subprocess.run(
            [sys.executable, "-c", script],
            input=json.dumps(accepted),
            text=True,
            check=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:  # pragma: no cover - only on a regression
        pytest.fail(f"an accepted pattern backtracks catastrophically: one of {accepted!r}")
