from __future__ import annotations

import csv
import io
import json
import random
from datetime import date

from unified_health.billing import Period, Report, build_report, match_records
from unified_health.billing.testing import synthetic_data

PERIOD = Period.of("daily", date(2026, 11, 24), "America/New_York")
START, END = int(PERIOD.start.timestamp()), int(PERIOD.end.timestamp())
W = 6 * 3600


def make(seed_order: int) -> Report:
    data = synthetic_data(3000, start=START, end=END, window=W, seed=11)
    stripe, ledger = list(data.stripe), list(data.ledger)
    random.Random(seed_order).shuffle(stripe)
    random.Random(seed_order + 1).shuffle(ledger)
    outcome = match_records(stripe, ledger, start=START, end=END, now=END + 86400, window=W)
    return build_report(outcome, PERIOD, generated_at=PERIOD.end, window=W, livemode=True)


def test_the_same_inputs_give_byte_identical_reports_in_every_format() -> None:
    first, second = make(1), make(2)
    assert first.to_json() == second.to_json()
    assert first.to_csv() == second.to_csv()
    assert first.to_markdown() == second.to_markdown()
    assert first.open_discrepancies > 0


def test_json_round_trips_and_csv_has_one_line_per_item() -> None:
    report = make(1)
    assert Report.from_json(report.to_json()) == report
    rows = list(csv.DictReader(io.StringIO(report.to_csv())))
    assert len(rows) == len(report.discrepancies) + len(report.notes) + len(report.input_errors)
    assert {r["section"] for r in rows} == {"discrepancy", "note"}
    decoded = json.loads(report.to_json())
    assert decoded["counts"] == report.counts
    assert report.run_key == "daily:2026-11-24:America/New_York:live"


def test_markdown_names_counts_and_amounts() -> None:
    text = make(1).to_markdown(limit=3)
    assert text.startswith("# Reconciliation 2026-11-24 (daily, America/New_York)")
    assert "| missing_in_ledger |" in text
    assert "USD" in text
    assert "more in the JSON or CSV report" in text


def test_totals_sum_amounts_per_class_and_currency() -> None:
    report = make(1)
    totals = report.totals()
    expected = sum(d.amount for d in report.discrepancies if d.kind == "missing_in_ledger")
    assert totals["missing_in_ledger"]["usd"] == expected
