r"""A host's own pattern as a detector: ``Sanitizer(custom_patterns={"mrn": r"CL-\d{6}"})``."""

from __future__ import annotations

import re
from collections.abc import Iterator

from unified_health.analytics._scrub._view import Finding, ScanView

__all__ = ["PatternDetector"]


class PatternDetector:
    r"""Every match of one regular expression, reported under one category.

    Examples:
        >>> detector = PatternDetector("clinic_mrn", re.compile(r"CL-\d{6}"))
        >>> list(detector.find(ScanView("CL-123456")))
        [Finding(start=0, end=9, category='clinic_mrn')]
    """

    precedence = 1
    free_text_only = False

    def __init__(self, category: str, pattern: re.Pattern[str]) -> None:
        self.category = category
        self._pattern = pattern

    def applies(self, view: ScanView) -> bool:
        """Always: a host pattern has no gate the registry could know."""
        return True

    def find(self, view: ScanView) -> Iterator[Finding]:
        """Every match."""
        for match in self._pattern.finditer(view.text):
            yield Finding(match.start(), match.end(), self.category)
