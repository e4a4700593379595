"""Rule operators, compiled once into plain closures, and the guards that keep them safe.

Context shape: the ``user`` kind's attributes sit at the top level of the context mapping and its
key is ``targeting_key``, else ``user_id``, else ``key``. Any other kind (``clinic``, ``device``,
``tenant``, ...) is a nested mapping under its name whose key is ``key`` (else ``targeting_key``,
else ``id``). The attribute name ``key`` always means the kind's key.

Regexes are compiled once, limited to `MAX_REGEX_LENGTH` characters, and rejected unless every
choice a backtracking engine makes is decided by the next character (see `regex_problem`), which
keeps a search quadratic at worst. Values longer than `MAX_MATCH_INPUT` characters never match a
regex, which bounds that quadratic cost.
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
    "SEGMENT_OPERATORS",
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

MAX_MATCH_INPUT = 256
"""Attribute values longer than this never match a regex (bounds the cost of a search)."""

SEGMENT_OPERATORS = frozenset({"in_segment", "not_in_segment"})
"""Operators whose values name segments rather than attribute values."""

Getter = Callable[[Mapping[str, Any]], Any]
Matcher = Callable[[Mapping[str, Any]], bool]

_KIND_KEYS = ("key", "targeting_key", "id")


def key_getter(context_kind: str) -> Getter:
    """Return a function reading the key of ``context_kind`` from a context.

    Args:
        context_kind: ``"user"`` or the name of a nested kind.

    Returns:
        A getter returning the key, or ``None`` when absent.

    Examples:
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

    Examples:
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

    Examples:
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

    Examples:
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
_c: Any = importlib.import_module("re._constants")
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT}
_SINGLE = {_c.LITERAL, _c.NOT_LITERAL, _c.IN, _c.ANY}

# A character set is approximated by a bit mask: one bit per ASCII character, then four bits for
# the non-ASCII characters (decimal digits, other word characters, whitespace, the rest). Two sets
# "overlap" when their masks share a bit, which over-approximates and so errs towards rejecting.
_NA_DIGIT, _NA_WORD, _NA_SPACE, _NA_OTHER = (1 << 128, 1 << 129, 1 << 130, 1 << 131)
_NON_ASCII = _NA_DIGIT | _NA_WORD | _NA_SPACE | _NA_OTHER
_ALL = (1 << 128) - 1 | _NON_ASCII


def _ascii_mask(test: Callable[[str], bool]) -> int:
    return sum(1 << code for code in range(128) if test(chr(code)))


_CATEGORY_MASKS = {
    "CATEGORY_DIGIT": _ascii_mask(str.isdigit) | _NA_DIGIT,
    "CATEGORY_WORD": _ascii_mask(lambda ch: ch.isalnum() or ch == "_") | _NA_DIGIT | _NA_WORD,
    "CATEGORY_SPACE": _ascii_mask(str.isspace) | _NA_SPACE,
}
# Negated categories: everything else, including the non-ASCII bits the category only partly holds.
_CATEGORY_MASKS |= {
    "CATEGORY_NOT_DIGIT": (_ALL & ~_CATEGORY_MASKS["CATEGORY_DIGIT"]) | _NA_WORD | _NA_OTHER,
    "CATEGORY_NOT_WORD": (_ALL & ~_CATEGORY_MASKS["CATEGORY_WORD"]) | _NA_SPACE | _NA_OTHER,
    "CATEGORY_NOT_SPACE": (_ALL & ~_CATEGORY_MASKS["CATEGORY_SPACE"]) | _NON_ASCII,
}


_ALTERNATIVES = "regex can backtrack catastrophically (alternatives that start alike)"
_EMPTY_REPEAT = "regex can backtrack catastrophically (a repeat that can match nothing)"
_AMBIGUOUS_REPEAT = (
    "regex can backtrack catastrophically (a repeat whose next character is ambiguous)"
)


class _UnsafeError(Exception):
    """A pattern the analysis cannot prove free of catastrophic backtracking."""


def regex_problem(pattern: str) -> str | None:
    r"""Explain why ``pattern`` may not be used, or return ``None`` when it is safe.

    A pattern is accepted only when a backtracking engine never has to guess: wherever it could
    continue a repeat or leave it, take an optional part or skip it, or pick between alternatives,
    the next character decides (the sets of characters that can start each choice are disjoint).
    Such a pattern is matched in time linear in the input at each starting position, so a search
    costs at most ``O(len(value) ** 2)``. Also rejected: backreferences, lookaround, and a repeat
    whose body can match the empty string. The check over-approximates character sets (letters
    count in either case; non-ASCII characters count by class), so it may refuse a harmless
    exotic pattern, but it never accepts an ambiguous one. Conditions search, so a leading or
    trailing ``.*`` is never needed (and is refused when the next character is ambiguous).

    Args:
        pattern: A Python regular expression.

    Returns:
        The rule the pattern breaks, or ``None``.

    Examples:
        >>> regex_problem("^[a-z]+@clinic\\.org$") is None
        True
        >>> regex_problem("(a+)+$")
        'regex can backtrack catastrophically (a repeat whose next character is ambiguous)'
    """
    if len(pattern) > MAX_REGEX_LENGTH:
        return f"regex must be at most {MAX_REGEX_LENGTH} characters"
    try:
        re.compile(pattern)
        tree = _parser.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return "must be a valid regular expression"
    try:
        # Case-insensitive always: conditions may compile the pattern with re.IGNORECASE.
        _Analysis(ignore_case=True).sequence(_items(tree), 0)
    except _UnsafeError as exc:
        return str(exc)
    except RecursionError:
        return "regex is nested too deeply"
    return None


def _items(node: Any) -> list[tuple[Any, Any]]:
    return list(node.data) if hasattr(node, "data") else list(node)


class _Analysis:
    """Checks that every choice point of a parsed pattern is decided by the next character."""

    def __init__(self, *, ignore_case: bool) -> None:
        self._ignore_case = ignore_case

    # Each method returns (first, nullable): the mask of characters that can start the node and
    # whether it can match the empty string. ``follow`` is the mask of what can come after it.

    def sequence(self, items: list[tuple[Any, Any]], follow: int) -> tuple[int, bool]:
        first, nullable = 0, True
        for op, arg in reversed(items):
            item_first, item_nullable = self.item(op, arg, follow)
            follow = item_first | (follow if item_nullable else 0)
            first = item_first | (first if item_nullable else 0)
            nullable = nullable and item_nullable
        return first, nullable

    def sequence_unchecked(self, items: list[tuple[Any, Any]]) -> tuple[int, bool]:
        first = 0
        for op, arg in items:
            item_first, item_nullable = self._first_of(op, arg)
            first |= item_first
            if not item_nullable:
                return first, False
        return first, True

    def _first_of(self, op: Any, arg: Any) -> tuple[int, bool]:
        if op in _SINGLE:
            return self.chars(op, arg), False
        if op == _c.SUBPATTERN:
            return self.sequence_unchecked(_items(arg[-1]))
        if op == _c.ATOMIC_GROUP:
            return self.sequence_unchecked(_items(arg))
        if op == _c.BRANCH:
            found = [self.sequence_unchecked(_items(b)) for b in arg[1]]
            return _union(f for f, _ in found), any(n for _, n in found)
        if op in _REPEATS:
            low, high, body = arg
            if high == 0:
                return 0, True
            first, nullable = self.sequence_unchecked(_items(body))
            return first, nullable or low == 0
        return 0, True  # AT (anchors, word boundaries) consume nothing

    def item(self, op: Any, arg: Any, follow: int) -> tuple[int, bool]:
        if op in _SINGLE:
            return self.chars(op, arg), False
        if op == _c.AT:
            return 0, True
        if op == _c.SUBPATTERN:
            return self.sequence(_items(arg[-1]), follow)
        if op == _c.ATOMIC_GROUP:
            return self.sequence(_items(arg), follow)
        if op == _c.BRANCH:
            return self.branch(arg[1], follow)
        if op in _REPEATS:
            return self.repeat(arg, follow)
        if op in (_c.GROUPREF, _c.GROUPREF_EXISTS, _c.GROUPREF_IGNORE):
            raise _UnsafeError("regex must not use backreferences")
        if op in (_c.ASSERT, _c.ASSERT_NOT):
            raise _UnsafeError("regex must not use lookahead or lookbehind")
        raise _UnsafeError("regex uses a construct that cannot be checked")

    def branch(self, branches: list[Any], follow: int) -> tuple[int, bool]:
        seen = 0
        nullable = False
        for branch in branches:
            first, empty = self.sequence(_items(branch), follow)
            if first & seen or (empty and nullable):
                raise _UnsafeError(
                    "regex can backtrack catastrophically (alternatives that start alike)"
                )
            seen |= first
            nullable = nullable or empty
        if nullable and seen & follow:
            raise _UnsafeError(_ALTERNATIVES)
        return seen, nullable

    def repeat(self, arg: Any, follow: int) -> tuple[int, bool]:
        low, high, body = arg
        if high == 0:
            return 0, True
        items = _items(body)
        body_first, body_nullable = self.sequence_unchecked(items)
        if high > 1 and body_nullable:
            raise _UnsafeError(_EMPTY_REPEAT)
        inner_follow = follow | (body_first if high > 1 else 0)
        self.sequence(items, inner_follow)
        if low != high and body_first & follow:
            raise _UnsafeError(_AMBIGUOUS_REPEAT)
        return body_first, body_nullable or low == 0

    def chars(self, op: Any, arg: Any) -> int:
        if op == _c.ANY:
            return _ALL
        if op == _c.LITERAL:
            return self.literal(arg)
        if op == _c.NOT_LITERAL:
            return _ALL & ~self.literal(arg) | _NON_ASCII
        mask, negate = 0, False
        for sub_op, sub_arg in arg:
            if sub_op == _c.NEGATE:
                negate = True
            elif sub_op == _c.LITERAL:
                mask |= self.literal(sub_arg)
            elif sub_op == _c.RANGE:
                low, high = sub_arg
                for code in range(low, min(high, 127) + 1):
                    mask |= self.literal(code)
                if high > 127:
                    mask |= _NON_ASCII
            elif sub_op == _c.CATEGORY:
                mask |= _CATEGORY_MASKS.get(str(sub_arg), _ALL)
            else:
                mask |= _ALL
        if negate:
            # The complement keeps every non-ASCII bit: a class rarely excludes a whole group.
            mask = (_ALL & ~mask) | _NON_ASCII
        return mask

    def literal(self, code: int) -> int:
        if code >= 128:
            char = chr(code)
            mask = _non_ascii_bit(char)
            if self._ignore_case:
                # Under (?i) some non-ASCII letters match ASCII ones (the Kelvin sign matches k).
                for ascii_code in range(128):
                    if re.fullmatch(re.escape(char), chr(ascii_code), re.IGNORECASE):
                        mask |= 1 << ascii_code
            return mask
        mask = 1 << code
        char = chr(code)
        if self._ignore_case and char.isalpha():
            mask |= 1 << ord(char.swapcase())
            if char in "iksIKS":
                mask |= _NA_WORD  # dotted and dotless i, the Kelvin sign, the long s
        return mask


def _non_ascii_bit(char: str) -> int:
    if char.isdecimal():
        return _NA_DIGIT
    if char.isalnum():
        return _NA_WORD
    if char.isspace():
        return _NA_SPACE
    return _NA_OTHER


def _union(masks: Any) -> int:
    out = 0
    for mask in masks:
        out |= mask
    return out


# ---------------------------------------------------------------------------- value tests

ValueTest = Callable[[Any], bool]


def value_test(operator: str, values: list[Any], *, case_insensitive: bool) -> ValueTest:
    """Build the test one attribute value must pass (segment and ``exists`` operators are not).

    ``not_in`` is built as ``in``; the caller negates it. Values are assumed validated.

    Args:
        operator: An `Operator` value.
        values: The condition's values.
        case_insensitive: Compare strings case-insensitively.

    Returns:
        A function of one scalar attribute value.

    Examples:
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
