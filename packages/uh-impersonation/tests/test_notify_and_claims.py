"""The signed webhook notifier against a real receiver on 127.0.0.1, and RFC 8693 claims."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from unified_health.impersonation import (
    ImpersonationNotice,
    ImpersonationService,
    InvalidInputError,
    Principal,
    ProviderError,
    RateLimitedError,
    WebhookNotifier,
    claims_from_session,
    parse_claims,
    sign_webhook,
)
from unified_health.impersonation.testing import FakeClock, FakeWebhookReceiver, capture_logs

SECRET = b"s" * 32
AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
AGENT = Principal(user_id="agent-7", role="support_agent", login_session_id="ls-7")
PATIENT = Principal(user_id="patient-42", role="patient")

Serve = Callable[[FakeWebhookReceiver], object]


def notice(n: int = 1) -> ImpersonationNotice:
    return ImpersonationNotice(f"n-{n}", "imp_1", "patient-42", "agent-7", "ZD-1", AT, AT)


@pytest.fixture
def receiver(loopback_server: Callable[..., object]) -> tuple[FakeWebhookReceiver, str]:
    app = FakeWebhookReceiver(SECRET)
    server = loopback_server(app)
    return app, f"{server.url}/hooks/impersonation"  # type: ignore[attr-defined]


def make_notifier(url: str, clock: FakeClock, **kwargs: object) -> WebhookNotifier:
    return WebhookNotifier(url, secret=SECRET, sleep=clock.sleep, clock=clock, seed=1, **kwargs)  # type: ignore[arg-type]


def test_a_signed_notice_is_delivered(receiver: tuple[FakeWebhookReceiver, str]) -> None:
    app, url = receiver
    clock = FakeClock()
    notifier = make_notifier(url, clock)
    notifier.notify(notice())
    (received,) = app.received
    assert received["session_id"] == "imp_1"
    assert received["type"] == "impersonation.started"
    assert notifier.outbox_size == 0
    assert clock.sleeps == []
    notifier.close()


def test_5xx_and_429_are_retried_with_backoff_and_retry_after(
    receiver: tuple[FakeWebhookReceiver, str],
) -> None:
    app, url = receiver
    app.fail_next(503)
    app.fail_next(429, retry_after=2)
    clock = FakeClock()
    notifier = make_notifier(url, clock)
    notifier.notify(notice())
    assert app.attempts == 3
    assert len(app.received) == 1
    assert len(clock.sleeps) == 2
    assert clock.sleeps[1] >= 2


def test_after_the_retries_the_notice_stays_in_the_outbox(
    receiver: tuple[FakeWebhookReceiver, str],
) -> None:
    app, url = receiver
    app.fail_next(500, times=3)
    clock = FakeClock()
    notifier = make_notifier(url, clock, max_retries=2)
    with capture_logs() as logged, pytest.raises(ProviderError) as caught:
        notifier.notify(notice())
    assert (caught.value.status_code, caught.value.attempts) == (500, 3)
    assert notifier.outbox_size == 1
    assert logged[-1]["event"] == "notice_failed"
    assert notifier.flush() == 1
    assert notifier.outbox_size == 0
    assert len(app.received) == 1


def test_a_4xx_is_not_retried_and_429_is_rate_limited(
    receiver: tuple[FakeWebhookReceiver, str],
) -> None:
    app, url = receiver
    app.fail_next(422)
    clock = FakeClock()
    notifier = make_notifier(url, clock)
    with pytest.raises(ProviderError) as caught:
        notifier.notify(notice())
    assert (caught.value.status_code, app.attempts) == (422, 1)
    app.fail_next(429, times=5, retry_after=1)
    with pytest.raises(RateLimitedError) as limited:
        make_notifier(url, clock, max_retries=1).notify(notice(2))
    assert limited.value.retry_after == 1


def test_a_wrong_secret_is_refused_by_the_receiver(
    receiver: tuple[FakeWebhookReceiver, str],
) -> None:
    _, url = receiver
    notifier = WebhookNotifier(url, secret=b"x" * 32, sleep=FakeClock().sleep)
    with pytest.raises(ProviderError) as caught:
        notifier.notify(notice())
    assert caught.value.status_code == 401


def test_a_timeout_is_retried_then_fails(receiver: tuple[FakeWebhookReceiver, str]) -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    clock = FakeClock()
    client = httpx.Client(transport=httpx.MockTransport(timeout))
    notifier = make_notifier("https://hooks.example.org/x", clock, client=client, max_retries=2)
    with pytest.raises(ProviderError) as caught:
        notifier.notify(notice())
    assert (caught.value.status_code, caught.value.attempts) == (None, 3)
    notifier.close()
    assert not client.is_closed


def test_the_signature_covers_timestamp_and_body() -> None:
    first = sign_webhook(SECRET, 100, b"{}")
    assert first != sign_webhook(SECRET, 101, b"{}")
    assert first != sign_webhook(SECRET, 100, b'{"a":1}')


def test_a_required_webhook_gates_the_session(receiver: tuple[FakeWebhookReceiver, str]) -> None:
    app, url = receiver
    clock = FakeClock()
    service = ImpersonationService(
        notifier=make_notifier(url, clock, max_retries=1), notification="required"
    )
    app.fail_next(503, times=2)
    with pytest.raises(ProviderError):
        service.start(AGENT, PATIENT, ticket_id="ZD-1", reason="Cannot see labs")
    assert service.list_active() == []
    started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason="Cannot see labs")
    assert app.received[-1]["session_id"] == started.id
    assert "Cannot see labs" not in json.dumps(app.received)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "ftp://x"}, "url"),
        ({"secret": b"short"}, "secret"),
        ({"secret": "s" * 32}, "secret"),
        ({"max_retries": True}, "max_retries"),
        ({"timeout": 0}, "timeout"),
        ({"client": "httpx"}, "client"),
        ({"sleep": 1}, "sleep"),
    ],
)
def test_bad_notifier_settings_are_named(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"url": "https://hooks.example.org", "secret": SECRET}
    arguments.update(kwargs)
    with pytest.raises(InvalidInputError) as caught:
        WebhookNotifier(**arguments)  # type: ignore[arg-type]
    assert caught.value.field == field


# ------------------------------------------------------------------ RFC 8693 claims


def test_claims_round_trip() -> None:
    service = ImpersonationService()
    started = service.start(
        AGENT, PATIENT, ticket_id="ZD-1", reason="Cannot see labs", scopes=["read", "messages:send"]
    )
    claims = claims_from_session(started.session)
    assert (claims["sub"], claims["act"], claims["sid"]) == (
        "patient-42",
        {"sub": "agent-7"},
        started.id,
    )
    assert claims["exp"] - claims["iat"] == 3600
    parsed = parse_claims(claims)
    assert (parsed.subject, parsed.actor, parsed.scopes) == (
        "patient-42",
        "agent-7",
        ("messages:send", "read"),
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"act": {"sub": "agent-7", "act": {"sub": "admin-1"}}}, "act.act"),
        ({"act": "agent-7"}, "act"),
        ({"act": {"sub": ""}}, "act.sub"),
        ({"act": {"sub": "patient-42"}}, "act.sub"),
        ({"sub": None}, "sub"),
        ({"exp": "2"}, "exp"),
        ({"iat": True}, "iat"),
        ({"scope": ["read"]}, "scope"),
        ({"scope": "READ"}, "scopes"),
    ],
)
def test_bad_or_nested_claims_are_refused(change: dict[str, object], field: str) -> None:
    claims: dict[str, object] = {
        "sub": "patient-42",
        "act": {"sub": "agent-7"},
        "sid": "imp_1",
        "scope": "read",
        "iat": 1,
        "exp": 2,
    }
    claims.update(change)
    with pytest.raises(InvalidInputError) as caught:
        parse_claims(claims)
    assert caught.value.field == field


def test_claims_need_a_session_and_a_mapping() -> None:
    with pytest.raises(InvalidInputError):
        claims_from_session({"id": "imp_1"})  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        parse_claims([("sub", "x")])  # type: ignore[arg-type]
