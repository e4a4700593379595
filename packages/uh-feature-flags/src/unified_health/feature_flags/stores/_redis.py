"""The Redis store: atomic Lua commits, pub/sub announcements, a wipe-proof keyspace.

Keys (``{uh:ff}`` is the default prefix in a hash tag, so every key sits in one cluster slot)::

    {uh:ff}:v1:meta        HASH  version, epoch, audit_head, audit_length, count:<collection>
    {uh:ff}:v1:flags       HASH  flag key -> JSON document
    {uh:ff}:v1:segments    HASH  segment key -> JSON document
    {uh:ff}:v1:settings    HASH  setting name -> JSON value (e.g. kill_switch)
    {uh:ff}:v1:schedules   HASH  schedule id -> JSON document
    {uh:ff}:v1:audit       LIST  audit records, oldest first (append-only)
    {uh:ff}:v1:changes     pub/sub channel; messages are "<epoch>:<version>"

A commit is one Lua script: it checks the base version, writes the documents, appends the audit
record, bumps the version, records each collection's size and publishes, all or nothing. A read is
one Lua script too, so it is consistent; if the meta hash is missing (a wiped keyspace) or a
collection's size disagrees with the recorded count (a half-written or half-deleted keyspace),
`read` returns ``None`` and clients keep what they have.
"""

from __future__ import annotations

from typing import Any, Protocol

import structlog

from unified_health.feature_flags._errors import ConflictError, StoreUnavailableError
from unified_health.feature_flags.stores._protocol import COLLECTIONS, Commit, StoreState

__all__ = ["RedisClientProtocol", "RedisFeatureFlagStore"]

_log = structlog.get_logger("unified_health.feature_flags")

_READ = """
local meta = redis.call('HGETALL', KEYS[1])
if #meta == 0 then return {} end
return {meta, redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[3]),
        redis.call('HGETALL', KEYS[4]), redis.call('HGETALL', KEYS[5])}
"""

_COMMIT = """
local cur = redis.call('HGET', KEYS[1], 'version')
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if ARGV[1] == 'init' then
  if cur then return {'exists', cur} end
  epoch = ARGV[4]
  cur = '0'
  redis.call('HSET', KEYS[1], 'version', '0', 'epoch', epoch, 'audit_head', '', 'audit_length', '0')
else
  if not cur then return {'uninitialized', ''} end
  if epoch ~= ARGV[2] or cur ~= ARGV[3] then return {'moved', cur} end
end
local n = tonumber(ARGV[8])
for i = 0, n - 1 do
  local base = 9 + i * 4
  local key = KEYS[2 + tonumber(ARGV[base])]
  if ARGV[base + 2] == 'set' then
    redis.call('HSET', key, ARGV[base + 1], ARGV[base + 3])
  else
    redis.call('HDEL', key, ARGV[base + 1])
  end
end
if ARGV[6] ~= '' then
  redis.call('RPUSH', KEYS[6], ARGV[6])
  redis.call('HSET', KEYS[1], 'audit_head', ARGV[7], 'audit_length', redis.call('LLEN', KEYS[6]))
end
local new = tostring(tonumber(cur) + 1)
redis.call('HSET', KEYS[1], 'version', new,
  'count:flags', redis.call('HLEN', KEYS[2]), 'count:segments', redis.call('HLEN', KEYS[3]),
  'count:settings', redis.call('HLEN', KEYS[4]), 'count:schedules', redis.call('HLEN', KEYS[5]))
redis.call('PUBLISH', ARGV[5], epoch .. ':' .. new)
return {'ok', new}
"""


class RedisClientProtocol(Protocol):
    """The few commands the store uses; ``redis.Redis`` (bytes or decoded) satisfies it.

    Example:
        >>> import redis
        >>> client: RedisClientProtocol = redis.Redis()
    """

    def register_script(self, script: str, /) -> Any:
        """Return a callable script (``keys=``, ``args=``) run with EVALSHA."""
        ...

    def hmget(self, name: str, keys: list[str], /) -> Any:
        """HMGET."""
        ...

    def lrange(self, name: str, start: int, end: int, /) -> Any:
        """LRANGE."""
        ...

    def pubsub(self, **kwargs: Any) -> Any:
        """Return a PubSub object."""
        ...

    def close(self) -> None:
        """Close the client's connections."""
        ...


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _pairs(flat: list[Any]) -> dict[str, str]:
    return {_text(flat[i]): _text(flat[i + 1]) for i in range(0, len(flat), 2)}


def _errors() -> tuple[type[BaseException], ...]:
    try:
        import redis
    except ImportError:  # pragma: no cover - only without the redis extra
        return (OSError,)
    return (redis.RedisError, OSError)


class RedisFeatureFlagStore:
    """A `FeatureFlagStore` on Redis (standalone or cluster: every key shares one hash slot).

    Args:
        redis_client: Your client (``redis.Redis``); the store never closes it.
        prefix: Key prefix; wrapped in ``{}`` unless it already holds a hash tag.

    Example:
        >>> import redis
        >>> store = RedisFeatureFlagStore(redis.Redis(), prefix="myapp:ff")
        >>> store.keys.flags
        '{myapp:ff}:v1:flags'
    """

    def __init__(self, redis_client: RedisClientProtocol, *, prefix: str = "uh:ff") -> None:
        self._redis = redis_client
        self._owns_client = False
        self.keys = _Keys(prefix)
        self._read = redis_client.register_script(_READ)
        self._commit = redis_client.register_script(_COMMIT)
        self._errors = _errors()

    @classmethod
    def from_url(
        cls, url: str, *, prefix: str = "uh:ff", socket_timeout: float = 5.0
    ) -> RedisFeatureFlagStore:
        """Create a store on a new client it owns (closed by `close`).

        Args:
            url: A Redis URL, e.g. ``redis://127.0.0.1:6379/0``.
            prefix: Key prefix.
            socket_timeout: Seconds before a Redis call gives up.

        Returns:
            The store.

        Example:
            >>> RedisFeatureFlagStore.from_url("redis://127.0.0.1:6379/0").keys.meta
            '{uh:ff}:v1:meta'
        """
        import redis

        client = redis.Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=min(socket_timeout, 2.0),
        )
        store = cls(client, prefix=prefix)
        store._owns_client = True
        return store

    def _unavailable(self, exc: BaseException) -> StoreUnavailableError:
        return StoreUnavailableError(f"redis call failed ({type(exc).__name__})")

    def read(self) -> StoreState | None:
        """Read everything in one script; ``None`` when wiped, never written, or incomplete."""
        try:
            reply = self._read(keys=self.keys.read_keys)
        except self._errors as exc:
            raise self._unavailable(exc) from exc
        if not reply:
            return None
        meta = _pairs(reply[0])
        collections = {
            name: _pairs(flat) for name, flat in zip(COLLECTIONS, reply[1:], strict=True)
        }
        try:
            version = int(meta["version"])
            epoch = meta["epoch"]
            counts = {name: int(meta.get(f"count:{name}", "0")) for name in COLLECTIONS}
            audit_length = int(meta.get("audit_length", "0"))
        except (KeyError, ValueError):
            _log.warning("feature_flags_store_incomplete", part="meta")
            return None
        for name in COLLECTIONS:
            if len(collections[name]) != counts[name]:
                _log.warning("feature_flags_store_incomplete", part=name)
                return None
        return StoreState(
            version=version,
            epoch=epoch,
            flags=collections["flags"],
            segments=collections["segments"],
            settings=collections["settings"],
            schedules=collections["schedules"],
            audit_head=meta.get("audit_head", ""),
            audit_length=audit_length,
        )

    def read_version(self) -> tuple[str, int] | None:
        """HMGET of epoch and version; ``None`` when the keyspace is not initialised."""
        try:
            epoch, version = self._redis.hmget(self.keys.meta, ["epoch", "version"])
        except self._errors as exc:
            raise self._unavailable(exc) from exc
        if epoch is None or version is None:
            return None
        return _text(epoch), int(_text(version))

    def commit(self, commit: Commit) -> int:
        """Run the commit script; see `FeatureFlagStore.commit`."""
        args: list[str | int] = [
            "init" if commit.initialize else "commit",
            commit.base_epoch,
            str(commit.base_version),
            commit.new_epoch,
            self.keys.channel,
            commit.audit_record or "",
            commit.audit_hash,
            len(commit.writes),
        ]
        for write in commit.writes:
            args.extend(
                (
                    COLLECTIONS.index(write.collection),
                    write.key,
                    "del" if write.value is None else "set",
                    write.value or "",
                )
            )
        try:
            status, detail = (_text(part) for part in self._commit(keys=self.keys.all, args=args))
        except self._errors as exc:
            raise self._unavailable(exc) from exc
        if status == "ok":
            return int(detail)
        if status == "uninitialized":
            raise StoreUnavailableError("the store holds no flag data (wiped or not initialised)")
        if status == "exists":
            raise ConflictError("the store is already initialised")
        raise ConflictError(f"the store is at version {detail}, the write expected another")

    def audit_records(self) -> list[str]:
        """LRANGE of the audit list."""
        try:
            return [_text(item) for item in self._redis.lrange(self.keys.audit, 0, -1)]
        except self._errors as exc:
            raise self._unavailable(exc) from exc

    def watch(self) -> _RedisFeed:
        """Subscribe to the change channel on a dedicated connection."""
        try:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(self.keys.channel)
        except self._errors as exc:
            raise self._unavailable(exc) from exc
        return _RedisFeed(pubsub, self._errors)

    def close(self) -> None:
        """Close the Redis client when the store created it (`from_url`)."""
        if self._owns_client:
            self._redis.close()


class _Keys:
    def __init__(self, prefix: str) -> None:
        tag = prefix if "{" in prefix else "{" + prefix + "}"
        base = f"{tag}:v1"
        self.meta = f"{base}:meta"
        self.flags = f"{base}:flags"
        self.segments = f"{base}:segments"
        self.settings = f"{base}:settings"
        self.schedules = f"{base}:schedules"
        self.audit = f"{base}:audit"
        self.channel = f"{base}:changes"
        self.read_keys = [self.meta, self.flags, self.segments, self.settings, self.schedules]
        self.all = [*self.read_keys, self.audit]


class _RedisFeed:
    def __init__(self, pubsub: Any, errors: tuple[type[BaseException], ...]) -> None:
        self._pubsub = pubsub
        # ValueError: redis-py may read from a socket that was closed under it.
        self._errors: tuple[type[BaseException], ...] = (*errors, ValueError)

    def next(self, timeout: float) -> int | None:
        try:
            message = self._pubsub.get_message(timeout=timeout)
        except self._errors as exc:
            raise StoreUnavailableError(f"subscription lost ({type(exc).__name__})") from exc
        if not message or message.get("type") != "message":
            return None
        try:
            return int(_text(message["data"]).rsplit(":", 1)[1])
        except (IndexError, ValueError):
            return None

    def close(self) -> None:
        self._pubsub.close()
