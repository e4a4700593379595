"""The injected clock, the family's `FakeClock`, and a logger that is silent until configured."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest

from unified_health.analytics import Clock, InvalidInputError, SystemClock
from unified_health.analytics.testing import FakeClock, capture_logs


def test_system_clock_is_aware_utc_and_monotonic() -> None:
    clock = SystemClock()
    assert isinstance(clock, Clock)
    assert clock.now().utcoffset() == timedelta(0)
    first = clock.monotonic()
    assert clock.monotonic() >= first


def test_fake_clock_moves_only_when_told() -> None:
    clock = FakeClock(datetime(2026, 3, 8, 1, 0, tzinfo=timezone(timedelta(hours=-5))))
    assert isinstance(clock, Clock)
    assert clock.now() == datetime(2026, 3, 8, 6, 0, tzinfo=UTC)
    start = clock.monotonic()
    clock.advance(90)
    clock.sleep(10)
    assert clock.monotonic() - start == 100
    assert clock.now() == datetime(2026, 3, 8, 6, 1, 40, tzinfo=UTC)
    assert clock.sleeps == [10]


@pytest.mark.parametrize("start", [datetime(2026, 1, 1), "2026-01-01T00:00:00Z"])
def test_fake_clock_refuses_a_naive_start(start: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        FakeClock(start)  # type: ignore[arg-type]
    assert caught.value.field == "start"


def test_fake_clock_refuses_to_go_back() -> None:
    with pytest.raises(InvalidInputError):
        FakeClock().advance(-1)


_EMIT = (
    "from unified_health.analytics._logging import logger; "
    "logger.warning('spill_failed', provider='posthog'); logger.debug('detail', n=1)"
)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )


def test_the_logger_prints_nothing_until_the_host_configures_logging() -> None:
    result = _run(_EMIT)
    assert (result.stdout, result.stderr) == ("", "")


def test_configured_logging_receives_the_events_on_the_package_logger() -> None:
    configure = (
        "import logging, sys; logging.basicConfig(stream=sys.stdout, level=logging.INFO, "
        "format='%(name)s %(levelname)s %(message)s'); "
    )
    result = _run(configure + _EMIT)
    expected = "unified_health.analytics WARNING spill_failed provider=posthog\n"
    assert result.stdout == expected
    assert result.stderr == ""


def test_capture_logs_sees_every_level() -> None:
    from unified_health.analytics._logging import logger

    with capture_logs() as events:
        logger.debug("detail", n=1)
        logger.warning("spill_failed", provider="posthog")
    assert events == [
        {"event": "detail", "n": 1, "log_level": "debug"},
        {"event": "spill_failed", "provider": "posthog", "log_level": "warning"},
    ]


def test_the_client_takes_its_time_from_the_clock() -> None:
    from unified_health.analytics import AnalyticsClient
    from unified_health.analytics.testing import RecordingProvider

    clock = FakeClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    rec = RecordingProvider()
    client = AnalyticsClient([rec], default_consent="analytics", clock=clock, register_atexit=False)
    assert client.track("page_viewed", user_id="user-1")
    assert client.flush(timeout=5)
    client.shutdown(timeout=1)
    [event] = rec.events
    assert event["timestamp"] == datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()


def test_the_client_refuses_a_clock_that_is_not_one() -> None:
    from unified_health.analytics import AnalyticsClient
    from unified_health.analytics.testing import RecordingProvider

    with pytest.raises(InvalidInputError) as caught:
        AnalyticsClient(
            [RecordingProvider()],
            clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),  # type: ignore[arg-type]
            register_atexit=False,
        )
    assert caught.value.field == "clock"


def test_no_module_but_the_clock_reads_the_system_time() -> None:
    import ast
    from pathlib import Path

    import unified_health.analytics as analytics

    banned = {
        ("time", "time"),
        ("time", "monotonic"),
        ("time", "perf_counter"),
        ("datetime", "now"),
        ("datetime", "utcnow"),
        ("date", "today"),
    }
    root = Path(analytics.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "_clock.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
                if (name, node.func.attr) in banned:
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == []
