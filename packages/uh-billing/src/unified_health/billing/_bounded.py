"""Matching in bounded memory: both sides spilled to disk by partition.

Partitions are matched one by one; what needs every partition (metadata, fuzzy, payment-intent
ids) is matched last.

A Stripe record's partition is its charge (refunds, disputes) or its own id; a ledger row's is its
charge, else its Stripe id; rows with neither go straight to the final pass. Each partition settles
exact-id pairs and sums by charge; whatever it leaves unmatched is spilled again and matched in the
final pass with every tier, so the outcome equals `match_records` on the same input order.
"""

from __future__ import annotations

import pickle
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from unified_health.billing._errors import InvalidInputError
from unified_health.billing._matching import Finding, MatchOutcome, match_records
from unified_health.billing._records import InputIssue, LedgerRecord, StripeRecord

__all__ = ["match_records_bounded"]

_BATCH = 256


class _Spill:
    """Append-only pickled batches of tuples in one file per partition."""

    def __init__(self, directory: Path, name: str, count: int) -> None:
        self.paths = [directory / f"{name}-{i}.bin" for i in range(count)]
        self._files: list[IO[bytes]] = [path.open("ab") for path in self.paths]
        self._buffers: list[list[tuple[Any, ...]]] = [[] for _ in range(count)]

    def add(self, index: int, item: tuple[Any, ...]) -> None:
        buffer = self._buffers[index]
        buffer.append(tuple(item))
        if len(buffer) >= _BATCH:
            pickle.dump(buffer, self._files[index], protocol=pickle.HIGHEST_PROTOCOL)
            buffer.clear()

    def close(self) -> None:
        for index, buffer in enumerate(self._buffers):
            if buffer:
                pickle.dump(buffer, self._files[index], protocol=pickle.HIGHEST_PROTOCOL)
                buffer.clear()
            self._files[index].close()


def _read(path: Path) -> Iterator[tuple[Any, ...]]:
    with path.open("rb") as handle:
        while True:
            try:
                batch = pickle.load(handle)  # noqa: S301 - our own spill files, never input
            except EOFError:
                return
            yield from batch


def _partition(key: str, count: int) -> int:
    return zlib.crc32(key.encode()) % count


def match_records_bounded(
    stripe: Iterable[StripeRecord],
    ledger: Iterable[LedgerRecord | InputIssue],
    *,
    start: int,
    end: int,
    now: int,
    window: int,
    fuzzy_window: int | None = None,
    recheck: frozenset[str] = frozenset(),
    partitions: int = 64,
    spill_dir: str | Path | None = None,
) -> MatchOutcome:
    """`match_records` with memory bounded by one partition, for inputs larger than memory.

    Both inputs are read once, as streams (pass generators, not lists, to keep memory low).

    Args:
        stripe: Stripe records.
        ledger: Ledger records and issues.
        start: The period's first second.
        end: The first second after the period.
        now: The time of the run.
        window: The tolerance window W in seconds.
        fuzzy_window: Enables the fuzzy tier.
        recheck: Ids left pending by the previous run.
        partitions: How many partitions (more: less memory, more files).
        spill_dir: Where the spill files go (a temporary folder, removed after, by default).

    Returns:
        The same outcome `match_records` gives on the same input order.

    Raises:
        InvalidInputError: ``partitions`` is not an int from 1 to 4096.

    Examples:
        >>> s = [StripeRecord("ch_1", "payment", 1000, "usd", 500, "succeeded", True)]
        >>> led = [LedgerRecord("p1", "payment", 1000, "usd", 510, "succeeded", "ch_1")]
        >>> match_records_bounded(s, led, start=0, end=86400, now=200000, window=3600).counts
        {'matched': 1}
    """
    given: object = partitions
    if isinstance(given, bool) or not isinstance(given, int) or not 1 <= given <= 4096:
        raise InvalidInputError("partitions", "must be an int from 1 to 4096")
    with tempfile.TemporaryDirectory(dir=spill_dir) as folder:
        return _run(
            Path(folder),
            stripe,
            ledger,
            partitions,
            {
                "start": start,
                "end": end,
                "now": now,
                "window": window,
                "fuzzy_window": fuzzy_window,
                "recheck": recheck,
            },
        )


def _run(
    folder: Path,
    stripe: Iterable[StripeRecord],
    ledger: Iterable[LedgerRecord | InputIssue],
    count: int,
    options: dict[str, Any],
) -> MatchOutcome:
    stripe_spill = _Spill(folder, "stripe", count)
    for record in stripe:
        stripe_spill.add(_partition(record.charge or record.id, count), record)
    stripe_spill.close()
    ledger_spill = _Spill(folder, "ledger", count + 1)
    issues: list[InputIssue] = []
    for row in ledger:
        if type(row) is InputIssue:
            issues.append(row)
            continue
        assert type(row) is LedgerRecord
        key = row.charge or row.stripe_id
        ledger_spill.add(count if key is None else _partition(key, count), row)
    ledger_spill.close()
    total = MatchOutcome(issues=issues)
    residual_stripe: list[StripeRecord] = []
    residual_ledger: list[LedgerRecord] = []
    residual = _Spill(folder, "residual", 2)
    for index in range(count):
        part_stripe = (StripeRecord(*t) for t in _read(stripe_spill.paths[index]))
        part_ledger = (LedgerRecord(*t) for t in _read(ledger_spill.paths[index]))
        out = match_records(
            part_stripe, part_ledger, defer=(residual_stripe, residual_ledger), **options
        )
        _merge(total, out)
        for record in residual_stripe:
            residual.add(0, record)
        for row in residual_ledger:
            residual.add(1, row)
        residual_stripe.clear()
        residual_ledger.clear()
    for item in _read(ledger_spill.paths[count]):
        residual.add(1, item)
    residual.close()
    final = match_records(
        (StripeRecord(*t) for t in _read(residual.paths[0])),
        (LedgerRecord(*t) for t in _read(residual.paths[1])),
        **options,
    )
    _merge(total, final)
    total.issues.sort()
    total.findings.sort(key=Finding.sort_key)
    return total


def _merge(total: MatchOutcome, part: MatchOutcome) -> None:
    for kind, number in part.counts.items():
        total.counts[kind] = total.counts.get(kind, 0) + number
    total.findings.extend(part.findings)
