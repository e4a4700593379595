"""The public API of uh-analytics: product analytics that cannot leak patient data.

Examples:
    >>> from unified_health.analytics import AnalyticsClient, PostHogProvider, RecordingTransport
    >>> transport = RecordingTransport()  # records requests instead of sending them
    >>> client = AnalyticsClient(
    ...     [PostHogProvider("phc_key", region="eu", transport=transport)],
    ...     default_consent="analytics",
    ...     register_atexit=False,
    ... )
    >>> client.track("appointment_booked", {"specialty": "cardiology"}, user_id="user-123")
    True
    >>> client.shutdown(timeout=5).delivered
    {'posthog': 1}
"""

from unified_health.analytics._client import AnalyticsClient
from unified_health.analytics._clock import Clock, SystemClock
from unified_health.analytics._context import AnalyticsContext, analytics_context, current_context
from unified_health.analytics._errors import (
    AnalyticsError,
    InvalidInputError,
    ProviderError,
    RateLimitedError,
    StoreUnavailableError,
)
from unified_health.analytics._identity import (
    HmacPseudonymizer,
    Pseudonymizer,
    SurrogatePseudonymizer,
)
from unified_health.analytics._models import (
    ConsentCategory,
    DeliveryFailure,
    DropReason,
    MetricsSnapshot,
    ProviderStatus,
    ShutdownReport,
)
from unified_health.analytics._sanitize import RedactionCategory, Sanitizer, ScrubResult
from unified_health.analytics._schema import FreeText
from unified_health.analytics._scrub._detector import Detector
from unified_health.analytics._scrub._view import Finding, ScanView
from unified_health.analytics._version import __version__
from unified_health.analytics.providers import (
    AmplitudeProvider,
    MixpanelProvider,
    PostHogProvider,
    Provider,
    RecordingTransport,
)
from unified_health.analytics.stores import (
    ConsentStore,
    InMemoryConsentStore,
    InMemorySpillStore,
    InMemorySurrogateIdStore,
    RedisClientProtocol,
    RedisConsentStore,
    RedisSpillStore,
    RedisSurrogateIdStore,
    SpillStore,
    SurrogateIdStore,
)

__all__ = [
    "AmplitudeProvider",
    "AnalyticsClient",
    "AnalyticsContext",
    "AnalyticsError",
    "Clock",
    "ConsentCategory",
    "ConsentStore",
    "DeliveryFailure",
    "Detector",
    "DropReason",
    "Finding",
    "FreeText",
    "HmacPseudonymizer",
    "InMemoryConsentStore",
    "InMemorySpillStore",
    "InMemorySurrogateIdStore",
    "InvalidInputError",
    "MetricsSnapshot",
    "MixpanelProvider",
    "PostHogProvider",
    "Provider",
    "ProviderError",
    "ProviderStatus",
    "Pseudonymizer",
    "RateLimitedError",
    "RecordingTransport",
    "RedactionCategory",
    "RedisClientProtocol",
    "RedisConsentStore",
    "RedisSpillStore",
    "RedisSurrogateIdStore",
    "Sanitizer",
    "ScanView",
    "ScrubResult",
    "ShutdownReport",
    "SpillStore",
    "StoreUnavailableError",
    "SurrogateIdStore",
    "SurrogatePseudonymizer",
    "SystemClock",
    "__version__",
    "analytics_context",
    "current_context",
]
