"""Identifiers in URLs and paths.

Every path segment shaped like an id, whatever resource name precedes it, the values of query
parameters shaped like ids or named like personal data, and user information before the host.

A segment (or query value) is id-shaped when it holds a run of three or more digits (in a query
value, one that is not a year: ``?campaign=flu_2026`` and ``?page=2`` pass), is a UUID, starts
with ``~`` or ``@`` (a user's
page), or has a piece (between ``. _ ~ -``) of eight or more letters and digits mixing both
(opaque tokens, signed tokens, handles).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from unified_health.analytics._scrub._keys import key_category
from unified_health.analytics._scrub._view import Finding, ScanView

__all__ = ["UrlDetector", "id_shaped"]

_URL = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|(?<![\w.~-])/)[^\s<>\"'`]*"
    r"|(?<![\w./])[a-z][\w.~-]*(?:/[\w.~%@+-]+){2,}/?",  # a relative path: api/patients/12345
    re.IGNORECASE,
)
_USERINFO = re.compile(r"^[a-z][a-z0-9+.-]*://([^/@\s]+)@", re.IGNORECASE)
_PARTS = re.compile(r"[^/?#&;=]+")
_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
_DIGITS3 = re.compile(r"\d{3,}")
_YEAR = re.compile(r"(?:19|20)\d{2}")
_PIECE = re.compile(r"[A-Za-z0-9]{8,}")
_EXTENSION = re.compile(r"\.[a-z0-9]{1,5}$", re.IGNORECASE)


def id_shaped(segment: str, *, query: bool = False) -> bool:
    """Whether a path segment or query value looks like a record identifier.

    Examples:
        >>> [id_shaped(s) for s in ("4471", "A-88231", "settings", "v2", "2", "flu_2026")]
        [True, True, False, False, False, True]
        >>> id_shaped("flu_2026", query=True)
        False
    """
    core = _EXTENSION.sub("", segment) or segment
    if _UUID.search(core) or core[:1] in "~@":
        return bool(core)
    if core.isdigit():
        return len(core) >= 3 and not (query and _YEAR.fullmatch(core))
    if any(not (query and _YEAR.fullmatch(run)) for run in _DIGITS3.findall(core)):
        return True
    return any(not p.isalpha() and not p.isdigit() for p in _PIECE.findall(core))


class UrlDetector:
    """Finds id-shaped segments, query values and user information in URLs and paths.

    Examples:
        >>> from unified_health.analytics import Sanitizer
        >>> Sanitizer().scrub_value("/clinics/715/rooms/88231/notes")[0]
        '/clinics/[REDACTED:url_identifier]/rooms/[REDACTED:url_identifier]/notes'
    """

    category = "url_identifier"
    precedence = 5
    free_text_only = False

    def applies(self, view: ScanView) -> bool:
        """Whether the text has a slash."""
        return "/" in view.text

    def find(self, view: ScanView) -> Iterator[Finding]:
        """Every identifier inside every URL or path."""
        for match in _URL.finditer(view.text):
            yield from self._url(match.group(), match.start())

    def _url(self, url: str, offset: int) -> Iterator[Finding]:
        scheme_end = url.find("://")
        start = 0
        if scheme_end >= 0:
            userinfo = _USERINFO.match(url)
            if userinfo is not None:
                yield Finding(offset + userinfo.start(1), offset + userinfo.end(1), self.category)
            host_end = url.find("/", scheme_end + 3)
            start = len(url) if host_end < 0 else host_end
        query = url.find("?", start)
        path_end = len(url) if query < 0 else query
        for part in _PARTS.finditer(url, start, path_end):
            if id_shaped(part.group()):
                yield Finding(offset + part.start(), offset + part.end(), self.category)
        if query >= 0:
            yield from self._query(url, query + 1, offset)

    def _query(self, url: str, start: int, offset: int) -> Iterator[Finding]:
        for pair in re.finditer(r"([^&;=#]*)=([^&;#]*)", url[start:]):
            value = pair.group(2)
            if not value:
                continue
            sensitive = key_category(pair.group(1)) is not None
            if sensitive or id_shaped(value, query=True):
                begin = offset + start + pair.start(2)
                yield Finding(begin, begin + len(value), self.category)
