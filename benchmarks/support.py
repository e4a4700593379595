"""Benchmark of uh-support's SLA engine and breach scans; prints one JSON object (the family shape).

Run with ``nox -s bench -- support [--quick]``.

Figures:

1. ``sla_due_time_public_api``: ``BusinessCalendar.add_business_time`` (New York, two windows a
   day, ten holidays) for varied starts and durations, per call, and as calls per second.
2. ``recompute_tickets_4_metrics``: ``SlaPolicy.evaluate`` of 100,000 ticket timelines (mixed
   histories: replies, pending stretches, priority changes) with four targeted metrics each,
   total milliseconds.
3. ``scan_open_tickets_15_min``: ``SupportClient.scan_breaches(15 minutes)`` over 100,000 open
   tickets in the in-memory store, total milliseconds.
4. ``zendesk_page_parse_per_ticket``: per-ticket cost of turning recorded Zendesk ticket pages
   (served over HTTP by the fake Zendesk) into objects: ``ZendeskProvider.to_common`` beside
   zenpy's ``Ticket`` objects on the same pages (skipped with a note when zenpy is absent).

Medians come from ``perf_counter_ns`` (wall time, so a busy machine inflates them; figure 2 also
reports process CPU time); ``--quick`` shrinks every figure to run in seconds.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
import os
import platform
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from unified_health.support import (
    BusinessCalendar,
    InMemoryTicketStore,
    InternalProvider,
    SlaEvent,
    SlaPolicy,
    SlaTimeline,
    SupportClient,
    Ticket,
    ZendeskProvider,
)
from unified_health.support.testing import FakeClock, FakeZendesk

PACKAGE = "uh-support"
START = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def calendar() -> BusinessCalendar:
    holidays = [date(2026, m, d) for m, d in [(1, 1), (1, 19), (2, 16), (5, 25), (7, 3)]]
    holidays += [date(2026, m, d) for m, d in [(9, 7), (10, 12), (11, 11), (11, 26), (12, 25)]]
    return BusinessCalendar(
        "America/New_York",
        hours={"mon-fri": [("08:00", "12:00"), ("13:00", "18:00")], "sat": [("09:00", "13:00")]},
        holidays=holidays,
    )


def figure_due_times(quick: bool) -> dict[str, Any]:
    cal = calendar()
    rng = random.Random(7)
    count = 20_000 if quick else 200_000
    cases = [
        (
            START + timedelta(minutes=rng.randrange(0, 300 * 24 * 60)),
            timedelta(minutes=rng.choice([30, 60, 240, 480, 1440, 2880])),
        )
        for _ in range(count)
    ]
    cal.add_business_time(START, timedelta(days=400))  # build the interval table once
    batches = []
    size = 2_000
    for index in range(0, count, size):
        batch = cases[index : index + size]
        began = time.perf_counter_ns()
        for start, duration in batch:
            cal.add_business_time(start, duration)
        batches.append((time.perf_counter_ns() - began) / len(batch) / 1000)
    median_us = statistics.median(batches)
    per_second = 1_000_000 / median_us
    throughputs = [1_000_000 / us for us in batches]
    return {
        "name": "sla_due_time_public_api",
        "unit": "ops/s",
        "median": round(per_second),
        # ops/s: p95 and p99 are the batch throughputs that 95 % and 99 % of batches beat
        "p95": round(_percentile(throughputs, 0.05)),
        "p99": round(_percentile(throughputs, 0.01)),
        "n": count,
        "median_us_per_call": round(median_us, 3),
        "peers": {},
        "ratio_to": {},
        "target": 100_000,
        "meets_target": per_second >= 100_000,
    }


def timelines(count: int) -> list[SlaTimeline]:
    rng = random.Random(11)
    out = []
    for _ in range(count):
        created = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 60))
        events = []
        at = created
        for kind in rng.sample(["agent", "customer", "pending", "open", "priority"], k=3):
            at += timedelta(minutes=rng.randrange(5, 600))
            if kind in ("agent", "customer"):
                events.append(SlaEvent(at, "comment", kind))
            elif kind == "priority":
                events.append(SlaEvent(at, "priority", rng.choice(["high", "urgent"])))
            else:
                events.append(SlaEvent(at, "status", kind))
        out.append(SlaTimeline(created, rng.choice(["normal", "high"]), "new", events))
    return out


def policy() -> SlaPolicy:
    targets = {
        "first_reply": timedelta(hours=4),
        "next_reply": timedelta(hours=8),
        "agent_work": timedelta(hours=16),
        "resolution": timedelta(hours=40),
    }
    return SlaPolicy(
        {
            p: {m: d / (i + 1) for m, d in targets.items()}
            for i, p in enumerate(["normal", "high", "urgent"])
        },
        calendar=calendar(),
    )


def figure_recompute(quick: bool) -> dict[str, Any]:
    count = 10_000 if quick else 100_000
    items = timelines(count)
    sla = policy()
    now = int((START + timedelta(days=70)).timestamp())
    sla.evaluate_at(items[0], now)
    runs = []
    cpu = []
    for _ in range(1 if quick else 3):
        began, began_cpu = time.perf_counter_ns(), time.process_time_ns()
        for timeline in items:
            sla.evaluate_at(timeline, now)
        runs.append((time.perf_counter_ns() - began) / 1e6)
        cpu.append((time.process_time_ns() - began_cpu) / 1e6)
    scale = 100_000 / count
    return {
        "name": "recompute_tickets_4_metrics",
        "unit": "ms",
        "median": round(statistics.median(runs) * scale, 1),
        "p95": round(max(runs) * scale, 1),
        "p99": round(max(runs) * scale, 1),
        "n": count,
        "scaled_to_100k_from": count,
        "cpu_ms_median": round(statistics.median(cpu) * scale, 1),
        "peers": {},
        "ratio_to": {},
        "target": 2000,
        "meets_target": statistics.median(runs) * scale < 2000,
    }


def figure_scan(quick: bool) -> dict[str, Any]:
    count = 5_000 if quick else 100_000
    store = InMemoryTicketStore()
    rng = random.Random(5)
    now = START + timedelta(days=3)
    for n in range(count):
        due = now + timedelta(minutes=rng.randrange(-30, 3 * 24 * 60))
        ticket = Ticket(
            id=f"t-{n}",
            subject="s",
            description="d",
            requester=f"r-{n}",
            priority="normal",
            created_at=START,
            updated_at=START,
            sla_due_at=due,
            sla_due_metric="resolution",
        )
        store.create(ticket, idempotency_key=f"k-{n}", fingerprint="f")
    support = SupportClient(
        InternalProvider(store),
        policy=SlaPolicy({"normal": {"resolution": timedelta(days=3)}}),
        clock=FakeClock(now),
    )
    runs = []
    found = 0
    for _ in range(5):
        began = time.perf_counter_ns()
        found = len(support.scan_breaches(timedelta(minutes=15)))
        runs.append((time.perf_counter_ns() - began) / 1e6)
    return {
        "name": "scan_open_tickets_15_min",
        "unit": "ms",
        "median": round(statistics.median(runs), 2),
        "p95": round(max(runs), 2),
        "p99": round(max(runs), 2),
        "n": count,
        "candidates_in_index": len(store.due_before(now + timedelta(minutes=15))),
        "warnings": found,
        "peers": {},
        "ratio_to": {},
        "target": 1000,
        "meets_target": statistics.median(runs) < 1000 and count == 100_000,
    }


def recorded_pages(count: int) -> list[dict[str, Any]]:
    """Ticket pages as the fake Zendesk answers them over HTTP (``GET /api/v2/tickets.json``)."""
    with FakeZendesk(email="bench@example.test", api_token="t") as fake:
        provider = ZendeskProvider(
            subdomain="bench", email="bench@example.test", api_token="t", base_url=fake.url
        )
        support = SupportClient(provider)
        for n in range(count):
            support.create_ticket(
                f"Subject {n}",
                "Body text",
                f"user{n}@example.test",
                priority="high",
                tags=["portal", "billing"],
                custom_fields={"360001": "gold"},
                idempotency_key=f"k{n}",
            )
        pages = []
        url: str | None = f"{fake.url}/api/v2/tickets.json?page[size]=100"
        with httpx.Client(headers=provider._headers) as http:
            while url:
                page = http.get(url).json()
                pages.append(page)
                url = page["links"]["next"] if page["meta"]["has_more"] else None
        provider.close()
    return pages


def figure_zenpy(quick: bool) -> dict[str, Any]:
    pages = recorded_pages(200 if quick else 1000)
    items = [item for page in pages for item in page["tickets"]]
    parser = ZendeskProvider(subdomain="bench", email="b@example.test", api_token="t")

    def per_ticket(parse: Any) -> float:
        runs = []
        for _ in range(3 if quick else 7):
            began = time.perf_counter_ns()
            for item in items:
                parse(item)
            runs.append((time.perf_counter_ns() - began) / len(items) / 1000)
        return statistics.median(runs)

    ours = per_ticket(parser.to_common)
    peers: dict[str, Any] = {}
    ratio: dict[str, float] = {}
    version = _version("zenpy")
    if version is None:
        peers["zenpy"] = {"median": None, "version": None, "note": "zenpy not installed: skipped"}
    else:
        from zenpy.lib.api_objects import Ticket as ZenpyTicket

        theirs = per_ticket(lambda item: ZenpyTicket(api=None, **item))
        peers["zenpy"] = {"median": round(theirs, 3), "version": version}
        ratio["zenpy"] = round(theirs / ours, 2)
    return {
        "name": "zendesk_page_parse_per_ticket",
        "unit": "us",
        "median": round(ours, 3),
        "p95": None,
        "p99": None,
        "n": len(items),
        "peers": peers,
        "ratio_to": ratio,
        "target": None,
        "meets_target": None,
        "note": "ours builds a validated common Ticket (status/priority mapping, timestamps); "
        "zenpy builds its lazy api object without validation",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run, in seconds")
    args = parser.parse_args(argv)
    logging.getLogger("unified_health").setLevel(logging.ERROR)
    results = [
        figure_due_times(args.quick),
        figure_recompute(args.quick),
        figure_scan(args.quick),
        figure_zenpy(args.quick),
    ]
    report = {
        "package": PACKAGE,
        "version": _version(PACKAGE),
        "python": platform.python_version(),
        "machine": {
            "cpus": os.cpu_count() or 1,
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
        },
        "quick": args.quick,
        "results": results,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
