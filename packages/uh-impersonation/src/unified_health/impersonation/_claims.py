"""RFC 8693 token-exchange claims: the subject is the target, ``act`` names the actor.

Host apps mint their own tokens from these claims, so every downstream service sees both
identities. A chain of actors (an ``act`` inside ``act``) is refused: no nested impersonation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from unified_health.impersonation._errors import InvalidInputError
from unified_health.impersonation._models import ImpersonationSession
from unified_health.impersonation._policy import check_scopes

__all__ = ["ImpersonationClaims", "claims_from_session", "parse_claims"]


@dataclass(frozen=True, slots=True)
class ImpersonationClaims:
    """Who acts for whom, as read back from RFC 8693 claims.

    Attributes:
        subject: The impersonated user (``sub``).
        actor: The acting user (``act.sub``).
        session_id: The impersonation session (``sid``).
        scopes: The allowed actions (``scope``, space-separated).
        issued_at: ``iat``, seconds since the epoch.
        expires_at: ``exp``, seconds since the epoch.

    Examples:
        >>> ImpersonationClaims("p-1", "a-1", "imp_1", ("read",), 1, 2).actor
        'a-1'
    """

    subject: str
    actor: str
    session_id: str
    scopes: tuple[str, ...]
    issued_at: int
    expires_at: int


def claims_from_session(session: ImpersonationSession) -> dict[str, Any]:
    """Export a session as RFC 8693 claims (``sub`` = target, ``act`` = {``sub``: actor}).

    Args:
        session: The session.

    Returns:
        The claims, ready for your JWT library.

    Raises:
        InvalidInputError: ``session`` is not an `ImpersonationSession`.

    Examples:
        >>> from datetime import UTC, datetime, timedelta
        >>> start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        >>> session = ImpersonationSession(
        ...     id="imp_1", actor_id="agent-7", actor_role="support_agent",
        ...     actor_login_session_id="ls-1", target_id="patient-42", target_role="patient",
        ...     ticket_id="ZD-1", reason="Labs", scopes=("read",), started_at=start,
        ...     expires_at=start + timedelta(hours=1))
        >>> claims_from_session(session)["act"]
        {'sub': 'agent-7'}
    """
    if not isinstance(session, ImpersonationSession):
        raise InvalidInputError("session", "must be an ImpersonationSession")
    return {
        "sub": session.target_id,
        "act": {"sub": session.actor_id},
        "sid": session.id,
        "scope": " ".join(session.scopes),
        "iat": int(session.started_at.timestamp()),
        "exp": int(session.expires_at.timestamp()),
    }


def parse_claims(claims: Mapping[str, Any]) -> ImpersonationClaims:
    """Read RFC 8693 claims back; refuse a nested ``act`` (an actor acting for an actor).

    Args:
        claims: Decoded (and already signature-checked) token claims.

    Returns:
        The claims.

    Raises:
        InvalidInputError: A claim is missing or malformed (named as ``act.act``, ``sub``, ...).

    Examples:
        >>> parse_claims({"sub": "p-1", "act": {"sub": "a-1"}, "sid": "imp_1",
        ...               "scope": "read", "iat": 1, "exp": 2}).subject
        'p-1'
        >>> try:
        ...     parse_claims({"sub": "p-1", "act": {"sub": "a-1", "act": {"sub": "x"}},
        ...                   "sid": "imp_1", "scope": "read", "iat": 1, "exp": 2})
        ... except InvalidInputError as err:
        ...     print(err.field)
        act.act
    """
    if not isinstance(claims, Mapping):
        raise InvalidInputError("claims", "must be a mapping")
    act = claims.get("act")
    if not isinstance(act, Mapping):
        raise InvalidInputError("act", "must be an object naming the actor")
    if "act" in act:
        raise InvalidInputError("act.act", "nested actors are refused")
    values: dict[str, object] = {
        "sub": claims.get("sub"),
        "act.sub": act.get("sub"),
        "sid": claims.get("sid"),
    }
    for field, value in values.items():
        if not isinstance(value, str) or not value:
            raise InvalidInputError(field, "must be a non-empty str")
    if values["sub"] == values["act.sub"]:
        raise InvalidInputError("act.sub", "must differ from sub")
    for field in ("iat", "exp"):
        number = claims.get(field)
        if isinstance(number, bool) or not isinstance(number, int):
            raise InvalidInputError(field, "must be an int")
    scope = claims.get("scope")
    if not isinstance(scope, str):
        raise InvalidInputError("scope", "must be a space-separated str")
    return ImpersonationClaims(
        subject=str(values["sub"]),
        actor=str(values["act.sub"]),
        session_id=str(values["sid"]),
        scopes=check_scopes(scope.split()),
        issued_at=int(claims["iat"]),
        expires_at=int(claims["exp"]),
    )
