"""The `StatusPageStore` Protocol and its in-memory and Redis implementations."""

from unified_health.status_page.stores._memory import InMemoryStatusPageStore
from unified_health.status_page.stores._protocol import RedisClientProtocol, StatusPageStore
from unified_health.status_page.stores._redis import RedisStatusPageStore

__all__ = [
    "InMemoryStatusPageStore",
    "RedisClientProtocol",
    "RedisStatusPageStore",
    "StatusPageStore",
]
