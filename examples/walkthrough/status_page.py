"""uh-status-page: probes drive a self-hosted status page through an outage and back."""

from __future__ import annotations

from collections.abc import Callable

from unified_health.status_page import (
    HttpProbe,
    InvalidInputError,
    ProbeResult,
    SelfHostedStatusPage,
    StatusMonitor,
    StatusPageClient,
)
from unified_health.status_page.testing import FakeClock


def run(say: Callable[[str], None]) -> None:
    """Feed probe results to a monitor over a self-hosted page, on a virtual clock."""
    clock = FakeClock()
    page = SelfHostedStatusPage(components=["API", "Patient portal"], clock=clock)
    api = HttpProbe(name="api", url="https://api.example.org/health", component="API")
    portal = HttpProbe(name="portal", url="https://portal.example.org", component="Patient portal")
    monitor = StatusMonitor(page, [api, portal], clock=clock)

    def probe_cycle(api_up: bool) -> None:
        for probe, ok in ((api, api_up), (portal, True)):
            result = ProbeResult(probe=probe.name, success=ok, started_at=clock.now(), duration=0.2)
            for change in monitor.step([result]):
                names = ", ".join(f"{c}={s}" for c, s in change.components.items())
                say(f"  {change.action}: {names}")
        clock.advance(30)

    say(f"page says: {page.status_json()['status']['description']}")
    for cycle in range(1, 4):
        say(f"probe cycle {cycle}: the API fails")
        probe_cycle(api_up=False)
    summary = page.summary_json()
    incident = summary["incidents"][0]["name"]
    say(f"page says: {summary['status']['description']}; incident: {incident}")
    for cycle in range(4, 6):
        say(f"probe cycle {cycle}: the API answers again")
        probe_cycle(api_up=True)
    say(f"page says: {page.status_json()['status']['description']}")
    status = StatusPageClient("api-key", "page-id", component_ids={"API": "c-api"})
    try:
        status.create_incident("API slow", components={"API": "very_slow"})
    except InvalidInputError as exc:
        say(f"Statuspage.io client: a bad status is refused before any request ({exc.field})")
    status.close()
