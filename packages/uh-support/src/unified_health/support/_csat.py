"""CSAT: signed, expiring survey tokens once per solve cycle, ratings and scores.

A survey token names the ticket and the solve cycle it was offered in (the number of times the
ticket has been solved), expires, and is signed with HMAC-SHA256 under the host's secret. A
rating is recorded against that cycle, so a ticket reopened and solved again gets a new survey
and its earlier rating stays with the earlier cycle.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from unified_health.support._calendar import to_epoch
from unified_health.support._errors import InvalidInputError

__all__ = ["CsatScore", "SurveyToken", "sign_survey", "verify_survey"]


@dataclass(frozen=True, slots=True)
class SurveyToken:
    """What a verified survey token says.

    Examples:
        >>> SurveyToken("t-1", 2, 1767700000).cycle
        2
    """

    ticket_id: str
    cycle: int
    expires_ts: int


@dataclass(frozen=True, slots=True)
class CsatScore:
    """CSAT of one group: rated count, satisfied count and the score (satisfied / rated).

    Examples:
        >>> CsatScore("agent-7", 4, 3).score
        0.75
    """

    key: str
    rated: int
    good: int

    @property
    def score(self) -> float:
        """Satisfied ratings over all ratings (0.0 when none)."""
        return self.good / self.rated if self.rated else 0.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_survey(secret: bytes, ticket_id: str, cycle: int, expires: datetime) -> str:
    """Return a signed survey token.

    Examples:
        >>> from datetime import UTC
        >>> token = sign_survey(b"k", "t-1", 1, datetime(2026, 2, 1, tzinfo=UTC))
        >>> verify_survey(b"k", token, datetime(2026, 1, 20, tzinfo=UTC)).ticket_id
        't-1'
    """
    body = json.dumps(
        {"t": ticket_id, "c": cycle, "e": to_epoch(expires, "expires")}, separators=(",", ":")
    ).encode()
    mac = hmac.new(secret, body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def verify_survey(secret: bytes, token: str, now: datetime) -> SurveyToken:
    """Check a token's signature and expiry.

    Raises:
        InvalidInputError: A malformed, forged or expired token (field ``token``).

    Examples:
        >>> from datetime import UTC
        >>> token = sign_survey(b"k", "t-1", 1, datetime(2026, 2, 1, tzinfo=UTC))
        >>> try:
        ...     verify_survey(b"other", token, datetime(2026, 1, 20, tzinfo=UTC))
        ... except InvalidInputError as err:
        ...     print(err)
        token: is not a valid survey token
    """
    given: object = token
    if not isinstance(given, str) or given.count(".") != 1:
        raise InvalidInputError("token", "is not a valid survey token")
    head, tail = given.split(".")
    try:
        body, mac = _unb64(head), _unb64(tail)
    except ValueError:
        raise InvalidInputError("token", "is not a valid survey token") from None
    if not hmac.compare_digest(hmac.new(secret, body, hashlib.sha256).digest(), mac):
        raise InvalidInputError("token", "is not a valid survey token")
    data = json.loads(body)
    if to_epoch(now, "now") > int(data["e"]):
        raise InvalidInputError("token", "has expired")
    return SurveyToken(str(data["t"]), int(data["c"]), int(data["e"]))
