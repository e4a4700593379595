"""The monitor's configuration file (TOML) and what it builds.

Secrets never live in the file: the Statuspage key comes from ``UH_STATUS_PAGE_API_KEY``, the
PagerDuty routing key from ``UH_STATUS_PAGE_PAGERDUTY_ROUTING_KEY`` and a Redis URL with a
password from ``UH_STATUS_PAGE_REDIS_URL`` (the file's ``store.redis_url`` is used otherwise).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

from unified_health.status_page._alerts import PagerDutyAlerter
from unified_health.status_page._client import StatusPage, StatusPageClient
from unified_health.status_page._clock import Clock, SystemClock
from unified_health.status_page._errors import InvalidInputError
from unified_health.status_page._metrics import ProbeMetrics
from unified_health.status_page._monitor import MaintenanceWindow, StatusMonitor, Thresholds
from unified_health.status_page._probes import Probe, ProbeRunner, parse_probe
from unified_health.status_page._scheduler import ProbeScheduler
from unified_health.status_page._selfhosted import SelfHostedStatusPage
from unified_health.status_page.stores._memory import InMemoryStatusPageStore
from unified_health.status_page.stores._protocol import StatusPageStore

__all__ = ["MonitorSetup", "build_monitor", "load_config"]

_SECTIONS = {"page", "store", "monitor", "pagerduty", "metrics", "probes", "windows"}


def load_config(path: str | Path) -> dict[str, Any]:
    """Read and check the shape of a TOML configuration file.

    Raises:
        InvalidInputError: The file is missing, not TOML, or has unknown sections.
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError:
        raise InvalidInputError("config", "file cannot be read") from None
    except tomllib.TOMLDecodeError:
        raise InvalidInputError("config", "is not valid TOML") from None
    unknown = set(data) - _SECTIONS
    if unknown:
        raise InvalidInputError(sorted(unknown)[0], "unknown section")
    return data


@dataclass
class MonitorSetup:
    """Everything `build_monitor` made; `close` releases it."""

    page: StatusPage
    monitor: StatusMonitor
    scheduler: ProbeScheduler
    runner: ProbeRunner
    metrics: ProbeMetrics
    metrics_port: int | None
    closers: list[Any] = field(default_factory=list)

    def close(self) -> None:
        """Stop the scheduler and close clients."""
        self.scheduler.close()
        self.runner.close()
        for closer in self.closers:
            closer()


def _section(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise InvalidInputError(name, "must be a table")
    return value


def _window(item: Any, index: int) -> MaintenanceWindow:
    if not isinstance(item, dict):
        raise InvalidInputError(f"windows.{index}", "must be a table")
    fields = dict(item)
    for key in ("components", "weekdays"):
        if isinstance(fields.get(key), list):
            fields[key] = tuple(fields[key])
    if isinstance(fields.get("start"), str):
        try:
            fields["start"] = time.fromisoformat(fields["start"])
        except ValueError:
            raise InvalidInputError(f"windows.{index}.start", "must be HH:MM") from None
    try:
        return MaintenanceWindow(**fields)
    except InvalidInputError as exc:
        raise InvalidInputError(f"windows.{index}.{exc.field}", exc.rule) from None


def build_monitor(
    data: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    dry_run: bool = False,
    clock: Clock | None = None,
) -> MonitorSetup:
    """Build the page, store, probes, scheduler and monitor a configuration describes.

    Raises:
        InvalidInputError: A setting broke a rule or a required variable is missing.
    """
    env = os.environ if environ is None else environ
    clock = clock if clock is not None else SystemClock()
    closers: list[Any] = []
    probes_data = data.get("probes", [])
    if not isinstance(probes_data, list) or not probes_data:
        raise InvalidInputError("probes", "must list at least one probe")
    probes: list[Probe] = [parse_probe(item, index=i) for i, item in enumerate(probes_data)]
    windows = [_window(item, i) for i, item in enumerate(data.get("windows", []))]
    store_cfg = _section(data, "store")
    redis_url = env.get("UH_STATUS_PAGE_REDIS_URL") or store_cfg.get("redis_url")
    store: StatusPageStore
    if redis_url:
        from unified_health.status_page.stores._redis import DEFAULT_PREFIX, RedisStatusPageStore

        redis_store = RedisStatusPageStore.from_url(
            str(redis_url), prefix=str(store_cfg.get("prefix", DEFAULT_PREFIX))
        )
        closers.append(redis_store.close)
        store = redis_store
    else:
        store = InMemoryStatusPageStore(clock=clock)
    page_cfg = _section(data, "page")
    kind = page_cfg.get("kind", "statuspage")
    page: StatusPage
    page_key: str
    if kind == "statuspage":
        api_key = env.get("UH_STATUS_PAGE_API_KEY")
        if not api_key:
            raise InvalidInputError("UH_STATUS_PAGE_API_KEY", "must be set")
        page_id = page_cfg.get("page_id") or env.get("UH_STATUS_PAGE_PAGE_ID")
        if not isinstance(page_id, str) or not page_id:
            raise InvalidInputError("page.page_id", "must be set")
        client = StatusPageClient(
            api_key,
            page_id,
            base_url=str(page_cfg.get("base_url", "https://api.statuspage.io/v1")),
            store=store,
            clock=clock,
        )
        closers.append(client.close)
        page, page_key = client, page_id
    elif kind == "self_hosted":
        components = list(dict.fromkeys(str(p.component) for p in probes if p.component))
        page = SelfHostedStatusPage(
            store,
            components=components,
            name=str(page_cfg.get("name", "Service status")),
            clock=clock,
        )
        page_key = "self-hosted"
    else:
        raise InvalidInputError("page.kind", "must be one of: statuspage, self_hosted")
    monitor_cfg = _section(data, "monitor")
    threshold_keys = {"failures", "successes", "flap_window", "flap_enter", "flap_exit"}
    thresholds = Thresholds(**{k: v for k, v in monitor_cfg.items() if k in threshold_keys})
    alerter = None
    pagerduty_cfg = _section(data, "pagerduty")
    routing_key = env.get("UH_STATUS_PAGE_PAGERDUTY_ROUTING_KEY")
    if routing_key:
        made = PagerDutyAlerter(
            routing_key,
            base_url=str(pagerduty_cfg.get("base_url", "https://events.pagerduty.com")),
            severity=str(pagerduty_cfg.get("severity", "critical")),
        )
        closers.append(made.close)
        alerter = made
    metrics = ProbeMetrics(clock=clock)
    monitor = StatusMonitor(
        page,
        probes,
        store=store,
        page_key=page_key,
        thresholds=thresholds,
        windows=windows,
        dry_run=dry_run,
        alerter=alerter,
        clock=clock,
        metrics=metrics,
    )
    runner = ProbeRunner(clock=clock)
    scheduler = ProbeScheduler(
        probes,
        runner.run,
        clock=clock,
        max_concurrency=int(monitor_cfg.get("max_concurrency", 16)),
        jitter=float(monitor_cfg.get("jitter", 0.1)),
    )
    port = _section(data, "metrics").get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)):
        raise InvalidInputError("metrics.port", "must be an int")
    return MonitorSetup(page, monitor, scheduler, runner, metrics, port, closers)
