"""Dry runs: RecordingTransport keeps the exact payloads a provider would send."""

from __future__ import annotations

from collections.abc import Callable

from unified_health.analytics import (
    AmplitudeProvider,
    AnalyticsClient,
    MixpanelProvider,
    PostHogProvider,
    RecordingTransport,
)

Make = Callable[..., AnalyticsClient]


def test_recording_transport_keeps_real_requests_without_secrets(make_client: Make) -> None:
    transports = {name: RecordingTransport() for name in ("mixpanel", "amplitude", "posthog")}
    client = make_client([
        MixpanelProvider("42", "mp-secret", transport=transports["mixpanel"]),
        AmplitudeProvider("amp-key", region="eu", transport=transports["amplitude"]),
        PostHogProvider("phc_key", region="eu", transport=transports["posthog"]),
    ])  # fmt: skip
    client.track("appointment_booked", {"specialty": "cardiology"}, user_id="user-1")
    assert client.flush(5)
    mixpanel = transports["mixpanel"].requests[0]
    amplitude = transports["amplitude"].requests[0]
    posthog = transports["posthog"].requests[0]
    assert mixpanel.url == "https://api.mixpanel.com/import?strict=1&project_id=42"
    assert mixpanel.headers["authorization"] == "[redacted]"
    assert amplitude.url == "https://api.eu.amplitude.com/2/httpapi"
    assert amplitude.payload["api_key"] == "[redacted]"
    assert posthog.url == "https://eu.i.posthog.com/batch/"
    assert posthog.payload["api_key"] == "[redacted]"
    for transport in transports.values():
        [event] = transport.events
        assert "user-1" not in str(event)
        assert "cardiology" in str(event)
    assert "mp-secret" not in str(transports["mixpanel"].requests)
    assert client.metrics().sent == {"mixpanel": 1, "amplitude": 1, "posthog": 1}
    transports["posthog"].clear()
    assert transports["posthog"].requests == []
