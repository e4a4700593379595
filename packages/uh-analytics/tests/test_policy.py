"""The default policy: prose replaced unless declared, names and keys as vocabulary, keyed
values, and the values that pass whole."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from unified_health.analytics import (
    AnalyticsClient,
    FreeText,
    InvalidInputError,
    Sanitizer,
)
from unified_health.analytics.testing import FakeClock, RecordingProvider

Make = Callable[..., AnalyticsClient]
SANITIZER = Sanitizer(clock=FakeClock())


def scrub(props: dict[str, object], sanitizer: Sanitizer = SANITIZER) -> dict[str, object]:
    return (
        SANITIZER.scrub(props).properties
        if sanitizer is SANITIZER
        else sanitizer.scrub(props).properties
    )


def sent(rec: RecordingProvider, client: AnalyticsClient) -> list[dict[str, object]]:
    assert client.flush(5)
    return [e["properties"] for e in rec.events]


# -- prose -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "prose",
    [
        "Patient Firstname Lastname did not come back today",
        "she said the pain started after the fall",
        "word word word word word",
        "line one\nline two\nline three here",
    ],
)
def test_undeclared_prose_is_replaced_whole(prose: str) -> None:
    result = SANITIZER.scrub({"note": prose})
    assert result.properties == {"note": "[REDACTED:free_text]"}
    assert dict(result.redactions) == {"free_text": 1}


@pytest.mark.parametrize(
    "label", ["cardiology", "internal medicine", "Premium Family Plan", "See all 12 results",
              "v4.12.0", "E_TIMEOUT", "Texas", "United Kingdom"],
)  # fmt: skip
def test_short_labels_pass(label: str) -> None:
    assert scrub({"label": label}) == {"label": label}


def test_a_user_agent_is_not_prose() -> None:
    ua = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36"
    )
    assert scrub({"user_agent": ua}) == {"user_agent": ua}


def test_free_text_keys_declare_a_field_per_sanitizer() -> None:
    sanitizer = Sanitizer(free_text_keys=["comment"], clock=FakeClock())
    result = sanitizer.scrub(
        {"comment": "call me on 802 232 8775 after lunch please", "other": "a b c d e f"}
    )
    assert result.properties == {
        "comment": "call me on [REDACTED:phone] after lunch please",
        "other": "[REDACTED:free_text]",
    }


class Feedback(BaseModel):
    comment: Annotated[str, FreeText()]
    rating: Literal[1, 2, 3, 4, 5]


def test_a_schema_free_text_field_is_scrubbed_not_replaced(make_client: Make) -> None:
    rec = RecordingProvider()
    client = make_client([rec], schemas={"feedback_sent": Feedback})
    text = "the nurse was kind, reach me at ana.lima@example.org about it"
    assert client.track("feedback_sent", {"comment": text, "rating": 5}, user_id="u-1")
    assert client.track("other_event", {"comment": text}, user_id="u-1")
    first, second = sent(rec, client)
    assert first == {
        "comment": "the nurse was kind, reach me at [REDACTED:email] about it",
        "rating": 5,
    }
    assert second == {"comment": "[REDACTED:free_text]"}


# -- keyed values ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("email", "anything at all", "[REDACTED:email]"),
        ("patientFirstName", "Ana", "[REDACTED:name]"),
        ("dob", "1950-03-14", "[REDACTED:date_of_birth]"),
        ("visit_date", "2026-03-04", "[REDACTED:personal_date]"),
        ("zip", "02139", "[REDACTED:zip_code]"),
        ("patient_id", "A-1", "[REDACTED:mrn]"),
        ("age", 93, "[REDACTED:age_over_89]"),
        ("birth_year", "1930", "[REDACTED:age_over_89]"),
    ],
)
def test_a_key_that_names_personal_data_replaces_its_value(
    key: str, value: object, expected: str
) -> None:
    assert scrub({key: value}) == {key: expected}


@pytest.mark.parametrize(
    ("key", "value"),
    [("zip3", "021"), ("birth_year", "1971"), ("birth_year", 1990), ("age", 42),
     ("created_at", "2026-03-04"), ("ts", "1764979200"), ("order_id", "ORD-2026-00412"),
     ("app_version", "22.3.1 (41102)"), ("plan_name", "Gold"), ("screen_name", "Billing"),
     ("received_at", "Wed, 25 Nov 2026 14:03:11 GMT"), ("price", 12.5), ("duration_ms", 1834)],
)  # fmt: skip
def test_ordinary_analytics_values_pass(key: str, value: object) -> None:
    assert scrub({key: value}) == {key: value}


def test_the_birth_year_limit_follows_the_injected_clock() -> None:
    from datetime import UTC, datetime

    late = Sanitizer(clock=FakeClock(start=datetime(2040, 1, 1, tzinfo=UTC)))
    assert late.scrub({"birth_year": "1949"}).properties == {"birth_year": "[REDACTED:age_over_89]"}
    assert SANITIZER.scrub({"birth_year": "1949"}).properties == {"birth_year": "1949"}


def test_a_placeholder_under_a_sensitive_key_is_kept() -> None:
    assert scrub({"email": "***", "phone": ""}) == {"email": "***", "phone": ""}


# -- names and keys as vocabulary --------------------------------------------------------------
@pytest.mark.parametrize(
    "key",
    [
        "ana.lima@example.org",
        "note for olivia brennan",
        "call 8022328775",
        "seen 03/14/2026",
        "9lives",
    ],
)
def test_a_key_holding_personal_data_rejects_the_event(key: str) -> None:
    result = SANITIZER.scrub({key: 1, "plan": "gold"})
    assert result.properties == {}
    assert result.rejected is not None
    assert key not in (result.rejected or "") or not key


def test_strict_raises_for_a_bad_key_without_echoing_it() -> None:
    with pytest.raises(InvalidInputError) as caught:
        Sanitizer(strict=True).scrub({"olivia_brennan_visit": 1})
    assert "olivia" not in str(caught.value)
    assert caught.value.field == "properties"


def test_nested_keys_are_vocabulary_too() -> None:
    assert SANITIZER.scrub({"meta": {"ana.lima@example.org": 1}}).rejected is not None


def test_the_client_drops_and_counts_an_event_whose_key_holds_a_name(make_client: Make) -> None:
    rec = RecordingProvider()
    client = make_client([rec])
    assert not client.track("page_viewed", {"olivia brennan": "x"}, user_id="u-1")
    assert client.metrics().dropped == {"invalid_name": 1}
    strict = make_client([RecordingProvider()], strict=True)
    with pytest.raises(InvalidInputError):
        strict.track("page_viewed", {"olivia brennan": "x"}, user_id="u-1")


@pytest.mark.parametrize(
    "name", ["Patient Olivia Brennan diagnosed with HIV", "viewed_olivia_brennan_chart",
             "call 8022328775", "sent to ana.lima@example.org"],
)  # fmt: skip
def test_an_event_name_holding_personal_data_is_never_sent(make_client: Make, name: str) -> None:
    rec = RecordingProvider()
    client = make_client([rec])
    assert not client.track(name, {}, user_id="u-1")
    strict = make_client([RecordingProvider()], strict=True)
    with pytest.raises(InvalidInputError) as caught:
        strict.track(name, {}, user_id="u-1")
    assert caught.value.field == "event"
    assert "olivia" not in str(caught.value).lower()
    assert client.metrics().dropped == {"invalid_name": 1}


@pytest.mark.parametrize(
    "name", ["appointment_booked", "Signed Up", "checkout.completed", "q4_2026_promo"]
)
def test_ordinary_event_names_pass(make_client: Make, name: str) -> None:
    rec = RecordingProvider()
    client = make_client([rec])
    assert client.track(name, {"plan": "gold"}, user_id="u-1")


@given(st.from_regex(r"[a-z]{3,10}(_[a-z]{3,10}){0,3}", fullmatch=True))
def test_snake_case_vocabulary_names_pass_unless_they_hold_a_given_name(name: str) -> None:
    from unified_health.analytics._scrub._words import GIVEN_NAMES

    problem = SANITIZER.scrub({name: 1}).rejected
    holds_name = any(part in GIVEN_NAMES for part in name.split("_"))
    assert (problem is None) or holds_name
