"""uh-analytics: events with patient data in them, and what each vendor would have received."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel

from unified_health.analytics import (
    AmplitudeProvider,
    AnalyticsClient,
    FreeText,
    HmacPseudonymizer,
    MixpanelProvider,
    PostHogProvider,
    RecordingTransport,
)

PROPERTIES = {
    "specialty": "cardiology",
    "note": "Jane Doe (DOB 04/12/1961) asked to be called on 555-867-5309",
    "contact": "jane.doe(at)example(dot)org",
    "ref": "call 555\u200b-867-5309",
    "plan": "gold",
    "zip3": "021",
    "birth_year": "1961",
}
KEPT = tuple(PROPERTIES)


class FeedbackSent(BaseModel):
    """A schema that declares one field free text: it is scrubbed, not replaced."""

    comment: Annotated[str, FreeText()]
    rating: Literal[1, 2, 3, 4, 5]


def run(say: Callable[[str], None]) -> None:
    """Track events through all three vendors over recording transports (nothing is sent)."""
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
        schemas={"feedback_sent": FeedbackSent},
        register_atexit=False,
    )
    analytics.set_consent("patient-123", {"essential", "analytics"})
    say(f"1. tracked appointment_booked with {json.dumps(PROPERTIES)}")
    analytics.track("appointment_booked", PROPERTIES, user_id="patient-123")
    comment = "Dr. Okafor was kind; reach me at jane.doe@example.org"
    say(f"2. tracked feedback_sent with a declared free-text comment: {comment!r}")
    analytics.track("feedback_sent", {"comment": comment, "rating": 5}, user_id="patient-123")
    queued = analytics.track("viewed_jane_doe_chart", {}, user_id="patient-123")
    say(f"3. an event named after a patient was queued: {queued}")
    analytics.flush(timeout=5)
    for name, status in analytics.delivery_status().items():
        say(f"{name:<9} delivery: {status.state}, accepted {status.accepted}, sent {status.sent}")
    analytics.shutdown(timeout=5)
    say(f"   dropped: {dict(analytics.metrics().dropped)}")
    for name, transport in transports.items():
        for event in transport.events:
            properties = event.get("properties") or event.get("event_properties") or {}
            shown = {key: properties[key] for key in (*KEPT, "comment") if key in properties}
            say(f"{name:<9} received {json.dumps(shown)}")
