"""The Redis `RecordStore`.

Keys (the prefix is wrapped in a hash tag, so every key of the store sits in one cluster slot)::

    {uh:{{module}}}:v1:records    HASH  record key -> JSON {"v": version, "d": data}

Writes are one Lua script each (check the version, write), so they are atomic on a standalone
server and on Redis Cluster alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any

from unified_health.{{module}}._errors import InvalidInputError, StoreUnavailableError
from unified_health.{{module}}._logging import logger
from unified_health.{{module}}._models import Record
from unified_health.{{module}}.stores._codec import (
    check_expected_version,
    check_key,
    conflict,
    decode,
    encode_data,
)
from unified_health.{{module}}.stores._protocol import RedisClientProtocol

__all__ = ["DEFAULT_PREFIX", "RedisRecordStore", "hash_tagged"]

DEFAULT_PREFIX = "uh:{{module}}"

# KEYS[1] records hash; ARGV: key, expected version (-1: any), JSON data or "" to delete.
# Returns {status, version}: status 1 written/deleted, 0 nothing to delete, -1 version conflict.
_WRITE = """
local stored = redis.call('HGET', KEYS[1], ARGV[1])
local current = 0
if stored then current = cjson.decode(stored)['v'] end
local expected = tonumber(ARGV[2])
if expected >= 0 and expected ~= current then return {-1, current} end
if ARGV[3] == '' then
  if not stored then return {0, 0} end
  redis.call('HDEL', KEYS[1], ARGV[1])
  return {1, current}
end
redis.call('HSET', KEYS[1], ARGV[1], '{"v":' .. (current + 1) .. ',"d":' .. ARGV[3] .. '}')
return {1, current + 1}
"""


def hash_tagged(prefix: str) -> str:
    """Wrap ``prefix`` in a Redis Cluster hash tag unless it already holds one.

    Args:
        prefix: The configured key prefix.

    Returns:
        The prefix every key starts with.

    Raises:
        InvalidInputError: The prefix is empty or not a str.

    Examples:
        >>> hash_tagged("myapp:{{module}}")
        '{myapp:{{module}}}'
        >>> hash_tagged("{tenant-7}:{{module}}")
        '{tenant-7}:{{module}}'
    """
    given: object = prefix
    if not isinstance(given, str) or not given.strip():
        raise InvalidInputError("prefix", "must be a non-empty str")
    opening = prefix.find("{")
    if opening >= 0 and prefix.find("}", opening) > opening + 1:
        return prefix
    return "{" + prefix + "}"


def _driver_errors() -> tuple[type[BaseException], ...]:
    try:
        import redis
    except ImportError:  # pragma: no cover - only without the redis extra
        return (OSError,)
    return (redis.RedisError, OSError)


class RedisRecordStore:
    """A `RecordStore` on Redis, standalone or cluster.

    Args:
        client: Your Redis client (``redis.Redis(decode_responses=False)`` or compatible). The
            store never closes a client it was given.
        prefix: Key prefix; wrapped in a hash tag (``{...}``) unless it already holds one.

    Raises:
        InvalidInputError: ``client`` is not a Redis client (for a URL, use `from_url`).

    Examples:
        >>> import redis
        >>> store = RedisRecordStore(redis.Redis(), prefix="myapp:{{module}}")
        >>> store.records_key
        '{myapp:{{module}}}:v1:records'
    """

    def __init__(self, client: RedisClientProtocol, *, prefix: str = DEFAULT_PREFIX) -> None:
        if isinstance(client, str | bytes) or not isinstance(client, RedisClientProtocol):
            raise InvalidInputError(
                "client", "must be a Redis client; for a URL use RedisRecordStore.from_url(url)"
            )
        self._client = client
        self._owns_client = False
        self.records_key = f"{hash_tagged(prefix)}:v1:records"
        self._errors = _driver_errors()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        socket_timeout: float = 2.0,
        socket_connect_timeout: float = 1.0,
    ) -> RedisRecordStore:
        """Create a store on a new client that it owns and closes in `close`.

        No connection is made until the first call, so this never blocks on a dead server;
        the first call to one fails within ``socket_connect_timeout``.

        Args:
            url: A Redis URL, e.g. ``redis://127.0.0.1:6379/0``.
            prefix: Key prefix.
            socket_timeout: Seconds a Redis call may take.
            socket_connect_timeout: Seconds a connection attempt may take.

        Returns:
            The store.

        Raises:
            InvalidInputError: The URL or a timeout is invalid.

        Examples:
            >>> store = RedisRecordStore.from_url("redis://127.0.0.1:6379/0")
            >>> store.records_key
            '{uh:{{module}}}:v1:records'
            >>> store.close()
        """
        try:
            import redis
        except ImportError:
            extra = "pip install '{{dist}}[redis]'"
            raise ImportError(f"RedisRecordStore.from_url needs the redis extra: {extra}") from None

        given: object = url
        if not isinstance(given, str):
            raise InvalidInputError("url", "must be a str")
        timeouts: tuple[tuple[str, object], ...] = (
            ("socket_timeout", socket_timeout),
            ("socket_connect_timeout", socket_connect_timeout),
        )
        for name, value in timeouts:
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise InvalidInputError(name, "must be a number of seconds > 0")
        try:
            client = redis.Redis.from_url(
                url, socket_timeout=socket_timeout, socket_connect_timeout=socket_connect_timeout
            )
        except ValueError:
            raise InvalidInputError("url", "must be a redis://, rediss:// or unix:// URL") from None
        store = cls(client, prefix=prefix)
        store._owns_client = True
        return store

    def _unavailable(self, operation: str, exc: BaseException) -> StoreUnavailableError:
        logger.warning("store_call_failed", operation=operation, error_class=type(exc).__name__)
        return StoreUnavailableError(f"redis {operation} failed ({type(exc).__name__})")

    def get(self, key: str) -> Record | None:
        """Return the record under ``key``, or ``None``.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        check_key(key)
        try:
            stored = self._client.hget(self.records_key, key)
        except self._errors as exc:
            raise self._unavailable("get", exc) from exc
        if stored is None:
            return None
        envelope = json.loads(stored)
        return Record(key=key, version=envelope["v"], data=envelope["d"])

    def _write(self, key: str, expected: int | None, payload: str) -> tuple[int, int]:
        try:
            status, version = self._client.eval(
                _WRITE, 1, self.records_key, key, -1 if expected is None else expected, payload
            )
        except self._errors as exc:
            raise self._unavailable("write", exc) from exc
        if status == -1:
            raise conflict(key, expected if expected is not None else -1, int(version))
        return int(status), int(version)

    def put(
        self, key: str, data: Mapping[str, Any], *, expected_version: int | None = None
    ) -> Record:
        """Write ``data`` under ``key`` if the version check passes (atomic).

        Raises:
            ConflictError: ``expected_version`` is not the current version (0: the key exists).
            InvalidInputError: The key, the data or ``expected_version`` broke a rule.
            StoreUnavailableError: Redis did not answer; nothing was written, or the write
                landed and the answer was lost (read it back to know).
        """
        check_key(key)
        expected = check_expected_version(expected_version)
        payload = encode_data(data)
        _, version = self._write(key, expected, payload)
        return decode(key, version, payload)

    def delete(self, key: str, *, expected_version: int | None = None) -> bool:
        """Delete ``key``; ``True`` if it existed. Idempotent.

        Raises:
            ConflictError: ``expected_version`` is not the current version.
            StoreUnavailableError: Redis did not answer.
        """
        check_key(key)
        expected = check_expected_version(expected_version)
        status, _ = self._write(key, expected, "")
        return status == 1

    def list_records(self) -> Iterator[Record]:
        """Yield every record once, paging through Redis with ``HSCAN``.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        cursor = 0
        seen: set[str] = set()
        while True:
            try:
                cursor, page = self._client.hscan(self.records_key, cursor, count=500)
            except self._errors as exc:
                raise self._unavailable("list", exc) from exc
            for raw_key, stored in page.items():
                key = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
                if key in seen:  # HSCAN may repeat a field while the hash is rehashed
                    continue
                seen.add(key)
                envelope = json.loads(stored)
                yield Record(key=key, version=envelope["v"], data=envelope["d"])
            if int(cursor) == 0:
                return

    def close(self) -> None:
        """Close the client if the store created it (`from_url`); an injected one stays open."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> RedisRecordStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
