"""uh-support: a ticket through its lifecycle, its SLA explained, a breach scan, all in memory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from unified_health.support import (
    BusinessCalendar,
    InvalidInputError,
    SlaPolicy,
    SupportClient,
)
from unified_health.support.testing import FakeClock


def run(say: Callable[[str], None]) -> None:
    """Show tickets, the lifecycle and the SLA engine at work on embedded defaults."""
    calendar = BusinessCalendar(
        "America/New_York",
        hours={"mon-fri": [("09:00", "12:00"), ("13:00", "17:00")]},
        holidays=[date(2026, 12, 25)],
    )
    policy = SlaPolicy(
        {"high": {"first_reply": timedelta(hours=2), "resolution": timedelta(hours=16)}},
        calendar=calendar,
    )
    clock = FakeClock(datetime(2026, 12, 24, 20, 30, tzinfo=UTC))  # Thu 15:30 in New York
    support = SupportClient(policy=policy, clock=clock)

    ticket = support.create_ticket(
        "Portal login", "Cannot sign in", "patient-42", priority="high", idempotency_key="req-1"
    )
    again = support.create_ticket(
        "Portal login", "Cannot sign in", "patient-42", priority="high", idempotency_key="req-1"
    )
    say(
        f"created ticket {ticket.id[:8]} ({ticket.status}); a retry returns the same id: "
        f"{again.id == ticket.id}"
    )

    first = support.sla_status(ticket.id).current("first_reply")
    due = first.due_at if first is not None else None
    say(f"first reply due {due.isoformat() if due else '-'} (1.5 h Thursday, Friday a holiday)")

    clock.advance(6 * 3600)
    warnings = support.scan_breaches(timedelta(days=4))
    say(f"breach scan finds {len(warnings)} instance(s) due within 4 days")

    support.add_comment(ticket.id, "We are on it", author="agent")
    support.set_status(ticket.id, "pending")
    support.solve(ticket.id)
    closed = support.set_status(ticket.id, "closed")
    say(f"replied, pending, solved, closed: version {closed.version}")
    try:
        support.set_status(ticket.id, "open")
    except InvalidInputError as exc:
        say(f"a closed ticket stays closed: {exc}")
    follow_up = support.create_follow_up(ticket.id, "It happened again")
    say(f"follow-up {follow_up.id[:8]} points back: {follow_up.follow_up_of == ticket.id}")

    resolution = support.sla_status(ticket.id).current("resolution")
    if resolution is None:
        return
    say(f"resolution: {resolution.state}, counted {resolution.elapsed}")
    for line in resolution.explain().lines():
        say(f"  {line}")
