"""Record stores: the `RecordStore` Protocol and its in-memory and Redis implementations."""

from unified_health.support.stores._memory import InMemoryRecordStore
from unified_health.support.stores._protocol import RecordStore, RedisClientProtocol
from unified_health.support.stores._redis import RedisRecordStore

__all__ = ["InMemoryRecordStore", "RecordStore", "RedisClientProtocol", "RedisRecordStore"]
