"""Webhook verification, replay window, typed events and once-only processing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
import redis

from unified_health.support import InvalidInputError, RedisTicketStore, WebhookReceiver
from unified_health.support.testing import FakeClock

BODY = json.dumps(
    {
        "id": "01HZ",
        "type": "zen:event-type:ticket.status_changed",
        "time": "2026-01-05T09:00:00Z",
        "detail": {"id": "35436", "status": "SOLVED"},
    }
).encode()


def zendesk_headers(secret: str, stamp: str, body: bytes = BODY) -> dict[str, str]:
    mac = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    return {
        "X-Zendesk-Webhook-Signature": base64.b64encode(mac).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }


def test_a_signed_zendesk_delivery_is_typed_and_processed_once() -> None:
    clock = FakeClock()
    receiver = WebhookReceiver(zendesk_secret="s3cret", clock=clock)
    headers = zendesk_headers("s3cret", clock.now().isoformat())
    event = receiver.receive_zendesk(BODY, headers)
    assert event is not None
    assert (event.type, event.ticket_id, event.id) == ("ticket.status_changed", "35436", "01HZ")
    assert receiver.receive_zendesk(BODY, headers) is None


@pytest.mark.parametrize(
    ("secret", "body", "field"),
    [("wrong", BODY, "signature"), ("s3cret", BODY + b" ", "signature")],
)
def test_a_forged_or_altered_zendesk_delivery_is_refused(
    secret: str, body: bytes, field: str
) -> None:
    clock = FakeClock()
    receiver = WebhookReceiver(zendesk_secret="s3cret", clock=clock)
    with pytest.raises(InvalidInputError) as info:
        receiver.receive_zendesk(body, zendesk_headers(secret, clock.now().isoformat()))
    assert info.value.field == field


def test_a_replayed_zendesk_delivery_outside_the_window_is_refused() -> None:
    clock = FakeClock()
    receiver = WebhookReceiver(zendesk_secret="s3cret", clock=clock)
    headers = zendesk_headers("s3cret", clock.now().isoformat())
    clock.advance(timedelta(minutes=6).total_seconds())
    with pytest.raises(InvalidInputError) as info:
        receiver.receive_zendesk(BODY, headers)
    assert info.value.field == "timestamp"


def test_intercom_signature_and_duplicates() -> None:
    receiver = WebhookReceiver(intercom_secret="client-secret")
    body = json.dumps(
        {
            "type": "notification_event",
            "id": "notif_1",
            "topic": "ticket.created",
            "created_at": 1767603600,
            "data": {"item": {"id": "77"}},
        }
    ).encode()
    signature = "sha1=" + hmac.new(b"client-secret", body, hashlib.sha1).hexdigest()
    event = receiver.receive_intercom(body, {"X-Hub-Signature": signature})
    assert event is not None
    assert (event.type, event.ticket_id) == ("ticket.created", "77")
    assert receiver.receive_intercom(body, {"X-Hub-Signature": signature}) is None
    with pytest.raises(InvalidInputError):
        receiver.receive_intercom(body, {"X-Hub-Signature": "sha1=00"})


def test_duplicates_are_caught_across_receivers_sharing_redis(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    clock = FakeClock()
    receivers = [
        WebhookReceiver(
            zendesk_secret="s3cret",
            store=RedisTicketStore(redis_client, prefix=redis_prefix),
            clock=clock,
        )
        for _ in range(2)
    ]
    headers = zendesk_headers("s3cret", clock.now().isoformat())
    results = [receiver.receive_zendesk(BODY, headers) for receiver in receivers]
    assert [r is not None for r in results] == [True, False]
