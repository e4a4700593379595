from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from unified_health.billing import InvalidInputError
from unified_health.billing._ledger import CsvLedger, IterableLedger, SqlLedger, read_ledger
from unified_health.billing._records import InputIssue, LedgerRecord

START = datetime(2026, 11, 24, 5, tzinfo=UTC)
END = datetime(2026, 11, 25, 5, tzinfo=UTC)
GOOD: dict[str, Any] = {
    "id": "p1",
    "type": "payment",
    "amount": 1999,
    "currency": "usd",
    "created": "2026-11-24T10:00:00+00:00",
    "status": "succeeded",
}

HEADER = "id,type,amount,currency,created,status,stripe_id,livemode\n"
CSV = HEADER + (
    "p1,payment,1999,usd,2026-11-24T10:00:00+00:00,succeeded,ch_1,true\n"
    "p2,payment,19.99,usd,2026-11-24T10:00:00+00:00,succeeded,ch_2,true\n"
    "p3,payment,100,zzz,2026-11-24T10:00:00+00:00,succeeded,ch_3,true\n"
    "p4,payment,100,usd,2026-11-24T10:00:00,succeeded,ch_4,true\n"
    ",payment,100,usd,2026-11-24T10:00:00+00:00,succeeded,ch_5,true\n"
    "p6,payment,100,usd,2026-11-24T10:00:00+00:00,succeeded,ch_6,false\n"
    "p7,refund,250,JPY,2026-11-24T19:00:00-05:00,pending,,\n"
)


def test_csv_bad_rows_become_issues_with_their_position(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text(CSV, encoding="utf-8")
    items = list(read_ledger(CsvLedger(path), START, END, livemode=True))
    assert len(items) == 7
    issues = [i for i in items if isinstance(i, InputIssue)]
    assert [(i.row, i.field) for i in issues] == [
        (2, "amount"),
        (3, "currency"),
        (4, "created"),
        (5, "id"),
        (6, "livemode"),
    ]
    assert "19.99" not in " ".join(i.rule for i in issues)
    first, last = items[0], items[6]
    assert isinstance(first, LedgerRecord)
    assert (first.amount, first.livemode, first.row) == (1999, True, 1)
    assert isinstance(last, LedgerRecord)
    assert (last.currency, last.stripe_id, last.created) == (
        "jpy",
        None,
        int(datetime(2026, 11, 25, tzinfo=UTC).timestamp()),
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": 19.99}, "amount"),
        ({"amount": True}, "amount"),
        ({"created": datetime(2026, 11, 24, 10)}, "created"),
        ({"currency": "US dollars"}, "currency"),
        ({"type": "transfer"}, "type"),
        ({"status": "yes"}, "status"),
        ({"livemode": "yes"}, "livemode"),
        ({"stripe_id": 7}, "stripe_id"),
        ({"nickname": "x"}, "nickname"),
        ({"fee": 1.5}, "fee"),
    ],
)
def test_each_rule(change: dict[str, Any], field: str) -> None:
    (item,) = read_ledger(IterableLedger([{**GOOD, **change}]), START, END)
    assert isinstance(item, InputIssue)
    assert (item.row, item.field) == (1, field)


def test_not_a_ledger_is_refused() -> None:
    with pytest.raises(InvalidInputError) as err:
        list(read_ledger([GOOD], START, END))  # type: ignore[arg-type]
    assert err.value.field == "ledger"
    with pytest.raises(InvalidInputError):
        IterableLedger("rows")  # type: ignore[arg-type]


def test_sql_ledger_streams_from_postgresql(postgres_connection: Any) -> None:
    postgres_connection.execute(
        "create table payments (id text, type text, amount bigint, currency text,"
        " created timestamptz, status text, stripe_id text)"
    )
    with postgres_connection.cursor() as cursor:
        cursor.executemany(
            "insert into payments values (%s, 'payment', %s, 'usd', %s, 'succeeded', %s)",
            [(f"p{i}", 100 + i, START.replace(minute=i % 60), f"ch_{i}") for i in range(250)],
        )
    ledger = SqlLedger(
        postgres_connection,
        "select * from payments where created >= %(start)s and created < %(end)s order by id",
        batch_size=40,
    )
    items = list(read_ledger(ledger, START, END))
    assert len(items) == 250
    assert all(isinstance(i, LedgerRecord) for i in items)
    assert sum(i.amount for i in items if isinstance(i, LedgerRecord)) == sum(range(100, 350))
    # The connection is usable afterwards (the streaming transaction was closed).
    assert postgres_connection.execute("select count(*) from payments").fetchone() == (250,)
