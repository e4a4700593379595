"""Benchmark of uh-impersonation. Prints one JSON object (the family shape).

Run with ``nox -s bench -- impersonation [--quick]``.

Figures:

1. ``validate_memory``: `ImpersonationService.validate` of a live token, in-memory store.
2. ``validate_redis``: the same against Redis on loopback (``REDIS_URL`` or 127.0.0.1:6379);
   the replies read by the client are counted, so ``round_trips_per_call`` is measured, not
   assumed.
3. ``start_redis``: `ImpersonationService.start` against Redis, including the audit append to
   the Redis Stream (no notifier); each start is ended (untimed) so the actor may start again.
4. ``audit_verify``: `AuditTrail.verify` over an in-memory log of N events, in events/s.

There is no peer: the impersonation packages of other ecosystems (django-hijack,
django-impersonate, laravel-impersonate, pretender) live inside a web framework's session and
keep no hash-chained audit trail, so no like-for-like call exists; ``peers`` stays empty.

Medians come from ``perf_counter_ns`` over many short batches (batch time / batch size; short, so
that a batch preempted on a busy machine moves the median little); p95 and p99 from timing single
calls, which includes the timer's own overhead.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from unified_health.impersonation import (
    AuditAction,
    AuditEvent,
    AuditTrail,
    ImpersonationService,
    InMemoryAuditLog,
    Principal,
)

PACKAGE = "uh-impersonation"
AGENT = Principal(user_id="agent-7", role="support_agent", login_session_id="ls-agent-7")
PATIENT = Principal(user_id="patient-42", role="patient")
REASON = "Cannot see lab results"


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(call: Callable[[], object], *, batches: int, per_batch: int) -> dict[str, Any]:
    """Median µs per call over batches; p95/p99 from single timed calls."""
    clock = time.perf_counter_ns
    medians = []
    for _ in range(batches):
        began = clock()
        for _ in range(per_batch):
            call()
        medians.append((clock() - began) / per_batch / 1000)
    singles = []
    for _ in range(min(2000, batches * per_batch)):
        began = clock()
        call()
        singles.append((clock() - began) / 1000)
    return {
        "median": round(statistics.median(medians), 3),
        "p95": round(_percentile(singles, 0.95), 3),
        "p99": round(_percentile(singles, 0.99), 3),
        "n": batches * per_batch,
    }


def row(
    name: str,
    unit: str,
    timing: dict[str, Any],
    target: float,
    *,
    higher: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    meets = timing["median"] >= target if higher else timing["median"] <= target
    return {
        "name": name,
        "unit": unit,
        **timing,
        "peers": {},
        "ratio_to": {},
        "target": target,
        "meets_target": meets,
        **extra,
    }


def validate_memory(quick: bool) -> dict[str, Any]:
    service = ImpersonationService()
    token = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON).token
    assert service.validate(token).valid
    timing = measure(
        lambda: service.validate(token),
        batches=100 if quick else 4000,
        per_batch=100,
    )
    return row("validate_memory", "us", timing, 5.0)


def _redis() -> tuple[Any, str] | None:
    try:
        import redis
    except ImportError:
        return None
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
    except (redis.RedisError, OSError):
        return None
    return client, url


def redis_rows(quick: bool) -> list[dict[str, Any]]:
    found = _redis()
    if found is None:
        return []
    import redis

    from unified_health.impersonation import RedisAuditLog, RedisImpersonationStore

    class Counting(redis.Connection):
        replies = 0

        def read_response(self, *args: Any, **kwargs: Any) -> Any:
            type(self).replies += 1
            return super().read_response(*args, **kwargs)

    _, url = found
    prefix = f"uhbench-{uuid.uuid4().hex[:10]}"
    client = redis.Redis(
        connection_pool=redis.ConnectionPool.from_url(url, connection_class=Counting)
    )
    service = ImpersonationService(
        RedisImpersonationStore(client, prefix=prefix), audit=RedisAuditLog(client, prefix=prefix)
    )
    rows = []
    try:
        started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
        token = started.token
        assert service.validate(token).valid
        before = Counting.replies
        calls = 200
        for _ in range(calls):
            service.validate(token)
        trips = (Counting.replies - before) / calls
        timing = measure(
            lambda: service.validate(token),
            batches=100 if quick else 2000,
            per_batch=10,
        )
        rows.append(row("validate_redis", "us", timing, 150.0, round_trips_per_call=trips))
        service.end(started.id, actor=AGENT)

        clock = time.perf_counter_ns
        samples = []
        for _ in range(200 if quick else 3000):
            began = clock()
            session = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason=REASON)
            samples.append((clock() - began) / 1000)
            service.end(session.id, actor=AGENT)
        timing = {
            "median": round(statistics.median(samples), 3),
            "p95": round(_percentile(samples, 0.95), 3),
            "p99": round(_percentile(samples, 0.99), 3),
            "n": len(samples),
        }
        rows.append(row("start_redis_with_audit", "us", timing, 500.0))
    finally:
        for key in client.scan_iter(match=f"{{{prefix}}}*", count=1000):
            client.delete(key)
        client.close()
    return rows


def audit_verify(quick: bool) -> dict[str, Any]:
    log = InMemoryAuditLog()
    trail = AuditTrail(log, signing_key=b"k" * 32, checkpoint_every=1000)
    count = 20_000 if quick else 200_000
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    for n in range(count):
        trail.record(
            AuditEvent(
                action=AuditAction.START,
                outcome="success",
                at=at,
                actor_id=f"agent-{n % 50}",
                target_id=f"patient-{n}",
                session_id=f"imp_{n:032x}",
                ticket_id="ZD-1",
                reason=REASON,
            )
        )
    rates = []
    for _ in range(3 if quick else 5):
        began = time.perf_counter_ns()
        report = trail.verify()
        rates.append(count / ((time.perf_counter_ns() - began) / 1e9))
        assert report.ok
    timing = {"median": round(statistics.median(rates)), "p95": None, "p99": None, "n": count}
    return row("audit_verify", "events/s", timing, 100_000, higher=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a short run (seconds)")
    quick = parser.parse_args().quick
    results = [validate_memory(quick), *redis_rows(quick), audit_verify(quick)]
    notes = []
    if len(results) == 2:
        notes.append("Redis figures skipped: no Redis answered (set REDIS_URL)")
    report = {
        "package": PACKAGE,
        "python": platform.python_version(),
        "machine": {"cpus": os.cpu_count() or 1, "platform": platform.platform()},
        "quick": quick,
        "notes": notes,
        "results": results,
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
