"""Redis stores: consent, surrogate ids and spilled events shared by every process.

Keys live under one prefix wrapped in a hash tag (default ``uh:analytics``, so keys start with
``{uh:analytics}``) so multi-key commands stay in one Redis Cluster slot, and carry a format
version (``v1``)::

    {uh:analytics}:consent:v1:<digest>             STRING  JSON {"v": 1, "categories": [...]}
    {uh:analytics}:surrogate:v1:<kind>:<digest>    STRING  the surrogate id
    {uh:analytics}:spill:v1:<provider>             LIST    spilled events, oldest first

User ids never appear in key names: keys use a SHA-256 digest of the id. A prefix that already
holds a hash tag (``{uh:analytics}``, ``{tenant-7}:analytics``) is used as it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

from unified_health.analytics._errors import InvalidInputError, StoreUnavailableError
from unified_health.analytics.stores._protocol import (
    RedisClientProtocol,
    consent_record,
    decode,
)

__all__ = [
    "DEFAULT_PREFIX",
    "RedisConsentStore",
    "RedisSpillStore",
    "RedisSurrogateIdStore",
    "hash_tagged",
    "new_redis_client",
]

DEFAULT_PREFIX = "uh:analytics"
_REMOVE_CHUNK = 1_000
_JOURNAL_CHUNK = 1_000

# KEYS: journal, owners, lease. ARGV: owner, lease ms, trim, items...
_JOURNAL = """
redis.call('SET', KEYS[3], '1', 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
if #ARGV > 3 then redis.call('RPUSH', KEYS[1], unpack(ARGV, 4)) end
local trim = tonumber(ARGV[3])
if trim > 0 then redis.call('LTRIM', KEYS[1], trim, -1) end
return 1
"""

# KEYS: owners, lane. ARGV: journal key prefix, lease key prefix. The keys it builds share the
# store's hash tag, so they live in the same slot as KEYS.
_ADOPT = """
local moved = 0
for _, owner in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[2] .. owner) == 0 then
    local journal = ARGV[1] .. owner
    while true do
      local items = redis.call('LRANGE', journal, 0, 499)
      if #items == 0 then break end
      redis.call('RPUSH', KEYS[2], unpack(items))
      redis.call('LTRIM', journal, #items, -1)
      moved = moved + #items
    end
    redis.call('DEL', journal)
    redis.call('SREM', KEYS[1], owner)
  end
end
return moved
"""
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


def hash_tagged(prefix: str) -> str:
    """Wrap ``prefix`` in a Redis Cluster hash tag unless it already holds one.

    Args:
        prefix: The configured key prefix.

    Returns:
        The prefix every key starts with.

    Raises:
        InvalidInputError: The prefix is empty or not a str.

    Examples:
        >>> hash_tagged("myapp:analytics")
        '{myapp:analytics}'
        >>> hash_tagged("{uh:analytics}")
        '{uh:analytics}'
        >>> hash_tagged("{tenant-7}:analytics")
        '{tenant-7}:analytics'
    """
    given: object = prefix  # callers may pass anything
    if not isinstance(given, str) or not given.strip():
        raise InvalidInputError("prefix", "must be a non-empty str")
    opening = prefix.find("{")
    if opening >= 0 and prefix.find("}", opening) > opening + 1:
        return prefix
    return "{" + prefix + "}"


def new_redis_client(url: object, socket_timeout: object, socket_connect_timeout: object) -> Any:
    """A redis-py client for ``url``; validates the settings first. Makes no connection."""
    if not isinstance(url, str):
        raise InvalidInputError("url", "must be a str")
    for name, value in (
        ("socket_timeout", socket_timeout),
        ("socket_connect_timeout", socket_connect_timeout),
    ):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise InvalidInputError(name, "must be a number of seconds > 0")
    try:
        import redis
    except ImportError as exc:  # pragma: no cover - the redis extra is not installed
        raise InvalidInputError("url", "needs the extra: pip install uh-analytics[redis]") from exc
    try:
        return redis.Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=socket_connect_timeout
        )
    except ValueError:
        raise InvalidInputError("url", "must be a redis://, rediss:// or unix:// URL") from None


class _RedisStore:
    """What every Redis store shares: the client (injected or owned), the prefix, closing."""

    def __init__(self, client: RedisClientProtocol, *, prefix: str = DEFAULT_PREFIX) -> None:
        if isinstance(client, str | bytes) or not isinstance(client, RedisClientProtocol):
            name = type(self).__name__
            raise InvalidInputError(
                "client", f"must be a Redis client; for a URL use {name}.from_url(url)"
            )
        self._client = client
        self._owns_client = False
        self._prefix = hash_tagged(prefix)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        socket_timeout: float = 2.0,
        socket_connect_timeout: float = 1.0,
    ) -> Self:
        """Create a store on a new client that it owns and closes in `close`.

        No connection is made until the first call, so this never blocks on a dead server;
        the first call to one fails within ``socket_connect_timeout``.

        Args:
            url: A Redis URL, e.g. ``redis://127.0.0.1:6379/0``.
            prefix: Key prefix; wrapped in a hash tag unless it already holds one.
            socket_timeout: Seconds a Redis call may take.
            socket_connect_timeout: Seconds a connection attempt may take.

        Returns:
            The store.

        Raises:
            InvalidInputError: The URL, the prefix or a timeout is invalid.

        Examples:
            >>> store = RedisConsentStore.from_url("redis://127.0.0.1:6379/0")
            >>> store.prefix
            '{uh:analytics}'
            >>> store.close()
        """
        hash_tagged(prefix)  # refuse a bad prefix before a client is made
        store = cls(new_redis_client(url, socket_timeout, socket_connect_timeout), prefix=prefix)
        store._owns_client = True
        return store

    @property
    def prefix(self) -> str:
        """The hash-tagged prefix every key of the store starts with."""
        return self._prefix

    def close(self) -> None:
        """Close the client if the store created it (`from_url`); an injected one stays open."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class RedisConsentStore(_RedisStore):
    """Consent records in Redis, one key per user.

    Args:
        client: Your Redis client (``redis.Redis()`` or any client satisfying
            `RedisClientProtocol`). The store never closes a client it was given; for a URL use
            `from_url`, which makes a client the store owns and closes.
        prefix: Key prefix; wrapped in a hash tag (``{...}``) unless it already holds one.

    Raises:
        InvalidInputError: ``client`` is not a Redis client, or the prefix is empty.

    Examples:
        >>> import redis
        >>> store = RedisConsentStore(redis.Redis(), prefix="myapp:analytics")
        >>> store.prefix
        '{myapp:analytics}'
    """

    in_process = False

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


class RedisSurrogateIdStore(_RedisStore):
    """Surrogate ids in Redis: created with SET NX, so concurrent processes agree on one id.

    Args:
        client: Your Redis client (``redis.Redis()`` or any client satisfying
            `RedisClientProtocol`). The store never closes a client it was given; for a URL use
            `from_url`, which makes a client the store owns and closes.
        prefix: Key prefix; wrapped in a hash tag (``{...}``) unless it already holds one.

    Raises:
        InvalidInputError: ``client`` is not a Redis client, or the prefix is empty.

    Examples:
        >>> import redis
        >>> RedisSurrogateIdStore(redis.Redis(), prefix="{uh:analytics}").prefix
        '{uh:analytics}'
    """

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


class RedisSpillStore(_RedisStore):
    """Spilled events in Redis lists, one per provider lane.

    The store also keeps, for clients in durable mode, one journal per process and lane
    (`JournalingSpillStore`): a process's lease lasts ``lease_ttl`` seconds after its last
    append (appends happen every few hundredths of a second while it lives), after which any
    process may `adopt` its journal.

    Args:
        client: Your Redis client (``redis.Redis()`` or any client satisfying
            `RedisClientProtocol`). The store never closes a client it was given; for a URL use
            `from_url`, which makes a client the store owns and closes.
        prefix: Key prefix; wrapped in a hash tag (``{...}``) unless it already holds one.
        lease_ttl: Seconds (at least 1) a durable-mode process's journal stays its own after
            its last write.

    Raises:
        InvalidInputError: ``client`` is not a Redis client, the prefix is empty, or
            ``lease_ttl`` is not positive.

    Examples:
        >>> with RedisSpillStore.from_url("redis://127.0.0.1:6379/0") as spill:
        ...     spill.prefix
        '{uh:analytics}'
    """

    def __init__(
        self, client: RedisClientProtocol, *, prefix: str = DEFAULT_PREFIX, lease_ttl: float = 10.0
    ) -> None:
        super().__init__(client, prefix=prefix)
        given: object = lease_ttl  # callers may pass anything
        if isinstance(given, bool) or not isinstance(given, int | float) or given < 1:
            raise InvalidInputError("lease_ttl", "must be at least 1 second")
        self.lease_ttl = float(lease_ttl)

    def _key(self, lane: str) -> str:
        return f"{self._prefix}:spill:v1:{lane}"

    def _journal_key(self, lane: str, owner: str) -> str:
        return f"{self._prefix}:journal:v1:{lane}:{owner}"

    def _owners_key(self, lane: str) -> str:
        return f"{self._prefix}:journals:v1:{lane}"

    def _lease_key(self, owner: str) -> str:
        return f"{self._prefix}:lease:v1:{owner}"

    def journal(self, lane: str, owner: str, items: Sequence[bytes], trim: int) -> None:
        """Append to ``owner``'s journal, drop its ``trim`` oldest records, renew its lease.

        Raises:
            StoreUnavailableError: Redis failed.
        """
        keys = (self._journal_key(lane, owner), self._owners_key(lane), self._lease_key(owner))
        lease = max(int(self.lease_ttl * 1000), 1)
        chunks: list[Sequence[bytes]] = [
            items[i : i + _JOURNAL_CHUNK] for i in range(0, len(items), _JOURNAL_CHUNK)
        ] or [()]
        for index, chunk in enumerate(chunks):
            trimmed = trim if index == len(chunks) - 1 else 0
            self._journal_once(keys, owner, lease, trimmed, chunk)

    def _journal_once(
        self, keys: tuple[str, ...], owner: str, lease: int, trim: int, chunk: Sequence[bytes]
    ) -> None:
        _call("eval", lambda: self._client.eval(_JOURNAL, 3, *keys, owner, lease, trim, *chunk))

    def adopt(self, lane: str) -> int:
        """Move the journals of processes whose lease ran out into the lane; return how many.

        Raises:
            StoreUnavailableError: Redis failed.
        """
        journals = f"{self._prefix}:journal:v1:{lane}:"
        leases = f"{self._prefix}:lease:v1:"
        moved = _call(
            "eval",
            lambda: self._client.eval(
                _ADOPT, 2, self._owners_key(lane), self._key(lane), journals, leases
            ),
        )
        return int(moved or 0)

    def close_journal(self, lane: str, owner: str) -> None:
        """Delete ``owner``'s journal and lease.

        Raises:
            StoreUnavailableError: Redis failed.
        """

        def close() -> None:
            with self._client.pipeline(transaction=False) as pipe:
                pipe.delete(self._journal_key(lane, owner))
                pipe.srem(self._owners_key(lane), owner)
                pipe.delete(self._lease_key(owner))
                pipe.execute()

        _call("del", close)

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
