"""The public API of {{dist}}.

{{summary}}

Examples:
    >>> from unified_health.{{module}} import InMemoryRecordStore
    >>> store = InMemoryRecordStore()
    >>> store.put("r-1", {"status": "open"}, expected_version=0).version
    1
"""

from unified_health.{{module}}._clock import Clock, SystemClock
from unified_health.{{module}}._errors import (
    ConflictError,
    InvalidInputError,
    StoreUnavailableError,
    {{error_base}},
)
from unified_health.{{module}}._models import Record
from unified_health.{{module}}._version import __version__
from unified_health.{{module}}.stores import (
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
    "SystemClock",
    "{{error_base}}",
    "__version__",
]
