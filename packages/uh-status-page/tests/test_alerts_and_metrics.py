"""PagerDuty events against the fake PagerDuty; metrics in blackbox_exporter names; uptime."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from uh_testkit import vendor_spec
from unified_health.status_page import (
    HttpProbe,
    InvalidInputError,
    PagerDutyAlerter,
    ProbeMetrics,
    ProbeResult,
    ProviderError,
    SelfHostedStatusPage,
    StatusMonitor,
)
from unified_health.status_page.testing import FakeClock, FakePagerDuty

KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def pagerduty() -> Iterator[FakePagerDuty]:
    with FakePagerDuty() as fake:
        yield fake


def test_trigger_and_resolve_share_the_dedup_key(pagerduty: FakePagerDuty) -> None:
    clock = FakeClock()
    with PagerDutyAlerter(KEY, base_url=pagerduty.url, sleep=clock.sleep) as alerter:
        page = SelfHostedStatusPage(components=["api"], clock=clock)
        api = HttpProbe(name="api", url="https://api.example.org", component="api")
        monitor = StatusMonitor(page, [api], clock=clock, alerter=alerter)
        for ok in (False, False, False):
            monitor.observe(
                ProbeResult(probe="api", success=ok, started_at=clock.now(), duration=1.0)
            )
        monitor.reconcile()
        (dedup_key,) = pagerduty.alerts
        assert pagerduty.alerts == {dedup_key: "triggered"}
        for ok in (True, True):
            monitor.observe(
                ProbeResult(probe="api", success=ok, started_at=clock.now(), duration=1.0)
            )
        monitor.reconcile()
    assert pagerduty.alerts == {dedup_key: "resolved"}
    trigger = pagerduty.calls[0].body
    assert trigger["payload"]["severity"] == "critical"
    assert trigger["dedup_key"] == pagerduty.calls[1].body["dedup_key"]


def test_pagerduty_errors_and_retries(pagerduty: FakePagerDuty) -> None:
    clock = FakeClock()
    alerter = PagerDutyAlerter(KEY, base_url=pagerduty.url, sleep=clock.sleep)
    pagerduty.fail_next(429, retry_after=3)
    alerter.send("trigger", "outage-1", "api outage")
    assert 3.0 in clock.sleeps
    bad = PagerDutyAlerter("x" * 32, base_url=pagerduty.url, sleep=clock.sleep)
    bad._key = "short"  # what a revoked or mistyped key looks like to PagerDuty
    with pytest.raises(ProviderError) as caught:
        bad.send("trigger", "outage-1", "api outage")
    assert caught.value.status_code == 400
    with pytest.raises(InvalidInputError):
        PagerDutyAlerter("short")
    alerter.close()
    bad.close()


def test_the_fake_pagerduty_follows_the_published_description(pagerduty: FakePagerDuty) -> None:
    spec = json.loads(vendor_spec("pagerduty", "events-v2.openapiv3.json").read_text())
    operation = spec["paths"]["/enqueue"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    body = PagerDutyAlerter(KEY).event("trigger", "outage-1", "api outage")
    assert set(schema["required"]) <= set(body)
    assert set(body) <= set(schema["properties"])
    payload = spec["components"]["schemas"]["Payload"]
    assert set(payload["required"]) <= set(body["payload"])
    assert body["payload"]["severity"] in payload["properties"]["severity"]["enum"]
    answer = httpx.post(f"{pagerduty.url}/v2/enqueue", json=body)
    assert str(answer.status_code) in operation["responses"]
    assert set(answer.json()) == {"status", "message", "dedup_key"}


def result(clock: FakeClock, ok: bool, **extra: Any) -> ProbeResult:
    return ProbeResult(probe="api", success=ok, started_at=clock.now(), duration=0.25, **extra)


def test_metrics_use_blackbox_exporter_names() -> None:
    clock = FakeClock()
    metrics = ProbeMetrics(clock=clock)
    expiry = (clock.now() + timedelta(days=30)).isoformat()
    metrics.observe(
        result(clock, True, status_code=200, facts={"expires_at": expiry}), component="API"
    )
    text = metrics.render()
    assert 'probe_success{probe="api",component="API"} 1' in text
    assert 'probe_duration_seconds{probe="api",component="API"} 0.25' in text
    assert 'probe_http_status_code{probe="api",component="API"} 200' in text
    expected = int((clock.now() + timedelta(days=30)).timestamp())
    assert f'probe_ssl_earliest_cert_expiry{{probe="api",component="API"}} {expected}' in text
    assert "# TYPE uh_status_page_probe_runs_total counter" in text


def test_uptime_over_each_span() -> None:
    clock = FakeClock()
    metrics = ProbeMetrics(clock=clock)
    for index in range(2 * 24 * 120):  # two days at 30 s; every 4th run fails on day one
        metrics.observe(result(clock, index >= 24 * 120 or index % 4 != 0))
        clock.advance(30)
    uptime = metrics.uptime("api")
    assert uptime["1h"] == 100.0
    assert uptime["24h"] == 100.0
    assert uptime["7d"] == 87.5
    assert uptime["30d"] == 87.5


def test_the_self_hosted_page_serves_json_html_and_etags() -> None:
    page = SelfHostedStatusPage(components=["api", "web"])
    page.update_component("web", status="partial_outage")
    app = page.asgi_app()

    async def fetch() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://page") as client:
            summary = await client.get("/api/v2/summary.json")
            again = await client.get(
                "/api/v2/summary.json", headers={"If-None-Match": summary.headers["etag"]}
            )
            html = await client.get("/")
            missing = await client.get("/nope")
            post = await client.post("/api/v2/status.json")
            return [summary, again, html, missing, post]

    summary, again, html, missing, post = asyncio.run(fetch())
    assert summary.json()["status"] == {
        "indicator": "minor",
        "description": "Partial System Outage",
    }
    assert [c["status"] for c in summary.json()["components"]] == ["operational", "partial_outage"]
    assert again.status_code == 304
    assert '<html lang="en">' in html.text
    assert 'role="status"' in html.text
    assert "Partial outage" in html.text
    assert (missing.status_code, post.status_code) == (404, 405)


def test_the_self_hosted_page_is_shared_through_redis(redis_client: Any, redis_prefix: str) -> None:
    from unified_health.status_page import RedisStatusPageStore

    store = RedisStatusPageStore(redis_client, prefix=redis_prefix)
    writer = SelfHostedStatusPage(store, components=["api"])
    reader = SelfHostedStatusPage(store)
    writer.create_incident("api outage", components={"api": "major_outage"})
    assert [i.name for i in reader.list_unresolved_incidents()] == ["api outage"]
    assert reader.status_json()["status"]["indicator"] == "major"
    with pytest.raises(InvalidInputError):
        writer.update_component("api", status="fine")
    assert next(reader.list_components()).status == "major_outage"


def test_a_self_hosted_maintenance_is_upcoming_then_active_and_holds_its_components() -> None:
    clock = FakeClock()
    page = SelfHostedStatusPage(components=["db"], clock=clock)
    start = clock.now() + timedelta(hours=1)
    with pytest.raises(InvalidInputError):
        page.schedule_maintenance("m", starts_at=start, ends_at=start, components=["db"])
    page.schedule_maintenance(
        "DB upgrade", starts_at=start, ends_at=start + timedelta(hours=1), components=["db"]
    )
    assert [m["name"] for m in page.upcoming_json()["scheduled_maintenances"]] == ["DB upgrade"]
    assert list(page.list_active_maintenances()) == []
    clock.advance(3600 + 60)
    assert page.upcoming_json()["scheduled_maintenances"] == []
    assert [m.status for m in page.list_active_maintenances()] == ["in_progress"]
    db = HttpProbe(name="db", url="https://db.example.org", component="db")
    monitor = StatusMonitor(page, [db], clock=clock)
    for _ in range(3):
        monitor.observe(ProbeResult(probe="db", success=False, started_at=clock.now(), duration=1))
    monitor.reconcile()
    assert list(page.list_unresolved_incidents()) == []
    clock.advance(3600)
    monitor.reconcile()
    assert [i.name for i in page.list_unresolved_incidents()] == ["db outage"]
