"""Flag stores: the `FeatureFlagStore` Protocol and its in-memory and Redis implementations."""

from unified_health.feature_flags.stores._memory import InMemoryFeatureFlagStore
from unified_health.feature_flags.stores._protocol import (
    ChangeFeed,
    Commit,
    FeatureFlagStore,
    StoreState,
    Write,
)
from unified_health.feature_flags.stores._redis import RedisClientProtocol, RedisFeatureFlagStore

__all__ = [
    "ChangeFeed",
    "Commit",
    "FeatureFlagStore",
    "InMemoryFeatureFlagStore",
    "RedisClientProtocol",
    "RedisFeatureFlagStore",
    "StoreState",
    "Write",
]
