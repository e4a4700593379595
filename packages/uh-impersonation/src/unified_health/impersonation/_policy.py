"""The pure policy core: roles, the authorization rules, ticket ids, reasons and durations.

Nothing here does I/O or reads the time; the service and both of its twins share it.

The rules, in the order they are checked (the first that fails is the denial reason):

1. the actor and the target are different people (``self_impersonation``);
2. the actor's role holds the ``impersonate`` permission (``missing_permission``);
3. the target's role is impersonable at all (``target_not_impersonable``: super admins by default);
4. the target's rank is strictly lower than the actor's (``rank_not_lower``);
5. the target's role, when it names a permission, is impersonated only by holders of it
   (``target_role_protected``: admins need ``impersonate_admins``, held by super admins);
6. the target is not on the protected list (``protected_target``);
7. the consent check, when configured, says yes (``no_consent``);
8. the ticket check, when configured, says the ticket exists and is open (``ticket_rejected``;
   ``ticket_check_failed`` when the check itself failed: fail closed).

"Never while already impersonating" is enforced atomically by the store (``already_impersonating``,
``nested_impersonation``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field

from unified_health.impersonation._errors import InvalidInputError
from unified_health.impersonation._models import ID_PATTERN, FrozenModel, Principal

__all__ = [
    "APPROVE_IMPERSONATIONS",
    "DEFAULT_ROLES",
    "IMPERSONATE",
    "IMPERSONATE_ADMINS",
    "MAX_DURATION",
    "READ_SCOPE",
    "REVOKE_IMPERSONATIONS",
    "DenialReason",
    "ImpersonationPolicy",
    "Role",
    "check_scopes",
    "sanitize_reason",
]

IMPERSONATE = "impersonate"
IMPERSONATE_ADMINS = "impersonate_admins"
REVOKE_IMPERSONATIONS = "revoke_impersonations"
APPROVE_IMPERSONATIONS = "approve_impersonations"
READ_SCOPE = "read"
MAX_DURATION = timedelta(hours=1)
"""The hard cap on a session's lifetime; a policy may lower it, never raise it."""

_SCOPE = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
_DEFAULT_TICKET = r"^[A-Z][A-Z0-9]{1,9}-[0-9]{1,12}$"
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_WHITESPACE = re.compile(r"\s")
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff")


class DenialReason(StrEnum):
    """Why an impersonation was refused or a validation failed: stable codes, never free text.

    Examples:
        >>> DenialReason.RANK_NOT_LOWER.value
        'rank_not_lower'
    """

    SELF_IMPERSONATION = "self_impersonation"
    MISSING_PERMISSION = "missing_permission"
    TARGET_NOT_IMPERSONABLE = "target_not_impersonable"
    RANK_NOT_LOWER = "rank_not_lower"
    TARGET_ROLE_PROTECTED = "target_role_protected"
    PROTECTED_TARGET = "protected_target"
    NO_CONSENT = "no_consent"
    TICKET_REJECTED = "ticket_rejected"
    TICKET_CHECK_FAILED = "ticket_check_failed"
    ALREADY_IMPERSONATING = "already_impersonating"
    NESTED_IMPERSONATION = "nested_impersonation"
    NOTIFICATION_FAILED = "notification_failed"
    INVALID_INPUT = "invalid_input"
    UNKNOWN_USER = "unknown_user"
    MALFORMED_TOKEN = "malformed_token"  # noqa: S105 - a reason code
    UNKNOWN_TOKEN = "unknown_token"  # noqa: S105 - a reason code
    EXPIRED = "expired"
    ENDED = "ended"
    REVOKED = "revoked"
    LOGIN_SESSION_MISMATCH = "login_session_mismatch"
    POLICY_CHANGED = "policy_changed"
    STORE_UNAVAILABLE = "store_unavailable"
    SCOPE_NOT_GRANTED = "scope_not_granted"
    IMPERSONATION_ACTIVE = "impersonation_active"
    NOT_ACTOR = "not_actor"
    APPROVAL_REQUIRED = "approval_required"
    APPROVAL_INVALID = "approval_invalid"
    APPROVER_NOT_ALLOWED = "approver_not_allowed"


class Role(FrozenModel):
    """A role: its rank, its permissions, and who may impersonate people holding it.

    Attributes:
        name: The role's name, e.g. ``"support_agent"``.
        rank: Higher outranks lower; an actor impersonates only strictly lower ranks.
        permissions: What holders may do, e.g. ``{"impersonate"}``.
        impersonable: Whether people holding this role may be impersonated at all.
        impersonable_with: A permission the actor must also hold to impersonate this role.

    Examples:
        >>> Role(name="auditor", rank=15).impersonable
        True
    """

    name: str = Field(pattern=ID_PATTERN)
    rank: int = Field(ge=0, le=1_000_000)
    permissions: frozenset[str] = frozenset()
    impersonable: bool = True
    impersonable_with: str | None = None


DEFAULT_ROLES: tuple[Role, ...] = (
    Role(name="patient", rank=0),
    Role(name="provider", rank=10),
    Role(name="support_agent", rank=20, permissions=frozenset({IMPERSONATE})),
    Role(
        name="admin",
        rank=30,
        permissions=frozenset({IMPERSONATE, REVOKE_IMPERSONATIONS, APPROVE_IMPERSONATIONS}),
        impersonable_with=IMPERSONATE_ADMINS,
    ),
    Role(
        name="super_admin",
        rank=40,
        permissions=frozenset(
            {IMPERSONATE, IMPERSONATE_ADMINS, REVOKE_IMPERSONATIONS, APPROVE_IMPERSONATIONS}
        ),
        impersonable=False,
    ),
)
"""patient < provider < support_agent < admin < super_admin."""

TicketChecker = Callable[[str], bool]
ConsentChecker = Callable[[str, datetime], bool]


def _strip_hostile(text: str) -> str:
    text = _WHITESPACE.sub(" ", _ANSI.sub("", text))
    return "".join(
        char
        for char in text
        if char not in _BIDI
        and char not in _INVISIBLE
        and unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )


def sanitize_reason(reason: object, *, max_length: int = 500, min_length: int = 3) -> str:
    r"""Return the reason made safe for logs and the audit trail, or refuse it.

    NFC-normalised; ANSI escape sequences, control, format (bidi overrides, zero-width) and
    unassigned characters removed; runs of whitespace collapsed to one space.

    Args:
        reason: What the actor typed.
        max_length: Most characters allowed after cleaning.
        min_length: Fewest characters required after cleaning.

    Returns:
        The cleaned reason.

    Raises:
        InvalidInputError: ``reason`` is not a str, or too short or too long once cleaned.

    Examples:
        >>> sanitize_reason("Cannot see\x1b[31m lab\u202e results\n")
        'Cannot see lab results'
    """
    if not isinstance(reason, str):
        raise InvalidInputError("reason", "must be a str")
    if len(reason) > max_length * 4:
        raise InvalidInputError("reason", f"must be at most {max_length} characters")
    cleaned = " ".join(_strip_hostile(unicodedata.normalize("NFC", reason)).split())
    cleaned = unicodedata.normalize("NFC", cleaned)
    if len(cleaned) < min_length:
        raise InvalidInputError("reason", f"must hold at least {min_length} printable characters")
    if len(cleaned) > max_length:
        raise InvalidInputError("reason", f"must be at most {max_length} characters")
    return cleaned


def check_scopes(scopes: object) -> tuple[str, ...]:
    """Validate an allow-list of actions; ``None`` means read-only.

    Args:
        scopes: ``None`` or an iterable of action names (``"read"``, ``"messages:send"``).

    Returns:
        The sorted, de-duplicated scopes.

    Raises:
        InvalidInputError: Not an iterable of action names.

    Examples:
        >>> check_scopes(None)
        ('read',)
        >>> check_scopes(["read", "messages:send", "read"])
        ('messages:send', 'read')
    """
    if scopes is None:
        return (READ_SCOPE,)
    if isinstance(scopes, str | bytes) or not isinstance(scopes, Iterable):
        raise InvalidInputError("scopes", "must be a list of action names")
    found = list(scopes)
    if not 0 < len(found) <= 32:
        raise InvalidInputError("scopes", "must hold 1 to 32 action names")
    for item in found:
        if not isinstance(item, str) or not _SCOPE.fullmatch(item):
            raise InvalidInputError("scopes", "each must match ^[a-z][a-z0-9_.:-]{0,63}$")
    return tuple(sorted(set(found)))


class ImpersonationPolicy:
    """The rules that decide who may act as whom, for how long, on which ticket.

    Args:
        roles: The roles; `DEFAULT_ROLES` unless given.
        max_duration: The longest a session may last; at most one hour (`MAX_DURATION`).
        ticket_pattern: A regular expression a ticket id must match in full.
        ticket_checker: Called with the ticket id; answers whether it exists and is open.
        consent_checker: Called with the target's id and the time; answers whether the target
            has consented (for example, a consent window is open).
        protected_user_ids: Users nobody may impersonate (VIPs, staff, ...).
        approval_required_for: Sensitive users whose impersonation needs a second person's
            approval first (see `ImpersonationService.request_approval`).
        approval_window: How long an approval request stays usable (at most one hour).
        max_reason_length: Most characters a reason may hold once cleaned.

    Raises:
        InvalidInputError: An argument broke its rule (named by field).

    Examples:
        >>> policy = ImpersonationPolicy(max_duration=timedelta(minutes=15))
        >>> policy.max_duration
        datetime.timedelta(seconds=900)
        >>> policy.decide(Principal(user_id="a-1", role="support_agent"),
        ...               Principal(user_id="p-1", role="patient"), "ZD-1") is None
        True
    """

    def __init__(
        self,
        *,
        roles: Iterable[Role] = DEFAULT_ROLES,
        max_duration: timedelta = MAX_DURATION,
        ticket_pattern: str = _DEFAULT_TICKET,
        ticket_checker: TicketChecker | None = None,
        consent_checker: ConsentChecker | None = None,
        protected_user_ids: Iterable[str] = (),
        approval_required_for: Iterable[str] = (),
        approval_window: timedelta = timedelta(minutes=15),
        max_reason_length: int = 500,
    ) -> None:
        given_roles: object = roles
        if isinstance(given_roles, str | bytes | Mapping) or not isinstance(given_roles, Iterable):
            raise InvalidInputError("roles", "must be an iterable of Role")
        role_list = list(given_roles)
        if not role_list or not all(isinstance(role, Role) for role in role_list):
            raise InvalidInputError("roles", "must be a non-empty iterable of Role")
        by_name = {role.name: role for role in role_list}
        if len(by_name) != len(role_list):
            raise InvalidInputError("roles", "role names must be unique")
        duration: object = max_duration
        if not isinstance(duration, timedelta):
            raise InvalidInputError("max_duration", "must be a timedelta")
        if not timedelta(seconds=1) <= duration <= MAX_DURATION:
            raise InvalidInputError("max_duration", "must be between 1 second and 1 hour")
        pattern: object = ticket_pattern
        if not isinstance(pattern, str):
            raise InvalidInputError("ticket_pattern", "must be a regular expression str")
        try:
            compiled = re.compile(pattern)
        except re.error:
            raise InvalidInputError(
                "ticket_pattern", "must be a valid regular expression"
            ) from None
        for name, hook in (
            ("ticket_checker", ticket_checker),
            ("consent_checker", consent_checker),
        ):
            if hook is not None and not callable(hook):
                raise InvalidInputError(name, "must be callable or None")
        protected_set = _user_ids(protected_user_ids, "protected_user_ids")
        sensitive_set = _user_ids(approval_required_for, "approval_required_for")
        window: object = approval_window
        if not isinstance(window, timedelta) or not timedelta(0) < window <= MAX_DURATION:
            raise InvalidInputError("approval_window", "must be a timedelta up to 1 hour")
        length: object = max_reason_length
        if isinstance(length, bool) or not isinstance(length, int) or not 10 <= length <= 5000:
            raise InvalidInputError("max_reason_length", "must be an int from 10 to 5000")
        self.roles: Mapping[str, Role] = dict(by_name)
        self.max_duration: timedelta = duration
        self.ticket_pattern = compiled
        self.ticket_checker = ticket_checker
        self.consent_checker = consent_checker
        self.protected_user_ids = protected_set
        self.approval_required_for = sensitive_set
        self.approval_window: timedelta = window
        self.max_reason_length = length

    def role(self, name: str, field: str) -> Role:
        """Return the role called ``name``.

        Args:
            name: The role's name.
            field: The input field to name when the role is unknown.

        Returns:
            The role.

        Raises:
            InvalidInputError: No role has that name.

        Examples:
            >>> ImpersonationPolicy().role("admin", "actor.role").rank
            30
        """
        found = self.roles.get(name)
        if found is None:
            raise InvalidInputError(field, "must be a configured role")
        return found

    def check_ticket_id(self, ticket_id: object) -> str:
        """Return the ticket id if it matches the configured format, else refuse it.

        Args:
            ticket_id: The support ticket id.

        Returns:
            The ticket id.

        Raises:
            InvalidInputError: Not a str, or not the configured format.

        Examples:
            >>> ImpersonationPolicy().check_ticket_id("ZD-48213")
            'ZD-48213'
        """
        if not isinstance(ticket_id, str):
            raise InvalidInputError("ticket_id", "must be a str")
        if len(ticket_id) > 64 or not self.ticket_pattern.fullmatch(ticket_id):
            raise InvalidInputError("ticket_id", "must match the configured ticket format")
        return ticket_id

    def check_duration(self, duration: object) -> timedelta:
        """Return the session length to use: the policy's cap unless a shorter one is asked.

        Args:
            duration: ``None`` or a `timedelta` of at least one second.

        Returns:
            The duration.

        Raises:
            InvalidInputError: Not a timedelta, below one second, or above the cap.

        Examples:
            >>> ImpersonationPolicy().check_duration(timedelta(minutes=5))
            datetime.timedelta(seconds=300)
        """
        if duration is None:
            return self.max_duration
        if not isinstance(duration, timedelta):
            raise InvalidInputError("duration", "must be a timedelta")
        if duration < timedelta(seconds=1):
            raise InvalidInputError("duration", "must be at least 1 second")
        if duration > self.max_duration:
            raise InvalidInputError("duration", "must not exceed the policy's maximum duration")
        return duration

    def sanitize_reason(self, reason: object) -> str:
        """Clean the reason with the policy's length limit (see `sanitize_reason`).

        Examples:
            >>> ImpersonationPolicy().sanitize_reason("  Cannot   see labs ")
            'Cannot see labs'
        """
        return sanitize_reason(reason, max_length=self.max_reason_length)

    def decide(
        self,
        actor: Principal,
        target: Principal,
        ticket_id: str | None,
        *,
        at: datetime | None = None,
    ) -> DenialReason | None:
        """Apply the rules; ``None`` means allowed, else the first rule that failed.

        Args:
            actor: Who wants to act.
            target: For whom.
            ticket_id: The (format-checked) ticket, given to the ticket checker; ``None`` skips
                the ticket and consent checks (used when a running session is re-checked).
            at: The time passed to the consent checker.

        Returns:
            ``None`` when allowed, else the `DenialReason`.

        Raises:
            InvalidInputError: A role is not configured (field ``actor.role`` or
                ``target.role``).

        Examples:
            >>> policy = ImpersonationPolicy()
            >>> policy.decide(Principal(user_id="u-1", role="admin"),
            ...               Principal(user_id="u-2", role="admin"), "ZD-1")
            <DenialReason.RANK_NOT_LOWER: 'rank_not_lower'>
        """
        actor_role = self.role(actor.role, "actor.role")
        target_role = self.role(target.role, "target.role")
        if actor.user_id == target.user_id:
            return DenialReason.SELF_IMPERSONATION
        if IMPERSONATE not in actor_role.permissions:
            return DenialReason.MISSING_PERMISSION
        if not target_role.impersonable:
            return DenialReason.TARGET_NOT_IMPERSONABLE
        if target_role.rank >= actor_role.rank:
            return DenialReason.RANK_NOT_LOWER
        needed = target_role.impersonable_with
        if needed is not None and needed not in actor_role.permissions:
            return DenialReason.TARGET_ROLE_PROTECTED
        if target.user_id in self.protected_user_ids:
            return DenialReason.PROTECTED_TARGET
        if ticket_id is None:
            return None
        consent = self.consent_checker
        if consent is not None and at is not None and not _ask(consent, target.user_id, at):
            return DenialReason.NO_CONSENT
        if self.ticket_checker is not None:
            answer = _ask(self.ticket_checker, ticket_id)
            if answer is None:
                return DenialReason.TICKET_CHECK_FAILED
            if not answer:
                return DenialReason.TICKET_REJECTED
        return None


def _user_ids(value: object, field: str) -> frozenset[str]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidInputError(field, "must be an iterable of user ids")
    found = frozenset(value)
    if not all(isinstance(user, str) for user in found):
        raise InvalidInputError(field, "must hold str user ids")
    return found


def _ask(hook: Callable[..., Any], *args: object) -> bool | None:
    """Call a host hook; anything but ``True`` is a no, a failure is ``None`` (fail closed)."""
    try:
        answer = hook(*args)
    except Exception:  # noqa: BLE001 - a failing host hook denies, it never crashes the caller
        return None
    return answer is True
