"""The public API of uh-billing: Stripe-versus-ledger reconciliation with exact money.

Examples:
    >>> from unified_health.billing import Money, parse_period
    >>> str(Money(1999, "usd") + Money(1, "usd"))
    '20.00 USD'
    >>> parse_period("2026-11-01", "America/New_York").hours
    25.0
"""

from unified_health.billing._bounded import match_records_bounded
from unified_health.billing._clock import Clock, SystemClock
from unified_health.billing._errors import (
    BillingError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    StoreUnavailableError,
)
from unified_health.billing._ledger import (
    CsvLedger,
    IterableLedger,
    LedgerSource,
    SqlLedger,
    read_ledger,
)
from unified_health.billing._locks import FileRunLock, RedisRunLock, RunLock
from unified_health.billing._matching import (
    SEVERITY,
    Finding,
    MatchOutcome,
    check_payouts,
    match_records,
)
from unified_health.billing._models import RunRecord, TrendPoint
from unified_health.billing._money import (
    CURRENCIES,
    CurrencyInfo,
    Money,
    currency_info,
    format_money,
    parse_amount,
    to_decimal,
)
from unified_health.billing._periods import Period, due_periods, parse_period, period_containing
from unified_health.billing._records import InputIssue, LedgerRecord, StripeRecord, ledger_record
from unified_health.billing._report import IssueView, Item, RecordView, Report, build_report
from unified_health.billing._service import ReconciliationService, StripeFetcher
from unified_health.billing._slack import Alerter, SlackAlerter, slack_payload
from unified_health.billing._stripe import RateLimiter, StripeSource, stripe_record
from unified_health.billing._version import __version__
from unified_health.billing._webhooks import verify_stripe_signature
from unified_health.billing.stores import (
    InMemoryReconciliationStore,
    PostgresReconciliationStore,
    ReconciliationStore,
    RedisClientProtocol,
    RedisReconciliationStore,
)

__all__ = [
    "Alerter",
    "BillingError",
    "CURRENCIES",
    "Clock",
    "ConflictError",
    "CsvLedger",
    "CurrencyInfo",
    "FileRunLock",
    "Finding",
    "InMemoryReconciliationStore",
    "InputIssue",
    "InvalidInputError",
    "IssueView",
    "Item",
    "IterableLedger",
    "LedgerRecord",
    "LedgerSource",
    "MatchOutcome",
    "Money",
    "NotFoundError",
    "Period",
    "PostgresReconciliationStore",
    "ProviderError",
    "RateLimitedError",
    "RateLimiter",
    "ReconciliationService",
    "ReconciliationStore",
    "RecordView",
    "RedisClientProtocol",
    "RedisReconciliationStore",
    "RedisRunLock",
    "Report",
    "RunLock",
    "RunRecord",
    "SEVERITY",
    "SlackAlerter",
    "SqlLedger",
    "StoreUnavailableError",
    "StripeFetcher",
    "StripeRecord",
    "StripeSource",
    "SystemClock",
    "TrendPoint",
    "__version__",
    "build_report",
    "check_payouts",
    "currency_info",
    "due_periods",
    "format_money",
    "ledger_record",
    "match_records",
    "match_records_bounded",
    "parse_amount",
    "parse_period",
    "period_containing",
    "read_ledger",
    "slack_payload",
    "stripe_record",
    "to_decimal",
    "verify_stripe_signature",
]
