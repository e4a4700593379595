"""The public API of uh-impersonation.

Audited, ticket-bound, time-limited support impersonation.

Examples:
    >>> from unified_health.impersonation import InMemoryRecordStore
    >>> store = InMemoryRecordStore()
    >>> store.put("r-1", {"status": "open"}, expected_version=0).version
    1
"""

from unified_health.impersonation._clock import Clock, SystemClock
from unified_health.impersonation._errors import (
    ConflictError,
    ImpersonationError,
    InvalidInputError,
    StoreUnavailableError,
)
from unified_health.impersonation._models import Record
from unified_health.impersonation._version import __version__
from unified_health.impersonation.stores import (
    InMemoryRecordStore,
    RecordStore,
    RedisClientProtocol,
    RedisRecordStore,
)

__all__ = [
    "Clock",
    "ConflictError",
    "ImpersonationError",
    "InMemoryRecordStore",
    "InvalidInputError",
    "Record",
    "RecordStore",
    "RedisClientProtocol",
    "RedisRecordStore",
    "StoreUnavailableError",
    "SystemClock",
    "__version__",
]
