"""The PostgreSQL audit log: the system of record (HIPAA asks for six years of audit records).

Tables (created by `PostgresAuditLog.migrate`, idempotent; names start with ``table``)::

    uh_impersonation_audit              seq BIGINT PK, prev_hash, hash, body, recorded_at
    uh_impersonation_audit_head         one row: the last seq and hash
    uh_impersonation_audit_checkpoints  signed checkpoints

An append locks the head row (``SELECT ... FOR UPDATE``), inserts the record and moves the head in
one transaction, so concurrent writers in any number of processes never fork the chain. On a
connection already inside a transaction, the append joins it (a savepoint) and commits with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from types import TracebackType
from typing import Any

from unified_health.impersonation._chain import GENESIS, chain_hash
from unified_health.impersonation._errors import InvalidInputError, StoreUnavailableError
from unified_health.impersonation._logging import logger
from unified_health.impersonation._models import AuditEvent, AuditRecord, Checkpoint

__all__ = ["PostgresAuditLog"]

_TABLE = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


def _psycopg() -> Any:
    import psycopg

    return psycopg


class PostgresAuditLog:
    """An `AuditLog` in PostgreSQL over psycopg 3, on your connection or pool.

    Args:
        connection: A ``psycopg.Connection`` or a ``psycopg_pool.ConnectionPool``; never closed
            by the log. Use a pool when several threads append.
        table: Table name prefix (``uh_impersonation_audit``); lower-case letters, digits, ``_``.

    Raises:
        InvalidInputError: ``connection`` is neither, or ``table`` is not a plain name.

    Examples:
        >>> log = PostgresAuditLog.from_url("postgresql://postgres@127.0.0.1:5432/test")
        >>> log.table
        'uh_impersonation_audit'
        >>> log.close()
    """

    def __init__(self, connection: Any, *, table: str = "uh_impersonation_audit") -> None:
        given: object = table
        if not isinstance(given, str) or not _TABLE.fullmatch(given):
            raise InvalidInputError("table", "must match ^[a-z_][a-z0-9_]{0,40}$")
        if connection is not None and not (
            hasattr(connection, "execute") or hasattr(connection, "connection")
        ):
            raise InvalidInputError("connection", "must be a psycopg Connection or ConnectionPool")
        if isinstance(connection, str | bytes):
            raise InvalidInputError("connection", "must be a connection; for a URL use from_url")
        self.table = table
        self._connection = connection
        self._url: str | None = None
        self._owned: Any = None
        self._errors: tuple[type[BaseException], ...] = (_psycopg().Error, OSError)

    @classmethod
    def from_url(cls, url: str, *, table: str = "uh_impersonation_audit") -> PostgresAuditLog:
        """Create a log that opens (on first use) and owns its own connection.

        Args:
            url: A PostgreSQL URL, e.g. ``postgresql://user@host:5432/db``.
            table: Table name prefix.

        Returns:
            The log; `close` closes the connection it opened.

        Raises:
            InvalidInputError: ``url`` is not a postgresql:// URL.

        Examples:
            >>> PostgresAuditLog.from_url("postgresql://postgres@127.0.0.1/test").table
            'uh_impersonation_audit'
        """
        given: object = url
        if not isinstance(given, str) or not given.startswith(("postgresql://", "postgres://")):
            raise InvalidInputError("url", "must be a postgresql:// URL")
        log = cls(None, table=table)
        log._url = given
        return log

    @contextmanager
    def _conn(self) -> Iterator[Any]:
        if self._connection is None:
            if self._owned is None or self._owned.closed:
                assert self._url is not None
                self._owned = _psycopg().connect(self._url, autocommit=True, connect_timeout=2)
            yield self._owned
            return
        context: AbstractContextManager[Any]
        if hasattr(self._connection, "execute"):
            context = nullcontext(self._connection)
        else:
            context = self._connection.connection()
        with context as connection:
            yield connection

    def _unavailable(self, operation: str, exc: BaseException) -> StoreUnavailableError:
        logger.warning("store_call_failed", operation=operation, error_class=type(exc).__name__)
        return StoreUnavailableError(f"postgres {operation} failed ({type(exc).__name__})")

    @property
    def driver_errors(self) -> tuple[type[BaseException], ...]:
        """The exceptions psycopg raises when the server cannot be reached or refuses."""
        return self._errors

    def migration_statements(self) -> list[str]:
        """The SQL `migrate` runs, in order (each idempotent)."""
        t = self.table
        return [
            f"CREATE TABLE IF NOT EXISTS {t} (seq BIGINT PRIMARY KEY, prev_hash TEXT NOT NULL, "
            "hash TEXT NOT NULL, body TEXT NOT NULL, "
            "recorded_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            f"CREATE TABLE IF NOT EXISTS {t}_head (id SMALLINT PRIMARY KEY CHECK (id = 1), "
            "seq BIGINT NOT NULL, hash TEXT NOT NULL)",
            f"INSERT INTO {t}_head (id, seq, hash) VALUES (1, 0, '{GENESIS}') "  # noqa: S608 - table name checked
            "ON CONFLICT (id) DO NOTHING",
            f"CREATE TABLE IF NOT EXISTS {t}_checkpoints (id BIGSERIAL PRIMARY KEY, "
            "seq BIGINT NOT NULL, hash TEXT NOT NULL, at TEXT NOT NULL, key_id TEXT NOT NULL, "
            "signature TEXT NOT NULL)",
        ]

    def migrate(self) -> None:
        """Create the tables if they do not exist; safe to run any number of times.

        Raises:
            StoreUnavailableError: PostgreSQL did not answer.
        """
        try:
            with self._conn() as connection, connection.transaction():
                for statement in self.migration_statements():
                    connection.execute(statement)
        except self._errors as exc:
            raise self._unavailable("migrate", exc) from exc

    def append(self, event: AuditEvent) -> AuditRecord:
        """Append the event as the next record, in one transaction.

        Raises:
            StoreUnavailableError: PostgreSQL did not answer (nothing was appended).
        """
        body = event.to_json()
        t = self.table
        try:
            with self._conn() as connection, connection.transaction():
                row = connection.execute(
                    f"SELECT seq, hash FROM {t}_head WHERE id = 1 FOR UPDATE"  # noqa: S608 - table name checked
                ).fetchone()
                if row is None:
                    raise StoreUnavailableError("the audit tables are missing: run migrate()")
                seq, prev = int(row[0]) + 1, str(row[1])
                record = AuditRecord(seq, prev, chain_hash(seq, prev, body), body)
                connection.execute(
                    f"INSERT INTO {t} (seq, prev_hash, hash, body) VALUES (%s, %s, %s, %s)",  # noqa: S608 - table name checked
                    (record.seq, record.prev_hash, record.hash, record.body),
                )
                connection.execute(
                    f"UPDATE {t}_head SET seq = %s, hash = %s WHERE id = 1",  # noqa: S608 - table name checked
                    (record.seq, record.hash),
                )
        except self._errors as exc:
            raise self._unavailable("append", exc) from exc
        return record

    def head(self) -> tuple[int, str]:
        """The last seq and hash as the head row remembers them.

        Raises:
            StoreUnavailableError: PostgreSQL did not answer.
        """
        try:
            with self._conn() as connection:
                row = connection.execute(
                    f"SELECT seq, hash FROM {self.table}_head WHERE id = 1"  # noqa: S608 - table name checked
                ).fetchone()
        except self._errors as exc:
            raise self._unavailable("head", exc) from exc
        return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))

    def records(self, *, after: int = 0) -> Iterator[AuditRecord]:
        """Yield the records with ``seq > after`` in order, a page at a time.

        Raises:
            StoreUnavailableError: PostgreSQL did not answer.
        """
        last = after
        while True:
            try:
                with self._conn() as connection:
                    rows = connection.execute(
                        f"SELECT seq, prev_hash, hash, body FROM {self.table} "  # noqa: S608 - table name checked
                        "WHERE seq > %s ORDER BY seq LIMIT 5000",
                        (last,),
                    ).fetchall()
            except self._errors as exc:
                raise self._unavailable("records", exc) from exc
            if not rows:
                return
            for seq, prev_hash, record_hash, body in rows:
                yield AuditRecord(int(seq), str(prev_hash), str(record_hash), str(body))
            last = int(rows[-1][0])

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Keep a signed checkpoint.

        Raises:
            StoreUnavailableError: PostgreSQL did not answer.
        """
        try:
            with self._conn() as connection, connection.transaction():
                connection.execute(
                    f"INSERT INTO {self.table}_checkpoints (seq, hash, at, key_id, signature) "  # noqa: S608 - table name checked
                    "VALUES (%s, %s, %s, %s, %s)",
                    (
                        checkpoint.seq,
                        checkpoint.hash,
                        checkpoint.at,
                        checkpoint.key_id,
                        checkpoint.signature,
                    ),
                )
        except self._errors as exc:
            raise self._unavailable("checkpoint", exc) from exc

    def checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint, oldest first.

        Raises:
            StoreUnavailableError: PostgreSQL did not answer.
        """
        try:
            with self._conn() as connection:
                rows = connection.execute(
                    f"SELECT seq, hash, at, key_id, signature FROM {self.table}_checkpoints "  # noqa: S608 - table name checked
                    "ORDER BY id"
                ).fetchall()
        except self._errors as exc:
            raise self._unavailable("checkpoints", exc) from exc
        return [Checkpoint(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows]

    def close(self) -> None:
        """Close the connection the log opened itself (`from_url`); an injected one stays open."""
        if self._owned is not None:
            self._owned.close()
            self._owned = None

    def __enter__(self) -> PostgresAuditLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
