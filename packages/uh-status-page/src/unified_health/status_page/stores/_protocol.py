"""What a status-page store must do, and the Redis commands the Redis store uses.

One store holds the state that several processes of a host must share:

- **the rate limit of a token** (a sliding log of request times per bucket, and a pause set when
  the vendor answered 420/429): ``take_slot`` admits a request only if fewer than ``limit``
  requests were admitted in the last ``window`` seconds, atomically;
- **the incident lock and the open incident of an outage**: ``acquire_lock`` is a lease that
  expires after ``ttl`` seconds; ``get_open_incident`` / ``set_open_incident`` /
  ``clear_open_incident`` map an outage fingerprint to the incident that reports it;
- **the self-hosted page's state**: one versioned JSON document with optimistic concurrency
  (``save_page`` with ``expected_version`` writes only over that version, ``0`` only when no
  page was saved yet; a failed write changes nothing).

The contract is held by one test suite run against every implementation. A store that cannot
reach its backend raises `StoreUnavailableError`, never a driver error; invalid arguments raise
`InvalidInputError` before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

__all__ = ["RedisClientProtocol", "StatusPageStore"]


@runtime_checkable
class StatusPageStore(Protocol):
    """Shared state of the package: rate-limit logs, incident locks and the self-hosted page.

    Examples:
        >>> from unified_health.status_page import InMemoryStatusPageStore
        >>> isinstance(InMemoryStatusPageStore(), StatusPageStore)
        True
    """

    def take_slot(self, bucket: str, *, now: float, limit: int, window: float) -> float:
        """Admit one request at ``now`` (epoch seconds) if the bucket allows it.

        Returns ``0.0`` when admitted, else the seconds to wait before a slot frees (or the
        pause set by `pause_bucket` ends).
        """
        ...

    def pause_bucket(self, bucket: str, *, until: float) -> None:
        """Admit nothing in ``bucket`` before ``until`` (epoch seconds); never shortens a pause."""
        ...

    def acquire_lock(self, name: str, owner: str, *, ttl: float) -> bool:
        """Take the lease ``name`` for ``owner`` for ``ttl`` seconds; ``False`` if taken."""
        ...

    def release_lock(self, name: str, owner: str) -> bool:
        """Release the lease if ``owner`` holds it; ``True`` if it was released."""
        ...

    def get_open_incident(self, fingerprint: str) -> str | None:
        """Return the id of the open incident of an outage, or ``None``."""
        ...

    def set_open_incident(self, fingerprint: str, incident_id: str) -> None:
        """Remember the incident that reports the outage ``fingerprint``."""
        ...

    def clear_open_incident(self, fingerprint: str, incident_id: str) -> bool:
        """Forget the outage's incident if it is still ``incident_id``; ``True`` if forgotten."""
        ...

    def load_page(self) -> tuple[int, dict[str, Any]]:
        """Return the self-hosted page's version and state (``(0, {})`` before the first save)."""
        ...

    def save_page(self, state: Mapping[str, Any], *, expected_version: int) -> int:
        """Write the page state over ``expected_version``; return the new version.

        Raises `ConflictError` (and writes nothing) when the stored version differs.
        """
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

    def get(self, name: str) -> Any:
        """Read a string key."""
        ...

    def close(self) -> None:
        """Close the client's connections."""
        ...
