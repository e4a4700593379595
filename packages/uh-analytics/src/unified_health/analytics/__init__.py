"""The public API of uh-analytics.

Product analytics that cannot leak patient data.

Example:
    >>> import unified_health.analytics as analytics
    >>> isinstance(analytics.__version__, str)
    True
"""

from unified_health.analytics._errors import (
    AnalyticsError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    StoreUnavailableError,
)
from unified_health.analytics._version import __version__

__all__ = [
    "AnalyticsError",
    "ConflictError",
    "InvalidInputError",
    "NotFoundError",
    "ProviderError",
    "RateLimitedError",
    "StoreUnavailableError",
    "__version__",
]
