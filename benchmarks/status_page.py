"""Benchmark of uh-status-page: monitoring overhead, the shared rate limit and incident dedup.

Run with ``nox -s bench -- status-page [--quick]``; prints one JSON object (the family shape).

Figures:

1. ``check_overhead``: scheduler tick, health tracker, monitor bookkeeping and metrics for one
   probe result, with the network replaced by a runner that answers at once (network
   excluded, as the target says). 1,000 probes on a virtual clock; per check.
2. ``cpu_1000_probes_at_30s``: process CPU time spent running 1,000 probes at a 30 s interval
   for a stretch of virtual time, as a percentage of one core over that stretch of real
   monitoring time (the probes' own network I/O excluded).
3. ``change_latency_after_first_failure``: with a 30 s interval, failure threshold 3 and a 10 s
   timeout, seconds (virtual clock, exact) from the start of the first failing probe to the
   component change reaching the fake Statuspage over real HTTP.
4. ``flapping_30_min_incidents``: incidents opened by an endpoint alternating every probe for
   30 minutes (virtual clock).
5. ``drain_mutations_4_processes``: 4 processes sharing one token through Redis send queued
   component changes to the fake Statuspage, which enforces the rolling limit. Reported: the
   rate-limit answers received and the most requests the fake saw in any window. The full run
   uses Statuspage's real limit (60 per 60 s, 300 mutations, about five minutes); ``--quick``
   scales the window down (20 requests per 1 s, 100 mutations) and says so in ``scaled``.
6. ``incidents_4_processes_one_outage``: 4 processes detect the same outage at once (shared
   Redis store) and report to one fake Statuspage; the number of incidents it holds after.

No peer library does this work (the Statuspage clients on PyPI have no limiter, no probes and
no monitor), so ``peers`` is empty. Figures come from whatever machine runs this; on a shared,
busy machine they are pessimistic.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Sequence
from typing import Any

from unified_health.status_page import (
    HttpProbe,
    Probe,
    ProbeMetrics,
    ProbeResult,
    ProbeScheduler,
    SelfHostedStatusPage,
    StatusMonitor,
    StatusPageClient,
)
from unified_health.status_page.testing import FakeClock, FakeStatuspage

PACKAGE = "uh-status-page"


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def row(
    name: str,
    unit: str,
    values: Sequence[float],
    *,
    target: float | None,
    meets_target: bool | None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "name": name,
        "unit": unit,
        "median": _r(statistics.median(values)) if values else None,
        "p95": _r(_percentile(values, 0.95)) if values else None,
        "p99": _r(_percentile(values, 0.99)) if values else None,
        "n": max(len(values), 1),
        "peers": {},
        "ratio_to": {},
        "target": target,
        "meets_target": meets_target,
        **extra,
    }


def probes(count: int, *, interval: float = 30.0) -> list[HttpProbe]:
    return [
        HttpProbe(
            name=f"p{i}",
            url=f"https://svc{i}.example.org/health",
            component=f"component-{i % 50}",
            interval=interval,
        )
        for i in range(count)
    ]


class InstantRunner:
    """Answers every probe at once (the network is excluded from the overhead figures)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.count = 0

    def __call__(self, probe: Probe) -> ProbeResult:
        self.count += 1
        return ProbeResult(
            probe=probe.name,
            success=self.count % 97 != 0,
            started_at=self.clock.now(),
            duration=0.05,
            status_code=200,
        )


def monitoring_setup(count: int) -> tuple[FakeClock, ProbeScheduler, StatusMonitor, InstantRunner]:
    clock = FakeClock()
    all_probes = probes(count)
    page = SelfHostedStatusPage(components=sorted({str(p.component) for p in all_probes}))
    runner = InstantRunner(clock)
    scheduler = ProbeScheduler(all_probes, runner, clock=clock, max_concurrency=1, seed=7)
    monitor = StatusMonitor(page, all_probes, clock=clock, metrics=ProbeMetrics(clock=clock))
    return clock, scheduler, monitor, runner


def figure_overhead(quick: bool) -> dict[str, Any]:
    clock, scheduler, monitor, runner = monitoring_setup(1000)
    samples: list[float] = []
    cycles = 4 if quick else 20
    for _ in range(cycles):
        clock.advance(30.0)
        before = runner.count
        began = time.perf_counter_ns()
        monitor.step(scheduler.tick())
        elapsed = time.perf_counter_ns() - began
        checks = runner.count - before
        if checks:
            samples.append(elapsed / checks / 1e6)
    median = statistics.median(samples)
    return row(
        "check_overhead",
        "ms",
        samples,
        target=0.5,
        meets_target=median <= 0.5,
        note="per check: scheduler tick + tracker + monitor step (reconcile on change) + metrics; "
        "median over cycles of 1,000 checks; network excluded",
    )


def figure_cpu(quick: bool) -> dict[str, Any]:
    clock, scheduler, monitor, runner = monitoring_setup(1000)
    virtual_seconds = 120.0 if quick else 600.0
    began = time.process_time()
    end = clock.monotonic() + virtual_seconds
    while clock.monotonic() < end:
        monitor.step(scheduler.tick())
        clock.advance(max(scheduler.seconds_until_next(), 0.001))
    cpu = time.process_time() - began
    percent = 100.0 * cpu / virtual_seconds
    return row(
        "cpu_1000_probes_at_30s",
        "% of a core",
        [percent],
        target=5.0,
        meets_target=percent < 5.0,
        checks=runner.count,
        virtual_seconds=virtual_seconds,
        note="CPU seconds of scheduling, tracking, reconciling (self-hosted page) and metrics "
        "for 1,000 probes, divided by the monitored time; probe network I/O excluded",
    )


class ScriptedRunner:
    def __init__(self, clock: FakeClock, healthy: Any) -> None:
        self.clock = clock
        self.healthy = healthy
        self.runs = 0
        self.first_failure: float | None = None

    def __call__(self, probe: Probe) -> ProbeResult:
        ok = bool(self.healthy(self.runs))
        self.runs += 1
        started, began = self.clock.now(), self.clock.monotonic()
        if not ok and self.first_failure is None:
            self.first_failure = began
        self.clock.advance(0.2 if ok else probe.timeout)
        return ProbeResult(
            probe=probe.name,
            success=ok,
            started_at=started,
            duration=self.clock.monotonic() - began,
        )


def drive(
    clock: FakeClock, scheduler: ProbeScheduler, monitor: StatusMonitor, seconds: float
) -> None:
    end = clock.monotonic() + seconds
    while clock.monotonic() < end:
        monitor.step(scheduler.tick())
        clock.sleep(max(scheduler.seconds_until_next(), 0.001))


def figure_latency() -> dict[str, Any]:
    clock = FakeClock()
    with FakeStatuspage(components=["api"], clock=clock) as vendor:
        status = StatusPageClient(
            "test-key", "page-1", base_url=vendor.url, clock=clock, sleep=clock.sleep
        )
        api = HttpProbe(name="api", url="https://api.example.org/health", component="api")
        runner = ScriptedRunner(clock, lambda n: n < 3)
        scheduler = ProbeScheduler([api], runner, clock=clock, max_concurrency=1, jitter=0)
        monitor = StatusMonitor(status, [api], page_key="page-1", clock=clock)
        drive(clock, scheduler, monitor, 400)
        sent = next(c.at for c in vendor.calls if c.method in ("POST", "PATCH"))
        status.close()
    assert runner.first_failure is not None
    latency = sent - runner.first_failure
    return row(
        "change_latency_after_first_failure",
        "s",
        [latency],
        target=71.0,
        meets_target=latency <= 71.0,
        note="virtual clock (exact): 30 s interval, threshold 3, 10 s timeout",
    )


def figure_flapping() -> dict[str, Any]:
    clock = FakeClock()
    with FakeStatuspage(components=["api"], clock=clock) as vendor:
        status = StatusPageClient(
            "test-key", "page-1", base_url=vendor.url, clock=clock, sleep=clock.sleep
        )
        api = HttpProbe(name="api", url="https://api.example.org/health", component="api")
        runner = ScriptedRunner(clock, lambda n: n % 2 == 0)
        scheduler = ProbeScheduler([api], runner, clock=clock, max_concurrency=1, jitter=0)
        monitor = StatusMonitor(status, [api], page_key="page-1", clock=clock)
        drive(clock, scheduler, monitor, 30 * 60)
        incidents = len(vendor.incidents)
        final = vendor.status_of("api")
        status.close()
    return row(
        "flapping_30_min_incidents",
        "incidents",
        [float(incidents)],
        target=0.0,
        meets_target=incidents == 0,
        probe_runs=runner.runs,
        component_status=final,
        note="virtual clock; alternating success/failure every 30 s probe for 30 minutes",
    )


def redis_url() -> tuple[str | None, str]:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        import redis
    except ImportError:
        return None, "redis-py is not installed (pip install 'uh-status-page[redis]')"
    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        client.ping()
    except (redis.RedisError, OSError):
        return None, f"no Redis answers at {url}"
    finally:
        client.close()
    return url, "redis at " + url.rsplit("@", 1)[-1]


DRAIN = textwrap.dedent(
    """
    import sys, redis
    from unified_health.status_page import (RateLimiter, RedisStatusPageStore, StatusPageClient,
                                            token_bucket)
    url, prefix, vendor, count, limit, window, worker = sys.argv[1:8]
    store = RedisStatusPageStore(redis.Redis.from_url(url), prefix=prefix)
    limiter = RateLimiter(token_bucket("test-key"), store=store, limit=int(limit),
                          window=float(window), margin=min(0.5, float(window) * 0.2))
    names = [f"c{i}" for i in range(10)]
    status = StatusPageClient("test-key", "page-1", base_url=vendor, limiter=limiter,
                              component_ids={n: n for n in names}, max_retries=5)
    statuses = ["degraded_performance", "partial_outage", "major_outage", "operational"]
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(int(count)):
        status.update_component(names[(i + int(worker)) % 10], status=statuses[i % 4])
    print("done", flush=True)
    """
)


def _start(code: str, args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _go(workers: list[subprocess.Popen[str]]) -> list[tuple[str, str]]:
    for worker in workers:
        assert worker.stdout is not None
        line = worker.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError("a worker did not start: " + worker.communicate()[1][-500:])
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    return [worker.communicate(timeout=900) for worker in workers]


def figure_drain(quick: bool, url: str | None, note: str) -> dict[str, Any]:
    limit, window, total = (20, 1.0, 100) if quick else (60, 60.0, 300)
    if url is None:
        return row(
            "drain_mutations_4_processes",
            "rate-limit responses",
            [],
            target=0.0,
            meets_target=None,
            skipped=note,
        )
    prefix = f"uh-bench:{uuid.uuid4().hex[:8]}"
    with FakeStatuspage(limit=limit, window=window, rate_limit_status=429) as vendor:
        for index in range(10):
            vendor.components[f"c{index}"] = {
                "id": f"c{index}",
                "name": f"c{index}",
                "status": "operational",
            }
        began = time.perf_counter()
        args = [url, prefix, vendor.url, str(total // 4), str(limit), str(window)]
        outputs = _go([_start(DRAIN, [*args, str(w)]) for w in range(4)])
        elapsed = time.perf_counter() - began
        arrivals = sorted(c.at for c in vendor.calls)
        limited = vendor.over_limit
    most = 0
    start = 0
    for end, moment in enumerate(arrivals):
        while arrivals[start] <= moment - window:
            start += 1
        most = max(most, end - start + 1)
    failed = [err[-300:] for out, err in outputs if "done" not in out]
    return row(
        "drain_mutations_4_processes",
        "rate-limit responses",
        [float(limited)],
        target=0.0,
        meets_target=limited == 0 and most <= limit and not failed,
        mutations=len(arrivals),
        max_requests_in_any_window=most,
        limit=limit,
        window_s=window,
        wall_s=_r(elapsed),
        scaled=quick,
        note=(
            "--quick scales the window down: 20 requests per 1 s window, 100 mutations"
            if quick
            else "Statuspage's limit: 60 requests per 60 s window, 300 mutations"
        )
        + "; "
        + note,
        errors=failed,
    )


DETECT = textwrap.dedent(
    """
    import sys, redis
    from datetime import UTC, datetime
    from unified_health.status_page import (HttpProbe, ProbeResult, RedisStatusPageStore,
                                            StatusMonitor, StatusPageClient)
    url, prefix, vendor = sys.argv[1:4]
    store = RedisStatusPageStore(redis.Redis.from_url(url), prefix=prefix)
    status = StatusPageClient("test-key", "page-1", base_url=vendor, store=store)
    api = HttpProbe(name="api", url="https://api.example.org/health", component="api")
    monitor = StatusMonitor(status, [api], store=store, page_key="page-1")
    for _ in range(3):
        monitor.observe(ProbeResult(probe="api", success=False, started_at=datetime.now(UTC),
                                    duration=10.0))
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(3):
        monitor.reconcile()
    print("done", monitor.incidents_opened, flush=True)
    """
)


def figure_dedup(quick: bool, url: str | None, note: str) -> dict[str, Any]:
    if url is None:
        return row(
            "incidents_4_processes_one_outage",
            "incidents",
            [],
            target=1.0,
            meets_target=None,
            skipped=note,
        )
    rounds = 1 if quick else 5
    counts: list[float] = []
    for _ in range(rounds):
        prefix = f"uh-bench:{uuid.uuid4().hex[:8]}"
        with FakeStatuspage(components=["api"]) as vendor:
            _go([_start(DETECT, [url, prefix, vendor.url]) for _ in range(4)])
            counts.append(float(len(vendor.incidents)))
    return row(
        "incidents_4_processes_one_outage",
        "incidents",
        counts,
        target=1.0,
        meets_target=all(c == 1.0 for c in counts),
        rounds=rounds,
        note="4 processes, one shared Redis store, one fake Statuspage; " + note,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run, in seconds")
    args = parser.parse_args(argv)
    logging.getLogger("unified_health").setLevel(logging.ERROR)
    url, note = redis_url()
    results = [
        figure_overhead(args.quick),
        figure_cpu(args.quick),
        figure_latency(),
        figure_flapping(),
        figure_drain(args.quick, url, note),
        figure_dedup(args.quick, url, note),
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
