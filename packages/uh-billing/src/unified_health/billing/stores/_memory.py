"""The in-memory `ReconciliationStore`: the embedded default, and the reference for the contract."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from types import TracebackType

from unified_health.billing._errors import ConflictError
from unified_health.billing._models import RunRecord, TrendPoint
from unified_health.billing._report import Report
from unified_health.billing.stores._common import (
    check_at,
    check_key,
    check_limit,
    check_report,
    newest_first,
    not_found,
    trend_points,
)

__all__ = ["InMemoryReconciliationStore"]


class InMemoryReconciliationStore:
    """A `ReconciliationStore` in this process's memory; thread-safe, lost on exit.

    Examples:
        >>> from datetime import UTC, datetime
        >>> store = InMemoryReconciliationStore()
        >>> at = datetime(2026, 11, 25, 6, tzinfo=UTC)
        >>> store.start_run("daily:2026-11-24:UTC:live", period="2026-11-24", at=at).attempts
        1
        >>> store.run_exists("daily:2026-11-24:UTC:live")
        True
    """

    def __init__(self) -> None:
        self._runs: dict[str, RunRecord] = {}
        self._reports: dict[str, str] = {}
        self._lock = threading.Lock()

    def start_run(self, run_key: str, *, period: str, at: datetime) -> RunRecord:
        """Start the run, or a new attempt of a running or failed one.

        Raises:
            ConflictError: The run already succeeded.
            InvalidInputError: A bad key, period or time.
        """
        check_key(run_key)
        check_at(at)
        with self._lock:
            current = self._runs.get(run_key)
            if current is not None and current.status == "succeeded":
                raise ConflictError(f"run {run_key!r} already succeeded")
            record = RunRecord(
                run_key=run_key,
                period=period,
                status="running",
                attempts=1 if current is None else current.attempts + 1,
                started_at=at,
            )
            self._runs[run_key] = record
            return record

    def finish_run(self, run_key: str, report: Report, *, at: datetime) -> RunRecord:
        """Store the report and mark the run succeeded.

        Raises:
            NotFoundError: No such run.
        """
        check_key(run_key)
        check_at(at)
        check_report(run_key, report)
        with self._lock:
            current = self._runs.get(run_key)
            if current is None:
                raise not_found(run_key)
            record = current.model_copy(
                update={
                    "status": "succeeded",
                    "finished_at": at,
                    "open_discrepancies": report.open_discrepancies,
                    "critical": report.critical,
                    "error_class": None,
                }
            )
            self._reports[run_key] = report.to_json()
            self._runs[run_key] = record
            return record

    def fail_run(self, run_key: str, *, error_class: str, at: datetime) -> RunRecord:
        """Mark the run failed.

        Raises:
            NotFoundError: No such run.
        """
        check_key(run_key)
        check_at(at)
        with self._lock:
            current = self._runs.get(run_key)
            if current is None:
                raise not_found(run_key)
            record = RunRecord(
                **{
                    **current.model_dump(),
                    "status": "failed",
                    "finished_at": at,
                    "error_class": str(error_class)[:200],
                }
            )
            self._runs[run_key] = record
            return record

    def get_run(self, run_key: str) -> RunRecord:
        """Return the run record.

        Raises:
            NotFoundError: No such run.
        """
        found = self._runs.get(check_key(run_key))
        if found is None:
            raise not_found(run_key)
        return found

    def run_exists(self, run_key: str) -> bool:
        """Return whether the run record exists."""
        return check_key(run_key) in self._runs

    def get_report(self, run_key: str) -> Report:
        """Return the report of a succeeded run.

        Raises:
            NotFoundError: No such run, or it has no report yet.
        """
        found = self._reports.get(check_key(run_key))
        if found is None:
            raise not_found(run_key)
        return Report.from_json(found)

    def list_runs(self) -> Iterator[RunRecord]:
        """Yield every run record, newest period first (a snapshot)."""
        with self._lock:
            records = list(self._runs.values())
        return iter(newest_first(records))

    def trend(self, kind: str = "daily", *, limit: int = 30) -> list[TrendPoint]:
        """Open discrepancies of the last ``limit`` succeeded runs of ``kind``, oldest first."""
        check_limit(limit)
        with self._lock:
            records = list(self._runs.values())
        return trend_points(records, kind, limit)

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> InMemoryReconciliationStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
