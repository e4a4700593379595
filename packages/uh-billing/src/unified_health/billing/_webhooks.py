"""Stripe webhook signatures (the ``v1`` scheme): check them before trusting an event.

An event only *triggers* a run; the run itself reads Stripe's API, never the event's body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from unified_health.billing._clock import Clock, SystemClock
from unified_health.billing._errors import InvalidInputError

__all__ = ["sign_payload", "verify_stripe_signature"]

_FIELD = "stripe-signature"


def sign_payload(payload: bytes, secret: str, timestamp: int) -> str:
    """Build a ``Stripe-Signature`` header value for ``payload`` (tests and fakes use it).

    Examples:
        >>> sign_payload(b"{}", "whsec_test", 1764000000)[:13]
        't=1764000000,'
    """
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_stripe_signature(
    payload: bytes,
    header: str,
    secret: str,
    *,
    tolerance: int = 300,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Verify a Stripe webhook and return the decoded event.

    Args:
        payload: The raw request body, exactly as received.
        header: The ``Stripe-Signature`` header.
        secret: The endpoint's signing secret (``whsec_...``).
        tolerance: Seconds a signature stays valid (replay protection); 300 like Stripe.
        clock: The clock.

    Returns:
        The event as a dict.

    Raises:
        InvalidInputError: A missing, malformed, wrong or expired signature, or a body that is
            not a JSON object (field ``stripe-signature`` or ``payload``).

    Examples:
        >>> from unified_health.billing.testing import FakeClock
        >>> from datetime import UTC, datetime
        >>> clock = FakeClock(datetime.fromtimestamp(1764000100, UTC))
        >>> body = b'{"id": "evt_1", "type": "payout.paid"}'
        >>> verify_stripe_signature(body, sign_payload(body, "whsec_x", 1764000000), "whsec_x",
        ...                         clock=clock)["type"]
        'payout.paid'
    """
    given: tuple[object, object, object] = (payload, header, secret)
    if not isinstance(given[0], bytes):
        raise InvalidInputError("payload", "must be the raw body as bytes")
    if not isinstance(given[1], str) or not given[1]:
        raise InvalidInputError(_FIELD, "header is missing")
    if not isinstance(given[2], str) or not given[2]:
        raise InvalidInputError("secret", "must be the endpoint's signing secret")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise InvalidInputError(_FIELD, "must carry t= and at least one v1= signature")
    expected = sign_payload(payload, secret, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise InvalidInputError(_FIELD, "no v1 signature matches the payload")
    now = int((clock or SystemClock()).now().timestamp())
    if abs(now - timestamp) > tolerance:
        raise InvalidInputError(_FIELD, "timestamp is outside the tolerance (possible replay)")
    try:
        event = json.loads(payload)
    except ValueError:
        raise InvalidInputError("payload", "must be JSON") from None
    if not isinstance(event, dict):
        raise InvalidInputError("payload", "must be a JSON object")
    return event
