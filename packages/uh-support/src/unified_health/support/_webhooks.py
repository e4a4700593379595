"""Webhooks: verify Zendesk and Intercom signatures, type the events, process each delivery once.

- Zendesk signs ``timestamp + body`` with HMAC-SHA256 and the webhook's signing secret, sent
  base64 in ``X-Zendesk-Webhook-Signature`` with ``X-Zendesk-Webhook-Signature-Timestamp``; a
  timestamp outside the replay window is refused.
- Intercom signs the body with HMAC-SHA1 and the app's client secret, sent as
  ``X-Hub-Signature: sha1=<hex>``.
- A delivery seen before (same source and event id) is claimed through a `TicketStore`, so it is
  processed once even across processes sharing Redis or PostgreSQL; `receive_*` then returns
  ``None``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from unified_health.support._clock import Clock, SystemClock
from unified_health.support._errors import InvalidInputError
from unified_health.support._logging import logger
from unified_health.support.stores._memory import InMemoryTicketStore
from unified_health.support.stores._protocol import TicketStore

__all__ = ["WebhookEvent", "WebhookReceiver"]


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A verified webhook delivery.

    Examples:
        >>> WebhookEvent("zendesk", "e-1", "ticket.status_changed", "42", None, {}).ticket_id
        '42'
    """

    source: str
    id: str
    type: str
    ticket_id: str | None
    occurred_at: datetime | None
    data: Mapping[str, Any] = field(repr=False)


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(key).lower(): str(value) for key, value in headers.items()}


def _body(body: object) -> bytes:
    if isinstance(body, str):
        return body.encode()
    if not isinstance(body, bytes | bytearray):
        raise InvalidInputError("body", "must be the raw request body (bytes)")
    return bytes(body)


def _time(value: object) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            return None
    return None


class WebhookReceiver:
    """Verify, type and deduplicate webhook deliveries.

    Args:
        zendesk_secret: The Zendesk webhook's signing secret.
        intercom_secret: The Intercom app's client secret.
        store: Where deliveries are claimed once (a new in-memory store by default).
        replay_window: How far a Zendesk timestamp may be from now (5 minutes by default).
        clock: The time source.

    Examples:
        >>> import hmac, hashlib, base64
        >>> from unified_health.support.testing import FakeClock
        >>> clock = FakeClock()
        >>> receiver = WebhookReceiver(zendesk_secret="s3cret", clock=clock)
        >>> body = b'{"id": "e-1", "type": "zen:event-type:ticket.created", "detail": {"id": "7"}}'
        >>> stamp = clock.now().isoformat()
        >>> mac = hmac.new(b"s3cret", stamp.encode() + body, hashlib.sha256).digest()
        >>> headers = {"X-Zendesk-Webhook-Signature": base64.b64encode(mac).decode(),
        ...            "X-Zendesk-Webhook-Signature-Timestamp": stamp}
        >>> receiver.receive_zendesk(body, headers).type
        'ticket.created'
        >>> receiver.receive_zendesk(body, headers) is None  # a duplicate delivery
        True
    """

    def __init__(
        self,
        *,
        zendesk_secret: str | None = None,
        intercom_secret: str | None = None,
        store: TicketStore | None = None,
        replay_window: timedelta = timedelta(minutes=5),
        clock: Clock | None = None,
    ) -> None:
        for name, secret in (
            ("zendesk_secret", zendesk_secret),
            ("intercom_secret", intercom_secret),
        ):
            given: object = secret
            if given is not None and (not isinstance(given, str) or not given):
                raise InvalidInputError(name, "must be a non-empty str")
        window: object = replay_window
        if not isinstance(window, timedelta) or window <= timedelta(0):
            raise InvalidInputError("replay_window", "must be a positive timedelta")
        self._zendesk = zendesk_secret
        self._intercom = intercom_secret
        self._store: TicketStore = store if store is not None else InMemoryTicketStore()
        self._window = replay_window
        self._clock: Clock = clock if clock is not None else SystemClock()

    def _once(self, source: str, event_id: str) -> bool:
        return self._store.claim_once(f"webhook:{source}", event_id[:200] or "-")

    def receive_zendesk(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent | None:
        """Verify a Zendesk delivery; return its event, or ``None`` for a duplicate.

        Raises:
            InvalidInputError: No secret configured, a missing or wrong signature, a timestamp
                outside the replay window, or a body that is not a JSON object.
        """
        if self._zendesk is None:
            raise InvalidInputError("zendesk_secret", "is needed to verify Zendesk webhooks")
        raw = _body(body)
        found = _headers(headers)
        signature = found.get("x-zendesk-webhook-signature", "")
        stamp = found.get("x-zendesk-webhook-signature-timestamp", "")
        if not signature or not stamp:
            raise InvalidInputError("signature", "the Zendesk signature headers are missing")
        expected = base64.b64encode(
            hmac.new(self._zendesk.encode(), stamp.encode() + raw, hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(expected, signature):
            logger.warning("webhook_rejected", source="zendesk", reason="signature")
            raise InvalidInputError("signature", "does not match the body and timestamp")
        sent = _time(stamp)
        if sent is None or abs(self._clock.now() - sent) > self._window:
            logger.warning("webhook_rejected", source="zendesk", reason="timestamp")
            raise InvalidInputError("timestamp", "is outside the replay window")
        data = self._json(raw)
        event_type = str(data.get("type", "unknown")).removeprefix("zen:event-type:")
        detail = data.get("detail") if isinstance(data.get("detail"), dict) else {}
        event_id = str(data.get("id") or hashlib.sha256(raw).hexdigest())
        if not self._once("zendesk", event_id):
            logger.info("webhook_duplicate", source="zendesk", event_id=event_id)
            return None
        ticket = detail.get("id") if isinstance(detail, dict) else None
        return WebhookEvent(
            "zendesk",
            event_id,
            event_type,
            None if ticket is None else str(ticket),
            _time(data.get("time")),
            data,
        )

    def receive_intercom(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent | None:
        """Verify an Intercom delivery (``X-Hub-Signature``); return its event or ``None``.

        Raises:
            InvalidInputError: No secret configured, a missing or wrong signature, or a body that
                is not a JSON object.
        """
        if self._intercom is None:
            raise InvalidInputError("intercom_secret", "is needed to verify Intercom webhooks")
        raw = _body(body)
        signature = _headers(headers).get("x-hub-signature", "")
        expected = "sha1=" + hmac.new(self._intercom.encode(), raw, hashlib.sha1).hexdigest()
        if not signature or not hmac.compare_digest(expected, signature):
            logger.warning("webhook_rejected", source="intercom", reason="signature")
            raise InvalidInputError("signature", "does not match the body")
        data = self._json(raw)
        event_id = str(data.get("id") or hashlib.sha256(raw).hexdigest())
        if not self._once("intercom", event_id):
            logger.info("webhook_duplicate", source="intercom", event_id=event_id)
            return None
        item = (data.get("data") or {}).get("item") if isinstance(data.get("data"), dict) else None
        ticket = item.get("id") if isinstance(item, dict) else None
        return WebhookEvent(
            "intercom",
            event_id,
            str(data.get("topic", "unknown")),
            None if ticket is None else str(ticket),
            _time(data.get("created_at")),
            data,
        )

    @staticmethod
    def _json(raw: bytes) -> dict[str, Any]:
        try:
            data = json.loads(raw)
        except ValueError:
            raise InvalidInputError("body", "must be JSON") from None
        if not isinstance(data, dict):
            raise InvalidInputError("body", "must be a JSON object")
        return data
