"""`StatusPageClient` over real HTTP against the fake Statuspage server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from uh_testkit import vendor_spec
from unified_health.status_page import (
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    RateLimiter,
    StatusPage,
    StatusPageClient,
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
            seed=1,
        )


def writes(vendor: FakeStatuspage) -> list[Any]:
    return [c for c in vendor.calls if c.method != "GET"]


def test_the_client_is_a_status_page(status: StatusPageClient) -> None:
    assert isinstance(status, StatusPage)


def test_an_incident_sends_the_oauth_header_and_the_incident_envelope(
    status: StatusPageClient, vendor: FakeStatuspage
) -> None:
    incident = status.create_incident(
        "API Degradation",
        status="investigating",
        components={"api": "degraded_performance"},
        metadata={"uh_status_page": {"fingerprint": "fp-1"}},
    )
    assert incident.status == "investigating"
    assert incident.metadata == {"uh_status_page": {"fingerprint": "fp-1"}}
    assert vendor.status_of("api") == "degraded_performance"
    post = writes(vendor)[0]
    assert post.headers["authorization"] == "OAuth test-key"
    api = vendor.component_id("api")
    assert post.body == {
        "incident": {
            "name": "API Degradation",
            "status": "investigating",
            "deliver_notifications": True,
            "metadata": {"uh_status_page": {"fingerprint": "fp-1"}},
            "components": {api: "degraded_performance"},
            "component_ids": [api],
        }
    }


def test_six_components_change_in_one_request(
    status: StatusPageClient, vendor: FakeStatuspage
) -> None:
    status.list_components()  # names resolved once
    before = len(vendor.calls)
    incident = status.create_incident(
        "Platform outage", components=dict.fromkeys(COMPONENTS, "major_outage")
    )
    assert len(vendor.calls) - before <= 2  # one listing for names (first use) and one POST
    assert len(writes(vendor)) == 1
    assert {vendor.status_of(name) for name in COMPONENTS} == {"major_outage"}
    resolved = status.resolve_incident(incident.id, components=COMPONENTS)
    assert resolved.is_resolved
    assert {vendor.status_of(name) for name in COMPONENTS} == {"operational"}
    assert len(writes(vendor)) == 2


def test_components_page_lazily_with_page_and_per_page(
    status: StatusPageClient, vendor: FakeStatuspage
) -> None:
    for index in range(244):
        vendor.add_component(f"extra-{index}")
    listing = status.list_components()
    first = next(iter(listing))
    assert first.name == "api"
    assert len(vendor.calls) == 1
    everything = [first, *listing]
    assert len(everything) == 250
    queries = [c.query for c in vendor.calls]
    assert queries == [
        {"page": "1", "per_page": "100"},
        {"page": "2", "per_page": "100"},
        {"page": "3", "per_page": "100"},
    ]


def test_incidents_page_with_limit_and_subscribers_from_page_zero(
    status: StatusPageClient, vendor: FakeStatuspage
) -> None:
    vendor.add_subscribers(150)
    assert len(list(status.list_subscribers())) == 150
    assert [c.query["page"] for c in vendor.calls] == ["0", "1"]
    assert all("limit" in c.query for c in vendor.calls)
    status.create_incident("one")
    found = list(status.list_incidents())
    assert [i.name for i in found] == ["one"]
    assert vendor.calls[-1].query == {"page": "1", "limit": "100"}


def test_maintenance_carries_the_auto_transition_options(
    status: StatusPageClient, vendor: FakeStatuspage, clock: FakeClock
) -> None:
    start = clock.now() + timedelta(days=1)
    maintenance = status.schedule_maintenance(
        "DB upgrade", starts_at=start, ends_at=start + timedelta(hours=2), components=["db"]
    )
    assert maintenance.status == "scheduled"
    assert maintenance.scheduled_for == start
    sent = writes(vendor)[0].body["incident"]
    assert sent["scheduled_auto_in_progress"] is True
    assert sent["auto_transition_to_maintenance_state"] is True
    assert sent["auto_transition_to_operational_state"] is True
    assert sent["scheduled_for"].endswith("Z")
    assert [m.id for m in status.list_upcoming_maintenances()] == [maintenance.id]
    assert list(status.list_unresolved_incidents()) == []


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (
            lambda s, now: s.create_incident("x", components={"nope": "major_outage"}),
            "components.nope",
        ),
        (lambda s, now: s.create_incident("x", components={"api": "down"}), "components.api"),
        (lambda s, now: s.create_incident("x", status="broken"), "status"),
        (lambda s, now: s.create_incident("x", status="scheduled"), "status"),
        (lambda s, now: s.create_incident("", status="investigating"), "name"),
        (lambda s, now: s.create_incident("x", metadata={"a": 1}), "metadata"),
        (lambda s, now: s.update_component("api", status="sideways"), "status"),
        (lambda s, now: s.update_component("nope", status="operational"), "component"),
        (
            lambda s, now: s.schedule_maintenance(
                "m",
                starts_at=now + timedelta(hours=2),
                ends_at=now + timedelta(hours=1),
                components=["api"],
            ),
            "ends_at",
        ),
        (
            lambda s, now: s.schedule_maintenance(
                "m",
                starts_at=now - timedelta(hours=2),
                ends_at=now - timedelta(hours=1),
                components=["api"],
            ),
            "starts_at",
        ),
        (
            lambda s, now: s.schedule_maintenance(
                "m",
                starts_at=now.replace(tzinfo=None),
                ends_at=now + timedelta(hours=1),
                components=["api"],
            ),
            "starts_at",
        ),
        (
            lambda s, now: s.schedule_maintenance(
                "m",
                starts_at=now + timedelta(hours=1),
                ends_at=now + timedelta(hours=2),
                components=[],
            ),
            "components",
        ),
        (lambda s, now: s.list_subscribers(state="gone"), "state"),
        (lambda s, now: s.create_subscriber(), "email"),
    ],
)
def test_bad_input_is_refused_before_any_request(
    vendor: FakeStatuspage, clock: FakeClock, call: Any, field: str
) -> None:
    ids = {name: vendor.component_id(name) for name in COMPONENTS}
    status = StatusPageClient(
        "test-key", "page-1", base_url=vendor.url, component_ids=ids, clock=clock
    )
    with pytest.raises(InvalidInputError) as caught:
        call(status, clock.now())
    assert caught.value.field == field
    assert vendor.calls == []
    status.close()


def test_unknown_component_names_cost_one_read_and_no_write(
    status: StatusPageClient, vendor: FakeStatuspage
) -> None:
    with pytest.raises(InvalidInputError):
        status.create_incident("x", components={"Jane Doe": "major_outage"})
    assert [c.method for c in vendor.calls] == ["GET"]


def test_a_wrong_key_is_a_provider_error_with_status_and_body(vendor: FakeStatuspage) -> None:
    status = StatusPageClient("wrong", "page-1", base_url=vendor.url)
    with pytest.raises(ProviderError) as caught:
        list(status.list_components())
    assert caught.value.status_code == 401
    assert caught.value.body == "Could not authenticate"
    assert "wrong" not in str(caught.value)


def test_a_missing_incident_is_not_found(status: StatusPageClient) -> None:
    with pytest.raises(NotFoundError):
        status.get_incident("missing")
    assert status.delete_incident("missing") is False


def test_a_vendor_422_keeps_its_message(status: StatusPageClient, vendor: FakeStatuspage) -> None:
    vendor.fail_next(422, path="/incidents")
    with pytest.raises(ProviderError) as caught:
        status.create_incident("x")
    assert caught.value.status_code == 422
    assert caught.value.body == "error 422"
    assert caught.value.request_id


def test_reads_are_retried_after_a_5xx_and_posts_are_not(
    status: StatusPageClient, vendor: FakeStatuspage
) -> None:
    vendor.fail_next(503, times=2)
    assert len(list(status.list_components())) == len(COMPONENTS)
    vendor.fail_next(503, path="/incidents")
    with pytest.raises(ProviderError) as caught:
        status.create_incident("x")
    assert caught.value.status_code == 503
    assert caught.value.attempts == 1


def test_a_timed_out_post_is_not_replayed(vendor: FakeStatuspage) -> None:
    status = StatusPageClient("test-key", "page-1", base_url=vendor.url, timeout=0.3)
    vendor.stall_next(1.0, commit=True, path="/incidents")
    with capture_logs() as events, pytest.raises(ProviderError) as caught:
        status.create_incident("x")
    assert caught.value.status_code is None
    assert len([c for c in vendor.calls if c.method == "POST"]) <= 1
    assert events[0]["event"] == "statuspage_call_failed"
    assert "test-key" not in json.dumps(events)


@pytest.mark.parametrize("code", [420, 429])
def test_a_rate_limit_answer_pauses_the_token_then_retries(
    status: StatusPageClient, vendor: FakeStatuspage, clock: FakeClock, code: int
) -> None:
    vendor.fail_next(code, retry_after=7, path="/incidents")
    incident = status.create_incident("x")
    assert incident.name == "x"
    assert 7.0 in clock.sleeps
    assert [c.status for c in vendor.calls if c.method == "POST"] == [code, 201]


def test_the_fake_enforces_the_rolling_limit_with_retry_after(
    vendor: FakeStatuspage, clock: FakeClock
) -> None:
    vendor.limit = 3
    unlimited = RateLimiter("b", limit=1000, clock=clock, sleep=clock.sleep)
    status = StatusPageClient(
        "test-key", "page-1", base_url=vendor.url, limiter=unlimited, max_retries=0, clock=clock
    )
    for _ in range(3):
        status.get_page()
    clock.advance(20)
    with pytest.raises(RateLimitedError) as caught:
        status.get_page()
    assert caught.value.status_code == 420
    assert caught.value.retry_after == 40
    clock.advance(40)
    assert status.get_page().id == "page-1"


def test_the_client_never_crosses_the_limit(vendor: FakeStatuspage, clock: FakeClock) -> None:
    vendor.limit = 5
    limiter = RateLimiter("b", limit=5, window=60.0, clock=clock, sleep=clock.sleep)
    status = StatusPageClient("test-key", "page-1", base_url=vendor.url, limiter=limiter)
    for _ in range(12):
        status.get_page()
    assert vendor.over_limit == 0
    times = [c.at for c in vendor.calls]
    assert all(times[i + 5] - times[i] >= 60 for i in range(len(times) - 5))


def test_templates_and_subscribers(status: StatusPageClient, vendor: FakeStatuspage) -> None:
    template = status.create_incident_template(
        "Slow API", title="API is slow", body="We are looking into it.", components=["api"]
    )
    assert [t.id for t in status.list_incident_templates()] == [template.id]
    subscriber = status.create_subscriber(email="ops@example.org", components=["api"])
    assert subscriber.mode == "email"
    assert status.delete_subscriber(subscriber.id) is True
    assert status.delete_subscriber(subscriber.id) is False


def test_groups_and_components(status: StatusPageClient, vendor: FakeStatuspage) -> None:
    created = status.create_component("queue", status="operational")
    group = status.create_component_group("Core", ["api", "queue"], description="core")
    assert group.components == [vendor.component_id("api"), created.id]
    assert [g.id for g in status.list_component_groups()] == [group.id]
    assert status.update_component("queue", status="partial_outage").status == "partial_outage"
    assert status.get_component("queue").status == "partial_outage"
    assert status.delete_component("queue") is True
    assert status.delete_component(created.id) is False


def test_from_env_and_from_url(vendor: FakeStatuspage) -> None:
    env = {
        "UH_STATUS_PAGE_API_KEY": "test-key",
        "UH_STATUS_PAGE_PAGE_ID": "page-1",
        "UH_STATUS_PAGE_BASE_URL": vendor.url,
    }
    with StatusPageClient.from_env(environ=env) as status:
        assert status.get_page().id == "page-1"
    with pytest.raises(InvalidInputError, match="UH_STATUS_PAGE_API_KEY"):
        StatusPageClient.from_env(environ={})
    with StatusPageClient.from_url(vendor.url, api_key="test-key", page_id="page-1") as status:
        assert len(list(status.list_components())) == len(COMPONENTS)


def _spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        vendor_spec("statuspage", "statuspage-openapi-v1.json").read_text()
    )
    return loaded


def test_the_fakes_envelopes_match_the_vendor_description() -> None:
    from unified_health.status_page.testing import _ENVELOPES

    schemas = _spec()["components"]["schemas"]
    documented = {
        "component": schemas["postPagesPageIdComponents"]["properties"]["component"],
        "incident": schemas["postPagesPageIdIncidents"]["properties"]["incident"],
        "template": schemas["postPagesPageIdIncidentTemplates"]["properties"]["template"],
        "subscriber": schemas["postPagesPageIdSubscribers"]["properties"]["subscriber"],
        "data": schemas["postPagesPageIdMetricsMetricIdData"]["properties"]["data"],
        "incident_update": schemas["patchPagesPageIdIncidentsIncidentIdIncidentUpdates"][
            "properties"
        ]["incident_update"],
    }
    for kind, schema in documented.items():
        assert _ENVELOPES[kind][1] == set(schema["properties"]), kind


def test_the_fakes_answers_use_only_documented_fields_and_values(
    status: StatusPageClient, vendor: FakeStatuspage
) -> None:
    schemas = _spec()["components"]["schemas"]
    status.create_incident("x", components={"api": "major_outage"}, body="b")
    component = vendor.calls[0]  # the listing used to resolve names
    answers: dict[str, Any] = {
        "Component": httpx.get(
            f"{vendor.url}/pages/page-1/components", headers={"Authorization": "OAuth test-key"}
        ).json()[0],
        "Incident": next(iter(vendor.incidents.values())),
    }
    assert component.status == 200
    for name, answer in answers.items():
        properties = schemas[name]["properties"]
        assert set(answer) <= set(properties), set(answer) - set(properties)
        if "enum" in properties.get("status", {}):
            assert answer["status"] in properties["status"]["enum"]
    update = answers["Incident"]["incident_updates"][0]
    assert set(update) <= set(schemas["IncidentUpdate"]["properties"])


def test_a_posted_update_can_be_corrected(status: StatusPageClient, vendor: FakeStatuspage) -> None:
    incident = status.create_incident("x", body="first text")
    update_id = incident.incident_updates[0].id
    corrected = status.update_incident_update(incident.id, update_id, body="corrected text")
    assert corrected.body == "corrected text"
    assert writes(vendor)[-1].body == {"incident_update": {"body": "corrected text"}}
    with pytest.raises(NotFoundError):
        status.update_incident_update(incident.id, "missing", body="x")


def test_metric_points_and_maintenance_listings(
    status: StatusPageClient, vendor: FakeStatuspage, clock: FakeClock
) -> None:
    status.submit_metric_point("m-1", 12.5, at=clock.now())
    assert vendor.metric_points == [
        {"metric_id": "m-1", "timestamp": int(clock.now().timestamp()), "value": 12.5}
    ]
    with pytest.raises(InvalidInputError):
        status.submit_metric_point("m-1", True, at=clock.now())
    start = clock.now() + timedelta(hours=1)
    made = status.schedule_maintenance(
        "m", starts_at=start, ends_at=start + timedelta(hours=1), components=["api"]
    )
    assert [m.id for m in status.list_scheduled_maintenances()] == [made.id]
    assert list(status.list_active_maintenances()) == []
