from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import stripe

from uh_testkit import vendor_spec
from unified_health.billing import InvalidInputError, StripeRecord
from unified_health.billing._errors import ProviderError, RateLimitedError
from unified_health.billing._stripe import RateLimiter, StripeSource, stripe_record
from unified_health.billing.testing import FakeClock, FakeStripe, capture_logs, stripe_object

KEY = "sk_test_fake"
START = datetime(2026, 11, 24, 5, tzinfo=UTC)
END = datetime(2026, 11, 25, 5, tzinfo=UTC)
T0 = int(START.timestamp())


def records(n: int = 120) -> list[StripeRecord]:
    out = []
    for i in range(n):
        at = T0 + i * 700
        out.append(
            StripeRecord(
                f"ch_{i:04d}", "payment", 100 + i, "usd", at, "succeeded", False, reference=f"o{i}"
            )
        )
        if i % 10 == 0:
            out.append(
                StripeRecord(
                    f"re_{i:04d}", "refund", 50, "usd", at + 5, "succeeded", False, f"ch_{i:04d}"
                )
            )
        if i % 25 == 0:
            out.append(
                StripeRecord(
                    f"dp_{i:04d}", "dispute", 100 + i, "usd", at + 9, "open", False, f"ch_{i:04d}"
                )
            )
    return out


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe(KEY) as server:
        server.add(records())
        yield server


def source(fake: FakeStripe, clock: FakeClock, **kw: Any) -> StripeSource:
    options: dict[str, Any] = {"page_size": 7, "shards": 3, "workers": 3, "max_retries": 3}
    options.update(kw)
    return StripeSource(KEY, base_url=fake.url, clock=clock, sleep=clock.sleep, seed=1, **options)


def test_fetches_every_object_in_range_over_sharded_cursor_pages(fake: FakeStripe) -> None:
    clock = FakeClock()
    got = source(fake, clock).fetch(START, END)
    expected = {r for r in records() if T0 <= r.created < int(END.timestamp())}
    assert set(got) == expected
    assert len(got) == len(expected)
    listed = [r for r in fake.requests if r.status == 200]
    assert any("starting_after" in r.params for r in listed)
    assert all("created[gte]" in r.params and "created[lt]" in r.params for r in listed)
    assert {r.path for r in listed} == {"/v1/charges", "/v1/refunds", "/v1/disputes"}


def test_short_pages_still_reach_the_end(fake: FakeStripe) -> None:
    fake.short_pages = True
    got = source(fake, FakeClock()).fetch(START, END)
    assert len(got) == len({r for r in records() if r.created < int(END.timestamp())})


def test_429_pauses_for_retry_after_and_then_succeeds(fake: FakeStripe) -> None:
    clock = FakeClock()
    fake.fail_next(429, retry_after=7)
    with capture_logs() as events:
        got = source(fake, clock, shards=1, workers=1).fetch(START, END)
    assert len(got) > 100
    assert any(s >= 7 for s in clock.sleeps)
    assert [e["status_code"] for e in events if e["event"] == "stripe_page_retried"] == [429]


def test_500s_and_truncated_bodies_are_retried(fake: FakeStripe) -> None:
    clock = FakeClock()
    fake.fail_next(500, times=2)
    fake.truncate_next()
    got = source(fake, clock, shards=1, workers=1).fetch(START, END)
    assert len(got) == len({r for r in records() if r.created < int(END.timestamp())})


def test_persistent_failure_says_how_many_attempts(fake: FakeStripe) -> None:
    fake.fail_next(503, times=50)
    with pytest.raises(ProviderError) as err:
        source(fake, FakeClock(), shards=1, workers=1, max_retries=2).fetch(START, END)
    assert (err.value.status_code, err.value.attempts) == (503, 3)
    assert len(fake.requests) < 9  # the other shards were stopped early
    fake.clear_failures()
    fake.fail_next(429, times=50, retry_after=1)
    with pytest.raises(RateLimitedError):
        source(fake, FakeClock(), shards=1, workers=1, max_retries=1).fetch(START, END)


def test_a_wrong_key_fails_at_once_without_echoing_it(fake: FakeStripe) -> None:
    clock = FakeClock()
    bad = StripeSource("sk_test_wrongsecret", base_url=fake.url, clock=clock, sleep=clock.sleep)
    with pytest.raises(ProviderError) as err:
        bad.fetch(START, END)
    assert err.value.status_code == 401
    assert err.value.attempts == 1
    assert "wrongsecret" not in str(err.value)


def test_an_object_of_the_other_mode_stops_the_fetch(fake: FakeStripe) -> None:
    fake.add([StripeRecord("ch_live", "payment", 5, "usd", T0 + 10, "succeeded", True)])
    fake.ignore_mode = True
    with pytest.raises(ProviderError, match="other mode"):
        source(fake, FakeClock()).fetch(START, END)


def test_a_crashed_fetch_resumes_from_its_checkpoints(fake: FakeStripe, tmp_path: Path) -> None:
    fake.fail_next(500, times=50, after=9)
    with pytest.raises(ProviderError):
        source(
            fake, FakeClock(), shards=1, workers=1, max_retries=0, checkpoint_dir=tmp_path
        ).fetch(START, END, run_key="daily:2026-11-24")
    first_run = len(fake.requests)
    with FakeStripe(KEY) as again:
        again.add(records())
        got = source(again, FakeClock(), shards=1, workers=1, checkpoint_dir=tmp_path).fetch(
            START, END, run_key="daily:2026-11-24"
        )
        resumed = len(again.requests)
    assert len(got) == len({r for r in records() if r.created < int(END.timestamp())})
    assert len(set(got)) == len(got)
    assert resumed < 30 - 9 + 3  # the nine pages already kept are not fetched again
    assert first_run >= 10


def test_the_real_sdk_typed_path_works_against_the_fake(fake: FakeStripe) -> None:
    client = stripe.StripeClient(
        KEY,
        base_addresses={"api": fake.url},
        http_client=stripe.HTTPXClient(allow_sync_methods=True),
        max_network_retries=0,
    )
    charges = client.v1.charges.list(params={"limit": 50})
    assert sum(1 for _ in charges.auto_paging_iter()) == 120
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.charges.list(params={"limit": 500})


def test_bad_settings_are_refused_by_name() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"page_size": 500}, "page_size"),
        ({"shards": 0}, "shards"),
        ({"requests_per_second": 0}, "requests_per_second"),
        ({"resources": ("payouts",)}, "resources"),
    ]
    for kwargs, field in cases:
        with pytest.raises(InvalidInputError) as err:
            StripeSource(KEY, **kwargs)
        assert err.value.field == field
    with pytest.raises(InvalidInputError):
        StripeSource(KEY).fetch(datetime(2026, 1, 1), END)


def test_rate_limiter_spaces_requests_and_pauses_everyone() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    for _ in range(11):
        limiter.acquire()
    assert sum(clock.sleeps) == pytest.approx(1.0)
    limiter.pause(5)
    before = clock.monotonic()
    limiter.acquire()
    assert clock.monotonic() - before == pytest.approx(5.0)


def test_fake_objects_have_stripes_field_names() -> None:
    fixtures = json.loads(Path(vendor_spec("stripe", "fixtures3.json")).read_text())["resources"]
    samples = {
        "charge": StripeRecord("ch_1", "payment", 5, "usd", T0, "succeeded", False),
        "refund": StripeRecord("re_1", "refund", 5, "usd", T0, "succeeded", False, "ch_1"),
        "dispute": StripeRecord("dp_1", "dispute", 5, "usd", T0, "open", False, "ch_1"),
    }
    for name, record in samples.items():
        served = stripe_object(record)
        assert set(served) <= set(fixtures[name]), name
        assert stripe_record(fixtures[name]).id == fixtures[name]["id"]
        assert stripe_record(served) == record
    assert "livemode" not in fixtures["refund"]


def test_a_stalled_answer_times_out_and_is_retried(fake: FakeStripe) -> None:
    fake.stall_next(2.0)
    clock = FakeClock()
    with capture_logs() as events:
        got = source(fake, clock, shards=1, workers=1, timeout=0.3).fetch(START, END)
    assert len(got) == len({r for r in records() if r.created < int(END.timestamp())})
    retried = [e for e in events if e["event"] == "stripe_page_retried"]
    assert [(e["attempt"], e["status_code"]) for e in retried] == [(1, None)]
