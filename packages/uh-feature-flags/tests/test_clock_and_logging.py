"""The injected clock, the family's `FakeClock`, and a logger that is silent until configured."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest

from unified_health.feature_flags import Clock, InvalidInputError, SystemClock
from unified_health.feature_flags.testing import FakeClock, capture_logs


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
    "from unified_health.feature_flags._logging import logger; "
    "logger.warning('store_call_failed', operation='get'); logger.debug('detail', n=1)"
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
    expected = "unified_health.feature_flags WARNING store_call_failed operation=get\n"
    assert result.stdout == expected
    assert result.stderr == ""


def test_capture_logs_sees_every_level() -> None:
    from unified_health.feature_flags._logging import logger

    with capture_logs() as events:
        logger.debug("detail", n=1)
        logger.warning("store_call_failed", operation="get")
    assert events == [
        {"event": "detail", "n": 1, "log_level": "debug"},
        {"event": "store_call_failed", "operation": "get", "log_level": "warning"},
    ]
