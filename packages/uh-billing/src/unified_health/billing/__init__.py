"""The public API of uh-billing.

Stripe-versus-database reconciliation with discrepancy reports and alerts.

Examples:
    >>> import unified_health.billing as billing
    >>> isinstance(billing.__version__, str)
    True
"""

from unified_health.billing._errors import (
    BillingError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    StoreUnavailableError,
)
from unified_health.billing._version import __version__

__all__ = [
    "BillingError",
    "ConflictError",
    "InvalidInputError",
    "NotFoundError",
    "ProviderError",
    "RateLimitedError",
    "StoreUnavailableError",
    "__version__",
]
