"""`ProbeScheduler`: each probe every ``interval`` seconds, with jitter and bounded concurrency.

Each probe's runs start ``interval`` seconds apart, measured from start to start, so a run that
times out does not push the next one back. The first run of each probe is offset by a random
fraction of its interval (``jitter``) so that a thousand probes with the same interval do not fire
at once. At most ``max_concurrency`` runs are in flight; a probe still running when it is due
again is not started twice. With ``max_concurrency=1`` probes run inline in `tick`, which makes
a virtual clock exact.
"""

from __future__ import annotations

import concurrent.futures
import random
import threading
from collections.abc import Callable, Sequence

from unified_health.status_page._clock import Clock, SystemClock
from unified_health.status_page._errors import InvalidInputError
from unified_health.status_page._logging import logger
from unified_health.status_page._probes import Probe, ProbeResult

__all__ = ["ProbeScheduler"]


class ProbeScheduler:
    """Decides when each probe runs and runs it.

    Args:
        probes: The probes (names must be unique).
        run: Runs one probe (`ProbeRunner.run`, or a fake in tests).
        clock: The clock.
        max_concurrency: Runs in flight at once (1: inline, deterministic).
        jitter: Fraction of its interval by which each probe's first run is delayed at random.
        seed: Seed of the jitter.

    Raises:
        InvalidInputError: Duplicate probe names or bad settings.

    Examples:
        >>> from datetime import UTC, datetime
        >>> from unified_health.status_page import TcpProbe
        >>> from unified_health.status_page.testing import FakeClock
        >>> clock = FakeClock()
        >>> def fake_run(probe):
        ...     return ProbeResult(probe=probe.name, success=True, started_at=clock.now(),
        ...                        duration=0.0)
        >>> scheduler = ProbeScheduler([TcpProbe(name="db", host="h", port=1)], fake_run,
        ...                            clock=clock, max_concurrency=1, jitter=0)
        >>> [r.probe for r in scheduler.tick()], scheduler.seconds_until_next()
        (['db'], 30.0)
    """

    def __init__(
        self,
        probes: Sequence[Probe],
        run: Callable[[Probe], ProbeResult],
        *,
        clock: Clock | None = None,
        max_concurrency: int = 16,
        jitter: float = 0.1,
        seed: int | None = None,
    ) -> None:
        names = [p.name for p in probes]
        if len(set(names)) != len(names):
            raise InvalidInputError("probes", "names must be unique")
        given: object = max_concurrency
        if isinstance(given, bool) or not isinstance(given, int) or given < 1:
            raise InvalidInputError("max_concurrency", "must be an int >= 1")
        if isinstance(jitter, bool) or not 0 <= jitter <= 1:
            raise InvalidInputError("jitter", "must be a fraction from 0 to 1")
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._run = run
        self._probes = {p.name: p for p in probes}
        rng = random.Random(seed)  # noqa: S311 - spreading start times, not secrets
        start = self._clock.monotonic()
        self._due = {p.name: start + rng.uniform(0, jitter * p.interval) for p in probes}
        self._inline = max_concurrency == 1
        self._pool = (
            None
            if self._inline
            else concurrent.futures.ThreadPoolExecutor(
                max_workers=max_concurrency, thread_name_prefix="uh-probe"
            )
        )
        self._capacity = max_concurrency
        self._in_flight: dict[str, concurrent.futures.Future[ProbeResult]] = {}
        self._lock = threading.Lock()

    @property
    def probes(self) -> list[Probe]:
        """The scheduled probes."""
        return list(self._probes.values())

    def _safe_run(self, probe: Probe) -> ProbeResult | None:
        try:
            return self._run(probe)
        except Exception as exc:  # noqa: BLE001 - a probe never takes the scheduler down
            logger.warning("probe_crashed", probe=probe.name, error_class=type(exc).__name__)
            return None

    def tick(self) -> list[ProbeResult]:
        """Collect finished runs and start the probes that are due.

        Returns:
            The results that finished since the last tick (inline: the runs made now).
        """
        results: list[ProbeResult] = []
        with self._lock:
            for name, future in list(self._in_flight.items()):
                if future.done():
                    del self._in_flight[name]
                    outcome = future.result()
                    if outcome is not None:
                        results.append(outcome)
            now = self._clock.monotonic()
            due = sorted(
                (when, name)
                for name, when in self._due.items()
                if when <= now and name not in self._in_flight
            )
            for when, name in due:
                if not self._inline and len(self._in_flight) >= self._capacity:
                    break
                probe = self._probes[name]
                following = when + probe.interval
                while following <= now:  # skipped slots are not made up in a burst
                    following += probe.interval
                self._due[name] = following
                if self._pool is None:
                    ran = self._safe_run(probe)
                    if ran is not None:
                        results.append(ran)
                    now = self._clock.monotonic()
                else:
                    self._in_flight[name] = self._pool.submit(self._safe_run, probe)  # type: ignore[arg-type]
        return results

    def seconds_until_next(self) -> float:
        """Seconds until the next probe is due (0 if one is due now)."""
        with self._lock:
            if not self._due:
                return 1.0
            return max(min(self._due.values()) - self._clock.monotonic(), 0.0)

    def close(self) -> None:
        """Stop the worker threads (runs in flight finish)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
