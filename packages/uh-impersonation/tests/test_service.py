"""`ImpersonationService` in memory: the life of a session, bad input, denials, guards, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unified_health.impersonation import (
    AuditAction,
    AuditEvent,
    ImpersonationDeniedError,
    ImpersonationPolicy,
    ImpersonationService,
    InMemoryAuditLog,
    InMemoryImpersonationStore,
    InMemoryNotifier,
    InvalidInputError,
    NotFoundError,
    Principal,
    ProviderError,
    SessionStatus,
    StoreUnavailableError,
    Validation,
)
from unified_health.impersonation.testing import FakeClock, capture_logs

AGENT = Principal(user_id="agent-7", role="support_agent", login_session_id="ls-agent-7")
ADMIN = Principal(user_id="admin-1", role="admin", login_session_id="ls-admin-1")
PATIENT = Principal(user_id="patient-42", role="patient")
OTHER_PATIENT = Principal(user_id="patient-43", role="patient")
REASON = "Cannot see lab results"


def make(**kwargs: object) -> tuple[ImpersonationService, FakeClock, InMemoryAuditLog]:
    clock = FakeClock()
    log = InMemoryAuditLog()
    service = ImpersonationService(
        InMemoryImpersonationStore(clock=clock),
        audit=log,
        clock=clock,
        **kwargs,  # type: ignore[arg-type]
    )
    return service, clock, log


def events(log: InMemoryAuditLog) -> list[AuditEvent]:
    return [record.event for record in log.records()]


def test_the_life_of_a_session_is_audited_end_to_end() -> None:
    service, _, log = make()
    started = service.start(
        AGENT, PATIENT, ticket_id="ZD-48213", reason=REASON, source_ip="10.1.2.3"
    )
    assert started.token.startswith("uhi_")
    assert started.session.scopes == ("read",)
    result = service.validate(started.token, login_session_id="ls-agent-7")
    assert (result.valid, result.actor_id, result.target_id) == (True, "agent-7", "patient-42")
    assert [s.id for s in service.list_active()] == [started.id]
    ended = service.end(started.id, actor=AGENT)
    assert ended.status is SessionStatus.ENDED
    assert service.validate(started.token).reason == "ended"
    assert service.list_active() == []
    recorded = events(log)
    assert [e.action for e in recorded] == [
        AuditAction.START,
        AuditAction.END,
        AuditAction.VALIDATION_FAILURE,
    ]
    start = recorded[0]
    assert (start.actor_id, start.target_id, start.ticket_id, start.reason, start.source_ip) == (
        "agent-7",
        "patient-42",
        "ZD-48213",
        REASON,
        "10.1.2.3",
    )
    assert service.audit.verify().ok


def test_the_token_is_never_stored_nor_shown() -> None:
    service, _, log = make()
    started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    assert started.token not in repr(started)
    assert started.token not in started.session.model_dump_json()
    assert all(started.token not in r.body for r in log.records())
    assert len(started.token) == 4 + 43  # 32 random bytes, base64url


def test_a_second_start_by_the_same_actor_is_denied_and_audited() -> None:
    service, _, log = make()
    service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    with pytest.raises(ImpersonationDeniedError) as caught:
        service.start(AGENT, OTHER_PATIENT, ticket_id="ZD-2", reason=REASON)
    assert caught.value.reason == "already_impersonating"
    assert events(log)[-1].denial == "already_impersonating"


def test_nesting_is_refused() -> None:
    service, _, _ = make()
    service.start(ADMIN, AGENT, ticket_id="ZD-1", reason=REASON)
    with pytest.raises(ImpersonationDeniedError) as caught:
        service.start(AGENT, PATIENT, ticket_id="ZD-2", reason=REASON)
    assert caught.value.reason == "nested_impersonation"


def test_a_policy_denial_is_audited_and_creates_nothing() -> None:
    service, _, log = make()
    with pytest.raises(ImpersonationDeniedError) as caught:
        service.start(AGENT, ADMIN, ticket_id="ZD-1", reason=REASON)
    assert caught.value.reason == "rank_not_lower"
    assert isinstance(caught.value, PermissionError)
    assert service.list_active() == []
    (denied,) = events(log)
    assert (denied.action, denied.outcome, denied.denial, denied.actor_id) == (
        AuditAction.DENY,
        "denied",
        "rank_not_lower",
        "agent-7",
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"actor": "agent-7"}, "actor"),
        ({"actor": {"user_id": "agent-7", "role": "support_agent"}}, "actor"),
        ({"target": None}, "target"),
        ({"actor": Principal(user_id="agent-7", role="support_agent")}, "actor.login_session_id"),
        ({"ticket_id": "48213"}, "ticket_id"),
        ({"ticket_id": "ZD-1\nINJECTED"}, "ticket_id"),
        ({"ticket_id": 48213}, "ticket_id"),
        ({"reason": ""}, "reason"),
        ({"reason": "\x1b[2J\x1b[H"}, "reason"),
        ({"reason": "x" * 600}, "reason"),
        ({"reason": None}, "reason"),
        ({"duration": timedelta(hours=2)}, "duration"),
        ({"duration": 3600}, "duration"),
        ({"scopes": "write"}, "scopes"),
        ({"source_ip": "not-an-ip"}, "source_ip"),
        ({"target": Principal(user_id="p-1", role="wizard")}, "target.role"),
        ({"actor": Principal(user_id="a", role="ghost", login_session_id="l")}, "actor.role"),
    ],
)
def test_bad_input_is_named_audited_and_creates_nothing(
    change: dict[str, object], field: str
) -> None:
    service, _, log = make()
    arguments: dict[str, object] = {
        "actor": AGENT,
        "target": PATIENT,
        "ticket_id": "ZD-1",
        "reason": REASON,
    }
    arguments.update(change)
    with pytest.raises(InvalidInputError) as caught:
        service.start(**arguments)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert service.list_active() == []
    (denied,) = events(log)
    assert (denied.action, denied.denial, denied.detail) == (
        AuditAction.DENY,
        "invalid_input",
        field,
    )
    hostile = str(change.get("ticket_id", change.get("reason", "")))
    if "\n" in hostile or "\x1b" in hostile:
        assert all(hostile not in record.body for record in log.records())
    service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)


def test_self_impersonation_is_denied() -> None:
    service, _, _ = make()
    me_as_target = Principal(user_id="agent-7", role="patient")
    with pytest.raises(ImpersonationDeniedError) as caught:
        service.start(AGENT, me_as_target, ticket_id="ZD-1", reason=REASON)
    assert caught.value.reason == "self_impersonation"


def test_expiry_is_decided_by_the_store_clock_and_final() -> None:
    service, clock, log = make()
    started = service.start(
        AGENT, PATIENT, ticket_id="ZD-1", reason=REASON, duration=timedelta(minutes=10)
    )
    clock.advance(599)
    assert service.validate(started.token).valid
    clock.advance(1)
    result = service.validate(started.token)
    assert (result.valid, result.reason) == (False, "expired")
    assert [e.action for e in events(log)][-2:] == [
        AuditAction.EXPIRE,
        AuditAction.VALIDATION_FAILURE,
    ]
    assert service.validate(started.token).reason == "expired"
    assert service.end(started.id, actor=AGENT).status is SessionStatus.EXPIRED
    assert sum(e.action is AuditAction.EXPIRE for e in events(log)) == 1


@settings(max_examples=60, deadline=None)
@given(
    minutes=st.integers(min_value=1, max_value=60),
    overshoot=st.floats(min_value=0, max_value=10 * 24 * 3600, allow_nan=False),
    checks=st.lists(st.floats(min_value=0, max_value=7200, allow_nan=False), max_size=5),
)
def test_no_validation_ever_succeeds_after_the_cap(
    minutes: int, overshoot: float, checks: list[float]
) -> None:
    service, clock, _ = make()
    started = service.start(
        AGENT, PATIENT, ticket_id="ZD-1", reason=REASON, duration=timedelta(minutes=minutes)
    )
    begin = clock.now()
    for step in checks:
        clock.advance(step)
        result = service.validate(started.token)
        elapsed = clock.now() - begin
        assert result.valid == (elapsed < timedelta(minutes=minutes))
        assert not (result.valid and elapsed >= timedelta(hours=1))
    clock.advance(3600 + overshoot)
    assert not service.validate(started.token).valid
    with pytest.raises(InvalidInputError):
        service.start(
            AGENT, PATIENT, ticket_id="ZD-1", reason=REASON, duration=timedelta(hours=1, seconds=1)
        )


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "malformed_token"),
        ("uhi_short", "malformed_token"),
        ("Bearer uhi_" + "A" * 43, "malformed_token"),
        ("uhi_" + "A" * 42 + "\n", "malformed_token"),
        ("uhi_" + "A" * 43, "unknown_token"),
    ],
)
def test_bad_tokens_fail_validation_and_are_audited(token: str, reason: str) -> None:
    service, _, log = make()
    result = service.validate(token)
    assert (result.valid, result.reason, result.session) == (False, reason, None)
    assert not result
    (failure,) = events(log)
    assert (failure.action, failure.denial) == (AuditAction.VALIDATION_FAILURE, reason)


@pytest.mark.parametrize("token", [None, 42, b"uhi_x"])
def test_a_token_of_the_wrong_type_is_invalid_input(token: object) -> None:
    service, _, _ = make()
    with pytest.raises(InvalidInputError) as caught:
        service.validate(token)  # type: ignore[arg-type]
    assert caught.value.field == "token"


def test_the_token_is_bound_to_the_actor_login_session() -> None:
    service, _, _ = make()
    started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    assert service.validate(started.token, login_session_id="ls-stolen").reason == (
        "login_session_mismatch"
    )
    assert service.end_login_session("ls-agent-7")[0].id == started.id
    assert service.validate(started.token).reason == "ended"


def test_role_changes_take_effect_at_the_next_validation() -> None:
    roles = {"agent-7": "support_agent", "patient-42": "patient"}

    def directory(user_id: str) -> Principal | None:
        role = roles.get(user_id)
        return None if role is None else Principal(user_id=user_id, role=role)

    service, _, log = make(directory=directory)
    started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    assert service.validate(started.token).valid
    roles["agent-7"] = "provider"
    result = service.validate(started.token)
    assert (result.valid, result.reason) == (False, "policy_changed")
    assert service.validate(started.token).reason == "revoked"
    roles["agent-7"] = "support_agent"
    assert service.validate(started.token).reason == "revoked"
    assert AuditAction.REVOKE in [e.action for e in events(log)]


def test_a_deleted_user_or_a_failing_directory_denies() -> None:
    def broken(user_id: str) -> Principal | None:
        raise TimeoutError("directory down")

    service, _, _ = make(directory=broken)
    started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    assert service.validate(started.token).reason == "policy_changed"

    service, _, _ = make(directory=lambda user_id: None)
    started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    assert service.validate(started.token).reason == "policy_changed"
    assert service.validate(started.token).reason == "revoked"


def test_only_the_actor_ends_and_admins_revoke() -> None:
    service, _, log = make()
    started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    with pytest.raises(ImpersonationDeniedError) as caught:
        service.end(started.id, actor=ADMIN)
    assert caught.value.reason == "not_actor"
    with pytest.raises(ImpersonationDeniedError):
        service.revoke(started.id, by=OTHER_PATIENT)
    revoked = service.revoke(started.id, by=ADMIN, reason="suspicious")
    assert (revoked.status, revoked.ended_by, revoked.end_reason) == (
        SessionStatus.REVOKED,
        "admin-1",
        "suspicious",
    )
    assert service.validate(started.token).reason == "revoked"
    assert service.revoke(started.id, by=ADMIN).status is SessionStatus.REVOKED
    assert [e.action for e in events(log)].count(AuditAction.REVOKE) == 1
    with pytest.raises(NotFoundError):
        service.end("imp_" + "0" * 32, actor=AGENT)
    for bad in ("imp_x", 7, "../etc"):
        with pytest.raises(InvalidInputError):
            service.end(bad, actor=AGENT)  # type: ignore[arg-type]


def test_a_patient_may_revoke_every_session_on_themself() -> None:
    service, _, _ = make()
    started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    assert [s.id for s in service.revoke_for_target("patient-42", by=PATIENT)] == [started.id]
    assert service.validate(started.token).reason == "revoked"
    with pytest.raises(ImpersonationDeniedError):
        service.revoke_for_target("patient-42", by=OTHER_PATIENT)


def test_sweep_audits_the_expiry_of_unused_sessions_once() -> None:
    service, clock, log = make()
    started = service.start(
        AGENT, PATIENT, ticket_id="ZD-1", reason=REASON, duration=timedelta(minutes=5)
    )
    clock.advance(301)
    assert [s.id for s in service.sweep_expired()] == [started.id]
    assert service.sweep_expired() == []
    assert [e.action for e in events(log)].count(AuditAction.EXPIRE) == 1


def test_scopes_are_read_only_by_default() -> None:
    service, _, log = make()
    started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    result = service.validate(started.token)
    service.require_scope(result, "read")
    with pytest.raises(ImpersonationDeniedError) as caught:
        service.require_scope(result, "messages:send")
    assert caught.value.reason == "scope_not_granted"
    violation = events(log)[-1]
    assert (violation.action, violation.detail, violation.session_id) == (
        AuditAction.SCOPE_VIOLATION,
        "messages:send",
        started.id,
    )
    service.require_scope(None, "messages:send")


def test_an_allow_list_grants_exactly_its_actions() -> None:
    service, _, _ = make()
    started = service.start(
        AGENT, PATIENT, ticket_id="ZD-1", reason=REASON, scopes=["read", "messages:send"]
    )
    result = service.validate(started.token)
    service.require_scope(result, "messages:send")
    with pytest.raises(ImpersonationDeniedError):
        service.require_scope(result, "billing:pay")


def test_sensitive_actions_are_refused_while_impersonating() -> None:
    service, _, log = make()
    started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    result = service.validate(started.token)
    with pytest.raises(ImpersonationDeniedError) as caught:
        service.require_not_impersonating(result, action="change_password")
    assert caught.value.reason == "impersonation_active"
    assert events(log)[-1].detail == "change_password"
    failed = Validation(False, "expired", None)
    with pytest.raises(ImpersonationDeniedError):
        service.require_not_impersonating(failed, action="change_password")
    with pytest.raises(ImpersonationDeniedError) as caught:
        service.require_scope(failed, "read")
    assert caught.value.reason == "expired"
    service.require_not_impersonating(None, action="change_password")
    with pytest.raises(InvalidInputError):
        service.require_scope(result, "Bad Action")
    with pytest.raises(InvalidInputError):
        service.require_scope("valid", "read")  # type: ignore[arg-type]


def test_required_notification_fails_closed() -> None:
    notifier = InMemoryNotifier(fail=True)
    service, _, log = make(notifier=notifier, notification="required")
    with pytest.raises(ProviderError):
        service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    assert service.list_active() == []
    assert events(log)[-1].denial == "notification_failed"
    notifier.fail = False
    started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    (notice,) = notifier.notices
    assert (notice.session_id, notice.target_id) == (started.id, "patient-42")
    assert REASON not in notice.to_json()


def test_best_effort_notification_logs_and_goes_on() -> None:
    service, _, _ = make(notifier=InMemoryNotifier(fail=True))
    with capture_logs() as logged:
        started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    assert service.validate(started.token).valid
    assert "notice_failed" in [entry["event"] for entry in logged]


def test_logs_carry_ids_never_the_reason_or_the_token() -> None:
    service, _, _ = make()
    with capture_logs() as logged:
        started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason="Secret diagnosis text")
        service.validate(started.token)
        service.validate("uhi_" + "B" * 43)
        service.end(started.id, actor=AGENT)
    text = repr(logged)
    assert "Secret diagnosis" not in text
    assert started.token not in text
    assert "impersonation_started" in text


class _DeadStore(InMemoryImpersonationStore):
    def lookup(self, session_id: str, token_hash: str) -> tuple[None, bool]:
        raise StoreUnavailableError("down")


def test_a_service_with_an_unreachable_store_denies() -> None:
    service = ImpersonationService(_DeadStore())
    assert service.validate("uhi_" + "C" * 43).reason == "store_unavailable"


def test_the_consent_window_and_ticket_checker_gate_the_start() -> None:
    policy = ImpersonationPolicy(
        ticket_checker=lambda ticket: ticket == "ZD-1",
        consent_checker=lambda user, at: user != "patient-43",
    )
    service, _, log = make(policy=policy)
    with pytest.raises(ImpersonationDeniedError) as caught:
        service.start(AGENT, PATIENT, ticket_id="ZD-2", reason=REASON)
    assert caught.value.reason == "ticket_rejected"
    with pytest.raises(ImpersonationDeniedError) as caught:
        service.start(AGENT, OTHER_PATIENT, ticket_id="ZD-1", reason=REASON)
    assert caught.value.reason == "no_consent"
    assert (
        service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON).session.ticket_id == "ZD-1"
    )
    assert [e.denial for e in events(log)][:2] == ["ticket_rejected", "no_consent"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"store": "redis://localhost"}, "store"),
        ({"audit": object()}, "audit"),
        ({"notifier": object()}, "notifier"),
        ({"notification": "always"}, "notification"),
        ({"notification": "required"}, "notifier"),
        ({"policy": {}}, "policy"),
        ({"directory": "ldap"}, "directory"),
        ({"clock": 5}, "clock"),
    ],
)
def test_bad_construction_is_named(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        ImpersonationService(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_from_env_refuses_a_malformed_key_without_showing_it() -> None:
    with pytest.raises(InvalidInputError) as caught:
        ImpersonationService.from_env(environ={"UH_IMPERSONATION_AUDIT_KEY": "not-hex-secret"})
    assert "not-hex-secret" not in str(caught.value)
    service = ImpersonationService.from_env(environ={"UH_IMPERSONATION_AUDIT_KEY": "ab" * 32})
    service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    assert service.audit.checkpoint() is not None
    assert service.audit.verify().checkpoints == 1


def test_a_sensitive_target_needs_a_second_person_approval() -> None:
    policy = ImpersonationPolicy(approval_required_for={"patient-42"})
    service, clock, log = make(policy=policy)
    with pytest.raises(ImpersonationDeniedError) as caught:
        service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    assert caught.value.reason == "approval_required"
    request = service.request_approval(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    with pytest.raises(ImpersonationDeniedError) as caught:
        service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON, approval_id=request.id)
    assert caught.value.reason == "approval_invalid"
    for approver in (AGENT, PATIENT, OTHER_PATIENT):
        with pytest.raises(ImpersonationDeniedError) as caught:
            service.approve(request.id, approver=approver)
        assert caught.value.reason == "approver_not_allowed"
    assert service.approve(request.id, approver=ADMIN).approved_by == "admin-1"
    with pytest.raises(ImpersonationDeniedError) as caught:
        service.start(AGENT, PATIENT, ticket_id="ZD-2", reason=REASON, approval_id=request.id)
    assert caught.value.reason == "approval_invalid"
    started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON, approval_id=request.id)
    service.end(started.id, actor=AGENT)
    with pytest.raises(ImpersonationDeniedError):
        service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON, approval_id=request.id)
    actions = [e.action for e in events(log)]
    assert AuditAction.APPROVAL_REQUEST in actions
    assert AuditAction.APPROVE in actions
    late = service.request_approval(AGENT, PATIENT, ticket_id="ZD-3", reason=REASON)
    clock.advance(15 * 60)
    with pytest.raises(ImpersonationDeniedError) as caught:
        service.approve(late.id, approver=ADMIN)
    assert caught.value.reason == "approval_invalid"


def test_approval_requests_are_checked_like_starts() -> None:
    service, _, _ = make(policy=ImpersonationPolicy(approval_required_for={"admin-1"}))
    with pytest.raises(ImpersonationDeniedError) as caught:
        service.request_approval(AGENT, ADMIN, ticket_id="ZD-1", reason=REASON)
    assert caught.value.reason == "rank_not_lower"
    with pytest.raises(InvalidInputError) as invalid:
        service.request_approval(AGENT, PATIENT, ticket_id="bad", reason=REASON)
    assert invalid.value.field == "ticket_id"
    with pytest.raises(InvalidInputError) as invalid:
        service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON, approval_id="apr_x")
    assert invalid.value.field == "approval_id"
    with pytest.raises(NotFoundError):
        service.approve("apr_" + "0" * 32, approver=ADMIN)


def test_a_principal_built_without_validation_is_checked_again() -> None:
    service, _, log = make()
    forged = Principal.model_construct(user_id="p-1\nFORGED", role="patient")
    with pytest.raises(InvalidInputError) as caught:
        service.start(AGENT, forged, ticket_id="ZD-1", reason=REASON)
    assert caught.value.field == "target.user_id"
    assert all("FORGED" not in record.body for record in log.records())


@pytest.mark.parametrize(
    "token", ["uhi_" + "A" * 43 + "\n", "uhi_" + "\u00c5" * 43, " uhi_" + "A" * 43]
)
def test_near_miss_tokens_are_malformed(token: str) -> None:
    service, _, _ = make()
    assert service.validate(token).reason == "malformed_token"


def test_a_directory_answering_for_someone_else_denies() -> None:
    service, _, _ = make(directory=lambda user_id: Principal(user_id="admin-9", role="admin"))
    started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
    assert service.validate(started.token).reason == "policy_changed"


def test_a_scope_with_a_trailing_newline_is_refused() -> None:
    service, _, _ = make()
    with pytest.raises(InvalidInputError) as caught:
        service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON, scopes=["read\n"])
    assert caught.value.field == "scopes"
