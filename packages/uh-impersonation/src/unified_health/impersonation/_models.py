"""The models of uh-impersonation: frozen, strict pydantic models.

Invalid input to any of them raises `InvalidInputError`.

`FrozenModel` is the base of every model a user constructs: frozen, ``extra="forbid"`` and strict
(``"yes"`` is not a bool and ``"25"`` is not an int). A broken rule raises `InvalidInputError`
naming the field and the rule; pydantic's own error, whose text echoes the value, never escapes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from unified_health.impersonation._errors import InvalidInputError

__all__ = [
    "ID_PATTERN",
    "ApprovalRequest",
    "AuditAction",
    "AuditEvent",
    "AuditRecord",
    "Checkpoint",
    "FrozenModel",
    "ImpersonationSession",
    "NewSession",
    "Principal",
    "SessionStatus",
    "StartedImpersonation",
    "Validation",
    "VerifyReport",
    "invalid_input",
]

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
"""User ids, role names and similar: letters, digits and ``_ . : -``, up to 128 characters."""
_LOGIN_SESSION_PATTERN = r"^[A-Za-z0-9_.:=+/-]{1,256}$"


def invalid_input(exc: ValidationError, *, prefix: str = "") -> InvalidInputError:
    """Turn pydantic's first error into an `InvalidInputError` that names field and rule only.

    Args:
        exc: The validation error.
        prefix: Dotted path to prepend to the field, for nested input.

    Returns:
        The error to raise (``raise invalid_input(exc) from None``: pydantic's message holds the
        value, so it is not kept as the cause).

    Examples:
        >>> try:
        ...     Principal(user_id="", role="patient")
        ... except InvalidInputError as err:
        ...     print(err.field, "|", err.rule)
        user_id | String should match pattern '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$'
    """
    error = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    path = ".".join(str(part) for part in (*((prefix,) if prefix else ()), *error["loc"]))
    rule = "unknown field" if error["type"] == "extra_forbidden" else str(error["msg"])
    return InvalidInputError(path or "$", rule)


class FrozenModel(BaseModel):
    """Base of the package's models: frozen, strict, unknown fields refused.

    Examples:
        >>> class Size(FrozenModel):
        ...     width: int
        >>> Size(width=3).width
        3
        >>> try:
        ...     Size(width="3")
        ... except InvalidInputError as err:
        ...     print(err)
        width: Input should be a valid integer
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise invalid_input(exc) from None

    # Tell pydantic this __init__ only wraps its own, so model_validate does not run it again.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        """Validate a mapping (for example decoded JSON) into the model.

        Args:
            data: The fields.

        Returns:
            The model.

        Raises:
            InvalidInputError: A field broke a rule, or ``data`` is not a mapping.

        Examples:
            >>> Principal.parse({"user_id": "u-1", "role": "patient"}).role
            'patient'
        """
        if not isinstance(data, Mapping):
            raise InvalidInputError("$", "must be a mapping")
        return cls(**data)


class Principal(FrozenModel):
    """A person as the host knows them now: their id, their role, their login session.

    Attributes:
        user_id: The host's id for the person (an id, never a name or e-mail).
        role: The name of a configured role.
        login_session_id: The id of the person's own login session; required of an actor, whose
            impersonation is bound to it (ending that login ends the impersonation).

    Examples:
        >>> Principal(user_id="agent-7", role="support_agent", login_session_id="ls-1").role
        'support_agent'
    """

    user_id: str = Field(pattern=ID_PATTERN)
    role: str = Field(pattern=ID_PATTERN)
    login_session_id: str | None = Field(default=None, pattern=_LOGIN_SESSION_PATTERN)


class SessionStatus(StrEnum):
    """The state of an impersonation session; only ``active`` ever changes, and only once.

    Examples:
        >>> SessionStatus.ACTIVE.value
        'active'
    """

    ACTIVE = "active"
    ENDED = "ended"
    EXPIRED = "expired"
    REVOKED = "revoked"


class ImpersonationSession(FrozenModel):
    """One impersonation session as stored (the token itself is never stored, only its hash).

    Examples:
        >>> from datetime import UTC, datetime, timedelta
        >>> start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        >>> session = ImpersonationSession(
        ...     id="imp_1", actor_id="agent-7", actor_role="support_agent",
        ...     actor_login_session_id="ls-1", target_id="patient-42", target_role="patient",
        ...     ticket_id="ZD-48213", reason="Cannot see lab results", scopes=("read",),
        ...     started_at=start, expires_at=start + timedelta(hours=1))
        >>> (session.status, session.is_read_only)
        (<SessionStatus.ACTIVE: 'active'>, True)
    """

    id: str = Field(pattern=ID_PATTERN)
    actor_id: str = Field(pattern=ID_PATTERN)
    actor_role: str = Field(pattern=ID_PATTERN)
    actor_login_session_id: str = Field(pattern=_LOGIN_SESSION_PATTERN)
    target_id: str = Field(pattern=ID_PATTERN)
    target_role: str = Field(pattern=ID_PATTERN)
    ticket_id: str
    reason: str
    scopes: tuple[str, ...]
    started_at: datetime
    expires_at: datetime
    status: SessionStatus = SessionStatus.ACTIVE
    ended_at: datetime | None = None
    ended_by: str | None = None
    end_reason: str | None = None
    source_ip: str | None = None

    @property
    def is_read_only(self) -> bool:
        """Whether the session may only read (the default scope)."""
        return self.scopes == ("read",)


@dataclass(frozen=True, slots=True)
class StartedImpersonation:
    """What `ImpersonationService.start` returns: the session and its token (shown only once).

    Attributes:
        session: The stored session.
        token: The opaque bearer token (256 random bits); keep it like a password.

    Examples:
        >>> StartedImpersonation.__slots__
        ('session', 'token')
    """

    session: ImpersonationSession
    token: str

    @property
    def id(self) -> str:
        """The session id (not a secret)."""
        return self.session.id

    def __repr__(self) -> str:
        return f"StartedImpersonation(id={self.session.id!r}, token=<hidden>)"


@dataclass(frozen=True, slots=True)
class Validation:
    """The answer of `ImpersonationService.validate`: valid or not, why, and who acts for whom.

    Attributes:
        valid: Whether the token belongs to a running session the policy still allows.
        reason: Why not, when not valid.
        session: The session, when the token matched one.

    Examples:
        >>> Validation(valid=False, reason=None, session=None).actor_id is None
        True
    """

    valid: bool
    reason: str | None
    session: ImpersonationSession | None

    @property
    def actor_id(self) -> str | None:
        """Who is acting, when known."""
        return None if self.session is None else self.session.actor_id

    @property
    def target_id(self) -> str | None:
        """For whom, when known."""
        return None if self.session is None else self.session.target_id

    def __bool__(self) -> bool:
        return self.valid


class AuditAction(StrEnum):
    """What an audit event records.

    Examples:
        >>> [action.value for action in AuditAction][:3]
        ['start', 'deny', 'validation_failure']
    """

    START = "start"
    DENY = "deny"
    VALIDATION_FAILURE = "validation_failure"
    SCOPE_VIOLATION = "scope_violation"
    END = "end"
    EXPIRE = "expire"
    REVOKE = "revoke"
    APPROVAL_REQUEST = "approval_request"
    APPROVE = "approve"


class AuditEvent(FrozenModel):
    """One audit event: who, for whom, ticket, reason, when, from where, outcome.

    Examples:
        >>> from datetime import UTC, datetime
        >>> event = AuditEvent(action=AuditAction.DENY, outcome="denied",
        ...                    at=datetime(2026, 1, 5, tzinfo=UTC), actor_id="agent-7",
        ...                    denial="rank_not_lower")
        >>> event.to_json()
        '{"action":"deny","actor_id":"agent-7","at":"2026-01-05T00:00:00.000000Z","denial":"rank_not_lower","outcome":"denied"}'
    """

    action: AuditAction
    outcome: str = Field(pattern=r"^(success|denied|failure)$")
    at: datetime
    actor_id: str | None = None
    target_id: str | None = None
    session_id: str | None = None
    ticket_id: str | None = None
    reason: str | None = None
    denial: str | None = None
    detail: str | None = None
    source_ip: str | None = None
    actor_login_session_id: str | None = None
    by: str | None = None

    def to_json(self) -> str:
        """The canonical JSON (sorted keys, no spaces, ASCII, unset fields left out) that is hashed.

        Returns:
            The JSON text.
        """
        fields: dict[str, Any] = {"action": self.action.value, "outcome": self.outcome}
        fields["at"] = self.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        for name in (
            "actor_id",
            "target_id",
            "session_id",
            "ticket_id",
            "reason",
            "denial",
            "detail",
            "source_ip",
            "actor_login_session_id",
            "by",
        ):
            value = getattr(self, name)
            if value is not None:
                fields[name] = value
        return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> AuditEvent:
        """Parse the canonical JSON back into an event.

        Raises:
            InvalidInputError: The text is not an audit event.

        Examples:
            >>> AuditEvent.from_json('{"action":"end","at":"2026-01-05T00:00:00.000000Z",'
            ...                      '"outcome":"success"}').action
            <AuditAction.END: 'end'>
        """
        try:
            fields = json.loads(text)
        except ValueError:
            raise InvalidInputError("event", "must be JSON") from None
        if not isinstance(fields, dict):
            raise InvalidInputError("event", "must be a JSON object")
        try:
            fields["action"] = AuditAction(str(fields.get("action")))
            fields["at"] = datetime.strptime(str(fields.get("at")), "%Y-%m-%dT%H:%M:%S.%f%z")
        except ValueError:
            raise InvalidInputError("event.action", "must be a known action and time") from None
        return cls(**fields)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One link of the hash chain as stored.

    Attributes:
        seq: Position in the log, from 1, without gaps.
        prev_hash: The previous record's hash (64 zeros for the first).
        hash: SHA-256 over ``seq``, ``prev_hash`` and ``body``.
        body: The event's canonical JSON.

    Examples:
        >>> AuditRecord(seq=1, prev_hash="0" * 64, hash="ab", body="{}").seq
        1
    """

    seq: int
    prev_hash: str
    hash: str
    body: str

    @property
    def event(self) -> AuditEvent:
        """The event, parsed from ``body``."""
        return AuditEvent.from_json(self.body)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of verifying an audit log.

    Attributes:
        ok: Whether every record and checkpoint checked out.
        checked: How many records were read.
        problem: ``None`` when ok, else ``tampered``, ``reordered``, ``inserted``, ``deleted``
            or ``bad_checkpoint``.
        seq: The sequence number of the first bad record (or checkpoint).
        checkpoints: How many signed checkpoints were verified.

    Examples:
        >>> VerifyReport(ok=True, checked=0, problem=None, seq=None, checkpoints=0).ok
        True
    """

    ok: bool
    checked: int
    problem: str | None
    seq: int | None
    checkpoints: int

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True, slots=True)
class NewSession:
    """What a store needs to create a session; it adds the times from its own clock.

    Attributes:
        id: The session id.
        actor_id: Who acts.
        actor_role: The actor's role at the start.
        actor_login_session_id: The actor's login session, which the impersonation is bound to.
        target_id: For whom.
        target_role: The target's role at the start.
        ticket_id: The support ticket.
        reason: The cleaned reason.
        scopes: The allowed actions.
        duration_us: The lifetime in microseconds.
        source_ip: Where the request came from, when known.

    Examples:
        >>> NewSession("imp_1", "a", "admin", "ls", "p", "patient", "ZD-1", "why", ("read",),
        ...            60_000_000, None).duration_us
        60000000
    """

    id: str
    actor_id: str
    actor_role: str
    actor_login_session_id: str
    target_id: str
    target_role: str
    ticket_id: str
    reason: str
    scopes: tuple[str, ...]
    duration_us: int
    source_ip: str | None

    def to_json(self) -> str:
        """The immutable part of the session as JSON (times and status are the store's)."""
        return json.dumps(
            {
                "id": self.id,
                "actor_id": self.actor_id,
                "actor_role": self.actor_role,
                "actor_login_session_id": self.actor_login_session_id,
                "target_id": self.target_id,
                "target_role": self.target_role,
                "ticket_id": self.ticket_id,
                "reason": self.reason,
                "scopes": list(self.scopes),
                "source_ip": self.source_ip,
            },
            separators=(",", ":"),
        )


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement that the log held ``seq`` records ending in ``hash``.

    Attributes:
        seq: The last record covered.
        hash: That record's hash.
        at: When it was signed (ISO 8601, UTC).
        key_id: Which signing key was used.
        signature: HMAC-SHA256 over ``seq``, ``hash``, ``at`` and ``key_id``, hex.

    Examples:
        >>> Checkpoint(seq=3, hash="ab", at="2026-01-05T09:00:00Z", key_id="k1", signature="00").seq
        3
    """

    seq: int
    hash: str
    at: str
    key_id: str
    signature: str


class ApprovalRequest(FrozenModel):
    """A request that a second person approve an impersonation of a sensitive target.

    Examples:
        >>> from datetime import UTC, datetime, timedelta
        >>> at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        >>> request = ApprovalRequest(id="apr_1", actor_id="agent-7", target_id="vip-1",
        ...                           ticket_id="ZD-1", requested_at=at,
        ...                           expires_at=at + timedelta(minutes=15))
        >>> (request.approved_by, request.consumed)
        (None, False)
    """

    id: str = Field(pattern=ID_PATTERN)
    actor_id: str = Field(pattern=ID_PATTERN)
    target_id: str = Field(pattern=ID_PATTERN)
    ticket_id: str
    requested_at: datetime
    expires_at: datetime
    approved_by: str | None = None
    consumed: bool = False
