"""Rule operators, compiled once into plain closures, and the guards that keep them safe.

Context shape: the ``user`` kind's attributes sit at the top level of the context mapping and its
key is ``targeting_key``, else ``user_id``, else ``key``. Any other kind (``clinic``, ``device``,
``tenant``, ...) is a nested mapping under its name whose key is ``key`` (else ``targeting_key``,
else ``id``). The attribute name ``key`` always means the kind's key.

Regexes are compiled once, limited to `MAX_REGEX_LENGTH` characters, and rejected when they can
backtrack catastrophically: backreferences, a repeat nested inside an unbounded repeat, an
unbounded repeat nested inside any repeat, or an alternation inside an unbounded repeat (other
than between distinct single characters). Values
longer than `MAX_MATCH_INPUT` characters never match a regex.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

__all__ = [
    "MAX_MATCH_INPUT",
    "MAX_REGEX_LENGTH",
    "Getter",
    "Matcher",
    "key_getter",
    "attribute_getter",
    "parse_instant",
    "parse_semver",
    "regex_problem",
    "value_test",
]

MAX_REGEX_LENGTH = 256
"""The longest regex pattern a condition may hold."""

MAX_MATCH_INPUT = 1024
"""Attribute values longer than this never match a regex (bounds polynomial backtracking)."""

Getter = Callable[[Mapping[str, Any]], Any]
Matcher = Callable[[Mapping[str, Any]], bool]

_USER_KEYS = ("targeting_key", "user_id", "key")
_KIND_KEYS = ("key", "targeting_key", "id")


def key_getter(context_kind: str) -> Getter:
    """Return a function reading the key of ``context_kind`` from a context.

    Args:
        context_kind: ``"user"`` or the name of a nested kind.

    Returns:
        A getter returning the key, or ``None`` when absent.

    Example:
        >>> key_getter("clinic")({"clinic": {"key": "c-1"}})
        'c-1'
    """
    if context_kind == "user":

        def user_key(ctx: Mapping[str, Any]) -> Any:
            value = ctx.get("targeting_key")
            if value is None:
                value = ctx.get("user_id")
                if value is None:
                    value = ctx.get("key")
            return value

        return user_key

    def kind_key(ctx: Mapping[str, Any]) -> Any:
        sub = ctx.get(context_kind)
        if not isinstance(sub, Mapping):
            return None
        for name in _KIND_KEYS:
            value = sub.get(name)
            if value is not None:
                return value
        return None

    return kind_key


def attribute_getter(attribute: str, context_kind: str) -> Getter:
    """Return a function reading ``attribute`` of ``context_kind`` from a context.

    Args:
        attribute: The attribute name; ``"key"`` means the kind's key.
        context_kind: ``"user"`` or the name of a nested kind.

    Returns:
        A getter returning the value, or ``None`` when absent.

    Example:
        >>> attribute_getter("email", "user")({"email": "a@b.org"})
        'a@b.org'
    """
    if attribute == "key":
        return key_getter(context_kind)
    if context_kind == "user":

        def user_attribute(ctx: Mapping[str, Any]) -> Any:
            return ctx.get(attribute)

        return user_attribute

    def kind_attribute(ctx: Mapping[str, Any]) -> Any:
        sub = ctx.get(context_kind)
        if not isinstance(sub, Mapping):
            return None
        return sub.get(attribute)

    return kind_attribute


# ---------------------------------------------------------------------------- value parsing

_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)

SemverKey = tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]


def parse_semver(value: Any) -> SemverKey | None:
    """Parse a semantic version into a key that sorts by SemVer 2.0 precedence.

    Missing minor or patch parts count as 0 (``"2"`` is ``2.0.0``); build metadata is ignored.

    Args:
        value: The candidate version string.

    Returns:
        A sortable key, or ``None`` when ``value`` is not a version.

    Example:
        >>> parse_semver("1.2.3-rc.1") < parse_semver("1.2.3")
        True
    """
    if not isinstance(value, str) or len(value) > 256:
        return None
    found = _SEMVER.match(value)
    if found is None:
        return None
    major, minor, patch, pre = found.groups()
    if pre is None:
        return (int(major), int(minor or 0), int(patch or 0), 1, ())
    parts = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))
    return (int(major), int(minor or 0), int(patch or 0), 0, parts)


def parse_instant(value: Any) -> float | None:
    """Parse an instant into Unix seconds: aware datetime, ISO-8601 text with offset, or number.

    Naive datetimes (no offset) are rejected, never guessed.

    Args:
        value: The candidate instant.

    Returns:
        Seconds since the epoch, or ``None`` when ``value`` is not an aware instant.

    Example:
        >>> parse_instant("2026-01-01T00:00:00Z")
        1767225600.0
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        if len(value) > 64:
            return None
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return None
        return value.timestamp()
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


# ---------------------------------------------------------------------------- regex safety

_parser: Any = importlib.import_module("re._parser")
_constants: Any = importlib.import_module("re._constants")
_REPEATS = {_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT}
_UNBOUNDED = _constants.MAXREPEAT


def regex_problem(pattern: str) -> str | None:
    r"""Explain why ``pattern`` may not be used, or return ``None`` when it is safe.

    Args:
        pattern: A Python regular expression.

    Returns:
        The rule the pattern breaks, or ``None``.

    Example:
        >>> regex_problem("^[a-z]+@clinic\\.org$") is None
        True
        >>> regex_problem("(a+)+$")
        'regex can backtrack catastrophically (nested repeat)'
    """
    if len(pattern) > MAX_REGEX_LENGTH:
        return f"regex must be at most {MAX_REGEX_LENGTH} characters"
    try:
        re.compile(pattern)
        tree = _parser.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return "must be a valid regular expression"
    return _walk(tree, outer=1)


def _items(node: Any) -> list[tuple[Any, Any]]:
    return list(node.data) if hasattr(node, "data") else list(node)


def _walk(node: Any, *, outer: int) -> str | None:
    """Walk the parsed pattern; ``outer`` is the largest count of the enclosing repeats."""
    for op, arg in _items(node):
        problem: str | None = None
        if op in (_constants.GROUPREF, _constants.GROUPREF_EXISTS):
            return "regex must not use backreferences"
        if op in _REPEATS:
            _low, high, body = arg
            if (outer == _UNBOUNDED and high > 1) or (outer > 1 and high == _UNBOUNDED):
                return "regex can backtrack catastrophically (nested repeat)"
            problem = _walk(body, outer=max(outer, high))
        elif op == _constants.SUBPATTERN:
            problem = _walk(arg[-1], outer=outer)
        elif op == _constants.BRANCH:
            branches = arg[1]
            if outer == _UNBOUNDED and not _distinct_literals(branches):
                return "regex can backtrack catastrophically (alternation inside a repeat)"
            for branch in branches:
                problem = problem or _walk(branch, outer=outer)
        elif op in (_constants.ASSERT, _constants.ASSERT_NOT):
            problem = _walk(arg[1], outer=outer)
        elif op == _constants.ATOMIC_GROUP:
            problem = _walk(arg, outer=outer)
        if problem:
            return problem
    return None


def _distinct_literals(branches: list[Any]) -> bool:
    seen: set[int] = set()
    for branch in branches:
        items = _items(branch)
        if len(items) != 1 or items[0][0] is not _constants.LITERAL or items[0][1] in seen:
            return False
        seen.add(items[0][1])
    return True


# ---------------------------------------------------------------------------- value tests

ValueTest = Callable[[Any], bool]


def value_test(operator: str, values: list[Any], *, case_insensitive: bool) -> ValueTest:
    """Build the test one attribute value must pass (segment operators are not handled here).

    ``not_in`` is built as ``in``; the caller negates it. Values are assumed validated.

    Args:
        operator: An `Operator` value.
        values: The condition's values.
        case_insensitive: Compare strings case-insensitively.

    Returns:
        A function of one scalar attribute value.

    Example:
        >>> value_test("ends_with", ["@clinic.org"], case_insensitive=True)("A@CLINIC.ORG")
        True
    """
    fold: Callable[[str], str] = str.casefold if case_insensitive else str
    strings = tuple(fold(v) for v in values if isinstance(v, str))
    if operator in ("in", "not_in"):
        return _membership(values, strings, case_insensitive=case_insensitive)
    if operator in ("starts_with", "ends_with", "contains"):
        return _string_test(operator, strings, case_insensitive=case_insensitive)
    if operator == "matches":
        flags = re.IGNORECASE if case_insensitive else 0
        patterns = tuple(re.compile(v, flags) for v in values if isinstance(v, str))

        def matches(value: Any) -> bool:
            if value.__class__ is not str or len(value) > MAX_MATCH_INPUT:
                return False
            return any(p.search(value) is not None for p in patterns)

        return matches
    if operator == "exists":
        return _always_true
    if operator in ("lt", "lte", "gt", "gte"):
        numbers = [n for n in (_number(v) for v in values) if n is not None]
        return _ordered(operator, numbers, _number)
    if operator in ("before", "after"):
        instants = [t for t in (parse_instant(v) for v in values) if t is not None]
        return _ordered("lt" if operator == "before" else "gt", instants, parse_instant)
    if operator.startswith("semver_"):
        versions = [s for s in (parse_semver(v) for v in values) if s is not None]
        return _ordered(operator.removeprefix("semver_"), versions, parse_semver)
    raise ValueError(f"operator {operator!r} has no value test")


def _always_true(value: Any) -> bool:
    return True


def _membership(
    values: list[Any], strings: tuple[str, ...], *, case_insensitive: bool
) -> ValueTest:
    string_set = frozenset(strings)
    number_set = frozenset(n for n in (_number(v) for v in values) if n is not None)
    bool_set = frozenset(v for v in values if isinstance(v, bool))

    def member(value: Any) -> bool:
        cls = value.__class__
        if cls is str:
            return (value.casefold() if case_insensitive else value) in string_set
        if cls is bool:
            return value in bool_set
        if cls is int or cls is float:
            return value in number_set
        if isinstance(value, str):
            return (value.casefold() if case_insensitive else str(value)) in string_set
        return False

    return member


def _string_test(operator: str, strings: tuple[str, ...], *, case_insensitive: bool) -> ValueTest:
    if operator == "contains":

        def contains(value: Any) -> bool:
            if not isinstance(value, str):
                return False
            text = value.casefold() if case_insensitive else value
            return any(s in text for s in strings)

        return contains
    method = str.startswith if operator == "starts_with" else str.endswith
    if case_insensitive:

        def affix_folded(value: Any) -> bool:
            return isinstance(value, str) and method(value.casefold(), strings)

        return affix_folded

    def affix(value: Any) -> bool:
        return value.__class__ is str and method(value, strings)

    return affix


def _ordered(op: str, bounds: list[Any], parse: Callable[[Any], Any]) -> ValueTest:
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "eq": lambda a, b: a == b,
    }
    check = compare[op]
    frozen = tuple(bounds)

    def ordered(value: Any) -> bool:
        parsed = parse(value)
        if parsed is None:
            return False
        return any(check(parsed, bound) for bound in frozen)

    return ordered
