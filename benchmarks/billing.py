"""Benchmark of uh-billing, with the joins a user would otherwise write, on the same rows.

Run with ``nox -s bench -- billing [--quick]``; prints one JSON object (the family shape).

Figures:

1. ``classify_1m``: CPU time to match and fully classify N Stripe records against N ledger rows
   (synthetic, ~0.5 % planted discrepancies, 0.2 % pairs split by the period boundary within W,
   10 % with refunds, half of those partial refunds grouped by charge). Peers on the same rows:
   a plain dict join, a pandas merge, a Polars join and a DuckDB join, each comparing amount,
   currency and status (a join, not a classification: no tiers, aggregates or timing rules).
   Each side runs in its own forked process so CPU and memory do not mix; inputs are built
   before the clock starts.
2. ``classify_peak_rss``: the peak resident memory of the process of figure 1 (inputs included)
   and, beside it, how much classification added on top of the inputs.
   ``bounded_peak_rss``: the same rows streamed through `match_records_bounded` (spilled to disk
   by partition), with its CPU time (input generation included) and its precision and recall.
3. ``precision`` / ``recall`` on the planted discrepancies, and timing pairs that alerted.
4. ``ingest_per_object``: CPU per Stripe object on the fetch path (the ``stripe`` SDK's raw
   request path over httpx against the fake Stripe server running in another process, JSON
   decoding and reduction to records), measured in the fetching process only.

Peers that are not installed are skipped with a note. ``ratio_to`` is the peer's median divided
by ours: above 1 means this package is faster.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from unified_health.billing import StripeSource, match_records, match_records_bounded
from unified_health.billing.testing import FakeStripe, score, synthetic_data, synthetic_stream

PACKAGE = "uh-billing"
DAY = 86400
START = 20_000 * DAY
END = START + DAY
WINDOW = 6 * 3600


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_child(target: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)

    def run() -> None:
        try:
            child.send(target(*args))
        except Exception as exc:
            child.send({"error": f"{type(exc).__name__}: {exc}"})

    process = ctx.Process(target=run)
    process.start()
    result = parent.recv()
    process.join()
    return result  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------ figure 1-3


def ours(n: int) -> dict[str, Any]:
    data = synthetic_data(n, start=START, end=END, window=WINDOW, seed=5)
    before = _rss_mb()
    t0 = time.process_time()
    out = match_records(
        data.stripe, data.ledger, start=START, end=END, now=END + DAY, window=WINDOW
    )
    cpu = time.process_time() - t0
    quality = score(out.findings, data)
    return {
        "cpu_ms": cpu * 1000,
        "rss_mb": _rss_mb(),
        "rss_inputs_mb": before,
        "stripe_rows": len(data.stripe),
        "ledger_rows": len(data.ledger),
        "planted": len(data.planted),
        **quality,
    }


def dict_join(n: int) -> dict[str, Any]:
    data = synthetic_data(n, start=START, end=END, window=WINDOW, seed=5)
    t0 = time.process_time()
    by_id = {s.id: s for s in data.stripe}
    seen = set()
    mismatched = missing_stripe = 0
    for row in data.ledger:
        s = by_id.get(row.stripe_id) if row.stripe_id else None
        if s is None:
            missing_stripe += 1
            continue
        seen.add(s.id)
        if s.amount != row.amount or s.currency != row.currency or s.status != row.status:
            mismatched += 1
    missing_ledger = sum(1 for s in data.stripe if s.id not in seen)
    cpu = time.process_time() - t0
    return {
        "cpu_ms": cpu * 1000,
        "rss_mb": _rss_mb(),
        "found": mismatched + missing_stripe + missing_ledger,
    }


def _columns(n: int) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    data = synthetic_data(n, start=START, end=END, window=WINDOW, seed=5)
    stripe = {
        "id": [s.id for s in data.stripe],
        "amount": [s.amount for s in data.stripe],
        "currency": [s.currency for s in data.stripe],
        "status": [s.status for s in data.stripe],
    }
    ledger = {
        "stripe_id": [r.stripe_id for r in data.ledger],
        "l_amount": [r.amount for r in data.ledger],
        "l_currency": [r.currency for r in data.ledger],
        "l_status": [r.status for r in data.ledger],
    }
    return stripe, ledger


def pandas_merge(n: int) -> dict[str, Any]:
    import pandas as pd

    s_cols, l_cols = _columns(n)
    s, led = pd.DataFrame(s_cols), pd.DataFrame(l_cols)
    t0 = time.process_time()
    merged = s.merge(led, how="outer", left_on="id", right_on="stripe_id", indicator=True)
    both = merged["_merge"] == "both"
    bad = both & (
        (merged["amount"] != merged["l_amount"])
        | (merged["currency"] != merged["l_currency"])
        | (merged["status"] != merged["l_status"])
    )
    found = int(bad.sum()) + int((~both).sum())
    cpu = time.process_time() - t0
    return {"cpu_ms": cpu * 1000, "rss_mb": _rss_mb(), "found": found}


def polars_join(n: int) -> dict[str, Any]:
    import polars as pl

    s_cols, l_cols = _columns(n)
    s, led = pl.DataFrame(s_cols), pl.DataFrame(l_cols)
    t0 = time.process_time()
    merged = s.join(led, left_on="id", right_on="stripe_id", how="full", coalesce=False)
    found = merged.filter(
        pl.col("id").is_null()
        | pl.col("stripe_id").is_null()
        | (pl.col("amount") != pl.col("l_amount"))
        | (pl.col("currency") != pl.col("l_currency"))
        | (pl.col("status") != pl.col("l_status"))
    ).height
    cpu = time.process_time() - t0
    return {"cpu_ms": cpu * 1000, "rss_mb": _rss_mb(), "found": found}


def duckdb_join(n: int) -> dict[str, Any]:
    import duckdb
    import pandas as pd

    s_cols, l_cols = _columns(n)
    s_table, l_table = pd.DataFrame(s_cols), pd.DataFrame(l_cols)
    con = duckdb.connect()
    con.execute("SET threads TO 1")
    con.register("s", s_table)
    con.register("l", l_table)
    t0 = time.process_time()
    (found,) = con.execute(
        "SELECT count(*) FROM s FULL OUTER JOIN l ON s.id = l.stripe_id"
        " WHERE s.id IS NULL OR l.stripe_id IS NULL OR s.amount <> l.l_amount"
        " OR s.currency <> l.l_currency OR s.status <> l.l_status"
    ).fetchone()
    cpu = time.process_time() - t0
    return {"cpu_ms": cpu * 1000, "rss_mb": _rss_mb(), "found": int(found)}


PEERS: dict[str, tuple[Callable[[int], dict[str, Any]], str | None, tuple[str, ...]]] = {
    "dict_join": (dict_join, None, ()),
    "pandas": (pandas_merge, "pandas", ("pandas",)),
    "polars": (polars_join, "polars", ("polars",)),
    "duckdb": (duckdb_join, "duckdb", ("duckdb", "pandas")),
}


def bounded(n: int) -> dict[str, Any]:
    """The bounded-memory mode on streamed inputs (generated lazily, never held as lists)."""

    def stream(side: str) -> Any:
        return synthetic_stream(n, side, start=START, end=END, window=WINDOW, seed=5)

    before = _rss_mb()
    t0 = time.process_time()
    out = match_records_bounded(
        stream("stripe"),
        stream("ledger"),
        start=START,
        end=END,
        now=END + DAY,
        window=WINDOW,
        partitions=128,
    )
    cpu = time.process_time() - t0
    planted = set(stream("planted"))
    timing = set(stream("timing"))
    from unified_health.billing.testing import SyntheticData

    quality = score(out.findings, SyntheticData([], [], planted, timing))
    return {"cpu_ms": cpu * 1000, "rss_mb": _rss_mb(), "rss_start_mb": before, **quality}


# ------------------------------------------------------------------------------ figure 4


def _serve(count: int, ready: Any, stop: Any) -> None:
    from unified_health.billing import StripeRecord

    with FakeStripe("sk_test_bench") as fake:
        fake.add(
            StripeRecord(
                f"ch_{i:09d}",
                "payment",
                1000 + i % 5000,
                "usd",
                START + i % DAY,
                "succeeded",
                False,
                reference=f"order-{i}",
            )
            for i in range(count)
        )
        ready.send(fake.url)
        stop.recv()


def ingest(count: int) -> dict[str, Any]:
    ctx = multiprocessing.get_context("fork")
    ready_r, ready_w = ctx.Pipe(duplex=False)
    stop_r, stop_w = ctx.Pipe(duplex=False)
    server = ctx.Process(target=_serve, args=(count, ready_w, stop_r))
    server.start()
    url = ready_r.recv()
    try:
        source = StripeSource(
            "sk_test_bench",
            base_url=url,
            shards=4,
            workers=4,
            requests_per_second=10_000,
            resources=("charges",),
        )
        t0 = time.process_time()
        records = source.fetch(datetime.fromtimestamp(START, UTC), datetime.fromtimestamp(END, UTC))
        cpu = time.process_time() - t0
    finally:
        stop_w.send(True)
        server.join()
    assert len(records) == count
    return {"us_per_object": cpu * 1e6 / count, "objects": count}


# ------------------------------------------------------------------------------ report


def result(
    name: str,
    unit: str,
    values: list[float],
    *,
    target: float | None,
    better: str = "lower",
    peers: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    ordered = sorted(values)
    median = statistics.median(ordered)
    peers = peers or {}
    ratio_to = {
        p: round(d["median"] / median, 2) for p, d in peers.items() if d.get("median") and median
    }
    meets = (
        None if target is None else (median <= target if better == "lower" else median >= target)
    )
    return {
        "name": name,
        "unit": unit,
        "median": round(median, 3),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
        "p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 3),
        "n": len(values),
        "peers": peers,
        "ratio_to": ratio_to,
        "target": target,
        "meets_target": meets,
        **extra,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    args = parser.parse_args(argv)
    n = 20_000 if args.quick else 1_000_000
    repeats = 1 if not args.quick else 3
    runs = [_in_child(ours, n) for _ in range(repeats)]
    for run in runs:
        if "error" in run:
            raise SystemExit(run["error"])
    notes: list[str] = []
    peer_cpu: dict[str, Any] = {}
    peer_rss: dict[str, Any] = {}
    for peer, (function, dist, modules) in PEERS.items():
        missing = [m for m in modules if _version(m) is None]
        if missing:
            notes.append(f"{peer} skipped: {', '.join(missing)} not installed")
            continue
        got = _in_child(function, n)
        if "error" in got:
            notes.append(f"{peer} failed: {got['error']}")
            continue
        version = _version(dist) if dist else platform.python_version()
        peer_cpu[peer] = {
            "median": round(got["cpu_ms"], 3),
            "version": version,
            "found": got["found"],
        }
        peer_rss[peer] = {"median": round(got["rss_mb"], 1), "version": version}
    first = runs[0]
    spilled = _in_child(bounded, n)
    if "error" in spilled:
        raise SystemExit(spilled["error"])
    ingest_count = 2_000 if args.quick else 50_000
    fetched = [ingest(ingest_count)["us_per_object"] for _ in range(1 if not args.quick else 2)]
    report = {
        "package": PACKAGE,
        "python": platform.python_version(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "quick": args.quick,
        "rows": {
            "stripe": first["stripe_rows"],
            "ledger": first["ledger_rows"],
            "planted": first["planted"],
        },
        "notes": notes,
        "results": [
            result(
                f"classify_{n}",
                "ms",
                [r["cpu_ms"] for r in runs],
                target=5000.0 if not args.quick else None,
                peers=peer_cpu,
                cpu="one core (process CPU time)",
            ),
            result(
                "classify_peak_rss",
                "MB",
                [r["rss_mb"] for r in runs],
                target=256.0 if not args.quick else None,
                peers=peer_rss,
                inputs_mb=round(first["rss_inputs_mb"], 1),
            ),
            result(
                "bounded_peak_rss",
                "MB",
                [spilled["rss_mb"]],
                target=64.0 if not args.quick else None,
                cpu_ms=round(spilled["cpu_ms"], 1),
                start_mb=round(spilled["rss_start_mb"], 1),
                recall=spilled["recall"],
                precision=spilled["precision"],
                note="generation of the streamed inputs is inside cpu_ms",
            ),
            result(
                "precision", "ratio", [r["precision"] for r in runs], target=1.0, better="higher"
            ),
            result("recall", "ratio", [r["recall"] for r in runs], target=1.0, better="higher"),
            result(
                "timing_false_alerts", "count", [r["timing_false_alerts"] for r in runs], target=0.0
            ),
            result("ingest_per_object", "us", fetched, target=20.0, objects=ingest_count),
        ],
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
