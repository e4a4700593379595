"""The PII/PHI sanitiser every analytics event passes through before it leaves the process.

`Sanitizer.scrub` returns a cleaned copy of an event's properties and, per category, how many
identifiers it redacted (counts only, never values). Detection is key-aware (a property named
``email``, ``patientName`` or ``dob`` is redacted whole) and value-aware (identifiers inside any
string are replaced where they occur), with checksums and context words keeping order ids,
timestamps, version strings and specialty names intact. UUIDs are not identifiers by themselves:
they survive unless they sit under a sensitive key or right after a person resource in a URL.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from unified_health.analytics._clock import Clock, SystemClock
from unified_health.analytics._errors import InvalidInputError
from unified_health.analytics._scrub._categories import RedactionCategory, marker
from unified_health.analytics._scrub._keys import normalise_key
from unified_health.analytics._scrub._text import TextScanner
from unified_health.analytics._scrub._walk import MAX_DEPTH, MAX_NODES, MAX_TEXT, Walker

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_TEXT",
    "RedactionCategory",
    "Sanitizer",
    "ScrubResult",
    "marker",
]

_CATEGORY_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
_EMPTY: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ScrubResult:
    """The outcome of `Sanitizer.scrub`.

    Attributes:
        properties: A cleaned, JSON-serialisable copy of the input (the input is never mutated).
        redactions: How many values or spans were redacted, per category. Counts only.

    Examples:
        >>> result = Sanitizer().scrub({"note": "call 555-123-4567"})
        >>> result.properties
        {'note': 'call [REDACTED:phone]'}
        >>> dict(result.redactions)
        {'phone': 1}
    """

    properties: dict[str, object]
    redactions: Mapping[str, int] = field(default_factory=lambda: _EMPTY)

    @property
    def redacted(self) -> int:
        """The total number of redactions, over every category."""
        return sum(self.redactions.values())


class Sanitizer:
    r"""Removes HIPAA Safe Harbor identifiers from analytics event properties.

    A sanitiser is immutable after construction, holds no I/O and is safe to share between
    threads. `scrub` never raises and never returns a value it could not inspect: see the module
    `unified_health.analytics._scrub._walk` for the rules applied to unusual input, in short:
    unknown types, containers nested deeper than `MAX_DEPTH` (or cyclic), more than `MAX_NODES`
    values and strings longer than `MAX_TEXT` characters are replaced by a marker and counted
    (``unsupported_type``, ``too_deep``, ``too_large``).

    Args:
        custom_patterns: Extra detectors, e.g. a clinic's MRN format: a category name
            (lower-case letters, digits and ``_``) mapped to a regular expression. Matches are
            replaced by ``[REDACTED:<name>]`` and counted under ``<name>``.
        allow_keys: Property names that are not redacted whole even though their name looks
            sensitive (their values are still scanned for identifiers).
        extra_sensitive_keys: Property names whose whole value is always redacted (category
            ``custom``). Names are matched after normalisation: case, separators and camelCase
            do not matter.
        clock: The `Clock` that says the current year, against which a birth year makes a person
            older than 89; `SystemClock` by default (tests pass a `FakeClock`).

    Raises:
        InvalidInputError: A custom category name is malformed, or its pattern does not compile
            or matches the empty string; ``clock`` is not a `Clock`.

    Examples:
        >>> sanitizer = Sanitizer(custom_patterns={"clinic_mrn": r"\bCL-\d{6}\b"})
        >>> result = sanitizer.scrub({"note": "chart CL-123456", "specialty": "cardiology"})
        >>> result.properties
        {'note': 'chart [REDACTED:clinic_mrn]', 'specialty': 'cardiology'}
    """

    __slots__ = ("_scanner", "_walker")

    def __init__(
        self,
        *,
        custom_patterns: Mapping[str, str | re.Pattern[str]] | None = None,
        allow_keys: Collection[str] = (),
        extra_sensitive_keys: Collection[str] = (),
        clock: Clock | None = None,
    ) -> None:
        if clock is not None and not isinstance(clock, Clock):
            raise InvalidInputError("clock", "must be a Clock (now() and monotonic())")
        clock = clock if clock is not None else SystemClock()
        custom: list[tuple[str, re.Pattern[str]]] = []
        for name, pattern in (custom_patterns or {}).items():
            field_name = "custom_patterns"
            if not _CATEGORY_NAME.fullmatch(str(name)):
                raise InvalidInputError(field_name, "names must match [a-z][a-z0-9_]{0,39}")
            try:
                compiled = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)
            except (re.error, TypeError) as exc:
                raise InvalidInputError(f"{field_name}.{name}", "must be a valid regex") from exc
            if compiled.search("") is not None:
                raise InvalidInputError(f"{field_name}.{name}", "must not match the empty string")
            custom.append((name, compiled))
        allow = frozenset("".join(normalise_key(key)) for key in allow_keys)
        extra = frozenset("".join(normalise_key(key)) for key in extra_sensitive_keys)
        self._scanner = TextScanner(custom, clock)
        self._walker = Walker(self._scanner, allow, extra - allow, clock)

    def scrub(self, properties: Mapping[str, object]) -> ScrubResult:
        """Return a redacted, JSON-serialisable copy of ``properties``.

        Args:
            properties: An event's properties; any mapping (non-string keys, bytes, sets, nested
                and even cyclic structures are handled). It is never mutated.

        Returns:
            The cleaned copy and the redaction counts per category. If the input cannot be read
            at all (not a mapping, or a mapping whose methods raise) the result holds no
            properties and one ``unsupported_type`` count: the sanitiser fails closed.

        Examples:
            >>> Sanitizer().scrub({"email": "jane@example.com", "plan": "premium"}).properties
            {'email': '[REDACTED:email]', 'plan': 'premium'}
        """
        counts: dict[str, int] = {}
        try:
            if not isinstance(properties, Mapping):
                raise TypeError
            cleaned = self._walker.mapping(properties, counts)
        except Exception:  # noqa: BLE001  (fail closed: never crash the host, never leak)
            return ScrubResult({}, MappingProxyType({RedactionCategory.UNSUPPORTED_TYPE.value: 1}))
        return ScrubResult(cleaned, MappingProxyType(counts) if counts else _EMPTY)

    def scrub_into(
        self, properties: Mapping[str, object], counts: dict[str, int]
    ) -> dict[str, object]:
        """Like `scrub`, adding the redaction counts to ``counts`` (the client's hot path).

        Examples:
            >>> counts: dict[str, int] = {}
            >>> Sanitizer().scrub_into({"note": "call 555-123-4567"}, counts), counts
            ({'note': 'call [REDACTED:phone]'}, {'phone': 1})
        """
        try:
            if not isinstance(properties, Mapping):
                raise TypeError
            return self._walker.mapping(properties, counts)
        except Exception:  # noqa: BLE001  (fail closed, as `scrub` does)
            counts.clear()
            counts[RedactionCategory.UNSUPPORTED_TYPE.value] = 1
            return {}

    def scrub_value(self, value: str, *, key: str | None = None) -> tuple[str, Mapping[str, int]]:
        """Redact one string, optionally as the value of property ``key``.

        Args:
            value: The text to scrub.
            key: The property name it belongs to; a sensitive name redacts the whole value.

        Returns:
            The redacted text and the counts per category.

        Examples:
            >>> Sanitizer().scrub_value("DOB 03/14/1950, seen for knee pain")
            ('DOB [REDACTED:date_of_birth], seen for knee pain', {'date_of_birth': 1})
            >>> Sanitizer().scrub_value("Jane Doe", key="patientName")
            ('[REDACTED:name]', {'name': 1})
        """
        result = self.scrub({key if key is not None else "": value})
        cleaned = next(iter(result.properties.values()), marker(RedactionCategory.UNSUPPORTED_TYPE))
        if not isinstance(cleaned, str):
            cleaned = str(cleaned)
        return cleaned, dict(result.redactions)
