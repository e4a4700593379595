"""The public API of uh-knowledge-base.

A searchable help centre with typo-tolerant search and Markdown articles.

Examples:
    >>> from unified_health.knowledge_base import InMemoryRecordStore
    >>> store = InMemoryRecordStore()
    >>> store.put("r-1", {"status": "open"}, expected_version=0).version
    1
"""

from unified_health.knowledge_base._clock import Clock, SystemClock
from unified_health.knowledge_base._errors import (
    ConflictError,
    InvalidInputError,
    KnowledgeBaseError,
    StoreUnavailableError,
)
from unified_health.knowledge_base._models import Record
from unified_health.knowledge_base._version import __version__
from unified_health.knowledge_base.stores import (
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
    "KnowledgeBaseError",
    "Record",
    "RecordStore",
    "RedisClientProtocol",
    "RedisRecordStore",
    "StoreUnavailableError",
    "SystemClock",
    "__version__",
]
