from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from unified_health.billing import (
    ConflictError,
    FileRunLock,
    InMemoryReconciliationStore,
    IterableLedger,
    PostgresReconciliationStore,
    ReconciliationService,
    RedisRunLock,
    SlackAlerter,
    StripeSource,
    match_records,
    parse_period,
)
from unified_health.billing._errors import ProviderError
from unified_health.billing.testing import (
    FakeClock,
    FakeSlackWebhook,
    FakeStripe,
    capture_logs,
    ledger_rows,
    score,
    synthetic_data,
)

KEY = "sk_live_fake"
ZONE = "America/New_York"
W = timedelta(hours=6)


def world(
    days: list[str], count: int = 400
) -> tuple[list[Any], list[dict[str, Any]], dict[str, Any]]:
    """Stripe records and ledger rows for several days, with their answer keys."""
    stripe, rows, keys = [], [], {}
    for n, label in enumerate(days):
        period = parse_period(label, ZONE)
        start, end = int(period.start.timestamp()), int(period.end.timestamp())
        data = synthetic_data(
            count,
            start=start,
            end=end,
            window=int(W.total_seconds()),
            seed=n,
            rate=0.02,
            timing_rate=0,
        )
        prefix = f"d{n}"
        stripe += [
            r._replace(
                id=r.id.replace("_", f"_{prefix}", 1),
                charge=None if r.charge is None else r.charge.replace("_", f"_{prefix}", 1),
            )
            for r in data.stripe
        ]
        ledger = [
            r._replace(
                ref=f"{prefix}-{r.ref}",
                stripe_id=None
                if r.stripe_id is None
                else r.stripe_id.replace("_", f"_{prefix}", 1),
                charge=None if r.charge is None else r.charge.replace("_", f"_{prefix}", 1),
                reference=None if r.reference is None else f"{prefix}-{r.reference}",
            )
            for r in data.ledger
        ]
        stripe = [
            s
            if s.reference is None or s.reference.startswith("d")
            else s._replace(reference=f"{prefix}-{s.reference}")
            for s in stripe
        ]
        rows += list(ledger_rows(ledger))
        keys[label] = data
    return stripe, rows, keys


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe(KEY) as server:
        yield server


def service(
    fake: FakeStripe, rows: list[dict[str, Any]], clock: FakeClock, **kw: Any
) -> ReconciliationService:
    source = StripeSource(
        KEY, base_url=fake.url, clock=clock, sleep=clock.sleep, shards=2, workers=2, max_retries=1
    )
    options: dict[str, Any] = {
        "timezone": ZONE,
        "window": W,
        "clock": clock,
        "lock": FileRunLock(kw.pop("lock_dir")),
    }
    options.update(kw)
    return ReconciliationService(stripe=source, ledger=IterableLedger(rows), **options)


def test_reconcile_a_day_end_to_end_over_the_real_sdk(fake: FakeStripe, tmp_path: Path) -> None:
    stripe, rows, keys = world(["2026-11-24"])
    fake.add(stripe)
    clock = FakeClock(datetime(2026, 11, 27, tzinfo=UTC))
    report = service(fake, rows, clock, lock_dir=tmp_path).reconcile("2026-11-24")
    data = keys["2026-11-24"]
    assert report.run_key == "daily:2026-11-24:America/New_York:live"
    planted = {(k, i.replace("_", "_d0", 1) if "_" in i else f"d0-{i}") for k, i in data.planted}
    found = {(d.kind, i) for d in report.discrepancies for i in d.ids}
    # A ledger row recorded in the other mode is an input error of its row, not a pair.
    wrong_mode = {p for p in planted if p[0] == "mode_mismatch"}
    assert wrong_mode
    assert planted - wrong_mode <= found
    # ... and its Stripe charge has no usable ledger row left: missing in the ledger.
    assert {("missing_in_ledger", i) for _, i in wrong_mode} <= found
    assert len(report.discrepancies) == len(planted)
    assert {(e.field, e.ref) for e in report.input_errors} == {
        ("livemode", "d0-pay-" + i.split("_d0")[1][3:]) for _, i in wrong_mode
    }


def test_run_due_runs_each_due_period_once_oldest_first(fake: FakeStripe, tmp_path: Path) -> None:
    days = ["2026-11-24", "2026-11-25", "2026-11-26"]
    stripe, rows, _ = world(days, count=150)
    fake.add(stripe)
    clock = FakeClock(datetime(2026, 11, 27, 8, tzinfo=UTC))  # 03:00 in New York: the 26th settled
    store = InMemoryReconciliationStore()
    svc = service(
        fake, rows, clock, lock_dir=tmp_path, store=store, first_period=date(2026, 11, 24)
    )
    assert [p.label for p in svc.due()] == days
    reports = svc.run_due()
    assert [r.period for r in reports] == days
    assert svc.run_due() == []
    requests = len(fake.requests)
    assert svc.reconcile("2026-11-25") == reports[1]  # a succeeded period is not fetched again
    assert len(fake.requests) == requests
    assert [t.period for t in store.trend("daily")] == days


def test_a_failed_run_is_recorded_and_rerun(fake: FakeStripe, tmp_path: Path) -> None:
    stripe, rows, _ = world(["2026-11-24"], count=50)
    fake.add(stripe)
    clock = FakeClock(datetime(2026, 11, 27, tzinfo=UTC))
    store = InMemoryReconciliationStore()
    svc = service(fake, rows, clock, lock_dir=tmp_path, store=store)
    fake.fail_next(500, times=100)
    with capture_logs() as events, pytest.raises(ProviderError):
        svc.reconcile("2026-11-24")
    key = "daily:2026-11-24:America/New_York:live"
    assert store.get_run(key).status == "failed"
    assert any(e["event"] == "run_failed" and e["error_class"] == "ProviderError" for e in events)
    fake.clear_failures()
    report = svc.reconcile("2026-11-24")
    assert store.get_run(key).attempts == 2
    assert report.open_discrepancies >= 0


def test_a_period_locked_elsewhere_is_not_run_twice(
    fake: FakeStripe, redis_client: redis.Redis, redis_prefix: str, tmp_path: Path
) -> None:
    stripe, rows, _ = world(["2026-11-24"], count=20)
    fake.add(stripe)
    lock = RedisRunLock(redis_client, prefix=redis_prefix)
    key = "daily:2026-11-24:America/New_York:live"
    token = lock.acquire(key, ttl_seconds=30)
    assert token is not None
    assert lock.acquire(key, ttl_seconds=30) is None
    clock = FakeClock(datetime(2026, 11, 25, 12, tzinfo=UTC))
    svc = service(fake, rows, clock, lock_dir=tmp_path, lock=lock)
    with pytest.raises(ConflictError):
        svc.reconcile("2026-11-24")
    assert svc.run_due() == []
    lock.release(key, "not-the-token")
    assert lock.acquire(key, ttl_seconds=30) is None
    lock.release(key, token)
    assert svc.run_due()[0].period == "2026-11-24"


def test_file_lock_excludes_a_second_holder(tmp_path: Path) -> None:
    first, second = FileRunLock(tmp_path), FileRunLock(tmp_path)
    token = first.acquire("k", ttl_seconds=1)
    assert token is not None
    assert second.acquire("k", ttl_seconds=1) is None
    first.release("k", token)
    again = second.acquire("k", ttl_seconds=1)
    assert again is not None
    second.release("k", again)


def test_postgres_store_and_slack_alert_with_no_patient_data(
    fake: FakeStripe, postgres_connection: Any, tmp_path: Path
) -> None:
    stripe, rows, _ = world(["2026-11-24"], count=100)
    rows.append(
        {
            "id": "jane.doe@example.org",
            "type": "payment",
            "amount": 500,
            "currency": "usd",
            "created": "2026-11-24T15:00:00+00:00",
            "status": "succeeded",
        }
    )
    rows.append(
        {
            "id": "p-float",
            "type": "payment",
            "amount": 5.5,
            "currency": "usd",
            "created": "2026-11-24T15:00:00+00:00",
            "status": "succeeded",
        }
    )
    fake.add(stripe)
    store = PostgresReconciliationStore(postgres_connection)
    store.migrate()
    clock = FakeClock(datetime(2026, 11, 27, tzinfo=UTC))
    with FakeSlackWebhook(clock=clock) as slack:
        alerter = SlackAlerter(slack.url, clock=clock, sleep=clock.sleep)
        svc = service(
            fake,
            rows,
            clock,
            lock_dir=tmp_path,
            store=store,
            alerter=alerter,
            report_url=lambda key: f"https://finance.example/reports/{key}",
        )
        report = svc.reconcile("2026-11-24")
        assert [(e.field, e.rule) for e in report.input_errors] == [
            ("amount", "must be an int of minor units, not a float")
        ]
        (message,) = slack.messages
    text = str(message)
    assert "jane.doe" not in text
    assert "example.org" not in text
    assert "[redacted]" in text
    assert "https://finance.example/reports/daily:2026-11-24" in text
    assert store.get_report(report.run_key) == report


def test_an_alert_that_fails_does_not_fail_the_run(fake: FakeStripe, tmp_path: Path) -> None:
    stripe, rows, _ = world(["2026-11-24"], count=100)
    fake.add(stripe)
    clock = FakeClock(datetime(2026, 11, 27, tzinfo=UTC))
    with FakeSlackWebhook(clock=clock) as slack:
        slack.fail_next(500, times=10)
        alerter = SlackAlerter(slack.url, clock=clock, sleep=clock.sleep, max_retries=1)
        with capture_logs() as events:
            report = service(fake, rows, clock, lock_dir=tmp_path, alerter=alerter).reconcile(
                "2026-11-24"
            )
    assert report.open_discrepancies > 0
    assert any(e["event"] == "alert_failed" for e in events)


def test_engine_and_service_agree(fake: FakeStripe, tmp_path: Path) -> None:
    stripe, rows, keys = world(["2026-11-24"], count=300)
    fake.add(stripe)
    clock = FakeClock(datetime(2026, 11, 27, tzinfo=UTC))
    report = service(fake, rows, clock, lock_dir=tmp_path).reconcile("2026-11-24")
    period = parse_period("2026-11-24", ZONE)
    from unified_health.billing import read_ledger

    direct = match_records(
        stripe,
        list(read_ledger(IterableLedger(rows), period.start, period.end, livemode=True)),
        start=int(period.start.timestamp()),
        end=int(period.end.timestamp()),
        now=int(clock.now().timestamp()),
        window=int(W.total_seconds()),
    )
    assert report.counts == dict(sorted(direct.counts.items()))
    assert score(direct.findings, keys["2026-11-24"])["false_alerts"] >= 0


def test_settle_delay_holds_back_the_current_period(fake: FakeStripe, tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 25, 6, tzinfo=UTC))  # 01:00 New York, settle 2 h
    svc = service(fake, [], clock, lock_dir=tmp_path, first_period=date(2026, 11, 24))
    assert svc.due() == []
    clock.advance(timedelta(hours=1, minutes=1).total_seconds())
    assert [p.label for p in svc.due()] == ["2026-11-24"]


def test_partitioned_matching_gives_the_same_report(fake: FakeStripe, tmp_path: Path) -> None:
    stripe, rows, _ = world(["2026-11-24"], count=300)
    fake.add(stripe)
    clock = FakeClock(datetime(2026, 11, 27, tzinfo=UTC))
    plain = service(fake, rows, clock, lock_dir=tmp_path).reconcile("2026-11-24")
    spilled = service(fake, rows, clock, lock_dir=tmp_path, partitions=8).reconcile("2026-11-24")
    # Only the time of the run differs (the fake clock moved on while the first run slept).
    assert spilled.model_copy(update={"generated_at": plain.generated_at}) == plain
    assert spilled.counts == plain.counts
