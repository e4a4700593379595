"""The public API of uh-impersonation.

Audited, ticket-bound, time-limited support impersonation.

Examples:
    >>> import unified_health.impersonation as impersonation
    >>> isinstance(impersonation.__version__, str)
    True
"""

from unified_health.impersonation._errors import (
    ConflictError,
    ImpersonationError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    StoreUnavailableError,
)
from unified_health.impersonation._version import __version__

__all__ = [
    "ConflictError",
    "ImpersonationError",
    "InvalidInputError",
    "NotFoundError",
    "ProviderError",
    "RateLimitedError",
    "StoreUnavailableError",
    "__version__",
]
