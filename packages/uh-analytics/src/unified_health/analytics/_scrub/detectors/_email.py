r"""E-mail addresses, plain or obfuscated.

``jane(at)example(dot)com``, ``jane at example dot org``, ``jane [at] example [dot] com``,
``jane%40example.com``, ``jane\u0040example.com``.

A spelled-out or spaced form counts only when it ends in a known top-level domain
(``words/email_tlds.txt``), so "meet at noon" is not an address; a plain ``local@domain.tld``
needs no list unless its end is a file extension (``logo@2x.png``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from unified_health.analytics._scrub._view import Finding, ScanView
from unified_health.analytics._scrub._words import EMAIL_TLDS, FILE_EXTENSIONS

__all__ = ["EmailDetector"]

_OPEN = r"[\[({<]"
_CLOSE = r"[\])}>]"
# The ways an "@" is written; the gate below is built from the same list.
_AT_FORMS = (r"@", r"%40", r"&#0*64;", r"&commat;", r"\\u0040", r"\bat\b")
_AT = rf"(?:\s*(?:@|%40|&#0*64;|&commat;|\\u0040)\s*|\s*{_OPEN}\s*(?:at|@)\s*{_CLOSE}\s*|\s+at\s+)"
_DOT = rf"(?:\s*\.\s*|\s*{_OPEN}\s*(?:dot|\.)\s*{_CLOSE}\s*|\s+dot\s+)"
_LOCAL_WORD = r"[a-z0-9!#$%&'*+=?^_`{|}~-]+"
_LOCAL = rf"{_LOCAL_WORD}(?:(?:\s*\.\s*|\s+dot\s+|\s*{_OPEN}\s*dot\s*{_CLOSE}\s*){_LOCAL_WORD})*"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL = re.compile(
    rf"(?<![\w.+-]){_LOCAL}{_AT}(?:{_LABEL}{_DOT}){{1,6}}(?P<tld>[a-z]{{2,24}})(?![\w-])",
    re.IGNORECASE,
)
_GATE = re.compile("|".join(_AT_FORMS), re.IGNORECASE)
_PLAIN = re.compile(r"[^\s@]+@[^\s@]+\.[a-z]{2,24}", re.IGNORECASE)


class EmailDetector:
    """Finds e-mail addresses in any of the obfuscations people use.

    Examples:
        >>> from unified_health.analytics import Sanitizer
        >>> Sanitizer().scrub_free_text("write jane [at] example [dot] com")[0]
        'write [REDACTED:email]'
    """

    category = "email"
    precedence = 10
    free_text_only = False

    def applies(self, view: ScanView) -> bool:
        """Whether the text holds any form of "@"."""
        return _GATE.search(view.text) is not None

    def find(self, view: ScanView) -> Iterator[Finding]:
        """Every address, its whole span."""
        text = view.text
        position = 0
        while (match := _EMAIL.search(text, position)) is not None:
            tld = match["tld"].lower()
            if tld in EMAIL_TLDS or (
                _PLAIN.fullmatch(match.group()) and tld not in FILE_EXTENSIONS
            ):
                yield Finding(match.start(), match.end(), self.category)
                position = match.end()
            else:  # "me at ana.lima" is not an address, but one may start inside it
                position = match.start() + 1
