"""Ages over 89, which HIPAA Safe Harbor aggregates: ``92-year-old``, ``aged 95``, ``93 y/o``."""

from __future__ import annotations

import re
from collections.abc import Iterator

from unified_health.analytics._scrub._view import Finding, ScanView

__all__ = ["AgeDetector"]

_OLD = r"(?:9\d|1[0-4]\d)"
_AGE = re.compile(
    rf"\b{_OLD}\s*[- ]?\s*(?:years?|yrs?|y\.?\s?/?\s?o\.?|yo)\b(?:[\s-]*old)?"
    rf"|\bage[sd]?\s*[:=]?\s*{_OLD}\b",
    re.IGNORECASE,
)


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
        """Whether the text has a 9 or a 1 (every age over 89 starts with one)."""
        return view.digits > 1 and ("9" in view.text or "1" in view.text)

    def find(self, view: ScanView) -> Iterator[Finding]:
        """Every age over 89."""
        for match in _AGE.finditer(view.text):
            yield Finding(match.start(), match.end(), self.category)
