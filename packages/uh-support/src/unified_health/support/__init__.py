"""The public API of uh-support.

Ticketing over Zendesk, Intercom or an internal store, with SLAs and CSAT.

Examples:
    >>> import unified_health.support as support
    >>> isinstance(support.__version__, str)
    True
"""

from unified_health.support._errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    StoreUnavailableError,
    SupportError,
)
from unified_health.support._version import __version__

__all__ = [
    "ConflictError",
    "InvalidInputError",
    "NotFoundError",
    "ProviderError",
    "RateLimitedError",
    "StoreUnavailableError",
    "SupportError",
    "__version__",
]
