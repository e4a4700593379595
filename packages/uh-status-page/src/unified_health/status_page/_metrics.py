"""Probe metrics with Prometheus blackbox_exporter names, and uptime percentages.

`ProbeMetrics.observe` records each result; `render` writes the Prometheus text format with
``probe_success``, ``probe_duration_seconds``, ``probe_http_status_code`` and
``probe_ssl_earliest_cert_expiry`` (labels ``probe`` and ``component``), plus the package's own
``uh_status_page_probe_runs_total``, ``uh_status_page_probe_failures_total`` and
``uh_status_page_events_total`` (label ``event``: ``incident_opened``, ``incident_resolved``,
``change_failed``, ``change_skipped_held``, counted by `StatusMonitor`). With the
``prometheus`` extra, `collector` returns a ``prometheus_client`` collector to register.

Uptime over 1 h, 24 h, 7 d and 30 d is the share of successful runs: the last hour from
per-minute counts, longer spans from per-hour counts (so a span's oldest edge is exact to the
hour).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from unified_health.status_page._clock import Clock, SystemClock
from unified_health.status_page._probes import ProbeResult

__all__ = ["UPTIME_SPANS", "ProbeMetrics"]

UPTIME_SPANS = {"1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}
"""The spans `ProbeMetrics.uptime` reports, in seconds."""


class _Probe:
    __slots__ = (
        "component",
        "duration",
        "expiry",
        "failures",
        "hours",
        "minutes",
        "runs",
        "status_code",
        "success",
    )

    def __init__(self, component: str) -> None:
        self.component = component
        self.success = 0
        self.duration = 0.0
        self.status_code: int | None = None
        self.expiry: float | None = None
        self.runs = 0
        self.failures = 0
        self.minutes: OrderedDict[int, list[int]] = OrderedDict()
        self.hours: OrderedDict[int, list[int]] = OrderedDict()


def _bump(buckets: OrderedDict[int, list[int]], key: int, ok: bool, keep: int) -> None:
    bucket = buckets.get(key)
    if bucket is None:
        bucket = buckets[key] = [0, 0]
        while buckets and next(iter(buckets)) <= key - keep:
            buckets.popitem(last=False)
    bucket[0] += int(ok)
    bucket[1] += 1


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class ProbeMetrics:
    """The latest result of each probe, run counters and uptime.

    Args:
        clock: Places results in minute and hour buckets.

    Examples:
        >>> from datetime import UTC, datetime
        >>> metrics = ProbeMetrics()
        >>> metrics.observe(ProbeResult(probe="api", success=True, duration=0.12,
        ...     started_at=datetime(2026, 1, 5, tzinfo=UTC), status_code=200), component="api")
        >>> print(metrics.render().splitlines()[2])
        probe_success{probe="api",component="api"} 1
    """

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._probes: dict[str, _Probe] = {}
        self._events: dict[str, int] = {}
        self._lock = threading.Lock()

    def count(self, event: str, amount: int = 1) -> None:
        """Add to the counter of a monitor event (``uh_status_page_events_total``).

        Examples:
            >>> metrics = ProbeMetrics()
            >>> metrics.count("incident_opened")
            >>> metrics.render().splitlines()[-1]
            'uh_status_page_events_total{event="incident_opened"} 1'
        """
        with self._lock:
            self._events[event] = self._events.get(event, 0) + amount

    def observe(self, result: ProbeResult, *, component: str = "") -> None:
        """Record one result."""
        moment = int(result.started_at.timestamp())
        expires = result.facts.get("expires_at")
        with self._lock:
            entry = self._probes.get(result.probe)
            if entry is None:
                entry = self._probes[result.probe] = _Probe(component)
            entry.success = int(result.success)
            entry.duration = result.duration
            entry.status_code = result.status_code
            if isinstance(expires, str):
                entry.expiry = datetime.fromisoformat(expires).timestamp()
            entry.runs += 1
            entry.failures += int(not result.success)
            _bump(entry.minutes, moment // 60, result.success, 60)
            _bump(entry.hours, moment // 3600, result.success, 30 * 24)

    def uptime(self, probe: str) -> dict[str, float | None]:
        """The share of successful runs (0 to 100) per span; ``None`` where nothing ran.

        Examples:
            >>> ProbeMetrics().uptime("api")
            {'1h': None, '24h': None, '7d': None, '30d': None}
        """
        now = int(self._clock.now().timestamp())
        out: dict[str, float | None] = {}
        with self._lock:
            entry = self._probes.get(probe)
            for span, seconds in UPTIME_SPANS.items():
                if entry is None:
                    out[span] = None
                    continue
                if seconds <= 3600:
                    cut = (now - seconds) // 60
                    buckets = [b for k, b in entry.minutes.items() if k > cut]
                else:
                    cut = (now - seconds) // 3600
                    buckets = [b for k, b in entry.hours.items() if k > cut]
                total = sum(b[1] for b in buckets)
                out[span] = (
                    None if total == 0 else round(100 * sum(b[0] for b in buckets) / total, 3)
                )
        return out

    def _families(self) -> Iterator[tuple[str, str, str, list[tuple[dict[str, str], float]]]]:
        with self._lock:
            items = list(self._probes.items())
            events = dict(self._events)

        def rows(pick: Any) -> list[tuple[dict[str, str], float]]:
            found = []
            for name, entry in items:
                value = pick(entry)
                if value is not None:
                    found.append(({"probe": name, "component": entry.component}, float(value)))
            return found

        yield ("probe_success", "gauge", "Whether the probe succeeded", rows(lambda e: e.success))
        yield (
            "probe_duration_seconds",
            "gauge",
            "Seconds the probe took",
            rows(lambda e: e.duration),
        )
        yield (
            "probe_http_status_code",
            "gauge",
            "HTTP status of the response",
            rows(lambda e: e.status_code),
        )
        yield (
            "probe_ssl_earliest_cert_expiry",
            "gauge",
            "Expiry of the certificate, in epoch seconds",
            rows(lambda e: e.expiry),
        )
        yield ("uh_status_page_probe_runs_total", "counter", "Probe runs", rows(lambda e: e.runs))
        yield (
            "uh_status_page_probe_failures_total",
            "counter",
            "Failed probe runs",
            rows(lambda e: e.failures),
        )
        yield (
            "uh_status_page_events_total",
            "counter",
            "Monitor events",
            [({"event": name}, float(value)) for name, value in sorted(events.items())],
        )

    def render(self) -> str:
        """The metrics in the Prometheus text exposition format."""
        lines: list[str] = []
        for name, kind, description, samples in self._families():
            lines.append(f"# HELP {name} {description}")
            lines.append(f"# TYPE {name} {kind}")
            for labels, value in samples:
                text = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
                shown = int(value) if value.is_integer() else value
                lines.append(f"{name}{{{text}}} {shown}")
        return "\n".join(lines) + "\n"

    def collector(self) -> Any:
        """A ``prometheus_client`` collector of these metrics (needs the ``prometheus`` extra).

        Examples:
            >>> from prometheus_client import CollectorRegistry, generate_latest
            >>> registry = CollectorRegistry()
            >>> registry.register(ProbeMetrics().collector())
            >>> b"probe_success" in generate_latest(registry)
            True
        """
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        metrics = self

        class _Collector:
            def collect(self) -> Iterator[Any]:
                for name, kind, description, samples in metrics._families():
                    family_type = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
                    short = name.removesuffix("_total") if kind == "counter" else name
                    names = ["event"] if name.endswith("events_total") else ["probe", "component"]
                    family = family_type(short, description, labels=names)
                    for labels, value in samples:
                        family.add_metric([labels[n] for n in names], value)
                    yield family

        return _Collector()
