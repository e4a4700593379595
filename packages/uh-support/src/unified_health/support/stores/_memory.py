"""The in-memory `TicketStore`: the embedded default, thread-safe, for one process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime

from unified_health.support._calendar import to_epoch
from unified_health.support._models import Ticket
from unified_health.support.stores._common import (
    check_create,
    check_id,
    check_update,
    due_score,
    key_conflict,
    stale,
)

__all__ = ["InMemoryTicketStore"]


class InMemoryTicketStore:
    """A `TicketStore` in dicts; tickets are kept as JSON, so callers never share objects.

    Examples:
        >>> from datetime import UTC, datetime
        >>> at = datetime(2026, 1, 5, 9, tzinfo=UTC)
        >>> ticket = Ticket(id="t-1", subject="s", description="d", requester="r",
        ...                 created_at=at, updated_at=at)
        >>> store = InMemoryTicketStore()
        >>> store.create(ticket, idempotency_key="k-1", fingerprint="f")[1]
        True
        >>> store.create(ticket, idempotency_key="k-1", fingerprint="f")[1]
        False
    """

    def __init__(self) -> None:
        self._tickets: dict[str, str] = {}
        self._versions: dict[str, int] = {}
        self._keys: dict[str, tuple[str, str]] = {}
        self._due: dict[str, int] = {}
        self._claims: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def create(
        self, ticket: Ticket, *, idempotency_key: str, fingerprint: str
    ) -> tuple[Ticket, bool]:
        """Store ``ticket`` once per key (see `TicketStore`).

        Raises:
            ConflictError: The key was used with another fingerprint, or the id exists.
        """
        ticket = check_create(ticket, idempotency_key, fingerprint)
        payload = ticket.to_json()
        with self._lock:
            found = self._keys.get(idempotency_key)
            if found is not None:
                if found[0] != fingerprint:
                    raise key_conflict(idempotency_key)
                return Ticket.from_json(self._tickets[found[1]]), False
            if ticket.id in self._tickets:
                raise stale(ticket.id, 0, self._versions[ticket.id])
            self._keys[idempotency_key] = (fingerprint, ticket.id)
            self._tickets[ticket.id] = payload
            self._versions[ticket.id] = 1
            score = due_score(ticket)
            if score is not None:
                self._due[ticket.id] = score
        return Ticket.from_json(payload), True

    def get(self, ticket_id: str) -> Ticket | None:
        """Return the ticket, or ``None``."""
        found = self._tickets.get(check_id(ticket_id, "ticket_id"))
        return None if found is None else Ticket.from_json(found)

    def update(self, ticket: Ticket, *, expected_version: int) -> Ticket:
        """Replace the ticket if it is at ``expected_version``.

        Raises:
            ConflictError: The stored version differs (or the ticket does not exist).
        """
        updated, expected = check_update(ticket, expected_version)
        payload = updated.to_json()
        with self._lock:
            current = self._versions.get(updated.id, 0)
            if current != expected:
                raise stale(updated.id, expected, current)
            self._tickets[updated.id] = payload
            self._versions[updated.id] = current + 1
            score = due_score(updated)
            if score is None:
                self._due.pop(updated.id, None)
            else:
                self._due[updated.id] = score
        return Ticket.from_json(payload)

    def list_tickets(self) -> Iterator[Ticket]:
        """Yield every ticket once (a snapshot taken when iteration starts)."""
        with self._lock:
            payloads = list(self._tickets.values())
        for payload in payloads:
            yield Ticket.from_json(payload)

    def due_before(self, instant: datetime) -> list[str]:
        """Return ids whose SLA due time is at or before ``instant``, earliest first."""
        limit = to_epoch(instant, "instant")
        with self._lock:
            found = [(due, ticket_id) for ticket_id, due in self._due.items() if due <= limit]
        return [ticket_id for _, ticket_id in sorted(found)]

    def claim_once(self, ticket_id: str, marker: str) -> bool:
        """Return ``True`` the first time ``(ticket_id, marker)`` is claimed."""
        claim = (check_id(ticket_id, "ticket_id"), check_id(marker, "marker"))
        with self._lock:
            if claim in self._claims:
                return False
            self._claims.add(claim)
            return True

    def close(self) -> None:
        """Nothing to release."""
