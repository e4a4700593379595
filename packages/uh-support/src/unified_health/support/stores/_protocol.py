"""What a ticket store must do, and the Redis commands the Redis store uses.

The contract (held by one test suite run against memory, Redis and PostgreSQL):

- ``create`` is idempotent by key: the first call stores the ticket; a later call with the same
  key and the same payload fingerprint returns the stored ticket (``created`` is ``False``); the
  same key with another fingerprint raises `ConflictError` and changes nothing.
- ``update`` writes only over ``expected_version`` and returns the ticket one version higher;
  a stale version raises `ConflictError` and leaves the stored ticket as it was.
- ``due_before`` returns the ids of tickets whose ``sla_due_at`` is at or before an instant,
  earliest first (the index behind breach scans).
- ``claim_once`` is true exactly once per ``(ticket_id, marker)``, across every process sharing
  the store (escalations fire once).
- A store that cannot reach its backend raises `StoreUnavailableError`, never a driver error.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from unified_health.support._models import Ticket

__all__ = ["RedisClientProtocol", "TicketStore"]


@runtime_checkable
class TicketStore(Protocol):
    """Tickets by id, with idempotent creation, optimistic updates and an SLA due index.

    Examples:
        >>> from unified_health.support import InMemoryTicketStore
        >>> isinstance(InMemoryTicketStore(), TicketStore)
        True
    """

    def create(
        self, ticket: Ticket, *, idempotency_key: str, fingerprint: str
    ) -> tuple[Ticket, bool]:
        """Store ``ticket`` once per key; return the stored ticket and whether it is new."""
        ...

    def get(self, ticket_id: str) -> Ticket | None:
        """Return the ticket, or ``None``."""
        ...

    def update(self, ticket: Ticket, *, expected_version: int) -> Ticket:
        """Replace the ticket if it is still at ``expected_version``; return the new version."""
        ...

    def list_tickets(self) -> Iterator[Ticket]:
        """Yield every ticket once."""
        ...

    def due_before(self, instant: datetime) -> list[str]:
        """Return ids whose ``sla_due_at`` is at or before ``instant``, earliest first."""
        ...

    def claim_once(self, ticket_id: str, marker: str) -> bool:
        """Return ``True`` the first time ``(ticket_id, marker)`` is claimed, else ``False``."""
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

    def zrangebyscore(self, name: str, min: Any, max: Any) -> Any:
        """Members of a sorted set by score."""
        ...

    def hsetnx(self, name: str, key: str, value: Any) -> Any:
        """Set a hash field only if it does not exist."""
        ...

    def close(self) -> None:
        """Close the client's connections."""
        ...
