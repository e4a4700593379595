"""What a reconciliation store must do, and the Redis commands the Redis store uses.

The contract (held by one test suite run against memory, Redis and PostgreSQL):

- ``start_run`` creates the run record (status ``running``, attempt 1) or starts a new attempt of
  a ``running`` or ``failed`` one; a run that ``succeeded`` raises `ConflictError` and changes
  nothing, so each period runs once.
- ``finish_run`` stores the report and marks the run ``succeeded``; ``fail_run`` marks it
  ``failed`` with the exception's class name, so it can be re-run. Both raise `NotFoundError`
  for an unknown run.
- ``get_run`` and ``get_report`` raise `NotFoundError`; ``run_exists`` returns a bool.
- ``list_runs`` yields every run record, newest period first; ``trend`` returns the open
  discrepancies of the last ``limit`` succeeded runs of a period kind, oldest first.
- A store that cannot reach its backend raises `StoreUnavailableError`, never a driver error.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from unified_health.billing._models import RunRecord, TrendPoint
from unified_health.billing._report import Report

__all__ = ["ReconciliationStore", "RedisClientProtocol"]


@runtime_checkable
class ReconciliationStore(Protocol):
    """Run records and reports of reconciliation runs, with history and trend.

    Examples:
        >>> from unified_health.billing import InMemoryReconciliationStore
        >>> isinstance(InMemoryReconciliationStore(), ReconciliationStore)
        True
    """

    def start_run(self, run_key: str, *, period: str, at: datetime) -> RunRecord:
        """Start (or restart after a failure) the run ``run_key``."""
        ...

    def finish_run(self, run_key: str, report: Report, *, at: datetime) -> RunRecord:
        """Store ``report`` and mark the run succeeded."""
        ...

    def fail_run(self, run_key: str, *, error_class: str, at: datetime) -> RunRecord:
        """Mark the run failed with the exception's class name."""
        ...

    def get_run(self, run_key: str) -> RunRecord:
        """Return the run record."""
        ...

    def run_exists(self, run_key: str) -> bool:
        """Return whether a run record exists."""
        ...

    def get_report(self, run_key: str) -> Report:
        """Return the report of a succeeded run."""
        ...

    def list_runs(self) -> Iterator[RunRecord]:
        """Yield every run record, newest period first."""
        ...

    def trend(self, kind: str = "daily", *, limit: int = 30) -> list[TrendPoint]:
        """Open discrepancies of the last ``limit`` succeeded runs of ``kind``, oldest first."""
        ...

    def close(self) -> None:
        """Release what the store opened itself (never an injected client or connection)."""
        ...


@runtime_checkable
class RedisClientProtocol(Protocol):
    """The Redis commands the package uses; ``redis.Redis`` or any compatible client has them.

    Examples:
        >>> import redis
        >>> isinstance(redis.Redis(), RedisClientProtocol)
        True
    """

    def eval(self, script: str, numkeys: int, *keys_and_args: Any) -> Any:
        """Run a Lua script."""
        ...

    def hget(self, name: str, key: str) -> Any:
        """Read one field of a hash."""
        ...

    def hscan(self, name: str, cursor: int = 0, match: Any = None, count: int | None = None) -> Any:
        """Page through a hash."""
        ...

    def set(self, name: str, value: Any, ex: Any = None, px: Any = None, nx: bool = False) -> Any:
        """Set a key (the run lock uses ``NX`` with an expiry)."""
        ...

    def close(self) -> None:
        """Close the client's connections."""
        ...
