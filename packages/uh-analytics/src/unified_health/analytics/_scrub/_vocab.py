"""The naming grammar event names and property keys follow: they are vocabulary, not data.

A name is 1 to 128 characters: a letter (or ``$`` for a vendor's own keys), then letters, digits
and the separators ``_ . : / -`` and space; at most 12 words; no run of 5 or more digits; and
consistently cased: lower case, Title Case, sentence case or camelCase, so a capitalised word
among lower-case ones (a proper noun: ``viewed li Okafor chart``) breaks the grammar. Acronyms
(``CTA``) are neutral. A name
that follows the grammar is then split into words, lower-cased and read by the detectors: a given
name, an e-mail, a date, a phone number in a name is personal data.
"""

from __future__ import annotations

import re

from unified_health.analytics._scrub._detector import DetectorRegistry
from unified_health.analytics._scrub._fold import fold
from unified_health.analytics._scrub._view import ScanView

__all__ = ["GRAMMAR", "NameCheck"]

GRAMMAR = re.compile(r"[$]?[^\W\d_][\w.:/ -]{0,127}")
_LONG_DIGITS = re.compile(r"\d{5}")
_SPLIT = re.compile(r"(?<=[a-z])(?=[A-Z])|[_.:/-]")
_MAX_WORDS = 12
_KEPT = 8_192


_SEPARATED_WORD = re.compile(r"[^\W\d_]+")


def _mixed_case(name: str) -> bool:
    """A capitalised word after the first while another is lower case (acronyms aside).

    Examples:
        >>> _mixed_case("viewed li Okafor chart"), _mixed_case("Signed up")
        (True, False)
    """
    words = _SEPARATED_WORD.findall(name)[1:]
    if len(words) < 2 or not any(c in name for c in " _.:/-"):
        return False
    capitalised = lower = False
    for word in words:
        if word.isupper():
            continue
        if word[0].isupper():
            capitalised = True
        elif len(word) > 3:
            lower = True
    return capitalised and lower


class NameCheck:
    """Checks names against the grammar and the detectors, remembering the ones that passed.

    Examples:
        >>> from unified_health.analytics._scrub.detectors import default_detectors
        >>> check = NameCheck(DetectorRegistry(default_detectors()))
        >>> check.problem("appointment_booked") is None
        True
        >>> check.problem("viewed_jane_doe_chart")
        'personal data'
        >>> check.problem("call 5551234567")
        'naming grammar'
    """

    __slots__ = ("_passed", "_registry")

    def __init__(self, registry: DetectorRegistry) -> None:
        self._registry = registry
        self._passed: set[str] = set()

    def problem(self, name: object) -> str | None:
        """``None`` for a good name, else the rule it breaks: naming grammar or personal data."""
        if type(name) is str and name in self._passed:
            return None
        if not isinstance(name, str):
            return "naming grammar"
        folded = fold(name)
        if (
            not GRAMMAR.fullmatch(folded)
            or _LONG_DIGITS.search(folded)
            or len(folded.split()) > _MAX_WORDS
            or _mixed_case(folded)
        ):
            return "naming grammar"
        spaced = _SPLIT.sub(" ", folded).lower()  # "patientFirstName" is no "Patient First Name"
        if self._registry.find(ScanView(spaced)):
            return "personal data"
        if folded == name and len(self._passed) < _KEPT:
            self._passed.add(name)
        return None
