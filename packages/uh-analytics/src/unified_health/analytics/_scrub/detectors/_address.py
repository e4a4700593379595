"""Street addresses and P.O. boxes.

A house number, up to four words, a street suffix and a unit (``42 Elm Street, Apt 4``); a
compound street name and a number (``Hauptstraße 12a``); a street word, a name and a number
(``ul. Marszałkowska 84/92``, ``Via Roma 3``); a postcode before a place name (``10115 Berlin``,
``1016 GV Amsterdam``). The street words are general vocabulary in ``words/street_*.txt``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from unified_health.analytics._scrub._view import Finding, ScanView
from unified_health.analytics._scrub._words import (
    STREET_COMPOUNDS,
    STREET_PREFIXES,
    STREET_SUFFIXES,
)

__all__ = ["AddressDetector"]

_SUFFIX = "|".join(sorted(STREET_SUFFIXES, key=len, reverse=True))
_STREET = re.compile(
    rf"(?<![\w-])\d{{1,6}}[a-z]?\s+(?:[\w'.-]+\s+){{0,4}}?(?:{_SUFFIX})\b\.?"
    r"(?:,?\s*(?:apt|apartment|unit|suite|ste|#)\.?\s*#?\s*[\w-]{1,6})?",
    re.IGNORECASE,
)
_PO_BOX = re.compile(r"\bp\.?\s?o\.?\s*box\s*#?\s*\d+", re.IGNORECASE)
_COMPOUND = "|".join(sorted(STREET_COMPOUNDS, key=len, reverse=True))
_PREFIX = "|".join(sorted(STREET_PREFIXES, key=len, reverse=True))
# "Hauptstraße 12a", "Prinsengracht 263-1": a compound street name and a number.
_EUROPEAN = re.compile(
    rf"\b[^\W\d_]+(?:{_COMPOUND})\.?\s+\d{{1,5}}[a-z]?(?:[-/]\d{{1,5}})?\b"
    # "ul. Marszałkowska 84/92", "rue de la Paix 12", "Via Roma 3"
    rf"|\b(?:{_PREFIX})\.?\s+(?:[^\W\d_][\w'.-]*\s+){{1,4}}\d{{1,5}}[a-z]?(?:[-/]\d{{1,5}})?\b",
    re.IGNORECASE,
)
# A postcode before a capitalised place name: "10115 Berlin", "1016 GV Amsterdam", "00-514 W".
_POSTCODE = re.compile(r"\b(?:\d{5}|\d{4}\s?[A-Z]{2}|\d{2}-\d{3})\s+[A-Z][^\W\d_]+")


_NUMBER_CAPITAL = re.compile(r"\d\s+[A-Z]")
_COMPOUND_ENDINGS = tuple(STREET_COMPOUNDS)


def _street_word(word: str) -> bool:
    """A street suffix or prefix, or a word ending like a compound street name."""
    return word in STREET_SUFFIXES or word in STREET_PREFIXES or word.endswith(_COMPOUND_ENDINGS)


class AddressDetector:
    """Finds street addresses and post office boxes.

    Examples:
        >>> from unified_health.analytics import Sanitizer
        >>> Sanitizer().scrub_value("lives at 42 Elm Street")[0]
        'lives at [REDACTED:street_address]'
    """

    category = "street_address"
    precedence = 30
    free_text_only = False

    def applies(self, view: ScanView) -> bool:
        """Whether there is a number and a street word, a box, or a number before a capital."""
        if view.digits == 0:
            return False
        if "box" in view.lower or _NUMBER_CAPITAL.search(view.text):
            return True
        return any(_street_word(view.lower[start:end]) for start, end in view.words)

    def find(self, view: ScanView) -> Iterator[Finding]:
        """Every address span."""
        for pattern in (_STREET, _PO_BOX, _EUROPEAN, _POSTCODE):
            for match in pattern.finditer(view.text):
                yield Finding(match.start(), match.end(), self.category)
