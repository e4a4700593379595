"""Key-value pairs inside a value.

JSON members (``"lastName":"Patel"``), form and query pairs
(``zip=60614&radius=10``), labelled fields (``Postal code: M5V 3L9``, ``Age at consent: 91``)
and a key word right before a value holding a digit (``MRN 12345``, ``zip 02139``).

The embedded key is read like a property key (`unified_health.analytics._scrub._keys`): a key
that names personal data has its value replaced; an age key with a value of 90 or more is
replaced as ``age_over_89``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from unified_health.analytics._scrub._keys import classify
from unified_health.analytics._scrub._view import Finding, ScanView

__all__ = ["PairDetector"]

_JSON = re.compile(
    r'"([A-Za-z_][\w .-]{0,40})"\s*:\s*("(?:[^"\\]|\\.){0,512}"|-?\d[\d.eE+-]{0,30})'
)
_FORM = re.compile(r"(?<![\w%])([A-Za-z_][\w.\[\]-]{0,40})=([^&;\s#\"]{1,512})")
_LABELLED = re.compile(
    r"(?<![\w])([A-Za-z][A-Za-z_.-]*(?: [A-Za-z][A-Za-z_.-]*){0,3})\s?[:=#]\s*"
    r"([^,;|&\n\"]{1,80})"
)
# A key word right before a value with a digit: "MRN 12345", "phone 555 0100", "zip 02139".
_CUED = re.compile(r"(?<![\w-])([A-Za-z]{2,12})\.?\s{1,2}(#?\s?[A-Za-z0-9][\w.-]*\d[\w-]*)")
_GATE = re.compile(r"[:=]|[A-Za-z]\.?\s{1,2}#?\s?\w*\d")


class PairDetector:
    """Finds values under embedded keys that name personal data.

    Examples:
        >>> from unified_health.analytics import Sanitizer
        >>> Sanitizer().scrub_value('{"lastName":"Patel","plan":"gold"}')[0]
        '{"lastName":"[REDACTED:name]","plan":"gold"}'
    """

    category = "custom"
    precedence = 70  # a catch-all: where a specific detector finds the same span, it names it
    free_text_only = False

    def applies(self, view: ScanView) -> bool:
        """Whether the text has a ``:`` or ``=``."""
        return _GATE.search(view.text) is not None

    def find(self, view: ScanView) -> Iterator[Finding]:
        """Every value under a sensitive embedded key."""
        text = view.text
        for pattern in (_JSON, _FORM, _LABELLED, _CUED):
            for match in pattern.finditer(text):
                key = match.group(1)
                if pattern is _CUED:  # a word in text, not a key: "iPhone 15" is no phone
                    key = key.lower()
                found = self._pair(key, match.group(2), match.start(2))
                if found is not None:
                    yield found

    def _pair(self, key: str, value: str, start: int) -> Finding | None:
        kind = classify(key)
        stripped = value.strip().strip('"')
        if not stripped or stripped.startswith("[REDACTED:"):
            return None
        offset = start + value.index(stripped[0])
        end = offset + len(stripped)
        if kind.age or "age" in key.lower().split():
            digits = re.match(r"\d{2,3}", stripped)
            if digits is not None and int(digits.group()) >= 90:
                return Finding(offset, offset + digits.end(), "age_over_89")
            return None
        if kind.category is None or (kind.date_of_person and len(stripped) < 4):
            return None
        return Finding(offset, end, kind.category)
