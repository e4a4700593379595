"""uh-status-page: a token's request budget and input refused before any request."""

from __future__ import annotations

from collections.abc import Callable

from unified_health.status_page import InvalidInputError, RateLimiter, StatusPageClient
from unified_health.status_page.testing import FakeClock


def run(say: Callable[[str], None]) -> None:
    """Show the rate limiter and the client's input checks, with no network."""
    clock = FakeClock()
    limiter = RateLimiter("token-demo", limit=60, window=60.0, clock=clock, sleep=clock.sleep)
    for _ in range(61):
        limiter.acquire()
    say(f"61 requests on one token: the 61st waited {sum(clock.sleeps):.1f} s (60 per minute)")
    status = StatusPageClient("api-key", "page-id", component_ids={"api": "c-api"})
    try:
        status.create_incident("API slow", components={"api": "very_slow"})
    except InvalidInputError as exc:
        say(f"an invalid component status is refused before any request: {exc}")
    status.close()
