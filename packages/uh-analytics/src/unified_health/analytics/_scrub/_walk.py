"""The structure walker: applies the default policy to every key and value of an event.

The walker receives JSON-ready data (`unified_health.analytics._normalize.to_json` made it so)
and never recurses deeper than that normaliser allows, so its work is linear in the input.
Keys at every depth are vocabulary (`NameCheck`); a key that breaks the naming grammar or holds
personal data raises `RejectedError`, and the caller drops the whole event.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from unified_health.analytics._clock import Clock
from unified_health.analytics._scrub._declared import DeclaredText
from unified_health.analytics._scrub._detector import DetectorRegistry
from unified_health.analytics._scrub._fold import fold
from unified_health.analytics._scrub._keys import PLAIN, KeyClass, classify
from unified_health.analytics._scrub._policy import is_prose, passes_whole
from unified_health.analytics._scrub._view import ScanView
from unified_health.analytics._scrub._vocab import NameCheck
from unified_health.analytics._scrub._words import RESTRICTED_ZIP3
from unified_health.analytics._scrub.detectors._numbers import number_category

__all__ = ["DeclaredText", "RejectedError", "Walker"]

_FREE_TEXT = "free_text"
_PLACEHOLDER = re.compile(r"\s*(?:\*+|x{3,}|-+|n/?a|none|null|\[REDACTED:[a-z0-9_]+\])\s*", re.I)
_YEAR = re.compile(r"(?:19|20)\d{2}")
_ZIP3 = re.compile(r"\d{3}")
# A record pasted into a value (CSV, HL7, pipes): three or more field separators. Its fields
# are read as strictly as free text.
_RECORD_SEPARATORS = ",|^;\t"
_CACHE_LIMIT = 4_096
_CACHED_LENGTH = 64
_EPOCH_RANGES = ((10**9, 2 * 10**9), (10**12, 2 * 10**12))


class RejectedError(Exception):
    """A key broke the naming grammar or holds personal data; the event must not be sent."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


class Walker:
    """Applies the policy; holds the per-sanitiser configuration and a cache of clean labels."""

    __slots__ = (
        "_allow",
        "_cache",
        "_clock",
        "_extra",
        "_free_keys",
        "_keys",
        "_names",
        "_registry",
    )

    def __init__(
        self,
        registry: DetectorRegistry,
        clock: Clock,
        *,
        free_text_keys: Collection[str] = (),
        allow_keys: Collection[str] = (),
        extra_sensitive_keys: Collection[str] = (),
    ) -> None:
        self._registry = registry
        self._clock = clock
        self._names = NameCheck(registry)
        self._free_keys = frozenset(free_text_keys)
        self._allow = frozenset(allow_keys)
        self._extra = frozenset(extra_sensitive_keys) - self._allow
        self._keys: dict[str, KeyClass] = {}
        self._cache: dict[tuple[KeyClass, str], str] = {}

    @property
    def names(self) -> NameCheck:
        """The naming-grammar check, shared with event names."""
        return self._names

    def mapping(self, data: dict[str, object], counts: dict[str, int]) -> dict[str, object]:
        """The policy applied to a JSON object (the top level of an event)."""
        return self._mapping(data, PLAIN, counts)

    def _key(self, key: str) -> KeyClass:
        found = self._keys.get(key)
        if found is not None:
            return found
        problem = self._names.problem(key)
        if problem == "personal data":
            raise RejectedError("property names must not contain personal data")
        if problem is not None:
            raise RejectedError("property names must follow the naming grammar")
        if key in self._allow:
            found = PLAIN
        elif key in self._extra:
            found = KeyClass(category="custom")
        else:
            found = classify(key)
        if len(self._keys) < _CACHE_LIMIT:
            self._keys[key] = found
        return found

    def _mapping(
        self, data: dict[str, object], inherited: KeyClass, counts: dict[str, int]
    ) -> dict[str, object]:
        out: dict[str, object] = {}
        for key, value in data.items():
            own = self._key(key)
            kind = own if own is not PLAIN else inherited
            if type(value) is str and key in self._free_keys:
                value = DeclaredText(value)
            out[fold(key)] = self._value(value, kind, counts)
        return out

    def _value(self, value: object, key: KeyClass, counts: dict[str, int]) -> object:
        if isinstance(value, str):
            return self._text(value, key, counts)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            return self._integer(value, key, counts)
        if isinstance(value, float):
            if key.category is not None or (key.age and value >= 90):
                return _redact(key.category or "age_over_89", counts)
            return value
        if isinstance(value, dict):
            return self._mapping(value, key, counts)
        if isinstance(value, list):
            return [self._value(item, key, counts) for item in value]
        return _redact("unsupported_type", counts)

    def _integer(self, value: int, key: KeyClass, counts: dict[str, int]) -> object:
        if key.category is not None:
            if key.date_of_person and abs(value) < 10_000 and not key.birth:
                return value
            return _redact(key.category, counts)
        if key.age and value >= 90:
            return _redact("age_over_89", counts)
        if key.zip3 and f"{value:03d}" in RESTRICTED_ZIP3:
            return _redact("zip_code", counts)
        if key.year:
            problem = self._year_problem(str(value), key)
            return value if problem is None else _redact(problem, counts)
        if key.business_id or key.quantity or abs(value) < 100_000_000:
            return value
        if any(low <= value < high for low, high in _EPOCH_RANGES):
            return value
        return _redact(number_category(str(abs(value))), counts)

    def _year_problem(self, text: str, key: KeyClass) -> str | None:
        """``None`` when a year passes, else the category it is replaced under."""
        if not _YEAR.fullmatch(text):
            return "date_of_birth" if key.birth else "personal_date"
        if key.birth and int(text) <= self._clock.now().year - 90:
            return "age_over_89"
        return None

    def _text(self, raw: str, key: KeyClass, counts: dict[str, int]) -> object:
        declared = type(raw) is DeclaredText
        cache_key = (key, raw)
        if not declared:
            hit = self._cache.get(cache_key)
            if hit is not None:
                return hit
        text = fold(raw)
        if key.category is not None or key.year or key.zip3 or key.age:
            return self._keyed(text, key, counts)
        if declared:
            return self._registry.redact(ScanView(text, free_text=True), counts)
        if is_prose(text):
            return _redact(_FREE_TEXT, counts)
        if passes_whole(text, key):
            found = text
        else:
            strict = key.search or _is_record(text)
            found = self._registry.redact(ScanView(text, free_text=strict), counts)
            if found is not text:
                return found
        if len(raw) <= _CACHED_LENGTH:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[cache_key] = found
        return found

    def _keyed(self, text: str, key: KeyClass, counts: dict[str, int]) -> object:
        if key.year:
            problem = self._year_problem(text.strip(), key)
            return text if problem is None else _redact(problem, counts)
        if key.zip3:
            if _ZIP3.fullmatch(text.strip()) and text.strip() not in RESTRICTED_ZIP3:
                return text
            return _redact("zip_code", counts)
        if key.age:
            digits = "".join(c for c in text if c.isdigit())
            if digits and int(digits[:3]) >= 90:
                return _redact("age_over_89", counts)
            return self._registry.redact(ScanView(text), counts)
        if not text.strip() or _PLACEHOLDER.fullmatch(text):
            return text
        if key.date_of_person and not any(c.isdigit() for c in text):
            return self._registry.redact(ScanView(text), counts)
        if key.date_of_person:
            return _redact(str(key.category), counts)
        return _redact(self._whole_category(text, str(key.category)), counts)

    def _whole_category(self, text: str, category: str) -> str:
        """The key's category, or a detector's when one finding is the whole value.

        An e-mail address under ``contact`` is counted as ``email``.
        """
        findings = self._registry.find(ScanView(text))
        stripped = text.strip()
        if len(findings) == 1 and findings[0].end - findings[0].start == len(stripped):
            return findings[0].category
        return category


def _is_record(text: str) -> bool:
    """Three or more field separators (counted, so linear in the length)."""
    return sum(text.count(sep) for sep in _RECORD_SEPARATORS) >= 3


def _redact(category: str, counts: dict[str, int]) -> str:
    counts[category] = counts.get(category, 0) + 1
    return f"[REDACTED:{category}]"
