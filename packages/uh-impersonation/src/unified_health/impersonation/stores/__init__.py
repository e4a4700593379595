"""Stores: the session store and audit log Protocols, in memory, on Redis, and in PostgreSQL."""

from unified_health.impersonation.stores._memory import (
    InMemoryAuditLog,
    InMemoryImpersonationStore,
)
from unified_health.impersonation.stores._protocol import (
    AuditLog,
    ImpersonationStore,
    RedisClientProtocol,
)
from unified_health.impersonation.stores._redis import (
    RedisAuditLog,
    RedisImpersonationStore,
    redis_persistence_warnings,
)

__all__ = [
    "AuditLog",
    "ImpersonationStore",
    "InMemoryAuditLog",
    "InMemoryImpersonationStore",
    "RedisAuditLog",
    "RedisClientProtocol",
    "RedisImpersonationStore",
    "redis_persistence_warnings",
]
