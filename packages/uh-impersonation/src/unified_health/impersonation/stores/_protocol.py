"""What the session store and the audit log must do, and the Redis commands the Redis stores use.

The session store contract (one test suite runs it against every implementation):

- ``create`` stamps the session with the store's own clock (start, expiry) and, atomically, refuses
  a second active session of the same actor (``already_impersonating``) or an actor who is being
  impersonated right now (``nested_impersonation``) by raising `ImpersonationDeniedError`.
- ``lookup`` finds a session by id and token hash in one call; a session whose time is up is marked
  ``expired`` by that very call (expiry is decided by the store's clock and is final). A wrong
  hash finds nothing.
- ``finish`` moves an active session to ``ended`` or ``revoked`` once; a finished or expired
  session never becomes active again.
- Approval requests expire by the store's clock, are approved at most once, and are consumed
  at most once, atomically, by a start with the same actor, target and ticket.
- A store that cannot reach its backend raises `StoreUnavailableError`, never a driver error.

The audit log contract: ``append`` adds the event as record ``head + 1`` chained to the head's
hash, atomically (concurrent appends never fork the chain); ``records`` yields them in order;
signed checkpoints are kept beside them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from unified_health.impersonation._models import (
    ApprovalRequest,
    AuditEvent,
    AuditRecord,
    Checkpoint,
    ImpersonationSession,
    NewSession,
    SessionStatus,
)

__all__ = ["AuditLog", "ImpersonationStore", "RedisClientProtocol"]


@runtime_checkable
class ImpersonationStore(Protocol):
    """Impersonation sessions by id, with the actor lock and the store's clock.

    Examples:
        >>> from unified_health.impersonation import InMemoryImpersonationStore
        >>> isinstance(InMemoryImpersonationStore(), ImpersonationStore)
        True
    """

    def create(self, new: NewSession, token_hash: str) -> ImpersonationSession:
        """Store a new active session, stamped with the store's clock."""
        ...

    def lookup(self, session_id: str, token_hash: str) -> tuple[ImpersonationSession | None, bool]:
        """Return the matching session (or ``None``) and whether this call expired it."""
        ...

    def get(self, session_id: str) -> ImpersonationSession | None:
        """Return the session, expiry applied, or ``None``."""
        ...

    def finish(
        self, session_id: str, status: SessionStatus, *, by: str, reason: str
    ) -> tuple[ImpersonationSession | None, bool]:
        """End or revoke an active session; return it and whether this call changed it."""
        ...

    def list_active(self) -> list[ImpersonationSession]:
        """Every session active now, by the store's clock."""
        ...

    def expire_due(self, limit: int = 100) -> list[ImpersonationSession]:
        """Mark up to ``limit`` sessions whose time is up as expired and return them."""
        ...

    def create_approval(
        self, approval_id: str, actor_id: str, target_id: str, ticket_id: str, ttl_us: int
    ) -> ApprovalRequest:
        """Store a pending approval request stamped with the store's clock."""
        ...

    def get_approval(self, approval_id: str) -> ApprovalRequest | None:
        """Return the approval request, or ``None``."""
        ...

    def approve(self, approval_id: str, approver_id: str) -> ApprovalRequest | None:
        """Mark a pending, unexpired request approved (once); return it as it now stands."""
        ...

    def consume_approval(
        self, approval_id: str, actor_id: str, target_id: str, ticket_id: str
    ) -> bool:
        """Use an approved, unexpired, unused request for exactly this start (atomic, once)."""
        ...

    def now(self) -> datetime:
        """The store's clock."""
        ...

    def close(self) -> None:
        """Release what the store opened itself (never an injected client)."""
        ...


@runtime_checkable
class AuditLog(Protocol):
    """An append-only, hash-chained log of audit events with signed checkpoints.

    Examples:
        >>> from unified_health.impersonation import InMemoryAuditLog
        >>> isinstance(InMemoryAuditLog(), AuditLog)
        True
    """

    def append(self, event: AuditEvent) -> AuditRecord:
        """Append the event as the next record of the chain."""
        ...

    def records(self, *, after: int = 0) -> Iterator[AuditRecord]:
        """Yield the records with ``seq > after`` in storage order."""
        ...

    def head(self) -> tuple[int, str]:
        """The last record's seq and hash, as the log itself remembers them."""
        ...

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Keep a signed checkpoint."""
        ...

    def checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint kept, oldest first."""
        ...

    def close(self) -> None:
        """Release what the log opened itself."""
        ...


@runtime_checkable
class RedisClientProtocol(Protocol):
    """The Redis commands the package uses; ``redis.Redis`` or any compatible client has them.

    Examples:
        >>> import redis
        >>> isinstance(redis.Redis(), RedisClientProtocol)
        True
    """

    def eval(self, script: str, numkeys: int, *keys_and_args: Any) -> Any:
        """Run a Lua script."""
        ...

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: Any) -> Any:
        """Run a cached Lua script."""
        ...

    def xrange(self, name: str, min: str = "-", max: str = "+", count: int | None = None) -> Any:
        """Read a stream."""
        ...

    def lrange(self, name: str, start: int, end: int) -> Any:
        """Read a list."""
        ...

    def rpush(self, name: str, *values: Any) -> Any:
        """Append to a list."""
        ...

    def config_get(self, pattern: str = "*") -> Any:
        """Read server settings."""
        ...

    def close(self) -> None:
        """Close the client's connections."""
        ...
