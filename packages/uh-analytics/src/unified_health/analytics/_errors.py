"""The error tree of uh-analytics.

Every error this package raises derives from `AnalyticsError`::

    AnalyticsError
    ├── InvalidInputError      (also ValueError)    bad input; names the field and the rule
    ├── StoreUnavailableError  (also ConnectionError) the store could not be reached
    └── ProviderError                               a vendor answered with an error
        └── RateLimitedError                        the vendor said 429; see `retry_after`

Delivery is best-effort and never raises into the host: a vendor's failure is described by a
`ProviderError` (`RateLimitedError` for 429) handed to the client's ``on_error`` callback, and
by the `DeliveryFailure` in `AnalyticsClient.delivery_status()`.

Messages carry ids, field names and rules, never the values a user sent: a value may be patient
data. Errors raised because of another exception are always chained (`raise ... from exc`).
"""

from __future__ import annotations

__all__ = [
    "AnalyticsError",
    "InvalidInputError",
    "ProviderError",
    "RateLimitedError",
    "StoreUnavailableError",
]


class AnalyticsError(Exception):
    """Base class of every error raised by uh-analytics.

    Examples:
        >>> try:
        ...     raise InvalidInputError("key", "must not be empty")
        ... except AnalyticsError as exc:
        ...     print(exc)
        key: must not be empty
    """


class InvalidInputError(AnalyticsError, ValueError):
    """Input broke a rule. Names the field and the rule, never the value.

    Args:
        field: Dotted path of the offending field, e.g. ``"rules.0.operator"``.
        rule: The rule that was broken, e.g. ``"must be one of: in, not_in"``.

    Examples:
        >>> err = InvalidInputError("weight", "must be between 0 and 100000")
        >>> (err.field, err.rule)
        ('weight', 'must be between 0 and 100000')
    """

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class StoreUnavailableError(AnalyticsError, ConnectionError):
    """The backing store (Redis, a database) could not be reached or timed out.

    Examples:
        >>> isinstance(StoreUnavailableError("redis did not answer"), ConnectionError)
        True
    """


class ProviderError(AnalyticsError):
    """A vendor API answered with an error or could not be reached.

    Args:
        message: What failed, without secrets or patient data.
        status_code: The HTTP status, or ``None`` when no response arrived.
        request_id: The vendor's request id, when it sent one.
        retry_after: Seconds the vendor asked us to wait, when it said so.
        attempts: How many attempts the batch has had so far.
        provider: The provider's name.
        cause: ``dns``, ``connect``, ``timeout``, ``transport``, ``http_status``,
            ``rate_limit`` or ``spill_store``.

    Examples:
        >>> err = ProviderError("vendor answered 503", status_code=503, attempts=3,
        ...                     cause="http_status")
        >>> (err.status_code, err.attempts, err.cause)
        (503, 3, 'http_status')
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        attempts: int = 1,
        provider: str | None = None,
        cause: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.provider = provider
        self.cause = cause
        self.request_id = request_id
        self.retry_after = retry_after
        self.attempts = attempts
        super().__init__(message)


class RateLimitedError(ProviderError):
    """The vendor answered 429 Too Many Requests; ``retry_after`` says how long to wait.

    Examples:
        >>> RateLimitedError("rate limited", status_code=429, retry_after=2.0).retry_after
        2.0
    """
