"""The public API of uh-feature-flags.

Feature flags for health-care software: local evaluation in about a microsecond, Redis-backed
propagation in milliseconds, and a failure policy under which a Redis outage changes nothing a
patient sees.

Example:
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

from unified_health.feature_flags._admin import FeatureFlagAdmin
from unified_health.feature_flags._audit import AuditRecord, AuditVerification
from unified_health.feature_flags._client import FeatureFlagClient
from unified_health.feature_flags._config import Clock, SystemClock
from unified_health.feature_flags._errors import (
    ConflictError,
    FeatureFlagsError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    StoreUnavailableError,
)
from unified_health.feature_flags._exposure import ExposureEvent, ExposureRecorder, ExposureSink
from unified_health.feature_flags._models import (
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
    Target,
    WeightedVariant,
)
from unified_health.feature_flags._schedule import ScheduledChange, StaleFlag
from unified_health.feature_flags._version import __version__
from unified_health.feature_flags.stores import (
    FeatureFlagStore,
    InMemoryFeatureFlagStore,
    RedisFeatureFlagStore,
)

__all__ = [
    "AuditRecord",
    "AuditVerification",
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
    "ProviderError",
    "RateLimitedError",
    "Reason",
    "RedisFeatureFlagStore",
    "Rollout",
    "Rule",
    "ScheduledChange",
    "Segment",
    "SegmentRule",
    "StaleFlag",
    "StoreUnavailableError",
    "SystemClock",
    "Target",
    "WeightedVariant",
    "__version__",
]
