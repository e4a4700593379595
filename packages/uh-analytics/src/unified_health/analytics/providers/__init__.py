"""Destinations: Mixpanel, Amplitude, PostHog, and recording for dry runs."""

from unified_health.analytics.providers._amplitude import AmplitudeProvider
from unified_health.analytics.providers._base import (
    HttpProvider,
    OutboundEvent,
    Provider,
    ProviderLimits,
    RoutedProvider,
    SendResult,
)
from unified_health.analytics.providers._mixpanel import MixpanelProvider
from unified_health.analytics.providers._posthog import PostHogProvider
from unified_health.analytics.providers._recording import (
    RecordedRequest,
    RecordingProvider,
    RecordingTransport,
)

__all__ = [
    "AmplitudeProvider",
    "HttpProvider",
    "MixpanelProvider",
    "OutboundEvent",
    "PostHogProvider",
    "Provider",
    "ProviderLimits",
    "RecordedRequest",
    "RecordingProvider",
    "RecordingTransport",
    "RoutedProvider",
    "SendResult",
]
