"""The async twin for FastAPI and other ASGI hosts: the same names, awaited, on redis.asyncio.

It shares the pure core with the sync package (the policy, token hashing, the Lua scripts, the
hash chain), so both twins read and write the same Redis keys: a session started by one is
validated, ended or revoked by the other.

Offered here: `ImpersonationService` (``start``, ``validate``, ``end``, ``revoke``,
``list_active``, ``sweep_expired``, ``require_scope``, ``require_not_impersonating``,
``verify_audit``, ``request_approval``, ``approve``; a sync `Notifier` runs in a worker
thread), `RedisImpersonationStore`, `RedisAuditLog`, `PostgresAuditLog` (psycopg's
``AsyncConnection``, the same tables as the sync log), `InMemoryImpersonationStore` and
`InMemoryAuditLog`. Signed checkpoints and the revocation cache are on the sync service.

Examples:
    >>> import asyncio
    >>> from unified_health.impersonation import Principal
    >>> async def demo() -> tuple[bool, str | None]:
    ...     service = ImpersonationService()
    ...     agent = Principal(user_id="agent-7", role="support_agent", login_session_id="ls-7")
    ...     patient = Principal(user_id="patient-42", role="patient")
    ...     started = await service.start(agent, patient, ticket_id="ZD-1", reason="Labs")
    ...     valid = (await service.validate(started.token)).valid
    ...     await service.end(started.id, actor=agent)
    ...     return valid, (await service.validate(started.token)).reason
    >>> asyncio.run(demo())
    (True, 'ended')
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal, Protocol, runtime_checkable

from unified_health.impersonation._chain import GENESIS, chain_hash, verify_chain
from unified_health.impersonation._clock import Clock, SystemClock
from unified_health.impersonation._errors import (
    ImpersonationDeniedError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    StoreUnavailableError,
)
from unified_health.impersonation._logging import logger
from unified_health.impersonation._models import (
    ApprovalRequest,
    AuditAction,
    AuditEvent,
    AuditRecord,
    ImpersonationSession,
    NewSession,
    Principal,
    SessionStatus,
    StartedImpersonation,
    Validation,
    VerifyReport,
)
from unified_health.impersonation._notify import ImpersonationNotice, Notifier
from unified_health.impersonation._policy import (
    APPROVE_IMPERSONATIONS,
    REVOKE_IMPERSONATIONS,
    DenialReason,
    ImpersonationPolicy,
    check_scopes,
)
from unified_health.impersonation._service import (
    _SESSION_ID,
    _STATUS_DENIAL,
    _TOKEN,
    _principal,
    _source_ip,
    hash_token,
)
from unified_health.impersonation.stores import _redis as sync_redis
from unified_health.impersonation.stores._memory import (
    InMemoryAuditLog as _SyncMemoryLog,
)
from unified_health.impersonation.stores._memory import (
    InMemoryImpersonationStore as _SyncMemoryStore,
)
from unified_health.impersonation.stores._postgres import PostgresAuditLog as _SyncPostgresLog

__all__ = [
    "ImpersonationService",
    "InMemoryAuditLog",
    "InMemoryImpersonationStore",
    "PostgresAuditLog",
    "RedisAuditLog",
    "RedisImpersonationStore",
]


@runtime_checkable
class _Store(Protocol):
    async def create(self, new: NewSession, token_hash: str) -> ImpersonationSession: ...
    async def lookup(
        self, session_id: str, token_hash: str
    ) -> tuple[ImpersonationSession | None, bool]: ...
    async def get(self, session_id: str) -> ImpersonationSession | None: ...
    async def finish(
        self, session_id: str, status: SessionStatus, *, by: str, reason: str
    ) -> tuple[ImpersonationSession | None, bool]: ...
    async def list_active(self) -> list[ImpersonationSession]: ...
    async def expire_due(self, limit: int = 100) -> list[ImpersonationSession]: ...
    async def create_approval(
        self, approval_id: str, actor_id: str, target_id: str, ticket_id: str, ttl_us: int
    ) -> ApprovalRequest: ...
    async def get_approval(self, approval_id: str) -> ApprovalRequest | None: ...
    async def approve(self, approval_id: str, approver_id: str) -> ApprovalRequest | None: ...
    async def consume_approval(
        self, approval_id: str, actor_id: str, target_id: str, ticket_id: str
    ) -> bool: ...
    async def aclose(self) -> None: ...


@runtime_checkable
class _Log(Protocol):
    async def append(self, event: AuditEvent) -> AuditRecord: ...
    async def records(self) -> list[AuditRecord]: ...
    async def head(self) -> tuple[int, str]: ...
    async def aclose(self) -> None: ...


class InMemoryImpersonationStore:
    """The in-memory session store, awaitable (nothing blocks: it is memory).

    Examples:
        >>> import asyncio
        >>> asyncio.run(InMemoryImpersonationStore().list_active())
        []
    """

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._sync = _SyncMemoryStore(clock=clock)

    async def create(self, new: NewSession, token_hash: str) -> ImpersonationSession:
        """See the sync `InMemoryImpersonationStore.create`."""
        return self._sync.create(new, token_hash)

    async def lookup(
        self, session_id: str, token_hash: str
    ) -> tuple[ImpersonationSession | None, bool]:
        """See the sync store."""
        return self._sync.lookup(session_id, token_hash)

    async def get(self, session_id: str) -> ImpersonationSession | None:
        """See the sync store."""
        return self._sync.get(session_id)

    async def finish(
        self, session_id: str, status: SessionStatus, *, by: str, reason: str
    ) -> tuple[ImpersonationSession | None, bool]:
        """See the sync store."""
        return self._sync.finish(session_id, status, by=by, reason=reason)

    async def list_active(self) -> list[ImpersonationSession]:
        """See the sync store."""
        return self._sync.list_active()

    async def expire_due(self, limit: int = 100) -> list[ImpersonationSession]:
        """See the sync store."""
        return self._sync.expire_due(limit)

    async def create_approval(
        self, approval_id: str, actor_id: str, target_id: str, ticket_id: str, ttl_us: int
    ) -> ApprovalRequest:
        """See the sync store."""
        return self._sync.create_approval(approval_id, actor_id, target_id, ticket_id, ttl_us)

    async def get_approval(self, approval_id: str) -> ApprovalRequest | None:
        """See the sync store."""
        return self._sync.get_approval(approval_id)

    async def approve(self, approval_id: str, approver_id: str) -> ApprovalRequest | None:
        """See the sync store."""
        return self._sync.approve(approval_id, approver_id)

    async def consume_approval(
        self, approval_id: str, actor_id: str, target_id: str, ticket_id: str
    ) -> bool:
        """See the sync store."""
        return self._sync.consume_approval(approval_id, actor_id, target_id, ticket_id)

    async def aclose(self) -> None:
        """Nothing to release."""


class InMemoryAuditLog:
    """The in-memory audit log, awaitable.

    Examples:
        >>> import asyncio
        >>> asyncio.run(InMemoryAuditLog().head())[0]
        0
    """

    def __init__(self) -> None:
        self._sync = _SyncMemoryLog()

    async def append(self, event: AuditEvent) -> AuditRecord:
        """Append the event as the next record."""
        return self._sync.append(event)

    async def records(self) -> list[AuditRecord]:
        """Every record, in order."""
        return list(self._sync.records())

    async def head(self) -> tuple[int, str]:
        """The last record's seq and hash."""
        return self._sync.head()

    async def aclose(self) -> None:
        """Nothing to release."""


class _AsyncRedis:
    def __init__(self, client: Any, prefix: str) -> None:
        if isinstance(client, str | bytes) or not hasattr(client, "evalsha"):
            raise InvalidInputError(
                "client",
                f"must be a redis.asyncio client; for a URL use {type(self).__name__}.from_url",
            )
        self._client = client
        self._owns_client = False
        self._prefix = f"{sync_redis.hash_tagged(prefix)}:v1:"
        self._errors = sync_redis.driver_errors()
        self._shas: dict[str, str] = {}

    @staticmethod
    def _make_client(url: object) -> Any:
        import redis.asyncio

        if not isinstance(url, str):
            raise InvalidInputError("url", "must be a str")
        try:
            return redis.asyncio.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=1.0)
        except ValueError:
            raise InvalidInputError("url", "must be a redis://, rediss:// or unix:// URL") from None

    def key(self, name: str) -> str:
        """The full Redis key for ``name``."""
        return self._prefix + name

    async def _run(self, operation: str, script: str, keys: list[str], args: list[Any]) -> Any:
        import hashlib

        sha = self._shas.setdefault(script, hashlib.sha1(script.encode()).hexdigest())  # noqa: S324
        try:
            try:
                return await self._client.evalsha(sha, len(keys), *keys, *args)
            except self._errors as exc:
                if type(exc).__name__ != "NoScriptError":
                    raise
                return await self._client.eval(script, len(keys), *keys, *args)
        except self._errors as exc:
            logger.warning("store_call_failed", operation=operation, error_class=type(exc).__name__)
            raise StoreUnavailableError(f"redis {operation} failed ({type(exc).__name__})") from exc

    async def aclose(self) -> None:
        """Close the client if this object created it (`from_url`)."""
        if self._owns_client:
            await self._client.aclose()


class RedisImpersonationStore(_AsyncRedis):
    """The Redis session store over ``redis.asyncio``; the same keys and scripts as the sync one.

    Args:
        client: Your ``redis.asyncio.Redis`` client; never closed by the store.
        prefix: Key prefix; wrapped in a hash tag unless it already holds one.

    Examples:
        >>> import redis.asyncio
        >>> RedisImpersonationStore(redis.asyncio.Redis(), prefix="app").key("active")
        '{app}:v1:active'
    """

    def __init__(self, client: Any, *, prefix: str = sync_redis.DEFAULT_PREFIX) -> None:
        super().__init__(client, prefix)
        self._retention_ms = 7 * 24 * 3600 * 1000

    @classmethod
    def from_url(
        cls, url: str, *, prefix: str = sync_redis.DEFAULT_PREFIX
    ) -> RedisImpersonationStore:
        """A store on a new client it owns (no connection until the first call).

        Examples:
            >>> RedisImpersonationStore.from_url("redis://127.0.0.1:6379/0").key("active")
            '{uh:impersonation}:v1:active'
        """
        store = cls(cls._make_client(url), prefix=prefix)
        store._owns_client = True
        return store

    async def create(self, new: NewSession, token_hash: str) -> ImpersonationSession:
        """See the sync `RedisImpersonationStore.create`."""
        keys = [
            self.key(f"s:{new.id}"),
            self.key(f"actor:{new.actor_id}"),
            self.key(f"target:{new.actor_id}"),
            self.key(f"target:{new.target_id}"),
            self.key("active"),
        ]
        body = new.to_json()
        args = [new.id, token_hash, body, new.duration_us, new.actor_id, new.target_id]
        result = await self._run("create", sync_redis._CREATE, keys, [*args, self._retention_ms])
        if int(result[0]) == 0:
            raise ImpersonationDeniedError(sync_redis._text(result[1]) or "conflict")
        return sync_redis._session([body, b"active", result[1], result[2], None, None, None])

    async def lookup(
        self, session_id: str, token_hash: str
    ) -> tuple[ImpersonationSession | None, bool]:
        """Find the session by id and token hash, applying expiry: one round trip."""
        result = await self._run(
            "lookup",
            sync_redis._LOOKUP,
            [self.key(f"s:{session_id}"), self.key("active")],
            [token_hash, self._prefix, session_id],
        )
        if int(result[0]) == 0:
            return None, False
        return sync_redis._session(result[2:]), int(result[1]) == 1

    async def get(self, session_id: str) -> ImpersonationSession | None:
        """Return the session by id, expiry applied, or ``None``."""
        found, _ = await self.lookup(session_id, "")
        return found

    async def finish(
        self, session_id: str, status: SessionStatus, *, by: str, reason: str
    ) -> tuple[ImpersonationSession | None, bool]:
        """End or revoke an active session (atomic)."""
        result = await self._run(
            "finish",
            sync_redis._FINISH,
            [self.key(f"s:{session_id}"), self.key("active")],
            [status.value, by, reason, self._prefix, session_id],
        )
        if int(result[0]) == 0:
            return None, False
        return sync_redis._session(result[2:]), int(result[1]) == 1

    async def list_active(self) -> list[ImpersonationSession]:
        """Every session active now, by the Redis server's clock."""
        rows = await self._run(
            "list", sync_redis._SCAN_ACTIVE, [self.key("active")], [self._prefix, 10_000, "list"]
        )
        return [sync_redis._session(row) for row in rows]

    async def expire_due(self, limit: int = 100) -> list[ImpersonationSession]:
        """Mark up to ``limit`` sessions whose time is up as expired and return them."""
        rows = await self._run(
            "expire", sync_redis._SCAN_ACTIVE, [self.key("active")], [self._prefix, limit, "expire"]
        )
        return [sync_redis._session(row) for row in rows]

    async def create_approval(
        self, approval_id: str, actor_id: str, target_id: str, ticket_id: str, ttl_us: int
    ) -> ApprovalRequest:
        """Store a pending approval request stamped with Redis ``TIME``."""
        started, expires = await self._run(
            "approval",
            sync_redis._APPROVAL_CREATE,
            [self.key(f"apr:{approval_id}")],
            [actor_id, target_id, ticket_id, ttl_us, self._retention_ms],
        )
        return ApprovalRequest(
            id=approval_id,
            actor_id=actor_id,
            target_id=target_id,
            ticket_id=ticket_id,
            requested_at=sync_redis._required_us(started),
            expires_at=sync_redis._required_us(expires),
        )

    async def _approval(self, approval_id: str, *args: str) -> Any:
        key = self.key(f"apr:{approval_id}")
        return await self._run("approval", sync_redis._APPROVAL, [key], list(args))

    async def get_approval(self, approval_id: str) -> ApprovalRequest | None:
        """Return the approval request, or ``None``."""
        return sync_redis.approval_row(approval_id, await self._approval(approval_id, "get"))

    async def approve(self, approval_id: str, approver_id: str) -> ApprovalRequest | None:
        """Approve a pending, unexpired request once (atomic)."""
        result = await self._approval(approval_id, "approve", approver_id)
        return sync_redis.approval_row(approval_id, result)

    async def consume_approval(
        self, approval_id: str, actor_id: str, target_id: str, ticket_id: str
    ) -> bool:
        """Use an approved request once for this actor, target and ticket (atomic)."""
        result = await self._approval(approval_id, "consume", actor_id, target_id, ticket_id)
        return int(result[0]) == 2 and int(result[1]) == 1


class RedisAuditLog(_AsyncRedis):
    """The Redis Streams audit log over ``redis.asyncio``; the same stream as the sync one.

    Examples:
        >>> import redis.asyncio
        >>> RedisAuditLog(redis.asyncio.Redis(), prefix="app").stream_key
        '{app}:v1:audit'
    """

    def __init__(self, client: Any, *, prefix: str = sync_redis.DEFAULT_PREFIX) -> None:
        super().__init__(client, prefix)
        self.stream_key = self._prefix + "audit"
        self._head_key = self._prefix + "audit:head"
        self._known_head: tuple[int, str] = (-1, GENESIS)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = sync_redis.DEFAULT_PREFIX) -> RedisAuditLog:
        """A log on a new client it owns (no connection until the first call).

        Examples:
            >>> RedisAuditLog.from_url("redis://127.0.0.1:6379/0").stream_key
            '{uh:impersonation}:v1:audit'
        """
        log = cls(cls._make_client(url), prefix=prefix)
        log._owns_client = True
        return log

    async def head(self) -> tuple[int, str]:
        """The last record's seq and hash."""
        result = await self._run(
            "head", "return redis.call('HMGET', KEYS[1], 'seq', 'hash')", [self._head_key], []
        )
        return int(result[0] or 0), sync_redis._text(result[1]) or GENESIS

    async def append(self, event: AuditEvent) -> AuditRecord:
        """Append the event as the next record (optimistic, never forks the chain)."""
        body = event.to_json()
        seq, prev = self._known_head
        if seq < 0:
            seq, prev = await self.head()
        while True:
            record = AuditRecord(seq + 1, prev, chain_hash(seq + 1, prev, body), body)
            result = await self._run(
                "append",
                sync_redis._APPEND,
                [self.stream_key, self._head_key],
                [seq, record.seq, prev, record.hash, body],
            )
            if int(result[0]) == 1:
                self._known_head = (record.seq, record.hash)
                return record
            seq, prev = int(result[1]), sync_redis._text(result[2]) or GENESIS

    async def records(self) -> list[AuditRecord]:
        """Every record, in order."""
        out: list[AuditRecord] = []
        start = "0-1"
        while True:
            try:
                page = await self._client.xrange(self.stream_key, min=start, max="+", count=2000)
            except self._errors as exc:
                raise StoreUnavailableError(f"redis records failed ({type(exc).__name__})") from exc
            if not page:
                return out
            for entry_id, fields in page:
                text = sync_redis._text(entry_id) or "0-0"
                out.append(
                    AuditRecord(
                        int(text.split("-")[1]),
                        sync_redis._text(fields.get(b"p")) or "",
                        sync_redis._text(fields.get(b"h")) or "",
                        sync_redis._text(fields.get(b"b")) or "",
                    )
                )
            start = "(" + (sync_redis._text(page[-1][0]) or "0-0")


class PostgresAuditLog:
    """The PostgreSQL audit log on psycopg's ``AsyncConnection``: the sync log's tables and chain.

    Args:
        connection: Your ``psycopg.AsyncConnection`` (never closed by the log).
        table: Table name prefix (``uh_impersonation_audit``).

    Examples:
        >>> PostgresAuditLog(None, table="audit").table
        'audit'
    """

    def __init__(self, connection: Any, *, table: str = "uh_impersonation_audit") -> None:
        self._sync = _SyncPostgresLog(None, table=table)
        if isinstance(connection, str | bytes):
            raise InvalidInputError("connection", "must be a psycopg AsyncConnection")
        self._connection = connection
        self.table = table

    def _unavailable(self, operation: str, exc: BaseException) -> StoreUnavailableError:
        logger.warning("store_call_failed", operation=operation, error_class=type(exc).__name__)
        return StoreUnavailableError(f"postgres {operation} failed ({type(exc).__name__})")

    async def migrate(self) -> None:
        """Create the tables if they do not exist (idempotent; the sync log's `migrate` SQL)."""
        try:
            async with self._connection.transaction():
                for statement in self._sync.migration_statements():
                    await self._connection.execute(statement)
        except self._sync.driver_errors as exc:
            raise self._unavailable("migrate", exc) from exc

    async def append(self, event: AuditEvent) -> AuditRecord:
        """Append the event as the next record, in one transaction (head row locked)."""
        body = event.to_json()
        t = self.table
        try:
            async with self._connection.transaction():
                cursor = await self._connection.execute(
                    f"SELECT seq, hash FROM {t}_head WHERE id = 1 FOR UPDATE"  # noqa: S608
                )
                row = await cursor.fetchone()
                if row is None:
                    raise StoreUnavailableError("the audit tables are missing: run migrate()")
                seq, prev = int(row[0]) + 1, str(row[1])
                record = AuditRecord(seq, prev, chain_hash(seq, prev, body), body)
                await self._connection.execute(
                    f"INSERT INTO {t} (seq, prev_hash, hash, body) VALUES (%s, %s, %s, %s)",  # noqa: S608
                    (record.seq, record.prev_hash, record.hash, record.body),
                )
                await self._connection.execute(
                    f"UPDATE {t}_head SET seq = %s, hash = %s WHERE id = 1",  # noqa: S608
                    (record.seq, record.hash),
                )
        except self._sync.driver_errors as exc:
            raise self._unavailable("append", exc) from exc
        return record

    async def head(self) -> tuple[int, str]:
        """The last seq and hash as the head row remembers them."""
        try:
            cursor = await self._connection.execute(
                f"SELECT seq, hash FROM {self.table}_head WHERE id = 1"  # noqa: S608
            )
            row = await cursor.fetchone()
        except self._sync.driver_errors as exc:
            raise self._unavailable("head", exc) from exc
        return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))

    async def records(self) -> list[AuditRecord]:
        """Every record, in order."""
        try:
            cursor = await self._connection.execute(
                f"SELECT seq, prev_hash, hash, body FROM {self.table} ORDER BY seq"  # noqa: S608
            )
            rows = await cursor.fetchall()
        except self._sync.driver_errors as exc:
            raise self._unavailable("records", exc) from exc
        return [AuditRecord(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]

    async def aclose(self) -> None:
        """Nothing to release: the connection is yours."""


class ImpersonationService:
    """The async `ImpersonationService`: the same rules, audited the same way, awaited.

    Args:
        store: An async session store (in memory unless given).
        audit: An async audit log (in memory unless given).
        policy: The rules (default roles unless given).
        directory: Called with a user id on each validation; returns the current `Principal`.
        notifier: A (sync) `Notifier`, called in a worker thread so the event loop never blocks.
        notification: ``"best_effort"`` or ``"required"`` (no notice, no session).
        clock: Time for audit events (expiry is the store's clock).

    Examples:
        >>> ImpersonationService().policy.max_duration
        datetime.timedelta(seconds=3600)
    """

    def __init__(
        self,
        store: Any = None,
        *,
        audit: Any = None,
        policy: ImpersonationPolicy | None = None,
        directory: Any = None,
        notifier: Notifier | None = None,
        notification: Literal["best_effort", "required"] = "best_effort",
        clock: Clock | None = None,
    ) -> None:
        if notifier is not None and not isinstance(notifier, Notifier):
            raise InvalidInputError("notifier", "must be a Notifier")
        if notification not in ("best_effort", "required"):
            raise InvalidInputError("notification", "must be 'best_effort' or 'required'")
        if notification == "required" and notifier is None:
            raise InvalidInputError("notifier", "is required when notification is 'required'")
        if clock is not None and not isinstance(clock, Clock):
            raise InvalidInputError("clock", "must be a Clock")
        self._clock: Clock = clock or SystemClock()
        if store is not None and not isinstance(store, _Store):
            raise InvalidInputError("store", "must be an async impersonation store")
        if audit is not None and not isinstance(audit, _Log):
            raise InvalidInputError("audit", "must be an async audit log")
        if policy is not None and not isinstance(policy, ImpersonationPolicy):
            raise InvalidInputError("policy", "must be an ImpersonationPolicy")
        if directory is not None and not callable(directory):
            raise InvalidInputError("directory", "must be callable")
        self.store: Any = store or InMemoryImpersonationStore(clock=self._clock)
        self.audit: Any = audit or InMemoryAuditLog()
        self.policy = policy or ImpersonationPolicy()
        self._directory = directory
        self._notifier = notifier
        self._notification = notification

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = sync_redis.DEFAULT_PREFIX,
        policy: ImpersonationPolicy | None = None,
    ) -> ImpersonationService:
        """A service with sessions and audit log in Redis at ``url`` (no connection yet).

        Examples:
            >>> type(ImpersonationService.from_url("redis://127.0.0.1:6379/0").store).__name__
            'RedisImpersonationStore'
        """
        return cls(
            RedisImpersonationStore.from_url(url, prefix=prefix),
            audit=RedisAuditLog.from_url(url, prefix=prefix),
            policy=policy,
        )

    @classmethod
    def from_env(
        cls, *, environ: Mapping[str, str] | None = None, policy: ImpersonationPolicy | None = None
    ) -> ImpersonationService:
        """From ``UH_IMPERSONATION_REDIS_URL`` and ``UH_IMPERSONATION_PREFIX``; in memory without.

        Examples:
            >>> type(ImpersonationService.from_env(environ={}).store).__name__
            'InMemoryImpersonationStore'
        """
        env = os.environ if environ is None else environ
        url = env.get("UH_IMPERSONATION_REDIS_URL")
        if url:
            prefix = env.get("UH_IMPERSONATION_PREFIX", sync_redis.DEFAULT_PREFIX)
            return cls.from_url(url, prefix=prefix, policy=policy)
        return cls(policy=policy)

    async def _record(self, event: AuditEvent, *, must: bool) -> None:
        try:
            await self.audit.append(event)
        except StoreUnavailableError:
            if must:
                raise
            logger.warning("audit_append_failed", action=event.action.value)

    def _event(self, action: AuditAction, outcome: str, **fields: str | None) -> AuditEvent:
        return AuditEvent(action=action, outcome=outcome, at=self._clock.now(), **fields)

    async def _deny(self, reason: str, must: bool = True, /, **fields: str | None) -> None:
        logger.info("impersonation_denied", denial=reason, actor_id=fields.get("actor_id"))
        event = self._event(AuditAction.DENY, "denied", denial=reason, **fields)
        await self._record(event, must=must)

    async def start(
        self,
        actor: Principal,
        target: Principal,
        *,
        ticket_id: str,
        reason: str,
        duration: timedelta | None = None,
        scopes: list[str] | tuple[str, ...] | None = None,
        source_ip: str | None = None,
        approval_id: str | None = None,
    ) -> StartedImpersonation:
        """See the sync `ImpersonationService.start`."""
        known: dict[str, str | None] = {}
        try:
            actor_p = _principal(actor, "actor")
            known["actor_id"] = actor_p.user_id
            target_p = _principal(target, "target")
            known["target_id"] = target_p.user_id
            if actor_p.login_session_id is None:
                raise InvalidInputError("actor.login_session_id", "is required of an actor")
            ticket = self.policy.check_ticket_id(ticket_id)
            known["ticket_id"] = ticket
            clean_reason = self.policy.sanitize_reason(reason)
            known["reason"] = clean_reason
            length = self.policy.check_duration(duration)
            allowed = check_scopes(scopes)
            ip = _source_ip(source_ip)
            known["source_ip"] = ip
            if approval_id is not None and not _matches(approval_id, r"apr_[0-9a-f]{32}"):
                raise InvalidInputError("approval_id", "must be an approval request id")
            denial = self.policy.decide(actor_p, target_p, ticket, at=self._clock.now())
        except InvalidInputError as exc:
            await self._deny(DenialReason.INVALID_INPUT.value, detail=exc.field, **known)
            raise
        if denial is None and target_p.user_id in self.policy.approval_required_for:
            if approval_id is None:
                denial = DenialReason.APPROVAL_REQUIRED
            elif not await self.store.consume_approval(
                approval_id, actor_p.user_id, target_p.user_id, ticket
            ):
                denial = DenialReason.APPROVAL_INVALID
        if denial is not None:
            await self._deny(denial.value, **known)
            raise ImpersonationDeniedError(denial.value)
        token = "uhi_" + secrets.token_urlsafe(32)
        session_id, token_hash = hash_token(token)
        new = NewSession(
            id=session_id,
            actor_id=actor_p.user_id,
            actor_role=actor_p.role,
            actor_login_session_id=actor_p.login_session_id,
            target_id=target_p.user_id,
            target_role=target_p.role,
            ticket_id=ticket,
            reason=clean_reason,
            scopes=allowed,
            duration_us=int(length / timedelta(microseconds=1)),
            source_ip=ip,
        )
        try:
            session = await self.store.create(new, token_hash)
        except ImpersonationDeniedError as exc:
            await self._deny(exc.reason, **known)
            raise
        except StoreUnavailableError:
            await self._deny(DenialReason.STORE_UNAVAILABLE.value, False, **known)
            raise
        try:
            event = self._event(AuditAction.START, "success", session_id=session.id, **known)
            await self._record(event, must=True)
        except StoreUnavailableError:
            await self.store.finish(
                session.id, SessionStatus.REVOKED, by="system", reason="audit_unavailable"
            )
            raise
        await self._notify(session, known)
        logger.info("impersonation_started", session_id=session.id)
        return StartedImpersonation(session, token)

    async def _notify(self, session: ImpersonationSession, known: dict[str, str | None]) -> None:
        if self._notifier is None:
            return
        notice = ImpersonationNotice(
            id=secrets.token_hex(16),
            session_id=session.id,
            target_id=session.target_id,
            actor_id=session.actor_id,
            ticket_id=session.ticket_id,
            started_at=session.started_at,
            expires_at=session.expires_at,
        )
        try:
            await asyncio.to_thread(self._notifier.notify, notice)
        except Exception as exc:
            logger.warning("notice_failed", session_id=session.id, error_class=type(exc).__name__)
            if self._notification == "best_effort":
                return
            await self.store.finish(
                session.id,
                SessionStatus.REVOKED,
                by="system",
                reason=DenialReason.NOTIFICATION_FAILED.value,
            )
            event = self._event(
                AuditAction.REVOKE,
                "failure",
                session_id=session.id,
                denial=DenialReason.NOTIFICATION_FAILED.value,
                **known,
            )
            await self._record(event, must=False)
            if isinstance(exc, ProviderError):
                raise
            raise ProviderError("the notifier failed", attempts=1) from exc

    async def request_approval(
        self, actor: Principal, target: Principal, *, ticket_id: str, reason: str
    ) -> ApprovalRequest:
        """See the sync `ImpersonationService.request_approval`."""
        known: dict[str, str | None] = {}
        try:
            actor_p = _principal(actor, "actor")
            known["actor_id"] = actor_p.user_id
            target_p = _principal(target, "target")
            known["target_id"] = target_p.user_id
            if actor_p.login_session_id is None:
                raise InvalidInputError("actor.login_session_id", "is required of an actor")
            ticket = self.policy.check_ticket_id(ticket_id)
            known["ticket_id"] = ticket
            known["reason"] = self.policy.sanitize_reason(reason)
            denial = self.policy.decide(actor_p, target_p, ticket, at=self._clock.now())
        except InvalidInputError as exc:
            await self._deny(DenialReason.INVALID_INPUT.value, detail=exc.field, **known)
            raise
        if denial is not None:
            await self._deny(denial.value, **known)
            raise ImpersonationDeniedError(denial.value)
        request: ApprovalRequest = await self.store.create_approval(
            "apr_" + secrets.token_hex(16),
            actor_p.user_id,
            target_p.user_id,
            ticket,
            int(self.policy.approval_window / timedelta(microseconds=1)),
        )
        event = self._event(AuditAction.APPROVAL_REQUEST, "success", detail=request.id, **known)
        await self._record(event, must=True)
        return request

    async def approve(self, approval_id: str, *, approver: Principal) -> ApprovalRequest:
        """See the sync `ImpersonationService.approve`."""
        if not _matches(approval_id, r"apr_[0-9a-f]{32}"):
            raise InvalidInputError("approval_id", "must be an approval request id")
        who = _principal(approver, "approver")
        request: ApprovalRequest | None = await self.store.get_approval(approval_id)
        if request is None:
            raise NotFoundError("approval request", approval_id)
        fields: dict[str, str | None] = {
            "actor_id": request.actor_id,
            "target_id": request.target_id,
            "ticket_id": request.ticket_id,
            "detail": approval_id,
            "by": who.user_id,
        }
        role = self.policy.roles.get(who.role)
        if (
            who.user_id in (request.actor_id, request.target_id)
            or role is None
            or APPROVE_IMPERSONATIONS not in role.permissions
        ):
            await self._deny(DenialReason.APPROVER_NOT_ALLOWED.value, **fields)
            raise ImpersonationDeniedError(DenialReason.APPROVER_NOT_ALLOWED.value)
        approved: ApprovalRequest | None = await self.store.approve(approval_id, who.user_id)
        if approved is None or approved.approved_by != who.user_id:
            await self._deny(DenialReason.APPROVAL_INVALID.value, **fields)
            raise ImpersonationDeniedError(DenialReason.APPROVAL_INVALID.value)
        await self._record(self._event(AuditAction.APPROVE, "success", **fields), must=True)
        return approved

    async def validate(
        self, token: str, *, login_session_id: str | None = None, source_ip: str | None = None
    ) -> Validation:
        """See the sync `ImpersonationService.validate`."""
        if not isinstance(token, str):
            raise InvalidInputError("token", "must be a str")
        if login_session_id is not None and not isinstance(login_session_id, str):
            raise InvalidInputError("login_session_id", "must be a str or None")
        ip = _source_ip(source_ip)
        if not _TOKEN.fullmatch(token):
            return await self._invalid(DenialReason.MALFORMED_TOKEN, None, ip)
        session_id, token_hash = hash_token(token)
        try:
            session, expired_now = await self.store.lookup(session_id, token_hash)
        except StoreUnavailableError:
            return await self._invalid(DenialReason.STORE_UNAVAILABLE, None, ip)
        if session is None:
            return await self._invalid(DenialReason.UNKNOWN_TOKEN, None, ip)
        if expired_now:
            await self._record(self._expire_event(session), must=False)
        if session.status is not SessionStatus.ACTIVE:
            return await self._invalid(_STATUS_DENIAL[session.status], session, ip)
        if login_session_id is not None and login_session_id != session.actor_login_session_id:
            return await self._invalid(DenialReason.LOGIN_SESSION_MISMATCH, session, ip)
        if self._directory is not None and await self._recheck(session):
            return await self._invalid(DenialReason.POLICY_CHANGED, session, ip)
        return Validation(True, None, session)

    async def _recheck(self, session: ImpersonationSession) -> bool:
        try:
            actor = self._directory(session.actor_id)
            target = self._directory(session.target_id)
            if (
                not isinstance(actor, Principal)
                or not isinstance(target, Principal)
                or (actor.user_id, target.user_id) != (session.actor_id, session.target_id)
            ):
                denial: DenialReason | None = DenialReason.UNKNOWN_USER
            else:
                denial = self.policy.decide(actor, target, None)
        except Exception:  # noqa: BLE001 - a failing directory denies (fail closed)
            return True
        if denial is None:
            return False
        await self._finish(session.id, SessionStatus.REVOKED, by="policy", why=denial.value)
        return True

    def _expire_event(self, session: ImpersonationSession) -> AuditEvent:
        return self._event(
            AuditAction.EXPIRE,
            "success",
            session_id=session.id,
            actor_id=session.actor_id,
            target_id=session.target_id,
            ticket_id=session.ticket_id,
        )

    async def _invalid(
        self, reason: DenialReason, session: ImpersonationSession | None, source_ip: str | None
    ) -> Validation:
        fields: dict[str, str | None] = {"source_ip": source_ip}
        if session is not None:
            fields.update(
                session_id=session.id, actor_id=session.actor_id, target_id=session.target_id
            )
        event = self._event(AuditAction.VALIDATION_FAILURE, "denied", denial=reason.value, **fields)
        await self._record(event, must=False)
        return Validation(False, reason.value, session)

    async def _finish(
        self, session_id: str, status: SessionStatus, *, by: str, why: str
    ) -> ImpersonationSession | None:
        session, changed = await self.store.finish(session_id, status, by=by, reason=why)
        if session is None or not changed:
            return session  # type: ignore[no-any-return]
        if session.status is SessionStatus.EXPIRED:
            await self._record(self._expire_event(session), must=False)
            return session  # type: ignore[no-any-return]
        action = AuditAction.END if status is SessionStatus.ENDED else AuditAction.REVOKE
        event = self._event(
            action,
            "success",
            session_id=session.id,
            actor_id=session.actor_id,
            target_id=session.target_id,
            ticket_id=session.ticket_id,
            detail=why,
            by=by,
        )
        await self._record(event, must=True)
        return session  # type: ignore[no-any-return]

    async def _current(self, session_id: object) -> ImpersonationSession:
        if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
            raise InvalidInputError("session_id", "must be an impersonation session id")
        current = await self.store.get(session_id)
        if current is None:
            raise NotFoundError("impersonation session", session_id)
        return current  # type: ignore[no-any-return]

    async def end(self, session_id: str, *, actor: Principal) -> ImpersonationSession:
        """See the sync `ImpersonationService.end`."""
        who = _principal(actor, "actor")
        current = await self._current(session_id)
        if current.actor_id != who.user_id:
            await self._deny(DenialReason.NOT_ACTOR.value, actor_id=who.user_id, detail="end")
            raise ImpersonationDeniedError(DenialReason.NOT_ACTOR.value, session_id=current.id)
        finished = await self._finish(current.id, SessionStatus.ENDED, by=who.user_id, why="ended")
        assert finished is not None
        return finished

    async def revoke(
        self, session_id: str, *, by: Principal, reason: str = "revoked"
    ) -> ImpersonationSession:
        """See the sync `ImpersonationService.revoke`."""
        who = _principal(by, "by")
        if not _matches(reason, r"[a-z0-9_]{1,64}"):
            raise InvalidInputError("reason", "must be a short code of a-z, 0-9 and _")
        current = await self._current(session_id)
        role = self.policy.roles.get(who.role)
        allowed = role is not None and REVOKE_IMPERSONATIONS in role.permissions
        if current.actor_id != who.user_id and not allowed:
            await self._deny(
                DenialReason.MISSING_PERMISSION.value, actor_id=who.user_id, detail="revoke"
            )
            raise ImpersonationDeniedError(DenialReason.MISSING_PERMISSION.value)
        finished = await self._finish(current.id, SessionStatus.REVOKED, by=who.user_id, why=reason)
        assert finished is not None
        return finished

    async def list_active(self) -> list[ImpersonationSession]:
        """Every session active now."""
        return await self.store.list_active()  # type: ignore[no-any-return]

    async def sweep_expired(self, limit: int = 100) -> list[ImpersonationSession]:
        """Mark sessions whose time is up as expired and audit each expiry once."""
        given: object = limit
        if isinstance(given, bool) or not isinstance(given, int) or not 1 <= given <= 10_000:
            raise InvalidInputError("limit", "must be an int from 1 to 10000")
        expired: list[ImpersonationSession] = await self.store.expire_due(given)
        for session in expired:
            await self._record(self._expire_event(session), must=False)
        return expired

    async def require_scope(self, validation: Validation | None, scope: str) -> None:
        """See the sync `ImpersonationService.require_scope`."""
        if not _matches(scope, _ACTION):
            raise InvalidInputError("action", "must match ^[a-z][a-z0-9_.:-]{0,63}$")
        if validation is None:
            return
        if not isinstance(validation, Validation):
            raise InvalidInputError("validation", "must be a Validation or None")
        if validation.valid and validation.session is not None:
            if scope in validation.session.scopes:
                return
            await self._violation(validation, scope, DenialReason.SCOPE_NOT_GRANTED)
        await self._violation(validation, scope, DenialReason(validation.reason or "unknown_token"))

    async def require_not_impersonating(
        self, validation: Validation | None, *, action: str
    ) -> None:
        """See the sync `ImpersonationService.require_not_impersonating`."""
        if not _matches(action, _ACTION):
            raise InvalidInputError("action", "must match ^[a-z][a-z0-9_.:-]{0,63}$")
        if validation is None:
            return
        if not isinstance(validation, Validation):
            raise InvalidInputError("validation", "must be a Validation or None")
        await self._violation(validation, action, DenialReason.IMPERSONATION_ACTIVE)

    async def _violation(self, validation: Validation, action: str, reason: DenialReason) -> None:
        session_id = None if validation.session is None else validation.session.id
        event = self._event(
            AuditAction.SCOPE_VIOLATION,
            "denied",
            denial=reason.value,
            detail=action,
            session_id=session_id,
            actor_id=validation.actor_id,
            target_id=validation.target_id,
        )
        await self._record(event, must=False)
        raise ImpersonationDeniedError(reason.value, session_id=session_id)

    async def verify_audit(self) -> VerifyReport:
        """Verify the audit chain (checkpoints are signed and checked by the sync `AuditTrail`)."""
        head_seq, _ = await self.audit.head()
        return verify_chain(await self.audit.records(), head_seq=head_seq)

    async def aclose(self) -> None:
        """Close the Redis clients the service made (`from_url`); injected ones stay open."""
        await self.store.aclose()
        await self.audit.aclose()


_ACTION = r"[a-z][a-z0-9_.:-]{0,63}"


def _matches(value: object, pattern: str) -> bool:
    return isinstance(value, str) and re.fullmatch(pattern, value) is not None
