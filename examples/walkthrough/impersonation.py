"""uh-impersonation: a support agent acts as a patient, is refused what the policy forbids, and
every step lands in a hash-chained audit trail that verifies."""

from __future__ import annotations

from collections.abc import Callable

from unified_health.impersonation import (
    ImpersonationDeniedError,
    ImpersonationService,
    InMemoryNotifier,
    InvalidInputError,
    Principal,
)


def run(say: Callable[[str], None]) -> None:
    """Start, use, refuse and end an impersonation session in memory, then verify the trail."""
    notifier = InMemoryNotifier()
    service = ImpersonationService(notifier=notifier, notification="required")
    agent = Principal(user_id="agent-7", role="support_agent", login_session_id="login-7")
    admin = Principal(user_id="admin-1", role="admin", login_session_id="login-1")
    patient = Principal(user_id="patient-42", role="patient")

    started = service.start(
        agent, patient, ticket_id="ZD-48213", reason="Cannot see lab results\x1b[31m"
    )
    session = started.session
    say(
        f"{session.actor_id} acts as {session.target_id} on {session.ticket_id} "
        f"until {session.expires_at:%H:%M} UTC, scopes {list(session.scopes)}, "
        f"reason stored as {session.reason!r}"
    )
    say(f"{len(notifier.notices)} notice sent to {notifier.notices[0].target_id}")
    result = service.validate(started.token, login_session_id="login-7")
    say(f"validate: valid={result.valid} actor={result.actor_id} target={result.target_id}")
    try:
        service.require_scope(result, "messages:send")
    except ImpersonationDeniedError as exc:
        say(f"sending a message as the patient is refused: {exc.reason}")
    try:
        service.start(agent, admin, ticket_id="ZD-48214", reason="Check admin view")
    except ImpersonationDeniedError as exc:
        say(f"an agent impersonating an admin is refused: {exc.reason}")
    try:
        service.start(admin, patient, ticket_id="48213", reason="Labs")
    except InvalidInputError as exc:
        say(f"a malformed ticket id is refused: {exc.field} {exc.rule}")
    service.end(started.id, actor=agent)
    say(f"after end: validate says {service.validate(started.token).reason!r}")
    actions = [record.event.action.value for record in service.audit.log.records()]
    report = service.audit.verify()
    say(f"audit trail: {actions}; verified={report.ok} over {report.checked} records")
