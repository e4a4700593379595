"""What a record store must do, and the Redis commands the Redis store uses.

The contract (held by one test suite run against every implementation):

- ``put`` with ``expected_version=None`` writes unconditionally; ``0`` writes only a new key;
  ``n`` writes only over version ``n``. Anything else raises `ConflictError` and changes nothing.
  Every successful write returns the record with its version one higher than before.
- ``delete`` is idempotent and honours ``expected_version`` the same way.
- ``list_records`` yields every record once, in no particular order, paging lazily.
- A store that cannot reach its backend raises `StoreUnavailableError`, never a driver error.
- Invalid keys or data raise `InvalidInputError` before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

from unified_health.impersonation._models import Record

__all__ = ["RecordStore", "RedisClientProtocol"]


@runtime_checkable
class RecordStore(Protocol):
    """Versioned JSON records by key, with optimistic concurrency.

    Examples:
        >>> from unified_health.impersonation import InMemoryRecordStore
        >>> isinstance(InMemoryRecordStore(), RecordStore)
        True
    """

    def get(self, key: str) -> Record | None:
        """Return the record stored under ``key``, or ``None``."""
        ...

    def put(
        self, key: str, data: Mapping[str, Any], *, expected_version: int | None = None
    ) -> Record:
        """Write ``data`` under ``key`` if the version check passes; return the new record."""
        ...

    def delete(self, key: str, *, expected_version: int | None = None) -> bool:
        """Delete ``key``; ``True`` if it existed."""
        ...

    def list_records(self) -> Iterator[Record]:
        """Yield every record once."""
        ...

    def close(self) -> None:
        """Release what the store opened itself (never an injected client)."""
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

    def hget(self, name: str, key: str) -> Any:
        """Read one field of a hash."""
        ...

    def hscan(self, name: str, cursor: int = 0, match: Any = None, count: int | None = None) -> Any:
        """Page through a hash."""
        ...

    def close(self) -> None:
        """Close the client's connections."""
        ...
