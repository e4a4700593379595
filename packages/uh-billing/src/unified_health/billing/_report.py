"""The reconciliation report: a typed model and its JSON, CSV and Markdown renderings.

A report carries ids, amounts, currencies, statuses and times only: never a name, an e-mail or a
description. The same inputs (records, period, rules and the clock's time) give byte-identical
renderings: findings are sorted, keys are sorted, and nothing depends on dict or set order.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from unified_health.billing._errors import InvalidInputError
from unified_health.billing._matching import ALERTING, Finding, MatchOutcome
from unified_health.billing._models import FrozenModel
from unified_health.billing._money import format_money
from unified_health.billing._periods import Period
from unified_health.billing._records import LedgerRecord, StripeRecord

__all__ = ["IssueView", "Item", "RecordView", "Report", "build_report"]


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


class RecordView(FrozenModel):
    """One side of a finding, as the report shows it (ids, amounts and statuses only).

    Examples:
        >>> RecordView(side="stripe", id="ch_1", kind="payment", amount=500, currency="usd",
        ...            created="2026-11-24T10:00:00Z", status="succeeded").id
        'ch_1'
    """

    side: str
    id: str
    kind: str
    amount: int
    currency: str
    created: str
    status: str
    row: int | None = None
    charge: str | None = None

    @classmethod
    def of(cls, record: StripeRecord | LedgerRecord) -> RecordView:
        """Build the view of a Stripe or ledger record.

        Examples:
            >>> RecordView.of(LedgerRecord("p1", "payment", 5, "usd", 0, "pending", row=3)).row
            3
        """
        if isinstance(record, StripeRecord):
            return cls(
                side="stripe",
                id=record.id,
                kind=record.kind,
                amount=record.amount,
                currency=record.currency,
                created=_iso(record.created),
                status=record.status,
                charge=record.charge,
            )
        return cls(
            side="ledger",
            id=record.ref,
            kind=record.kind,
            amount=record.amount,
            currency=record.currency,
            created=_iso(record.created),
            status=record.status,
            row=record.row,
            charge=record.charge,
        )


class Item(FrozenModel):
    """A discrepancy or a note: class, severity, rule, hint and both sides.

    Examples:
        >>> Item(kind="pending", severity="info", rule="younger_than_window").stripe
        ()
    """

    kind: str
    severity: str
    rule: str
    hint: str | None = None
    stripe: tuple[RecordView, ...] = ()
    ledger: tuple[RecordView, ...] = ()

    @property
    def amount(self) -> int:
        """The amount at stake in minor units: Stripe's total, else the ledger's."""
        side = self.stripe or self.ledger
        return sum(r.amount for r in side)

    @property
    def currency(self) -> str:
        """The currency of the amount at stake."""
        side = self.stripe or self.ledger
        return side[0].currency if side else ""

    @property
    def ids(self) -> tuple[str, ...]:
        """Every id involved, Stripe's first."""
        return tuple(r.id for r in (*self.stripe, *self.ledger))


class IssueView(FrozenModel):
    """A ledger row that could not be used: position, field, rule (never the value).

    Examples:
        >>> IssueView(row=4, field="created", rule="must be timezone-aware").row
        4
    """

    row: int
    field: str
    rule: str
    ref: str | None = None


class Report(FrozenModel):
    """The result of one reconciliation run.

    Examples:
        >>> from datetime import date
        >>> period = Period.of("daily", date(2026, 11, 24), "UTC")
        >>> report = build_report(MatchOutcome(), period, generated_at=period.end, window=3600,
        ...                       livemode=False)
        >>> (report.period, report.open_discrepancies, report.to_json()[:22])
        ('2026-11-24', 0, '{"counts":{},"discrepa')
    """

    run_key: str
    period: str
    period_kind: str
    timezone: str
    start: str
    end: str
    window_seconds: int = Field(ge=0)
    livemode: bool
    generated_at: str
    counts: dict[str, int]
    discrepancies: tuple[Item, ...]
    notes: tuple[Item, ...]
    input_errors: tuple[IssueView, ...]

    @property
    def open_discrepancies(self) -> int:
        """How many discrepancies (alerting findings) the run found."""
        return len(self.discrepancies)

    @property
    def critical(self) -> int:
        """How many of them are critical."""
        return sum(1 for d in self.discrepancies if d.severity == "critical")

    def totals(self) -> dict[str, dict[str, int]]:
        """Amount at stake per discrepancy class and currency, in minor units.

        Examples:
            >>> from datetime import date
            >>> p = Period.of("daily", date(2026, 11, 24), "UTC")
            >>> s = StripeRecord("ch_1", "payment", 700, "usd", 1764000000, "succeeded", True)
            >>> out = MatchOutcome()
            >>> out.add(Finding("missing_in_ledger", "critical", "no_candidate", (s,), ()))
            >>> build_report(out, p, generated_at=p.end, window=0, livemode=True).totals()
            {'missing_in_ledger': {'usd': 700}}
        """
        totals: dict[str, dict[str, int]] = {}
        for item in self.discrepancies:
            per = totals.setdefault(item.kind, {})
            per[item.currency] = per.get(item.currency, 0) + item.amount
        return {k: dict(sorted(v.items())) for k, v in sorted(totals.items())}

    @classmethod
    def from_json(cls, text: str | bytes) -> Report:
        """Read a report back from `to_json` output.

        Raises:
            InvalidInputError: The text is not a report.

        Examples:
            >>> from datetime import date
            >>> p = Period.of("monthly", date(2026, 11, 1), "UTC")
            >>> r = build_report(MatchOutcome(), p, generated_at=p.end, window=0, livemode=True)
            >>> Report.from_json(r.to_json()) == r
            True
        """
        try:
            data = json.loads(text)
        except ValueError:
            raise InvalidInputError("report", "must be JSON") from None
        if not isinstance(data, dict):
            raise InvalidInputError("report", "must be a JSON object")

        def items(raw: object, field: str) -> tuple[Item, ...]:
            if not isinstance(raw, list):
                raise InvalidInputError(field, "must be a list")
            return tuple(
                Item(
                    **{
                        **entry,
                        "stripe": tuple(RecordView(**r) for r in entry.get("stripe", [])),
                        "ledger": tuple(RecordView(**r) for r in entry.get("ledger", [])),
                    }
                )
                for entry in raw
            )

        errors = data.get("input_errors")
        if not isinstance(errors, list):
            raise InvalidInputError("input_errors", "must be a list")
        return cls(
            **{
                **data,
                "discrepancies": items(data.get("discrepancies"), "discrepancies"),
                "notes": items(data.get("notes"), "notes"),
                "input_errors": tuple(IssueView(**e) for e in errors),
            }
        )

    def to_json(self) -> str:
        """Render as canonical JSON (sorted keys, no spaces): byte-identical for the same run."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def to_csv(self) -> str:
        """Render every discrepancy, note and input error as one CSV line each.

        Columns: ``section, kind, severity, rule, hint, amount, currency, stripe_ids,
        ledger_ids, ledger_rows, field``.
        """
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            [
                "section",
                "kind",
                "severity",
                "rule",
                "hint",
                "amount",
                "currency",
                "stripe_ids",
                "ledger_ids",
                "ledger_rows",
                "field",
            ]
        )
        for section, items in (("discrepancy", self.discrepancies), ("note", self.notes)):
            for item in items:
                writer.writerow(
                    [
                        section,
                        item.kind,
                        item.severity,
                        item.rule,
                        item.hint or "",
                        item.amount,
                        item.currency,
                        " ".join(r.id for r in item.stripe),
                        " ".join(r.id for r in item.ledger),
                        " ".join(str(r.row) for r in item.ledger),
                        "",
                    ]
                )
        for error in self.input_errors:
            writer.writerow(
                [
                    "input_error",
                    "input_error",
                    "warning",
                    error.rule,
                    "",
                    "",
                    "",
                    "",
                    error.ref or "",
                    error.row,
                    error.field,
                ]
            )
        return out.getvalue()

    def to_markdown(self, *, limit: int = 200) -> str:
        """Render a readable Markdown summary with the first ``limit`` discrepancies."""
        lines = [
            f"# Reconciliation {self.period} ({self.period_kind}, {self.timezone})",
            "",
            f"- Window: {self.start} to {self.end}, tolerance {self.window_seconds} s",
            f"- Mode: {'live' if self.livemode else 'test'}; generated {self.generated_at}",
            f"- Discrepancies: {self.open_discrepancies} ({self.critical} critical); "
            f"input errors: {len(self.input_errors)}",
            "",
            "| outcome | count |",
            "| --- | ---: |",
            *(f"| {k} | {v} |" for k, v in sorted(self.counts.items())),
            "",
        ]
        if self.discrepancies:
            lines += [
                "## Discrepancies",
                "",
                "| class | severity | amount | Stripe | ledger | rule | hint |",
                "| --- | --- | ---: | --- | --- | --- | --- |",
            ]
            for item in self.discrepancies[:limit]:
                shown = format_money(item.amount, item.currency) if item.currency else ""
                lines.append(
                    f"| {item.kind} | {item.severity} | {shown} | "
                    f"{' '.join(r.id for r in item.stripe)} | "
                    f"{' '.join(r.id for r in item.ledger)} | "
                    f"{item.rule} | {item.hint or ''} |"
                )
            if len(self.discrepancies) > limit:
                lines.append(f"\n{len(self.discrepancies) - limit} more in the JSON or CSV report.")
            lines.append("")
        if self.input_errors:
            lines += ["## Input errors", "", "| row | field | rule |", "| ---: | --- | --- |"]
            lines += [f"| {e.row} | {e.field} | {e.rule} |" for e in self.input_errors[:limit]]
            lines.append("")
        return "\n".join(lines)


def _item(finding: Finding) -> Item:
    return Item(
        kind=finding.kind,
        severity=finding.severity,
        rule=finding.rule,
        hint=finding.hint,
        stripe=tuple(RecordView.of(r) for r in finding.stripe),
        ledger=tuple(RecordView.of(r) for r in finding.ledger),
    )


def build_report(
    outcome: MatchOutcome,
    period: Period,
    *,
    generated_at: datetime,
    window: int,
    livemode: bool,
    extra: Iterable[Finding] = (),
) -> Report:
    """Turn the engine's outcome into a `Report`.

    Args:
        outcome: What `match_records` returned.
        period: The period reconciled.
        generated_at: The run's time (from the clock).
        window: The tolerance window W in seconds.
        livemode: The mode reconciled.
        extra: Further findings (for example payout checks) to include.

    Returns:
        The report.

    Examples:
        >>> from datetime import date
        >>> p = Period.of("daily", date(2026, 11, 24), "UTC")
        >>> build_report(MatchOutcome(), p, generated_at=p.end, window=0, livemode=True).run_key
        'daily:2026-11-24:UTC:live'
    """
    counts = dict(outcome.counts)
    findings = list(outcome.findings)
    for finding in extra:
        counts[finding.kind] = counts.get(finding.kind, 0) + 1
        findings.append(finding)
    findings.sort(key=Finding.sort_key)
    mode = "live" if livemode else "test"
    data: dict[str, Any] = {
        "run_key": f"{period.kind}:{period.label}:{period.timezone}:{mode}",
        "period": period.label,
        "period_kind": period.kind,
        "timezone": period.timezone,
        "start": period.start.isoformat().replace("+00:00", "Z"),
        "end": period.end.isoformat().replace("+00:00", "Z"),
        "window_seconds": window,
        "livemode": livemode,
        "generated_at": generated_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "counts": dict(sorted(counts.items())),
        "discrepancies": tuple(_item(f) for f in findings if f.kind in ALERTING),
        "notes": tuple(_item(f) for f in findings if f.kind not in ALERTING),
        "input_errors": tuple(
            IssueView(row=i.row, field=i.field, rule=i.rule, ref=i.ref)
            for i in sorted(outcome.issues)
        ),
    }
    return Report(**data)
