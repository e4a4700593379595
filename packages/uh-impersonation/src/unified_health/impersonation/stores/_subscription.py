"""A running revocation feed, as the stores hand it out."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Subscription"]


class Subscription:
    """A running revocation feed; `close` stops it.

    Examples:
        >>> stopped = []
        >>> Subscription(lambda: stopped.append(True)).close()
        >>> stopped
        [True]
    """

    def __init__(self, stop: Callable[[], object]) -> None:
        self._stop = stop

    def close(self) -> None:
        """Stop receiving revocations."""
        self._stop()
