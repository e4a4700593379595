"""The public API of uh-support.

Ticketing over an internal store (memory, Redis, PostgreSQL), with an exact SLA engine.

Examples:
    >>> from unified_health.support import SupportClient
    >>> support = SupportClient()
    >>> ticket = support.create_ticket("Portal login", "Cannot sign in", "patient-42")
    >>> support.add_comment(ticket.id, "Looking into it").status
    'open'
"""

from unified_health.support._calendar import BusinessCalendar, CalendarHours
from unified_health.support._client import BreachWarning, SupportClient, timeline_of
from unified_health.support._clock import Clock, SystemClock
from unified_health.support._csat import CsatScore
from unified_health.support._errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    StoreUnavailableError,
    SupportError,
)
from unified_health.support._lifecycle import TRANSITIONS, check_transition
from unified_health.support._models import Comment, CsatRating, HistoryEntry, Ticket
from unified_health.support._provider import InternalProvider, SupportProvider
from unified_health.support._redaction import (
    DEFAULT_DETECTORS,
    PatternRedactor,
    Redaction,
    Redactor,
)
from unified_health.support._sla import (
    METRICS,
    PRIORITIES,
    STATUSES,
    SlaEvent,
    SlaExplanation,
    SlaInstance,
    SlaPolicy,
    SlaStatus,
    SlaTarget,
    SlaTimeline,
)
from unified_health.support._version import __version__
from unified_health.support._webhooks import WebhookEvent, WebhookReceiver
from unified_health.support.providers import (
    INTERCOM_HOSTS,
    INTERCOM_STATES,
    ZENDESK_PRIORITIES,
    ZENDESK_STATUSES,
    IntercomProvider,
    ZendeskProvider,
)
from unified_health.support.stores import (
    InMemoryTicketStore,
    PostgresTicketStore,
    RedisClientProtocol,
    RedisTicketStore,
    TicketStore,
)

__all__ = [
    "BreachWarning",
    "BusinessCalendar",
    "CalendarHours",
    "Clock",
    "Comment",
    "ConflictError",
    "CsatRating",
    "CsatScore",
    "DEFAULT_DETECTORS",
    "HistoryEntry",
    "INTERCOM_HOSTS",
    "INTERCOM_STATES",
    "InMemoryTicketStore",
    "IntercomProvider",
    "InternalProvider",
    "InvalidInputError",
    "METRICS",
    "NotFoundError",
    "PRIORITIES",
    "PatternRedactor",
    "PostgresTicketStore",
    "ProviderError",
    "RateLimitedError",
    "Redaction",
    "Redactor",
    "RedisClientProtocol",
    "RedisTicketStore",
    "STATUSES",
    "SlaEvent",
    "SlaExplanation",
    "SlaInstance",
    "SlaPolicy",
    "SlaStatus",
    "SlaTarget",
    "SlaTimeline",
    "StoreUnavailableError",
    "SupportClient",
    "SupportError",
    "SupportProvider",
    "SystemClock",
    "TRANSITIONS",
    "Ticket",
    "TicketStore",
    "WebhookEvent",
    "WebhookReceiver",
    "ZENDESK_PRIORITIES",
    "ZENDESK_STATUSES",
    "ZendeskProvider",
    "__version__",
    "check_transition",
    "timeline_of",
]
