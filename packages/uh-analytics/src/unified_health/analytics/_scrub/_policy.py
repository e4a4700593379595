"""The default policy for one string value: what passes, is read, or is replaced whole.

*Prose* is a value of five or more words (a word being a whitespace-separated token holding a
letter), unless it is a user agent (``Product/1.2 (...)``). Prose is replaced by
``[REDACTED:free_text]`` unless its field is declared free text. Anything shorter is a *label*:
the detectors read it and replace what they find. Whole values that pass as they are:

* a date or timestamp under a key that says when the event happened (``created_at``, ``ts``),
  and a date with a time of day under any key that is not a person's date;
* ten- or thirteen-digit epoch times under such a key;
* a single id token under a business id key (``order_id``);
* a version number under a version key (``app_version``);
* a number under a quantity key (``duration_ms``, ``file_size_bytes``).
"""

from __future__ import annotations

import re

from unified_health.analytics._scrub._keys import KeyClass

__all__ = ["PROSE_WORDS", "is_prose", "passes_whole"]

PROSE_WORDS = 5
_LETTER = re.compile(r"[^\W\d_]")
_USER_AGENT = re.compile(r"[A-Za-z][\w.-]*/[\w.]+ \(")
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?\s*(?:Z|[+-]\d{2}:?\d{2}|UTC)?)?"
    r"|(?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}(?: GMT| [+-]\d{4})?"
    r"|[A-Z][a-z]{2} \d{1,2}, \d{4},? \d{1,2}:\d{2}(?::\d{2})?(?: [AP]M)?"
    r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4},?[ T]\d{1,2}:\d{2}(?::\d{2})?(?: ?[AP]M)?"
)
_QUANTITY = re.compile(r"-?\d{1,18}(?:[.,]\d{1,9})?")
_TIME_OF_DAY = re.compile(r"\d:\d{2}")
_EPOCH = re.compile(r"1\d{9}(?:\d{3})?(?:\.\d+)?")
_ID_TOKEN = re.compile(r"[\w.:-]{1,128}")
_VERSION = re.compile(r"v?\d{1,6}(?:\.\d{1,6}){1,4}(?:[-+][\w.]{1,32})?(?: \(\d{1,8}\))?", re.I)


def is_prose(text: str) -> bool:
    """Whether ``text`` reads as prose (five or more words) rather than a label.

    Examples:
        >>> is_prose("internal medicine"), is_prose("Patient Jane Roe said she fell")
        (False, True)
        >>> is_prose("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Gecko")
        False
    """
    if text.count(" ") + text.count("\n") + text.count("\t") < PROSE_WORDS - 1:
        return False
    words = sum(1 for token in text.split() if _LETTER.search(token))
    return words >= PROSE_WORDS and not _USER_AGENT.match(text)


def passes_whole(text: str, key: KeyClass) -> bool:
    """Whether the whole value passes without being read (see the module docs).

    Examples:
        >>> from unified_health.analytics._scrub._keys import classify
        >>> passes_whole("2026-03-04T15:22:10Z", classify("created_at"))
        True
        >>> passes_whole("2026-03-04", classify("note"))
        False
    """
    if key.date_of_person:
        return False
    if key.version and _VERSION.fullmatch(text):
        return True
    if key.quantity and _QUANTITY.fullmatch(text):
        return True
    if key.business_id:
        return "@" not in text and _ID_TOKEN.fullmatch(text) is not None
    if _TIMESTAMP.fullmatch(text):
        return key.event_time or _TIME_OF_DAY.search(text) is not None
    return key.event_time and _EPOCH.fullmatch(text) is not None
