"""The error tree (the unit under test is `_errors`): data as attributes, the builtin a caller
would catch, no values in messages; the package exports only the errors it raises."""

from __future__ import annotations

import pytest

import unified_health.feature_flags as package
from unified_health.feature_flags._errors import (
    ConflictError,
    FeatureFlagsError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    StoreUnavailableError,
)


@pytest.mark.parametrize(
    "error",
    [
        InvalidInputError("field", "rule"),
        NotFoundError("thing", "id-1"),
        ConflictError("stale"),
        StoreUnavailableError("down"),
        ProviderError("boom", status_code=500),
        RateLimitedError("slow down", status_code=429, retry_after=1.5),
    ],
)
def test_every_error_is_caught_by_the_base(error: Exception) -> None:
    with pytest.raises(FeatureFlagsError):
        raise error


def test_invalid_input_is_a_value_error_naming_field_and_rule() -> None:
    err = InvalidInputError("rules.0.operator", "must be a known operator")
    assert isinstance(err, ValueError)
    assert err.field == "rules.0.operator"
    assert err.rule == "must be a known operator"
    assert str(err) == "rules.0.operator: must be a known operator"


def test_not_found_is_a_lookup_error() -> None:
    err = NotFoundError("thing", "id-1")
    assert isinstance(err, LookupError)
    assert (err.kind, err.key) == ("thing", "id-1")


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


def test_the_package_exports_only_errors_it_raises() -> None:
    exported = {
        name
        for name in package.__all__
        if isinstance(value := getattr(package, name), type) and issubclass(value, Exception)
    }
    assert exported == {
        "ConflictError",
        "FeatureFlagsError",
        "InvalidInputError",
        "NotFoundError",
        "StoreUnavailableError",
    }


def test_errors_the_package_never_raises_are_not_exported() -> None:
    for name in ("ProviderError", "RateLimitedError"):
        assert not hasattr(package, name)
