"""Process lifecycle of analytics clients: drain at interpreter exit, restart after ``fork()``.

Every live client is registered here. At exit each one drains its queues (unless created with
``register_atexit=False``); in a forked child each one gets fresh locks and sender threads, and
``multiprocessing`` children, which end with ``os._exit`` and skip ``atexit``, drain in a
finaliser instead.
"""

from __future__ import annotations

import atexit
import os
import weakref
from typing import Protocol

from unified_health.analytics._logging import logger

__all__ = ["Managed", "register", "restart_in_child", "unregister"]


class Managed(Protocol):
    """What the registry needs of a client."""

    def _shutdown_at_exit(self) -> None:
        """Drain now, if this client asked to be drained at exit."""

    def _restart_if_forked(self) -> None:
        """In a forked child, renew locks and sender threads (no-op in the creating process)."""


_CLIENTS: weakref.WeakSet[Managed] = weakref.WeakSet()


def register(client: Managed) -> None:
    """Track ``client`` for exit and fork handling."""
    _CLIENTS.add(client)
    _register_multiprocessing_hook(client)


def unregister(client: Managed) -> None:
    """Forget ``client`` (it was shut down)."""
    _CLIENTS.discard(client)


def restart_in_child() -> None:
    """Restart every client inherited through ``fork()``; also run by the fork hook."""
    for client in list(_CLIENTS):
        client._restart_if_forked()


def _at_exit() -> None:
    for client in list(_CLIENTS):
        try:
            client._shutdown_at_exit()
        except Exception:  # noqa: BLE001 - one client must not stop the others
            logger.warning("exit_shutdown_failed")


def _shutdown_ref(ref: weakref.ref[Managed]) -> None:
    client = ref()
    if client is not None:
        client._shutdown_at_exit()


def _finalize_in_child(client: Managed) -> None:
    import multiprocessing.util as mp_util

    mp_util.Finalize(None, _shutdown_ref, args=(weakref.ref(client),), exitpriority=100)


def _register_multiprocessing_hook(client: Managed) -> None:
    """Multiprocessing children end with ``os._exit``, skipping atexit: drain in a finaliser.

    The finaliser is registered in the child (the child's registry starts empty), through the
    after-fork hook multiprocessing runs once it has set the child up.
    """
    import multiprocessing.util as mp_util

    mp_util.register_after_fork(client, _finalize_in_child)


atexit.register(_at_exit)
os.register_at_fork(after_in_child=restart_in_child)
