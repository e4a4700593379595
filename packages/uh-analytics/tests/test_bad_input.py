"""Each kind of bad input has a defined outcome: documented acceptance or a named refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest

from unified_health.analytics import AnalyticsClient, HmacPseudonymizer, InvalidInputError
from unified_health.analytics.testing import RecordingProvider, capture_logs

Make = Callable[..., AnalyticsClient]


def test_a_non_string_event_name_is_counted_and_logged_once(make_client: Make) -> None:
    client = make_client([RecordingProvider()])
    with capture_logs() as logs:
        assert client.track(cast(Any, 123), user_id="user-1") is False
        assert client.track(cast(Any, 456), user_id="user-1") is False
    assert client.metrics().dropped == {"invalid_name": 2}
    dropped = [e for e in logs if e["event"] == "event_dropped"]
    assert len(dropped) == 1  # rate-limited: once per reason
    assert (dropped[0]["reason"], dropped[0]["field"]) == ("invalid_name", "event")
    assert "123" not in str(dropped)


def test_properties_given_as_a_string_are_invalid_input_not_an_internal_error(
    make_client: Make,
) -> None:
    client = make_client([RecordingProvider()])
    with capture_logs() as logs:
        assert client.track("page_viewed", cast(Any, "plan=premium"), user_id="user-1") is False
        assert client.identify("user-1", cast(Any, ["a"])) is False
    assert client.metrics().dropped == {"invalid_input": 2}
    fields = [e.get("field") for e in logs if e["event"] == "event_dropped"]
    assert fields == ["properties"]
    assert not [e for e in logs if e["event"] == "track_failed"]
    strict = make_client([RecordingProvider()], strict=True)
    with pytest.raises(InvalidInputError) as caught:
        strict.identify("user-1", cast(Any, "plan=premium"))
    assert caught.value.field == "traits"


def test_one_provider_instead_of_a_list_is_refused_by_name() -> None:
    with pytest.raises(InvalidInputError) as caught:
        AnalyticsClient(cast(Any, RecordingProvider()), register_atexit=False)
    assert caught.value.field == "providers"
    with pytest.raises(InvalidInputError) as caught:
        AnalyticsClient(cast(Any, [RecordingProvider(), "posthog"]), register_atexit=False)
    assert caught.value.field == "providers[1]"


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("shutdown_timeout", -1.0, "shutdown_timeout"),
        ("flush_interval", 0.0, "flush_interval"),
        ("retry_budget", -1.0, "retry_budget"),
        ("on_error", "print", "on_error"),
        ("strict", "yes", "strict"),  # no coercion of "yes" to True
        ("max_queue_events", 0, "max_queue_events"),
        ("max_queue_events", True, "max_queue_events"),
        ("drop_policy", "drop_all", "drop_policy"),
        ("seed", 1.5, "seed"),
    ],
)
def test_bad_delivery_options_name_their_field(option: str, value: object, field: str) -> None:
    options: dict[str, Any] = {option: value}
    with pytest.raises(InvalidInputError) as caught:
        AnalyticsClient([RecordingProvider()], register_atexit=False, **options)
    assert caught.value.field == field


def test_shutdown_timeout_is_read_only(make_client: Make) -> None:
    client = make_client([RecordingProvider()], shutdown_timeout=3.0)
    assert client.shutdown_timeout == 3.0
    with pytest.raises(AttributeError):
        cast(Any, client).shutdown_timeout = 1.0


def test_events_after_shutdown_are_refused_with_a_word(make_client: Make) -> None:
    client = make_client([RecordingProvider()])
    client.shutdown(timeout=1)
    with capture_logs() as logs:
        assert client.track("page_viewed", user_id="user-1") is False
        assert client.identify("user-1", {"plan": "premium"}) is False
    assert client.metrics().dropped == {"client_closed": 2}
    assert [e["reason"] for e in logs if e["event"] == "event_dropped"] == ["client_closed"]


def test_a_str_hmac_key_is_its_utf8_bytes_and_other_types_are_refused() -> None:
    as_text = HmacPseudonymizer({"k1": "a-secret-of-32-bytes-or-so......"})
    as_bytes = HmacPseudonymizer({"k1": b"a-secret-of-32-bytes-or-so......"})
    assert as_text.pseudonymize("user-1") == as_bytes.pseudonymize("user-1")
    with pytest.raises(InvalidInputError) as caught:
        HmacPseudonymizer({"k1": cast(Any, 1234567890123456789)})
    assert caught.value.field == "keys"
