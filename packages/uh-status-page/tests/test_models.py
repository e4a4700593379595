"""Vendor models keep what the vendor sends; input checks name the field, never the value."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unified_health.status_page import (
    COMPONENT_STATUSES,
    Component,
    Incident,
    InvalidInputError,
)
from unified_health.status_page._models import check_aware, check_choice, check_text


def test_an_unknown_vendor_status_is_kept_not_refused() -> None:
    component = Component.model_validate({"id": "c1", "name": "API", "status": "melting"})
    assert component.status == "melting"
    assert component.status_known is False
    incident = Incident.model_validate({"id": "i1", "status": "postmortem", "impact": "huge"})
    assert (incident.status, incident.impact, incident.is_resolved) == ("postmortem", "huge", True)


def test_vendor_datetimes_are_aware() -> None:
    incident = Incident.model_validate({"id": "i1", "created_at": "2026-01-05T09:00:00.007Z"})
    assert incident.created_at == datetime(2026, 1, 5, 9, 0, 0, 7000, tzinfo=UTC)


def test_fields_the_vendor_adds_later_are_ignored() -> None:
    assert Component.model_validate({"id": "c1", "brand_new": 1}).id == "c1"


@given(st.text(max_size=30))
def test_only_known_component_statuses_pass(value: str) -> None:
    if value in COMPONENT_STATUSES:
        assert check_choice(value, "status", COMPONENT_STATUSES) == value
    else:
        with pytest.raises(InvalidInputError) as caught:
            check_choice(value, "status", COMPONENT_STATUSES)
        assert caught.value.field == "status"
        assert str(caught.value) == "status: must be one of: " + ", ".join(COMPONENT_STATUSES)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="timezone-aware"):
        check_aware(datetime(2026, 1, 5), "starts_at")
    with pytest.raises(InvalidInputError):
        check_aware("2026-01-05T00:00:00Z", "starts_at")


def test_text_is_not_coerced() -> None:
    with pytest.raises(InvalidInputError):
        check_text(42, "name")
    with pytest.raises(InvalidInputError):
        check_text("x" * 256, "name")
