"""Where tickets live: the `SupportProvider` Protocol and the `InternalProvider` over a store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from unified_health.support._errors import InvalidInputError, NotFoundError
from unified_health.support._models import Ticket
from unified_health.support.stores._memory import InMemoryTicketStore
from unified_health.support.stores._protocol import TicketStore

__all__ = ["InternalProvider", "SupportProvider"]


@runtime_checkable
class SupportProvider(Protocol):
    """What `SupportClient` needs from wherever tickets are kept.

    ``create_ticket`` must be idempotent by key (one ticket per key, `ConflictError` for the same
    key with another fingerprint); ``update_ticket`` must refuse a stale ``expected_version``.

    Examples:
        >>> isinstance(InternalProvider(), SupportProvider)
        True
    """

    name: str

    def create_ticket(
        self, ticket: Ticket, *, idempotency_key: str, fingerprint: str
    ) -> tuple[Ticket, bool]:
        """Create the ticket once per key; return it and whether it is new."""
        ...

    def get_ticket(self, ticket_id: str) -> Ticket:
        """Return the ticket or raise `NotFoundError`."""
        ...

    def update_ticket(self, ticket: Ticket, *, expected_version: int) -> Ticket:
        """Write the changed ticket over ``expected_version``."""
        ...

    def list_tickets(self) -> Iterator[Ticket]:
        """Yield every ticket."""
        ...


class InternalProvider:
    """Tickets kept in the host's own `TicketStore` (memory, Redis or PostgreSQL).

    Clear text stays inside the host's store; nothing leaves the process.

    Args:
        store: The store; a new `InMemoryTicketStore` by default.

    Raises:
        InvalidInputError: ``store`` does not implement `TicketStore`.

    Examples:
        >>> provider = InternalProvider()
        >>> (provider.name, type(provider.store).__name__)
        ('internal', 'InMemoryTicketStore')
    """

    name = "internal"

    def __init__(self, store: TicketStore | None = None) -> None:
        if store is not None and not isinstance(store, TicketStore):
            raise InvalidInputError("store", "must implement TicketStore")
        self.store: TicketStore = store if store is not None else InMemoryTicketStore()

    def create_ticket(
        self, ticket: Ticket, *, idempotency_key: str, fingerprint: str
    ) -> tuple[Ticket, bool]:
        """Create the ticket once per key (see `TicketStore.create`)."""
        return self.store.create(ticket, idempotency_key=idempotency_key, fingerprint=fingerprint)

    def get_ticket(self, ticket_id: str) -> Ticket:
        """Return the ticket.

        Raises:
            NotFoundError: No such ticket.
        """
        found = self.store.get(ticket_id)
        if found is None:
            raise NotFoundError("ticket", ticket_id)
        return found

    def update_ticket(self, ticket: Ticket, *, expected_version: int) -> Ticket:
        """Write the changed ticket over ``expected_version`` (see `TicketStore.update`)."""
        return self.store.update(ticket, expected_version=expected_version)

    def list_tickets(self) -> Iterator[Ticket]:
        """Yield every ticket in the store."""
        return self.store.list_tickets()

    def close(self) -> None:
        """Close the store (a store never closes a client it was given)."""
        self.store.close()
