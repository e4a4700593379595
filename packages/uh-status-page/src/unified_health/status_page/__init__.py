"""The public API of uh-status-page.

Statuspage.io components, incidents, maintenance windows and synthetic probes.

Examples:
    >>> from unified_health.status_page import StatusPageClient
    >>> status = StatusPageClient("api-key", "page-id", component_ids={"api": "c-1"})
    >>> status.resolve_component("api")
    'c-1'
"""

from unified_health.status_page._alerts import PagerDutyAlerter
from unified_health.status_page._client import DEFAULT_BASE_URL, StatusPage, StatusPageClient
from unified_health.status_page._clock import Clock, SystemClock
from unified_health.status_page._errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    StatusPageError,
    StoreUnavailableError,
)
from unified_health.status_page._metrics import ProbeMetrics
from unified_health.status_page._models import (
    COMPONENT_STATUSES,
    INCIDENT_STATUSES,
    MAINTENANCE_STATUSES,
    Component,
    ComponentGroup,
    Incident,
    IncidentTemplate,
    IncidentUpdate,
    Page,
    Subscriber,
)
from unified_health.status_page._monitor import (
    HealthTracker,
    MaintenanceWindow,
    PlannedChange,
    StatusMonitor,
    Thresholds,
    outage_fingerprint,
)
from unified_health.status_page._probes import (
    DnsProbe,
    HttpProbe,
    Probe,
    ProbeResult,
    ProbeRunner,
    TcpProbe,
    TlsProbe,
    parse_probe,
)
from unified_health.status_page._ratelimit import RateLimiter, token_bucket
from unified_health.status_page._reader import PublicStatus, PublicStatusReader
from unified_health.status_page._scheduler import ProbeScheduler
from unified_health.status_page._selfhosted import SelfHostedStatusPage
from unified_health.status_page._version import __version__
from unified_health.status_page.stores import (
    InMemoryStatusPageStore,
    RedisClientProtocol,
    RedisStatusPageStore,
    StatusPageStore,
)

__all__ = [
    "COMPONENT_STATUSES",
    "Clock",
    "Component",
    "ComponentGroup",
    "ConflictError",
    "DEFAULT_BASE_URL",
    "DnsProbe",
    "HealthTracker",
    "HttpProbe",
    "INCIDENT_STATUSES",
    "InMemoryStatusPageStore",
    "Incident",
    "IncidentTemplate",
    "IncidentUpdate",
    "InvalidInputError",
    "MAINTENANCE_STATUSES",
    "MaintenanceWindow",
    "NotFoundError",
    "Page",
    "PagerDutyAlerter",
    "PlannedChange",
    "Probe",
    "ProbeMetrics",
    "ProbeResult",
    "ProbeRunner",
    "ProbeScheduler",
    "ProviderError",
    "PublicStatus",
    "PublicStatusReader",
    "RateLimitedError",
    "RateLimiter",
    "RedisClientProtocol",
    "RedisStatusPageStore",
    "SelfHostedStatusPage",
    "StatusMonitor",
    "StatusPage",
    "StatusPageClient",
    "StatusPageError",
    "StatusPageStore",
    "StoreUnavailableError",
    "Subscriber",
    "SystemClock",
    "TcpProbe",
    "Thresholds",
    "TlsProbe",
    "__version__",
    "outage_fingerprint",
    "parse_probe",
    "token_bucket",
]
