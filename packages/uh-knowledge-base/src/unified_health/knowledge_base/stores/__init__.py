"""Stores: `ArticleStore`, `ActivityStore` and `Cache` (memory, Redis, PostgreSQL)."""

from unified_health.knowledge_base.stores._memory import (
    InMemoryActivityStore,
    InMemoryArticleStore,
    InMemoryCache,
)
from unified_health.knowledge_base.stores._postgres import PostgresArticleStore
from unified_health.knowledge_base.stores._protocol import (
    ActivityStore,
    ArticleStore,
    Cache,
    RedisClientProtocol,
)
from unified_health.knowledge_base.stores._redis import (
    RedisActivityStore,
    RedisArticleStore,
    RedisCache,
)

__all__ = [
    "ActivityStore",
    "ArticleStore",
    "Cache",
    "InMemoryActivityStore",
    "InMemoryArticleStore",
    "InMemoryCache",
    "PostgresArticleStore",
    "RedisActivityStore",
    "RedisArticleStore",
    "RedisCache",
    "RedisClientProtocol",
]
