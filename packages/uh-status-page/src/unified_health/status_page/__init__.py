"""The public API of uh-status-page.

Statuspage.io components, incidents, maintenance windows and synthetic probes.

Examples:
    >>> from unified_health.status_page import InMemoryRecordStore
    >>> store = InMemoryRecordStore()
    >>> store.put("r-1", {"status": "open"}, expected_version=0).version
    1
"""

from unified_health.status_page._clock import Clock, SystemClock
from unified_health.status_page._errors import (
    ConflictError,
    InvalidInputError,
    StatusPageError,
    StoreUnavailableError,
)
from unified_health.status_page._models import Record
from unified_health.status_page._version import __version__
from unified_health.status_page.stores import (
    InMemoryRecordStore,
    RecordStore,
    RedisClientProtocol,
    RedisRecordStore,
)

__all__ = [
    "Clock",
    "ConflictError",
    "InMemoryRecordStore",
    "InvalidInputError",
    "Record",
    "RecordStore",
    "RedisClientProtocol",
    "RedisRecordStore",
    "StatusPageError",
    "StoreUnavailableError",
    "SystemClock",
    "__version__",
]
