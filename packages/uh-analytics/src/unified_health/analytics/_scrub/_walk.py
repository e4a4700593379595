"""The structure walker: turns any mapping into a JSON-ready copy with identifiers redacted.

Rules for input that is not plain JSON (each documented on `Sanitizer`):

* ``str`` is scanned; ``bytes``-like values are decoded as UTF-8 (invalid bytes replaced) and
  scanned; ``int`` is kept unless it is under a sensitive key or its digits hold an identifier;
  ``float`` is kept (NaN and infinities become ``None``); ``bool`` and ``None`` are kept.
* ``datetime``/``date``/``time``, ``Decimal``, ``UUID``, IP address objects and paths are turned
  into their string form and scanned; an ``Enum`` is replaced by its value.
* mappings, lists, tuples, sets and frozensets are walked (sets in a stable order) and come out
  as ``dict`` and ``list``; dataclass instances and objects with a pydantic ``model_dump`` come out
  as ``dict``.
* keys are turned into strings (``str``, ``int``, ``float``, ``bool``, ``None``; other keys drop
  their entry) and scanned like values (an ``_`` read as a space, so ``ssn_123-45-6789`` loses its
  number); two keys that collide after redaction are kept apart.
* a placeholder under a sensitive key (``<masked>``, ``***``) is kept; a dotted version number under
  a version key (``firmware_version``) is not an IP address.
* a container nested deeper than `MAX_DEPTH`, or one that contains itself, becomes
  ``[REDACTED:too_deep]``; past `MAX_NODES` values, or a string longer than `MAX_TEXT`, the value
  becomes ``[REDACTED:too_large]``; any other type becomes ``[REDACTED:unsupported_type]``. Each
  of these is counted like a redaction. Nothing is ever passed through uninspected.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import math
import re
import uuid
from collections.abc import Mapping, Set
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any

from unified_health.analytics._clock import Clock
from unified_health.analytics._scrub import _patterns as p
from unified_health.analytics._scrub._categories import RedactionCategory as C
from unified_health.analytics._scrub._categories import marker
from unified_health.analytics._scrub._keys import (
    classify_key,
    is_age_key,
    is_filter_key,
    is_search_key,
    normalise_key,
)
from unified_health.analytics._scrub._names import US_STATES
from unified_health.analytics._scrub._text import (
    TextScanner,
    apply_spans,
    last_first_query,
    signature_names,
    trailing_zip,
)

__all__ = ["MAX_DEPTH", "MAX_NODES", "MAX_TEXT", "Walker"]

MAX_DEPTH = 12
MAX_NODES = 5_000
MAX_TEXT = 65_536
_AGE = "age"
# Not a category: the key holds a search query, scanned as text and for a ZIP code ending it.
_SEARCH = "search"
# Not a category either: the key holds a version, so a dotted version number is not an address.
_VERSION = "version"
# Not a category: the key holds directory or search filters, where a city is a criterion.
_FILTER = "filter"
# Not a category: a signature block under a name key, read line by line.
_SIGNATURE = "signature"
_HINTS = frozenset({_AGE, _SEARCH, _VERSION, _FILTER})
_SIGNATURE_WORDS = frozenset({"signature", "sig", "footer"})
_VERSION_WORDS = frozenset({"version", "ver", "firmware", "fw", "build", "release", "sdk"})
_VERSION_SHAPE = re.compile(r"v?\d{1,6}(?:\.\d{1,6}){1,4}")
# A placeholder a client puts where it has already masked the value: "<masked>", "***".
_PLACEHOLDER = re.compile(
    r"\s*[<\[({]?(?i:masked|redacted|hidden|removed|withheld|omitted|anonymi[sz]ed|anonymous)[>\])}]?\s*"
    r"|[\s*\u2022xX#-]*[*\u2022#][\s*\u2022xX#-]*"
    # An address masked but for a letter or two: "j\u2022\u2022\u2022@example.com".
    r"|\s*[^\s@*\u2022]{0,2}[*\u2022]{2,}[^\s@]{0,2}@[\w.-]+\s*"
)
# A finding under a person key that leaves no capitalised word: "cel. 786.555.0135 (hija)".
_CAPITALISED = re.compile(r"[A-ZÀ-Þ][a-zß-ÿ]{2,}")
_CACHE_LIMIT = 4_096
_CACHED_KEY_LENGTH = 128
# Short values found clean are remembered: property values repeat (a specialty, a screen, a plan).
_CACHED_TEXT_LENGTH = 64
_MARKER = re.compile(r"\[REDACTED:[a-z][a-z0-9_]{0,39}\]")
_LEADING_NUMBER = re.compile(r"\s*(\d{1,3})(?!\d)")
_STRINGIFIED = (
    dt.datetime, dt.date, dt.time, Decimal, uuid.UUID, ipaddress.IPv4Address,
    ipaddress.IPv6Address, ipaddress.IPv4Network, ipaddress.IPv6Network, PurePath,
)  # fmt: skip
# Categories a whole-value finding may report instead of its key's broader category.
_SPECIFIC = frozenset({C.EMAIL, C.IBAN, C.CREDIT_CARD})
_STRUCTURED = frozenset({C.STREET_ADDRESS.value, C.LOCATION.value})
_TOO_DEEP = marker(C.TOO_DEEP)
_TOO_LARGE = marker(C.TOO_LARGE)
_UNSUPPORTED = marker(C.UNSUPPORTED_TYPE)


class Walker:
    """Holds the per-tenant configuration; every call keeps its state on the stack."""

    __slots__ = ("_allow", "_cache", "_clean", "_clean_until", "_clock", "_extra", "_scanner")

    def __init__(
        self, scanner: TextScanner, allow: frozenset[str], extra: frozenset[str], clock: Clock
    ) -> None:
        self._scanner = scanner
        self._allow = allow
        self._extra = extra
        self._clock = clock
        self._cache: dict[str, tuple[str, str | None]] = {}
        self._clean: set[str] = set()
        self._clean_until = _next_new_year(clock)

    def key_info(self, key: str, counts: dict[str, int]) -> tuple[str, str | None]:
        """The key with identifiers redacted, and the category its value holds whole.

        The category is ``"age"`` for age keys and ``"search"`` for search query keys. Keys in
        which nothing was found are cached (keys are an event's schema and repeat); keys holding
        an identifier are never kept.
        """
        found = self._cache.get(key)
        if found is not None:
            return found
        tokens = normalise_key(key)
        compact = "".join(tokens)
        category: str | None
        if compact in self._allow:
            category = None
        elif compact in self._extra:
            category = C.CUSTOM.value
        elif is_age_key(tokens):
            category = _AGE
        else:
            classified = classify_key(tokens)
            if classified is C.NAME and tokens[-1] in _SIGNATURE_WORDS:
                category = _SIGNATURE
            elif classified is not None:
                category = classified.value
            elif is_search_key(tokens):
                category = _SEARCH
            elif is_filter_key(tokens):
                category = _FILTER
            else:
                category = _VERSION if tokens and tokens[-1] in _VERSION_WORDS else None
        own: dict[str, int] = {}
        # An underscore joins words in a key ("ssn_123-45-6789"): read it as a space, so that an
        # identifier glued to a word by one is found like one after a space.
        spans = self._scanner.find(key.replace("_", " ") if "_" in key else key)
        clean = apply_spans(key, spans, own) if spans else key
        if own:
            for name, count in own.items():
                counts[name] = counts.get(name, 0) + count
            return clean, category
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        if len(key) <= _CACHED_KEY_LENGTH:
            self._cache[key] = (clean, category)
        return clean, category

    def mapping(self, data: Mapping[Any, object], counts: dict[str, int]) -> dict[str, object]:
        """Walk a top-level mapping."""
        if self._clock.monotonic() >= self._clean_until:
            # Ages are judged against the current year ("born 1936" is over 89 from 2026 on):
            # what was clean last year may not be now.
            self._clean = set()
            self._clean_until = _next_new_year(self._clock)
        state = _State(counts)
        return self._mapping(data, None, 0, state)

    # ------------------------------------------------------------ internals
    def _mapping(
        self, data: Mapping[object, object], inherited: str | None, depth: int, state: _State
    ) -> dict[str, object]:
        out: dict[str, object] = {}
        for raw_key, raw_value in list(data.items()):
            if isinstance(raw_key, str):
                text = raw_key
            elif raw_key is None or isinstance(raw_key, int | float):
                text = str(raw_key)
            elif isinstance(raw_key, Enum) and isinstance(raw_key.value, str | int):
                text = str(raw_key.value)
            else:
                state.count(C.UNSUPPORTED_TYPE)
                continue
            if len(text) > MAX_TEXT:
                state.count(C.TOO_LARGE)
                continue
            key, own = self.key_info(text, state.counts)
            category = own if own is not None else inherited
            if key in out:
                suffix = 2
                while f"{key}_{suffix}" in out:
                    suffix += 1
                key = f"{key}_{suffix}"
            if category is None and (
                (type(raw_value) is str and raw_value in self._clean)
                or raw_value is None
                or type(raw_value) is bool
                or (type(raw_value) is int and -1_000_000 < raw_value < 1_000_000)
            ):
                state.nodes += 1  # the common cases, without the general dispatch
                if state.nodes <= MAX_NODES:
                    out[key] = raw_value
                    continue
            out[key] = self._value(raw_value, category, depth + 1, state)
        return out

    def _value(self, value: object, category: str | None, depth: int, state: _State) -> object:
        state.nodes += 1
        if state.nodes > MAX_NODES:
            state.count(C.TOO_LARGE)
            return _TOO_LARGE
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            return self._text(value, category, state)
        if isinstance(value, int):
            return self._number(value, category, state)
        if category == _SIGNATURE and not isinstance(value, str | Mapping | list | tuple | Set):
            category = C.NAME.value
        if isinstance(value, float):
            if category is not None and category not in _HINTS:
                return state.redact(category)
            if not math.isfinite(value):
                return None
            if category == _AGE and value >= 90:
                return state.redact(C.AGE_OVER_89)
            return value
        if isinstance(value, bytes | bytearray | memoryview):
            return self._text(bytes(value).decode("utf-8", "replace"), category, state)
        if isinstance(value, Enum):
            return self._value(value.value, category, depth, state)
        if isinstance(value, _STRINGIFIED):
            text = value.isoformat() if isinstance(value, dt.date | dt.time) else str(value)
            return self._text(text, category, state)
        if isinstance(value, Mapping | list | tuple | Set) or _is_record(value):
            if depth > MAX_DEPTH or id(value) in state.path:
                state.count(C.TOO_DEEP)
                return _TOO_DEEP
            state.path.add(id(value))
            try:
                if isinstance(value, Mapping):
                    return self._mapping(value, category, depth, state)
                if isinstance(value, list | tuple):
                    return [self._value(item, category, depth + 1, state) for item in value]
                if isinstance(value, Set):
                    return [
                        self._value(item, category, depth + 1, state) for item in _stable(value)
                    ]
                return self._mapping(_record_fields(value), category, depth, state)
            except Exception:  # noqa: BLE001  (a hostile model_dump or __iter__ is dropped)
                state.count(C.UNSUPPORTED_TYPE)
                return _UNSUPPORTED
            finally:
                state.path.discard(id(value))
        state.count(C.UNSUPPORTED_TYPE)
        return _UNSUPPORTED

    def _text(self, text: str, category: str | None, state: _State) -> object:
        if category is None:
            if text in self._clean:
                return text
            if len(text) > MAX_TEXT:
                return state.redact(C.TOO_LARGE)
            cleaned = self._scanner.redact(text, state.counts)
            if cleaned is text and len(text) <= _CACHED_TEXT_LENGTH:
                # Only values in which nothing was found are kept, as for keys.
                if len(self._clean) >= _CACHE_LIMIT:
                    self._clean.clear()
                self._clean.add(text)
            return cleaned
        if category == _SEARCH:
            if len(text) > MAX_TEXT:
                return state.redact(C.TOO_LARGE)
            spans = self._scanner.find(text)
            zip_code = trailing_zip(text)
            if zip_code is not None:
                spans.append(zip_code)
            if "," in text:
                name = last_first_query(text)
                if name is not None:
                    spans.append(name)
            return apply_spans(text, spans, state.counts) if spans else text
        if category == _VERSION:
            if _VERSION_SHAPE.fullmatch(text):
                return text
            return self._text(text, None, state)
        if category == _FILTER:
            if len(text) > MAX_TEXT:
                return state.redact(C.TOO_LARGE)
            spans = [span for span in self._scanner.find(text) if span[2] != C.LOCATION]
            return apply_spans(text, spans, state.counts) if spans else text
        if category == _SIGNATURE:
            if "\n" not in text or len(text) > MAX_TEXT:
                return self._text(text, C.NAME.value, state)
            # A signature block: its lines are read, the name line redacted as a name, a phone
            # number as a phone number. A block in which nothing is found goes whole.
            spans = self._scanner.find(text)
            spans.extend(signature_names(text))
            if not spans:
                return self._text(text, C.NAME.value, state)
            return apply_spans(text, spans, state.counts)
        if category == _AGE:
            m = _LEADING_NUMBER.match(text)
            if m is not None and int(m.group(1)) >= 90:
                return state.redact(C.AGE_OVER_89)
            return self._text(text, None, state)
        if not text.strip() or _MARKER.fullmatch(text) or _PLACEHOLDER.fullmatch(text):
            return text
        if category == C.LOCATION and _COARSE_POINT.search(text) and not _FINE_POINT.search(text):
            # A point at one or two decimals (a campus or city centroid) locates no one.
            return self._text(text, None, state)
        if category == C.PHONE and _public_number(text):
            # A business's lettered number or an emergency code names nobody: read as text.
            return self._text(text, None, state)
        if _names_nobody(text, category):
            return text
        return state.redact(self._whole_category(text, category))

    def _whole_category(self, text: str, category: str) -> str:
        """The category a value under a sensitive key is reported as.

        The key's category, unless one finding of another category covers the whole value (an
        address under ``username`` is an email, an IBAN under ``bank_account`` an IBAN), or a
        birth year makes the person older than 89.
        """
        if (
            category == C.STREET_ADDRESS
            and text[-1:].isdigit()
            and p.CITY_STATE_ZIP.fullmatch(text.strip())
        ):
            # A city, state and ZIP line, or a ZIP code alone, under an address key.
            return C.ZIP_CODE.value
        if category == C.DATE_OF_BIRTH:
            year = text.strip()
            if len(year) == 4 and year.isdigit() and int(year) <= self._clock.now().year - 90:
                return C.AGE_OVER_89.value
            return category
        if category == C.EMAIL and p.DIGIT.search(text) and not p.AT_SIGN.search(text):
            # A mail key's value with no address ("New sign-in from 203.0.113.77") is reported
            # as the identifier it holds.
            spans = self._scanner.find(text)
            if spans:
                return str(min(spans, key=lambda span: span[3])[2])
            return category
        if category == C.NAME and p.DIGIT.search(text):
            # A number under a person key with no name beside it is reported as what it is.
            spans = self._scanner.find(text)
            if spans and not _CAPITALISED.search(_blank_spans(text, spans)):
                return str(min(spans, key=lambda span: span[3])[2])
            return category
        if text.lstrip().startswith("{") and category in _STRUCTURED:
            # An object serialised under an address key: its members say what it holds.
            spans = self._scanner.find(text)
            if spans:
                return str(min(spans, key=lambda span: span[3])[2])
            return category
        if len(text) < 6 or ("@" not in text and len(text) < 15):
            return category
        stripped = text.strip()
        offset = text.index(stripped[0])
        spans = self._scanner.find(text)
        if len(spans) == 1:
            start, end, found, _ = spans[0]
            if start == offset and end == offset + len(stripped) and found in _SPECIFIC:
                return str(found)
        return category

    def _number(self, value: int, category: str | None, state: _State) -> object:
        if category == _AGE:
            return state.redact(C.AGE_OVER_89) if value >= 90 else value
        if category is not None and category not in _HINTS:
            return state.redact(category)
        if -1_000_000 < value < 1_000_000:
            return value
        text = str(value)
        if len(text) > 40:
            return value
        found = self._scanner.redact(text, state.counts)
        return value if found == text else found


class _State:
    __slots__ = ("counts", "nodes", "path")

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self.nodes = 0
        self.path: set[int] = set()

    def count(self, category: str) -> None:
        category = str(category)
        self.counts[category] = self.counts.get(category, 0) + 1

    def redact(self, category: str) -> str:
        self.count(category)
        return marker(category)


_COARSE_POINT = re.compile(r"-?\d{1,3}\.\d{1,2}\s*[,;/ ]\s*-?\d{1,3}\.\d{1,2}(?!\d)")
_FINE_POINT = re.compile(r"\d\.\d{3}")


def _blank_spans(text: str, spans: list[tuple[int, int, str, int]]) -> str:
    out = list(text)
    for start, end, _, _ in spans:
        out[start:end] = " " * (end - start)
    return "".join(out)


# Values that name nobody even under a key of their category: the loopback and unspecified
# addresses under an IP key, and a state or province under a city key.
_NOBODY_ADDRESSES = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "::"})  # noqa: S104
_REGIONS = (US_STATES - {"new york", "washington"}) | frozenset(  # also cities of those names
    {"ontario", "british columbia", "alberta", "manitoba", "saskatchewan", "nova scotia",
     "new brunswick", "newfoundland and labrador", "prince edward island", "yukon", "nunavut",
     "northwest territories", "england", "scotland", "wales", "northern ireland",
     "new south wales", "queensland", "tasmania", "western australia", "south australia",
     "northern territory", "australian capital territory"}
)  # fmt: skip


# "1-800-FLOWERS", "1 (888) ASK-NURSE": a toll-free prefix and letters.
_VANITY = re.compile(r"\s*(?:1[-. ]?)?\(?8[0-9]{2}\)?[-. ]?[A-Z]{2,}(?:[-. ]?[A-Z0-9]{1,8})*\s*")
_DIGIT_RUN = re.compile(r"\d+")
# Emergency and crisis short codes (US, EU, UK).
_SHORT_CODES = frozenset({"911", "988", "112", "999"})


def _public_number(text: str) -> bool:
    """A vanity number, or text whose only digits are an emergency code ("Call 911")."""
    if _VANITY.fullmatch(text):
        return True
    runs = _DIGIT_RUN.findall(text)
    return bool(runs) and all(run in _SHORT_CODES for run in runs)


def _names_nobody(text: str, category: str) -> bool:
    value = text.strip().lower()
    if category == C.IP_ADDRESS:
        host = value.rsplit(":", 1)[0] if value.count(":") == 1 else value
        host = host.strip("[]")
        if host in _NOBODY_ADDRESSES:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return address.is_loopback or address.is_unspecified
    if category == C.LOCATION:
        return value in _REGIONS
    return False


def _next_new_year(clock: Clock) -> float:
    """When the (UTC) year next changes, on ``clock``'s monotonic scale."""
    now = clock.now()
    new_year = dt.datetime(now.year + 1, 1, 1, tzinfo=dt.UTC)
    return clock.monotonic() + (new_year - now).total_seconds()


def _is_record(value: object) -> bool:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return True
    dump = getattr(type(value), "model_dump", None)
    return callable(dump) and not isinstance(value, type)


def _record_fields(value: object) -> Mapping[object, object]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)}
    dumped = value.model_dump(mode="python")  # type: ignore[attr-defined]
    if isinstance(dumped, Mapping):
        return dumped
    return {}


def _stable(items: Set[object]) -> list[object]:
    try:
        return sorted(items, key=lambda item: (type(item).__name__, repr(item)))
    except Exception:  # noqa: BLE001  (a hostile __repr__ must not crash the host)
        return list(items)
