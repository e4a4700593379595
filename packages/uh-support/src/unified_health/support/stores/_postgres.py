"""The PostgreSQL `TicketStore` (psycopg 3): the system of record, on the host's connection.

Tables (created by the idempotent `PostgresTicketStore.migrate`), with a configurable name prefix:

- ``<prefix>_tickets``: ``id`` (primary key), ``version``, ``data`` (the ticket as JSONB),
  ``status``, ``due_at`` (SLA due, epoch seconds, indexed for breach scans);
- ``<prefix>_keys``: idempotency key -> payload fingerprint and ticket id;
- ``<prefix>_claims``: ``(ticket_id, marker)`` pairs of escalations already fired.

Every write runs in one transaction, so a failed write leaves the tables as they were.
"""

# ruff: noqa: S608  (table names are checked against [a-z_][a-z0-9_]*; values are parameters)

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from unified_health.support._calendar import to_epoch
from unified_health.support._errors import InvalidInputError, StoreUnavailableError
from unified_health.support._logging import logger
from unified_health.support._models import Ticket
from unified_health.support.stores._common import (
    check_create,
    check_id,
    check_update,
    due_score,
    key_conflict,
    stale,
)

__all__ = ["PostgresTicketStore"]

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


class PostgresTicketStore:
    """A `TicketStore` in PostgreSQL over psycopg 3.

    Args:
        connection: A ``psycopg.Connection`` or a ``psycopg_pool.ConnectionPool`` of the host.
            The store never closes it. Tables are found through the connection's
            ``search_path``.
        table_prefix: Prefix of the table names (lower-case letters, digits, underscores).

    Raises:
        InvalidInputError: ``connection`` is neither a connection nor a pool, or a bad prefix.

    Examples:
        >>> PostgresTicketStore.schema_statements("support")[0].split("(")[0]
        'CREATE TABLE IF NOT EXISTS support_tickets '
    """

    def __init__(self, connection: Any, *, table_prefix: str = "uh_support") -> None:
        given: object = table_prefix
        if not isinstance(given, str) or not _NAME.match(given):
            raise InvalidInputError("table_prefix", "must match [a-z_][a-z0-9_]{0,40}")
        is_pool = callable(getattr(connection, "connection", None)) and not hasattr(
            connection, "cursor"
        )
        if not is_pool and not callable(getattr(connection, "transaction", None)):
            raise InvalidInputError("connection", "must be a psycopg Connection or ConnectionPool")
        self._connection = connection
        self._is_pool = is_pool
        self._lock = threading.Lock()
        self._tickets = f"{table_prefix}_tickets"
        self._keys = f"{table_prefix}_keys"
        self._claims = f"{table_prefix}_claims"
        self._prefix = table_prefix

    @staticmethod
    def schema_statements(table_prefix: str = "uh_support") -> list[str]:
        """Return the idempotent DDL that `migrate` runs.

        Examples:
            >>> len(PostgresTicketStore.schema_statements())
            4
        """
        return [
            f"CREATE TABLE IF NOT EXISTS {table_prefix}_tickets ("
            "id TEXT PRIMARY KEY, version INTEGER NOT NULL, data JSONB NOT NULL, "
            "status TEXT NOT NULL, due_at BIGINT)",
            f"CREATE INDEX IF NOT EXISTS {table_prefix}_tickets_due "
            f"ON {table_prefix}_tickets (due_at) WHERE due_at IS NOT NULL",
            f"CREATE TABLE IF NOT EXISTS {table_prefix}_keys ("
            "key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, ticket_id TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {table_prefix}_claims ("
            "ticket_id TEXT NOT NULL, marker TEXT NOT NULL, PRIMARY KEY (ticket_id, marker))",
        ]

    @contextmanager
    def _transaction(self, operation: str) -> Iterator[Any]:
        import psycopg

        try:
            if self._is_pool:
                with self._connection.connection() as conn, conn.transaction():
                    yield conn
            else:
                with self._lock, self._connection.transaction():
                    yield self._connection
        except psycopg.OperationalError as exc:
            logger.warning("store_call_failed", operation=operation, error_class=type(exc).__name__)
            raise StoreUnavailableError(
                f"postgresql {operation} failed ({type(exc).__name__})"
            ) from exc

    def migrate(self) -> None:
        """Create the tables and index if they do not exist (safe to run at every start).

        Raises:
            StoreUnavailableError: PostgreSQL could not be reached.
        """
        with self._transaction("migrate") as conn:
            for statement in self.schema_statements(self._prefix):
                conn.execute(statement)

    def create(
        self, ticket: Ticket, *, idempotency_key: str, fingerprint: str
    ) -> tuple[Ticket, bool]:
        """Store ``ticket`` once per key, in one transaction (see `TicketStore`).

        Raises:
            ConflictError: The key was used with another fingerprint, or the id exists.
            StoreUnavailableError: PostgreSQL could not be reached.
        """
        ticket = check_create(ticket, idempotency_key, fingerprint)
        with self._transaction("create") as conn:
            inserted = conn.execute(
                f"INSERT INTO {self._keys} (key, fingerprint, ticket_id) VALUES (%s, %s, %s) "
                "ON CONFLICT (key) DO NOTHING RETURNING key",
                (idempotency_key, fingerprint, ticket.id),
            ).fetchone()
            if inserted is None:
                found_fingerprint, found_id = conn.execute(
                    f"SELECT fingerprint, ticket_id FROM {self._keys} WHERE key = %s",
                    (idempotency_key,),
                ).fetchone()
                if found_fingerprint != fingerprint:
                    raise key_conflict(idempotency_key)
                row = conn.execute(
                    f"SELECT data::text FROM {self._tickets} WHERE id = %s", (found_id,)
                ).fetchone()
                return Ticket.from_json(row[0]), False
            added = conn.execute(
                f"INSERT INTO {self._tickets} (id, version, data, status, due_at) "
                "VALUES (%s, 1, %s::jsonb, %s, %s) ON CONFLICT (id) DO NOTHING RETURNING id",
                (ticket.id, ticket.to_json(), ticket.status, due_score(ticket)),
            ).fetchone()
            if added is None:
                raise stale(ticket.id, 0, 1)
        return ticket, True

    def get(self, ticket_id: str) -> Ticket | None:
        """Return the ticket, or ``None``.

        Raises:
            StoreUnavailableError: PostgreSQL could not be reached.
        """
        check_id(ticket_id, "ticket_id")
        with self._transaction("get") as conn:
            row = conn.execute(
                f"SELECT data::text FROM {self._tickets} WHERE id = %s", (ticket_id,)
            ).fetchone()
        return None if row is None else Ticket.from_json(row[0])

    def update(self, ticket: Ticket, *, expected_version: int) -> Ticket:
        """Replace the ticket if it is at ``expected_version``.

        Raises:
            ConflictError: The stored version differs (or the ticket does not exist).
            StoreUnavailableError: PostgreSQL could not be reached.
        """
        updated, expected = check_update(ticket, expected_version)
        with self._transaction("update") as conn:
            row = conn.execute(
                f"UPDATE {self._tickets} SET version = version + 1, data = %s::jsonb, "
                "status = %s, due_at = %s WHERE id = %s AND version = %s RETURNING version",
                (updated.to_json(), updated.status, due_score(updated), updated.id, expected),
            ).fetchone()
            if row is None:
                current = conn.execute(
                    f"SELECT version FROM {self._tickets} WHERE id = %s", (updated.id,)
                ).fetchone()
                raise stale(updated.id, expected, 0 if current is None else int(current[0]))
        return updated

    def list_tickets(self) -> Iterator[Ticket]:
        """Yield every ticket once, 500 rows per query, in id order.

        Raises:
            StoreUnavailableError: PostgreSQL could not be reached.
        """
        after = ""
        while True:
            with self._transaction("list") as conn:
                rows = conn.execute(
                    f"SELECT id, data::text FROM {self._tickets} WHERE id > %s "
                    "ORDER BY id LIMIT 500",
                    (after,),
                ).fetchall()
            for _, data in rows:
                yield Ticket.from_json(data)
            if len(rows) < 500:
                return
            after = rows[-1][0]

    def due_before(self, instant: datetime) -> list[str]:
        """Return ids whose SLA due time is at or before ``instant``, earliest first.

        Raises:
            StoreUnavailableError: PostgreSQL could not be reached.
        """
        limit = to_epoch(instant, "instant")
        with self._transaction("due_before") as conn:
            rows = conn.execute(
                f"SELECT id FROM {self._tickets} WHERE due_at IS NOT NULL AND due_at <= %s "
                "ORDER BY due_at, id",
                (limit,),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def claim_once(self, ticket_id: str, marker: str) -> bool:
        """Return ``True`` the first time ``(ticket_id, marker)`` is claimed.

        Raises:
            StoreUnavailableError: PostgreSQL could not be reached.
        """
        check_id(ticket_id, "ticket_id")
        check_id(marker, "marker")
        with self._transaction("claim") as conn:
            row = conn.execute(
                f"INSERT INTO {self._claims} (ticket_id, marker) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING RETURNING ticket_id",
                (ticket_id, marker),
            ).fetchone()
        return row is not None

    def close(self) -> None:
        """Nothing to release: the connection or pool belongs to the host."""
