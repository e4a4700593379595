"""Ages over 89, which HIPAA Safe Harbor aggregates.

``92-year-old``, ``aged 95``, ``93 y/o``, ``91 Jahre`` (units in ``words/age_units.txt``), and
number words of 90 and more in the family's languages (``ninety-three``, ``noventa y cuatro``;
``words/age_words.txt``), with the word after them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from unified_health.analytics._scrub._view import Finding, ScanView
from unified_health.analytics._scrub._words import AGE_UNITS, AGE_WORDS

__all__ = ["AgeDetector"]

_OLD = r"(?:9\d|1[0-4]\d)"
_UNITS = "|".join(sorted(AGE_UNITS, key=len, reverse=True))
_AGE = re.compile(
    rf"\b{_OLD}\s*[- ]?\s*(?:{_UNITS}|y\.?\s?/?\s?o\.?)\b(?:[\s-]*old)?"
    rf"|\bage[sd]?\s*[:=]?\s*{_OLD}\b",
    re.IGNORECASE,
)
# A number word of 90 or more, alone or starting a compound ("ninety-three", "novantadue").
_WORDS = re.compile(
    r"\b(?:" + "|".join(sorted(map(re.escape, AGE_WORDS), key=len, reverse=True)) + r")[\w-]*"
    r"(?:\s+(?:y|e|und|en|i)\s+\w+|\s+\w+)?",
    re.IGNORECASE,
)


_STEMS = frozenset(word[:4] for word in AGE_WORDS)


class AgeDetector:
    """Finds ages of 90 and over.

    Examples:
        >>> from unified_health.analytics import Sanitizer
        >>> Sanitizer().scrub_value("a 93-year-old")[0]
        'a [REDACTED:age_over_89]'
    """

    category = "age_over_89"
    precedence = 25
    free_text_only = False

    def applies(self, view: ScanView) -> bool:
        """Whether the text has digits or words."""
        return view.digits > 1 or bool(view.words)

    def find(self, view: ScanView) -> Iterator[Finding]:
        """Every age over 89."""
        if view.digits > 1:
            for match in _AGE.finditer(view.text):
                yield Finding(match.start(), match.end(), self.category)
        if any(view.lower[start : start + 4] in _STEMS for start, _ in view.words):
            for match in _WORDS.finditer(view.text):
                yield Finding(match.start(), match.end(), self.category)
