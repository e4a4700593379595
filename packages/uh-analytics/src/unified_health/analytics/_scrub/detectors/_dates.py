"""Dates more precise than a year, with or without a cue.

``03/14/1950``, ``1950-03-14``, ``14.3.50``, ``3/14/'50``, ``March 14``, ``14th of March 2026``,
``02-Feb-2014``, ``21. März 1961``, ``Mar '58``, ``2026-03``. Month names come from
``words/months.txt``.

A year alone is not an identifier (HIPAA Safe Harbor keeps years), so ``1950`` and ``'58`` pass.
In a short label a day and month need a year or a month name (``9/10`` is a score); in declared
free text ``3/14`` counts too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from unified_health.analytics._scrub._view import Finding, ScanView
from unified_health.analytics._scrub._words import MONTHS

__all__ = ["DateDetector", "MONTH"]

#: A month name or abbreviation (``words/months.txt``), optionally with a dot.
MONTH = "(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?:\d{4}|'\d{2}|\d{2}(?!\d))"
_DAY = r"(?:[0-2]?\d|3[01])(?:st|nd|rd|th)?"
# A dotted date needs a four-digit year or two-digit parts: "16.7.10" is a version.
_NUMERIC = re.compile(
    r"(?<![\w/.-])(?:"
    r"\d{4}(?:[-/](?:0?[1-9]|1[0-2])[-/](?:[0-2]?\d|3[01])|\.(?:0[1-9]|1[0-2])\.(?:[0-2]\d|3[01]))"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    rf"|\d{{1,2}}([-/])\d{{1,2}}\1{_YEAR}"  # 03/14/1950, 3/14/'50
    r"|\d{1,2}\.\d{1,2}\.(?:\d{4}|'\d{2})|\d{2}\.\d{2}\.\d{2}"  # 14.3.1950, 14.03.50
    r"|(?:0?[1-9]|1[0-2])[/-](?:19|20)\d{2}"  # 03/1950
    r"|(?:19|20)\d{2}-(?:0[1-9]|1[0-2])(?![-\d])"  # 1950-03
    r")(?![\d/])"
)
_SHORT = re.compile(r"(?<![\d/.])(?:0?[1-9]|1[0-2])/(?:[0-2]?\d|3[01])(?![\d/])")
_WORDED = re.compile(
    rf"\b(?:{MONTH}[\s-]*{_DAY}\b(?:,?[\s-]*{_YEAR})?"  # March 14, 1950
    rf"|{_DAY}\.?[\s./-]*(?:(?:of|de)\s+)?{MONTH}(?![a-z])(?:,?[\s./-]*(?:de\s+)?{_YEAR})?"
    rf"|{MONTH}(?![a-z]),?\s*(?:\d{{4}}|'\d{{2}}))",  # March 1950, Mar '58
    re.IGNORECASE,
)


_DIGIT_SEPARATOR = re.compile(r"\d[-/.]\d")


def _valid(text: str) -> bool:
    numbers = [int(n) for n in re.findall(r"\d+", text)[:3]]
    if len(numbers) < 3 or len(str(numbers[0])) == 4 or text[:4].isdigit():
        return True
    first, second = numbers[0], numbers[1]
    return (first <= 12 and second <= 31) or (second <= 12 and first <= 31)


class DateDetector:
    """Finds dates more precise than a year.

    Examples:
        >>> from unified_health.analytics import Sanitizer
        >>> Sanitizer().scrub_value("seen on March 3rd")[0]
        'seen on [REDACTED:personal_date]'
    """

    category = "personal_date"
    precedence = 20
    free_text_only = False

    def applies(self, view: ScanView) -> bool:
        """Whether the text has digits (every date form has some)."""
        return view.digits > 0

    def find(self, view: ScanView) -> Iterator[Finding]:
        """Every date, numeric or with a month name."""
        text = view.text
        if _DIGIT_SEPARATOR.search(text):  # every numeric form joins digits with - / or .
            for match in _NUMERIC.finditer(text):
                if _valid(match.group()):
                    yield Finding(match.start(), match.end(), self.category)
        if view.free_text:
            for match in _SHORT.finditer(text):
                yield Finding(match.start(), match.end(), self.category)
        if any(view.lower[start:end] in MONTHS for start, end in view.words):
            for match in _WORDED.finditer(text):
                yield Finding(match.start(), match.end(), self.category)
