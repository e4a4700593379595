"""The Redis session store and the Redis Streams audit log.

Keys (the prefix is wrapped in a hash tag, so every key sits in one cluster slot)::

    {uh:impersonation}:v1:s:<session id>     HASH   h token hash, d session JSON, s status,
                                                    st/ex/en start/expiry/end (µs, Redis TIME),
                                                    by, why, a actor id, g target id
    {uh:impersonation}:v1:actor:<user id>    STRING "<session id> <expiry µs>": the actor lock
    {uh:impersonation}:v1:target:<user id>   ZSET   active sessions with this user as target
    {uh:impersonation}:v1:active             ZSET   active session ids by expiry
    {uh:impersonation}:v1:revocations        CHANNEL the id of every session ended or revoked
    {uh:impersonation}:v1:apr:<approval id>  HASH   a actor, g target, t ticket, rq/ex times,
                                                    by approver, c consumed
    {uh:impersonation}:v1:audit              STREAM the audit records (entry id 0-<seq>)
    {uh:impersonation}:v1:audit:head         HASH   seq, hash of the last record
    {uh:impersonation}:v1:audit:checkpoints  LIST   signed checkpoints (JSON)

Every change is one Lua script that reads the time with ``TIME`` inside it: expiry is decided by the
Redis server's clock, not the caller's, and a validation is one round trip.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from unified_health.impersonation._chain import GENESIS, chain_hash
from unified_health.impersonation._errors import (
    ConflictError,
    ImpersonationDeniedError,
    InvalidInputError,
    StoreUnavailableError,
)
from unified_health.impersonation._logging import logger
from unified_health.impersonation._models import (
    ApprovalRequest,
    AuditEvent,
    AuditRecord,
    Checkpoint,
    ImpersonationSession,
    NewSession,
    SessionStatus,
)
from unified_health.impersonation.stores._protocol import RedisClientProtocol
from unified_health.impersonation.stores._subscription import Subscription

__all__ = [
    "DEFAULT_PREFIX",
    "RedisAuditLog",
    "RedisImpersonationStore",
    "hash_tagged",
    "redis_persistence_warnings",
]

DEFAULT_PREFIX = "uh:impersonation"
_RETENTION_MS = 7 * 24 * 3600 * 1000
_TARGET_TTL_MS = 2 * 3600 * 1000

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""

# Mark an active session whose time is up as expired; KEYS-free helper over key names.
_EXPIRE_FN = """
local function expire_if_due(skey, active, p, sid, now)
  local r = redis.call('HMGET', skey, 's', 'ex', 'a', 'g')
  if r[1] ~= 'active' or tonumber(r[2]) > now then return 0 end
  redis.call('HSET', skey, 's', 'expired', 'en', r[2])
  redis.call('ZREM', active, sid)
  redis.call('ZREM', p .. 'target:' .. r[4], sid)
  local lock = redis.call('GET', p .. 'actor:' .. r[3])
  if lock and string.sub(lock, 1, #sid + 1) == sid .. ' ' then
    redis.call('DEL', p .. 'actor:' .. r[3])
  end
  return 1
end
local function fields(skey)
  return redis.call('HMGET', skey, 'd', 's', 'st', 'ex', 'en', 'by', 'why')
end
"""

# KEYS: session, actor lock, target zset of the actor, target zset of the target, active.
# ARGV: session id, token hash, session JSON, duration µs, actor id, target id, retention ms.
_CREATE = (
    _NOW
    + """
local lock = redis.call('GET', KEYS[2])
if lock then
  local sep = string.find(lock, ' ')
  if tonumber(string.sub(lock, sep + 1)) > now then return {0, 'already_impersonating'} end
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[3]) > 0 then return {0, 'nested_impersonation'} end
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, 'conflict'} end
local ex = now + tonumber(ARGV[4])
local exs = string.format('%d', ex)
redis.call('HSET', KEYS[1], 'h', ARGV[2], 'd', ARGV[3], 's', 'active',
  'st', string.format('%d', now), 'ex', exs, 'a', ARGV[5], 'g', ARGV[6])
redis.call('PEXPIRE', KEYS[1], math.floor(tonumber(ARGV[4]) / 1000) + tonumber(ARGV[7]))
redis.call('SET', KEYS[2], ARGV[1] .. ' ' .. exs, 'PX', math.floor(tonumber(ARGV[4]) / 1000) + 1000)
redis.call('ZADD', KEYS[4], ex, ARGV[1])
redis.call('PEXPIRE', KEYS[4], """
    + str(_TARGET_TTL_MS)
    + """)
redis.call('ZADD', KEYS[5], ex, ARGV[1])
return {1, string.format('%d', now), exs}
"""
)

# KEYS: session, active. ARGV: token hash ('' to skip the check), prefix, session id.
_LOOKUP = (
    _NOW
    + _EXPIRE_FN
    + """
local h = redis.call('HGET', KEYS[1], 'h')
if not h or (ARGV[1] ~= '' and h ~= ARGV[1]) then return {0} end
local changed = expire_if_due(KEYS[1], KEYS[2], ARGV[2], ARGV[3], now)
local r = fields(KEYS[1])
return {1, changed, r[1], r[2], r[3], r[4], r[5] or '', r[6] or '', r[7] or ''}
"""
)

# KEYS: session, active. ARGV: status, by, why, prefix, session id.
_FINISH = (
    _NOW
    + _EXPIRE_FN
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local changed = expire_if_due(KEYS[1], KEYS[2], ARGV[4], ARGV[5], now)
if changed == 0 then
  local r = redis.call('HMGET', KEYS[1], 's', 'a', 'g')
  if r[1] == 'active' then
    redis.call('HSET', KEYS[1], 's', ARGV[1], 'en', string.format('%d', now),
      'by', ARGV[2], 'why', ARGV[3])
    redis.call('ZREM', KEYS[2], ARGV[5])
    redis.call('ZREM', ARGV[4] .. 'target:' .. r[3], ARGV[5])
    local lock = redis.call('GET', ARGV[4] .. 'actor:' .. r[2])
    if lock and string.sub(lock, 1, #ARGV[5] + 1) == ARGV[5] .. ' ' then
      redis.call('DEL', ARGV[4] .. 'actor:' .. r[2])
    end
    changed = 1
    redis.call('PUBLISH', ARGV[4] .. 'revocations', ARGV[5])
  end
end
local r = fields(KEYS[1])
return {1, changed, r[1], r[2], r[3], r[4], r[5] or '', r[6] or '', r[7] or ''}
"""
)

# KEYS: active. ARGV: prefix, limit, mode ('list' or 'expire').
_SCAN_ACTIVE = (
    _NOW
    + _EXPIRE_FN
    + """
local out = {}
local ids
if ARGV[3] == 'list' then
  ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. string.format('%d', now), '+inf',
    'LIMIT', 0, tonumber(ARGV[2]))
else
  ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now),
    'LIMIT', 0, tonumber(ARGV[2]))
end
for _, sid in ipairs(ids) do
  local skey = ARGV[1] .. 's:' .. sid
  if ARGV[3] == 'expire' then expire_if_due(skey, KEYS[1], ARGV[1], sid, now) end
  local r = fields(skey)
  if r[1] then
    table.insert(out, {r[1], r[2], r[3], r[4], r[5] or '', r[6] or '', r[7] or ''})
  else
    redis.call('ZREM', KEYS[1], sid)
  end
end
return out
"""
)

_TIME = _NOW + "return string.format('%d', now)"

# KEYS: approval. ARGV: actor, target, ticket, ttl µs, retention ms.
_APPROVAL_CREATE = (
    _NOW
    + """
local ex = now + tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'a', ARGV[1], 'g', ARGV[2], 't', ARGV[3],
  'rq', string.format('%d', now), 'ex', string.format('%d', ex), 'by', '', 'c', '0')
redis.call('PEXPIRE', KEYS[1], math.floor(tonumber(ARGV[4]) / 1000) + tonumber(ARGV[5]))
return {string.format('%d', now), string.format('%d', ex)}
"""
)

# KEYS: approval. ARGV: mode ('get', 'approve' or 'consume'), approver or actor, target, ticket.
_APPROVAL = (
    _NOW
    + """
local r = redis.call('HMGET', KEYS[1], 'a', 'g', 't', 'rq', 'ex', 'by', 'c')
if not r[1] then return {0} end
local live = tonumber(r[5]) > now
if ARGV[1] == 'approve' and r[6] == '' and live then
  redis.call('HSET', KEYS[1], 'by', ARGV[2])
  r[6] = ARGV[2]
elseif ARGV[1] == 'consume' then
  if r[6] == '' or r[7] ~= '0' or not live or r[1] ~= ARGV[2] or r[2] ~= ARGV[3]
     or r[3] ~= ARGV[4] then
    return {2, 0}
  end
  redis.call('HSET', KEYS[1], 'c', '1')
  return {2, 1}
end
return {1, r[1], r[2], r[3], r[4], r[5], r[6], r[7]}
"""
)

# KEYS: stream, head. ARGV: expected seq, new seq, prev hash, hash, body.
_APPEND = """
local head = redis.call('HMGET', KEYS[2], 'seq', 'hash')
local seq = tonumber(head[1] or '0')
if seq ~= tonumber(ARGV[1]) then return {0, seq, head[2] or ''} end
redis.call('XADD', KEYS[1], '0-' .. ARGV[2], 'p', ARGV[3], 'h', ARGV[4], 'b', ARGV[5])
redis.call('HSET', KEYS[2], 'seq', ARGV[2], 'hash', ARGV[4])
return {1, tonumber(ARGV[2]), ARGV[4]}
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
        >>> hash_tagged("myapp:impersonation")
        '{myapp:impersonation}'
        >>> hash_tagged("{tenant-7}:impersonation")
        '{tenant-7}:impersonation'
    """
    given: object = prefix
    if not isinstance(given, str) or not given.strip():
        raise InvalidInputError("prefix", "must be a non-empty str")
    opening = prefix.find("{")
    if opening >= 0 and prefix.find("}", opening) > opening + 1:
        return prefix
    return "{" + prefix + "}"


def driver_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a Redis client raises when the server cannot be reached or answers badly."""
    try:
        import redis
    except ImportError:  # pragma: no cover - only without the redis extra
        return (OSError,)
    return (redis.RedisError, OSError)


def _from_us(value: bytes | str | None) -> datetime | None:
    if value is None or value in (b"", ""):
        return None
    return datetime.fromtimestamp(int(value) / 1_000_000, tz=UTC)


def _required_us(value: bytes | str | None) -> datetime:
    found = _from_us(value)
    if found is None:
        raise StoreUnavailableError("redis returned a session without its times")
    return found


def approval_row(approval_id: str, result: Any) -> ApprovalRequest | None:
    """Build an approval request from what the approval script returns (``None``: unknown)."""
    if int(result[0]) == 0:
        return None
    return ApprovalRequest(
        id=approval_id,
        actor_id=_text(result[1]) or "",
        target_id=_text(result[2]) or "",
        ticket_id=_text(result[3]) or "",
        requested_at=_required_us(result[4]),
        expires_at=_required_us(result[5]),
        approved_by=_text(result[6]),
        consumed=_text(result[7]) == "1",
    )


def _text(value: bytes | str | None) -> str | None:
    if value is None or value in (b"", ""):
        return None
    return value.decode() if isinstance(value, bytes) else value


def _session(row: list[Any]) -> ImpersonationSession:
    """Build a session from ``d, s, st, ex, en, by, why`` as the scripts return them."""
    data = json.loads(row[0])
    return ImpersonationSession(
        id=data["id"],
        actor_id=data["actor_id"],
        actor_role=data["actor_role"],
        actor_login_session_id=data["actor_login_session_id"],
        target_id=data["target_id"],
        target_role=data["target_role"],
        ticket_id=data["ticket_id"],
        reason=data["reason"],
        scopes=tuple(data["scopes"]),
        source_ip=data["source_ip"],
        status=SessionStatus(_text(row[1]) or "expired"),
        started_at=_required_us(row[2]),
        expires_at=_required_us(row[3]),
        ended_at=_from_us(row[4]),
        ended_by=_text(row[5]),
        end_reason=_text(row[6]),
    )


class _RedisBase:
    """Client checks, ownership, cached scripts and error mapping shared by the Redis stores."""

    def __init__(self, client: RedisClientProtocol, prefix: str) -> None:
        if isinstance(client, str | bytes) or not isinstance(client, RedisClientProtocol):
            raise InvalidInputError(
                "client", f"must be a Redis client; for a URL use {type(self).__name__}.from_url"
            )
        self._client = client
        self._owns_client = False
        self._prefix = f"{hash_tagged(prefix)}:v1:"
        self._errors = driver_errors()
        self._shas: dict[str, str] = {}

    @staticmethod
    def _make_client(url: object, socket_timeout: object, socket_connect_timeout: object) -> Any:
        import redis

        if not isinstance(url, str):
            raise InvalidInputError("url", "must be a str")
        timeouts = (
            ("socket_timeout", socket_timeout),
            ("socket_connect_timeout", socket_connect_timeout),
        )
        for name, value in timeouts:
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise InvalidInputError(name, "must be a number of seconds > 0")
        try:
            return redis.Redis.from_url(
                url, socket_timeout=socket_timeout, socket_connect_timeout=socket_connect_timeout
            )
        except ValueError:
            raise InvalidInputError("url", "must be a redis://, rediss:// or unix:// URL") from None

    def _unavailable(self, operation: str, exc: BaseException) -> StoreUnavailableError:
        logger.warning("store_call_failed", operation=operation, error_class=type(exc).__name__)
        return StoreUnavailableError(f"redis {operation} failed ({type(exc).__name__})")

    def _run(self, operation: str, script: str, keys: list[str], args: list[Any]) -> Any:
        """Run a script by its SHA (one round trip), loading it on first use."""
        sha = self._shas.get(script)
        if sha is None:
            sha = self._shas[script] = hashlib.sha1(script.encode()).hexdigest()  # noqa: S324
        try:
            try:
                return self._client.evalsha(sha, len(keys), *keys, *args)
            except self._errors as exc:
                if type(exc).__name__ != "NoScriptError" and "NOSCRIPT" not in str(exc):
                    raise
                return self._client.eval(script, len(keys), *keys, *args)
        except self._errors as exc:
            raise self._unavailable(operation, exc) from exc

    def close(self) -> None:
        """Close the client if the store created it (`from_url`); an injected one stays open."""
        if self._owns_client:
            self._client.close()


class RedisImpersonationStore(_RedisBase):
    """An `ImpersonationStore` on Redis (standalone or cluster); the server's clock decides expiry.

    Args:
        client: Your Redis client (``redis.Redis()`` or compatible); never closed by the store.
        prefix: Key prefix; wrapped in a hash tag (``{...}``) unless it already holds one.
        retention: How long a finished session's record stays readable, in seconds (its token
            then finds nothing: it still never validates). The audit log is the lasting record.

    Raises:
        InvalidInputError: ``client`` is not a Redis client (for a URL, use `from_url`).

    Examples:
        >>> import redis
        >>> store = RedisImpersonationStore(redis.Redis(), prefix="myapp:impersonation")
        >>> store.key("active")
        '{myapp:impersonation}:v1:active'
    """

    def __init__(
        self,
        client: RedisClientProtocol,
        *,
        prefix: str = DEFAULT_PREFIX,
        retention: int = 7 * 24 * 3600,
    ) -> None:
        super().__init__(client, prefix)
        given: object = retention
        if isinstance(given, bool) or not isinstance(given, int) or not 60 <= given <= 10**8:
            raise InvalidInputError("retention", "must be an int of seconds from 60")
        self._retention_ms = retention * 1000

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        socket_timeout: float = 2.0,
        socket_connect_timeout: float = 1.0,
    ) -> RedisImpersonationStore:
        """Create a store on a new client that it owns and closes in `close`.

        No connection is made until the first call, so this never blocks on a dead server.

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
            >>> store = RedisImpersonationStore.from_url("redis://127.0.0.1:6379/0")
            >>> store.key("active")
            '{uh:impersonation}:v1:active'
            >>> store.close()
        """
        client = cls._make_client(url, socket_timeout, socket_connect_timeout)
        store = cls(client, prefix=prefix)
        store._owns_client = True
        return store

    def key(self, name: str) -> str:
        """The full Redis key for ``name`` (e.g. ``"active"``, ``"s:<session id>"``)."""
        return self._prefix + name

    def now(self) -> datetime:
        """Return the Redis server's time.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        return _required_us(self._run("time", _TIME, [], []))

    def create(self, new: NewSession, token_hash: str) -> ImpersonationSession:
        """Store a new active session stamped with Redis ``TIME`` (one atomic script).

        Raises:
            ImpersonationDeniedError: ``already_impersonating`` or ``nested_impersonation``.
            ConflictError: The session id exists already.
            StoreUnavailableError: Redis did not answer; nothing was created, or the session
                landed and the answer was lost (its token was never handed out, so it is inert).
        """
        keys = [
            self.key(f"s:{new.id}"),
            self.key(f"actor:{new.actor_id}"),
            self.key(f"target:{new.actor_id}"),
            self.key(f"target:{new.target_id}"),
            self.key("active"),
        ]
        body = new.to_json()
        args = [new.id, token_hash, body, new.duration_us, new.actor_id, new.target_id]
        result = self._run("create", _CREATE, keys, [*args, self._retention_ms])
        if int(result[0]) == 0:
            code = _text(result[1]) or "conflict"
            if code == "conflict":
                raise ConflictError("the session id exists already")
            raise ImpersonationDeniedError(code)
        return _session([body, b"active", result[1], result[2], None, None, None])

    def lookup(self, session_id: str, token_hash: str) -> tuple[ImpersonationSession | None, bool]:
        """Find the session by id and token hash, applying expiry: one round trip.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        result = self._run(
            "lookup",
            _LOOKUP,
            [self.key(f"s:{session_id}"), self.key("active")],
            [token_hash, self._prefix, session_id],
        )
        if int(result[0]) == 0:
            return None, False
        return _session(result[2:]), int(result[1]) == 1

    def get(self, session_id: str) -> ImpersonationSession | None:
        """Return the session by id, expiry applied, or ``None``.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        result = self._run(
            "get",
            _LOOKUP,
            [self.key(f"s:{session_id}"), self.key("active")],
            ["", self._prefix, session_id],
        )
        return None if int(result[0]) == 0 else _session(result[2:])

    def finish(
        self, session_id: str, status: SessionStatus, *, by: str, reason: str
    ) -> tuple[ImpersonationSession | None, bool]:
        """End or revoke an active session (atomic); an expired one is marked expired instead.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        result = self._run(
            "finish",
            _FINISH,
            [self.key(f"s:{session_id}"), self.key("active")],
            [status.value, by, reason, self._prefix, session_id],
        )
        if int(result[0]) == 0:
            return None, False
        return _session(result[2:]), int(result[1]) == 1

    def list_active(self) -> list[ImpersonationSession]:
        """Every session active now, by the Redis server's clock.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        rows = self._run("list", _SCAN_ACTIVE, [self.key("active")], [self._prefix, 10_000, "list"])
        return [_session(row) for row in rows]

    def create_approval(
        self, approval_id: str, actor_id: str, target_id: str, ticket_id: str, ttl_us: int
    ) -> ApprovalRequest:
        """Store a pending approval request stamped with Redis ``TIME``.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        started, expires = self._run(
            "approval",
            _APPROVAL_CREATE,
            [self.key(f"apr:{approval_id}")],
            [actor_id, target_id, ticket_id, ttl_us, self._retention_ms],
        )
        return ApprovalRequest(
            id=approval_id,
            actor_id=actor_id,
            target_id=target_id,
            ticket_id=ticket_id,
            requested_at=_required_us(started),
            expires_at=_required_us(expires),
        )

    def _approval(self, approval_id: str, *args: str) -> Any:
        return self._run("approval", _APPROVAL, [self.key(f"apr:{approval_id}")], list(args))

    def get_approval(self, approval_id: str) -> ApprovalRequest | None:
        """Return the approval request, or ``None``.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        return approval_row(approval_id, self._approval(approval_id, "get"))

    def approve(self, approval_id: str, approver_id: str) -> ApprovalRequest | None:
        """Approve a pending, unexpired request once (atomic).

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        return approval_row(approval_id, self._approval(approval_id, "approve", approver_id))

    def consume_approval(
        self, approval_id: str, actor_id: str, target_id: str, ticket_id: str
    ) -> bool:
        """Use an approved request once for this actor, target and ticket (atomic).

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        result = self._approval(approval_id, "consume", actor_id, target_id, ticket_id)
        return int(result[0]) == 2 and int(result[1]) == 1

    def subscribe_revocations(
        self, callback: Callable[[str], None], on_error: Callable[[], None]
    ) -> Subscription:
        """Call ``callback(session_id)`` when any process ends or revokes a session.

        The finish script publishes each id; a background thread receives them, and calls
        ``on_error()`` if the subscription breaks.

        Returns:
            The subscription; `Subscription.close` stops it.

        Raises:
            StoreUnavailableError: Redis did not answer the subscribe.
            InvalidInputError: The client has no ``pubsub``.
        """
        pubsub_factory = getattr(self._client, "pubsub", None)
        if pubsub_factory is None:
            raise InvalidInputError("client", "must offer pubsub() for the cached mode")

        def handle(message: dict[str, Any]) -> None:
            callback(_text(message.get("data")) or "")

        def failed(exc: BaseException, pubsub: Any, thread: Any) -> None:
            logger.warning("revocation_feed_failed", error_class=type(exc).__name__)
            thread.stop()
            on_error()

        try:
            pubsub = pubsub_factory(ignore_subscribe_messages=True)
            pubsub.subscribe(**{self.key("revocations"): handle})
        except self._errors as exc:
            raise self._unavailable("subscribe", exc) from exc
        thread = pubsub.run_in_thread(sleep_time=0.2, daemon=True, exception_handler=failed)
        return Subscription(thread.stop)

    def expire_due(self, limit: int = 100) -> list[ImpersonationSession]:
        """Mark up to ``limit`` sessions whose time is up as expired and return them.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        rows = self._run(
            "expire", _SCAN_ACTIVE, [self.key("active")], [self._prefix, limit, "expire"]
        )
        return [_session(row) for row in rows]

    def __enter__(self) -> RedisImpersonationStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class RedisAuditLog(_RedisBase):
    """An `AuditLog` on a Redis Stream (entry ids ``0-<seq>``), appended by one script each.

    Appends are optimistic: the script adds the record only if the log's head is still the one
    the hash was computed from, and otherwise answers the real head, so concurrent writers in
    any number of processes never fork the chain. Run Redis with AOF (``appendfsync everysec``
    or ``always``) and ``maxmemory-policy noeviction`` when it holds audit data, and copy it to
    PostgreSQL (`PostgresAuditLog`) for the six-year record.

    Args:
        client: Your Redis client; never closed by the log.
        prefix: Key prefix; wrapped in a hash tag unless it already holds one.

    Examples:
        >>> import redis
        >>> RedisAuditLog(redis.Redis(), prefix="myapp:impersonation").stream_key
        '{myapp:impersonation}:v1:audit'
    """

    def __init__(self, client: RedisClientProtocol, *, prefix: str = DEFAULT_PREFIX) -> None:
        super().__init__(client, prefix)
        self.stream_key = self._prefix + "audit"
        self._head_key = self._prefix + "audit:head"
        self._checkpoints_key = self._prefix + "audit:checkpoints"
        self._known_head: tuple[int, str] = (-1, GENESIS)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        socket_timeout: float = 2.0,
        socket_connect_timeout: float = 1.0,
    ) -> RedisAuditLog:
        """Create a log on a new client that it owns and closes in `close`.

        Args:
            url: A Redis URL.
            prefix: Key prefix.
            socket_timeout: Seconds a Redis call may take.
            socket_connect_timeout: Seconds a connection attempt may take.

        Returns:
            The log.

        Raises:
            InvalidInputError: The URL or a timeout is invalid.

        Examples:
            >>> log = RedisAuditLog.from_url("redis://127.0.0.1:6379/0")
            >>> log.stream_key
            '{uh:impersonation}:v1:audit'
            >>> log.close()
        """
        client = cls._make_client(url, socket_timeout, socket_connect_timeout)
        log = cls(client, prefix=prefix)
        log._owns_client = True
        return log

    def append(self, event: AuditEvent) -> AuditRecord:
        """Append the event as the next record (one round trip unless another writer won).

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        body = event.to_json()
        seq, prev = self._known_head
        if seq < 0:
            seq, prev = self.head()
        for _ in range(1000):
            record = AuditRecord(seq + 1, prev, chain_hash(seq + 1, prev, body), body)
            result = self._run(
                "append",
                _APPEND,
                [self.stream_key, self._head_key],
                [seq, record.seq, prev, record.hash, body],
            )
            if int(result[0]) == 1:
                self._known_head = (record.seq, record.hash)
                return record
            seq, prev = int(result[1]), _text(result[2]) or GENESIS
        raise StoreUnavailableError("redis append kept losing the race")  # pragma: no cover

    def head(self) -> tuple[int, str]:
        """The last record's seq and hash as the head key remembers them.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        result = self._run(
            "head", "return redis.call('HMGET', KEYS[1], 'seq', 'hash')", [self._head_key], []
        )
        return int(result[0] or 0), _text(result[1]) or GENESIS

    def records(self, *, after: int = 0) -> Iterator[AuditRecord]:
        """Yield the records with ``seq > after``, paging through the stream with ``XRANGE``.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        start = f"0-{after + 1}"
        while True:
            try:
                page = self._client.xrange(self.stream_key, min=start, max="+", count=2000)
            except self._errors as exc:
                raise self._unavailable("records", exc) from exc
            if not page:
                return
            for entry_id, fields in page:
                seq = int(_text(entry_id).split("-")[1])  # type: ignore[union-attr]
                yield AuditRecord(
                    seq,
                    _text(fields.get(b"p", fields.get("p"))) or "",
                    _text(fields.get(b"h", fields.get("h"))) or "",
                    _text(fields.get(b"b", fields.get("b"))) or "",
                )
            last = _text(page[-1][0]) or "0-0"
            start = "(" + last

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Keep a signed checkpoint.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        body = json.dumps(
            {
                "seq": checkpoint.seq,
                "hash": checkpoint.hash,
                "at": checkpoint.at,
                "key_id": checkpoint.key_id,
                "signature": checkpoint.signature,
            }
        )
        try:
            self._client.rpush(self._checkpoints_key, body)
        except self._errors as exc:
            raise self._unavailable("checkpoint", exc) from exc

    def checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint, oldest first.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        try:
            rows = self._client.lrange(self._checkpoints_key, 0, -1)
        except self._errors as exc:
            raise self._unavailable("checkpoints", exc) from exc
        return [Checkpoint(**json.loads(row)) for row in rows]

    def __enter__(self) -> RedisAuditLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


_SAFE_EVICTION = {"noeviction", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"}


def redis_persistence_warnings(client: RedisClientProtocol) -> list[str]:
    """Check, at startup, whether this Redis can lose sessions or audit records.

    Returns warning codes (and logs each once as ``redis_persistence_risk``):

    - ``aof_disabled``: ``appendonly`` is ``no``; a restart loses what was written since the
      last snapshot (audit records included).
    - ``aof_fsync_none``: ``appendfsync`` is ``no``; the OS decides when writes reach disk.
    - ``evicting_policy``: ``maxmemory-policy`` may evict keys without a TTL (the audit stream,
      the head); use ``noeviction``.
    - ``config_unreadable``: ``CONFIG GET`` is refused (managed Redis); check the settings with
      your provider.

    Args:
        client: Your Redis client.

    Returns:
        The codes; empty when the settings keep data.

    Raises:
        InvalidInputError: ``client`` is not a Redis client.
        StoreUnavailableError: Redis did not answer.

    Examples:
        >>> import redis
        >>> "config_unreadable" in redis_persistence_warnings(redis.Redis())
        False
    """
    if isinstance(client, str | bytes) or not isinstance(client, RedisClientProtocol):
        raise InvalidInputError("client", "must be a Redis client")
    errors = driver_errors()
    settings: dict[str, str] = {}
    try:
        for name in ("appendonly", "appendfsync", "maxmemory-policy"):
            answer = client.config_get(name)
            for key, value in dict(answer).items():
                settings[_text(key) or ""] = _text(value) or ""
    except errors as exc:
        if type(exc).__name__ in ("ResponseError", "NoPermissionError"):
            warnings = ["config_unreadable"]
            logger.warning("redis_persistence_risk", risk=warnings[0])
            return warnings
        logger.warning("store_call_failed", operation="config", error_class=type(exc).__name__)
        raise StoreUnavailableError(f"redis config failed ({type(exc).__name__})") from exc
    warnings = []
    if settings.get("appendonly") != "yes":
        warnings.append("aof_disabled")
    elif settings.get("appendfsync") == "no":
        warnings.append("aof_fsync_none")
    if settings.get("maxmemory-policy", "noeviction") not in _SAFE_EVICTION:
        warnings.append("evicting_policy")
    for risk in warnings:
        logger.warning("redis_persistence_risk", risk=risk)
    return warnings
