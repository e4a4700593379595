"""PHI redaction: each detector on its own, and nothing of it reaching the fake Zendesk."""

from __future__ import annotations

import json

import pytest

from unified_health.support import (
    InvalidInputError,
    PatternRedactor,
    SupportClient,
    ZendeskProvider,
)
from unified_health.support.testing import FakeClock, FakeZendesk, capture_logs


@pytest.mark.parametrize(
    ("detector", "text", "kept"),
    [
        ("email", "write to jane.doe+care@clinic.example.org today", "write to"),
        ("ssn", "SSN 123-45-6789 on file", "on file"),
        ("phone", "call (555) 123-4567 please", "please"),
        ("phone", "call +1 555.123.4567 please", "please"),
        ("date", "born 1980-02-03 and seen 3/14/2024", "born"),
        ("mrn", "MRN: A1234567 admitted", "admitted"),
    ],
)
def test_each_detector_fires_alone(detector: str, text: str, kept: str) -> None:
    result = PatternRedactor().redact(text)
    assert result.detectors == (detector,)
    assert f"[REDACTED:{detector}]" in result.text
    assert kept in result.text


def test_clean_text_passes_unchanged() -> None:
    text = "The portal shows error 5021 after login, version 2.4"
    assert PatternRedactor().redact(text).text == text


def test_custom_detectors_and_bad_patterns() -> None:
    redactor = PatternRedactor({"member_id": r"\bM\d{6}\b"})
    assert redactor.redact("member M123456").text == "member [REDACTED:member_id]"
    with pytest.raises(InvalidInputError) as info:
        PatternRedactor({"bad": "("})
    assert info.value.field == "detectors.bad"


def test_nothing_detected_reaches_zendesk_and_logs_name_detectors_only() -> None:
    clock = FakeClock()
    with FakeZendesk(email="a@clinic.test", api_token="t") as zendesk:
        provider = ZendeskProvider(
            subdomain="c",
            email="a@clinic.test",
            api_token="t",
            base_url=zendesk.url,
            sleep=clock.sleep,
        )
        support = SupportClient(provider, clock=clock)
        with capture_logs() as events:
            ticket = support.create_ticket(
                "Jane (jane@example.org) locked out",
                "DOB 1980-02-03, phone 555-123-4567",
                "jane@example.org",
                custom_fields={"360002": "MRN: A1234567"},
            )
            support.add_comment(ticket.id, "Called back 555-987-6543")
        sent = json.dumps([zendesk.tickets, zendesk.comments])
        for secret in ("jane@example.org", "1980-02-03", "555-123-4567", "A1234567", "987-6543"):
            assert secret not in sent.replace('"requester_id"', "")
        assert provider.redactions == {"date": 1, "email": 1, "mrn": 1, "phone": 2}
        logged = [e for e in events if e["event"] == "ticket_redacted"]
        assert [e["detectors"] for e in logged] == ["date,email,mrn,phone", "phone"]
        assert "jane" not in repr(events)
