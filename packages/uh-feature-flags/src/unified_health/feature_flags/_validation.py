"""Semantic checks on flag and segment definitions, raising `InvalidInputError(field, rule)`.

Checks local to one definition run inside the models' validators. Checks across definitions
(prerequisites exist and form no cycle, segments exist) run in `check_references` before the
admin API writes anything. Messages name fields, rules and keys, never attribute values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from unified_health.feature_flags._errors import InvalidInputError
from unified_health.feature_flags._operators import (
    SEGMENT_OPERATORS,
    parse_instant,
    parse_semver,
    regex_problem,
)

if TYPE_CHECKING:
    from unified_health.feature_flags._models import Condition, Flag, Rollout, Segment

__all__ = [
    "KEY_RE",
    "MAX_PREREQUISITE_DEPTH",
    "check_condition",
    "check_flag",
    "check_references",
    "check_rollout",
    "check_segment",
    "check_state",
    "definition_problems",
    "invalid_input",
    "parse_model",
    "prerequisite_depth",
    "prerequisite_depths",
]

MAX_PREREQUISITE_DEPTH = 10
"""The longest prerequisite chain a flag may have (flag -> prerequisite -> ... )."""

KEY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
"""Flag, segment, rule and variant keys (the models' ``KEY_PATTERN``)."""
_KEY = KEY_RE
_STRING_OPS = frozenset({"starts_with", "ends_with", "contains", "matches"})
_NUMBER_OPS = frozenset({"lt", "lte", "gt", "gte"})
_DATE_OPS = frozenset({"before", "after"})

M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], data: Any) -> M:
    """Validate ``data`` into ``model``, turning pydantic's errors into `InvalidInputError`.

    Args:
        model: The pydantic model class.
        data: A mapping, a JSON string, or an instance (re-validated).

    Returns:
        The validated model.

    Raises:
        InvalidInputError: Naming the first offending field and the rule it broke.

    Examples:
        >>> from unified_health.feature_flags import Flag
        >>> parse_model(Flag, '{"key": "beta"}').key
        'beta'
    """
    try:
        if isinstance(data, str | bytes):
            return model.model_validate_json(data)
        if isinstance(data, BaseModel):
            data = data.model_dump(mode="json")
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc) from None


def invalid_input(exc: ValidationError) -> InvalidInputError:
    """Turn pydantic's first error into an `InvalidInputError` naming the field and rule only.

    Pydantic's message may hold the value, so callers raise the result ``from None``.

    Args:
        exc: The validation error.

    Returns:
        The error to raise.

    Examples:
        >>> from unified_health.feature_flags import Flag
        >>> try:
        ...     Flag.model_validate({"key": "Bad Key!"})
        ... except ValidationError as exc:
        ...     print(invalid_input(exc).field)
        key
    """
    error = exc.errors(include_url=False, include_input=False)[0]
    path = ".".join(str(part) for part in error["loc"])
    inner = (error.get("ctx") or {}).get("error")
    if isinstance(inner, InvalidInputError):
        field = f"{path}.{inner.field}" if path else inner.field
        return InvalidInputError(field, inner.rule)
    rule = str(error["msg"])
    if error["type"] == "extra_forbidden":
        rule = "unknown field"
    return InvalidInputError(path or "$", rule)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _units(value: float) -> int | None:
    units = value * 1000
    return round(units) if abs(units - round(units)) < 1e-6 else None


def check_condition(condition: Condition) -> None:
    """Check that a condition's values suit its operator.

    Args:
        condition: The condition to check.

    Raises:
        InvalidInputError: When a value does not suit the operator.

    Examples:
        >>> from unified_health.feature_flags import Condition
        >>> check_condition(Condition(attribute="plan", operator="in", values=["pro"])) is None
        True
    """
    op = condition.operator.value
    values = condition.values
    if op == "exists":
        if values:
            raise InvalidInputError("values", "must be empty for the exists operator")
        return
    if not values:
        raise InvalidInputError("values", "must not be empty")
    for index, value in enumerate(values):
        field = f"values.{index}"
        if op in SEGMENT_OPERATORS:
            if not isinstance(value, str) or not _KEY.fullmatch(value):
                raise InvalidInputError(field, "must be a segment key")
        elif op in ("in", "not_in"):
            if not (isinstance(value, str | bool) or _is_number(value)):
                raise InvalidInputError(field, "must be a string, number or boolean")
        elif op in _STRING_OPS:
            if not isinstance(value, str):
                raise InvalidInputError(field, "must be a string")
            if op == "matches":
                problem = regex_problem(value)
                if problem is not None:
                    raise InvalidInputError(field, problem)
        elif op in _NUMBER_OPS:
            if not _is_number(value):
                raise InvalidInputError(field, "must be a number")
        elif op in _DATE_OPS:
            if isinstance(value, int | float) or parse_instant(value) is None:
                raise InvalidInputError(field, "must be an ISO-8601 date-time with a UTC offset")
        elif parse_semver(value) is None:
            raise InvalidInputError(field, "must be a semantic version")


def check_rollout(rollout: Rollout) -> None:
    """Check percentages and weights: three decimals at most, weights summing to 100.

    Args:
        rollout: The rollout to check.

    Raises:
        InvalidInputError: When a percentage or weight is malformed.

    Examples:
        >>> from unified_health.feature_flags import Rollout
        >>> check_rollout(Rollout(percentage=12.5)) is None
        True
    """
    if _units(rollout.percentage) is None:
        raise InvalidInputError("percentage", "must have at most three decimals")
    seen: set[str] = set()
    total = 0
    for index, weighted in enumerate(rollout.variants):
        units = _units(weighted.weight)
        if units is None:
            raise InvalidInputError(f"variants.{index}.weight", "must have at most three decimals")
        if weighted.variant in seen:
            raise InvalidInputError(f"variants.{index}.variant", "must not repeat a variant")
        seen.add(weighted.variant)
        total += units
    if rollout.variants and total != 100_000:
        raise InvalidInputError("variants", "weights must sum to 100")


_KIND_CHECKS: dict[str, tuple[Any, str]] = {
    "boolean": (lambda v: isinstance(v, bool), "must be a boolean for a boolean flag"),
    "string": (lambda v: isinstance(v, str), "must be a string for a string flag"),
    "number": (_is_number, "must be a number for a number flag"),
    "json": (lambda v: isinstance(v, dict | list), "must be a JSON object or array"),
}


def check_flag(flag: Flag) -> None:
    """Check a flag on its own: variant names, value types, references to its own variants.

    Args:
        flag: The flag to check.

    Raises:
        InvalidInputError: Naming the first offending field.

    Examples:
        >>> from unified_health.feature_flags import Flag
        >>> check_flag(Flag(key="beta")) is None
        True
    """
    test, rule = _KIND_CHECKS[flag.kind]
    for name, value in flag.variants.items():
        if not _KEY.fullmatch(name):
            raise InvalidInputError(
                "variants", "variant names must be keys (letters, digits, ._:-)"
            )
        if not test(value):
            raise InvalidInputError(f"variants.{name}", rule)
    variants = flag.variants
    for field in ("default_variant", "off_variant"):
        if getattr(flag, field) not in variants:
            raise InvalidInputError(field, "must name one of the flag's variants")
    seen_keys: set[tuple[str, str]] = set()
    for t_index, target in enumerate(flag.targets):
        if target.variant not in variants:
            raise InvalidInputError(f"targets.{t_index}.variant", "must name a variant")
        for v_index, key in enumerate(target.values):
            if (target.context_kind, key) in seen_keys:
                raise InvalidInputError(
                    f"targets.{t_index}.values.{v_index}", "must not be listed in two targets"
                )
            seen_keys.add((target.context_kind, key))
    rule_ids: set[str] = set()
    for r_index, rule_ in enumerate(flag.rules):
        if rule_.id in rule_ids:
            raise InvalidInputError(f"rules.{r_index}.id", "must be unique within the flag")
        rule_ids.add(rule_.id)
        if rule_.variant is not None and rule_.variant not in variants:
            raise InvalidInputError(f"rules.{r_index}.variant", "must name a variant")
        if rule_.rollout is not None:
            _check_rollout_variants(rule_.rollout, variants, f"rules.{r_index}.rollout")
    if flag.rollout is not None:
        _check_rollout_variants(flag.rollout, variants, "rollout")
    prerequisite_keys: set[str] = set()
    for p_index, prerequisite in enumerate(flag.prerequisites):
        if prerequisite.key == flag.key:
            raise InvalidInputError(f"prerequisites.{p_index}.key", "a flag cannot require itself")
        if prerequisite.key in prerequisite_keys:
            raise InvalidInputError(f"prerequisites.{p_index}.key", "must not repeat a flag")
        prerequisite_keys.add(prerequisite.key)


def _check_rollout_variants(rollout: Rollout, variants: Mapping[str, Any], field: str) -> None:
    for index, weighted in enumerate(rollout.variants):
        if weighted.variant not in variants:
            raise InvalidInputError(f"{field}.variants.{index}.variant", "must name a variant")


def check_segment(segment: Segment) -> None:
    """Check a segment on its own: its rules may not refer to other segments.

    Args:
        segment: The segment to check.

    Raises:
        InvalidInputError: Naming the first offending field.

    Examples:
        >>> from unified_health.feature_flags import Segment
        >>> check_segment(Segment(key="staff")) is None
        True
    """
    for r_index, rule_ in enumerate(segment.rules):
        for c_index, condition in enumerate(rule_.conditions):
            if condition.operator.value in SEGMENT_OPERATORS:
                raise InvalidInputError(
                    f"rules.{r_index}.conditions.{c_index}.operator",
                    "segment rules cannot refer to segments",
                )


def check_references(
    flag: Flag, flags: Mapping[str, Flag], segments: Mapping[str, Segment]
) -> None:
    """Check ``flag`` against the others: prerequisites exist, form no cycle, stay shallow.

    Args:
        flag: The flag about to be written.
        flags: Every other live flag by key (``flag`` itself is replaced by the new version).
        segments: Every live segment by key.

    Raises:
        InvalidInputError: Naming the offending field.

    Examples:
        >>> from unified_health.feature_flags import Flag, Prerequisite
        >>> a, b = Flag(key="a"), Flag(key="b", prerequisites=[Prerequisite(key="a")])
        >>> check_references(b, {"a": a, "b": b}, {}) is None
        True
    """
    for p_index, prerequisite in enumerate(flag.prerequisites):
        target = flags.get(prerequisite.key)
        if target is None or target.archived:
            raise InvalidInputError(f"prerequisites.{p_index}.key", "must name an existing flag")
        for v_index, variant in enumerate(prerequisite.variants):
            if variant not in target.variants:
                raise InvalidInputError(
                    f"prerequisites.{p_index}.variants.{v_index}",
                    "must name a variant of the prerequisite flag",
                )
    for r_index, rule_ in enumerate(flag.rules):
        for c_index, condition in enumerate(rule_.conditions):
            if condition.operator.value not in SEGMENT_OPERATORS:
                continue
            for v_index, key in enumerate(condition.values):
                found = segments.get(str(key))
                if found is None or found.archived:
                    raise InvalidInputError(
                        f"rules.{r_index}.conditions.{c_index}.values.{v_index}",
                        "must name an existing segment",
                    )
    graph = {key: [p.key for p in other.prerequisites] for key, other in flags.items()}
    graph[flag.key] = [p.key for p in flag.prerequisites]
    depths = prerequisite_depths(graph)
    if depths is None:
        raise InvalidInputError("prerequisites", "prerequisites must not form a cycle")
    if depths[flag.key] > MAX_PREREQUISITE_DEPTH:
        raise InvalidInputError(
            "prerequisites", f"prerequisite chains must be at most {MAX_PREREQUISITE_DEPTH} deep"
        )
    too_deep = sorted(
        key for key in _dependents(flag.key, graph) if depths[key] > MAX_PREREQUISITE_DEPTH
    )
    if too_deep:
        raise InvalidInputError(
            "prerequisites",
            f"prerequisite chains must be at most {MAX_PREREQUISITE_DEPTH} deep; this change "
            f"makes them deeper for flags: {', '.join(too_deep)}",
        )


def _dependents(key: str, graph: Mapping[str, list[str]]) -> set[str]:
    """Every flag whose prerequisite chain reaches ``key`` (``key`` excluded)."""
    reverse: dict[str, list[str]] = {}
    for node, children in graph.items():
        for child in children:
            reverse.setdefault(child, []).append(node)
    found: set[str] = set()
    todo = [key]
    while todo:
        for parent in reverse.get(todo.pop(), []):
            if parent not in found:
                found.add(parent)
                todo.append(parent)
    found.discard(key)
    return found


def prerequisite_depths(graph: Mapping[str, list[str]]) -> dict[str, int] | None:
    """Return the longest prerequisite chain below every flag, or ``None`` on any cycle.

    One iterative depth-first pass over the whole graph (no recursion, so hostile data cannot
    raise `RecursionError`). Keys named only as prerequisites get depth 0.

    Args:
        graph: Each flag's prerequisite keys.

    Returns:
        Depth by key (0 for a flag without prerequisites), or ``None`` when the graph has a
        cycle.

    Examples:
        >>> prerequisite_depths({"a": ["b"], "b": ["c"], "c": []})
        {'c': 0, 'b': 1, 'a': 2}
        >>> prerequisite_depths({"a": ["b"], "b": ["a"]}) is None
        True
    """
    depth: dict[str, int] = {}
    on_path: set[str] = set()
    for root in graph:
        if root in depth:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        on_path.add(root)
        while stack:
            node, index = stack.pop()
            children = graph.get(node, [])
            if index < len(children):
                stack.append((node, index + 1))
                child = children[index]
                if child in on_path:
                    return None
                if child not in depth:
                    on_path.add(child)
                    stack.append((child, 0))
                continue
            on_path.discard(node)
            depth[node] = 1 + max((depth[c] for c in children), default=-1)
    return depth


def prerequisite_depth(key: str, graph: Mapping[str, list[str]]) -> int | None:
    """Return the longest prerequisite chain below ``key``, or ``None`` on a cycle.

    Iterative (no recursion), so hostile data cannot raise `RecursionError`.

    Args:
        key: The flag to start from.
        graph: Each flag's prerequisite keys.

    Returns:
        0 for a flag without prerequisites, or ``None`` when a cycle is reachable.

    Examples:
        >>> prerequisite_depth("a", {"a": ["b"], "b": []})
        1
    """
    depth: dict[str, int] = {}
    on_path: set[str] = set()
    stack: list[tuple[str, int]] = [(key, 0)]
    while stack:
        node, index = stack.pop()
        children = graph.get(node, [])
        if index == 0:
            if node in on_path:
                return None
            on_path.add(node)
        if index < len(children):
            stack.append((node, index + 1))
            child = children[index]
            if child in on_path:
                return None
            if child not in depth:
                stack.append((child, 0))
            continue
        on_path.discard(node)
        depth[node] = 1 + max((depth.get(c, 0) for c in children), default=-1)
    return depth[key]


def definition_problems(
    flags: Mapping[str, Flag], segments: Mapping[str, Segment]
) -> list[tuple[str, str]]:
    """Return every cross-definition problem of a whole set of flags and segments.

    This is the one check every write path runs on the state it is about to commit (single
    writes, change sets, `FeatureFlagAdmin.initialize` and imports): live flags' prerequisites
    name live flags and their variants, segment conditions name live segments, prerequisites
    form no cycle and no chain is deeper than `MAX_PREREQUISITE_DEPTH`.

    Args:
        flags: Every flag by key (archived ones are ignored).
        segments: Every segment by key (archived ones are ignored).

    Returns:
        ``(field, rule)`` pairs, fields rooted at ``flags.<key>``; empty when consistent.

    Examples:
        >>> from unified_health.feature_flags import Flag, Prerequisite
        >>> a = Flag(key="a", prerequisites=[Prerequisite(key="b")])
        >>> b = Flag(key="b", prerequisites=[Prerequisite(key="a")])
        >>> [field for field, rule in definition_problems({"a": a, "b": b}, {})]
        ['flags.a.prerequisites', 'flags.b.prerequisites']
    """
    live = {key: flag for key, flag in flags.items() if not flag.archived}
    live_segments = {key: segment for key, segment in segments.items() if not segment.archived}
    problems: list[tuple[str, str]] = []
    for key, flag in sorted(live.items()):
        for p_index, prerequisite in enumerate(flag.prerequisites):
            field = f"flags.{key}.prerequisites.{p_index}"
            target = live.get(prerequisite.key)
            if target is None:
                problems.append((f"{field}.key", "must name an existing flag"))
                continue
            for v_index, variant in enumerate(prerequisite.variants):
                if variant not in target.variants:
                    problems.append(
                        (
                            f"{field}.variants.{v_index}",
                            "must name a variant of the prerequisite flag",
                        )
                    )
        for r_index, rule_ in enumerate(flag.rules):
            for c_index, condition in enumerate(rule_.conditions):
                if condition.operator.value not in SEGMENT_OPERATORS:
                    continue
                for v_index, segment_key in enumerate(condition.values):
                    if str(segment_key) not in live_segments:
                        problems.append(
                            (
                                f"flags.{key}.rules.{r_index}.conditions.{c_index}.values."
                                f"{v_index}",
                                "must name an existing segment",
                            )
                        )
    graph = {key: [p.key for p in flag.prerequisites] for key, flag in live.items()}
    depths = prerequisite_depths(graph)
    if depths is None:
        cycle = "prerequisites must not form a cycle"
        problems.extend(
            (f"flags.{key}.prerequisites", cycle)
            for key in sorted(graph)
            if prerequisite_depth(key, graph) is None
        )
    else:
        deep = f"prerequisite chains must be at most {MAX_PREREQUISITE_DEPTH} deep"
        problems.extend(
            (f"flags.{key}.prerequisites", deep)
            for key in sorted(graph)
            if depths[key] > MAX_PREREQUISITE_DEPTH
        )
    return problems


def check_state(
    flags: Mapping[str, Flag],
    segments: Mapping[str, Segment],
    *,
    before: tuple[Mapping[str, Flag], Mapping[str, Segment]] | None = None,
) -> None:
    """Refuse a state with cross-definition problems (see `definition_problems`).

    Args:
        flags: The flags the write would leave in the store.
        segments: The segments the write would leave in the store.
        before: The flags and segments the store holds now, when a write changes them: a
            problem the store already had (written by an older version, say) does not block
            an unrelated write; only problems the write would add are refused.

    Raises:
        InvalidInputError: Naming the first new problem's field and rule.

    Examples:
        >>> from unified_health.feature_flags import Flag, Prerequisite
        >>> try:
        ...     check_state({"a": Flag(key="a", prerequisites=[Prerequisite(key="x")])}, {})
        ... except InvalidInputError as err:
        ...     print(err)
        flags.a.prerequisites.0.key: must name an existing flag
    """
    problems = definition_problems(flags, segments)
    if not problems:
        return
    known = set(definition_problems(*before)) if before is not None else set()
    for field, rule in problems:
        if (field, rule) not in known:
            raise InvalidInputError(field, rule)
