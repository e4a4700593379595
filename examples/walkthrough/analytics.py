"""uh-analytics: one event with patient data in it, and what each vendor would have received."""

from __future__ import annotations

import json
from collections.abc import Callable

from unified_health.analytics import (
    AmplitudeProvider,
    AnalyticsClient,
    HmacPseudonymizer,
    MixpanelProvider,
    PostHogProvider,
    RecordingTransport,
)

PROPERTIES = {
    "specialty": "cardiology",
    "note": "Jane Doe (DOB 04/12/1961) asked to be called on 555-867-5309",
    "contact": "jane.doe@example.org",
    "plan": "gold",
}
KEPT = ("specialty", "note", "contact", "plan")


def run(say: Callable[[str], None]) -> None:
    """Track one event through all three vendors over recording transports (nothing is sent)."""
    transports = {name: RecordingTransport() for name in ("mixpanel", "amplitude", "posthog")}
    providers = [
        MixpanelProvider("1234567", "demo-secret", transport=transports["mixpanel"]),
        AmplitudeProvider("demo-amplitude-key", transport=transports["amplitude"]),
        PostHogProvider("phc_demo", transport=transports["posthog"]),
    ]
    analytics = AnalyticsClient(
        providers,
        default_consent="essential",
        pseudonymizer=HmacPseudonymizer({"k1": b"demo-key-of-at-least-16-bytes"}),
        register_atexit=False,
    )
    analytics.set_consent("patient-123", {"essential", "analytics"})
    say(f"tracked appointment_booked with {json.dumps(PROPERTIES)}")
    analytics.track("appointment_booked", PROPERTIES, user_id="patient-123")
    analytics.flush(timeout=5)
    for name, status in analytics.delivery_status().items():
        say(f"{name:<9} delivery: {status.state}, accepted {status.accepted}, sent {status.sent}")
    analytics.shutdown(timeout=5)
    for name, transport in transports.items():
        (event,) = transport.events
        properties = event.get("properties") or event.get("event_properties") or {}
        shown = {key: properties.get(key) for key in KEPT if key in properties}
        user = event.get("distinct_id") or event.get("user_id") or properties.get("distinct_id")
        say(f"{name:<9} received user={str(user)[:16]}... {json.dumps(shown)}")
