"""Identifiers inside URLs and URL paths.

* the user-info part (``https://jane@host/``) is an identifier;
* in an app's own scheme (``myapp://patient/773-221``) the part after ``//`` is a route, not a
  host, and is read as the first path segment;
* a ``~user`` path segment (a personal home page) is an identifier;
* a path segment right after a person resource (``/patients/12345``, ``/users/jane-doe``) is an
  identifier unless it is a short lower-case route word (``/patients/search`` survives); one that
  carries a record-number prefix (``/patients/MRN-20931847``) anywhere in the path is an ``mrn``;
* on a social network the profile handle is an identifier: the first path segment on Facebook,
  X/Twitter, Instagram, TikTok, Threads and the like (``facebook.com/jdoe.4471``), the segment after
  ``/in/`` or ``/pub/`` on LinkedIn, and an ``@handle`` segment anywhere on such a host, unless it
  is one of the network's own routes (``/sharer``, ``/intent``, ``/hashtag``...);
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
# A path segment that is a medical record number with its prefix: "MRN-20931847", "mrn_0042".
_MRN_SEGMENT = re.compile(r"(?:mrn\d|(?:mrn|mr)[-_:.#][A-Za-z]{0,2}\d)\d{2,}[\w.-]*", re.IGNORECASE)
# Social networks whose first path segment is a profile handle, and those (LinkedIn, YouTube)
# whose handle follows a profile route word.
_HANDLE_FIRST = frozenset(
    {
        "facebook.com", "fb.com", "twitter.com", "x.com", "instagram.com", "tiktok.com",
        "threads.net", "pinterest.com", "snapchat.com", "tumblr.com", "medium.com",
        "linkedin.com", "youtube.com", "reddit.com", "vk.com",
    }
)  # fmt: skip
# The host names a network serves its profile pages on besides the bare domain.
_SOCIAL_SUBDOMAINS = frozenset({"www", "m", "mobile", "mbasic", "web", "touch"})
_PROFILE_ROUTES = frozenset({"in", "pub", "profile", "user", "u", "c", "channel", "add"})
# A social network's own pages: the segment that follows is not a handle either.
_NETWORK_ROUTES = frozenset(
    {
        "sharer", "sharer.php", "share", "share.php", "intent", "home", "login", "logout",
        "signup", "help", "hashtag", "search", "explore", "settings", "privacy", "policies",
        "policy", "legal", "about", "tos", "terms", "i", "watch", "pages", "groups", "events",
        "company", "school", "jobs", "feed", "messages", "notifications", "tag", "tags",
        "dialog", "plugins", "tr", "embed", "results", "shorts", "p", "reel", "reels", "status",
        "stories", "r", "oauth", "v2", "api", "developers", "business", "ads", "marketplace",
        "gaming", "live", "trending", "discover", "topics", "lists", "compose", "static",
    }
)  # fmt: skip
# A route word may join two words with "_" ("sign_in") or take a format suffix ("me.json"); a
# dotted pair of words after a person resource ("jane.doe") is a handle, not a route.
_ROUTE_WORD = re.compile(r"[a-z]{1,12}(?:_[a-z]{1,12})?(?:\.(?:json|xml|html?|php|aspx?))?")
# Resources whose dated sub-path is when a person was seen: "/appointments/2026-12-03".
_DATED_RESOURCES = frozenset(
    {
        "appointment", "appointments", "appt", "appts", "visit", "visits", "admission",
        "admissions", "discharge", "discharges", "encounter", "encounters", "procedure",
        "procedures", "surgery", "surgeries", "vaccination", "vaccinations",
    }
)  # fmt: skip
_MIN_TOKEN_LENGTH = 16
# Routes whose next segment is a bearer token sent to one person: "/reset-password/7f4e9a2c...".
_TOKEN_ROUTES = frozenset(
    {
        "reset-password", "reset_password", "password-reset", "password_reset", "reset",
        "set-password", "forgot-password", "verify", "verify-email", "verification", "confirm",
        "confirm-email", "activate", "activation", "invite", "invites", "invitation",
        "invitations", "magic-link", "magic", "login-link", "signin-link", "onboard", "enroll",
        "claim-account", "unsubscribe", "reinitialiser", "réinitialiser", "zuruecksetzen",
        "zurücksetzen", "passwort-zuruecksetzen", "herstellen", "wachtwoord-herstellen",
        "reimposta", "reimposta-password", "recupero-password", "verifica", "bevestigen",
    }
)  # fmt: skip
# A segment after such a route is a token when long and mixing letters and digits.
_OPAQUE = re.compile(
    r"(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{16,}"
    # A shorter one mixing digits with both cases: "/invite/c/Zq81-MeLa-77tx".
    r"|(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[a-z])(?=[A-Za-z0-9_-]*[A-Z])[A-Za-z0-9_-]{10,}"
)
# A token route may put a short kind segment before its token: "/invite/c/<token>".
_KIND_SEGMENT_LENGTH = 2
# Video-visit rooms and meetings: the segment after one names a session held with one patient
# ("/j/98765432101", "/room/dr-lee-pt-jane-doe").
_SESSION_RESOURCES = frozenset(
    {"j", "w", "room", "rooms", "meet", "meeting", "meetings", "session"}
)
# Parameters that carry a meeting password or a one-time code: redacted whatever their value.
_PASSWORD_PARAMS = frozenset({"pwd", "pw", "passcode", "password", "pass", "otp"})
# Short names a link's sign-in token goes under ("?t=a8f3k29dkq01z7"), taken for a token only
# when the value mixes letters and digits, so "?t=1700000000" survives. A signature or an API key
# stands for no person and is left alone.
# Filter values that select no one: "?county=all", "?state=any".
_WILDCARDS = frozenset({"all", "any", "none", "*", "null", "undefined"})
_SHORT_TOKEN_PARAMS = frozenset({"t", "tk", "tok", "code", "invite"})
_MIN_SHORT_TOKEN_LENGTH = 10
_ISO_DATE = re.compile(r"(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])")
# A parameter starts right after "?", "&", ";" or "#": anchored, a string without "=" is read once.
_PARAM = re.compile(r"(?<=[?&;#])([^&;=#]*+)=([^&;#]*+)")
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
        social = False
        scheme_end = url.find("://")
        if scheme_end >= 0 and url[:scheme_end].lower() not in _HOST_SCHEMES:
            position = scheme_end + 3
        elif scheme_end >= 0 or url.lower().startswith("www."):
            authority_start = scheme_end + 3 if scheme_end >= 0 else 0
            authority_end = _first_of(url, "/?#", authority_start)
            at = url.rfind("@", authority_start, authority_end)
            if at >= 0:
                spans.append((offset + authority_start, offset + at, C.URL_IDENTIFIER, 1))
            social = _is_social(url[max(authority_start, at + 1) : authority_end])
            position = authority_end
        path_end = _first_of(url, "?#", position)
        self._path(url, position, path_end, offset, spans, social=social)
        if path_end < len(url):
            resource = url[position:path_end].rstrip("/").rpartition("/")[2].lower()
            self._params(url, path_end + 1, offset, spans, resource)
        return spans

    def _path(
        self, url: str, start: int, end: int, offset: int, spans: list[Span], *, social: bool
    ) -> None:
        previous = ""
        after_token_route = False
        first = True
        index = start
        while index < end:
            stop = url.find("/", index, end)
            if stop < 0:
                stop = end
            segment = url[index:stop]
            if segment:
                category: str | None = None
                if (segment[0] == "M" or segment[0] == "m") and _MRN_SEGMENT.fullmatch(segment):
                    category = C.MRN
                elif (
                    (len(segment) > 1 and segment[0] == "~")
                    or (
                        (previous in PERSON_RESOURCES or previous in _SESSION_RESOURCES)
                        and not _ROUTE_WORD.fullmatch(segment)
                    )
                    or (social and _is_handle(segment, previous, first=first))
                ):
                    category = C.URL_IDENTIFIER
                elif previous in _DATED_RESOURCES and _ISO_DATE.fullmatch(segment):
                    category = C.PERSONAL_DATE
                elif (previous in _TOKEN_ROUTES or after_token_route) and _OPAQUE.fullmatch(
                    segment
                ):
                    category = C.URL_IDENTIFIER
                if category is not None:
                    spans.append((offset + index, offset + stop, category, 1))
                after_token_route = (
                    previous in _TOKEN_ROUTES and len(segment) <= _KIND_SEGMENT_LENGTH
                )
                previous = segment.lower()
                first = False
            index = stop + 1

    def _params(self, url: str, start: int, offset: int, spans: list[Span], resource: str) -> None:
        for m in _PARAM.finditer(url, start):
            value = m.group(2)
            if not value or value.lower() in _WILDCARDS:
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
            if (
                category is None
                and tokens
                and tokens[-1] == "token"
                and len(value) >= _MIN_TOKEN_LENGTH
                and not _ROUTE_WORD.fullmatch(value)
            ):
                # An invite, sign-in or password-reset link's token stands for the person it was
                # sent to; a short value ("tok_visa") is a fixture or a type name.
                category = C.URL_IDENTIFIER
            if (
                category is None
                and tokens == ("id",)
                and resource in PERSON_RESOURCES
                and any(ch.isdigit() for ch in value)
            ):
                # "/client?id=7740215593": the id of the person the page is about.
                category = C.URL_IDENTIFIER
            if category is None and tokens and len(tokens) == 1 and _is_secret(tokens[0], value):
                category = C.URL_IDENTIFIER
            if category is None and tokens == ("identifier",) and any(ch.isdigit() for ch in value):
                # A FHIR search by identifier ("?identifier=urn:oid:...|E551902") names one person.
                category = C.URL_IDENTIFIER
            if category is None:
                decoded = unquote_plus(unquote_plus(value)) if "%" in value or "+" in value else ""
                found = self._scan_text(decoded) if decoded else []
                if not found:
                    continue
                category = min(found, key=lambda span: span[3])[2]
            spans.append((offset + m.start(2), offset + m.end(2), category, 1))


def _is_secret(name: str, value: str) -> bool:
    """A meeting password, a one-time code or a short-named sign-in token."""
    if name in _PASSWORD_PARAMS:
        return len(value) >= 4 and not _ROUTE_WORD.fullmatch(value)
    return (
        name in _SHORT_TOKEN_PARAMS
        and len(value) >= _MIN_SHORT_TOKEN_LENGTH
        and any(ch.isdigit() for ch in value)
        and any(ch.isalpha() for ch in value)
    )


def _is_social(host: str) -> bool:
    host = host.lower().rstrip(".")
    colon = host.find(":")
    if colon >= 0:
        host = host[:colon]
    if host in _HANDLE_FIRST:
        return True
    dot = host.find(".")
    return dot >= 0 and host[:dot] in _SOCIAL_SUBDOMAINS and host[dot + 1 :] in _HANDLE_FIRST


def _is_handle(segment: str, previous: str, *, first: bool) -> bool:
    """A social network profile handle: ``@jdoe``, the first segment, or one after ``/in/``."""
    if len(segment) > 1 and segment[0] == "@":
        return True
    if not first and previous not in _PROFILE_ROUTES:
        return False
    lower = segment.lower()
    return lower not in _NETWORK_ROUTES and lower not in _PROFILE_ROUTES and len(lower) > 1


def _first_of(text: str, chars: str, start: int) -> int:
    best = len(text)
    for ch in chars:
        found = text.find(ch, start, best)
        if found >= 0:
            best = found
    return best
