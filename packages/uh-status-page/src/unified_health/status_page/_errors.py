"""The error tree of uh-status-page.

Every error this package raises derives from `StatusPageError`::

    StatusPageError
    ├── InvalidInputError      (also ValueError)    bad input; names the field and the rule
    ├── NotFoundError          (also LookupError)   a `get_` found nothing
    ├── ConflictError                               a stale version or a duplicate key
    ├── StoreUnavailableError  (also ConnectionError) the store could not be reached
    └── ProviderError                               a vendor answered with an error
        └── RateLimitedError                        the vendor said 429; see `retry_after`

Messages carry ids, field names and rules, never the values a user sent: a value may be patient
data. Errors raised because of another exception are always chained (`raise ... from exc`).
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "InvalidInputError",
    "NotFoundError",
    "ProviderError",
    "RateLimitedError",
    "StatusPageError",
    "StoreUnavailableError",
]


class StatusPageError(Exception):
    """Base class of every error raised by uh-status-page.

    Examples:
        >>> try:
        ...     raise InvalidInputError("key", "must not be empty")
        ... except StatusPageError as exc:
        ...     print(exc)
        key: must not be empty
    """


class InvalidInputError(StatusPageError, ValueError):
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


class NotFoundError(StatusPageError, LookupError):
    """The named object does not exist.

    Args:
        kind: What was looked for, e.g. ``"flag"``.
        key: Its identifier (an id or key, never patient data).

    Examples:
        >>> str(NotFoundError("flag", "new-checkout"))
        "flag 'new-checkout' not found"
    """

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} not found")


class ConflictError(StatusPageError):
    """A write lost a race (stale version) or would duplicate an existing key.

    Examples:
        >>> str(ConflictError("version 4 is current, the write expected 3"))
        'version 4 is current, the write expected 3'
    """


class StoreUnavailableError(StatusPageError, ConnectionError):
    """The backing store (Redis, a database) could not be reached or timed out.

    Examples:
        >>> isinstance(StoreUnavailableError("redis did not answer"), ConnectionError)
        True
    """


class ProviderError(StatusPageError):
    """A vendor API answered with an error or could not be reached.

    Args:
        message: What failed, without secrets or patient data.
        status_code: The HTTP status, or ``None`` when no response arrived.
        request_id: The vendor's request id, when it sent one.
        retry_after: Seconds the vendor asked us to wait, when it said so.
        attempts: How many attempts were made before giving up.
        body: The vendor's error text (its ``message``), kept as an attribute and never put in
            the exception's message.

    Examples:
        >>> err = ProviderError("vendor answered 503", status_code=503, attempts=3)
        >>> (err.status_code, err.attempts)
        (503, 3)
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        attempts: int = 1,
        body: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.request_id = request_id
        self.retry_after = retry_after
        self.attempts = attempts
        super().__init__(message)


class RateLimitedError(ProviderError):
    """The vendor answered 420 or 429 (or the token's budget is spent); see ``retry_after``.

    Examples:
        >>> RateLimitedError("rate limited", status_code=429, retry_after=2.0).retry_after
        2.0
    """
