"""Compile validated flags into plain closures that evaluate without pydantic, locks or copies.

Every result a flag can produce (variant x reason x rule) is built once, here, as a frozen
`EvaluationResult`; evaluation only selects one. Error outcomes carry ``value=None`` and an error
code, and the client substitutes the caller's default.

A rollout needs a value to bucket by (the context kind's key, or ``bucket_by``). When a rule's
rollout finds none, the rule does not apply and evaluation falls through to the next rule and
then to the flag's default (as LaunchDarkly does); only the flag-level rollout, which has nothing
to fall through to, answers ``TARGETING_KEY_MISSING``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from unified_health.feature_flags._bucketing import (
    bucket_prefix,
    bucket_value,
    buckets_after,
    percentage_units,
    pick_variant,
)
from unified_health.feature_flags._models import (
    Condition,
    ErrorCode,
    EvaluationResult,
    Flag,
    Reason,
    Rollout,
    Segment,
)
from unified_health.feature_flags._operators import (
    SEGMENT_OPERATORS,
    Matcher,
    attribute_getter,
    key_getter,
    value_test,
)

__all__ = [
    "Evaluator",
    "compile_condition",
    "compile_flag",
    "compile_segment",
    "constant",
    "error_result",
]

Evaluator = Callable[[Mapping[str, Any]], EvaluationResult]
_Split = Callable[[Mapping[str, Any]], EvaluationResult | None]


def error_result(key: str, code: ErrorCode, message: str) -> EvaluationResult:
    """Build an error outcome (the client replaces ``value`` with the caller's default).

    Args:
        key: The flag key.
        code: The OpenFeature error code.
        message: What went wrong, without context values.

    Returns:
        A result with reason ``ERROR``.

    Examples:
        >>> error_result("f", ErrorCode.FLAG_NOT_FOUND, "flag not found").reason
        <Reason.ERROR: 'ERROR'>
    """
    return EvaluationResult(
        flag_key=key, value=None, reason=Reason.ERROR, error_code=code, error_message=message
    )


def constant(result: EvaluationResult) -> Evaluator:
    """Return an evaluator that always produces ``result``.

    Args:
        result: The precomputed result.

    Returns:
        The evaluator.

    Examples:
        >>> result = error_result("f", ErrorCode.GENERAL, "failed")
        >>> constant(result)({}) is result
        True
    """

    def evaluate(ctx: Mapping[str, Any]) -> EvaluationResult:
        return result

    return evaluate


def _never(ctx: Mapping[str, Any]) -> bool:
    return False


def compile_condition(condition: Condition, segments: Mapping[str, Matcher]) -> Matcher:
    """Compile one condition into a predicate over a context.

    Args:
        condition: A validated condition.
        segments: Compiled segment membership tests by key (unknown keys never match).

    Returns:
        The predicate.

    Examples:
        >>> rule = Condition(attribute="plan", operator="in", values=["pro"])
        >>> compile_condition(rule, {})({"plan": "pro"})
        True
    """
    op = condition.operator.value
    if op in SEGMENT_OPERATORS:
        members = tuple(segments.get(str(v), _never) for v in condition.values)
        seg_negate = condition.negate != (op == "not_in_segment")

        def in_segment(ctx: Mapping[str, Any]) -> bool:
            return any(member(ctx) for member in members) != seg_negate

        return in_segment
    getter = attribute_getter(condition.attribute, condition.context_kind)
    if op == "exists":
        exists_negate = condition.negate

        def exists(ctx: Mapping[str, Any]) -> bool:
            return (getter(ctx) is not None) != exists_negate

        return exists
    test = value_test(op, list(condition.values), case_insensitive=condition.case_insensitive)
    negate = condition.negate != (op == "not_in")
    if condition.context_kind == "user" and condition.attribute != "key":
        attribute = condition.attribute

        def match_top(ctx: Mapping[str, Any]) -> bool:
            value = ctx.get(attribute)
            if value is None:
                return False
            if value.__class__ is list or value.__class__ is tuple:
                return any(test(item) for item in value) != negate
            return test(value) != negate

        return match_top

    def match(ctx: Mapping[str, Any]) -> bool:
        value = getter(ctx)
        if value is None:
            return False
        if value.__class__ is list or value.__class__ is tuple:
            return any(test(item) for item in value) != negate
        return test(value) != negate

    return match


def compile_segment(segment: Segment) -> Matcher:
    """Compile a segment into a membership test.

    Args:
        segment: A validated segment.

    Returns:
        A predicate: excluded keys out, included keys in, else any matching rule.

    Examples:
        >>> staff = compile_segment(Segment(key="staff", included=["u1"]))
        >>> staff({"user_id": "u1"}), staff({"user_id": "u2"})
        (True, False)
    """
    getter = key_getter(segment.context_kind)
    included = frozenset(segment.included)
    excluded = frozenset(segment.excluded)
    rules = tuple(
        tuple(compile_condition(c, {}) for c in rule_.conditions) for rule_ in segment.rules
    )

    def member(ctx: Mapping[str, Any]) -> bool:
        key = bucket_value(getter(ctx))
        if key is not None:
            if key in excluded:
                return False
            if key in included:
                return True
        return any(all(m(ctx) for m in conditions) for conditions in rules)

    return member


class _Results:
    """Builds and interns every result one flag can produce."""

    def __init__(self, flag: Flag) -> None:
        self.flag = flag
        self.metadata: dict[str, str | int | float | bool] = {"version": flag.version}
        self._cache: dict[tuple[str, Reason, str | None], EvaluationResult] = {}

    def get(self, variant: str, reason: Reason, rule_id: str | None = None) -> EvaluationResult:
        cache_key = (variant, reason, rule_id)
        found = self._cache.get(cache_key)
        if found is None:
            found = EvaluationResult(
                flag_key=self.flag.key,
                value=self.flag.variants[variant],
                variant=variant,
                reason=reason,
                rule_id=rule_id,
                flag_metadata=self.metadata,
            )
            self._cache[cache_key] = found
        return found


def _split(
    flag: Flag,
    rollout: Rollout,
    results: _Results,
    reason_rule: str | None,
    uncovered: EvaluationResult | None,
    *,
    missing: EvaluationResult | None,
) -> _Split:
    names = [w.variant for w in rollout.variants] or [flag.default_variant]
    units = [percentage_units(w.weight) for w in rollout.variants] or [100_000]
    chosen = tuple(results.get(name, Reason.SPLIT, reason_rule) for name in names)
    cumulative = tuple(sum(units[: i + 1]) for i in range(len(units)))
    coverage = percentage_units(rollout.percentage)
    if coverage <= 0:
        return lambda ctx: uncovered
    live = [i for i, u in enumerate(units) if u > 0]
    if coverage >= 100_000 and len(live) == 1:
        only = chosen[live[0]]
        return lambda ctx: only
    getter = key_getter(rollout.context_kind)
    if rollout.bucket_by != "key":
        getter = attribute_getter(rollout.bucket_by, rollout.context_kind)
    prefix = bucket_prefix(flag.key, flag.salt)

    def split(ctx: Mapping[str, Any]) -> EvaluationResult | None:
        raw = getter(ctx)
        value = raw if raw.__class__ is str else bucket_value(raw)
        if value is None:
            return missing
        cover, pick = buckets_after(prefix, value)
        if cover >= coverage:
            return uncovered
        return chosen[pick_variant(pick, cumulative)]

    return split


def compile_flag(
    flag: Flag,
    *,
    prerequisites: Mapping[str, Evaluator],
    segments: Mapping[str, Matcher],
    kill_switch: bool,
) -> Evaluator:
    """Compile one flag into an evaluator.

    Args:
        flag: A validated flag.
        prerequisites: Evaluators of the flags it requires (absent ones count as failed).
        segments: Compiled segments by key.
        kill_switch: When true, every flag serves its off variant.

    Returns:
        A function from a context mapping to a precomputed `EvaluationResult`.

    Examples:
        >>> evaluate = compile_flag(
        ...     Flag(key="f", enabled=True), prerequisites={}, segments={}, kill_switch=False
        ... )
        >>> evaluate({}).value
        True
    """
    results = _Results(flag)
    if kill_switch:
        return constant(results.get(flag.off_variant, Reason.DISABLED, "kill_switch"))
    if not flag.enabled:
        return constant(results.get(flag.off_variant, Reason.DISABLED))
    failed = results.get(flag.off_variant, Reason.PREREQUISITE_FAILED)
    missing_prerequisite = constant(failed)
    prereqs = tuple(
        (prerequisites.get(p.key, missing_prerequisite), frozenset(p.variants))
        for p in flag.prerequisites
    )
    targets = _targets(flag, results)
    rules = tuple(
        (
            tuple(compile_condition(c, segments) for c in rule_.conditions),
            results.get(rule_.variant, Reason.TARGETING_MATCH, rule_.id) if rule_.variant else None,
            _split(flag, rule_.rollout, results, rule_.id, None, missing=None)
            if rule_.rollout
            else None,
        )
        for rule_ in flag.rules
    )
    dynamic = bool(prereqs or targets or rules)
    fallthrough: _Split
    if flag.rollout is not None:
        uncovered = results.get(flag.off_variant, Reason.DEFAULT)
        missing = error_result(
            flag.key, ErrorCode.TARGETING_KEY_MISSING, "the context has no value to bucket by"
        )
        fallthrough = _split(flag, flag.rollout, results, None, uncovered, missing=missing)
    else:
        reason = Reason.DEFAULT if dynamic else Reason.STATIC
        fallthrough = constant(results.get(flag.default_variant, reason))
    if not dynamic:
        return fallthrough  # type: ignore[return-value]  # a fallthrough never yields None

    def evaluate(ctx: Mapping[str, Any]) -> EvaluationResult:
        for prerequisite, allowed in prereqs:
            if prerequisite(ctx).variant not in allowed:
                return failed
        for getter, table in targets:
            key = getter(ctx)
            if key is not None:
                found = table.get(key if key.__class__ is str else bucket_value(key))
                if found is not None:
                    return found
        for conditions, fixed, split in rules:
            for condition in conditions:
                if not condition(ctx):
                    break
            else:
                if fixed is not None:
                    return fixed
                if split is not None:
                    result = split(ctx)
                    if result is not None:
                        return result
        return fallthrough(ctx)  # type: ignore[return-value]

    return evaluate


def _targets(
    flag: Flag, results: _Results
) -> tuple[tuple[Callable[[Mapping[str, Any]], Any], dict[str | None, EvaluationResult]], ...]:
    by_kind: dict[str, dict[str | None, EvaluationResult]] = {}
    for target in flag.targets:
        table = by_kind.setdefault(target.context_kind, {})
        result = results.get(target.variant, Reason.TARGETING_MATCH)
        for key in target.values:
            table[key] = result
    return tuple((key_getter(kind), table) for kind, table in by_kind.items())
