"""Batching is a pure function: every event lands in exactly one request, within the limits."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from unified_health.analytics import HmacPseudonymizer, MixpanelProvider
from unified_health.analytics._batching import ENVELOPE_MARGIN, plan_requests
from unified_health.analytics._models import Event
from unified_health.analytics._outbound import to_outbound
from unified_health.analytics.providers import OutboundEvent, ProviderLimits
from unified_health.analytics.testing import RecordingProvider

IDS = HmacPseudonymizer({"k1": b"0123456789abcdef0123456789abcdef"})


class Tiny(RecordingProvider):
    """Small limits so that a few events already fill a request."""

    limits = ProviderLimits(
        max_events_per_request=3,
        max_request_bytes=ENVELOPE_MARGIN + 900,
        max_event_bytes=600,
        max_properties_per_event=6,
        added_properties=2,
    )

    def encode(self, event: OutboundEvent) -> bytes | None:
        if event.name == "unsupported":
            return None
        return super().encode(event)


def outbound(event: Event) -> OutboundEvent:
    return to_outbound(event, IDS)


def make(n: int, name: str, size: int, props: int) -> Event:
    properties: dict[str, Any] = {f"p{i}": "x" * (size // max(props, 1)) for i in range(props)}
    return Event("track", name, properties, f"user-{n}", None, "analytics", 0.0, f"id-{n}")


events_strategy = st.lists(
    st.tuples(
        st.sampled_from(["page_viewed", "unsupported"]),
        st.integers(min_value=0, max_value=800),
        st.integers(min_value=0, max_value=6),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(events_strategy)
def test_every_event_is_planned_once_within_the_limits(spec: list[tuple[str, int, int]]) -> None:
    events = [make(n, name, size, props) for n, (name, size, props) in enumerate(spec)]
    provider = Tiny()
    plan = plan_requests(events, provider, outbound)
    planned = [e for chunk in plan.chunks for e in chunk.events]
    everything = planned + plan.unsupported + plan.oversized
    assert sorted(e.insert_id for e in everything) == sorted(e.insert_id for e in events)
    assert all(e.name == "unsupported" for e in plan.unsupported)
    limits = provider.limits
    for chunk in plan.chunks:
        assert 1 <= len(chunk.parts) <= limits.max_events_per_request
        assert sum(len(p) + 1 for p in chunk.parts) <= limits.max_request_bytes - ENVELOPE_MARGIN
        assert all(len(p) <= limits.max_event_bytes for p in chunk.parts)
    # order is kept within the requests
    assert [e.insert_id for e in planned] == [e.insert_id for e in events if e in planned]


def test_a_routed_provider_gets_one_route_per_request() -> None:
    provider = MixpanelProvider("1", "secret", project_token="token")
    track = Event("track", "page_viewed", {}, "user-1", None, "analytics", 0.0, "a")
    profile = Event(
        "identify", "$identify", {}, "user-1", None, "analytics", 0.0, "b", traits={"plan": "x"}
    )
    plan = plan_requests([track, profile, track], provider, outbound)
    routes = sorted((chunk.route, len(chunk.events)) for chunk in plan.chunks)
    assert routes == [("engage", 1), ("import", 2)]
    provider.close()
