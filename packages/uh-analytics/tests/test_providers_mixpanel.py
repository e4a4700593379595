"""Mixpanel profiles and identity over real HTTP: /engage, /groups and alias on /import."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from unified_health.analytics import AnalyticsClient, MixpanelProvider, RecordingTransport
from unified_health.analytics.providers import OutboundEvent, RoutedProvider
from unified_health.analytics.testing import (
    FakeClock,
    FakeMixpanel,
    ReceivedRequest,
    capture_logs,
)

Make = Callable[..., AnalyticsClient]


def on(vendor: FakeMixpanel, path: str) -> list[ReceivedRequest]:
    return [r for r in vendor.requests if r.path == path]


def identify_many(client: AnalyticsClient, count: int) -> None:
    for i in range(count):
        assert client.identify(f"user-{i}", {"n": i})


# -- shapes ----------------------------------------------------------------------------------------
def test_identify_sets_the_user_profile_on_engage(
    make_client: Make, mixpanel: FakeMixpanel
) -> None:
    client = make_client([mixpanel.provider()])
    client.track("page_viewed", user_id="user-1")
    client.identify("user-1", {"plan": "gold", "contact": "jane@example.com", "ref": "user-1"})
    assert client.flush(5)
    [request] = on(mixpanel, "/engage")
    assert request.status == 200
    assert request.query == {"ip": ["0"], "strict": ["1"]}
    assert "authorization" not in request.headers  # the secret is for /import only
    assert "content-encoding" not in request.headers
    [update] = request.payload
    [event] = mixpanel.events
    assert update["$token"] == mixpanel.token
    assert update["$distinct_id"] == event["properties"]["distinct_id"]
    assert update["$set"]["plan"] == "gold"
    assert update["$set"]["contact"] == "[REDACTED:email]"  # sanitised like properties
    assert "user-1" not in json.dumps(request.payload)
    assert "jane@example.com" not in json.dumps(request.payload)
    assert mixpanel.profiles[update["$distinct_id"]]["plan"] == "gold"
    assert mixpanel.geolocated_requests == 0
    assert client.metrics().sent == {"mixpanel": 2}


def test_group_sets_the_group_profile_keyed_like_track_groups(
    make_client: Make, mixpanel: FakeMixpanel
) -> None:
    client = make_client([mixpanel.provider()])
    client.track("page_viewed", user_id="user-1", groups={"clinic": "clinic-42"})
    client.group("clinic", "clinic-42", {"tier": "gold"}, user_id="user-1")
    assert client.flush(5)
    [request] = on(mixpanel, "/groups")
    assert request.query == {"ip": ["0"], "strict": ["1"]}
    assert "authorization" not in request.headers
    [update] = request.payload
    [event] = mixpanel.events
    group_id = event["properties"]["clinic"]
    assert group_id.startswith("k1_")
    assert update == {"$token": mixpanel.token, "$group_key": "clinic", "$group_id": group_id,
                      "$set": {"tier": "gold"}}  # fmt: skip
    assert mixpanel.group_profiles == {("clinic", group_id): {"tier": "gold"}}
    assert "clinic-42" not in json.dumps([r.payload for r in mixpanel.requests])


def test_alias_under_simplified_id_merge_links_device_and_user(
    make_client: Make, mixpanel: FakeMixpanel
) -> None:
    client = make_client([mixpanel.provider()])
    client.track("page_viewed", anonymous_id="visitor-1")
    client.track("signed_in", user_id="user-1")
    assert client.flush(5)
    client.alias("visitor-1", "user-1")
    assert client.flush(5)
    anonymous, identified, link = mixpanel.events
    props = link["properties"]
    assert link["event"] == "$identify"
    assert props["$device_id"] == anonymous["properties"]["$device_id"]
    assert props["$user_id"] == props["distinct_id"] == identified["properties"]["$user_id"]
    assert len(props["$insert_id"]) == 32
    assert {r.path for r in mixpanel.requests} == {"/import"}
    assert "visitor-1" not in json.dumps([r.payload for r in mixpanel.requests])


def test_alias_under_original_id_merge_creates_an_alias(
    make_client: Make, mixpanel: FakeMixpanel
) -> None:
    client = make_client([mixpanel.provider(id_merge="original")])
    client.track("page_viewed", anonymous_id="visitor-1")
    client.track("signed_in", user_id="user-1")
    assert client.flush(5)
    client.alias("visitor-1", "user-1")
    assert client.flush(5)
    anonymous, identified, link = mixpanel.events
    assert link["event"] == "$create_alias"
    assert link["properties"]["distinct_id"] == anonymous["properties"]["distinct_id"]
    assert link["properties"]["alias"] == identified["properties"]["distinct_id"]


# -- routing and limits ----------------------------------------------------------------------------
def test_each_request_holds_one_endpoint_within_its_limits(
    make_client: Make, mixpanel: FakeMixpanel
) -> None:
    client = make_client([mixpanel.provider()], flush_interval=5, max_queue_events=20_000)
    for i in range(4500):
        assert client.track("page_viewed", {"n": i}, user_id=f"user-{i % 7}")
        if i % 2:
            assert client.identify(f"user-{i}", {"n": i})
        if i % 5 == 0:
            assert client.group("clinic", f"clinic-{i}", {"n": i})
    assert client.flush(30)
    for request in mixpanel.requests:
        assert request.status == 200
        assert len(request.payload) <= 2000
        if request.path == "/import":
            assert all("event" in record for record in request.payload)
        elif request.path == "/engage":
            assert all("$distinct_id" in record for record in request.payload)
        else:
            assert request.path == "/groups"
            assert all("$group_id" in record for record in request.payload)
    assert len(mixpanel.events) == 4500
    assert len(mixpanel.profiles) == 2250
    assert len(mixpanel.group_profiles) == 900
    assert client.metrics().sent == {"mixpanel": 4500 + 2250 + 900}
    assert client.metrics().dropped == {}


def test_oversized_profile_update_is_counted_not_sent() -> None:
    provider = MixpanelProvider("1", "s", project_token="t")
    assert isinstance(provider, RoutedProvider)
    big = OutboundEvent("identify", "$identify", {}, "d", "d", None, 1.0, "0" * 32,
                        traits={"x": "y" * (1024 * 1024)})  # fmt: skip
    routed = provider.encode_routed(big)
    assert routed is not None
    assert routed[0] == "engage"
    assert len(routed[1]) > provider.limits_for("engage").max_event_bytes
    provider.close()


# -- the project token -----------------------------------------------------------------------------
def test_without_a_token_profiles_are_dropped_counted_and_warned_once(
    make_client: Make, mixpanel: FakeMixpanel
) -> None:
    provider = mixpanel.provider(project_token=None)
    assert not provider.profiles_enabled
    client = make_client([provider])
    with capture_logs() as logs:
        client.track("page_viewed", user_id="user-1")
        identify_many(client, 3)
        client.group("clinic", "clinic-1", {"tier": "gold"})
        assert client.flush(5)
    assert {r.path for r in mixpanel.requests} == {"/import"}
    assert client.metrics().dropped == {"unsupported_by_provider": 4}
    assert client.metrics().sent == {"mixpanel": 1}
    warnings = [e for e in logs if e["event"] == "profile_updates_disabled"]
    assert warnings == [{"event": "profile_updates_disabled", "provider": "mixpanel",
                         "reason": "no_project_token", "log_level": "warning"}]  # fmt: skip


def test_token_can_be_required_and_options_are_checked() -> None:
    with pytest.raises(ValueError, match="project_token"):
        MixpanelProvider("1", "s", require_project_token=True)
    with pytest.raises(ValueError, match="project_token"):
        MixpanelProvider("1", "s", project_token="")
    with pytest.raises(ValueError, match="id_merge"):
        MixpanelProvider("1", "s", id_merge="legacy")  # type: ignore[arg-type]
    provider = MixpanelProvider("1", "s", project_token="tok-9f3", require_project_token=True)
    assert provider.profiles_enabled
    assert "tok-9f3" not in repr(provider)
    provider.close()


def test_recording_transport_redacts_the_token(make_client: Make) -> None:
    transport = RecordingTransport()
    client = make_client([MixpanelProvider("42", "mp-secret", project_token="mp-token",
                                           transport=transport)])  # fmt: skip
    client.identify("user-1", {"plan": "gold"})
    assert client.flush(5)
    [request] = transport.requests
    assert request.url == "https://api.mixpanel.com/engage?ip=0&strict=1"
    assert request.payload[0]["$token"] == "[redacted]"
    assert "mp-token" not in str(transport.requests)
    assert client.metrics().sent == {"mixpanel": 1}


# -- failures --------------------------------------------------------------------------------------
def test_engage_partial_failure_drops_only_failed_updates(
    make_client: Make, mixpanel: FakeMixpanel
) -> None:
    mixpanel.reject_events(lambda u: "$set" if (u.get("$set") or {}).get("n") in (2, 5) else None)
    client = make_client([mixpanel.provider()], flush_interval=5)
    identify_many(client, 8)
    assert client.flush(5)
    [request] = mixpanel.requests
    assert request.status == 400
    assert sorted(p["n"] for p in mixpanel.profiles.values()) == [0, 1, 3, 4, 6, 7]
    assert client.metrics().dropped == {"rejected_by_vendor": 2}
    assert client.metrics().sent == {"mixpanel": 6}


def test_engage_429_honours_retry_after(
    make_client: Make, mixpanel: FakeMixpanel, clock: FakeClock
) -> None:
    mixpanel.fail_next(429, retry_after=7, path="/engage")
    client = make_client([mixpanel.provider(sleep=clock.sleep, seed=1)])
    client.track("page_viewed", user_id="user-1")
    identify_many(client, 3)
    assert client.flush(5)
    assert [r.status for r in on(mixpanel, "/engage")] == [429, 200]
    assert clock.sleeps[0] >= 7
    assert len(mixpanel.profiles) == 3
    assert client.metrics().retried == {"mixpanel": 1}
    assert client.metrics().sent == {"mixpanel": 4}


def test_engage_401_on_a_wrong_token_drops_profiles_only(
    make_client: Make, mixpanel: FakeMixpanel, clock: FakeClock
) -> None:
    client = make_client([mixpanel.provider(project_token="wrong", sleep=clock.sleep)])
    client.track("page_viewed", user_id="user-1")
    identify_many(client, 2)
    assert client.flush(5)
    [request] = on(mixpanel, "/engage")
    assert request.status == 401
    assert clock.sleeps == []
    assert client.metrics().dropped == {"unauthorized": 2}
    assert len(mixpanel.events) == 1


def test_engage_413_halves_the_batch(make_client: Make, mixpanel: FakeMixpanel) -> None:
    mixpanel.fail_next(413, path="/engage")
    client = make_client([mixpanel.provider()], flush_interval=5)
    identify_many(client, 10)
    assert client.flush(5)
    assert [r.status for r in mixpanel.requests] == [413, 200, 200]
    assert len(mixpanel.profiles) == 10


def test_groups_5xx_retries_then_gives_up(
    make_client: Make, mixpanel: FakeMixpanel, clock: FakeClock
) -> None:
    mixpanel.fail_next(503, times=10, path="/groups")
    client = make_client(
        [mixpanel.provider(sleep=clock.sleep, seed=3, max_retries=2)], retry_budget=0
    )
    client.track("page_viewed", user_id="user-1")
    client.group("clinic", "clinic-1", {"tier": "gold"})
    assert client.flush(5)
    assert [r.status for r in on(mixpanel, "/groups")] == [503, 503, 503]
    assert len(clock.sleeps) == 2
    assert client.metrics().dropped == {"retries_exhausted": 1}
    assert client.metrics().sent == {"mixpanel": 1}
    err = client.delivery_status()["mixpanel"].last_error
    assert err is not None
    assert err.status_code == 503


def test_engage_retry_after_commit_leaves_the_same_profile(
    make_client: Make, mixpanel: FakeMixpanel, clock: FakeClock
) -> None:
    mixpanel.stall_next(3.0, commit=True, path="/engage")
    client = make_client([mixpanel.provider(timeout=0.2, sleep=clock.sleep)])
    client.identify("user-1", {"plan": "gold"})
    assert client.flush(10)
    assert len(mixpanel.profile_updates) == 2  # applied twice...
    assert list(mixpanel.profiles.values()) == [{"plan": "gold"}]  # ...to the same end ($set)


def test_profile_answers_are_mapped_per_update() -> None:
    answers: list[httpx.Response] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    provider = MixpanelProvider("1", "s", project_token="t",
                                transport=httpx.MockTransport(handler))  # fmt: skip
    event = OutboundEvent("identify", "$identify", {}, "d", "d", None, 1.0, "0" * 32,
                          traits={"a": 1})  # fmt: skip
    routed = provider.encode_routed(event)
    assert routed is not None
    route, part = routed
    answers.append(httpx.Response(200, text="1"))
    assert provider.deliver([part, part], timeout=1, route=route).accepted == [0, 1]
    answers.append(httpx.Response(200, text="0"))
    assert set(provider.deliver([part, part], timeout=1, route=route).rejected) == {0, 1}
    answers.append(httpx.Response(200, json={"status": 1, "error": None}))
    assert provider.deliver([part], timeout=1, route=route).ok
    answers.append(httpx.Response(400, json={"error": "bad", "status": 0}))
    assert provider.deliver([part, part], timeout=1, route=route).split
    with pytest.raises(ValueError, match="route"):
        provider.deliver([part], timeout=1, route="track")
    provider.close()


# -- the fake server's own rules -------------------------------------------------------------------
def test_fake_checks_token_ids_and_operation_as_documented(mixpanel: FakeMixpanel) -> None:
    token = mixpanel.token
    good = {"$token": token, "$distinct_id": "d1", "$set": {"a": 1}}
    bad = [
        {"$distinct_id": "d2", "$set": {}},  # no token
        {"$token": token, "$set": {}},  # no distinct id
        {"$token": token, "$distinct_id": "d3", "$set": {}, "$unset": ["a"]},  # two operations
        {"$token": token, "$distinct_id": "d4", "$set": ["a"]},  # $set is an object
    ]
    with httpx.Client(base_url=mixpanel.url) as http:
        strict = http.post("/engage?ip=0&strict=1", json=[good, *bad])
        assert strict.status_code == 400
        assert [r["index"] for r in strict.json()["failed_records"]] == [1, 2, 3, 4]
        assert http.post("/engage?ip=0", json=bad).json() == 0
        assert http.post("/engage?ip=0", json=[good]).json() == 1
        wrong = http.post("/engage", json=[{**good, "$token": "other"}])
        assert (wrong.status_code, wrong.json()["status"]) == (401, "error")
        group = {"$token": token, "$group_key": "clinic", "$set": {}}
        assert http.post("/groups?strict=1", json=[group]).status_code == 400  # no $group_id
        assert http.post("/engage", json=[]).status_code == 400
        big = [good] * 2001
        assert http.post("/engage", json=big).status_code == 400
    assert mixpanel.profiles == {"d1": {"a": 1}}
    assert mixpanel.geolocated_requests == 1  # the /groups request without ip=0
    mixpanel.fail_next(429, retry_after=3, path="/groups")
    with httpx.Client(base_url=mixpanel.url) as http:
        assert http.post("/engage?ip=0", json=[good]).status_code == 200
        limited = http.post("/groups?ip=0", json=[good])
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "3"
