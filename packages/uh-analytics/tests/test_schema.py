"""Allow-list schemas per event."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from unified_health.analytics import AnalyticsClient, FreeText, InvalidInputError
from unified_health.analytics.testing import RecordingProvider

Make = Callable[..., AnalyticsClient]


class Specialty(enum.Enum):
    CARDIOLOGY = "cardiology"
    DERMATOLOGY = "dermatology"


class Booked(BaseModel):
    specialty: Specialty
    slot_minutes: int = Field(ge=5, le=240)
    channel: Literal["web", "app"] = "web"
    clinic_code: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None


class Feedback(BaseModel):
    rating: int
    comment: Annotated[str, FreeText()]


class Leaky(BaseModel):
    note: str


class LeakyNested(BaseModel):
    tags: list[str]


class Scores(BaseModel):
    scores: dict[Annotated[str, FreeText()], int]


def test_unknown_properties_dropped_and_values_validated(make_client: Make) -> None:
    rec = RecordingProvider()
    client = make_client([rec], schemas={"appointment_booked": Booked})
    client.track(
        "appointment_booked",
        {"specialty": "cardiology", "slot_minutes": 30, "patient_name": "Jane"},
        user_id="u-1",
    )
    assert client.flush(5)
    assert rec.events[0]["properties"] == {"specialty": "cardiology", "slot_minutes": 30}
    assert client.metrics().adjusted == {"schema_unknown_property": 1}


def test_schema_violation_is_dropped_without_echoing_the_value(make_client: Make) -> None:
    client = make_client([RecordingProvider()], schemas={"appointment_booked": Booked})
    assert not client.track(
        "appointment_booked", {"specialty": "Jane Doe", "slot_minutes": 30}, user_id="u-1"
    )
    assert client.metrics().dropped == {"schema_violation": 1}
    strict = make_client([RecordingProvider()], schemas={"appointment_booked": Booked}, strict=True)
    with pytest.raises(InvalidInputError) as err:
        strict.track("appointment_booked", {"specialty": "Jane Doe", "slot_minutes": 30})
    assert err.value.field == "appointment_booked.specialty"
    assert "Jane" not in str(err.value)
    assert err.value.__cause__ is None


def test_schema_violation_under_a_mapping_key_does_not_echo_the_key(make_client: Make) -> None:
    strict = make_client([RecordingProvider()], schemas={"scored": Scores}, strict=True)
    with pytest.raises(InvalidInputError) as err:
        strict.track("scored", {"scores": {"jane.doe@example.com": "high"}}, user_id="u-1")
    assert err.value.field == "scored.scores"
    assert "jane" not in str(err.value)


def test_free_text_needs_opt_in_and_is_still_sanitised(make_client: Make) -> None:
    for model in (Leaky, LeakyNested):
        with pytest.raises(InvalidInputError) as err:
            make_client([RecordingProvider()], schemas={"x_done": model})
        assert "FreeText" in err.value.rule
    rec = RecordingProvider()
    client = make_client([rec], schemas={"feedback_sent": Feedback})
    client.track(
        "feedback_sent", {"rating": 5, "comment": "mail me: jane@example.com"}, user_id="u"
    )
    assert client.flush(5)
    assert rec.events[0]["properties"]["comment"] == "mail me: [REDACTED:email]"


def test_require_schemas(make_client: Make) -> None:
    client = make_client([RecordingProvider()], require_schemas=True)
    client.register_schema("feedback_sent", Feedback)
    assert not client.track("page_viewed", user_id="u-1")
    assert client.metrics().dropped == {"missing_schema": 1}
    assert client.track("feedback_sent", {"rating": 1, "comment": "ok"}, user_id="u-1")
