"""Where the host's own records come from: the `LedgerSource` protocol and three adapters.

A ledger source yields plain mappings (one per payment, refund or dispute) for a time range; the
package validates each row (`ledger_record`) and reports a bad one as an input issue with its
position instead of failing the run or dropping it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from unified_health.billing._errors import InvalidInputError
from unified_health.billing._records import InputIssue, LedgerRecord, ledger_record

__all__ = ["CsvLedger", "IterableLedger", "LedgerSource", "SqlLedger", "read_ledger"]


@runtime_checkable
class LedgerSource(Protocol):
    """The host's payments, refunds and disputes for a time range, as mappings.

    Each mapping has the fields `ledger_record` documents (``id``, ``type``, ``amount`` in
    minor units, ``currency``, ``created``, ``status``, optional ``stripe_id``, ``reference``,
    ``charge``, ``livemode``, ``fee``). Rows outside the range may be yielded; they are ignored.

    Examples:
        >>> isinstance(IterableLedger([]), LedgerSource)
        True
    """

    def rows(self, start: datetime, end: datetime) -> Iterable[Mapping[str, Any]]:
        """Yield the rows created in ``[start, end)`` (aware UTC bounds)."""
        ...


class IterableLedger:
    """A ledger over rows you already hold (a list, a generator of dicts).

    Args:
        rows: The rows; a one-shot iterator can be read by one run only.

    Examples:
        >>> from datetime import UTC
        >>> rows = [{"id": "p1", "type": "payment", "amount": 500, "currency": "usd",
        ...          "created": "2026-11-24T10:00:00+00:00", "status": "succeeded"}]
        >>> list(IterableLedger(rows).rows(datetime(2026, 11, 24, tzinfo=UTC),
        ...                                datetime(2026, 11, 25, tzinfo=UTC)))[0]["id"]
        'p1'
    """

    def __init__(self, rows: Iterable[Mapping[str, Any]]) -> None:
        if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Iterable):
            raise InvalidInputError("rows", "must be an iterable of mappings")
        self._rows = rows

    def rows(self, start: datetime, end: datetime) -> Iterable[Mapping[str, Any]]:
        """Yield every row (the engine ignores rows outside the range)."""
        return self._rows


class CsvLedger:
    """A ledger in a CSV file with a header row naming the fields.

    Amounts are integers of minor units (``1999``, never ``19.99``); ``created`` is ISO-8601
    with an offset; ``livemode`` is ``true``/``false``; empty optional cells mean absent.

    Args:
        path: The CSV file, read anew on every call (UTF-8).

    Examples:
        >>> CsvLedger("ledger.csv").path.name
        'ledger.csv'
    """

    def __init__(self, path: str | Path) -> None:
        if not isinstance(path, str | Path):
            raise InvalidInputError("path", "must be a str or pathlib.Path")
        self.path = Path(path)

    def rows(self, start: datetime, end: datetime) -> Iterator[Mapping[str, Any]]:
        """Stream the file's rows, one dict per line."""
        with self.path.open(newline="", encoding="utf-8") as handle:
            yield from csv.DictReader(handle)


class SqlLedger:
    """A ledger read by a SQL query over any DB-API connection, streamed in batches.

    The query takes the named parameters ``%(start)s`` and ``%(end)s`` (psycopg's ``pyformat``)
    and returns columns named like the fields. With psycopg 3 a server-side (named) cursor
    streams the result, so a ledger larger than memory works; other drivers use ``fetchmany``.

    Args:
        connection: A DB-API connection (psycopg 3, sqlite3, ...); never closed here.
        query: The SELECT, with ``%(start)s`` and ``%(end)s`` placeholders (or ``:start``,
            ``:end`` for drivers with the ``named`` style).
        batch_size: Rows fetched per round trip.

    Examples:
        >>> import sqlite3
        >>> conn = sqlite3.connect(":memory:")
        >>> _ = conn.execute("create table t (id text, type text, amount int, currency text,"
        ...                  " created text, status text)")
        >>> _ = conn.execute("insert into t values ('p1','payment',500,'usd',"
        ...                  "'2026-11-24T10:00:00+00:00','succeeded')")
        >>> from datetime import UTC
        >>> ledger = SqlLedger(conn, "select * from t where created >= :start and created < :end")
        >>> [r["amount"] for r in ledger.rows(datetime(2026, 11, 24, tzinfo=UTC),
        ...                                   datetime(2026, 11, 25, tzinfo=UTC))]
        [500]
    """

    def __init__(self, connection: Any, query: str, *, batch_size: int = 5000) -> None:
        if not hasattr(connection, "cursor"):
            raise InvalidInputError("connection", "must be a DB-API connection")
        given_query: object = query
        given_size: object = batch_size
        if not isinstance(given_query, str) or not given_query.strip():
            raise InvalidInputError("query", "must be a non-empty SQL str")
        if isinstance(given_size, bool) or not isinstance(given_size, int) or given_size < 1:
            raise InvalidInputError("batch_size", "must be an int >= 1")
        self._connection = connection
        self._query = query
        self._batch_size = batch_size

    def _cursor(self) -> Any:
        module = type(self._connection).__module__
        if module.startswith("psycopg"):
            cursor = self._connection.cursor(name="uh_billing_ledger")
            cursor.itersize = self._batch_size
            return cursor
        return self._connection.cursor()

    def rows(self, start: datetime, end: datetime) -> Iterator[Mapping[str, Any]]:
        """Run the query for ``[start, end)`` and stream its rows as dicts."""
        params: dict[str, Any] = {"start": start, "end": end}
        if type(self._connection).__module__.startswith("sqlite3"):
            params = {"start": start.isoformat(), "end": end.isoformat()}
        if type(self._connection).__module__.startswith("psycopg"):
            # A server-side cursor lives inside a transaction, even on an autocommit connection.
            with self._connection.transaction():
                yield from self._stream(params)
        else:
            yield from self._stream(params)

    def _stream(self, params: dict[str, Any]) -> Iterator[Mapping[str, Any]]:
        cursor = self._cursor()
        try:
            cursor.execute(self._query, params)
            names = [column[0] for column in cursor.description]
            while batch := cursor.fetchmany(self._batch_size):
                for values in batch:
                    yield dict(zip(names, values, strict=True))
        finally:
            cursor.close()


def read_ledger(
    source: LedgerSource, start: datetime, end: datetime, *, livemode: bool | None = None
) -> Iterator[LedgerRecord | InputIssue]:
    """Validate a source's rows one by one, numbering them from 1.

    Args:
        source: The ledger.
        start: First instant to read (aware).
        end: First instant not to read (aware).
        livemode: The mode being reconciled; rows of the other mode become issues.

    Returns:
        An iterator of records and issues, in source order.

    Examples:
        >>> from datetime import UTC
        >>> rows = [{"id": "p1", "type": "payment", "amount": 5.0, "currency": "usd",
        ...          "created": "2026-11-24T10:00:00+00:00", "status": "succeeded"}]
        >>> day = datetime(2026, 11, 24, tzinfo=UTC)
        >>> issue = next(read_ledger(IterableLedger(rows), day, day))
        >>> (issue.row, issue.field, issue.rule)
        (1, 'amount', 'must be an int of minor units, not a float')
    """
    if not isinstance(source, LedgerSource):
        raise InvalidInputError("ledger", "must implement LedgerSource (a rows(start, end) method)")
    for position, row in enumerate(source.rows(start, end), start=1):
        yield ledger_record(row, position, livemode=livemode)
