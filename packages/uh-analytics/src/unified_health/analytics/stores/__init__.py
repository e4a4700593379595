"""Stores for consent, surrogate ids and spilled events: Protocols, in-memory and Redis."""

from unified_health.analytics.stores._memory import (
    InMemoryConsentStore,
    InMemorySpillStore,
    InMemorySurrogateIdStore,
)
from unified_health.analytics.stores._protocol import (
    ConsentStore,
    ForkAware,
    InProcessStore,
    JournalingSpillStore,
    RedisClientProtocol,
    SpillStore,
    SurrogateIdStore,
)
from unified_health.analytics.stores._redis import (
    RedisConsentStore,
    RedisSpillStore,
    RedisSurrogateIdStore,
)

__all__ = [
    "ConsentStore",
    "ForkAware",
    "InMemoryConsentStore",
    "InMemorySpillStore",
    "InMemorySurrogateIdStore",
    "InProcessStore",
    "JournalingSpillStore",
    "RedisClientProtocol",
    "RedisConsentStore",
    "RedisSpillStore",
    "RedisSurrogateIdStore",
    "SpillStore",
    "SurrogateIdStore",
]
