"""Pseudonymous identities: what vendors see instead of the caller's user ids.

Two strategies:

* `HmacPseudonymizer`: ``<key_id>_<hex>``, a keyed HMAC-SHA256 of the raw id. Deterministic
  across processes that share the key, irreversible without it. Rotation: add the new key, make
  it active, keep the old ones so `previous_ids()` can link old and new ids (for example with an
  `alias` call) while vendors' history is migrated.
* `SurrogatePseudonymizer`: ``s_<hex>``, a random id created on first sight and kept in a
  `SurrogateIdStore` (in-memory or Redis). Nothing about the raw id can be derived from it, and
  deleting the mapping severs the link for good (erasure requests).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import re
import threading
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from unified_health.analytics._errors import InvalidInputError
from unified_health.analytics.stores._memory import InMemorySurrogateIdStore
from unified_health.analytics.stores._protocol import ForkAware, SurrogateIdStore

__all__ = [
    "HmacPseudonymizer",
    "KeyedPseudonymizer",
    "LookupPseudonymizer",
    "Pseudonymizer",
    "SurrogatePseudonymizer",
]

_KEY_ID = re.compile(r"^[a-z0-9]{1,8}$")
_MIN_KEY_BYTES = 16
_CACHE_LIMIT = 100_000


@runtime_checkable
class Pseudonymizer(Protocol):
    """Turns a raw id into the id a vendor sees. ``kind`` separates users, devices and groups.

    Examples:
        >>> isinstance(HmacPseudonymizer({"k1": b"0" * 32}), Pseudonymizer)
        True
    """

    def pseudonymize(self, raw_id: str, kind: str = "user") -> str:
        """Return the outbound id for ``raw_id``."""
        ...


@runtime_checkable
class LookupPseudonymizer(Protocol):
    """A pseudonymiser that can find an existing id without creating one (surrogate ids).

    Examples:
        >>> isinstance(SurrogatePseudonymizer(), LookupPseudonymizer)
        True
    """

    def lookup(self, raw_id: str, kind: str = "user") -> str | None:
        """Return the id of ``raw_id`` if one exists, creating nothing."""
        ...


@runtime_checkable
class KeyedPseudonymizer(Protocol):
    """A pseudonymiser with rotated keys: a raw id may have been sent under older ids.

    Examples:
        >>> isinstance(HmacPseudonymizer({"k1": b"0" * 32}), KeyedPseudonymizer)
        True
    """

    def previous_ids(self, raw_id: str, kind: str = "user") -> list[str]:
        """Return the ids ``raw_id`` had under the keys that are no longer active."""
        ...


class HmacPseudonymizer:
    """Keyed HMAC-SHA256 ids with key rotation.

    Args:
        keys: Key id (1-8 lowercase letters or digits) to secret key (at least 16 bytes): bytes,
            or a ``str`` used as its UTF-8 bytes (as `from_env` reads keys).
        active: The key id used for outbound ids; defaults to the last one given.

    Raises:
        InvalidInputError: No key, a malformed key id, a short key or an unknown ``active``.

    Examples:
        >>> p = HmacPseudonymizer({"k1": b"a-secret-of-32-bytes-or-so......"})
        >>> uid = p.pseudonymize("user-123")
        >>> uid.startswith("k1_") and "user-123" not in uid
        True
    """

    def __init__(self, keys: Mapping[str, bytes | str], *, active: str | None = None) -> None:
        if not keys:
            raise InvalidInputError("keys", "must hold at least one key")
        self._keys: dict[str, bytes] = {}
        for key_id, secret in keys.items():
            if not _KEY_ID.match(key_id):
                raise InvalidInputError("keys", "key ids must be 1-8 lowercase letters or digits")
            given: object = secret  # callers may pass anything
            if not isinstance(given, str | bytes | bytearray):
                raise InvalidInputError("keys", "each key must be bytes or a str")
            material = given.encode() if isinstance(given, str) else bytes(given)
            if len(material) < _MIN_KEY_BYTES:
                raise InvalidInputError("keys", f"each key must be at least {_MIN_KEY_BYTES} bytes")
            self._keys[key_id] = material
        self._active = active if active is not None else list(self._keys)[-1]
        if self._active not in self._keys:
            raise InvalidInputError("active", "must name one of the keys")
        self._cache: dict[tuple[str, str], str] = {}

    @classmethod
    def from_env(
        cls,
        variable: str = "UH_ANALYTICS_HMAC_KEYS",
        *,
        environ: Mapping[str, str] | None = None,
    ) -> HmacPseudonymizer:
        """Read ``id:secret,id:secret`` (the last one active) from an environment variable.

        Args:
            variable: The variable's name.
            environ: Where to read it; `os.environ` by default.

        Raises:
            InvalidInputError: The variable is missing or malformed, or a key breaks a rule; the
                error names the variable and never echoes its value.

        Examples:
            >>> env = {"DOC_KEYS": "k1:0123456789abcdef0123"}
            >>> HmacPseudonymizer.from_env("DOC_KEYS", environ=env).active_key_id
            'k1'
        """
        raw = (os.environ if environ is None else environ).get(variable, "")
        pairs = [item.split(":", 1) for item in raw.split(",") if item.strip()]
        if not pairs or any(len(pair) != 2 for pair in pairs):
            raise InvalidInputError(variable, "must be set to 'id:secret[,id:secret...]'")
        try:
            return cls({key_id.strip(): secret.strip() for key_id, secret in pairs})
        except InvalidInputError as exc:
            raise InvalidInputError(variable, exc.rule) from exc

    @property
    def active_key_id(self) -> str:
        """The id of the key used for outbound ids."""
        return self._active

    def _digest(self, key_id: str, raw_id: str, kind: str) -> str:
        mac = hmac.new(self._keys[key_id], f"{kind}\x00{raw_id}".encode(), hashlib.sha256)
        return f"{key_id}_{mac.hexdigest()[:32]}"

    def pseudonymize(self, raw_id: str, kind: str = "user") -> str:
        """Return the outbound id of ``raw_id`` under the active key."""
        cache_key = (kind, raw_id)
        found = self._cache.get(cache_key)
        if found is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            found = self._cache[cache_key] = self._digest(self._active, raw_id, kind)
        return found

    def previous_ids(self, raw_id: str, kind: str = "user") -> list[str]:
        """Return the ids ``raw_id`` had under the inactive keys (to alias them after rotation).

        Examples:
            >>> p = HmacPseudonymizer({"k1": "0123456789abcdef", "k2": "fedcba9876543210"})
            >>> old_ids = p.previous_ids("user-1")
            >>> len(old_ids), old_ids[0][:3]
            (1, 'k1_')
        """
        return [self._digest(k, raw_id, kind) for k in self._keys if k != self._active]


class SurrogatePseudonymizer:
    """Random surrogate ids kept in a mapping store.

    Args:
        store: Where the mapping lives; in-memory by default (stable for the process only).
        seed: Seed for the id generator (tests); ``None`` uses the OS's randomness.

    Examples:
        >>> p = SurrogatePseudonymizer(seed=7)
        >>> p.pseudonymize("user-1") == p.pseudonymize("user-1")
        True
    """

    def __init__(self, store: SurrogateIdStore | None = None, *, seed: int | None = None) -> None:
        self._store: SurrogateIdStore = store if store is not None else InMemorySurrogateIdStore()
        self._rng: random.Random = (
            random.Random(seed)  # noqa: S311 - a seed is for tests; production uses the OS's
            if seed is not None
            else random.SystemRandom()
        )
        self._cache: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def reset_after_fork(self) -> None:
        """Give a forked child fresh locks (another thread may have held them at fork time)."""
        self._lock = threading.Lock()
        if isinstance(self._store, ForkAware):
            self._store.reset_after_fork()

    def lookup(self, raw_id: str, kind: str = "user") -> str | None:
        """Return the surrogate of ``raw_id`` if one exists, creating nothing.

        Examples:
            >>> p = SurrogatePseudonymizer(seed=7)
            >>> p.lookup("user-1") is None
            True
            >>> surrogate = p.pseudonymize("user-1")
            >>> p.lookup("user-1") == surrogate
            True
        """
        found = self._cache.get((kind, raw_id))
        return found if found is not None else self._store.get(kind, raw_id)

    def pseudonymize(self, raw_id: str, kind: str = "user") -> str:
        """Return the surrogate of ``raw_id``, creating it on first sight."""
        cache_key = (kind, raw_id)
        found = self._cache.get(cache_key)
        if found is not None:
            return found
        with self._lock:
            candidate = f"s_{self._rng.getrandbits(128):032x}"
        found = self._store.get_or_create(kind, raw_id, candidate)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[cache_key] = found
        return found
