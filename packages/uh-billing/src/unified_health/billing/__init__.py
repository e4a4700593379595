"""The public API of uh-billing.

Stripe-versus-database reconciliation with discrepancy reports and alerts.

Examples:
    >>> from unified_health.billing import InMemoryRecordStore
    >>> store = InMemoryRecordStore()
    >>> store.put("r-1", {"status": "open"}, expected_version=0).version
    1
"""

from unified_health.billing._clock import Clock, SystemClock
from unified_health.billing._errors import (
    BillingError,
    ConflictError,
    InvalidInputError,
    StoreUnavailableError,
)
from unified_health.billing._models import Record
from unified_health.billing._version import __version__
from unified_health.billing.stores import (
    InMemoryRecordStore,
    RecordStore,
    RedisClientProtocol,
    RedisRecordStore,
)

__all__ = [
    "BillingError",
    "Clock",
    "ConflictError",
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
