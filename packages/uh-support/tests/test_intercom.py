"""`IntercomProvider` over real HTTP against the fake Intercom, and the fake against the OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest
import yaml  # type: ignore[import-untyped]

from uh_testkit import vendor_spec
from unified_health.support import (
    ConflictError,
    IntercomProvider,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    SupportClient,
)
from unified_health.support.testing import FakeClock, FakeIntercom


@pytest.fixture
def intercom() -> Iterator[FakeIntercom]:
    with FakeIntercom(access_token="secret") as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def provider(intercom: FakeIntercom, clock: FakeClock, **options: Any) -> IntercomProvider:
    return IntercomProvider(
        access_token="secret",
        ticket_type_id="55",
        base_url=intercom.url,
        sleep=clock.sleep,
        timeout=0.5,
        **options,
    )


def test_create_show_and_state_changes(intercom: FakeIntercom, clock: FakeClock) -> None:
    support = SupportClient(provider(intercom, clock), clock=clock)
    ticket = support.create_ticket("Login", "Cannot sign in", "p-1", idempotency_key="req-1")
    assert (ticket.status, ticket.raw_status, ticket.requester) == ("new", "submitted", "p-1")
    support.set_status(ticket.id, "pending")
    assert support.get_ticket(ticket.id).raw_status == "waiting_on_customer"
    support.solve(ticket.id)
    closed = support.set_status(ticket.id, "closed")
    assert (closed.status, intercom.tickets[ticket.id]["open"]) == ("closed", False)


def test_a_retried_create_and_a_lost_answer_make_one_ticket(
    intercom: FakeIntercom, clock: FakeClock
) -> None:
    support = SupportClient(provider(intercom, clock), clock=clock)
    intercom.lose_next_answer(0)  # the search before the create
    intercom.lose_next_answer(1.5)  # the create: committed, answer held past the timeout
    first = support.create_ticket("Login", "Cannot sign in", "p-1", idempotency_key="req-1")
    again = support.create_ticket("Login", "Cannot sign in", "p-1", idempotency_key="req-1")
    assert first.id == again.id
    assert list(intercom.tickets) == [first.id]
    with pytest.raises(ConflictError):
        support.create_ticket("Login", "Another text", "p-1", idempotency_key="req-1")


def test_errors_and_rate_limits(intercom: FakeIntercom, clock: FakeClock) -> None:
    zd = provider(intercom, clock, retry_budget=5.0)
    with pytest.raises(NotFoundError):
        zd.get_ticket("404")
    intercom.fail_next(429, retry_after=2)
    with pytest.raises(NotFoundError):
        zd.get_ticket("404")
    assert clock.sleeps == [2.0]
    intercom.fail_next(429, retry_after=60)
    with pytest.raises(RateLimitedError) as info:
        zd.get_ticket("1")
    assert info.value.retry_after == 60.0
    wrong = IntercomProvider(access_token="nope", ticket_type_id="55", base_url=intercom.url)
    with pytest.raises(ProviderError) as error:
        wrong.get_ticket("1")
    assert error.value.status_code == 401
    assert "nope" not in str(error.value)


def test_every_request_carries_the_version_header_and_regions_pick_hosts() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.url.host} {request.headers['Intercom-Version']}")
        return httpx.Response(404, json={"type": "error.list", "errors": []})

    http = httpx.Client(transport=httpx.MockTransport(answer))
    for region in ("us", "eu", "au"):
        p = IntercomProvider(access_token="t", ticket_type_id="1", region=region, http_client=http)
        with pytest.raises(NotFoundError):
            p.get_ticket("1")
    assert seen == ["api.intercom.io 2.14", "api.eu.intercom.io 2.14", "api.au.intercom.io 2.14"]


def _schema(spec: dict[str, Any], path: str, method: str, status: str) -> dict[str, Any]:
    content = spec["paths"][path][method]["responses"][status]["content"]["application/json"]
    return {**content["schema"], "components": spec["components"]}


def test_the_fake_answers_validate_against_the_published_openapi(
    intercom: FakeIntercom, clock: FakeClock
) -> None:
    spec = yaml.safe_load(vendor_spec("intercom", "api.intercom.io-2.14.yaml").read_text())
    support = SupportClient(provider(intercom, clock), clock=clock)
    ticket = support.create_ticket("Login", "Cannot sign in", "p-1")
    headers = {"Authorization": "Bearer secret", "Intercom-Version": "2.14"}
    with httpx.Client(base_url=intercom.url, headers=headers) as http:
        shown = http.get(f"/tickets/{ticket.id}")
        jsonschema.validate(shown.json(), _schema(spec, "/tickets/{ticket_id}", "get", "200"))
        found = http.post(
            "/tickets/search",
            json={"query": {"field": "created_at", "operator": ">", "value": "0"}},
        )
        jsonschema.validate(found.json(), _schema(spec, "/tickets/search", "post", "200"))
        missing = http.post("/tickets", json={"contacts": [{"id": "1"}]})
        assert missing.status_code == 400
        denied = http.get(f"/tickets/{ticket.id}", headers={"Authorization": "Bearer x"})
        assert denied.status_code == 401
        jsonschema.validate(denied.json(), _schema(spec, "/tickets", "post", "401"))
    required = spec["components"]["schemas"]["create_ticket_request"]["required"]
    assert set(required) == {"ticket_type_id", "contacts"}  # what the fake insists on


def test_what_intercom_cannot_carry_is_refused_before_any_http(
    intercom: FakeIntercom, clock: FakeClock
) -> None:
    support = SupportClient(provider(intercom, clock), clock=clock)
    with pytest.raises(InvalidInputError) as info:
        support.create_ticket("s", "d", "r", priority="urgent")
    assert info.value.field == "priority"
    ticket = support.create_ticket("s", "d", "r")
    before = len(intercom.requests)
    with pytest.raises(InvalidInputError) as info:
        support.add_comment(ticket.id, "hello")
    assert info.value.field == "comments"
    assert [m for m, _ in intercom.requests[before:]] == ["GET"]  # read, never written
