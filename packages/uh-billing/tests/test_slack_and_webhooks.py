from __future__ import annotations

import json
from datetime import UTC, date, datetime

import httpx
import pytest

from unified_health.billing import (
    InvalidInputError,
    LedgerRecord,
    MatchOutcome,
    Period,
    SlackAlerter,
    StripeRecord,
    build_report,
    slack_payload,
    verify_stripe_signature,
)
from unified_health.billing._errors import ProviderError, RateLimitedError
from unified_health.billing._matching import Finding
from unified_health.billing.testing import FakeClock, FakeSlackWebhook, sign_payload

PERIOD = Period.of("daily", date(2026, 11, 24), "UTC")
T = int(PERIOD.start.timestamp()) + 3600


def report_with(n: int, *, ledger_ref: str = "pay-1") -> object:
    outcome = MatchOutcome()
    for i in range(n):
        s = StripeRecord(f"ch_{i:06d}", "payment", 1000 + i, "usd", T, "succeeded", True)
        led = LedgerRecord(
            ledger_ref if i == 0 else f"pay-{i}", "payment", 1, "usd", T, "succeeded", s.id
        )
        outcome.add(Finding("amount_mismatch", "critical", "exact_id", (s,), (led,)))
    return build_report(outcome, PERIOD, generated_at=PERIOD.end, window=3600, livemode=True)


def test_two_alerts_are_a_second_apart_and_slack_accepts_both() -> None:
    clock = FakeClock()
    with FakeSlackWebhook(clock=clock) as slack:
        alerter = SlackAlerter(slack.url, clock=clock, sleep=clock.sleep)
        assert alerter.send(report_with(2))  # type: ignore[arg-type]
        assert alerter.send(report_with(3))  # type: ignore[arg-type]
        assert len(slack.messages) == 2
        assert slack.statuses == [200, 200]
    assert clock.sleeps == [1.0]


def test_retry_after_is_honoured_and_a_refusal_is_not_retried() -> None:
    clock = FakeClock()
    with FakeSlackWebhook(clock=clock) as slack:
        slack.fail_next(429, retry_after=3)
        alerter = SlackAlerter(slack.url, clock=clock, sleep=clock.sleep)
        assert alerter.send(report_with(1))  # type: ignore[arg-type]
        assert 3.0 in clock.sleeps
        slack.fail_next(400)
        with pytest.raises(ProviderError) as err:
            alerter.send(report_with(1))  # type: ignore[arg-type]
        assert (err.value.status_code, err.value.attempts) == (400, 1)
        slack.fail_next(429, times=10, retry_after=1)
        with pytest.raises(RateLimitedError):
            SlackAlerter(slack.url, clock=clock, sleep=clock.sleep, max_retries=2).send(
                report_with(1)  # type: ignore[arg-type]
            )


def test_a_huge_report_stays_within_slacks_limits() -> None:
    clock = FakeClock()
    big = report_with(5000)
    payload = slack_payload(big, max_ids=500)  # type: ignore[arg-type]
    assert len(payload["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in payload["blocks"])
    with FakeSlackWebhook(clock=clock) as slack:
        SlackAlerter(slack.url, clock=clock, sleep=clock.sleep, max_ids=500).send(big)  # type: ignore[arg-type]
        assert slack.statuses == [200]


def test_no_patient_data_in_the_payload() -> None:
    payload = json.dumps(slack_payload(report_with(2, ledger_ref="Jane Doe <jane@clinic.org>")))  # type: ignore[arg-type]
    assert "Jane" not in payload
    assert "clinic.org" not in payload
    assert "[redacted]" in payload
    assert "ch_000001" in payload


def test_quiet_when_nothing_to_say_and_bad_urls_refused() -> None:
    clock = FakeClock()
    empty = build_report(MatchOutcome(), PERIOD, generated_at=PERIOD.end, window=0, livemode=True)
    transport = httpx.MockTransport(lambda request: pytest.fail("must not be called"))
    alerter = SlackAlerter(
        "https://hooks.slack.com/services/T/B/X",
        http_client=httpx.Client(transport=transport),
        clock=clock,
        sleep=clock.sleep,
    )
    assert alerter.send(empty) is False
    with pytest.raises(InvalidInputError) as err:
        SlackAlerter("hooks.slack.com/x")
    assert err.value.field == "webhook_url"


def test_unreachable_slack_is_a_provider_error_without_the_url() -> None:
    clock = FakeClock()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    secret_url = "https://hooks.slack.com/services/T/B/secret-token"
    alerter = SlackAlerter(
        secret_url,
        http_client=httpx.Client(transport=httpx.MockTransport(refuse)),
        clock=clock,
        sleep=clock.sleep,
        max_retries=1,
    )
    with pytest.raises(ProviderError) as err:
        alerter.send(report_with(1))  # type: ignore[arg-type]
    assert "secret-token" not in str(err.value)
    assert err.value.attempts == 2


BODY = b'{"id": "evt_1", "type": "payout.paid"}'
SECRET = "whsec_test_secret"


def test_a_good_signature_passes() -> None:
    clock = FakeClock(datetime.fromtimestamp(1764000000 + 10, UTC))
    header = sign_payload(BODY, SECRET, 1764000000)
    assert verify_stripe_signature(BODY, header, SECRET, clock=clock)["id"] == "evt_1"
    rotated = f"{header},v1={'0' * 64}"
    assert verify_stripe_signature(BODY, rotated, SECRET, clock=clock)["type"] == "payout.paid"


@pytest.mark.parametrize(
    ("body", "header", "rule_part"),
    [
        (BODY.replace(b"paid", b"failed"), sign_payload(BODY, SECRET, 1764000000), "no v1"),
        (BODY, sign_payload(BODY, "whsec_other", 1764000000), "no v1"),
        (BODY, sign_payload(BODY, SECRET, 1764000000 - 1000), "tolerance"),
        (BODY, "t=1764000000", "must carry"),
        (BODY, "", "missing"),
    ],
)
def test_bad_signatures_are_rejected(body: bytes, header: str, rule_part: str) -> None:
    clock = FakeClock(datetime.fromtimestamp(1764000000 + 10, UTC))
    with pytest.raises(InvalidInputError) as err:
        verify_stripe_signature(body, header, SECRET, clock=clock)
    assert rule_part in err.value.rule
