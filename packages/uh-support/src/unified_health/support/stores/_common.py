"""Checks shared by every ticket store, so all of them refuse the same input."""

from __future__ import annotations

from unified_health.support._errors import ConflictError, InvalidInputError
from unified_health.support._models import Ticket

__all__ = ["check_create", "check_id", "check_update", "due_score", "stale"]


def check_id(value: object, field: str) -> str:
    """Return ``value`` if it is a usable id or key, else raise `InvalidInputError`."""
    if not isinstance(value, str) or not 0 < len(value) <= 256:
        raise InvalidInputError(field, "must be a str of 1 to 256 characters")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise InvalidInputError(field, "must not contain control characters")
    return value


def check_create(ticket: object, key: object, fingerprint: object) -> Ticket:
    """Check the arguments of ``create``."""
    if not isinstance(ticket, Ticket):
        raise InvalidInputError("ticket", "must be a Ticket")
    check_id(key, "idempotency_key")
    check_id(fingerprint, "fingerprint")
    if ticket.version != 1:
        raise InvalidInputError("ticket.version", "must be 1 for a new ticket")
    return ticket


def check_update(ticket: object, expected_version: object) -> tuple[Ticket, int]:
    """Check the arguments of ``update``; return the ticket at its next version."""
    if not isinstance(ticket, Ticket):
        raise InvalidInputError("ticket", "must be a Ticket")
    if (
        isinstance(expected_version, bool)
        or not isinstance(expected_version, int)
        or expected_version < 1
    ):
        raise InvalidInputError("expected_version", "must be an int >= 1")
    return ticket.model_copy(update={"version": expected_version + 1}), expected_version


def due_score(ticket: Ticket) -> int | None:
    """The ticket's SLA due time as epoch seconds, for the due index."""
    return None if ticket.sla_due_at is None else int(ticket.sla_due_at.timestamp())


def stale(ticket_id: str, expected: int, current: int) -> ConflictError:
    """The error for a failed version check (ids and numbers only)."""
    if current == 0:
        return ConflictError(f"ticket {ticket_id!r} does not exist")
    return ConflictError(
        f"ticket {ticket_id!r} is at version {current}, the write expected {expected}"
    )


def key_conflict(key: str) -> ConflictError:
    """The error for a reused idempotency key with another payload."""
    return ConflictError(f"idempotency key {key!r} was used for a different ticket payload")
