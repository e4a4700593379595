"""The public surface: sorted, complete, importable."""

from __future__ import annotations

import unified_health.analytics as analytics
import unified_health.analytics.testing as testing


def test_all_is_sorted_and_complete() -> None:
    assert analytics.__all__ == sorted(analytics.__all__)
    public = {n for n in dir(analytics) if not n.startswith("_")} - {
        "evaluation", "presidio", "providers", "stores", "testing",
    }  # fmt: skip
    assert public <= set(analytics.__all__)
    for name in analytics.__all__:
        assert hasattr(analytics, name)


def test_testing_all_is_sorted() -> None:
    assert testing.__all__ == sorted(testing.__all__)
    for name in testing.__all__:
        assert hasattr(testing, name)


def test_sanitiser_is_exported() -> None:
    result = analytics.Sanitizer().scrub({"email": "jane@example.com"})
    assert isinstance(result, analytics.ScrubResult)
    assert dict(result.redactions) == {analytics.RedactionCategory.EMAIL: 1}
