"""AnalyticsClient: tracking rules, consent at the door, context, bad input, misconfiguration."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from unified_health.analytics import (
    AnalyticsClient,
    InvalidInputError,
    MixpanelProvider,
    PostHogProvider,
    Sanitizer,
    analytics_context,
)
from unified_health.analytics.testing import RecordingProvider, capture_logs

Make = Callable[..., AnalyticsClient]


def delivered(provider: RecordingProvider, client: AnalyticsClient) -> list[dict[str, Any]]:
    assert client.flush(timeout=5)
    return provider.events


def test_track_delivers_sanitised_pseudonymised_event(make_client: Make) -> None:
    rec = RecordingProvider()
    client = make_client([rec])
    assert client.track("appointment_booked", {"specialty": "cardiology"}, user_id="user-123")
    [event] = delivered(rec, client)
    assert event["name"] == "appointment_booked"
    assert event["properties"] == {"specialty": "cardiology"}
    assert event["user_id"].startswith("k1_")
    assert "user-123" not in str(event)
    assert client.metrics().enqueued == 1
    assert client.metrics().sent == {"recording": 1}


def test_default_consent_essential_drops_analytics_events(make_client: Make) -> None:
    rec = RecordingProvider()
    client = make_client([rec], default_consent="essential")
    assert not client.track("page_viewed", user_id="user-1")
    assert client.metrics().dropped == {"no_consent": 1}
    client.set_consent("user-1", {"analytics"})
    assert client.track("page_viewed", user_id="user-1")
    assert len(delivered(rec, client)) == 1


def test_essential_events_need_no_consent(make_client: Make) -> None:
    rec = RecordingProvider(categories={"essential"})
    client = make_client([rec], default_consent="essential")
    client.set_consent("user-1", set())
    assert client.track("password_reset", user_id="user-1", category="essential")
    assert sorted(client.get_consent("user-1")) == ["essential"]
    assert len(delivered(rec, client)) == 1


def test_provider_receives_only_its_categories(make_client: Make) -> None:
    analytics = RecordingProvider("a", categories={"analytics"})
    marketing = RecordingProvider("m", categories={"marketing"})
    client = make_client(
        [analytics, marketing],
        default_consent={"analytics", "marketing"},
        event_categories={"campaign_clicked": "marketing"},
    )
    client.track("page_viewed", user_id="u-1")
    client.track("campaign_clicked", user_id="u-1")
    assert client.flush(5)
    assert [e["name"] for e in analytics.events] == ["page_viewed"]
    assert [e["name"] for e in marketing.events] == ["campaign_clicked"]


def test_extensible_categories(make_client: Make) -> None:
    rec = RecordingProvider(categories={"research"})
    client = make_client([rec], consent_categories={"research"}, default_consent="essential")
    client.set_consent("u-1", {"research"})
    assert client.track("study_step", user_id="u-1", category="research")
    assert not client.track("study_step", user_id="u-2", category="research")
    assert len(delivered(rec, client)) == 1


def test_context_supplies_user_and_properties(make_client: Make) -> None:
    rec = RecordingProvider()
    client = make_client([rec])
    with analytics_context(user_id="user-7", properties={"tenant": "acme"}):
        client.track("page_viewed", {"path": "/home"})
    [event] = delivered(rec, client)
    assert event["user_id"] == client._pseudonymizer.pseudonymize("user-7")
    assert event["properties"] == {"tenant": "acme", "path": "/home"}


def test_anonymous_events_get_a_pseudonymous_device(make_client: Make) -> None:
    rec = RecordingProvider()
    client = make_client([rec])
    client.track("page_viewed", anonymous_id="visitor-abc")
    client.track("page_viewed")
    first, second = delivered(rec, client)
    assert first["user_id"] is None
    assert first["device_id"].startswith("k1_")
    assert second["device_id"].startswith("k1_")
    assert second["device_id"] != first["device_id"]


def test_super_properties_merge_under_event_properties(make_client: Make) -> None:
    rec = RecordingProvider()
    client = make_client([rec], super_properties={"app": "portal", "env": "prod"})
    client.register_super_properties({"app_version": "4.2"})
    client.unregister_super_property("env")
    client.track("page_viewed", {"app": "mobile"}, user_id="u-1")
    [event] = delivered(rec, client)
    assert event["properties"] == {"app": "mobile", "app_version": "4.2"}


def test_identify_alias_group(make_client: Make) -> None:
    rec = RecordingProvider()
    client = make_client([rec])
    client.identify("user-1", {"plan": "gold", "email": "jane@example.com"})
    client.alias("visitor-9", "user-1")
    client.group("clinic", "clinic-42", {"tier": "gold"}, user_id="user-1")
    identify, alias, group = delivered(rec, client)
    assert identify["kind"] == "identify"
    assert identify["traits"] == {"plan": "gold", "email": "[REDACTED:email]"}
    assert alias["previous_id"].startswith("k1_")
    assert "visitor-9" not in str(alias)
    assert group["group_type"] == "clinic"
    assert group["group_key"].startswith("k1_")
    assert "clinic-42" not in str(group)


def test_groups_on_track_are_pseudonymised(make_client: Make) -> None:
    rec = RecordingProvider()
    client = make_client([rec])
    client.track("page_viewed", user_id="u-1", groups={"clinic": "clinic-42"})
    [event] = delivered(rec, client)
    assert event["groups"]["clinic"].startswith("k1_")


@pytest.mark.parametrize(
    "group_type", ["jane.doe@example.com", "MRN 1234567", "Jane Doe", "ip", "$groups", "", 7]
)
def test_group_types_holding_personal_data_never_reach_a_provider(
    make_client: Make, group_type: Any
) -> None:
    """Group types are sent as they are: only identifiers are accepted, the event is dropped."""
    rec = RecordingProvider()
    client = make_client([rec])
    assert not client.track("page_viewed", user_id="u-1", groups={group_type: "clinic-42"})
    assert not client.group(group_type, "clinic-42", {"tier": "gold"}, user_id="u-1")
    assert delivered(rec, client) == []
    assert client.metrics().dropped == {"invalid_input": 2}


def test_group_keys_must_be_strings(make_client: Make) -> None:
    client = make_client([RecordingProvider()], strict=True)
    with pytest.raises(InvalidInputError) as caught:
        client.track("page_viewed", user_id="u-1", groups={"clinic": 12345})  # type: ignore[dict-item]
    assert caught.value.field == "groups"
    assert "12345" not in str(caught.value)


def test_redactions_are_counted_by_category(make_client: Make) -> None:
    rec = RecordingProvider()
    client = make_client([rec])
    client.track(
        "form_submitted",
        {"email": "jane@example.com", "note": "call 555-123-4567", "ref": "for user-1"},
        user_id="user-1",
    )
    [event] = delivered(rec, client)
    assert "jane@example.com" not in str(event)
    assert "555-123-4567" not in str(event)
    redacted = client.metrics().redacted
    assert redacted["email"] == 1
    assert redacted["phone"] == 1
    assert redacted["user_id"] == 1


@pytest.mark.parametrize(
    ("properties", "rule"),
    [
        ({"$set": 1}, "invalid_property_name"),
        ({"distinct_id": "x"}, "reserved_property_name"),
        ({"ip": "10.1.2.3"}, "reserved_property_name"),
        ({"ratio": math.nan}, "unserialisable"),
        ({"blob": object()}, "unserialisable"),
        ({"when": datetime(2026, 1, 1)}, "naive_datetime"),
        ({"deep": {"a": {"b": {"c": {"d": 1}}}}}, "too_deep"),
    ],
)
def test_bad_properties_are_removed_and_counted(
    make_client: Make, properties: dict[str, Any], rule: str
) -> None:
    rec = RecordingProvider()
    client = make_client([rec])
    assert client.track("thing_done", {"ok": 1, **properties}, user_id="u-1")
    [event] = delivered(rec, client)
    assert "ok" in event["properties"]
    assert client.metrics().adjusted[rule] == 1


def test_values_are_coerced(make_client: Make) -> None:
    rec = RecordingProvider()
    client = make_client([rec])
    client.track(
        "thing_done",
        {"when": datetime(2026, 1, 1, tzinfo=UTC), "tags": ("a", "b"), "n": 3},
        user_id="u-1",
    )
    [event] = delivered(rec, client)
    assert event["properties"]["tags"] == ["a", "b"]
    assert event["properties"]["n"] == 3
    assert isinstance(event["properties"]["when"], str)


def test_long_strings_truncated_and_too_many_properties_cut(make_client: Make) -> None:
    rec = RecordingProvider()
    client = make_client([rec], max_string_length=10, max_properties=3)
    client.track("thing_done", {"a": "x" * 50, "b": 1, "c": 2, "d": 3}, user_id="u-1")
    [event] = delivered(rec, client)
    assert event["properties"] == {"a": "x" * 10, "b": 1, "c": 2}
    adjusted = client.metrics().adjusted
    assert adjusted["truncated"] == 1
    assert adjusted["too_many_properties"] == 1


def test_an_identifier_across_the_cut_is_redacted_whole(make_client: Make) -> None:
    rec = RecordingProvider()
    # The note is declared free text: prose that is not declared is replaced whole.
    client = make_client([rec], max_string_length=100, sanitizer=Sanitizer(free_text_keys=["note"]))
    note = "x " * 45 + "call 555-201-4477 now " + "y" * 10_000  # the phone straddles char 100
    client.track("thing_done", {"note": note}, user_id="u-1")
    [event] = delivered(rec, client)
    kept = event["properties"]["note"]
    assert len(kept) == 100
    assert "555" not in kept
    assert "4477" not in kept
    assert client.metrics().redacted == {"phone": 1}
    assert client.metrics().adjusted["truncated"] == 1


def test_oversized_event_is_dropped(make_client: Make) -> None:
    rec = RecordingProvider()
    client = make_client([rec], max_event_bytes=200, max_string_length=10_000,
                         sanitizer=Sanitizer(free_text_keys=["a"]))  # fmt: skip
    assert not client.track("thing_done", {"a": "word " * 100}, user_id="u-1")
    assert client.metrics().dropped == {"oversized": 1}


@pytest.mark.parametrize(
    "name", ["", "1starts_with_digit", "has\nnewline", "x" * 200, "jane@x.com"]
)
def test_invalid_event_names_are_dropped(make_client: Make, name: str) -> None:
    client = make_client([RecordingProvider()])
    assert not client.track(name, user_id="u-1")
    assert client.metrics().dropped == {"invalid_name": 1}


def test_strict_mode_raises_input_errors(make_client: Make) -> None:
    client = make_client([RecordingProvider()], strict=True)
    with pytest.raises(InvalidInputError) as err:
        client.track("bad name!", user_id="u-1")
    assert err.value.field == "event"
    with pytest.raises(InvalidInputError):
        client.track("ok_name", {"ratio": math.nan}, user_id="u-1")
    with pytest.raises(InvalidInputError):
        client.track("ok_name", user_id="u-1", timestamp=datetime(2026, 1, 1))


def test_track_never_raises_even_when_the_sanitiser_breaks(make_client: Make) -> None:
    class Broken:
        def scrub(self, properties: Any) -> Any:
            raise RuntimeError("boom")

        def scrub_value(self, value: str, *, key: str | None = None) -> Any:
            return value, {}

    client = make_client([RecordingProvider()], sanitizer=Broken())
    with capture_logs() as logs:
        assert client.track("page_viewed", {"a": 1}, user_id="u-1") is False
    assert client.metrics().dropped == {"internal_error": 1}
    assert logs[0]["event"] == "track_failed"


def test_internal_errors_are_logged_without_their_message(make_client: Make) -> None:
    """An exception from a pluggable part may quote the event; only its type is logged."""

    class Quoting:
        def scrub(self, properties: Any) -> Any:
            raise ValueError(f"cannot scrub {dict(properties)}")

        def scrub_value(self, value: str, *, key: str | None = None) -> Any:
            return value, {}

    client = make_client([RecordingProvider()], sanitizer=Quoting())
    with capture_logs() as logs:
        assert not client.track("page_viewed", {"email": "jane@example.com"}, user_id="u-1")
    [entry] = logs
    assert entry["event"] == "track_failed"
    assert entry["error_class"] == "ValueError"
    assert "jane@example.com" not in str(entry)


def test_delivery_errors_are_logged_without_their_message(make_client: Make) -> None:
    class Quoting:
        def pseudonymize(self, raw_id: str, kind: str = "user") -> str:
            raise ValueError(f"cannot pseudonymise {raw_id}")

    client = make_client([RecordingProvider()], pseudonymizer=Quoting())
    with capture_logs() as logs:
        assert client.track("page_viewed", user_id="user-123")
        assert client.flush(5)
    [entry] = [e for e in logs if e["event"] == "delivery_crashed"]
    assert entry["error_class"] == "ValueError"
    assert "user-123" not in str(logs)
    assert client.metrics().dropped == {"internal_error": 1}


def test_debug_logs_names_and_counts_never_values(make_client: Make) -> None:
    rec = RecordingProvider()
    client = make_client([rec], debug=True)
    with capture_logs() as logs:
        client.track("page_viewed", {"path": "/patients/jane-doe"}, user_id="user-secret-1")
        client.flush(5)
    assert any(e["event"] == "event_enqueued" and e["event_name"] == "page_viewed" for e in logs)
    assert any(e["event"] == "batch_delivered" for e in logs)
    text = repr(logs)
    assert "jane-doe" not in text
    assert "user-secret-1" not in text


def test_track_after_shutdown_is_dropped(make_client: Make) -> None:
    client = make_client([RecordingProvider()])
    client.shutdown(timeout=1)
    assert client.closed
    assert not client.track("page_viewed", user_id="u-1")
    assert client.metrics().dropped == {"client_closed": 1}
    assert client.shutdown().lost == 0


def test_timestamp_and_insert_ids(make_client: Make) -> None:
    rec = RecordingProvider()
    client = make_client([rec], seed=3)
    when = datetime(2026, 3, 1, 12, tzinfo=UTC)
    client.track("a_done", user_id="u-1", timestamp=when)
    client.track("a_done", user_id="u-1", timestamp=when)
    first, second = delivered(rec, client)
    assert first["timestamp"] == when.timestamp()
    assert first["insert_id"] != second["insert_id"]
    assert len(first["insert_id"]) == 32


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: AnalyticsClient([]), "providers"),
        (lambda: PostHogProvider("k", region="mars"), "region"),
        (lambda: PostHogProvider("", region="us"), "api_key"),
        (lambda: MixpanelProvider("", "secret"), "project_id"),
        (lambda: PostHogProvider("k", categories=set()), "categories"),
        (
            lambda: AnalyticsClient([PostHogProvider("k", categories={"spam"})]),
            "providers[0].categories",
        ),
        (
            lambda: AnalyticsClient([PostHogProvider("k"), PostHogProvider("k2")]),
            "providers",
        ),
        (
            lambda: AnalyticsClient([PostHogProvider("k")], default_consent="everything"),
            "default_consent",
        ),
        (lambda: AnalyticsClient([PostHogProvider("k")], max_queue_events=0), "max_queue_events"),
    ],
)
def test_misconfiguration_fails_at_construction(build: Callable[[], Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        build()
    assert err.value.field == field


def test_set_consent_rejects_unknown_category(make_client: Make) -> None:
    client = make_client([RecordingProvider()])
    with pytest.raises(InvalidInputError):
        client.set_consent("u-1", {"telepathy"})
