"""The Redis store: atomic Lua commits, pub/sub announcements, a wipe-proof keyspace.

Keys (``{uh:ff}`` is the default prefix in a hash tag, so every key sits in one cluster slot)::

    {uh:ff}:v1:meta        HASH  version, epoch, audit_head, audit_length, audit_key,
                                count:<collection>
    {uh:ff}:v1:flags       HASH  flag key -> JSON document
    {uh:ff}:v1:segments    HASH  segment key -> JSON document
    {uh:ff}:v1:settings    HASH  setting name -> JSON value (e.g. kill_switch)
    {uh:ff}:v1:schedules   HASH  schedule id -> JSON document
    {uh:ff}:v1:audit       LIST  audit records, oldest first (append-only)
    {uh:ff}:v1:changes     pub/sub channel; messages are "<epoch>:<version>"

A commit is one Lua script: it checks every key's type, the epoch, the base version and its
arguments first, then writes the documents, appends the audit record, bumps the version, records
which collections are non-empty and publishes; nothing after the first write can fail, so it is
all or nothing. A read is one Lua script too, so it is consistent; if the meta hash is missing or
unreadable (a wiped keyspace), a collection the last commit recorded as non-empty is gone (a
half-deleted keyspace) or a key holds another Redis type, `read` returns ``None``, clients keep
what they have and `FeatureFlagAdmin.initialize` may restore the keyspace. A foreign or corrupt
field inside a collection is just a bad document: it affects only itself.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from unified_health.feature_flags._errors import (
    ConflictError,
    InvalidInputError,
    StoreUnavailableError,
)
from unified_health.feature_flags._logging import logger
from unified_health.feature_flags.stores._protocol import COLLECTIONS, Commit, StoreState

__all__ = ["DEFAULT_PREFIX", "RedisClientProtocol", "RedisFeatureFlagStore", "hash_tagged"]

DEFAULT_PREFIX = "uh:ff"


# Both scripts judge completeness the same way: the meta hash must hold a numeric version and an
# epoch, and a collection the last commit recorded as non-empty must still exist. Extra or missing
# fields inside a collection are not a wipe: they are documents, and a bad one affects only itself.
_COMPLETE = """
local function complete(meta_key, collection_keys)
  local m = redis.call('HMGET', meta_key, 'version', 'epoch',
    'count:flags', 'count:segments', 'count:settings', 'count:schedules')
  if not m[1] or not m[2] or not tonumber(m[1]) then return false end
  for i = 1, 4 do
    if (tonumber(m[2 + i]) or 0) > 0 and redis.call('EXISTS', collection_keys[i]) == 0 then
      return false
    end
  end
  return true
end
local function type_of(key) return redis.call('TYPE', key)['ok'] end
"""

_READ = (
    _COMPLETE
    + """
for i = 1, 5 do
  local t = type_of(KEYS[i])
  if t ~= 'none' and t ~= 'hash' then return {'wrongtype', tostring(i)} end
end
if not complete(KEYS[1], {KEYS[2], KEYS[3], KEYS[4], KEYS[5]}) then return {} end
return {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]),
        redis.call('HGETALL', KEYS[3]), redis.call('HGETALL', KEYS[4]),
        redis.call('HGETALL', KEYS[5])}
"""
)

# Redis does not roll a script back when a command fails part-way, so the script first checks
# everything that could make a command fail (key types, the version and epoch, its arguments) and
# only then writes, with commands that cannot fail on keys of the checked types.
_COMMIT = (
    _COMPLETE
    + """
local collections = {KEYS[2], KEYS[3], KEYS[4], KEYS[5]}
local init = ARGV[1] == 'init'
-- 1. validate: nothing is written above the line marked 2.
local t = type_of(KEYS[6])
if t ~= 'none' and t ~= 'list' then return {'wrongtype', '6'} end
if not init then
  for i = 1, 5 do
    t = type_of(KEYS[i])
    if t ~= 'none' and t ~= 'hash' then return {'wrongtype', tostring(i)} end
  end
end
local meta_ok = type_of(KEYS[1]) == 'hash'
local cur, epoch, head = false, false, ''
if meta_ok then
  cur = redis.call('HGET', KEYS[1], 'version')
  epoch = redis.call('HGET', KEYS[1], 'epoch')
  head = redis.call('HGET', KEYS[1], 'audit_head') or ''
end
local audit_length
if init then
  if meta_ok and complete(KEYS[1], collections) then return {'exists', cur} end
  audit_length = redis.call('LLEN', KEYS[6])
  if ARGV[9] ~= '' and tonumber(ARGV[9]) ~= audit_length then
    return {'audit_moved', tostring(audit_length)}
  end
else
  if not cur then return {'uninitialized', ''} end
  if not complete(KEYS[1], collections) then return {'incomplete', ''} end
  if epoch ~= ARGV[2] or cur ~= ARGV[3] then return {'moved', cur} end
  audit_length = tonumber(redis.call('HGET', KEYS[1], 'audit_length')) or 0
end
local n = tonumber(ARGV[8])
if not n then return {'badargs', '8'} end
for i = 0, n - 1 do
  local base = 11 + i * 4
  local index = tonumber(ARGV[base])
  if not index or index < 0 or index > 3 or ARGV[base + 1] == nil
      or (ARGV[base + 2] ~= 'set' and ARGV[base + 2] ~= 'del') or ARGV[base + 3] == nil then
    return {'badargs', tostring(base)}
  end
end
-- 2. write: HSET/HDEL/DEL/RPUSH/PUBLISH on keys of the checked types cannot fail.
if init then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
  epoch = ARGV[4]
  cur = '0'
  redis.call('HSET', KEYS[1], 'version', '0', 'epoch', epoch, 'audit_head', head,
    'audit_length', tostring(audit_length))
end
for i = 0, n - 1 do
  local base = 11 + i * 4
  local key = collections[1 + tonumber(ARGV[base])]
  if ARGV[base + 2] == 'set' then
    redis.call('HSET', key, ARGV[base + 1], ARGV[base + 3])
  else
    redis.call('HDEL', key, ARGV[base + 1])
  end
end
if ARGV[6] ~= '' then
  redis.call('RPUSH', KEYS[6], ARGV[6])
  redis.call('HSET', KEYS[1], 'audit_head', ARGV[7], 'audit_length', tostring(audit_length + 1))
end
if ARGV[10] ~= '' then
  redis.call('HSETNX', KEYS[1], 'audit_key', ARGV[10])
end
local new = tostring(tonumber(cur) + 1)
redis.call('HSET', KEYS[1], 'version', new,
  'count:flags', redis.call('HLEN', KEYS[2]), 'count:segments', redis.call('HLEN', KEYS[3]),
  'count:settings', redis.call('HLEN', KEYS[4]), 'count:schedules', redis.call('HLEN', KEYS[5]))
redis.call('PUBLISH', ARGV[5], epoch .. ':' .. new)
return {'ok', new}
"""
)


@runtime_checkable
class RedisClientProtocol(Protocol):
    """The Redis commands the store uses; ``redis.Redis`` or any compatible client has them.

    Responses may be bytes or decoded strings.

    Examples:
        >>> import redis
        >>> isinstance(redis.Redis(), RedisClientProtocol)
        True
        >>> isinstance("redis://127.0.0.1:6379/0", RedisClientProtocol)
        False
    """

    def register_script(self, script: str, /) -> Any:
        """Return a callable script (``keys=``, ``args=``) run with EVALSHA."""
        ...

    def hmget(self, name: str, keys: list[str], /) -> Any:
        """Read several fields of a hash (HMGET)."""
        ...

    def lrange(self, name: str, start: int, end: int, /) -> Any:
        """Read a range of a list (LRANGE)."""
        ...

    def pubsub(self, **kwargs: Any) -> Any:
        """Return a PubSub object on a dedicated connection."""
        ...

    def close(self) -> None:
        """Close the client's connections."""
        ...


def hash_tagged(prefix: str) -> str:
    """Wrap ``prefix`` in a Redis Cluster hash tag unless it already holds one.

    Args:
        prefix: The configured key prefix.

    Returns:
        The prefix every key starts with.

    Raises:
        InvalidInputError: The prefix is empty or not a str.

    Examples:
        >>> hash_tagged("myapp:ff")
        '{myapp:ff}'
        >>> hash_tagged("{tenant-7}:ff")
        '{tenant-7}:ff'
    """
    given: object = prefix
    if not isinstance(given, str) or not given.strip():
        raise InvalidInputError("prefix", "must be a non-empty str")
    opening = prefix.find("{")
    if opening >= 0 and prefix.find("}", opening) > opening + 1:
        return prefix
    return "{" + prefix + "}"


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

    Constructing the store makes no connection, so it never blocks on a dead server.

    Args:
        client: Your Redis client (``redis.Redis`` or compatible); the store never closes a
            client it was given.
        prefix: Key prefix; wrapped in a hash tag (``{...}``) unless it already holds one.

    Raises:
        InvalidInputError: ``client`` is not a Redis client (for a URL, use `from_url`), or the
            prefix is empty.

    Examples:
        >>> import redis
        >>> store = RedisFeatureFlagStore(redis.Redis(), prefix="myapp:ff")
        >>> store.keys.flags
        '{myapp:ff}:v1:flags'
    """

    def __init__(self, client: RedisClientProtocol, *, prefix: str = DEFAULT_PREFIX) -> None:
        given: object = client
        if isinstance(given, str | bytes) or not isinstance(given, RedisClientProtocol):
            raise InvalidInputError(
                "client",
                "must be a Redis client; for a URL use RedisFeatureFlagStore.from_url(url)",
            )
        self._redis = client
        self._owns_client = False
        self.keys = _Keys(hash_tagged(prefix))
        self._read = client.register_script(_READ)
        self._commit = client.register_script(_COMMIT)
        self._errors = _errors()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        socket_timeout: float = 2.0,
        socket_connect_timeout: float = 1.0,
    ) -> RedisFeatureFlagStore:
        """Create a store on a new client that it owns and closes in `close`.

        No connection is made until the first call, so this never blocks on a dead server.
        A call that loses its connection is retried once, at once (a pooled connection may
        have died with a restarted server), never with redis-py's sleeping backoff, and a
        timeout is not retried: a call to a dead server fails within ``socket_timeout`` or
        twice ``socket_connect_timeout`` (at once when nothing listens on the port).

        Args:
            url: A Redis URL, e.g. ``redis://127.0.0.1:6379/0``.
            prefix: Key prefix.
            socket_timeout: Seconds a Redis call may take.
            socket_connect_timeout: Seconds a connection attempt may take.

        Returns:
            The store.

        Raises:
            InvalidInputError: The URL, the prefix or a timeout is invalid.

        Examples:
            >>> with RedisFeatureFlagStore.from_url("redis://127.0.0.1:6379/0") as store:
            ...     store.keys.meta
            '{uh:ff}:v1:meta'
        """
        try:
            import redis
        except ImportError:
            raise ImportError(
                "RedisFeatureFlagStore.from_url needs the redis extra: "
                "pip install 'uh-feature-flags[redis]'"
            ) from None
        from redis.backoff import NoBackoff
        from redis.retry import Retry

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
        hash_tagged(prefix)  # refuse a bad prefix before a client exists
        try:
            client = redis.Redis.from_url(
                url,
                socket_timeout=socket_timeout,
                socket_connect_timeout=socket_connect_timeout,
                retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
            )
        except ValueError:
            raise InvalidInputError("url", "must be a redis://, rediss:// or unix:// URL") from None
        store = cls(client, prefix=prefix)
        store._owns_client = True
        return store

    def _unavailable(self, exc: BaseException) -> StoreUnavailableError:
        return StoreUnavailableError(f"redis call failed ({type(exc).__name__})")

    def read(self) -> StoreState | None:
        """Read everything in one script; ``None`` when wiped, never written, or incomplete.

        The keyspace is incomplete when the meta hash is missing or unreadable, when a
        collection the last commit recorded as non-empty is missing, or when a key holds
        another Redis type. Extra or missing fields inside a collection are documents like any
        other: a foreign or corrupt one affects only itself.
        """
        try:
            reply = self._read(keys=self.keys.read_keys)
        except self._errors as exc:
            raise self._unavailable(exc) from exc
        if not reply:
            return None
        if len(reply) == 2:  # {'wrongtype', index}
            logger.warning("incomplete_keyspace_ignored", part=f"key_type_{_text(reply[1])}")
            return None
        meta = _pairs(reply[0])
        collections = {
            name: _pairs(flat) for name, flat in zip(COLLECTIONS, reply[1:], strict=True)
        }
        try:
            version = int(meta["version"])
            epoch = meta["epoch"]
            audit_length = int(meta.get("audit_length", "0"))
        except (KeyError, ValueError):
            logger.warning("incomplete_keyspace_ignored", part="meta")
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
            audit_key=meta.get("audit_key", ""),
        )

    def read_version(self) -> tuple[str, int] | None:
        """Return ``(epoch, version)`` with one HMGET; ``None`` when not initialised."""
        try:
            epoch, version = self._redis.hmget(self.keys.meta, ["epoch", "version"])
        except self._errors as exc:
            raise self._unavailable(exc) from exc
        if epoch is None or version is None:
            return None
        try:
            return _text(epoch), int(_text(version))
        except ValueError:
            return None

    def commit(self, commit: Commit) -> int:
        """Run the commit script; see `FeatureFlagStore.commit`.

        The script checks every key's type, the epoch, the version and its own arguments
        before its first write, and nothing after that write can fail, so a commit is applied
        whole or not at all.
        """
        args: list[str | int] = [
            "init" if commit.initialize else "commit",
            commit.base_epoch,
            str(commit.base_version),
            commit.new_epoch,
            self.keys.channel,
            commit.audit_record or "",
            commit.audit_hash,
            len(commit.writes),
            "" if commit.audit_base is None else str(commit.audit_base),
            commit.audit_key,
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
        if status == "incomplete":
            raise StoreUnavailableError(
                "the store holds an incomplete keyspace (wiped or half-written): restore it "
                "with initialize()"
            )
        if status == "wrongtype":
            name = self.keys.all[int(detail) - 1]
            raise StoreUnavailableError(
                f"the key {name!r} holds another Redis type; nothing written"
            )
        if status == "exists":
            raise ConflictError("the store is already initialised")
        if status == "audit_moved":
            raise ConflictError("the audit log moved while the store was initialised")
        if status == "badargs":
            raise StoreUnavailableError("the commit script rejected its arguments; nothing written")
        raise ConflictError(f"the store is at version {detail}, the write expected another")

    def audit_records(self) -> list[str]:
        """Return the audit records, oldest first (LRANGE of the audit list)."""
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
        """Close the client if the store created it (`from_url`); an injected one stays open."""
        if self._owns_client:
            self._redis.close()

    def __enter__(self) -> RedisFeatureFlagStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _Keys:
    def __init__(self, tagged_prefix: str) -> None:
        base = f"{tagged_prefix}:v1"
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

    def next(self, timeout: float) -> tuple[str, int] | None:
        try:
            message = self._pubsub.get_message(timeout=timeout)
        except self._errors as exc:
            raise StoreUnavailableError(f"subscription lost ({type(exc).__name__})") from exc
        if not message or message.get("type") != "message":
            return None
        epoch, _, version = _text(message["data"]).rpartition(":")
        try:
            return (epoch, int(version)) if epoch else None
        except ValueError:
            return None

    def close(self) -> None:
        self._pubsub.close()
