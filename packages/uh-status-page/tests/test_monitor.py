"""From probe results to statuses and incidents, on a virtual clock, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from unified_health.status_page import (
    HealthTracker,
    HttpProbe,
    InvalidInputError,
    MaintenanceWindow,
    Probe,
    ProbeResult,
    ProbeScheduler,
    SelfHostedStatusPage,
    StatusMonitor,
    StatusPageClient,
    Thresholds,
)
from unified_health.status_page.testing import FakeClock, FakeStatuspage, capture_logs

COMPONENTS = ["api", "web", "db", "auth", "billing", "search"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def vendor(clock: FakeClock) -> Iterator[FakeStatuspage]:
    with FakeStatuspage(components=COMPONENTS, clock=clock) as fake:
        yield fake


@pytest.fixture
def status(vendor: FakeStatuspage, clock: FakeClock) -> Iterator[StatusPageClient]:
    with httpx.Client() as http:
        yield StatusPageClient(
            "test-key",
            "page-1",
            base_url=vendor.url,
            http_client=http,
            clock=clock,
            sleep=clock.sleep,
        )


def probe(name: str, component: str | None = None, group: str | None = None) -> HttpProbe:
    return HttpProbe(
        name=name,
        url=f"https://{name}.example.org/health",
        component=component or name,
        incident_group=group,
    )


class Script:
    """A probe runner on the virtual clock: failures take the full timeout, successes 0.2 s."""

    def __init__(self, clock: FakeClock, healthy: Callable[[str, int], bool]) -> None:
        self.clock = clock
        self.healthy = healthy
        self.runs: dict[str, int] = {}
        self.starts: list[tuple[str, float, bool]] = []

    def __call__(self, probe: Probe) -> ProbeResult:
        count = self.runs.get(probe.name, 0)
        self.runs[probe.name] = count + 1
        ok = self.healthy(probe.name, count)
        started, began = self.clock.now(), self.clock.monotonic()
        self.starts.append((probe.name, began, ok))
        self.clock.advance(0.2 if ok else probe.timeout)
        return ProbeResult(
            probe=probe.name,
            success=ok,
            started_at=started,
            duration=self.clock.monotonic() - began,
            failure=None if ok else "timeout",
        )


def drive(
    monitor: StatusMonitor, scheduler: ProbeScheduler, clock: FakeClock, seconds: float
) -> None:
    end = clock.monotonic() + seconds
    while clock.monotonic() < end:
        for result in scheduler.tick():
            monitor.observe(result)
        monitor.reconcile()
        clock.sleep(max(scheduler.seconds_until_next(), 0.001))


def test_the_change_is_sent_within_71_seconds_of_the_first_failing_probe(
    status: StatusPageClient, vendor: FakeStatuspage, clock: FakeClock
) -> None:
    api = probe("api")  # 30 s interval, 10 s timeout
    fail_from = 4
    script = Script(clock, lambda name, n: n < fail_from)
    scheduler = ProbeScheduler([api], script, clock=clock, max_concurrency=1, jitter=0)
    monitor = StatusMonitor(status, [api], page_key="page-1", clock=clock)
    drive(monitor, scheduler, clock, 300)
    first_failure = next(at for name, at, ok in script.starts if not ok)
    post = next(c for c in vendor.calls if c.method == "POST")
    assert post.body["incident"]["components"] == {vendor.component_id("api"): "major_outage"}
    assert post.at - first_failure <= 71.0
    assert post.at - first_failure >= 70.0  # three runs: 0, 30, 60 s, the third times out at 70
    assert len(vendor.incidents) == 1


def test_a_flapping_endpoint_opens_no_incident_in_30_minutes(
    status: StatusPageClient, vendor: FakeStatuspage, clock: FakeClock
) -> None:
    api = probe("api")
    script = Script(clock, lambda name, n: n % 2 == 0)
    scheduler = ProbeScheduler([api], script, clock=clock, max_concurrency=1, jitter=0)
    monitor = StatusMonitor(status, [api], page_key="page-1", clock=clock)
    drive(monitor, scheduler, clock, 30 * 60)
    assert len(script.starts) >= 60
    assert vendor.incidents == {}
    assert vendor.status_of("api") == "degraded_performance"
    component_writes = [c for c in vendor.calls if c.method == "PATCH"]
    assert len(component_writes) == 1  # held at degraded, not toggled


def test_an_outage_of_six_components_costs_one_request_and_recovery_one_more(
    status: StatusPageClient, vendor: FakeStatuspage, clock: FakeClock
) -> None:
    probes = [probe(name, group="platform") for name in COMPONENTS]
    down = {"on": True}
    monitor = StatusMonitor(status, probes, page_key="page-1", clock=clock)
    for _ in range(3):
        for item in probes:
            monitor.observe(
                ProbeResult(
                    probe=item.name, success=not down["on"], started_at=clock.now(), duration=1.0
                )
            )
    changes = monitor.reconcile()
    assert [c.action for c in changes] == ["open_incident"]
    writes = [c for c in vendor.calls if c.method != "GET"]
    assert len(writes) == 1
    assert len(writes[0].body["incident"]["components"]) == 6
    for _ in range(2):
        for item in probes:
            monitor.observe(
                ProbeResult(probe=item.name, success=True, started_at=clock.now(), duration=1.0)
            )
    assert [c.action for c in monitor.reconcile()] == ["resolve_incident"]
    writes = [c for c in vendor.calls if c.method != "GET"]
    assert len(writes) == 2
    assert {vendor.status_of(n) for n in COMPONENTS} == {"operational"}
    assert next(iter(vendor.incidents.values()))["status"] == "resolved"


def fail(monitor: StatusMonitor, name: str, times: int, clock: FakeClock) -> None:
    for _ in range(times):
        monitor.observe(
            ProbeResult(probe=name, success=False, started_at=clock.now(), duration=10.0)
        )


def test_a_component_a_person_put_in_an_incident_is_left_alone(
    status: StatusPageClient, vendor: FakeStatuspage, clock: FakeClock
) -> None:
    vendor.open_incident("Database migration", {"db": "under_maintenance"})
    before = len(vendor.incidents)
    monitor = StatusMonitor(status, [probe("db")], page_key="page-1", clock=clock)
    fail(monitor, "db", 3, clock)
    with capture_logs() as events:
        monitor.reconcile()
    assert vendor.status_of("db") == "under_maintenance"
    assert len(vendor.incidents) == before
    assert "change_skipped_held" in [e["event"] for e in events]


def test_a_timed_out_create_is_reconciled_not_repeated(
    vendor: FakeStatuspage, clock: FakeClock
) -> None:
    status = StatusPageClient("test-key", "page-1", base_url=vendor.url, timeout=0.3)
    monitor = StatusMonitor(status, [probe("api")], page_key="page-1", clock=clock)
    fail(monitor, "api", 3, clock)
    vendor.stall_next(1.0, commit=True, path="/incidents")
    changes = monitor.reconcile()
    assert [c.action for c in changes] == ["open_incident"]
    assert len(vendor.incidents) == 1
    monitor.reconcile()
    assert len(vendor.incidents) == 1


def test_two_monitors_on_one_store_open_one_incident(
    status: StatusPageClient, vendor: FakeStatuspage, clock: FakeClock
) -> None:
    from unified_health.status_page import InMemoryStatusPageStore

    store = InMemoryStatusPageStore(clock=clock)
    first = StatusMonitor(status, [probe("api")], store=store, page_key="page-1", clock=clock)
    second = StatusMonitor(status, [probe("api")], store=store, page_key="page-1", clock=clock)
    fail(first, "api", 3, clock)
    fail(second, "api", 3, clock)
    first.reconcile()
    second.reconcile()
    assert len(vendor.incidents) == 1
    assert len([c for c in vendor.calls if c.method != "GET"]) == 1


def test_a_maintenance_window_suppresses_the_incident_and_restores_the_status(
    status: StatusPageClient, vendor: FakeStatuspage, clock: FakeClock
) -> None:
    window = MaintenanceWindow(
        components=("db",), starts_at=clock.now(), ends_at=clock.now() + timedelta(minutes=30)
    )
    alerts: list[tuple[str, str, str]] = []
    monitor = StatusMonitor(
        status,
        [probe("db")],
        page_key="page-1",
        clock=clock,
        windows=[window],
        alerter=lambda *a: alerts.append(a),
    )
    fail(monitor, "db", 5, clock)
    monitor.reconcile()
    assert vendor.status_of("db") == "under_maintenance"
    assert vendor.incidents == {}
    clock.advance(31 * 60)
    monitor.reconcile()
    assert vendor.status_of("db") == "operational"  # the pre-window status, judged afresh
    assert vendor.incidents == {}
    assert alerts == []
    fail(monitor, "db", 3, clock)
    monitor.reconcile()
    assert len(vendor.incidents) == 1
    assert [a[0] for a in alerts] == ["trigger"]


def test_a_dry_run_plans_and_sends_nothing(
    status: StatusPageClient, vendor: FakeStatuspage, clock: FakeClock
) -> None:
    monitor = StatusMonitor(status, [probe("api")], page_key="page-1", clock=clock, dry_run=True)
    fail(monitor, "api", 3, clock)
    planned = monitor.reconcile()
    assert [(c.action, c.components) for c in planned] == [
        ("open_incident", {"api": "major_outage"})
    ]
    assert vendor.calls == []


def test_a_vendor_error_is_retried_next_cycle(
    status: StatusPageClient, vendor: FakeStatuspage, clock: FakeClock
) -> None:
    from unified_health.status_page import ProbeMetrics

    metrics = ProbeMetrics(clock=clock)
    monitor = StatusMonitor(status, [probe("api")], page_key="page-1", clock=clock, metrics=metrics)
    fail(monitor, "api", 3, clock)
    vendor.fail_next(422, path="/incidents")
    assert monitor.reconcile() == []
    assert vendor.incidents == {}
    assert [c.action for c in monitor.reconcile()] == ["open_incident"]
    assert len(vendor.incidents) == 1
    text = metrics.render()
    assert 'uh_status_page_events_total{event="change_failed"} 1' in text
    assert 'uh_status_page_events_total{event="incident_opened"} 1' in text


def test_the_self_hosted_page_is_driven_the_same_way(clock: FakeClock) -> None:
    page = SelfHostedStatusPage(components=["api"], clock=clock)
    monitor = StatusMonitor(page, [probe("api")], clock=clock)
    fail(monitor, "api", 3, clock)
    monitor.reconcile()
    summary = page.summary_json()
    assert summary["status"]["indicator"] == "major"
    assert [i["name"] for i in summary["incidents"]] == ["api outage"]


def test_trackers_need_three_failures_and_two_successes() -> None:
    tracker = HealthTracker(Thresholds())
    assert [tracker.observe(ok) for ok in (False, False, True, False, False, False)] == [
        True,
        True,
        True,
        True,
        True,
        False,
    ]
    assert [tracker.observe(ok) for ok in (True, False, True, True)] == [False, False, False, True]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(InvalidInputError):
        Thresholds(flap_enter=0.2, flap_exit=0.3)
    with pytest.raises(InvalidInputError):
        MaintenanceWindow(components=("db",))
    with pytest.raises(InvalidInputError, match="component"):
        StatusMonitor(SelfHostedStatusPage(), [HttpProbe(name="x", url="https://x")])


DETECTOR = """
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
print(monitor.incidents_opened, flush=True)
"""


def test_four_processes_detecting_one_outage_open_one_incident(
    redis_url: str, redis_prefix: str
) -> None:
    import subprocess
    import sys

    with FakeStatuspage(components=COMPONENTS) as vendor:
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", DETECTOR, redis_url, redis_prefix, vendor.url],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready"
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outputs = [worker.communicate(timeout=60) for worker in workers]
        assert [w.returncode for w in workers] == [0, 0, 0, 0], [o[1][-500:] for o in outputs]
        assert sum(int(out.strip()) for out, _ in outputs) == 1
        assert len(vendor.incidents) == 1
        assert vendor.status_of("api") == "major_outage"


@given(st.lists(st.booleans(), max_size=80))
def test_a_probe_is_down_only_after_three_failures_in_a_row(results: list[bool]) -> None:
    tracker = HealthTracker(Thresholds())
    up = True
    for index, ok in enumerate(results):
        state = tracker.observe(ok)
        recent = results[max(0, index - 2) : index + 1]
        if up and not state:
            assert recent == [False, False, False]
        if not up and state:
            assert results[index - 1 : index + 1] == [True, True]
        up = state
