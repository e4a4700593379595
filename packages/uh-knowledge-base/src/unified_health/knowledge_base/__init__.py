"""The public API of uh-knowledge-base.

A searchable help centre with typo-tolerant search and Markdown articles.

Examples:
    >>> import unified_health.knowledge_base as knowledge_base
    >>> isinstance(knowledge_base.__version__, str)
    True
"""

from unified_health.knowledge_base._errors import (
    ConflictError,
    InvalidInputError,
    KnowledgeBaseError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    StoreUnavailableError,
)
from unified_health.knowledge_base._version import __version__

__all__ = [
    "ConflictError",
    "InvalidInputError",
    "KnowledgeBaseError",
    "NotFoundError",
    "ProviderError",
    "RateLimitedError",
    "StoreUnavailableError",
    "__version__",
]
