"""The `ReconciliationStore` contract, run against memory, real Redis and real PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import redis

from unified_health.billing import (
    ConflictError,
    InMemoryReconciliationStore,
    InvalidInputError,
    MatchOutcome,
    NotFoundError,
    Period,
    PostgresReconciliationStore,
    ReconciliationStore,
    RedisReconciliationStore,
    Report,
    StripeRecord,
    build_report,
)
from unified_health.billing._matching import Finding

AT = datetime(2026, 11, 25, 6, tzinfo=UTC)


@pytest.fixture(params=["memory", "redis", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[ReconciliationStore]:
    if request.param == "memory":
        yield InMemoryReconciliationStore()
        return
    if request.param == "redis":
        client: redis.Redis = request.getfixturevalue("redis_client")
        prefix: str = request.getfixturevalue("redis_prefix")
        with RedisReconciliationStore(client, prefix=prefix) as redis_store:
            yield redis_store
        return
    connection: Any = request.getfixturevalue("postgres_connection")
    pg = PostgresReconciliationStore(connection)
    pg.migrate()
    pg.migrate()  # idempotent
    yield pg


def report_for(day: date, missing: int = 0) -> Report:
    period = Period.of("daily", day, "UTC")
    outcome = MatchOutcome()
    for i in range(missing):
        record = StripeRecord(
            f"ch_{i}", "payment", 100 + i, "usd", int(period.start.timestamp()), "succeeded", True
        )
        outcome.add(Finding("missing_in_ledger", "critical", "no_candidate", (record,), ()))
    outcome.count("matched", 10)
    return build_report(outcome, period, generated_at=period.end, window=3600, livemode=True)


def test_a_run_starts_finishes_and_keeps_its_report(store: ReconciliationStore) -> None:
    report = report_for(date(2026, 11, 24), missing=2)
    started = store.start_run(report.run_key, period=report.period, at=AT)
    assert (started.status, started.attempts) == ("running", 1)
    assert store.run_exists(report.run_key)
    done = store.finish_run(report.run_key, report, at=AT + timedelta(minutes=1))
    assert (done.status, done.open_discrepancies, done.critical) == ("succeeded", 2, 2)
    assert store.get_run(report.run_key) == done
    assert store.get_report(report.run_key).to_json() == report.to_json()


def test_a_succeeded_period_runs_once(store: ReconciliationStore) -> None:
    report = report_for(date(2026, 11, 24))
    store.start_run(report.run_key, period=report.period, at=AT)
    store.finish_run(report.run_key, report, at=AT)
    with pytest.raises(ConflictError):
        store.start_run(report.run_key, period=report.period, at=AT)
    assert store.get_run(report.run_key).status == "succeeded"


def test_a_failed_run_records_its_failure_and_can_rerun(store: ReconciliationStore) -> None:
    report = report_for(date(2026, 11, 24))
    store.start_run(report.run_key, period=report.period, at=AT)
    failed = store.fail_run(report.run_key, error_class="TimeoutError", at=AT)
    assert (failed.status, failed.error_class) == ("failed", "TimeoutError")
    with pytest.raises(NotFoundError):
        store.get_report(report.run_key)
    again = store.start_run(report.run_key, period=report.period, at=AT + timedelta(hours=1))
    assert (again.status, again.attempts, again.error_class) == ("running", 2, None)


def test_unknown_runs(store: ReconciliationStore) -> None:
    assert not store.run_exists("daily:2000-01-01:UTC:live")
    with pytest.raises(NotFoundError):
        store.get_run("daily:2000-01-01:UTC:live")
    with pytest.raises(NotFoundError):
        store.fail_run("daily:2000-01-01:UTC:live", error_class="X", at=AT)
    report = report_for(date(2000, 1, 1))
    with pytest.raises(NotFoundError):
        store.finish_run(report.run_key, report, at=AT)


def test_history_and_trend(store: ReconciliationStore) -> None:
    for offset in range(5):
        report = report_for(date(2026, 11, 20) + timedelta(days=offset), missing=offset)
        store.start_run(report.run_key, period=report.period, at=AT)
        if offset != 3:
            store.finish_run(report.run_key, report, at=AT)
    periods = [r.period for r in store.list_runs()]
    assert periods == ["2026-11-24", "2026-11-23", "2026-11-22", "2026-11-21", "2026-11-20"]
    trend = store.trend("daily", limit=3)
    assert [(t.period, t.open_discrepancies) for t in trend] == [
        ("2026-11-21", 1),
        ("2026-11-22", 2),
        ("2026-11-24", 4),
    ]
    assert store.trend("monthly") == []


def test_bad_input_is_refused_before_anything_is_written(store: ReconciliationStore) -> None:
    with pytest.raises(InvalidInputError) as err:
        store.start_run("", period="2026-11-24", at=AT)
    assert err.value.field == "run_key"
    with pytest.raises(InvalidInputError):
        store.start_run("k", period="2026-11-24", at=datetime(2026, 1, 1))  # naive
    report = report_for(date(2026, 11, 24))
    store.start_run(report.run_key, period=report.period, at=AT)
    with pytest.raises(InvalidInputError):
        store.finish_run("other", report, at=AT)
    with pytest.raises(InvalidInputError):
        store.trend(limit=0)
    assert store.get_run(report.run_key).status == "running"


def test_concurrent_starts_count_every_attempt(store: ReconciliationStore) -> None:
    key = "daily:2026-11-24:UTC:live"
    store.start_run(key, period="2026-11-24", at=AT)
    store.fail_run(key, error_class="X", at=AT)

    def start() -> None:
        store.start_run(key, period="2026-11-24", at=AT)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get_run(key).attempts == 9
