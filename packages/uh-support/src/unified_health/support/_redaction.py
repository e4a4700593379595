"""PHI redaction before egress: text passes a redactor before a vendor sees it.

`PatternRedactor` holds named detectors, each owning its pattern; `redact` replaces every match
with ``[REDACTED:<name>]`` and reports which detectors fired, never what they matched. Providers
that talk to a vendor run subject, description, comments and string custom fields through it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from unified_health.support._errors import InvalidInputError

__all__ = ["DEFAULT_DETECTORS", "PatternRedactor", "Redaction", "Redactor"]

DEFAULT_DETECTORS: Mapping[str, str] = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "ssn": r"\b\d{3}-\d{2}-\d{4}\b",
    "phone": r"(?<!\d)(?:\+?1[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}(?!\d)",
    "date": r"\b(?:\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4})\b",
    "mrn": r"\b(?:MRN|mrn|Medical Record(?: Number)?)[\s:#]*[A-Za-z0-9-]{4,}\b",
}
"""The default detectors: name -> regular expression."""


@dataclass(frozen=True, slots=True)
class Redaction:
    """A redacted text and the names of the detectors that fired (never the matches).

    Examples:
        >>> Redaction("[REDACTED:email]", ("email",)).detectors
        ('email',)
    """

    text: str
    detectors: tuple[str, ...]


@runtime_checkable
class Redactor(Protocol):
    """Anything that can redact a text before it leaves the process.

    Examples:
        >>> isinstance(PatternRedactor(), Redactor)
        True
    """

    def redact(self, text: str) -> Redaction:
        """Return the text with PHI replaced, and which detectors fired."""
        ...


class PatternRedactor:
    """Redact with named regular expressions (`DEFAULT_DETECTORS` unless given).

    Args:
        detectors: ``{name: pattern}``; names must be ``[a-z_]+``.

    Raises:
        InvalidInputError: A bad name or a pattern that does not compile.

    Examples:
        >>> result = PatternRedactor().redact("Call 555-123-4567 or jane@example.org")
        >>> (result.text, result.detectors)
        ('Call [REDACTED:phone] or [REDACTED:email]', ('email', 'phone'))
    """

    def __init__(self, detectors: Mapping[str, str] | None = None) -> None:
        given: object = DEFAULT_DETECTORS if detectors is None else detectors
        if not isinstance(given, Mapping) or not given:
            raise InvalidInputError("detectors", "must map names to patterns")
        compiled: list[tuple[str, re.Pattern[str]]] = []
        for name, pattern in given.items():
            label: object = name
            if not isinstance(label, str) or not re.fullmatch(r"[a-z_]+", label):
                raise InvalidInputError("detectors", "names must match [a-z_]+")
            try:
                compiled.append((label, re.compile(pattern)))
            except (re.error, TypeError):
                raise InvalidInputError(f"detectors.{label}", "must be a valid pattern") from None
        self._detectors = compiled

    def redact(self, text: str) -> Redaction:
        """Replace every match with ``[REDACTED:<name>]``; report the detectors that fired.

        Examples:
            >>> PatternRedactor().redact("nothing to see").detectors
            ()
        """
        fired: set[str] = set()
        for name, pattern in self._detectors:
            text, count = pattern.subn(f"[REDACTED:{name}]", text)
            if count:
                fired.add(name)
        return Redaction(text, tuple(sorted(fired)))
