"""The PostgreSQL `ReconciliationStore` (psycopg 3), over your connection or pool.

Tables (created by `PostgresReconciliationStore.migrate`, idempotent; the prefix is configurable)::

    uh_billing_runs      run_key text primary key, period text, kind text, status text,
                         attempts int, started_at timestamptz, finished_at timestamptz,
                         open_discrepancies int, critical int, error_class text
    uh_billing_reports   run_key text primary key references uh_billing_runs, body text (JSON)

Every change is one statement (``INSERT ... ON CONFLICT ... WHERE status <> 'succeeded'``) or one
transaction, so two workers never both start a succeeded period and a failed write changes nothing.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import Any

from unified_health.billing._errors import (
    ConflictError,
    InvalidInputError,
    StoreUnavailableError,
)
from unified_health.billing._logging import logger
from unified_health.billing._models import RunRecord, TrendPoint
from unified_health.billing._report import Report
from unified_health.billing.stores._common import (
    check_at,
    check_key,
    check_limit,
    check_report,
    not_found,
)

__all__ = ["PostgresReconciliationStore"]

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")
_COLUMNS = (
    "run_key, period, status, attempts, started_at, finished_at, open_discrepancies, critical,"
    " error_class"
)


def _record(row: tuple[Any, ...]) -> RunRecord:
    names = [n.strip() for n in _COLUMNS.split(",")]
    return RunRecord(**dict(zip(names, row, strict=True)))


class PostgresReconciliationStore:
    """A `ReconciliationStore` on PostgreSQL through psycopg 3.

    Args:
        connection: A ``psycopg.Connection`` or a ``psycopg_pool.ConnectionPool``; never closed
            by the store.
        table_prefix: Prefix of the two table names (lower-case letters, digits, ``_``).

    Raises:
        InvalidInputError: Not a connection or pool, or a bad prefix.

    Examples:
        >>> try:
        ...     PostgresReconciliationStore("postgresql://127.0.0.1/test")
        ... except InvalidInputError as err:
        ...     print(err.field)
        connection
    """

    def __init__(self, connection: Any, *, table_prefix: str = "uh_billing") -> None:
        if isinstance(connection, str | bytes) or not (
            hasattr(connection, "cursor") or hasattr(connection, "connection")
        ):
            raise InvalidInputError(
                "connection",
                "must be a psycopg connection or pool; for a URL use "
                "PostgresReconciliationStore.from_url(url)",
            )
        given_prefix: object = table_prefix
        if not isinstance(given_prefix, str) or not _NAME.match(given_prefix):
            raise InvalidInputError("table_prefix", "must match [a-z_][a-z0-9_]{0,40}")
        self._connection = connection
        self._lock = threading.Lock()
        self._owns = False
        self.runs_table = f"{table_prefix}_runs"
        self.reports_table = f"{table_prefix}_reports"

    @classmethod
    def from_url(
        cls, url: str, *, table_prefix: str = "uh_billing", connect_timeout: int = 5
    ) -> PostgresReconciliationStore:
        """Connect to ``url`` with a connection the store owns and closes in `close`.

        Args:
            url: A ``postgresql://`` URL.
            table_prefix: Prefix of the table names.
            connect_timeout: Seconds a connection attempt may take.

        Returns:
            The store.

        Raises:
            InvalidInputError: Not a PostgreSQL URL.
            StoreUnavailableError: The server could not be reached.

        Examples:
            >>> try:
            ...     PostgresReconciliationStore.from_url("mysql://127.0.0.1/test")
            ... except InvalidInputError as err:
            ...     print(err.rule)
            must be a postgresql:// or postgres:// URL
        """
        import psycopg

        given_url: object = url
        if not isinstance(given_url, str) or not given_url.startswith(
            ("postgresql://", "postgres://")
        ):
            raise InvalidInputError("url", "must be a postgresql:// or postgres:// URL")
        try:
            connection = psycopg.connect(url, autocommit=True, connect_timeout=connect_timeout)
        except psycopg.Error as exc:
            logger.warning("store_connect_failed", error_class=type(exc).__name__)
            raise StoreUnavailableError(
                f"postgresql connect failed ({type(exc).__name__})"
            ) from exc
        store = cls(connection, table_prefix=table_prefix)
        store._owns = True
        return store

    @contextmanager
    def _transaction(self, operation: str) -> Iterator[Any]:
        import psycopg

        try:
            if hasattr(self._connection, "cursor"):
                # One connection holds one transaction at a time: threads take turns.
                with (
                    self._lock,
                    self._connection.transaction(),
                    self._connection.cursor() as cursor,
                ):
                    yield cursor
            else:
                with (
                    self._connection.connection() as conn,
                    conn.transaction(),
                    conn.cursor() as cursor,
                ):
                    yield cursor
        except psycopg.errors.UndefinedTable as exc:
            logger.warning("store_call_failed", operation=operation, error_class="UndefinedTable")
            raise StoreUnavailableError(
                "reconciliation tables are missing: call migrate()"
            ) from exc
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            logger.warning("store_call_failed", operation=operation, error_class=type(exc).__name__)
            raise StoreUnavailableError(
                f"postgresql {operation} failed ({type(exc).__name__})"
            ) from exc

    def migrate(self) -> None:
        """Create the tables and index if they do not exist; safe to run at every start.

        Raises:
            StoreUnavailableError: The server could not be reached.
        """
        with self._transaction("migrate") as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.runs_table} ("
                " run_key text PRIMARY KEY, period text NOT NULL, kind text NOT NULL,"
                " status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),"
                " attempts integer NOT NULL, started_at timestamptz NOT NULL,"
                " finished_at timestamptz, open_discrepancies integer, critical integer,"
                " error_class text)"
            )
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.reports_table} ("
                f" run_key text PRIMARY KEY REFERENCES {self.runs_table} (run_key),"
                " body text NOT NULL)"
            )
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {self.runs_table}_kind_period"
                f" ON {self.runs_table} (kind, period)"
            )
        logger.info("store_migrated", table=self.runs_table)

    def start_run(self, run_key: str, *, period: str, at: datetime) -> RunRecord:
        """Start the run, or a new attempt of a running or failed one (one statement).

        Raises:
            ConflictError: The run already succeeded.
            StoreUnavailableError: The server could not be reached.
        """
        check_key(run_key)
        check_at(at)
        RunRecord(run_key=run_key, period=period, status="running", attempts=1, started_at=at)
        t = self.runs_table
        with self._transaction("start") as cursor:
            cursor.execute(
                f"INSERT INTO {t} (run_key, period, kind, status, attempts, started_at)"  # noqa: S608 - table names match _NAME
                " VALUES (%s, %s, %s, 'running', 1, %s)"
                f" ON CONFLICT (run_key) DO UPDATE SET status = 'running',"
                f" attempts = {t}.attempts + 1, started_at = EXCLUDED.started_at,"
                " finished_at = NULL, error_class = NULL, period = EXCLUDED.period"
                f" WHERE {t}.status <> 'succeeded' RETURNING {_COLUMNS}",
                (run_key, period, run_key.split(":", 1)[0], at),
            )
            row = cursor.fetchone()
        if row is None:
            raise ConflictError(f"run {run_key!r} already succeeded")
        return _record(row)

    def finish_run(self, run_key: str, report: Report, *, at: datetime) -> RunRecord:
        """Store the report and mark the run succeeded, in one transaction.

        Raises:
            NotFoundError: No such run.
            StoreUnavailableError: The server could not be reached.
        """
        check_key(run_key)
        check_at(at)
        check_report(run_key, report)
        with self._transaction("finish") as cursor:
            cursor.execute(
                f"UPDATE {self.runs_table} SET status = 'succeeded', finished_at = %s,"  # noqa: S608 - table names match _NAME
                " open_discrepancies = %s, critical = %s, error_class = NULL"
                f" WHERE run_key = %s RETURNING {_COLUMNS}",
                (at, report.open_discrepancies, report.critical, run_key),
            )
            row = cursor.fetchone()
            if row is None:
                raise not_found(run_key)
            cursor.execute(
                f"INSERT INTO {self.reports_table} (run_key, body) VALUES (%s, %s)"  # noqa: S608 - table names match _NAME
                " ON CONFLICT (run_key) DO UPDATE SET body = EXCLUDED.body",
                (run_key, report.to_json()),
            )
        return _record(row)

    def fail_run(self, run_key: str, *, error_class: str, at: datetime) -> RunRecord:
        """Mark the run failed.

        Raises:
            NotFoundError: No such run.
            StoreUnavailableError: The server could not be reached.
        """
        check_key(run_key)
        check_at(at)
        with self._transaction("fail") as cursor:
            cursor.execute(
                f"UPDATE {self.runs_table} SET status = 'failed', finished_at = %s,"  # noqa: S608 - table names match _NAME
                f" error_class = %s WHERE run_key = %s RETURNING {_COLUMNS}",
                (at, str(error_class)[:200], run_key),
            )
            row = cursor.fetchone()
        if row is None:
            raise not_found(run_key)
        return _record(row)

    def get_run(self, run_key: str) -> RunRecord:
        """Return the run record.

        Raises:
            NotFoundError: No such run.
            StoreUnavailableError: The server could not be reached.
        """
        check_key(run_key)
        with self._transaction("get") as cursor:
            cursor.execute(
                f"SELECT {_COLUMNS} FROM {self.runs_table} WHERE run_key = %s",  # noqa: S608 - table names match _NAME
                (run_key,),
            )
            row = cursor.fetchone()
        if row is None:
            raise not_found(run_key)
        return _record(row)

    def run_exists(self, run_key: str) -> bool:
        """Return whether the run record exists."""
        check_key(run_key)
        with self._transaction("exists") as cursor:
            cursor.execute(f"SELECT 1 FROM {self.runs_table} WHERE run_key = %s", (run_key,))  # noqa: S608 - table names match _NAME
            return cursor.fetchone() is not None

    def get_report(self, run_key: str) -> Report:
        """Return the report of a succeeded run.

        Raises:
            NotFoundError: No such run, or no report yet.
            StoreUnavailableError: The server could not be reached.
        """
        check_key(run_key)
        with self._transaction("get_report") as cursor:
            cursor.execute(f"SELECT body FROM {self.reports_table} WHERE run_key = %s", (run_key,))  # noqa: S608 - table names match _NAME
            row = cursor.fetchone()
        if row is None:
            raise not_found(run_key)
        return Report.from_json(row[0])

    def list_runs(self) -> Iterator[RunRecord]:
        """Yield every run record, newest period first.

        Raises:
            StoreUnavailableError: The server could not be reached.
        """
        with self._transaction("list") as cursor:
            cursor.execute(
                f"SELECT {_COLUMNS} FROM {self.runs_table} ORDER BY period DESC, run_key DESC"  # noqa: S608 - table names match _NAME
            )
            rows = cursor.fetchall()
        return iter([_record(row) for row in rows])

    def trend(self, kind: str = "daily", *, limit: int = 30) -> list[TrendPoint]:
        """Open discrepancies of the last ``limit`` succeeded runs of ``kind``, oldest first."""
        check_limit(limit)
        with self._transaction("trend") as cursor:
            cursor.execute(
                f"SELECT run_key, period, open_discrepancies, critical FROM {self.runs_table}"  # noqa: S608 - table names match _NAME
                " WHERE kind = %s AND status = 'succeeded'"
                " ORDER BY period DESC, run_key DESC LIMIT %s",
                (kind, limit),
            )
            rows = cursor.fetchall()
        return [
            TrendPoint(run_key=r[0], period=r[1], open_discrepancies=r[2] or 0, critical=r[3] or 0)
            for r in reversed(rows)
        ]

    def close(self) -> None:
        """Close the connection if the store opened it (`from_url`)."""
        if self._owns:
            self._connection.close()

    def __enter__(self) -> PostgresReconciliationStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
