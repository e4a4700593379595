from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from uh_testkit import vendor_spec
from unified_health.billing import (
    FileRunLock,
    IterableLedger,
    ReconciliationService,
    StripeRecord,
    StripeSource,
    check_payouts,
)
from unified_health.billing.testing import FakeClock, FakeStripe, stripe_object

KEY = "sk_test_fake"
T = int(datetime(2026, 11, 24, 15, tzinfo=UTC).timestamp())


def payout_world() -> list[StripeRecord]:
    def txn(tid: str, net: int, payout: str) -> StripeRecord:
        return StripeRecord(
            tid,
            "balance_transaction",
            net,
            "usd",
            T - 86400,
            "available",
            False,
            payout,
            None,
            "ch_x",
            None,
            30,
        )

    return [
        StripeRecord("po_ok", "payout", 1500, "usd", T, "paid", False),
        txn("txn_1", 1000, "po_ok"),
        txn("txn_2", 500, "po_ok"),
        StripeRecord("po_short", "payout", 2000, "usd", T + 60, "paid", False),
        txn("txn_3", 1900, "po_short"),
        StripeRecord("po_failed", "payout", 700, "usd", T + 90, "failed", False),
    ]


def test_payouts_must_equal_their_transactions_over_the_api(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 27, tzinfo=UTC))
    with FakeStripe(KEY) as fake:
        fake.add(payout_world())
        source = StripeSource(KEY, base_url=fake.url, clock=clock, sleep=clock.sleep, page_size=1)
        payouts, txns = source.fetch_payouts(
            datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC)
        )
        assert sorted(p.id for p in payouts) == ["po_failed", "po_ok", "po_short"]
        assert sorted((t.id, t.charge, t.amount) for t in txns) == [
            ("txn_1", "po_ok", 1000),
            ("txn_2", "po_ok", 500),
            ("txn_3", "po_short", 1900),
        ]
        findings = check_payouts(payouts, txns)
        assert [(f.kind, f.stripe[0].id) for f in findings] == [
            ("matched_aggregate", "po_ok"),
            ("payout_imbalance", "po_short"),
        ]
        service = ReconciliationService(
            stripe=source,
            ledger=IterableLedger([]),
            payouts=True,
            clock=clock,
            lock=FileRunLock(tmp_path),
        )
        report = service.reconcile("2026-11-24")
    assert [d.kind for d in report.discrepancies] == ["payout_imbalance"]
    assert report.discrepancies[0].ids == ("po_short", "txn_3")


def test_currency_differences_unbalance_a_payout() -> None:
    po = StripeRecord("po_1", "payout", 100, "usd", T, "paid", True)
    txn = StripeRecord("txn_1", "balance_transaction", 100, "eur", T, "available", True, "po_1")
    assert [f.kind for f in check_payouts([po], [txn])] == ["payout_imbalance"]


def test_payout_shapes_follow_stripes_fixtures() -> None:
    fixtures = json.loads(Path(vendor_spec("stripe", "fixtures3.json")).read_text())["resources"]
    for record in payout_world()[:2]:
        served = stripe_object(record)
        name = served["object"]
        assert set(served) <= set(fixtures[name]), name
