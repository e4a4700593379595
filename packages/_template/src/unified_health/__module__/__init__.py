"""The public API of {{dist}}.

{{summary}}

Examples:
    >>> import unified_health.{{module}} as {{module}}
    >>> isinstance({{module}}.__version__, str)
    True
"""

from unified_health.{{module}}._errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    StoreUnavailableError,
    {{error_base}},
)
from unified_health.{{module}}._version import __version__

__all__ = [
    "ConflictError",
    "InvalidInputError",
    "NotFoundError",
    "ProviderError",
    "RateLimitedError",
    "StoreUnavailableError",
    "{{error_base}}",
    "__version__",
]
