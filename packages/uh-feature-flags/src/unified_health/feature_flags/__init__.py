"""The public API of uh-feature-flags.

Feature flags: local evaluation, Redis propagation, admin API, OFREP, OpenFeature.

Example:
    >>> import unified_health.feature_flags as feature_flags
    >>> isinstance(feature_flags.__version__, str)
    True
"""

from unified_health.feature_flags._errors import (
    ConflictError,
    FeatureFlagsError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    StoreUnavailableError,
)
from unified_health.feature_flags._version import __version__

__all__ = [
    "ConflictError",
    "FeatureFlagsError",
    "InvalidInputError",
    "NotFoundError",
    "ProviderError",
    "RateLimitedError",
    "StoreUnavailableError",
    "__version__",
]
