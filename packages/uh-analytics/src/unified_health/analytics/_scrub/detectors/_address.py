"""Street addresses (a house number, up to four words, a street suffix, a unit) and P.O. boxes.

The suffixes are general vocabulary in ``words/street_suffixes.txt``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from unified_health.analytics._scrub._view import Finding, ScanView
from unified_health.analytics._scrub._words import STREET_SUFFIXES

__all__ = ["AddressDetector"]

_SUFFIX = "|".join(sorted(STREET_SUFFIXES, key=len, reverse=True))
_STREET = re.compile(
    rf"(?<![\w-])\d{{1,6}}[a-z]?\s+(?:[\w'.-]+\s+){{0,4}}?(?:{_SUFFIX})\b\.?"
    r"(?:,?\s*(?:apt|apartment|unit|suite|ste|#)\.?\s*#?\s*[\w-]{1,6})?",
    re.IGNORECASE,
)
_PO_BOX = re.compile(r"\bp\.?\s?o\.?\s*box\s*#?\s*\d+", re.IGNORECASE)


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
        """Whether there is a number and a street suffix or a box."""
        if view.digits == 0:
            return False
        return "box" in view.lower or any(
            view.word(i) in STREET_SUFFIXES for i in range(len(view.words))
        )

    def find(self, view: ScanView) -> Iterator[Finding]:
        """Every address span."""
        for pattern in (_STREET, _PO_BOX):
            for match in pattern.finditer(view.text):
                yield Finding(match.start(), match.end(), self.category)
