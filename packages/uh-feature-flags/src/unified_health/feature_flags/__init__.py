"""The public API of uh-feature-flags.

Feature flags for health-care software: local evaluation in about a microsecond, Redis-backed
propagation in milliseconds, and a failure policy under which a Redis outage changes nothing a
patient sees.

Examples:
    >>> from unified_health.feature_flags import FeatureFlagAdmin, FeatureFlagClient, Flag
    >>> from unified_health.feature_flags import InMemoryFeatureFlagStore, Rollout
    >>> store = InMemoryFeatureFlagStore()
    >>> _ = FeatureFlagAdmin(store).create_flag(
    ...     Flag(key="new-feature", enabled=True, rollout=Rollout(percentage=100)),
    ...     actor="ops",
    ...     reason="launch",
    ... )
    >>> FeatureFlagClient(store).is_enabled("new-feature", {"user_id": "user-123"})
    True
"""

import importlib
import typing

from unified_health.feature_flags._admin import FeatureFlagAdmin
from unified_health.feature_flags._audit import AuditRecord, AuditVerification
from unified_health.feature_flags._changes import ChangeSet, ChangeSetResult
from unified_health.feature_flags._client import FeatureFlagClient
from unified_health.feature_flags._clock import Clock, SystemClock
from unified_health.feature_flags._errors import (
    ConflictError,
    FeatureFlagsError,
    InvalidInputError,
    NotFoundError,
    StoreUnavailableError,
)
from unified_health.feature_flags._exposure import ExposureEvent, ExposureRecorder, ExposureSink
from unified_health.feature_flags._models import (
    ClientStatus,
    Condition,
    ErrorCode,
    EvaluationContext,
    EvaluationResult,
    Flag,
    FlagChangeEvent,
    Operator,
    Prerequisite,
    Reason,
    Rollout,
    Rule,
    Segment,
    SegmentRule,
    SyncMetrics,
    Target,
    WeightedVariant,
)
from unified_health.feature_flags._schedule import ScheduledChange, StaleFlag
from unified_health.feature_flags._version import __version__
from unified_health.feature_flags.stores import (
    FeatureFlagStore,
    InMemoryFeatureFlagStore,
    RedisClientProtocol,
    RedisFeatureFlagStore,
)

if typing.TYPE_CHECKING:
    from unified_health.feature_flags._asgi import AdminAuthorize as AdminAuthorize
    from unified_health.feature_flags._asgi import Authorize as Authorize
    from unified_health.feature_flags._asgi import create_asgi_app as create_asgi_app
    from unified_health.feature_flags._openfeature import (
        FeatureFlagProvider as FeatureFlagProvider,
    )

# Exports that need an optional extra load on first use, so the core imports without them. They
# are not in __all__, so `from unified_health.feature_flags import *` works on a base install;
# import them by name (`from unified_health.feature_flags import create_asgi_app`).
_OPTIONAL_EXPORTS = {
    "AdminAuthorize": "unified_health.feature_flags._asgi",
    "Authorize": "unified_health.feature_flags._asgi",
    "FeatureFlagProvider": "unified_health.feature_flags._openfeature",
    "create_asgi_app": "unified_health.feature_flags._asgi",
}


def __getattr__(name: str) -> object:
    """Load the exports of the ``asgi`` and ``openfeature`` extras on first use."""
    module = _OPTIONAL_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "AuditRecord",
    "AuditVerification",
    "ChangeSet",
    "ChangeSetResult",
    "ClientStatus",
    "Clock",
    "Condition",
    "ConflictError",
    "ErrorCode",
    "EvaluationContext",
    "EvaluationResult",
    "ExposureEvent",
    "ExposureRecorder",
    "ExposureSink",
    "FeatureFlagAdmin",
    "FeatureFlagClient",
    "FeatureFlagStore",
    "FeatureFlagsError",
    "Flag",
    "FlagChangeEvent",
    "InMemoryFeatureFlagStore",
    "InvalidInputError",
    "NotFoundError",
    "Operator",
    "Prerequisite",
    "Reason",
    "RedisClientProtocol",
    "RedisFeatureFlagStore",
    "Rollout",
    "Rule",
    "ScheduledChange",
    "Segment",
    "SegmentRule",
    "StaleFlag",
    "StoreUnavailableError",
    "SyncMetrics",
    "SystemClock",
    "Target",
    "WeightedVariant",
    "__version__",
]
