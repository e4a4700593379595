"""Plumbing of `FeatureFlagClient`: status reporting from the sync thread, fork hooks, bootstrap.

Kept apart from ``_client`` so the client module holds the evaluation API and little else.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from unified_health.feature_flags._client import FeatureFlagClient

__all__ = [
    "Bootstrap",
    "fresh_event",
    "read_bootstrap",
    "register",
    "type_ok",
    "unregister",
]

Bootstrap = str | bytes | Mapping[str, Any] | os.PathLike[str]
_clients: weakref.WeakSet[FeatureFlagClient] = weakref.WeakSet()


def type_ok(value: Any, default: Any) -> bool:
    """Whether ``value`` may be served where the caller's default is ``default``.

    Args:
        value: The flag's value.
        default: The caller's default (``None`` accepts any value).

    Returns:
        Whether the types agree (a bool is not a number).

    Examples:
        >>> type_ok(3, 1.5), type_ok(True, 1)
        (True, False)
    """
    if default is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, Mapping | list):
        return isinstance(value, Mapping | list)
    return isinstance(value, type(default))


def read_bootstrap(bootstrap: Bootstrap) -> str | bytes | Mapping[str, Any]:
    """Return the bootstrap document, reading it from disk when given a path.

    Args:
        bootstrap: A document or a path to one.

    Returns:
        The document.

    Examples:
        >>> read_bootstrap('{"version": 1}')
        '{"version": 1}'
    """
    if isinstance(bootstrap, os.PathLike):
        return Path(bootstrap).read_bytes()
    return bootstrap


def register(client: FeatureFlagClient) -> None:
    """Include ``client`` in the process's fork hooks (until it is garbage or closed).

    Args:
        client: The client.

    Examples:
        >>> from unified_health.feature_flags import FeatureFlagClient
        >>> client = FeatureFlagClient(background=False)  # a client registers itself
        >>> client in _clients
        True
    """
    _clients.add(client)


def unregister(client: FeatureFlagClient) -> None:
    """Leave the fork hooks (on close).

    Args:
        client: The client.

    Examples:
        >>> from unified_health.feature_flags import FeatureFlagClient
        >>> client = FeatureFlagClient(background=False)
        >>> unregister(client)
        >>> client in _clients
        False
    """
    _clients.discard(client)


def fresh_event(event: threading.Event) -> threading.Event:
    """Return a new event in the same state (a forked child must not share the parent's lock).

    Args:
        event: The inherited event.

    Returns:
        A new event, set when ``event`` was.

    Examples:
        >>> done = threading.Event()
        >>> done.set()
        >>> fresh_event(done).is_set()
        True
    """
    fresh = threading.Event()
    if event.is_set():
        fresh.set()
    return fresh


def _fork_before() -> None:
    for client in list(_clients):
        client._before_fork()


def _fork_after_in_parent() -> None:
    for client in list(_clients):
        client._after_fork_in_parent()


def _fork_after_in_child() -> None:
    for client in list(_clients):
        client._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_fork_before,
        after_in_parent=_fork_after_in_parent,
        after_in_child=_fork_after_in_child,
    )
