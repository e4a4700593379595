"""Identifiers inside URLs and URL paths.

* the user-info part (``https://jane@host/``) is an identifier;
* in an app's own scheme (``myapp://patient/773-221``) the part after ``//`` is a route, not a
  host, and is read as the first path segment;
* a ``~user`` path segment (a personal home page) is an identifier;
* a path segment right after a person resource (``/patients/12345``, ``/users/jane-doe``) is an
  identifier unless it is a short lower-case route word (``/patients/search`` survives);
* a query or fragment parameter whose name is a sensitive key (``?email=...``, ``&dob=...``) is
  redacted whole, under that key's category; one named after a person resource
  (``?patient=Jane+Doe``, ``&user=58213``) is redacted whole unless its value is a route word;
* any other parameter value is percent-decoded and scanned as free text, so
  ``?q=jane%40example.com`` is caught even though the raw text holds no ``@``.

Everything else in the URL (scheme, host, route words, harmless parameters) survives.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote_plus

from unified_health.analytics._scrub._categories import RedactionCategory as C
from unified_health.analytics._scrub._keys import read_key

__all__ = ["PERSON_RESOURCES", "UrlScrubber"]

Span = tuple[int, int, str, int]

PERSON_RESOURCES = frozenset(
    {
        "patient", "patients", "user", "users", "member", "members", "people", "person", "persons",
        "profile", "profiles", "account", "accounts", "customer", "customers", "client", "clients",
        "subscriber", "subscribers", "beneficiary", "beneficiaries", "dependent", "dependents",
        "mrn", "record", "records", "chart", "charts", "contact", "contacts", "employee",
        "employees", "guardian", "guardians", "caregiver", "caregivers", "u", "p",
    }
)  # fmt: skip
_ROUTE_WORD = re.compile(r"[a-z]{1,12}(?:[._][a-z]{1,12})?")
_PARAM = re.compile(r"([^&;=#]*)=([^&;#]*)")
# Schemes whose authority is a network host; in any other scheme it is the app's first route word.
_HOST_SCHEMES = frozenset({"http", "https", "ftp", "ftps", "ws", "wss", "sftp", "ssh", "file"})


class UrlScrubber:
    """Finds identifier spans in one URL; ``scan_text`` scans decoded parameter values."""

    __slots__ = ("_scan_text",)

    def __init__(self, scan_text: Callable[[str], list[Span]]) -> None:
        self._scan_text = scan_text

    def __call__(self, url: str, offset: int) -> list[Span]:
        """Spans (relative to the enclosing text, starting at ``offset``) to redact in ``url``."""
        spans: list[Span] = []
        position = 0
        scheme_end = url.find("://")
        if scheme_end >= 0 and url[:scheme_end].lower() not in _HOST_SCHEMES:
            position = scheme_end + 3
        elif scheme_end >= 0 or url.lower().startswith("www."):
            authority_start = scheme_end + 3 if scheme_end >= 0 else 0
            authority_end = _first_of(url, "/?#", authority_start)
            at = url.rfind("@", authority_start, authority_end)
            if at >= 0:
                spans.append((offset + authority_start, offset + at, C.URL_IDENTIFIER, 1))
            position = authority_end
        path_end = _first_of(url, "?#", position)
        self._path(url, position, path_end, offset, spans)
        if path_end < len(url):
            self._params(url, path_end + 1, offset, spans)
        return spans

    def _path(self, url: str, start: int, end: int, offset: int, spans: list[Span]) -> None:
        previous = ""
        index = start
        while index < end:
            stop = url.find("/", index, end)
            if stop < 0:
                stop = end
            segment = url[index:stop]
            personal = len(segment) > 1 and segment[0] == "~"
            if personal or (
                segment and previous in PERSON_RESOURCES and not _ROUTE_WORD.fullmatch(segment)
            ):
                spans.append((offset + index, offset + stop, C.URL_IDENTIFIER, 1))
            if segment:
                previous = segment.lower()
            index = stop + 1

    def _params(self, url: str, start: int, offset: int, spans: list[Span]) -> None:
        for m in _PARAM.finditer(url, start):
            value = m.group(2)
            if not value:
                continue
            name = m.group(1)
            tokens, classified = read_key(
                unquote_plus(name) if "%" in name or "+" in name else name
            )
            category: str | None = classified
            if (
                category is None
                and len(tokens) == 1
                and tokens[0] in PERSON_RESOURCES
                and len(tokens[0]) > 1
                and not _ROUTE_WORD.fullmatch(value)
            ):
                category = C.URL_IDENTIFIER
            if category is None:
                decoded = unquote_plus(unquote_plus(value)) if "%" in value or "+" in value else ""
                found = self._scan_text(decoded) if decoded else []
                if not found:
                    continue
                category = min(found, key=lambda span: span[3])[2]
            spans.append((offset + m.start(2), offset + m.end(2), category, 1))


def _first_of(text: str, chars: str, start: int) -> int:
    best = len(text)
    for ch in chars:
        found = text.find(ch, start, best)
        if found >= 0:
            best = found
    return best
