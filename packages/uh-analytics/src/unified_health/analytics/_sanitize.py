"""The PII/PHI sanitiser every analytics event passes through before it leaves the process.

`Sanitizer.scrub` returns a cleaned copy of an event's properties and, per category, how many
values or spans it replaced (counts only, never values). What it sends is safe by the *form* of
the data (the default policy, documented in full on the docs page):

* every key, value and event name is normalised once (`fold`: NFKC, invisible characters
  removed, look-alike letters folded), for the client and this class alike;
* keys and event names are vocabulary: they follow a naming grammar and hold no personal data,
  or the event is not sent at all (`ScrubResult.rejected`; ``strict=True`` raises);
* prose (five or more words) is replaced by ``[REDACTED:free_text]`` unless its field is declared
  free text, where the detectors scrub it;
* labels (shorter values) are read by the detectors: dates more precise than a year, digit runs
  of identifier length in any grouping, e-mails in any obfuscation, id-shaped URL segments,
  IP addresses, ages over 89, street addresses and names by given name or cue;
* a key that names personal data (``email``, ``patientName``, ``dob``) has its value replaced.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from unified_health.analytics._clock import Clock, SystemClock
from unified_health.analytics._errors import InvalidInputError
from unified_health.analytics._normalize import MAX_DEPTH, MAX_NODES, to_json
from unified_health.analytics._scrub._categories import RedactionCategory, marker
from unified_health.analytics._scrub._declared import DeclaredText
from unified_health.analytics._scrub._detector import Detector, DetectorRegistry
from unified_health.analytics._scrub._fold import fold
from unified_health.analytics._scrub._walk import RejectedError, Walker
from unified_health.analytics._scrub.detectors import PatternDetector, default_detectors

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_TEXT",
    "RedactionCategory",
    "Sanitizer",
    "ScrubResult",
    "marker",
]

#: Characters of one string the public `Sanitizer` reads; the rest is cut first.
MAX_TEXT = 65_536
_CATEGORY_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
_EMPTY: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ScrubResult:
    """The outcome of `Sanitizer.scrub`.

    Attributes:
        properties: A cleaned, JSON-serialisable copy of the input (the input is never mutated).
        redactions: How many values or spans were replaced or removed, per category. Counts only.
        rejected: Why the whole event must not be sent (a key broke the naming grammar or holds
            personal data), or ``None``. When set, ``properties`` is empty.

    Examples:
        >>> result = Sanitizer().scrub({"note": "call 555-123-4567"})
        >>> result.properties
        {'note': 'call [REDACTED:phone]'}
        >>> dict(result.redactions)
        {'phone': 1}
    """

    properties: dict[str, object]
    redactions: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    rejected: str | None = None

    @property
    def redacted(self) -> int:
        """The total number of redactions, over every category."""
        return sum(self.redactions.values())


def _custom_detectors(patterns: Mapping[str, str | re.Pattern[str]]) -> list[Detector]:
    found: list[Detector] = []
    for name, pattern in patterns.items():
        if not _CATEGORY_NAME.fullmatch(str(name)):
            raise InvalidInputError("custom_patterns", "names must match [a-z][a-z0-9_]{0,39}")
        try:
            compiled = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise InvalidInputError(f"custom_patterns.{name}", "must be a valid regex") from exc
        if compiled.search("") is not None:
            raise InvalidInputError(f"custom_patterns.{name}", "must not match the empty string")
        found.append(PatternDetector(str(name), compiled))
    return found


def _checked_detectors(detectors: Iterable[object]) -> list[Detector]:
    found: list[Detector] = []
    for index, detector in enumerate(detectors):
        if not isinstance(detector, Detector) or not isinstance(detector.precedence, int):
            raise InvalidInputError(f"detectors.{index}", "must implement the Detector protocol")
        if not _CATEGORY_NAME.fullmatch(str(detector.category)):
            raise InvalidInputError(f"detectors.{index}", "category must match [a-z][a-z0-9_]*")
        found.append(detector)
    return found


class Sanitizer:
    r"""Removes HIPAA Safe Harbor identifiers from analytics events, by the default policy.

    A sanitiser is immutable after construction (but for caches of clean labels), holds no I/O
    and is safe to share between threads. `scrub` never raises unless ``strict`` is set, and
    never returns a value it could not inspect.

    Args:
        custom_patterns: Extra detectors, e.g. a clinic's MRN format: a category name
            (lower-case letters, digits and ``_``) mapped to a regular expression.
        detectors: Extra `Detector` objects (e.g. `unified_health.analytics.presidio`'s
            named-entity adapter), run after the built-in ones.
        free_text_keys: Property names declared free text for every event: their prose is
            scrubbed by the detectors instead of being replaced (per field, never globally).
        allow_keys: Property names whose value is read as a label even though the name looks
            sensitive.
        extra_sensitive_keys: Property names whose whole value is always replaced (``custom``).
        clock: The `Clock` that says the current year (a birth year making a person older than
            89); `SystemClock` by default (tests pass a `FakeClock`).
        strict: Raise `InvalidInputError` instead of returning a rejected result.

    Raises:
        InvalidInputError: A custom category name is malformed, a pattern does not compile or
            matches the empty string, a detector does not implement the protocol, or ``clock``
            is not a `Clock`.

    Examples:
        >>> sanitizer = Sanitizer(custom_patterns={"clinic_mrn": r"\bCL-\d{6}\b"})
        >>> result = sanitizer.scrub({"note": "chart CL-123456", "specialty": "cardiology"})
        >>> result.properties
        {'note': 'chart [REDACTED:clinic_mrn]', 'specialty': 'cardiology'}
    """

    __slots__ = ("_registry", "_strict", "_walker")

    def __init__(
        self,
        *,
        custom_patterns: Mapping[str, str | re.Pattern[str]] | None = None,
        detectors: Iterable[Detector] = (),
        free_text_keys: Collection[str] = (),
        allow_keys: Collection[str] = (),
        extra_sensitive_keys: Collection[str] = (),
        clock: Clock | None = None,
        strict: bool = False,
    ) -> None:
        if clock is not None and not isinstance(clock, Clock):
            raise InvalidInputError("clock", "must be a Clock (now() and monotonic())")
        found = _custom_detectors(custom_patterns or {}) + _checked_detectors(detectors)
        self._registry = DetectorRegistry([*default_detectors(), *found])
        self._strict = bool(strict)
        self._walker = Walker(
            self._registry,
            clock if clock is not None else SystemClock(),
            free_text_keys=[fold(k) for k in free_text_keys],
            allow_keys=[fold(k) for k in allow_keys],
            extra_sensitive_keys=[fold(k) for k in extra_sensitive_keys],
        )

    def scrub(self, properties: Mapping[str, object]) -> ScrubResult:
        """Return a cleaned, JSON-serialisable copy of ``properties``.

        Args:
            properties: An event's properties; any mapping. It is never mutated.

        Returns:
            The cleaned copy and the counts per category. A key that breaks the naming grammar
            or holds personal data rejects the whole event (``rejected`` says why, nothing is
            kept). Input that cannot be read at all (not a mapping, or one whose methods raise)
            gives no properties and one ``unsupported_type`` count: the sanitiser fails closed.

        Raises:
            InvalidInputError: Only with ``strict=True``, for a rejected event (names the rule,
                never the key).

        Examples:
            >>> Sanitizer().scrub({"email": "jane@example.com", "plan": "premium"}).properties
            {'email': '[REDACTED:email]', 'plan': 'premium'}
            >>> Sanitizer().scrub({"jane.doe@example.com": 1}).rejected
            'property names must follow the naming grammar'
        """
        counts: dict[str, int] = {}
        try:
            if not isinstance(properties, Mapping):
                raise TypeError
            clean, adjusted = to_json(properties, MAX_TEXT)
            cleaned = self._walker.mapping(clean, counts)
        except RejectedError as exc:
            if self._strict:
                raise InvalidInputError("properties", exc.rule) from None
            return ScrubResult({}, _EMPTY, exc.rule)
        except Exception:  # noqa: BLE001  (fail closed: never crash the host, never leak)
            return ScrubResult({}, MappingProxyType({RedactionCategory.UNSUPPORTED_TYPE.value: 1}))
        for name, count in adjusted.items():
            counts[name] = counts.get(name, 0) + count
        return ScrubResult(cleaned, MappingProxyType(counts) if counts else _EMPTY)

    def scrub_into(
        self, properties: Mapping[str, object], counts: dict[str, int]
    ) -> dict[str, object]:
        """Like `scrub`, adding the counts to ``counts`` (the client's hot path).

        The properties must be JSON-ready (the client's own checks made them so).

        Raises:
            InvalidInputError: A key breaks the naming grammar or holds personal data: the
                event must not be sent (the client counts it as dropped, ``invalid_name``).

        Examples:
            >>> counts: dict[str, int] = {}
            >>> Sanitizer().scrub_into({"note": "call 555-123-4567"}, counts), counts
            ({'note': 'call [REDACTED:phone]'}, {'phone': 1})
        """
        try:
            return self._walker.mapping(dict(properties), counts)
        except RejectedError as exc:
            raise InvalidInputError("properties", exc.rule) from None

    def scrub_value(self, value: str, *, key: str | None = None) -> tuple[str, Mapping[str, int]]:
        """Scrub one string, as the value of property ``key`` (a plain label key by default).

        Returns:
            The cleaned text and the counts per category.

        Examples:
            >>> Sanitizer().scrub_value("DOB 03/14/1950")
            ('DOB [REDACTED:personal_date]', {'personal_date': 1})
            >>> Sanitizer().scrub_value("Jane Doe", key="patientName")
            ('[REDACTED:name]', {'name': 1})
        """
        result = self.scrub({key if key is not None else "value": value})
        cleaned = next(iter(result.properties.values()), marker(RedactionCategory.UNSUPPORTED_TYPE))
        return str(cleaned), dict(result.redactions)

    def scrub_free_text(self, value: str) -> tuple[str, Mapping[str, int]]:
        """Scrub one string as declared free text: the detectors read it, prose is kept.

        Examples:
            >>> text, counts = Sanitizer().scrub_free_text("Seen 3/14, call 802 232 8775")
            >>> text
            'Seen [REDACTED:personal_date], call [REDACTED:phone]'
            >>> counts
            {'personal_date': 1, 'phone': 1}
        """
        result = self.scrub({"text": DeclaredText(value)})
        cleaned = next(iter(result.properties.values()), marker(RedactionCategory.UNSUPPORTED_TYPE))
        return str(cleaned), dict(result.redactions)

    def check_name(self, field: str, name: object) -> None:
        """Raise unless ``name`` (an event name, a group type) is vocabulary.

        Vocabulary follows the naming grammar and holds no personal data.

        Raises:
            InvalidInputError: Naming ``field`` and the rule broken, never the name.

        Examples:
            >>> Sanitizer().check_name("event", "appointment_booked")
            >>> try:
            ...     Sanitizer().check_name("event", "viewed_jane_doe_chart")
            ... except InvalidInputError as exc:
            ...     print(exc)
            event: must not contain personal data
        """
        problem = self._walker.names.problem(name)
        if problem == "personal data":
            raise InvalidInputError(field, "must not contain personal data")
        if problem is not None:
            raise InvalidInputError(field, "must follow the naming grammar")
