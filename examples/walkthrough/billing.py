"""uh-billing: a day of Stripe records checked against the books, in memory."""

from __future__ import annotations

from collections.abc import Callable

from unified_health.billing import (
    InMemoryReconciliationStore,
    Money,
    build_report,
    format_money,
    match_records,
    parse_period,
)
from unified_health.billing.testing import score, synthetic_data


def run(say: Callable[[str], None]) -> None:
    """Reconcile a synthetic day with planted discrepancies and keep the report."""
    say(f"exact money: {Money(1999, 'usd') + Money(1, 'usd')}, {Money(500, 'jpy')}")
    period = parse_period("2026-11-01", "America/New_York")
    say(f"period {period.label} lasts {period.hours:g} hours (clocks go back)")
    start, end = int(period.start.timestamp()), int(period.end.timestamp())
    window = 6 * 3600
    data = synthetic_data(5000, start=start, end=end, window=window, seed=1)
    say(f"{len(data.stripe)} Stripe records, {len(data.ledger)} ledger rows")
    outcome = match_records(
        data.stripe, data.ledger, start=start, end=end, now=end + 86400, window=window
    )
    report = build_report(outcome, period, generated_at=period.end, window=window, livemode=True)
    say(f"{report.counts.get('matched', 0)} matched; {report.open_discrepancies} discrepancies:")
    for kind, per_currency in report.totals().items():
        amounts = ", ".join(format_money(amount, code) for code, amount in per_currency.items())
        say(f"  {kind}: {report.counts[kind]} ({amounts})")
    result = score(outcome.findings, data)
    say(
        f"precision {result['precision']:.0%}, recall {result['recall']:.0%}, "
        f"{report.counts.get('timing_difference', 0)} timing notes"
    )
    store = InMemoryReconciliationStore()
    store.start_run(report.run_key, period=report.period, at=period.end)
    record = store.finish_run(report.run_key, report, at=period.end)
    say(f"run {record.run_key} stored as {record.status}")
