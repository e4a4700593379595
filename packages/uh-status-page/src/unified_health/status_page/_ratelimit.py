"""The request budget of a Statuspage token: never more than ``limit`` requests in any window.

Statuspage allows about one request per second per token over a rolling minute and answers 420
or 429 with ``Retry-After`` beyond that. `RateLimiter` admits a request only when the sliding log
of its bucket (one per token) holds fewer than ``limit`` entries in the last ``window`` seconds.
The log lives in a `StatusPageStore`: in memory it binds the threads of one process; in Redis it
binds every process sharing the token, and a pause set after one worker's 420/429 stops all of
them until the vendor's ``Retry-After`` has passed.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from unified_health.status_page._clock import Clock, SystemClock
from unified_health.status_page._errors import InvalidInputError, RateLimitedError
from unified_health.status_page._logging import logger
from unified_health.status_page.stores._memory import InMemoryStatusPageStore
from unified_health.status_page.stores._protocol import StatusPageStore

__all__ = ["RateLimiter", "token_bucket"]


def token_bucket(api_key: str) -> str:
    """Name the rate-limit bucket of a token without storing the token itself.

    Args:
        api_key: The Statuspage API key.

    Returns:
        ``"token-"`` and the first 16 hex digits of the key's SHA-256.

    Examples:
        >>> token_bucket("secret-key")
        'token-85dbe15d75ef9308'
    """
    return "token-" + hashlib.sha256(api_key.encode()).hexdigest()[:16]


class RateLimiter:
    """Admits requests so that no ``window`` seconds ever hold more than ``limit`` of them.

    Args:
        bucket: What the budget belongs to (`token_bucket` of the API key).
        store: Where the sliding log lives: `InMemoryStatusPageStore` (one process, the default)
            or `RedisStatusPageStore` (every process on the same Redis and prefix).
        limit: Requests allowed per window (60 for Statuspage).
        window: The rolling window in seconds (60 for Statuspage).
        margin: Seconds added to the window, so that network delay between admitting a request
            and the vendor receiving it cannot crowd more than ``limit`` into the vendor's window.
        clock: Source of wall time (the log holds epoch seconds, shared between hosts).
        sleep: How to wait; a `FakeClock`'s ``sleep`` in tests.

    Examples:
        >>> from unified_health.status_page.testing import FakeClock
        >>> clock = FakeClock()
        >>> limiter = RateLimiter("token-x", limit=2, window=10.0, margin=0.0,
        ...                       clock=clock, sleep=clock.sleep)
        >>> [limiter.acquire() for _ in range(3)]
        [0.0, 0.0, 10.0]
        >>> clock.sleeps
        [10.0]
    """

    def __init__(
        self,
        bucket: str,
        *,
        store: StatusPageStore | None = None,
        limit: int = 60,
        window: float = 60.0,
        margin: float = 0.5,
        clock: Clock | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        given: object = margin
        if isinstance(given, bool) or not isinstance(given, int | float) or given < 0:
            raise InvalidInputError("margin", "must be a number of seconds >= 0")
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._store: StatusPageStore = (
            store if store is not None else InMemoryStatusPageStore(clock=self._clock)
        )
        self._sleep = sleep if sleep is not None else time.sleep
        given_limit: object = limit
        if isinstance(given_limit, bool) or not isinstance(given_limit, int) or given_limit < 1:
            raise InvalidInputError("limit", "must be an int >= 1")
        given_window: object = window
        if (
            isinstance(given_window, bool)
            or not isinstance(given_window, int | float)
            or given_window <= 0
        ):
            raise InvalidInputError("window", "must be a number of seconds > 0")
        self.bucket = bucket
        self.limit = limit
        self.window = float(window) + float(margin)

    def acquire(self, *, max_wait: float | None = None) -> float:
        """Wait until a request may be sent, and take its slot.

        Args:
            max_wait: Give up after waiting this many seconds in total (``None``: wait as long as
                the budget needs).

        Returns:
            The seconds spent waiting.

        Raises:
            RateLimitedError: ``max_wait`` passed without a free slot.
            StoreUnavailableError: The shared store could not be reached.
        """
        waited = 0.0
        while True:
            wait = self._store.take_slot(
                self.bucket, now=self._clock.now().timestamp(), limit=self.limit, window=self.window
            )
            if wait <= 0:
                return waited
            if max_wait is not None and waited + wait > max_wait:
                raise RateLimitedError(
                    "the token's request budget is spent", retry_after=round(wait, 3)
                )
            self._sleep(wait)
            waited += wait

    def pause(self, seconds: float) -> None:
        """Stop every worker on this bucket for ``seconds`` (after a 420/429 from the vendor).

        Args:
            seconds: The vendor's ``Retry-After``.
        """
        until = self._clock.now().timestamp() + max(float(seconds), 0.0)
        self._store.pause_bucket(self.bucket, until=until)
        logger.warning("rate_limit_paused", bucket=self.bucket, seconds=round(seconds, 3))
