"""Providers over real HTTP against fake vendor servers that enforce the vendors' rules."""

from __future__ import annotations

import base64
import gzip
import json
import threading
from collections.abc import Callable

import httpx
import pytest

from unified_health.analytics import (
    AmplitudeProvider,
    AnalyticsClient,
    MixpanelProvider,
    PostHogProvider,
    Sanitizer,
)
from unified_health.analytics.providers import OutboundEvent
from unified_health.analytics.testing import FakeAmplitude, FakeClock, FakeMixpanel, FakePostHog

Make = Callable[..., AnalyticsClient]


def track_many(client: AnalyticsClient, count: int, **extra: object) -> None:
    for i in range(count):
        assert client.track("page_viewed", {"n": i, **extra}, user_id=f"user-{i % 7}")


# -- hosts and regions -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("provider", "url"),
    [
        (lambda: MixpanelProvider("1", "s"), "https://api.mixpanel.com"),
        (lambda: MixpanelProvider("1", "s", region="eu"), "https://api-eu.mixpanel.com"),
        (lambda: MixpanelProvider("1", "s", region="in"), "https://api-in.mixpanel.com"),
        (lambda: AmplitudeProvider("k"), "https://api2.amplitude.com"),
        (lambda: AmplitudeProvider("k", region="eu"), "https://api.eu.amplitude.com"),
        (lambda: PostHogProvider("k"), "https://us.i.posthog.com"),
        (lambda: PostHogProvider("k", region="eu"), "https://eu.i.posthog.com"),
    ],
)
def test_region_selects_host(provider: Callable[[], PostHogProvider], url: str) -> None:
    p = provider()
    assert p.base_url == url
    p.close()


def test_amplitude_has_no_india_region() -> None:
    with pytest.raises(ValueError, match="region"):
        AmplitudeProvider("k", region="in")


# -- happy paths and payload shapes ------------------------------------------------------------
def test_mixpanel_import_shape_and_auth(make_client: Make, mixpanel: FakeMixpanel) -> None:
    client = make_client([mixpanel.provider()])
    client.track("appointment_booked", {"specialty": "cardiology"}, user_id="user-1")
    assert client.flush(5)
    [request] = mixpanel.requests
    assert request.status == 200
    assert request.query == {"strict": ["1"], "project_id": [mixpanel.project_id]}
    assert request.headers["content-encoding"] == "gzip"
    creds = base64.b64encode(b"sa.user:mp-service-secret").decode()
    assert request.headers["authorization"] == f"Basic {creds}"
    [event] = mixpanel.events
    props = event["properties"]
    assert event["event"] == "appointment_booked"
    assert props["specialty"] == "cardiology"
    assert props["distinct_id"].startswith("k1_")
    assert props["$user_id"] == props["distinct_id"]
    assert len(props["$insert_id"]) == 32
    assert isinstance(props["time"], int)
    assert "ip" not in props
    assert "$ip" not in props


def test_mixpanel_project_secret_auth() -> None:
    transport_seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        transport_seen.append(request)
        return httpx.Response(200, json={"code": 200, "num_records_imported": 1, "status": "OK"})

    p = MixpanelProvider("9", "proj-secret", transport=httpx.MockTransport(handler))
    event = OutboundEvent("track", "x", {}, "d", "d", None, 1.0, "i" * 32)
    part = p.encode(event)
    assert part is not None
    assert p.deliver([part], timeout=1).ok
    auth = transport_seen[0].headers["authorization"]
    assert base64.b64decode(auth.split()[1]) == b"proj-secret:"
    p.close()


def test_amplitude_shape(make_client: Make, amplitude: FakeAmplitude) -> None:
    client = make_client([amplitude.provider(min_id_length=5)])
    client.track("appointment_booked", {"specialty": "cardiology"}, user_id="user-1")
    client.track("page_viewed", anonymous_id="visitor-1")
    client.identify("user-1", {"plan": "gold"})
    client.alias("visitor-1", "user-1")
    assert client.flush(5)
    request = amplitude.requests[0]
    assert request.path == "/2/httpapi"
    assert "content-encoding" not in request.headers  # Amplitude documents plain JSON bodies
    assert request.payload["api_key"] == amplitude.api_key
    assert request.payload["options"] == {"min_id_length": 5}
    tracked, anonymous, identify = amplitude.events
    assert tracked["event_type"] == "appointment_booked"
    assert tracked["event_properties"] == {"specialty": "cardiology"}
    assert tracked["user_id"].startswith("k1_")
    assert "ip" not in tracked
    assert anonymous["device_id"].startswith("k1_")
    assert "user_id" not in anonymous
    assert identify["event_type"] == "$identify"
    assert identify["user_properties"] == {"$set": {"plan": "gold"}}
    assert client.metrics().dropped == {"unsupported_by_provider": 1}  # alias


def test_fake_amplitude_refuses_a_compressed_body(amplitude: FakeAmplitude) -> None:
    body = gzip.compress(json.dumps({"api_key": amplitude.api_key, "events": []}).encode())
    response = httpx.post(
        amplitude.url + "/2/httpapi", content=body, headers={"Content-Encoding": "gzip"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid JSON request body"


def test_amplitude_batch_endpoint(make_client: Make, amplitude: FakeAmplitude) -> None:
    client = make_client([amplitude.provider(endpoint="batch")])
    track_many(client, 3)
    assert client.flush(5)
    assert {r.path for r in amplitude.requests} == {"/batch"}
    assert len(amplitude.events) == 3


def test_posthog_shape(make_client: Make, posthog: FakePostHog) -> None:
    client = make_client([posthog.provider()])
    client.track("appointment_booked", {"specialty": "cardiology"}, user_id="user-1")
    client.track("page_viewed", anonymous_id="visitor-1", groups={"clinic": "c-1"})
    client.identify("user-1", {"plan": "gold"})
    client.alias("visitor-1", "user-1")
    client.group("clinic", "c-1", {"tier": "gold"}, user_id="user-1")
    assert client.flush(5)
    assert posthog.requests[0].path == "/batch/"
    tracked, anonymous, identify, alias, group = posthog.events
    assert tracked["properties"]["$geoip_disable"] is True
    assert "$ip" not in tracked["properties"]
    assert tracked["distinct_id"].startswith("k1_")
    assert len(tracked["uuid"]) == 36
    assert anonymous["properties"]["$process_person_profile"] is False
    assert anonymous["properties"]["$groups"]["clinic"].startswith("k1_")
    assert identify["event"] == "$identify"
    assert identify["properties"]["$set"] == {"plan": "gold"}
    assert alias["event"] == "$create_alias"
    assert alias["properties"]["alias"] == anonymous["distinct_id"]
    assert group["event"] == "$groupidentify"
    assert group["properties"]["$group_key"] == anonymous["properties"]["$groups"]["clinic"]


# -- limits --------------------------------------------------------------------------------------
def test_mixpanel_batches_respect_the_2000_event_cap(
    make_client: Make, mixpanel: FakeMixpanel
) -> None:
    client = make_client([mixpanel.provider()], flush_interval=5)
    track_many(client, 4500)
    assert client.flush(20)
    sizes = [len(r.payload) for r in mixpanel.requests]
    assert max(sizes) <= 2000
    assert sum(sizes) == 4500
    assert all(r.status == 200 for r in mixpanel.requests)


def test_amplitude_batches_respect_the_1mb_cap(make_client: Make, amplitude: FakeAmplitude) -> None:
    client = make_client([amplitude.provider()], max_string_length=4000, flush_interval=5,
                         sanitizer=Sanitizer(free_text_keys=["body"]))  # fmt: skip
    text = "lorem ipsum dolor sit amet " * 100  # ~2.7 KB of harmless text
    track_many(client, 800, body=text)
    assert client.flush(20)
    assert all(r.raw_size <= 1024 * 1024 and r.status == 200 for r in amplitude.requests)
    assert len(amplitude.requests) >= 3
    assert len(amplitude.events) == 800


# -- failures ------------------------------------------------------------------------------------
def test_retry_after_is_honoured_on_429(
    make_client: Make, posthog: FakePostHog, clock: FakeClock
) -> None:
    posthog.fail_next(429, retry_after=7)
    client = make_client([posthog.provider(sleep=clock.sleep, seed=1)])
    track_many(client, 5)
    assert client.flush(5)
    assert clock.sleeps
    assert clock.sleeps[0] >= 7
    assert len(posthog.events) == 5
    m = client.metrics()
    assert m.retried == {"posthog": 1}
    assert m.sent == {"posthog": 5}


def test_shutdown_never_cuts_a_retry_after_short(
    make_client: Make, posthog: FakePostHog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shutdown wakes a sender in backoff; the vendor's Retry-After still holds.

    The wait would end past the deadline, so the batch is given up, not retried early.
    """
    posthog.fail_next(429, retry_after=60)
    provider = posthog.provider()
    in_backoff = threading.Event()
    real_sleep = provider.sleep

    def sleep(seconds: float) -> None:
        in_backoff.set()
        real_sleep(seconds)

    monkeypatch.setattr(provider, "sleep", sleep)
    client = make_client([provider])
    client.track("page_viewed", user_id="user-1")
    assert in_backoff.wait(5)
    report = client.shutdown(timeout=2)
    assert len(posthog.requests) == 1
    assert report.undelivered == {"posthog": 1}
    assert client.metrics().dropped == {"shutdown_deadline": 1}


def test_shutdown_report_counts_only_what_the_shutdown_could_not_deliver(
    make_client: Make, posthog: FakePostHog
) -> None:
    """Events lost before shutdown() are in metrics(), not in its report."""
    posthog.fail_next(503)
    client = make_client([posthog.provider(max_retries=0)], retry_budget=0)
    client.track("page_viewed", user_id="user-1")
    assert client.flush(5)
    assert client.metrics().dropped == {"retries_exhausted": 1}
    client.track("page_viewed", user_id="user-1")
    report = client.shutdown(timeout=5)
    assert report.delivered == {"posthog": 1}
    assert report.undelivered == {"posthog": 0}
    assert report.lost == 0


def test_5xx_retries_with_growing_backoff_then_gives_up(
    make_client: Make, amplitude: FakeAmplitude, clock: FakeClock
) -> None:
    amplitude.fail_next(503, times=10)
    client = make_client(
        [amplitude.provider(sleep=clock.sleep, seed=2, max_retries=3)], retry_budget=0
    )
    track_many(client, 4)
    assert client.flush(5)
    assert len(clock.sleeps) == 3
    assert clock.sleeps[0] < clock.sleeps[2]
    m = client.metrics()
    assert m.dropped == {"retries_exhausted": 4}
    err = client.delivery_status()["amplitude"].last_error
    assert err is not None
    assert (err.status_code, err.attempts, err.cause) == (503, 4, "http_status")


def test_401_drops_without_retry(
    make_client: Make, mixpanel: FakeMixpanel, clock: FakeClock
) -> None:
    bad = MixpanelProvider(mixpanel.project_id, "wrong", service_account="sa.user",
                           base_url=mixpanel.url, sleep=clock.sleep)  # fmt: skip
    client = make_client([bad])
    track_many(client, 3)
    assert client.flush(5)
    assert client.metrics().dropped == {"unauthorized": 3}
    assert clock.sleeps == []
    assert len(mixpanel.requests) == 1


def test_413_halves_the_batch(make_client: Make, posthog: FakePostHog) -> None:
    posthog.fail_next(413)
    client = make_client([posthog.provider()])
    track_many(client, 10)
    assert client.flush(5)
    assert [r.status for r in posthog.requests] == [413, 200, 200]
    assert len(posthog.events) == 10


def test_mixpanel_partial_failure_drops_only_failed_records(
    make_client: Make, mixpanel: FakeMixpanel
) -> None:
    mixpanel.reject_events(lambda e: "properties.n" if e["properties"].get("n") in (2, 5) else None)
    client = make_client([mixpanel.provider()], flush_interval=5)
    track_many(client, 8)
    assert client.flush(5)
    assert len(mixpanel.requests) == 1
    assert mixpanel.requests[0].status == 400
    assert sorted(e["properties"]["n"] for e in mixpanel.events) == [0, 1, 3, 4, 6, 7]
    assert client.metrics().dropped == {"rejected_by_vendor": 2}
    assert client.metrics().sent == {"mixpanel": 6}


def test_mixpanel_failed_records_outside_the_batch_are_not_trusted(
    make_client: Make, mixpanel: FakeMixpanel
) -> None:
    """A 400 whose ``failed_records`` name no event of the request is handled by halving."""
    failed = [{"index": 7, "field": "properties", "message": "invalid"}]
    body = {"code": 400, "status": "Bad Request", "failed_records": failed}
    mixpanel.fail_next(400, body=body)
    client = make_client([mixpanel.provider()], flush_interval=5)
    track_many(client, 2)
    assert client.flush(5)
    assert len(mixpanel.events) == 2
    assert client.metrics().dropped == {}
    assert client.metrics().sent == {"mixpanel": 2}


def test_amplitude_partial_failure_resends_the_valid_events(
    make_client: Make, amplitude: FakeAmplitude, clock: FakeClock
) -> None:
    amplitude.reject_events(
        lambda e: "event_properties" if e["event_properties"]["n"] == 3 else None
    )
    client = make_client([amplitude.provider(sleep=clock.sleep)], flush_interval=5)
    track_many(client, 6)
    assert client.flush(5)
    assert [r.status for r in amplitude.requests] == [400, 200]
    assert sorted(e["event_properties"]["n"] for e in amplitude.events) == [0, 1, 2, 4, 5]
    assert clock.sleeps == []
    assert client.metrics().dropped == {"rejected_by_vendor": 1}


def test_posthog_bad_event_is_isolated_by_halving(make_client: Make, posthog: FakePostHog) -> None:
    posthog.reject_events(lambda e: "properties" if e["properties"].get("n") == 6 else None)
    client = make_client([posthog.provider()], flush_interval=5)
    track_many(client, 8)
    assert client.flush(5)
    assert sorted(e["properties"]["n"] for e in posthog.events) == [0, 1, 2, 3, 4, 5, 7]
    assert client.metrics().dropped == {"rejected_by_vendor": 1}


def test_stalled_vendor_times_out_and_the_retry_succeeds(
    make_client: Make, posthog: FakePostHog, clock: FakeClock
) -> None:
    posthog.stall_next(3.0)
    client = make_client([posthog.provider(timeout=0.2, sleep=clock.sleep)])
    track_many(client, 3)
    assert client.flush(10)
    assert len(posthog.events) == 3
    assert client.metrics().retried == {"posthog": 1}


def test_retry_after_commit_never_double_counts(
    make_client: Make, mixpanel: FakeMixpanel, clock: FakeClock
) -> None:
    mixpanel.stall_next(3.0, commit=True)
    client = make_client([mixpanel.provider(timeout=0.2, sleep=clock.sleep)])
    track_many(client, 5)
    assert client.flush(10)
    assert mixpanel.duplicates == 5  # the vendor saw every event twice...
    assert len(mixpanel.events) == 5  # ...and counted each once, thanks to $insert_id


def test_connection_refused_is_retried(make_client: Make, clock: FakeClock) -> None:
    vendor = FakePostHog()
    url = vendor.url
    vendor.stop()
    client = make_client([PostHogProvider("phc_test_key", base_url=url, sleep=clock.sleep,
                                          max_retries=2)], retry_budget=0)  # fmt: skip
    track_many(client, 2)
    assert client.flush(5)
    assert client.metrics().dropped == {"retries_exhausted": 2}
    err = client.delivery_status()["posthog"].last_error
    assert err is not None
    assert (err.cause, err.error_class, err.status_code) == ("connect", "ConnectError", None)


def test_recorded_payload_is_gzip_json() -> None:
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(gzip.decompress(request.read()))
        return httpx.Response(200, json={"status": 1})

    p = PostHogProvider("phc_k", transport=httpx.MockTransport(handler))
    part = p.encode(OutboundEvent("track", "x", {"a": 1}, "d", "d", None, 1.0, "0" * 32))
    assert part is not None
    assert p.deliver([part], timeout=1).ok
    body = json.loads(seen[0])
    assert body["api_key"] == "phc_k"
    assert body["batch"][0]["properties"]["a"] == 1
    p.close()


def test_injected_http_client_is_left_open(posthog: FakePostHog, make_client: Make) -> None:
    http = httpx.Client()
    client = make_client([posthog.provider(http_client=http)])
    client.track("page_viewed", user_id="u-1")
    client.shutdown(timeout=5)
    assert not http.is_closed
    http.close()
    assert len(posthog.events) == 1
