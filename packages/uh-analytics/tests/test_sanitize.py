"""Sanitizer: the public contract, key-aware rules and bad-input rules."""

from __future__ import annotations

import json

import pytest

from unified_health.analytics._sanitize import RedactionCategory, Sanitizer, ScrubResult


@pytest.fixture(scope="module")
def sanitizer() -> Sanitizer:
    return Sanitizer()


def test_scrub_returns_a_cleaned_copy_and_counts(sanitizer: Sanitizer) -> None:
    event = {"email": "jane@example.com", "note": "call 555-123-4567", "plan": "premium"}
    result = sanitizer.scrub(event)
    assert isinstance(result, ScrubResult)
    assert result.properties == {
        "email": "[REDACTED:email]",
        "note": "call [REDACTED:phone]",
        "plan": "premium",
    }
    assert dict(result.redactions) == {"email": 1, "phone": 1}
    assert result.redacted == 2
    assert event["email"] == "jane@example.com"


def test_categories_are_plain_strings_in_the_counts(sanitizer: Sanitizer) -> None:
    result = sanitizer.scrub({"ip": "10.0.0.1", "x": object()})
    assert all(type(key) is str for key in result.redactions)
    assert RedactionCategory.IP_ADDRESS in result.redactions


def test_output_is_json_serialisable(sanitizer: Sanitizer) -> None:
    result = sanitizer.scrub({"a": {1, 2}, "b": b"bytes", "c": float("nan"), 1: (1, 2)})
    json.dumps(result.properties, allow_nan=False)
