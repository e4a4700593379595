"""Synthetic Stripe and ledger records with planted discrepancies, for tests and benchmarks.

The answer key (`SyntheticData.planted`) lists, for every planted difference, its class and the
ids involved, so precision and recall can be measured against the engine's findings.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from unified_health.billing._errors import InvalidInputError
from unified_health.billing._matching import Finding
from unified_health.billing._records import LedgerRecord, StripeRecord

__all__ = [
    "PLANTABLE",
    "SyntheticData",
    "ledger_rows",
    "score",
    "synthetic_data",
    "synthetic_stream",
]

PLANTABLE = (
    "missing_in_ledger",
    "missing_in_stripe",
    "amount_mismatch",
    "currency_mismatch",
    "status_mismatch",
    "duplicate_in_stripe",
    "refund_mismatch",
    "mode_mismatch",
    "fee_mismatch",
)
"""The discrepancy classes `synthetic_data` plants, in rotation."""


@dataclass(slots=True)
class SyntheticData:
    """Both sides of a synthetic period and the answer key.

    Attributes:
        stripe: The Stripe records (fetched range: the period plus the window on each side).
        ledger: The ledger records.
        planted: ``(class, id)`` for every planted discrepancy (id: a Stripe id or ledger ref).
        timing: Ids of pairs planted across the period boundary within the window (no alert).
    """

    stripe: list[StripeRecord]
    ledger: list[LedgerRecord]
    planted: set[tuple[str, str]] = field(default_factory=set)
    timing: set[str] = field(default_factory=set)


def synthetic_data(
    count: int,
    *,
    start: int,
    end: int,
    window: int,
    rate: float = 0.005,
    timing_rate: float = 0.002,
    seed: int = 7,
) -> SyntheticData:
    """Generate ``count`` payments on each side with ``rate`` of them planted as discrepancies.

    Every tenth payment also has a refund (half of them as two partial refunds booked as one
    ledger row by charge). Planted classes rotate through `PLANTABLE`; a further ``timing_rate`` of
    pairs straddle the period's start within ``window`` (a timing note, never an alert).

    Args:
        count: Payments per side.
        start: The period's first epoch second.
        end: The first epoch second after the period.
        window: The tolerance window W in seconds.
        rate: Share of payments planted as discrepancies.
        timing_rate: Share of payments planted across the boundary within W.
        seed: Random seed; the same seed gives the same data.

    Returns:
        The data and its answer key.

    Raises:
        InvalidInputError: ``count`` < 1, an empty period, or a rate outside [0, 1].

    Examples:
        >>> data = synthetic_data(1000, start=0, end=86400, window=3600, seed=1)
        >>> (len(data.ledger) > 1000, sorted({kind for kind, _ in data.planted})[:2])
        (True, ['amount_mismatch', 'currency_mismatch'])
    """
    _check(count, start, end, rate, timing_rate)
    data = SyntheticData([], [])
    for kind, value in _events(count, start, end, window, rate, timing_rate, seed):
        if kind == "s":
            data.stripe.append(value)
        elif kind == "l":
            data.ledger.append(value)
        elif kind == "p":
            data.planted.add(value)
        else:
            data.timing.add(value)
    return data


def synthetic_stream(
    count: int,
    side: str,
    *,
    start: int,
    end: int,
    window: int,
    rate: float = 0.005,
    timing_rate: float = 0.002,
    seed: int = 7,
) -> Iterator[Any]:
    """One side of `synthetic_data` as a stream, for inputs larger than memory.

    Args:
        count: Payments per side.
        side: ``"stripe"``, ``"ledger"``, ``"planted"`` or ``"timing"``.
        start: The period's first epoch second.
        end: The first epoch second after the period.
        window: The tolerance window W in seconds.
        rate: Share of payments planted as discrepancies.
        timing_rate: Share of payments planted across the boundary within W.
        seed: Random seed; the same arguments give the same items as `synthetic_data`.

    Returns:
        The records (or answer-key entries) of that side, one at a time.

    Examples:
        >>> rows = synthetic_stream(100, "ledger", start=0, end=86400, window=3600, seed=1)
        >>> next(rows).ref
        'pay-000000000'
    """
    wanted = {"stripe": "s", "ledger": "l", "planted": "p", "timing": "t"}.get(side)
    if wanted is None:
        raise InvalidInputError("side", "must be one of: stripe, ledger, planted, timing")
    _check(count, start, end, rate, timing_rate)
    return (
        v for k, v in _events(count, start, end, window, rate, timing_rate, seed) if k == wanted
    )


def score(findings: Iterable[Finding], data: SyntheticData) -> dict[str, float | int]:
    """Precision and recall of alerting findings against the planted answer key.

    A finding is a true positive when the answer key holds its class with one of its ids. Timing
    pairs that raised an alert count as false alerts.

    Args:
        findings: The engine's findings.
        data: The synthetic data with its answer key.

    Returns:
        ``precision``, ``recall``, ``false_alerts`` and ``timing_false_alerts``.

    Examples:
        >>> data = synthetic_data(1000, start=0, end=86400, window=3600, seed=1)
        >>> score([], data)["recall"]
        0.0
    """
    found: set[tuple[str, str]] = set()
    true_positive = false_alerts = timing_alerts = alerts = 0
    for finding in findings:
        if finding.severity == "info":
            continue
        alerts += 1
        ids = [r.id for r in finding.stripe] + [r.ref for r in finding.ledger]
        hits = [(finding.kind, i) for i in ids if (finding.kind, i) in data.planted]
        if hits:
            true_positive += 1
            found.update(hits)
        else:
            false_alerts += 1
            if any(i in data.timing for i in ids):
                timing_alerts += 1
    return {
        "precision": true_positive / alerts if alerts else 1.0,
        "recall": len(found) / len(data.planted) if data.planted else 1.0,
        "false_alerts": false_alerts,
        "timing_false_alerts": timing_alerts,
    }


def ledger_rows(records: Iterable[LedgerRecord]) -> Iterator[dict[str, Any]]:
    """Turn ledger records back into the rows a host's `LedgerSource` would yield.

    Examples:
        >>> row = next(ledger_rows([LedgerRecord("p1", "payment", 5, "usd", 0, "succeeded")]))
        >>> (row["id"], row["created"])
        ('p1', '1970-01-01T00:00:00+00:00')
    """
    for r in records:
        row: dict[str, Any] = {
            "id": r.ref,
            "type": r.kind,
            "amount": r.amount,
            "currency": r.currency,
            "created": datetime.fromtimestamp(r.created, UTC).isoformat(),
            "status": r.status,
        }
        for name in ("stripe_id", "reference", "charge", "livemode", "fee"):
            value = getattr(r, name)
            if value is not None:
                row[name] = value
        yield row


def _check(count: int, start: int, end: int, rate: float, timing_rate: float) -> None:
    given: object = count
    if isinstance(given, bool) or not isinstance(given, int) or given < 1:
        raise InvalidInputError("count", "must be an int >= 1")
    if not end > start:
        raise InvalidInputError("end", "must be after start")
    for name, value in (("rate", rate), ("timing_rate", timing_rate)):
        if not 0 <= value <= 1:
            raise InvalidInputError(name, "must be between 0 and 1")


Event = tuple[str, Any]


def _events(
    count: int, start: int, end: int, window: int, rate: float, timing_rate: float, seed: int
) -> Iterator[Event]:
    """The generator behind `synthetic_data`, in a fixed order for a seed.

    Events: ``("s", record)``, ``("l", row)``, ``("p", (class, id))`` and ``("t", id)``.
    """
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    every = max(1, round(1 / rate)) if rate else 0
    timing_every = max(1, round(1 / timing_rate)) if timing_rate else 0
    span = end - start
    old = end - window  # created before this, unmatched items are overdue rather than pending
    planted_index = 0
    for i in range(count):
        sid = f"ch_{i:012d}"
        ref = f"pay-{i:09d}"
        amount = rng.randrange(500, 50000)
        created = start + rng.randrange(span - 2 * window) + window // 2
        created = min(created, old - 1)
        fee = amount * 29 // 1000 + 30
        s = StripeRecord(
            sid,
            "payment",
            amount,
            "usd",
            created,
            "succeeded",
            True,
            None,
            None,
            f"order-{i}",
            None,
            fee,
        )
        led = LedgerRecord(
            ref,
            "payment",
            amount,
            "usd",
            created + rng.randrange(120),
            "succeeded",
            sid,
            f"order-{i}",
            None,
            True,
            fee,
            i + 1,
        )
        if timing_every and i % timing_every == timing_every // 2:
            s = s._replace(created=start + rng.randrange(1, window // 2))
            led = led._replace(created=start - rng.randrange(1, window // 2))
            yield "t", (sid)
        elif every and i % every == every // 2:
            kind = PLANTABLE[planted_index % len(PLANTABLE)]
            planted_index += 1
            if kind == "missing_in_ledger":
                yield "s", (s)
                yield "p", ((kind, sid))
                continue
            if kind == "missing_in_stripe":
                yield "l", (led)
                yield "p", ((kind, ref))
                continue
            if kind == "amount_mismatch":
                led = led._replace(amount=amount * 100)
            elif kind == "currency_mismatch":
                led = led._replace(currency="eur")
            elif kind == "status_mismatch":
                led = led._replace(status="pending")
            elif kind == "mode_mismatch":
                led = led._replace(livemode=False)
            elif kind == "fee_mismatch":
                led = led._replace(fee=fee + 1)
            elif kind == "duplicate_in_stripe":
                led = led._replace(stripe_id=None)
                twin = s._replace(id=f"ch_dup{i:09d}", created=s.created + 30)
                yield "s", (twin)
                yield "p", ((kind, twin.id))
            elif kind == "refund_mismatch":
                refund = StripeRecord(
                    f"re_{i:012d}",
                    "refund",
                    amount // 2,
                    "usd",
                    created + 60,
                    "succeeded",
                    True,
                    sid,
                )
                yield "s", (refund)
                yield (
                    "l",
                    (
                        LedgerRecord(
                            f"rf-{i:09d}",
                            "refund",
                            amount // 2 + 1,
                            "usd",
                            created + 70,
                            "succeeded",
                            None,
                            None,
                            sid,
                            True,
                            None,
                            i + 1,
                        )
                    ),
                )
                yield "p", ((kind, refund.id))
            if kind != "duplicate_in_stripe" and kind != "refund_mismatch":
                yield "p", ((kind, sid))
        elif i % 10 == 3:
            if i % 20 == 3:
                parts = (amount // 3, amount // 4)
                for n, part in enumerate(parts):
                    yield (
                        "s",
                        (
                            StripeRecord(
                                f"re_{i:010d}_{n}",
                                "refund",
                                part,
                                "usd",
                                created + 100 + n,
                                "succeeded",
                                True,
                                sid,
                            )
                        ),
                    )
                yield (
                    "l",
                    (
                        LedgerRecord(
                            f"rf-{i:09d}",
                            "refund",
                            sum(parts),
                            "usd",
                            created + 200,
                            "succeeded",
                            None,
                            None,
                            sid,
                            True,
                            None,
                            i + 1,
                        )
                    ),
                )
            else:
                rid = f"re_{i:012d}"
                yield (
                    "s",
                    (
                        StripeRecord(
                            rid, "refund", amount, "usd", created + 100, "succeeded", True, sid
                        )
                    ),
                )
                yield (
                    "l",
                    (
                        LedgerRecord(
                            f"rf-{i:09d}",
                            "refund",
                            amount,
                            "usd",
                            created + 150,
                            "succeeded",
                            rid,
                            None,
                            sid,
                            True,
                            None,
                            i + 1,
                        )
                    ),
                )
        yield "s", (s)
        yield "l", (led)
