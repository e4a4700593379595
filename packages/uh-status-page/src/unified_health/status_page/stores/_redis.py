"""The Redis `StatusPageStore`: shared by every process that uses the same Redis and prefix.

Keys (the prefix is wrapped in a hash tag, so every key of the store sits in one cluster slot)::

    {uh:status_page}:v1:rate:<bucket>        ZSET   admitted request times (the sliding log)
    {uh:status_page}:v1:pause:<bucket>       STRING epoch seconds before which nothing is admitted
    {uh:status_page}:v1:lock:<name>          STRING the lease owner, with a TTL
    {uh:status_page}:v1:incident:<fp>        STRING the open incident id of an outage
    {uh:status_page}:v1:page                 STRING JSON {"v": version, "d": state}

Every check-and-write is one Lua script, atomic on a standalone server and on Redis Cluster.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from unified_health.status_page._errors import InvalidInputError, StoreUnavailableError
from unified_health.status_page._logging import logger
from unified_health.status_page.stores._checks import (
    check_key,
    check_limit,
    check_number,
    check_version,
    conflict,
    encode_state,
)
from unified_health.status_page.stores._protocol import RedisClientProtocol

__all__ = ["DEFAULT_PREFIX", "RedisStatusPageStore", "hash_tagged"]

DEFAULT_PREFIX = "uh:status_page"

# KEYS: log zset, pause key. ARGV: now, limit, window, member.
# Returns "0" when admitted, else the seconds to wait (as a string: Lua numbers lose decimals).
_TAKE_SLOT = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return tostring(paused - now) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window - now
if wait < 0.001 then wait = 0.001 end
return tostring(wait)
"""

# KEYS: pause key. ARGV: until, ttl ms.
_PAUSE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 1
"""

# KEYS: lock key. ARGV: owner, ttl ms.
_ACQUIRE = """
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

# KEYS: key. ARGV: expected value. Deletes the key only if it holds that value.
_DELETE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""

# KEYS: page key. ARGV: expected version, JSON state. Returns {status, version}.
_SAVE_PAGE = """
local stored = redis.call('GET', KEYS[1])
local current = 0
if stored then current = cjson.decode(stored)['v'] end
if tonumber(ARGV[1]) ~= current then return {-1, current} end
redis.call('SET', KEYS[1], '{"v":' .. (current + 1) .. ',"d":' .. ARGV[2] .. '}')
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
        >>> hash_tagged("myapp:status_page")
        '{myapp:status_page}'
        >>> hash_tagged("{tenant-7}:status_page")
        '{tenant-7}:status_page'
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


class RedisStatusPageStore:
    """A `StatusPageStore` on Redis, standalone or cluster, shared across processes.

    Args:
        client: Your Redis client (``redis.Redis()`` or compatible). The store never closes a
            client it was given.
        prefix: Key prefix; wrapped in a hash tag (``{...}``) unless it already holds one.

    Raises:
        InvalidInputError: ``client`` is not a Redis client (for a URL, use `from_url`).

    Examples:
        >>> import redis
        >>> store = RedisStatusPageStore(redis.Redis(), prefix="myapp:status_page")
        >>> store.page_key
        '{myapp:status_page}:v1:page'
    """

    def __init__(self, client: RedisClientProtocol, *, prefix: str = DEFAULT_PREFIX) -> None:
        if isinstance(client, str | bytes) or not isinstance(client, RedisClientProtocol):
            raise InvalidInputError(
                "client", "must be a Redis client; for a URL use RedisStatusPageStore.from_url(url)"
            )
        self._client = client
        self._owns_client = False
        self._base = f"{hash_tagged(prefix)}:v1"
        self.page_key = f"{self._base}:page"
        self._errors = _driver_errors()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        socket_timeout: float = 2.0,
        socket_connect_timeout: float = 1.0,
    ) -> RedisStatusPageStore:
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
            >>> store = RedisStatusPageStore.from_url("redis://127.0.0.1:6379/0")
            >>> store.page_key
            '{uh:status_page}:v1:page'
            >>> store.close()
        """
        try:
            import redis
        except ImportError:
            raise ImportError(
                "RedisStatusPageStore.from_url needs the redis extra: "
                "pip install 'uh-status-page[redis]'"
            ) from None

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

    def _eval(self, operation: str, script: str, keys: list[str], *args: Any) -> Any:
        try:
            return self._client.eval(script, len(keys), *keys, *args)
        except self._errors as exc:
            raise self._unavailable(operation, exc) from exc

    def take_slot(self, bucket: str, *, now: float, limit: int, window: float) -> float:
        """Admit one request at ``now`` if fewer than ``limit`` were admitted in ``window`` s.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        check_key(bucket, "bucket")
        check_number(now, "now")
        check_limit(limit)
        check_number(window, "window")
        keys = [f"{self._base}:rate:{bucket}", f"{self._base}:pause:{bucket}"]
        member = f"{now!r}:{uuid.uuid4().hex}"
        answer = self._eval("take_slot", _TAKE_SLOT, keys, repr(now), limit, repr(window), member)
        return float(answer)

    def pause_bucket(self, bucket: str, *, until: float) -> None:
        """Admit nothing in ``bucket`` before ``until``; a longer pause already set stays.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        check_key(bucket, "bucket")
        check_number(until, "until")
        self._eval("pause", _PAUSE, [f"{self._base}:pause:{bucket}"], repr(until), 3_600_000)

    def acquire_lock(self, name: str, owner: str, *, ttl: float) -> bool:
        """Take the lease ``name`` for ``owner``; re-taking one's own lease renews it.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        check_key(name, "name")
        check_key(owner, "owner")
        ttl_ms = max(int(check_number(ttl, "ttl") * 1000), 1)
        return bool(self._eval("lock", _ACQUIRE, [f"{self._base}:lock:{name}"], owner, ttl_ms))

    def release_lock(self, name: str, owner: str) -> bool:
        """Release the lease if ``owner`` holds it.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        check_key(name, "name")
        check_key(owner, "owner")
        return bool(self._eval("unlock", _DELETE_IF, [f"{self._base}:lock:{name}"], owner))

    def get_open_incident(self, fingerprint: str) -> str | None:
        """Return the id of the outage's open incident, or ``None``.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        check_key(fingerprint, "fingerprint")
        try:
            found = self._client.get(f"{self._base}:incident:{fingerprint}")
        except self._errors as exc:
            raise self._unavailable("get_incident", exc) from exc
        if found is None:
            return None
        return found.decode() if isinstance(found, bytes) else str(found)

    def set_open_incident(self, fingerprint: str, incident_id: str) -> None:
        """Remember the incident that reports the outage.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        check_key(fingerprint, "fingerprint")
        check_key(incident_id, "incident_id")
        script = "redis.call('SET', KEYS[1], ARGV[1]) return 1"
        self._eval("set_incident", script, [f"{self._base}:incident:{fingerprint}"], incident_id)

    def clear_open_incident(self, fingerprint: str, incident_id: str) -> bool:
        """Forget the outage's incident if it is still ``incident_id``.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        check_key(fingerprint, "fingerprint")
        check_key(incident_id, "incident_id")
        key = f"{self._base}:incident:{fingerprint}"
        return bool(self._eval("clear_incident", _DELETE_IF, [key], incident_id))

    def load_page(self) -> tuple[int, dict[str, Any]]:
        """Return the page's version and state (``(0, {})`` before the first save).

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        try:
            stored = self._client.get(self.page_key)
        except self._errors as exc:
            raise self._unavailable("load_page", exc) from exc
        if stored is None:
            return 0, {}
        envelope = json.loads(stored)
        return int(envelope["v"]), dict(envelope["d"])

    def save_page(self, state: Mapping[str, Any], *, expected_version: int) -> int:
        """Write the page state over ``expected_version`` (atomic); return the new version.

        Raises:
            ConflictError: The stored version is not ``expected_version``; nothing was written.
            StoreUnavailableError: Redis did not answer.
        """
        expected = check_version(expected_version)
        payload = encode_state(state)
        status, version = self._eval("save_page", _SAVE_PAGE, [self.page_key], expected, payload)
        if int(status) == -1:
            raise conflict(expected, int(version))
        return int(version)

    def close(self) -> None:
        """Close the client if the store created it (`from_url`); an injected one stays open."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> RedisStatusPageStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
