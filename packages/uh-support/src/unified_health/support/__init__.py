"""The public API of uh-support.

Ticketing over Zendesk, Intercom or an internal store, with SLAs and CSAT.

Examples:
    >>> from unified_health.support import InMemoryRecordStore
    >>> store = InMemoryRecordStore()
    >>> store.put("r-1", {"status": "open"}, expected_version=0).version
    1
"""

from unified_health.support._clock import Clock, SystemClock
from unified_health.support._errors import (
    ConflictError,
    InvalidInputError,
    StoreUnavailableError,
    SupportError,
)
from unified_health.support._models import Record
from unified_health.support._version import __version__
from unified_health.support.stores import (
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
    "StoreUnavailableError",
    "SupportError",
    "SystemClock",
    "__version__",
]
