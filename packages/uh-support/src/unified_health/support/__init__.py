"""The public API of uh-support.

Ticketing over Zendesk, Intercom or an internal store, with SLAs and CSAT.

Examples:
    >>> from unified_health.support import InMemoryRecordStore
    >>> store = InMemoryRecordStore()
    >>> store.put("r-1", {"status": "open"}, expected_version=0).version
    1
"""

from unified_health.support._calendar import BusinessCalendar, CalendarHours
from unified_health.support._clock import Clock, SystemClock
from unified_health.support._errors import (
    ConflictError,
    InvalidInputError,
    StoreUnavailableError,
    SupportError,
)
from unified_health.support._models import Record
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
from unified_health.support.stores import (
    InMemoryRecordStore,
    RecordStore,
    RedisClientProtocol,
    RedisRecordStore,
)

__all__ = [
    "BusinessCalendar",
    "CalendarHours",
    "Clock",
    "ConflictError",
    "InMemoryRecordStore",
    "InvalidInputError",
    "METRICS",
    "PRIORITIES",
    "Record",
    "RecordStore",
    "RedisClientProtocol",
    "RedisRecordStore",
    "STATUSES",
    "SlaEvent",
    "SlaExplanation",
    "SlaInstance",
    "SlaPolicy",
    "SlaStatus",
    "SlaTarget",
    "SlaTimeline",
    "StoreUnavailableError",
    "SupportError",
    "SystemClock",
    "__version__",
]
