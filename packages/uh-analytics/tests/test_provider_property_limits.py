"""Per-event property limits: refused at construction, dropped before sending, real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from unified_health.analytics import AnalyticsClient, InvalidInputError, MixpanelProvider
from unified_health.analytics.providers import OutboundEvent, ProviderLimits
from unified_health.analytics.testing import FakeMixpanel, FakePostHog, RecordingProvider

Make = Callable[..., AnalyticsClient]
MB = 1024 * 1024


def props(count: int) -> dict[str, Any]:
    return {f"p{i}": i for i in range(count)}


# -- construction --------------------------------------------------------------------------------
def test_mixpanel_leaves_248_properties_of_the_events_own() -> None:
    assert MixpanelProvider.limits.max_properties_per_event == 254  # "fewer than 255"
    assert MixpanelProvider.limits.added_properties == 6
    assert MixpanelProvider.limits.own_properties_per_event == 248


def test_max_properties_above_mixpanels_limit_fails_at_construction(
    make_client: Make, mixpanel: FakeMixpanel, posthog: FakePostHog
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        make_client([posthog.provider(), mixpanel.provider()], max_properties=249)
    assert caught.value.field == "max_properties"
    assert "248" in str(caught.value)
    assert "'mixpanel'" in str(caught.value)
    assert mixpanel.requests == []
    assert posthog.requests == []


def test_max_properties_within_every_providers_limit_is_accepted(
    make_client: Make, mixpanel: FakeMixpanel, posthog: FakePostHog
) -> None:
    make_client([mixpanel.provider()], max_properties=248)
    make_client([posthog.provider()], max_properties=1000)  # PostHog declares no such limit


# -- delivery ------------------------------------------------------------------------------------
def test_an_event_at_the_limit_reaches_mixpanel_with_254_properties(
    make_client: Make, mixpanel: FakeMixpanel
) -> None:
    client = make_client([mixpanel.provider()], max_properties=248)
    assert client.track("page_viewed", props(248), user_id="user-1", anonymous_id="device-1")
    assert client.flush(5)
    [event] = mixpanel.events
    assert len(event["properties"]) == 254
    m = client.metrics()
    assert m.sent == {"mixpanel": 1}
    assert m.dropped == {}


def test_group_keys_past_the_limit_drop_the_event_before_it_is_sent(
    make_client: Make, mixpanel: FakeMixpanel
) -> None:
    client = make_client([mixpanel.provider()], max_properties=248)
    groups = {"clinic": "clinic-1", "company": "company-1"}
    assert client.track("too_wide", props(247), user_id="user-1", groups=groups)
    assert client.track("fits", props(246), user_id="user-1", groups=groups)
    assert client.flush(5)
    assert [e["event"] for e in mixpanel.events] == ["fits"]
    [request] = mixpanel.requests
    assert request.status == 200
    assert len(request.payload) == 1
    m = client.metrics()
    assert m.dropped == {"oversized": 1}  # not sent, so never rejected_by_vendor
    assert m.sent == {"mixpanel": 1}


def test_the_rule_holds_for_any_provider_declaring_the_limit(make_client: Make) -> None:
    rec = RecordingProvider()
    rec.limits = ProviderLimits(500, 5 * MB, MB, max_properties_per_event=5, added_properties=2)
    with pytest.raises(InvalidInputError):
        make_client([rec], max_properties=4)
    client = make_client([rec], max_properties=3)
    client.track("fits", props(3), user_id="user-1")
    client.track("too_wide", props(2), user_id="user-1", groups={"a": "1", "b": "2"})
    assert client.flush(5)
    assert [e["name"] for e in rec.events] == ["fits"]
    assert client.metrics().dropped == {"oversized": 1}


# -- the fake vendor -----------------------------------------------------------------------------
def outbound(name: str, count: int) -> OutboundEvent:
    return OutboundEvent("track", name, props(count), "k1_ab", "k1_ab", None, 1.7e9, name * 8)


def test_fake_mixpanel_rejects_an_event_of_255_properties_like_mixpanel(
    mixpanel: FakeMixpanel,
) -> None:
    provider = mixpanel.provider()
    wide = provider.encode(outbound("wide", 250))  # + time, ids, mp_lib = 255
    fits = provider.encode(outbound("fits", 249))  # 254
    assert wide is not None
    assert fits is not None
    result = provider.deliver([wide, fits], timeout=5)
    provider.close()
    assert result.status_code == 400
    assert result.rejected == {0: "rejected_by_vendor"}
    assert result.accepted == [1]
    [request] = mixpanel.requests
    assert request.status == 400
    assert [e["event"] for e in mixpanel.events] == ["fits"]


def test_fake_mixpanel_answers_failed_records_for_too_many_properties(
    mixpanel: FakeMixpanel,
) -> None:
    event = {
        "event": "wide",
        "properties": {
            "time": 1_700_000_000_000,
            "distinct_id": "k1_ab",
            "$insert_id": "a" * 32,
            **props(252),
        },
    }
    response = httpx.post(
        f"{mixpanel.url}/import",
        params={"strict": "1", "project_id": mixpanel.project_id},
        auth=(mixpanel.service_account, mixpanel.secret),
        json=[event],
    )
    assert response.status_code == 400
    body = response.json()
    assert body["num_records_imported"] == 0
    assert body["failed_records"] == [
        {
            "index": 0,
            "insert_id": "a" * 32,
            "field": "properties",
            "message": "'properties' is invalid",
        }
    ]
    assert mixpanel.events == []
