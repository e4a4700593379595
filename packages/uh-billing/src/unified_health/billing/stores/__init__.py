"""Reconciliation stores: the `ReconciliationStore` Protocol and its implementations."""

from unified_health.billing.stores._memory import InMemoryReconciliationStore
from unified_health.billing.stores._postgres import PostgresReconciliationStore
from unified_health.billing.stores._protocol import ReconciliationStore, RedisClientProtocol
from unified_health.billing.stores._redis import RedisReconciliationStore

__all__ = [
    "InMemoryReconciliationStore",
    "PostgresReconciliationStore",
    "ReconciliationStore",
    "RedisClientProtocol",
    "RedisReconciliationStore",
]
