"""`AnalyticsClient.from_url` and `from_env`: stores on one owned Redis client, settings by name."""

from __future__ import annotations

import pytest
import redis

from unified_health.analytics import AnalyticsClient, HmacPseudonymizer, InvalidInputError
from unified_health.analytics.testing import (
    FakeAmplitude,
    FakeClock,
    FakeMixpanel,
    FakePostHog,
    RecordingProvider,
)


def _named(url: str, name: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}client_name={name}"


def _connections(client: redis.Redis, name: str) -> int:
    return sum(c.get("name") == name for c in client.client_list())


@pytest.mark.redis
def test_from_url_keeps_consent_in_redis_and_closes_its_client(
    redis_url: str, redis_client: redis.Redis, redis_prefix: str
) -> None:
    rec = RecordingProvider()
    client = AnalyticsClient.from_url(
        _named(redis_url, redis_prefix), [rec], prefix=redis_prefix, register_atexit=False
    )
    client.set_consent("user-1", {"analytics"})
    keys = [k.decode() for k in redis_client.scan_iter(match="{" + redis_prefix + "}:consent:*")]
    assert len(keys) == 1
    assert client.track("page_viewed", user_id="user-1")
    assert client.flush(5)
    [event] = rec.events
    assert str(event["distinct_id"]).startswith("s_")  # a surrogate kept in Redis
    assert list(redis_client.scan_iter(match="{" + redis_prefix + "}:surrogate:*"))
    assert _connections(redis_client, redis_prefix) >= 1
    assert client.shutdown(timeout=2).lost == 0
    assert _connections(redis_client, redis_prefix) == 0


@pytest.mark.redis
def test_from_url_shares_consent_between_clients(redis_url: str, redis_prefix: str) -> None:
    first = AnalyticsClient.from_url(
        redis_url, [RecordingProvider()], prefix=redis_prefix, register_atexit=False
    )
    second = AnalyticsClient.from_url(
        redis_url, [RecordingProvider()], prefix=redis_prefix, register_atexit=False
    )
    first.set_consent("user-1", {"marketing"})
    assert second.get_consent("user-1") == {"essential", "marketing"}
    first.shutdown(timeout=1)
    second.shutdown(timeout=1)


@pytest.mark.parametrize(
    ("url", "options", "field"),
    [
        ("http://example.invalid", {}, "url"),
        ("redis://127.0.0.1", {"socket_timeout": 0}, "socket_timeout"),
        ("redis://127.0.0.1", {"prefix": ""}, "prefix"),
        ("redis://127.0.0.1", {"max_queue_events": 0}, "max_queue_events"),
    ],
)
def test_from_url_refuses_bad_settings_by_name(
    url: str, options: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        AnalyticsClient.from_url(url, [RecordingProvider()], register_atexit=False, **options)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_from_env_builds_each_configured_provider(
    posthog: FakePostHog, amplitude: FakeAmplitude, mixpanel: FakeMixpanel
) -> None:
    clock = FakeClock()
    env = {
        "UH_ANALYTICS_POSTHOG_API_KEY": posthog.api_key,
        "UH_ANALYTICS_POSTHOG_BASE_URL": posthog.url,
        "UH_ANALYTICS_AMPLITUDE_API_KEY": amplitude.api_key,
        "UH_ANALYTICS_AMPLITUDE_BASE_URL": amplitude.url,
        "UH_ANALYTICS_MIXPANEL_PROJECT_ID": mixpanel.project_id,
        "UH_ANALYTICS_MIXPANEL_SECRET": mixpanel.secret,
        "UH_ANALYTICS_MIXPANEL_SERVICE_ACCOUNT": mixpanel.service_account or "",
        "UH_ANALYTICS_MIXPANEL_TOKEN": mixpanel.token,
        "UH_ANALYTICS_MIXPANEL_BASE_URL": mixpanel.url,
        "UH_ANALYTICS_HMAC_KEYS": "k1:0123456789abcdef0123",
    }
    client = AnalyticsClient.from_env(
        environ=env,
        default_consent="analytics",
        clock=clock,
        sleep=clock.sleep,
        register_atexit=False,
    )
    assert client.track("page_viewed", user_id="user-1")
    assert client.flush(5)
    client.shutdown(timeout=2)
    expected = HmacPseudonymizer.from_env(environ=env).pseudonymize("user-1")
    assert [e["distinct_id"] for e in posthog.events] == [expected]
    assert len(amplitude.events) == 1
    assert len(mixpanel.events) == 1


def test_from_env_without_redis_or_keys_uses_memory_and_surrogates() -> None:
    rec = RecordingProvider()
    client = AnalyticsClient.from_env(
        environ={}, providers=[rec], default_consent="analytics", register_atexit=False
    )
    assert client.track("page_viewed", user_id="user-1")
    assert client.flush(5)
    client.shutdown(timeout=1)
    assert str(rec.events[0]["distinct_id"]).startswith("s_")


@pytest.mark.redis
def test_from_env_with_a_redis_url_builds_the_redis_stores(
    redis_url: str, redis_client: redis.Redis, redis_prefix: str
) -> None:
    client = AnalyticsClient.from_env(
        environ={"UH_ANALYTICS_REDIS_URL": redis_url},
        providers=[RecordingProvider()],
        prefix=redis_prefix,
        register_atexit=False,
    )
    client.set_consent("user-1", {"analytics"})
    client.shutdown(timeout=1)
    assert list(redis_client.scan_iter(match="{" + redis_prefix + "}:consent:*"))


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({}, "providers"),
        ({"UH_ANALYTICS_MIXPANEL_TOKEN": "tok"}, "UH_ANALYTICS_MIXPANEL_PROJECT_ID"),
        ({"UH_ANALYTICS_MIXPANEL_PROJECT_ID": "1"}, "UH_ANALYTICS_MIXPANEL_SECRET"),
        ({"UH_ANALYTICS_POSTHOG_REGION": "eu"}, "UH_ANALYTICS_POSTHOG_API_KEY"),
        ({"UH_ANALYTICS_AMPLITUDE_BASE_URL": "http://x"}, "UH_ANALYTICS_AMPLITUDE_API_KEY"),
        (
            {"UH_ANALYTICS_POSTHOG_API_KEY": "phc", "UH_ANALYTICS_POSTHOG_REGION": "mars"},
            "UH_ANALYTICS_POSTHOG_REGION",
        ),
        (
            {"UH_ANALYTICS_POSTHOG_API_KEY": "phc", "UH_ANALYTICS_HMAC_KEYS": "k1:short"},
            "UH_ANALYTICS_HMAC_KEYS",
        ),
        (
            {"UH_ANALYTICS_POSTHOG_API_KEY": "phc", "UH_ANALYTICS_HMAC_KEYS": "no-colon"},
            "UH_ANALYTICS_HMAC_KEYS",
        ),
        (
            {"UH_ANALYTICS_POSTHOG_API_KEY": "phc", "UH_ANALYTICS_REDIS_URL": "http://x"},
            "UH_ANALYTICS_REDIS_URL",
        ),
    ],
)
def test_from_env_names_the_variable_and_never_its_value(env: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        AnalyticsClient.from_env(environ=env, register_atexit=False)
    assert caught.value.field == field
    for value in env.values():
        if len(value) > 3:
            assert value not in str(caught.value)
