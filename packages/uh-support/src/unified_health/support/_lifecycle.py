"""The ticket lifecycle: allowed status transitions, checked locally before any write.

::

    new ──► open ◄──► pending ◄──► on_hold
     │        │          │            │
     └────────┴──────────┴────────────┴──► solved ──► closed (terminal)
                                              │
                                              └──► open (reopen)

A closed ticket never changes again; `SupportClient.create_follow_up` opens a new ticket that
points back to it.
"""

from __future__ import annotations

from collections.abc import Mapping

from unified_health.support._errors import InvalidInputError

__all__ = ["TRANSITIONS", "check_transition"]

TRANSITIONS: Mapping[str, frozenset[str]] = {
    "new": frozenset({"open", "pending", "on_hold", "solved"}),
    "open": frozenset({"pending", "on_hold", "solved"}),
    "pending": frozenset({"open", "on_hold", "solved"}),
    "on_hold": frozenset({"open", "pending", "solved"}),
    "solved": frozenset({"open", "closed"}),
    "closed": frozenset(),
}
"""The allowed moves from each status (staying in place is always allowed, except when closed)."""


def check_transition(current: str, target: str) -> None:
    """Raise `InvalidInputError` unless a ticket may move from ``current`` to ``target``.

    Args:
        current: The ticket's status.
        target: The wanted status.

    Raises:
        InvalidInputError: ``target`` is unknown, or the move is not allowed; a closed ticket
            allows nothing (create a follow-up instead).

    Examples:
        >>> check_transition("open", "pending")
        >>> try:
        ...     check_transition("closed", "open")
        ... except InvalidInputError as err:
        ...     print(err)
        status: a closed ticket is final; create a follow-up ticket instead
    """
    if target not in TRANSITIONS:
        raise InvalidInputError("status", f"must be one of: {', '.join(TRANSITIONS)}")
    if current == "closed":
        raise InvalidInputError(
            "status", "a closed ticket is final; create a follow-up ticket instead"
        )
    if target != current and target not in TRANSITIONS[current]:
        raise InvalidInputError("status", f"cannot move from {current} to {target}")
