"""A consent withdrawal never reads the spill store on the caller's thread."""

from __future__ import annotations

import threading
from collections.abc import Callable

from unified_health.analytics import AnalyticsClient, InMemorySpillStore
from unified_health.analytics.testing import FakeClock, FakePostHog

Make = Callable[..., AnalyticsClient]


class SlowSpill(InMemorySpillStore):
    """A spill store whose purge waits until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.callers: list[str] = []

    def remove_if(self, lane: str, predicate: Callable[[bytes], bool]) -> int:
        self.callers.append(threading.current_thread().name)
        assert self.release.wait(10)
        return super().remove_if(lane, predicate)


def test_set_consent_returns_before_the_spill_is_purged(
    make_client: Make, clock: FakeClock
) -> None:
    spill = SlowSpill()
    with FakePostHog() as down:
        down.fail_next(503, times=100)
        client = make_client(
            [down.provider(sleep=clock.sleep, max_retries=0)], spill_store=spill, clock=clock
        )
        for i in range(5):
            client.track("page_viewed", {"n": i}, user_id="user-1")
        client.track("page_viewed", {"n": 9}, user_id="user-2")
        assert client.flush(5)
        assert spill.size("posthog") == 6
        client.set_consent("user-1", {"essential"})  # returns while the purge waits
        assert spill.size("posthog") == 6
        assert client.flush(0.05) is False  # the purge is still pending
        spill.release.set()
        assert client.flush(5)
    assert spill.size("posthog") == 1
    assert spill.callers == ["uh-analytics-purge"]
    assert client.metrics().dropped.get("consent_withdrawn") == 5
