"""The matching and classification engine: a pure function of both sides, a period and a clock.

Tiers, in order, each only over what earlier tiers left unmatched:

1. ``exact_id``: the Stripe id stored in the ledger (a ``pi_`` id finds its charge).
2. ``metadata``: the ledger's reference equals the configured Stripe metadata key.
3. ``charge_aggregate``: refunds and disputes without their own id, grouped by charge and
   compared as sums (several partial refunds against one ledger row, or the other way round).
4. ``fuzzy`` (opt-in): same kind, currency and amount, created within the fuzzy window, and exactly
   one candidate on each side; more than one is reported as ``ambiguous``.

Scope: both sides are fetched for ``[start - W, end + W)``. A pair belongs to the period that holds
its Stripe record (else its ledger record); a pair split by the period boundary within ``W`` is a
``timing_difference`` note; an unmatched record younger than ``W`` is ``pending``; records in the
margins that belong to a neighbouring period are left to that period's run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from unified_health.billing._records import (
    NO_MONEY_STATUSES,
    InputIssue,
    LedgerRecord,
    StripeRecord,
)

__all__ = [
    "ALERTING",
    "NOTES",
    "SEVERITY",
    "Finding",
    "MatchOutcome",
    "check_payouts",
    "match_records",
]

SEVERITY: Final[dict[str, str]] = {
    "missing_in_ledger": "critical",
    "missing_in_stripe": "critical",
    "amount_mismatch": "critical",
    "currency_mismatch": "critical",
    "duplicate_in_stripe": "critical",
    "refund_mismatch": "critical",
    "payout_imbalance": "critical",
    "mode_mismatch": "critical",
    "status_mismatch": "warning",
    "duplicate_in_ledger": "warning",
    "dispute_mismatch": "warning",
    "fee_mismatch": "warning",
    "ambiguous": "warning",
    "late_record": "warning",
    "matched": "info",
    "matched_fuzzy": "info",
    "matched_aggregate": "info",
    "timing_difference": "info",
    "pending": "info",
    "ignored": "info",
}
"""Every outcome class and its severity; ``info`` outcomes never alert."""

ALERTING: Final = frozenset(k for k, v in SEVERITY.items() if v != "info")
"""The discrepancy classes (severity ``critical`` or ``warning``)."""

NOTES: Final = frozenset({"matched_fuzzy", "timing_difference", "pending"})
"""Non-alerting outcomes kept in the report item by item; matches, aggregate matches and ignores
are counted only (a million rows would otherwise make a report of a million items)."""


_COUNTED_ONLY: Final = frozenset({"matched", "matched_aggregate", "ignored"})


class Finding(NamedTuple):
    """One classified outcome: its class, severity, the rule that fired and both sides.

    Attributes:
        kind: The class, e.g. ``"amount_mismatch"`` (see `SEVERITY`).
        severity: ``"critical"``, ``"warning"`` or ``"info"``.
        rule: The matching tier or check that produced it, e.g. ``"exact_id"``.
        stripe: The Stripe records involved (several for an aggregate or a duplicate).
        ledger: The ledger records involved.
        hint: A short machine-readable hint (``"scaled_x100"``, ``"partial_capture"``), or ``None``.

    Examples:
        >>> Finding("pending", "info", "younger_than_window", (), ()).kind
        'pending'
    """

    kind: str
    severity: str
    rule: str
    stripe: tuple[StripeRecord, ...]
    ledger: tuple[LedgerRecord, ...]
    hint: str | None = None

    def sort_key(self) -> tuple[str, str, str]:
        """A total order for byte-identical reports: class, first Stripe id, first ledger id."""
        return (
            self.kind,
            self.stripe[0].id if self.stripe else "",
            self.ledger[0].ref if self.ledger else "",
        )


@dataclass(slots=True)
class MatchOutcome:
    """What the engine found: counts per class, the findings kept item by item, input issues.

    Examples:
        >>> outcome = match_records([], [], start=0, end=86400, now=90000, window=3600)
        >>> (outcome.counts, outcome.findings, outcome.issues)
        ({}, [], [])
    """

    counts: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    issues: list[InputIssue] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        """Count ``finding``; keep it too unless it is a match, an aggregate match or an ignore."""
        self.counts[finding.kind] = self.counts.get(finding.kind, 0) + 1
        if finding.kind not in _COUNTED_ONLY:
            self.findings.append(finding)

    def count(self, kind: str, by: int = 1) -> None:
        """Count ``by`` outcomes of ``kind`` without keeping them."""
        self.counts[kind] = self.counts.get(kind, 0) + by


def _amount_hint(ledger_amount: int, stripe: StripeRecord) -> str | None:
    if stripe.amount and ledger_amount == stripe.amount * 100:
        return "scaled_x100"
    if ledger_amount and stripe.amount == ledger_amount * 100:
        return "scaled_div100"
    if stripe.amount_captured is not None and ledger_amount == stripe.amount:
        return "partial_capture"
    if stripe.amount_captured is not None and ledger_amount > stripe.amount_captured:
        return "partial_capture"
    return None


_VALUE_CLASS: Final = {"refund": "refund_mismatch", "dispute": "dispute_mismatch"}


class _Engine:
    """One run of the engine; a class only to share the period bounds between the tiers."""

    def __init__(
        self, start: int, end: int, now: int, window: int, fuzzy_window: int | None
    ) -> None:
        self.start = start
        self.end = end
        self.now = now
        self.window = window
        self.fuzzy_window = fuzzy_window
        self.recheck: frozenset[str] = frozenset()
        self.out = MatchOutcome()

    def inside(self, created: int) -> bool:
        return self.start <= created < self.end

    def _note(self, ledger: LedgerRecord, stripe: StripeRecord, rule: str) -> None:
        """A pair split by the boundary: a timing note within W, else a late record."""
        if abs(ledger.created - stripe.created) <= self.window:
            self.out.add(Finding("timing_difference", "info", rule, (stripe,), (ledger,)))
        else:
            self.out.add(Finding("late_record", "warning", rule, (stripe,), (ledger,)))

    def pair(self, ledger: LedgerRecord, stripe: StripeRecord, rule: str, kind: str) -> None:
        """Classify a matched pair (``kind`` is ``matched`` or ``matched_fuzzy``)."""
        s_in = self.start <= stripe.created < self.end
        l_in = self.start <= ledger.created < self.end
        if not s_in:
            # The period holding the Stripe record owns the value checks of the pair.
            if l_in:
                self._note(ledger, stripe, rule)
            return
        found = self._compare(ledger, stripe, rule)
        if found is not None:
            self.out.add(found)
        elif not l_in or abs(ledger.created - stripe.created) > self.window:
            self._note(ledger, stripe, rule)
        elif stripe.amount_captured is not None and stripe.amount_captured != stripe.amount:
            self.out.add(
                Finding("matched_aggregate", "info", "partial_capture", (stripe,), (ledger,))
            )
        elif kind == "matched":
            self.out.count("matched")
        else:
            self.out.add(Finding(kind, "info", rule, (stripe,), (ledger,)))

    def _compare(self, ledger: LedgerRecord, stripe: StripeRecord, rule: str) -> Finding | None:
        pair = ((stripe,), (ledger,))
        if ledger.livemode is not None and ledger.livemode != stripe.livemode:
            return Finding("mode_mismatch", "critical", rule, *pair)
        if ledger.currency != stripe.currency:
            return Finding("currency_mismatch", "critical", rule, *pair)
        expected = stripe.amount if stripe.amount_captured is None else stripe.amount_captured
        if ledger.amount != expected:
            kind = _VALUE_CLASS.get(stripe.kind, "amount_mismatch")
            return Finding(kind, SEVERITY[kind], rule, *pair, _amount_hint(ledger.amount, stripe))
        if ledger.status != stripe.status:
            kind = "dispute_mismatch" if stripe.kind == "dispute" else "status_mismatch"
            return Finding(kind, "warning", rule, *pair, "status")
        if ledger.fee is not None and stripe.fee is not None and ledger.fee != stripe.fee:
            return Finding("fee_mismatch", "warning", rule, *pair)
        return None

    def unmatched_stripe(self, stripe: StripeRecord, rule: str) -> None:
        if not self.inside(stripe.created):
            if stripe.id in self.recheck:
                rule = "recheck_pending"
            else:
                return
        if stripe.status in NO_MONEY_STATUSES or stripe.amount == 0:
            self.out.add(Finding("ignored", "info", "no_money_moved", (stripe,), ()))
        elif self.now - stripe.created < self.window:
            self.out.add(Finding("pending", "info", "younger_than_window", (stripe,), ()))
        else:
            self.out.add(Finding("missing_in_ledger", "critical", rule, (stripe,), ()))

    def unmatched_ledger(self, ledger: LedgerRecord, rule: str) -> None:
        if not self.inside(ledger.created):
            if ledger.ref in self.recheck:
                rule = "recheck_pending"
            else:
                return
        if ledger.status in NO_MONEY_STATUSES or ledger.amount == 0:
            self.out.add(Finding("ignored", "info", "no_money_moved", (), (ledger,)))
        elif self.now - ledger.created < self.window:
            self.out.add(Finding("pending", "info", "younger_than_window", (), (ledger,)))
        else:
            self.out.add(Finding("missing_in_stripe", "critical", rule, (), (ledger,)))


def match_records(
    stripe: Iterable[StripeRecord],
    ledger: Iterable[LedgerRecord | InputIssue],
    *,
    start: int,
    end: int,
    now: int,
    window: int,
    fuzzy_window: int | None = None,
    recheck: frozenset[str] = frozenset(),
    defer: tuple[list[StripeRecord], list[LedgerRecord]] | None = None,
) -> MatchOutcome:
    """Match and classify both sides of one period (times in epoch seconds).

    The Stripe side is indexed; the ledger side is streamed once, so only its unmatched rows are
    held (a matched row is remembered by its ref alone; a second row claiming the same Stripe id
    is a ``duplicate_in_ledger`` whose hint names the first row). `InputIssue` items in the
    ledger stream are kept as input errors, never dropped.

    Args:
        stripe: Stripe records fetched for ``[start - window, end + window)``.
        ledger: Ledger records (or issues) for the same range.
        start: The period's first second.
        end: The first second after the period.
        now: The time of the run.
        window: The tolerance window W in seconds.
        fuzzy_window: Enables the fuzzy tier with this many seconds of slack; ``None`` disables it.
        recheck: Ids (Stripe ids, ledger refs) left pending by the previous period's run; those
            still unmatched in this run's margin are reported again (pending or missing).
        defer: For a partitioned run (`match_records_bounded`): two lists that receive what the
            exact-id and by-charge tiers left unmatched, instead of classifying it.

    Returns:
        The outcome.

    Examples:
        >>> s = [StripeRecord("ch_1", "payment", 1000, "usd", 500, "succeeded", True),
        ...      StripeRecord("ch_2", "payment", 2500, "usd", 600, "succeeded", True)]
        >>> led = [LedgerRecord("p1", "payment", 1000, "usd", 510, "succeeded", "ch_1"),
        ...        LedgerRecord("p2", "payment", 250000, "usd", 610, "succeeded", "ch_2")]
        >>> out = match_records(s, led, start=0, end=86400, now=200000, window=3600)
        >>> out.counts
        {'matched': 1, 'amount_mismatch': 1}
        >>> out.findings[0].hint
        'scaled_x100'
    """
    engine = _Engine(start, end, now, window, fuzzy_window)
    engine.recheck = recheck
    out = engine.out
    by_id: dict[str, StripeRecord] = {}
    by_intent: dict[str, str] = {}
    for record in stripe:
        by_id[record.id] = record
        if record.payment_intent is not None:
            by_intent[record.payment_intent] = record.id
    claimed: dict[str, str] = {}
    rest: list[LedgerRecord] = []
    for row in ledger:
        if type(row) is InputIssue:
            out.issues.append(row)
            continue
        assert type(row) is LedgerRecord
        sid = row.stripe_id
        if sid is None:
            rest.append(row)
            continue
        found = by_id.get(sid)
        if found is None and sid in by_intent:
            found = by_id.get(by_intent[sid])
        if found is None:
            rest.append(row)
            continue
        if found.id in claimed:
            if engine.inside(row.created) or engine.inside(found.created):
                out.add(
                    Finding(
                        "duplicate_in_ledger",
                        "warning",
                        "exact_id",
                        (found,),
                        (row,),
                        f"duplicate_of:{claimed[found.id]}",
                    )
                )
            continue
        claimed[found.id] = row.ref
        engine.pair(row, found, "exact_id", "matched")
    if defer is not None:
        # Partitioned run: settle what this partition can settle alone (ids, sums by charge)
        # and hand back the rest for the cross-partition tiers.
        _aggregate_tier(engine, by_id, claimed, rest)
        defer[0].extend(r for r in by_id.values() if r.id not in claimed)
        defer[1].extend(rest)
        return out
    _metadata_tier(engine, by_id, claimed, rest)
    _aggregate_tier(engine, by_id, claimed, rest)
    if fuzzy_window is not None:
        _fuzzy_tier(engine, by_id, claimed, rest, fuzzy_window)
    for row in rest:
        engine.unmatched_ledger(row, "no_candidate")
    for record in by_id.values():
        if record.id not in claimed:
            engine.unmatched_stripe(record, "no_candidate")
    out.issues.sort()
    out.findings.sort(key=Finding.sort_key)
    return out


def _metadata_tier(
    engine: _Engine,
    by_id: dict[str, StripeRecord],
    claimed: dict[str, str],
    rest: list[LedgerRecord],
) -> None:
    wanted = {row.reference for row in rest if row.reference is not None}
    if not wanted:
        return
    by_ref: dict[str, list[StripeRecord]] = defaultdict(list)
    for record in by_id.values():
        if record.reference in wanted and record.id not in claimed and record.kind == "payment":
            by_ref[record.reference].append(record)
    keep: list[LedgerRecord] = []
    for row in rest:
        candidates = by_ref.get(row.reference) if row.reference is not None else None
        if not candidates or row.kind != "payment":
            keep.append(row)
            continue
        candidates.sort(key=lambda r: (r.created, r.id))
        first, *extra = candidates
        by_ref[row.reference] = []  # type: ignore[index]
        claimed[first.id] = row.ref
        engine.pair(row, first, "metadata", "matched")
        for duplicate in extra:
            claimed[duplicate.id] = row.ref
            if engine.inside(duplicate.created):
                engine.out.add(
                    Finding(
                        "duplicate_in_stripe",
                        "critical",
                        "metadata",
                        (first, duplicate),
                        (row,),
                        "possible_double_charge",
                    )
                )
    rest[:] = keep


def _aggregate_tier(
    engine: _Engine,
    by_id: dict[str, StripeRecord],
    claimed: dict[str, str],
    rest: list[LedgerRecord],
) -> None:
    groups: dict[tuple[str, str], list[LedgerRecord]] = defaultdict(list)
    keep: list[LedgerRecord] = []
    for row in rest:
        if row.kind in ("refund", "dispute") and row.charge is not None:
            groups[(row.kind, row.charge)].append(row)
        else:
            keep.append(row)
    if not groups:
        return
    stripe_groups: dict[tuple[str, str], list[StripeRecord]] = defaultdict(list)
    for record in by_id.values():
        if record.charge is not None and record.id not in claimed:
            key = (record.kind, record.charge)
            if key in groups:
                stripe_groups[key].append(record)
    for key in sorted(groups):
        rows = sorted(groups[key], key=lambda r: (r.created, r.ref))
        records = sorted(stripe_groups.get(key, []), key=lambda r: (r.created, r.id))
        if not records:
            keep.extend(rows)
            continue
        for record in records:
            claimed[record.id] = rows[0].ref
        if not any(engine.inside(r.created) for r in records) and not any(
            engine.inside(r.created) for r in rows
        ):
            continue
        kind = key[0]
        same_currency = len({r.currency for r in rows} | {r.currency for r in records}) == 1
        ledger_total = sum(r.amount for r in rows)
        stripe_total = sum(r.amount for r in records)
        if not same_currency:
            found = Finding(
                "currency_mismatch", "critical", "charge_aggregate", tuple(records), tuple(rows)
            )
        elif ledger_total != stripe_total:
            cls = "refund_mismatch" if kind == "refund" else "dispute_mismatch"
            found = Finding(cls, SEVERITY[cls], "charge_aggregate", tuple(records), tuple(rows))
        elif kind == "dispute" and {r.status for r in rows} != {r.status for r in records}:
            found = Finding(
                "dispute_mismatch",
                "warning",
                "charge_aggregate",
                tuple(records),
                tuple(rows),
                "status",
            )
        else:
            found = Finding(
                "matched_aggregate", "info", "charge_aggregate", tuple(records), tuple(rows)
            )
        engine.out.add(found)
    rest[:] = keep


def _fuzzy_tier(
    engine: _Engine,
    by_id: dict[str, StripeRecord],
    claimed: dict[str, str],
    rest: list[LedgerRecord],
    slack: int,
) -> None:
    wanted = {(r.kind, r.currency, r.amount) for r in rest}
    buckets: dict[tuple[str, str, int], list[StripeRecord]] = defaultdict(list)
    for record in by_id.values():
        key = (record.kind, record.currency, record.amount)
        if record.id not in claimed and key in wanted:
            buckets[key].append(record)
    ledger_buckets: dict[tuple[str, str, int], list[LedgerRecord]] = defaultdict(list)
    for row in rest:
        ledger_buckets[(row.kind, row.currency, row.amount)].append(row)
    keep: list[LedgerRecord] = []
    for key in sorted(ledger_buckets):
        rows = sorted(ledger_buckets[key], key=lambda r: (r.created, r.ref))
        records = sorted(buckets.get(key, []), key=lambda r: (r.created, r.id))
        handled: set[str] = set()
        for row in rows:
            if row.ref in handled:
                continue
            near = [
                r for r in records if r.id not in claimed and abs(r.created - row.created) <= slack
            ]
            if not near:
                keep.append(row)
                continue
            rivals = [
                o
                for o in rows
                if o.ref not in handled and any(abs(o.created - r.created) <= slack for r in near)
            ]
            if len(near) == 1 and len(rivals) == 1:
                claimed[near[0].id] = row.ref
                handled.add(row.ref)
                engine.pair(row, near[0], "fuzzy", "matched_fuzzy")
                continue
            for r in near:
                claimed[r.id] = row.ref
            handled.update(o.ref for o in rivals)
            if any(engine.inside(r.created) for r in near) or any(
                engine.inside(o.created) for o in rivals
            ):
                engine.out.add(
                    Finding(
                        "ambiguous",
                        "warning",
                        "fuzzy",
                        tuple(near),
                        tuple(rivals),
                        "several_candidates",
                    )
                )
    rest[:] = keep


def iter_alerting(findings: Iterable[Finding]) -> Iterator[Finding]:
    """Yield only the findings that alert (severity ``critical`` or ``warning``).

    Examples:
        >>> list(iter_alerting([Finding("pending", "info", "x", (), ())]))
        []
    """
    return (f for f in findings if f.severity != "info")


def check_payouts(
    payouts: Iterable[StripeRecord], transactions: Iterable[StripeRecord]
) -> list[Finding]:
    """The money reconciliation: each payout's balance transactions must sum to the payout.

    Payouts are `StripeRecord` s of kind ``"payout"``; balance transactions are of kind
    ``"balance_transaction"`` with ``amount`` the net and ``charge`` the payout they belong to
    (the payout's own transaction left out). A paid payout whose transactions' nets do not sum to
    its amount, or are in another currency, is a ``payout_imbalance``; one that balances is a
    ``matched_aggregate`` note. Failed and canceled payouts moved no money and are skipped.

    Args:
        payouts: The payouts of the period.
        transactions: Their balance transactions.

    Returns:
        One finding per payout, sorted.

    Examples:
        >>> po = StripeRecord("po_1", "payout", 900, "usd", 0, "paid", True)
        >>> txns = [StripeRecord("txn_1", "balance_transaction", 970, "usd", 0, "available",
        ...                      True, "po_1"),
        ...         StripeRecord("txn_2", "balance_transaction", -100, "usd", 0, "available",
        ...                      True, "po_1")]
        >>> [f.kind for f in check_payouts([po], txns)]
        ['payout_imbalance']
    """
    by_payout: dict[str, list[StripeRecord]] = defaultdict(list)
    for txn in transactions:
        if txn.charge is not None:
            by_payout[txn.charge].append(txn)
    findings = []
    for payout in payouts:
        if payout.status in NO_MONEY_STATUSES:
            continue
        txns = tuple(sorted(by_payout.get(payout.id, []), key=lambda t: t.id))
        balanced = all(t.currency == payout.currency for t in txns) and (
            sum(t.amount for t in txns) == payout.amount
        )
        kind = "matched_aggregate" if balanced else "payout_imbalance"
        findings.append(Finding(kind, SEVERITY[kind], "payout_sum", (payout, *txns), ()))
    findings.sort(key=Finding.sort_key)
    return findings
