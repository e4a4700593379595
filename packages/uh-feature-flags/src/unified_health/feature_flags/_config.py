"""Configuration: environment variables, synchronisation defaults and the reconnection backoff.

The ``from_env`` factories read `ENV_REDIS_URL` and `ENV_PREFIX`; the client's background
synchronisation uses the defaults and `Backoff` below.
"""

from __future__ import annotations

import math
import os
import random
import weakref
from collections.abc import Mapping

from unified_health.feature_flags._errors import InvalidInputError

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_STALE_AFTER",
    "ENV_PREFIX",
    "ENV_REDIS_URL",
    "Backoff",
    "check_seconds",
    "reconnect_cap",
    "redis_settings_from_env",
]

ENV_REDIS_URL = "UH_FEATURE_FLAGS_REDIS_URL"
"""The environment variable holding the Redis URL (required by the ``from_env`` factories)."""

ENV_PREFIX = "UH_FEATURE_FLAGS_PREFIX"
"""The environment variable holding the key prefix (optional)."""

DEFAULT_POLL_INTERVAL = 5.0
"""Seconds between reconciliation polls that catch lost change announcements.

It also bounds recovery: after the store answers again, a change is seen within this interval
(reconnection attempts are at most half of it apart)."""

DEFAULT_STALE_AFTER = 300.0
"""Seconds without contact with the store after which results carry reason ``STALE``."""


def redis_settings_from_env(
    environ: Mapping[str, str] | None, default_prefix: str
) -> tuple[str, str]:
    """Read the Redis URL and key prefix from ``environ`` (``os.environ`` when ``None``).

    Args:
        environ: The environment to read.
        default_prefix: The prefix when ``UH_FEATURE_FLAGS_PREFIX`` is unset or empty.

    Returns:
        ``(url, prefix)``.

    Raises:
        InvalidInputError: ``UH_FEATURE_FLAGS_REDIS_URL`` is unset or empty.

    Examples:
        >>> redis_settings_from_env({"UH_FEATURE_FLAGS_REDIS_URL": "redis://r:6379/0"}, "uh:ff")
        ('redis://r:6379/0', 'uh:ff')
        >>> try:
        ...     redis_settings_from_env({}, "uh:ff")
        ... except InvalidInputError as err:
        ...     print(err)
        UH_FEATURE_FLAGS_REDIS_URL: must be set
    """
    env = os.environ if environ is None else environ
    url = env.get(ENV_REDIS_URL, "")
    if not url:
        raise InvalidInputError(ENV_REDIS_URL, "must be set")
    return url, env.get(ENV_PREFIX, "") or default_prefix


def reconnect_cap(poll_interval: float, reconnect_max_delay: float | None) -> float:
    """The longest pause between reconnection attempts: at most half the poll interval.

    Args:
        poll_interval: The client's poll interval, in seconds.
        reconnect_max_delay: The configured ceiling, or ``None`` for half the poll interval.

    Returns:
        The ceiling the backoff uses.

    Examples:
        >>> reconnect_cap(5.0, None), reconnect_cap(5.0, 30.0), reconnect_cap(5.0, 0.5)
        (2.5, 2.5, 0.5)
    """
    half = poll_interval / 2
    return half if reconnect_max_delay is None else min(half, reconnect_max_delay)


def check_seconds(name: str, value: object, *, allow_none: bool = False) -> None:
    """Refuse a duration that is not a finite number of seconds > 0.

    Raises:
        InvalidInputError: Naming the argument.

    Examples:
        >>> try:
        ...     check_seconds("poll_interval", "5")
        ... except InvalidInputError as err:
        ...     print(err)
        poll_interval: must be a number of seconds > 0
    """
    if value is None and allow_none:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise InvalidInputError(name, "must be a number of seconds > 0")


class Backoff:
    """Exponential backoff with full jitter: delay ``n`` is uniform in ``[0, min(cap, base*2**n)]``.

    Args:
        base: The first ceiling, in seconds.
        cap: The largest ceiling, in seconds.
        seed: Seed for the jitter, for reproducible tests. Without one the jitter is reseeded
            from the OS in every forked child, so workers forked from one parent spread out.

    Examples:
        >>> backoff = Backoff(base=0.5, cap=4.0, seed=7)
        >>> all(0 <= backoff.next() <= 4.0 for _ in range(10))
        True
    """

    def __init__(self, *, base: float = 0.1, cap: float = 30.0, seed: int | None = None) -> None:
        self._base = base
        self._cap = cap
        self._attempt = 0
        self._random = random.Random(seed)  # noqa: S311 - jitter, not cryptography
        if seed is None:
            _unseeded.add(self)

    def next(self) -> float:
        """Return the next delay and count the attempt."""
        ceiling = min(self._cap, self._base * (2 ** min(self._attempt, 32)))
        self._attempt += 1
        return self._random.uniform(0, ceiling)

    def reset(self) -> None:
        """Start again from the first delay (after a success)."""
        self._attempt = 0


_unseeded: weakref.WeakSet[Backoff] = weakref.WeakSet()


def _reseed_after_fork() -> None:
    for backoff in list(_unseeded):
        backoff._random.seed()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reseed_after_fork)
