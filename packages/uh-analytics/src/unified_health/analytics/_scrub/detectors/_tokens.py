"""Opaque identifier tokens: letters and digits mixed in one token.

The shape of record, member, licence, vehicle and device numbers (``5RQ3DU3DT51``,
``2T1BURHE9JC074512``, ``24-CH-009817``, ``ab12cd34ef56ab78``).

A token is a run of letters and digits, possibly joined by ``-``. It is an identifier when it
mixes letters and digits, has at least 9 characters of which 3 are digits and 2 letters (in
declared free text: 6 characters), and no hyphen-joined piece is a word of five or more letters.
Product words (``iPhone15``, ``Win64``), sizes (``1920x1080``) and slugs
(``release-2026-11-hotfix``) pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from unified_health.analytics._scrub._view import Finding, ScanView

__all__ = ["TokenDetector"]

_TOKEN = re.compile(r"(?<![\w-])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?![\w-])")
LABEL_LENGTH = 9
FREE_TEXT_LENGTH = 6
_DIGITS = 3


class TokenDetector:
    """Finds opaque tokens of identifier shape.

    Examples:
        >>> from unified_health.analytics import Sanitizer
        >>> Sanitizer().scrub_value("VIN 2T1BURHE9JC074512")[0]
        'VIN [REDACTED:id_number]'
    """

    category = "id_number"
    precedence = 65
    free_text_only = False

    def applies(self, view: ScanView) -> bool:
        """Whether the text has enough digits."""
        return view.digits >= _DIGITS

    def find(self, view: ScanView) -> Iterator[Finding]:
        """Every mixed token long enough."""
        least = FREE_TEXT_LENGTH if view.free_text else LABEL_LENGTH
        for match in _TOKEN.finditer(view.text):
            token = match.group()
            alnum = len(token) - token.count("-")
            if alnum < least:
                continue
            if _opaque(token):
                yield Finding(match.start(), match.end(), self.category)


def _opaque(token: str) -> bool:
    """At least 3 digits and 2 letters, and no piece that is a word (``release-2026-11-hotfix``)."""
    digits = sum(c.isdigit() for c in token)
    letters = sum(c.isalpha() for c in token)
    if digits < _DIGITS or letters < 2:
        return False
    return all(not piece.isalpha() or len(piece) <= 4 for piece in token.split("-"))
