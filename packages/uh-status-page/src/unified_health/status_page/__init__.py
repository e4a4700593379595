"""The public API of uh-status-page.

Statuspage.io components, incidents, maintenance windows and synthetic probes.

Examples:
    >>> import unified_health.status_page as status_page
    >>> isinstance(status_page.__version__, str)
    True
"""

from unified_health.status_page._errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    StatusPageError,
    StoreUnavailableError,
)
from unified_health.status_page._version import __version__

__all__ = [
    "ConflictError",
    "InvalidInputError",
    "NotFoundError",
    "ProviderError",
    "RateLimitedError",
    "StatusPageError",
    "StoreUnavailableError",
    "__version__",
]
