"""The public API of uh-impersonation.

Audited, ticket-bound, time-limited support impersonation.

Examples:
    >>> from unified_health.impersonation import ImpersonationService, Principal
    >>> service = ImpersonationService()
    >>> agent = Principal(user_id="agent-7", role="support_agent", login_session_id="ls-1")
    >>> patient = Principal(user_id="patient-42", role="patient")
    >>> started = service.start(agent, patient, ticket_id="ZD-48213", reason="Cannot see labs")
    >>> service.validate(started.token).valid
    True
"""

from unified_health.impersonation._audit import AuditTrail, fhir_audit_event, verify_export
from unified_health.impersonation._claims import (
    ImpersonationClaims,
    claims_from_session,
    parse_claims,
)
from unified_health.impersonation._clock import Clock, SystemClock
from unified_health.impersonation._errors import (
    ConflictError,
    ImpersonationDeniedError,
    ImpersonationError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    StoreUnavailableError,
)
from unified_health.impersonation._models import (
    ApprovalRequest,
    AuditAction,
    AuditEvent,
    AuditRecord,
    Checkpoint,
    ImpersonationSession,
    NewSession,
    Principal,
    SessionStatus,
    StartedImpersonation,
    Validation,
    VerifyReport,
)
from unified_health.impersonation._notify import (
    ImpersonationNotice,
    InMemoryNotifier,
    NoopNotifier,
    Notifier,
    WebhookNotifier,
    sign_webhook,
)
from unified_health.impersonation._policy import (
    DEFAULT_ROLES,
    MAX_DURATION,
    DenialReason,
    ImpersonationPolicy,
    Role,
    sanitize_reason,
)
from unified_health.impersonation._service import ImpersonationService
from unified_health.impersonation._version import __version__
from unified_health.impersonation.stores import (
    AuditLog,
    ImpersonationStore,
    InMemoryAuditLog,
    InMemoryImpersonationStore,
    RedisAuditLog,
    RedisClientProtocol,
    RedisImpersonationStore,
    redis_persistence_warnings,
)
from unified_health.impersonation.stores._postgres import PostgresAuditLog

__all__ = [
    "ApprovalRequest",
    "AuditAction",
    "AuditEvent",
    "AuditLog",
    "AuditRecord",
    "AuditTrail",
    "Checkpoint",
    "Clock",
    "ConflictError",
    "DEFAULT_ROLES",
    "DenialReason",
    "ImpersonationClaims",
    "ImpersonationDeniedError",
    "ImpersonationError",
    "ImpersonationNotice",
    "ImpersonationPolicy",
    "ImpersonationService",
    "ImpersonationSession",
    "ImpersonationStore",
    "InMemoryAuditLog",
    "InMemoryImpersonationStore",
    "InMemoryNotifier",
    "InvalidInputError",
    "MAX_DURATION",
    "NewSession",
    "NoopNotifier",
    "NotFoundError",
    "Notifier",
    "PostgresAuditLog",
    "Principal",
    "ProviderError",
    "RateLimitedError",
    "RedisAuditLog",
    "RedisClientProtocol",
    "RedisImpersonationStore",
    "Role",
    "SessionStatus",
    "StartedImpersonation",
    "StoreUnavailableError",
    "SystemClock",
    "Validation",
    "VerifyReport",
    "WebhookNotifier",
    "__version__",
    "claims_from_session",
    "fhir_audit_event",
    "parse_claims",
    "redis_persistence_warnings",
    "sanitize_reason",
    "sign_webhook",
    "verify_export",
]
