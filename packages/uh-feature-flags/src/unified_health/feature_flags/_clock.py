"""Time, injected: the one place in uh-feature-flags that reads the system clock.

Every component that needs the time takes a `Clock`; tests pass
`unified_health.feature_flags.testing.FakeClock`. No other module of the package calls
`time.time()`, `time.monotonic()`, `datetime.now()` or `date.today()`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """What the package needs to know about time: aware UTC wall time and a monotonic counter.

    Examples:
        >>> isinstance(SystemClock(), Clock)
        True
    """

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Return a monotonic time in seconds, for measuring intervals."""
        ...


class SystemClock:
    """The real clock.

    Examples:
        >>> SystemClock().now().tzinfo
        datetime.timezone.utc
    """

    def now(self) -> datetime:
        """Return `datetime.now(UTC)`."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """Return `time.monotonic()`."""
        return time.monotonic()
