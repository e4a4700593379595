"""The pure policy core: the role-by-role matrix, hooks, tickets, reasons, durations, scopes."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unified_health.impersonation import (
    DEFAULT_ROLES,
    DenialReason,
    ImpersonationPolicy,
    InvalidInputError,
    Principal,
    Role,
    sanitize_reason,
)
from unified_health.impersonation._policy import check_scopes

ROLES = ["patient", "provider", "support_agent", "admin", "super_admin"]
D = DenialReason

# Rows: the actor's role; columns: the target's role (different people).
MATRIX: dict[str, list[DenialReason | None]] = {
    "patient": [D.MISSING_PERMISSION] * 5,
    "provider": [D.MISSING_PERMISSION] * 5,
    "support_agent": [None, None, D.RANK_NOT_LOWER, D.RANK_NOT_LOWER, D.TARGET_NOT_IMPERSONABLE],
    "admin": [None, None, None, D.RANK_NOT_LOWER, D.TARGET_NOT_IMPERSONABLE],
    "super_admin": [None, None, None, None, D.TARGET_NOT_IMPERSONABLE],
}
CASES = [
    (actor, target, MATRIX[actor][column]) for actor in ROLES for column, target in enumerate(ROLES)
]
AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def who(user_id: str, role: str) -> Principal:
    return Principal(user_id=user_id, role=role, login_session_id=f"ls-{user_id}")


@pytest.mark.parametrize(("actor_role", "target_role", "expected"), CASES)
def test_the_authorization_matrix(
    actor_role: str, target_role: str, expected: DenialReason | None
) -> None:
    policy = ImpersonationPolicy()
    decision = policy.decide(who("actor", actor_role), who("target", target_role), "ZD-1", at=AT)
    assert decision == expected


@pytest.mark.parametrize("role", ROLES)
def test_nobody_impersonates_themself(role: str) -> None:
    person = who("same", role)
    assert ImpersonationPolicy().decide(person, person, "ZD-1") == D.SELF_IMPERSONATION


def test_admins_only_by_holders_of_impersonate_admins() -> None:
    roles = [
        *DEFAULT_ROLES[:3],
        DEFAULT_ROLES[3],
        Role(name="ops_lead", rank=35, permissions=frozenset({"impersonate"})),
        DEFAULT_ROLES[4],
    ]
    policy = ImpersonationPolicy(roles=roles)
    decision = policy.decide(who("lead", "ops_lead"), who("adm", "admin"), "ZD-1")
    assert decision == D.TARGET_ROLE_PROTECTED
    assert policy.decide(who("root", "super_admin"), who("adm", "admin"), "ZD-1") is None


def test_super_admins_become_impersonable_only_when_configured() -> None:
    roles = [
        *DEFAULT_ROLES[:4],
        Role(name="super_admin", rank=40, permissions=frozenset({"impersonate"})),
        Role(name="owner", rank=50, permissions=frozenset({"impersonate"})),
    ]
    policy = ImpersonationPolicy(roles=roles)
    assert policy.decide(who("o", "owner"), who("s", "super_admin"), "ZD-1") is None


def test_unknown_roles_are_invalid_input_naming_the_side() -> None:
    policy = ImpersonationPolicy()
    with pytest.raises(InvalidInputError) as caught:
        policy.decide(who("a", "wizard"), who("p", "patient"), "ZD-1")
    assert caught.value.field == "actor.role"
    with pytest.raises(InvalidInputError) as caught:
        policy.decide(who("a", "admin"), who("p", "ghost"), "ZD-1")
    assert caught.value.field == "target.role"


def test_protected_users_are_never_impersonated() -> None:
    policy = ImpersonationPolicy(protected_user_ids={"vip-1"})
    agent = who("a", "super_admin")
    assert policy.decide(agent, who("vip-1", "patient"), "ZD-1") == D.PROTECTED_TARGET
    assert policy.decide(agent, who("p-2", "patient"), "ZD-1") is None


def test_the_consent_window_is_asked_with_the_target_and_the_time() -> None:
    asked: list[tuple[str, datetime]] = []
    window = (AT - timedelta(hours=1), AT + timedelta(hours=1))

    def consent(user_id: str, at: datetime) -> bool:
        asked.append((user_id, at))
        return window[0] <= at <= window[1]

    policy = ImpersonationPolicy(consent_checker=consent)
    agent, patient = who("a", "support_agent"), who("p", "patient")
    assert policy.decide(agent, patient, "ZD-1", at=AT) is None
    assert policy.decide(agent, patient, "ZD-1", at=AT + timedelta(hours=2)) == D.NO_CONSENT
    assert asked[0] == ("p", AT)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [(True, None), (False, D.TICKET_REJECTED), ("yes", D.TICKET_REJECTED), (1, D.TICKET_REJECTED)],
)
def test_the_ticket_checker_must_answer_exactly_true(
    answer: object, expected: DenialReason | None
) -> None:
    policy = ImpersonationPolicy(ticket_checker=lambda ticket: answer)  # type: ignore[arg-type,return-value]
    assert policy.decide(who("a", "admin"), who("p", "patient"), "ZD-9") == expected


def test_a_failing_ticket_checker_denies() -> None:
    def broken(ticket: str) -> bool:
        raise TimeoutError("ticketing system down")

    policy = ImpersonationPolicy(ticket_checker=broken)
    decision = policy.decide(who("a", "admin"), who("p", "patient"), "ZD-9")
    assert decision == D.TICKET_CHECK_FAILED


@pytest.mark.parametrize("ticket", ["ZD-48213", "JIRA-1", "INC0-77"])
def test_ticket_ids_in_the_default_format_pass(ticket: str) -> None:
    assert ImpersonationPolicy().check_ticket_id(ticket) == ticket


@pytest.mark.parametrize(
    "ticket", ["", "zd-1", "ZD-", "ZD-1\n", "ZD-1; DROP", "ZD-1\x1b[31m", 48213, None, "Z" * 80]
)
def test_bad_ticket_ids_are_refused_by_name(ticket: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        ImpersonationPolicy().check_ticket_id(ticket)
    assert caught.value.field == "ticket_id"
    assert str(ticket) not in str(caught.value) or ticket in ("", None)


def test_a_custom_ticket_format() -> None:
    policy = ImpersonationPolicy(ticket_pattern=r"#[0-9]{4,8}")
    assert policy.check_ticket_id("#12345") == "#12345"
    with pytest.raises(InvalidInputError):
        policy.check_ticket_id("ZD-1")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Cannot see lab results", "Cannot see lab results"),
        ("  spaced\t\tout \n", "spaced out"),
        ("red \x1b[31malert\x1b[0m", "red alert"),
        ("title \x1b]0;owned\x07done", "title done"),
        ("abc\u202edcba", "abcdcba"),
        ("zero\u200bwidth", "zerowidth"),
        ("cafe\u0301", "caf\u00e9"),
        ("line\r\nbreak", "line break"),
        ("null\x00byte", "nullbyte"),
    ],
)
def test_reasons_are_cleaned(raw: str, clean: str) -> None:
    assert sanitize_reason(raw) == clean


@pytest.mark.parametrize("raw", ["", "  ", "\x1b[31m\x1b[0m", "\u202e\u202e", "ab", 7, None, b"x"])
def test_empty_or_hostile_only_reasons_are_refused(raw: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        sanitize_reason(raw)
    assert caught.value.field == "reason"


def test_long_reasons_are_refused() -> None:
    with pytest.raises(InvalidInputError):
        sanitize_reason("x" * 501)
    assert len(sanitize_reason("x" * 500)) == 500


@given(st.text(max_size=600))
def test_a_cleaned_reason_never_carries_control_ansi_or_bidi(raw: str) -> None:
    try:
        clean = sanitize_reason(raw)
    except InvalidInputError:
        return
    assert 3 <= len(clean) <= 500
    assert unicodedata.is_normalized("NFC", clean)
    assert "\x1b" not in clean
    assert all(unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn") for char in clean)
    assert clean == clean.strip()
    assert "  " not in clean


def test_durations_are_capped_at_the_policy_maximum() -> None:
    policy = ImpersonationPolicy()
    assert policy.check_duration(None) == timedelta(hours=1)
    assert policy.check_duration(timedelta(minutes=10)) == timedelta(minutes=10)
    for bad in (timedelta(hours=1, seconds=1), timedelta(0), timedelta(seconds=-5), 600, "1h"):
        with pytest.raises(InvalidInputError) as caught:
            policy.check_duration(bad)
        assert caught.value.field == "duration"
    shorter = ImpersonationPolicy(max_duration=timedelta(minutes=15))
    with pytest.raises(InvalidInputError):
        shorter.check_duration(timedelta(minutes=16))


@pytest.mark.parametrize("cap", [timedelta(hours=1, seconds=1), timedelta(hours=2), 3600, None])
def test_the_cap_can_be_lowered_never_raised(cap: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        ImpersonationPolicy(max_duration=cap)  # type: ignore[arg-type]
    assert caught.value.field == "max_duration"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"roles": "admin"}, "roles"),
        ({"roles": []}, "roles"),
        ({"roles": [DEFAULT_ROLES[0], DEFAULT_ROLES[0]]}, "roles"),
        ({"ticket_pattern": "("}, "ticket_pattern"),
        ({"ticket_pattern": 5}, "ticket_pattern"),
        ({"ticket_checker": "yes"}, "ticket_checker"),
        ({"consent_checker": 1}, "consent_checker"),
        ({"protected_user_ids": "vip-1"}, "protected_user_ids"),
        ({"protected_user_ids": [1]}, "protected_user_ids"),
        ({"max_reason_length": True}, "max_reason_length"),
    ],
)
def test_bad_policy_settings_are_named(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        ImpersonationPolicy(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_scopes_default_to_read_only_and_refuse_junk() -> None:
    assert check_scopes(None) == ("read",)
    assert check_scopes(("read", "messages:send")) == ("messages:send", "read")
    for bad in ("read", [], ["READ"], ["read", 1], [" read"], ["a" * 65]):
        with pytest.raises(InvalidInputError) as caught:
            check_scopes(bad)
        assert caught.value.field == "scopes"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"user_id": "", "role": "patient"}, "user_id"),
        ({"user_id": "jane doe@example.org", "role": "patient"}, "user_id"),
        ({"user_id": 42, "role": "patient"}, "user_id"),
        ({"user_id": "u-1", "role": "patient", "login_session_id": "a b"}, "login_session_id"),
        ({"user_id": "u-1", "role": "patient", "admin": True}, "admin"),
    ],
)
def test_principals_refuse_bad_fields_by_name(fields: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Principal(**fields)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert "jane" not in str(caught.value)
