"""The error tree: data as attributes, the builtin a caller would catch, no values in messages.

Only the errors that reach a user are exported: those the package raises, and the provider
errors handed to the ``on_error`` callback (tested in test_outage.py).
"""

from __future__ import annotations

import pytest

import unified_health.analytics as analytics
from unified_health.analytics import (
    AnalyticsError,
    InvalidInputError,
    ProviderError,
    RateLimitedError,
    StoreUnavailableError,
)


@pytest.mark.parametrize(
    "error",
    [
        InvalidInputError("field", "rule"),
        StoreUnavailableError("down"),
        ProviderError("boom", status_code=500),
        RateLimitedError("slow down", status_code=429, retry_after=1.5),
    ],
)
def test_every_error_is_caught_by_the_base(error: Exception) -> None:
    with pytest.raises(AnalyticsError):
        raise error


def test_invalid_input_is_a_value_error_naming_field_and_rule() -> None:
    err = InvalidInputError("rules.0.operator", "must be a known operator")
    assert isinstance(err, ValueError)
    assert err.field == "rules.0.operator"
    assert err.rule == "must be a known operator"
    assert str(err) == "rules.0.operator: must be a known operator"


def test_store_unavailable_is_a_connection_error() -> None:
    assert isinstance(StoreUnavailableError("down"), ConnectionError)


def test_provider_error_carries_status_request_id_and_retry_after() -> None:
    err = RateLimitedError(
        "rate limited", status_code=429, request_id="req_1", retry_after=2.0, attempts=4
    )
    assert isinstance(err, ProviderError)
    assert (err.status_code, err.request_id, err.retry_after, err.attempts) == (
        429,
        "req_1",
        2.0,
        4,
    )


def test_only_the_errors_that_reach_a_user_are_exported() -> None:
    exported = {
        name
        for name in analytics.__all__
        if isinstance(value := getattr(analytics, name), type) and issubclass(value, Exception)
    }
    assert exported == {
        "AnalyticsError",
        "InvalidInputError",
        "ProviderError",
        "RateLimitedError",
        "StoreUnavailableError",
    }
