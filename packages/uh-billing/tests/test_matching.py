from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from unified_health.billing._matching import SEVERITY, MatchOutcome, match_records
from unified_health.billing._periods import Period
from unified_health.billing._records import InputIssue, LedgerRecord, StripeRecord
from unified_health.billing._synthetic import score, synthetic_data, synthetic_stream

DAY = 86400
START, END = 10 * DAY, 11 * DAY
W = 6 * 3600
NOW = END + 2 * DAY
T = START + 3600 * 12


def charge(sid: str = "ch_1", amount: int = 1000, created: int = T, **kw: Any) -> StripeRecord:
    return StripeRecord(sid, "payment", amount, "usd", created, "succeeded", True)._replace(**kw)


def row(ref: str = "p1", amount: int = 1000, created: int = T, **kw: Any) -> LedgerRecord:
    return LedgerRecord(ref, "payment", amount, "usd", created, "succeeded", "ch_1")._replace(**kw)


def run(
    stripe: Sequence[StripeRecord],
    ledger: Sequence[LedgerRecord | InputIssue],
    *,
    now: int = NOW,
    fuzzy_window: int | None = None,
) -> MatchOutcome:
    return match_records(
        stripe, ledger, start=START, end=END, now=now, window=W, fuzzy_window=fuzzy_window
    )


def kinds(
    stripe: Sequence[StripeRecord],
    ledger: Sequence[LedgerRecord | InputIssue],
    *,
    now: int = NOW,
    fuzzy_window: int | None = None,
) -> dict[str, int]:
    return run(stripe, ledger, now=now, fuzzy_window=fuzzy_window).counts


def test_exact_id_match_and_payment_intent_id() -> None:
    assert kinds([charge()], [row()]) == {"matched": 1}
    assert kinds([charge(payment_intent="pi_9")], [row(stripe_id="pi_9")]) == {"matched": 1}


def test_every_value_mismatch_carries_both_records_and_the_rule() -> None:
    out = run([charge()], [row(amount=100000)])
    (finding,) = out.findings
    assert (finding.kind, finding.severity, finding.rule, finding.hint) == (
        "amount_mismatch",
        "critical",
        "exact_id",
        "scaled_x100",
    )
    assert finding.stripe[0].id == "ch_1"
    assert finding.ledger[0].ref == "p1"
    assert kinds([charge()], [row(currency="eur")]) == {"currency_mismatch": 1}
    assert kinds([charge()], [row(status="pending")]) == {"status_mismatch": 1}
    assert kinds([charge()], [row(livemode=False)]) == {"mode_mismatch": 1}
    assert kinds([charge(fee=59)], [row(fee=60)]) == {"fee_mismatch": 1}


def test_metadata_tier_and_double_charge() -> None:
    ledger = [row(stripe_id=None, reference="order-1")]
    assert kinds([charge(reference="order-1")], ledger) == {"matched": 1}
    out = run(
        [charge(reference="order-1"), charge("ch_2", reference="order-1", created=T + 30)], ledger
    )
    assert out.counts == {"matched": 1, "duplicate_in_stripe": 1}
    assert out.findings[0].hint == "possible_double_charge"


def test_duplicate_ledger_rows() -> None:
    out = run([charge()], [row(), row("p2")])
    assert out.counts == {"matched": 1, "duplicate_in_ledger": 1}
    assert out.findings[0].hint == "duplicate_of:p1"
    assert out.findings[0].ledger[0].ref == "p2"


def test_partial_refunds_grouped_by_charge() -> None:
    refunds = [
        StripeRecord("re_1", "refund", 300, "usd", T + 10, "succeeded", True, "ch_1"),
        StripeRecord("re_2", "refund", 200, "usd", T + 20, "succeeded", True, "ch_1"),
    ]
    book = LedgerRecord("r1", "refund", 500, "usd", T + 30, "succeeded", None, None, "ch_1")
    assert kinds([charge(), *refunds], [row(), book]) == {"matched": 1, "matched_aggregate": 1}
    short = book._replace(amount=400)
    assert kinds([charge(), *refunds], [row(), short]) == {"matched": 1, "refund_mismatch": 1}


def test_dispute_by_charge() -> None:
    dispute = StripeRecord("dp_1", "dispute", 1000, "usd", T + 10, "lost", True, "ch_1")
    book = LedgerRecord("d1", "dispute", 1000, "usd", T + 30, "open", None, None, "ch_1")
    assert kinds([charge(), dispute], [row(), book]) == {"matched": 1, "dispute_mismatch": 1}
    won = book._replace(status="lost")
    assert kinds([charge(), dispute], [row(), won]) == {"matched": 1, "matched_aggregate": 1}


def test_partial_capture() -> None:
    captured = charge(amount_captured=600)
    assert kinds([captured], [row(amount=600)]) == {"matched_aggregate": 1}
    out = run([captured], [row(amount=1000)])
    assert out.counts == {"amount_mismatch": 1}
    assert out.findings[0].hint == "partial_capture"


def test_fuzzy_tier_needs_exactly_one_candidate() -> None:
    ledger = [row(stripe_id=None, created=T + 50)]
    assert kinds([charge()], ledger) == {"missing_in_stripe": 1, "missing_in_ledger": 1}
    assert kinds([charge()], ledger, fuzzy_window=300) == {"matched_fuzzy": 1}
    two = [charge(), charge("ch_2", created=T + 100)]
    assert kinds(two, ledger, fuzzy_window=300) == {"ambiguous": 1}
    two_rows = [*ledger, row("p2", stripe_id=None, created=T + 60)]
    assert kinds([charge()], two_rows, fuzzy_window=300) == {"ambiguous": 1}


def test_pending_ignored_and_missing() -> None:
    young = charge(created=END - 60)
    assert kinds([young], [], now=END) == {"pending": 1}
    assert kinds([young], [], now=END + W) == {"missing_in_ledger": 1}
    assert kinds([charge(status="failed")], []) == {"ignored": 1}
    assert kinds([], [row(stripe_id=None, status="canceled")]) == {"ignored": 1}


def test_boundary_pairs_are_timing_notes_and_far_pairs_are_late() -> None:
    inside = charge(created=START + 60)
    assert kinds([inside], [row(created=START - 60)]) == {"timing_difference": 1}
    assert kinds([charge(created=START - 60)], [row(created=START + 60)]) == {
        "timing_difference": 1
    }
    assert kinds([charge(created=START - 60)], [row(created=START - 90)]) == {}
    assert kinds([charge(created=T)], [row(created=T + W + 1)]) == {"late_record": 1}


def test_input_issues_are_kept_not_dropped() -> None:
    issue = InputIssue(3, "amount", "must be an int of minor units, not a float", "p3")
    out = run([charge()], [row(), issue])
    assert out.issues == [issue]
    assert out.counts == {"matched": 1}


def test_every_class_has_a_severity() -> None:
    assert set(SEVERITY.values()) == {"critical", "warning", "info"}


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Tokyo"]),
    st.dates(date(2024, 1, 1), date(2030, 12, 31)),
    st.sampled_from(["daily", "weekly", "monthly"]),
    st.integers(1, W),
    st.integers(0, W),
    st.booleans(),
)
def test_a_pair_split_by_the_boundary_within_w_never_alerts(
    zone: str, day: date, kind: str, before: int, after: int, stripe_first: bool
) -> None:
    period = Period.of(kind, day, zone)  # type: ignore[arg-type]
    start, end = int(period.start.timestamp()), int(period.end.timestamp())
    boundary = start if before % 2 else end
    a, b = boundary - before, boundary + after
    if abs(b - a) > W:
        b = a + W
    s_at, l_at = (a, b) if stripe_first else (b, a)
    now = end + W + DAY
    out = match_records(
        [charge(created=s_at)], [row(created=l_at)], start=start, end=end, now=now, window=W
    )
    assert all(f.severity == "info" for f in out.findings)
    # The same pair, seen from both periods, is never lost: one of them notes it.
    other_start, other_end = (
        (start - 40 * DAY, start) if boundary == start else (end, end + 40 * DAY)
    )
    other = match_records(
        [charge(created=s_at)],
        [row(created=l_at)],
        start=other_start,
        end=other_end,
        now=now,
        window=W,
    )
    assert all(f.severity == "info" for f in other.findings)
    assert out.counts or other.counts


@settings(max_examples=100, deadline=None)
@given(st.integers(0, DAY - 1), st.integers(0, 3 * W))
def test_unmatched_younger_than_w_is_pending(offset: int, age: int) -> None:
    created = START + offset
    now = max(created + age, created)
    counts = kinds([charge(created=created)], [], now=now)
    assert counts == ({"pending": 1} if age < W else {"missing_in_ledger": 1})


def test_synthetic_precision_and_recall() -> None:
    data = synthetic_data(20000, start=START, end=END, window=W, seed=3)
    out = run(data.stripe, list(data.ledger))
    result = score(out.findings, data)
    assert result == {"precision": 1.0, "recall": 1.0, "false_alerts": 0, "timing_false_alerts": 0}
    assert out.counts["timing_difference"] == len(data.timing)


def test_period_from_datetime_helper_is_consistent() -> None:
    period = Period.of("daily", date(2026, 11, 1), "America/New_York")
    assert period.start == datetime(2026, 11, 1, 4, tzinfo=UTC)


def test_pending_items_of_the_previous_period_are_rechecked() -> None:
    late = charge(created=START - 60)
    assert kinds([late], []) == {}
    out = match_records(
        [late], [], start=START, end=END, now=NOW, window=W, recheck=frozenset({"ch_1"})
    )
    assert out.counts == {"missing_in_ledger": 1}
    assert out.findings[0].rule == "recheck_pending"
    # Once its ledger row arrived, the pair is settled silently by the neighbouring period.
    settled = match_records(
        [late],
        [row(created=START - 30)],
        start=START,
        end=END,
        now=NOW,
        window=W,
        recheck=frozenset({"ch_1"}),
    )
    assert settled.counts == {}


payments = st.lists(
    st.tuples(
        st.integers(0, 40),  # which charge id
        st.integers(1, 5000),  # amount
        st.integers(-W, DAY + W),  # offset from START
        st.sampled_from(["succeeded", "pending", "failed"]),
        st.booleans(),  # ledger side or Stripe side
        st.integers(-3600, 3600),  # ledger skew
    ),
    max_size=40,
)


def world_from(
    items: list[tuple[int, int, int, str, bool, int]],
) -> tuple[list[StripeRecord], list[LedgerRecord]]:
    stripe: dict[str, StripeRecord] = {}
    ledger = []
    for n, (cid, amount, offset, status, on_ledger, skew) in enumerate(items):
        sid = f"ch_{cid}"
        if on_ledger:
            ledger.append(
                LedgerRecord(f"p{n}", "payment", amount, "usd", START + offset + skew, status, sid)
            )
        else:
            stripe[sid] = StripeRecord(sid, "payment", amount, "usd", START + offset, status, True)
    return list(stripe.values()), ledger


@settings(max_examples=200, deadline=None)
@given(payments, st.randoms(use_true_random=False))
def test_outcome_does_not_depend_on_input_order(items: list[Any], rnd: Any) -> None:
    # Duplicate ledger rows are the exception: the first in source order is the one paired.
    stripe, ledger = world_from(items)
    ledger = list({row.stripe_id: row for row in ledger}.values())
    first = run(stripe, ledger, fuzzy_window=300)
    rnd.shuffle(stripe)
    rnd.shuffle(ledger)
    second = run(stripe, ledger, fuzzy_window=300)
    assert first.counts == second.counts
    assert [f.sort_key() for f in first.findings] == [f.sort_key() for f in second.findings]


@settings(max_examples=200, deadline=None)
@given(payments)
def test_every_stripe_payment_in_the_period_is_accounted_for_once(items: list[Any]) -> None:
    # Without failed records nothing is "ignored", so every Stripe payment shows up by id.
    stripe, ledger = world_from(
        [(*i[:3], "succeeded" if i[3] == "failed" else i[3], *i[4:]) for i in items]
    )
    out = run(stripe, ledger)
    inside = {s.id for s in stripe if START <= s.created < END}
    seen: list[str] = []
    for finding in out.findings:
        seen += [
            s.id for s in finding.stripe if s.id in inside and finding.kind != "duplicate_in_ledger"
        ]
    total = len(seen) + out.counts.get("matched", 0) + out.counts.get("ignored", 0)
    assert total == len(inside)


@settings(max_examples=150, deadline=None)
@given(payments, st.integers(1, 8), st.booleans())
def test_bounded_mode_gives_the_same_outcome(
    items: list[Any], partitions: int, fuzzy: bool
) -> None:
    from unified_health.billing._bounded import match_records_bounded

    stripe, ledger = world_from(items)
    ledger += [
        LedgerRecord("r1", "refund", 30, "usd", T, "succeeded", None, None, "ch_1"),
        LedgerRecord("o1", "payment", 77, "usd", T, "succeeded", None, "order-7"),
    ]
    stripe += [
        StripeRecord("re_1", "refund", 30, "usd", T + 5, "succeeded", True, "ch_1"),
        StripeRecord("ch_x7", "payment", 77, "usd", T + 9, "succeeded", True, reference="order-7"),
    ]
    options: dict[str, Any] = {"start": START, "end": END, "now": NOW, "window": W}
    options["fuzzy_window"] = 300 if fuzzy else None
    direct = match_records(stripe, ledger, **options)
    bounded = match_records_bounded(iter(stripe), iter(ledger), partitions=partitions, **options)
    assert bounded.counts == direct.counts
    assert bounded.findings == direct.findings


def test_bounded_mode_on_synthetic_data() -> None:
    from unified_health.billing._bounded import match_records_bounded

    data = synthetic_data(5000, start=START, end=END, window=W, seed=4)
    options: dict[str, Any] = {"start": START, "end": END, "now": NOW, "window": W}
    streams = {
        side: synthetic_stream(5000, side, start=START, end=END, window=W, seed=4)
        for side in ("stripe", "ledger")
    }
    bounded = match_records_bounded(streams["stripe"], streams["ledger"], partitions=16, **options)
    assert bounded.counts == match_records(data.stripe, data.ledger, **options).counts
    assert score(bounded.findings, data)["recall"] == 1.0
