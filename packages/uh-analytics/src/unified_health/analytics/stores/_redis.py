"""Redis stores: consent, surrogate ids and spilled events shared by every process.

Keys live under one prefix with a hash tag (default ``{uh:analytics}``) so multi-key commands
stay in one Redis Cluster slot, and carry a format version (``v1``). User ids never appear in key
names: keys use a SHA-256 digest of the id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from unified_health.analytics._errors import InvalidInputError, StoreUnavailableError
from unified_health.analytics.stores._protocol import (
    RedisClientProtocol,
    consent_record,
    decode,
)

__all__ = ["RedisConsentStore", "RedisSpillStore", "RedisSurrogateIdStore"]

DEFAULT_PREFIX = "{uh:analytics}"
_REMOVE_CHUNK = 1_000
_T = TypeVar("_T")


def _store_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, OSError)
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - the redis extra is not installed
        return errors
    return (*errors, RedisError)


_ERRORS = _store_errors()


def _call(what: str, fn: Callable[[], _T]) -> _T:
    try:
        return fn()
    except _ERRORS as exc:
        raise StoreUnavailableError(f"redis {what} failed: {type(exc).__name__}") from exc


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:40]


def _check_prefix(prefix: str) -> str:
    if not prefix or "{" not in prefix or "}" not in prefix:
        raise InvalidInputError("prefix", "must hold a hash tag, e.g. '{uh:analytics}'")
    return prefix


def _client_from_url(url: str) -> RedisClientProtocol:
    try:
        import redis
    except ImportError as exc:  # pragma: no cover - the redis extra is not installed
        raise InvalidInputError("url", "needs the extra: pip install uh-analytics[redis]") from exc
    client: RedisClientProtocol = redis.Redis.from_url(url)
    return client


class RedisConsentStore:
    """Consent records in Redis, one key per user.

    Args:
        client: A redis-py compatible client.
        prefix: Key prefix holding a hash tag.

    Examples:
        >>> store = RedisConsentStore.from_url("redis://127.0.0.1:6379/0")  # doctest: +SKIP
        >>> store.set_consent("user-1", {"essential", "analytics"})  # doctest: +SKIP
    """

    in_process = False

    def __init__(self, client: RedisClientProtocol, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self._prefix = _check_prefix(prefix)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = DEFAULT_PREFIX) -> RedisConsentStore:
        """Connect to the Redis at ``url``.

        Examples:
            >>> RedisConsentStore.from_url("redis://127.0.0.1:6379/0")  # doctest: +SKIP
        """
        return cls(_client_from_url(url), prefix=prefix)

    def _key(self, user_id: str) -> str:
        return f"{self._prefix}:consent:v1:{_digest(user_id)}"

    @staticmethod
    def _parse(raw: Any) -> frozenset[str] | None:
        if raw is None:
            return None
        data = json.loads(decode(raw))
        return frozenset(data["categories"])

    def get_consent(self, user_id: str) -> frozenset[str] | None:
        """Return the user's categories, or ``None``."""
        return self._parse(_call("get", lambda: self._client.get(self._key(user_id))))

    def get_consents(self, user_ids: Sequence[str]) -> dict[str, frozenset[str]]:
        """Return the records of the users that have one (one MGET)."""
        unique = list(dict.fromkeys(user_ids))
        if not unique:
            return {}
        raws = _call("mget", lambda: self._client.mget([self._key(uid) for uid in unique]))
        out: dict[str, frozenset[str]] = {}
        for uid, raw in zip(unique, raws, strict=True):
            parsed = self._parse(raw)
            if parsed is not None:
                out[uid] = parsed
        return out

    def set_consent(self, user_id: str, categories: Iterable[str]) -> None:
        """Replace the user's categories."""
        value = json.dumps(consent_record(categories), separators=(",", ":"))
        _call("set", lambda: self._client.set(self._key(user_id), value))

    def delete_consent(self, user_id: str) -> None:
        """Forget the user's record. Idempotent."""
        _call("delete", lambda: self._client.delete(self._key(user_id)))


class RedisSurrogateIdStore:
    """Surrogate ids in Redis: created with SET NX, so concurrent processes agree on one id.

    Examples:
        >>> store = RedisSurrogateIdStore.from_url("redis://127.0.0.1:6379/0")  # doctest: +SKIP
        >>> store.get_or_create("user", "user-1", "s_1234")  # doctest: +SKIP
        's_1234'
    """

    def __init__(self, client: RedisClientProtocol, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self._prefix = _check_prefix(prefix)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = DEFAULT_PREFIX) -> RedisSurrogateIdStore:
        """Connect to the Redis at ``url``.

        Examples:
            >>> RedisSurrogateIdStore.from_url("redis://127.0.0.1:6379/0")  # doctest: +SKIP
        """
        return cls(_client_from_url(url), prefix=prefix)

    def _surrogate_key(self, kind: str, raw_id: str) -> str:
        return f"{self._prefix}:surrogate:v1:{kind}:{_digest(raw_id)}"

    def get(self, kind: str, raw_id: str) -> str | None:
        """Return the surrogate of ``raw_id`` if it has one."""
        key = self._surrogate_key(kind, raw_id)
        existing = _call("get", lambda: self._client.get(key))
        return None if existing is None else decode(existing)

    def get_or_create(self, kind: str, raw_id: str, candidate: str) -> str:
        """Return the surrogate of ``raw_id``, storing ``candidate`` when there is none."""
        key = self._surrogate_key(kind, raw_id)
        if _call("set", lambda: self._client.set(key, candidate, nx=True)):
            return candidate
        existing = _call("get", lambda: self._client.get(key))
        if existing is None:  # deleted between the two commands: claim it again
            _call("set", lambda: self._client.set(key, candidate, nx=True))
            existing = _call("get", lambda: self._client.get(key))
        return decode(existing)


class RedisSpillStore:
    """Spilled events in Redis lists, one per provider lane.

    Examples:
        >>> spill = RedisSpillStore.from_url("redis://127.0.0.1:6379/0")  # doctest: +SKIP
        >>> spill.size("posthog")  # doctest: +SKIP
        0
    """

    def __init__(self, client: RedisClientProtocol, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self._prefix = _check_prefix(prefix)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = DEFAULT_PREFIX) -> RedisSpillStore:
        """Connect to the Redis at ``url``.

        Examples:
            >>> RedisSpillStore.from_url("redis://127.0.0.1:6379/0")  # doctest: +SKIP
        """
        return cls(_client_from_url(url), prefix=prefix)

    def _key(self, lane: str) -> str:
        return f"{self._prefix}:spill:v1:{lane}"

    def push(self, lane: str, items: Sequence[bytes]) -> None:
        """Append events to a lane."""
        if items:
            _call("rpush", lambda: self._client.rpush(self._key(lane), *items))

    def pop(self, lane: str, count: int) -> list[bytes]:
        """Remove and return up to ``count`` events, oldest first."""
        raw = _call("lpop", lambda: self._client.lpop(self._key(lane), count))
        if not raw:
            return []
        return [item if isinstance(item, bytes) else str(item).encode() for item in raw]

    def size(self, lane: str) -> int:
        """Return how many events wait in the lane."""
        return int(_call("llen", lambda: self._client.llen(self._key(lane))))

    def remove_if(self, lane: str, predicate: Callable[[bytes], bool]) -> int:
        """Remove the lane's events for which ``predicate`` is true; return how many.

        The lane is read once, then each matching record is removed by value (``LREM``, one
        round trip for all). Records are unique (each holds its insert id), so a concurrent
        `push` or `pop` by another process is never undone: a record it popped meanwhile is
        simply not found. Takes no lock and needs no transaction (works on Redis Cluster).

        Raises:
            StoreUnavailableError: Redis failed; what was removed before stays removed.
        """
        key = self._key(lane)
        items = _call("lrange", lambda: self._client.lrange(key, 0, -1)) or []
        matching = [
            raw
            for raw in (item if isinstance(item, bytes) else str(item).encode() for item in items)
            if predicate(raw)
        ]
        if not matching:
            return 0
        return _call("lrem", lambda: self._remove(key, matching))

    def _remove(self, key: str, records: list[bytes]) -> int:
        removed = 0
        with self._client.pipeline(transaction=False) as pipe:
            for start in range(0, len(records), _REMOVE_CHUNK):
                for record in records[start : start + _REMOVE_CHUNK]:
                    pipe.lrem(key, 1, record)
                removed += sum(int(count) for count in pipe.execute())
        return removed
