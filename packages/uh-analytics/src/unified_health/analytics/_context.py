"""Request-scoped analytics context on `contextvars`: who the current user is.

A web framework middleware opens `analytics_context(user_id=...)` around a request; every
`track()` inside it (threads started with `contextvars.copy_context()` and asyncio tasks included)
picks the user up without passing it explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["AnalyticsContext", "analytics_context", "current_context"]


@dataclass(frozen=True, slots=True)
class AnalyticsContext:
    """The identity and extra properties of the current request.

    Examples:
        >>> AnalyticsContext(user_id="user-1").user_id
        'user-1'
    """

    user_id: str | None = None
    anonymous_id: str | None = None
    properties: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


_CURRENT: ContextVar[AnalyticsContext | None] = ContextVar("uh_analytics_context", default=None)


def current_context() -> AnalyticsContext | None:
    """Return the innermost open `analytics_context`, or ``None``.

    Examples:
        >>> current_context() is None
        True
    """
    return _CURRENT.get()


@contextmanager
def analytics_context(
    *,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    properties: Mapping[str, Any] | None = None,
) -> Iterator[AnalyticsContext]:
    """Make ``user_id`` (and extra properties) current for `track()` calls inside the block.

    Nested contexts inherit what they do not set; properties merge, inner wins.

    Args:
        user_id: The signed-in user's id (raw; it is pseudonymised before delivery).
        anonymous_id: A device or session id for visitors who are not signed in.
        properties: Properties added to every event tracked inside the block.

    Yields:
        The context now current.

    Examples:
        >>> with analytics_context(user_id="user-1"):
        ...     current_context().user_id
        'user-1'
    """
    outer = _CURRENT.get()
    merged: dict[str, Any] = dict(outer.properties) if outer else {}
    merged.update(properties or {})
    ctx = AnalyticsContext(
        user_id=user_id if user_id is not None else (outer.user_id if outer else None),
        anonymous_id=(
            anonymous_id if anonymous_id is not None else (outer.anonymous_id if outer else None)
        ),
        properties=MappingProxyType(merged),
    )
    token = _CURRENT.set(ctx)
    try:
        yield ctx
    finally:
        _CURRENT.reset(token)
