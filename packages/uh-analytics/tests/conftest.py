"""Fixtures shared by the uh-analytics tests (the testkit adds Redis, loopback and clock ones)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from unified_health.analytics import AnalyticsClient, HmacPseudonymizer
from unified_health.analytics.providers import Provider
from unified_health.analytics.testing import FakeAmplitude, FakeClock, FakeMixpanel, FakePostHog

KEY = b"test-key-0123456789abcdef-0123456"


@pytest.fixture
def pseudonymizer() -> HmacPseudonymizer:
    return HmacPseudonymizer({"k1": KEY})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(
    pseudonymizer: HmacPseudonymizer,
) -> Iterator[Callable[..., AnalyticsClient]]:
    """Build clients that are shut down after the test (no exit hook)."""
    made: list[AnalyticsClient] = []

    def make(providers: list[Provider], **options: Any) -> AnalyticsClient:
        options.setdefault("pseudonymizer", pseudonymizer)
        options.setdefault("default_consent", "analytics")
        options.setdefault("register_atexit", False)
        options.setdefault("flush_interval", 0.05)
        client = AnalyticsClient(providers, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.shutdown(timeout=2)


@pytest.fixture
def posthog() -> Iterator[FakePostHog]:
    with FakePostHog() as vendor:
        yield vendor


@pytest.fixture
def mixpanel() -> Iterator[FakeMixpanel]:
    with FakeMixpanel() as vendor:
        yield vendor


@pytest.fixture
def amplitude() -> Iterator[FakeAmplitude]:
    with FakeAmplitude() as vendor:
        yield vendor
