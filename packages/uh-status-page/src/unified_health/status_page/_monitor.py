"""From probe results to component statuses and incidents.

`HealthTracker` turns one probe's results into a confirmed state: down after ``failures``
consecutive failures (3), up again after ``successes`` consecutive successes (2). It also
watches how often the raw results change: when more than half of the last ``flap_window``
results differ from the one before, the probe is flapping and its component is held at
``degraded_performance`` (no incident, no alert) until the results settle.

`StatusMonitor` owns the trackers of a set of probes and reconciles the page with them:

- a component whose probes are all down is ``major_outage``, some down ``partial_outage``;
- components whose probes share an ``incident_group`` (default: the component) open **one
  incident** whose request carries every component's status; across processes exactly one
  incident is opened per outage: the outage's fingerprint is stored with the incident id in
  the shared store, creation happens under a lease, and the fingerprint also travels in the
  incident's metadata so that a create that timed out is found again (reconciled) instead of
  being sent twice;
- a component a person put into an incident or a maintenance (or that is ``under_maintenance``)
  is never overwritten;
- local maintenance windows (`MaintenanceWindow`) suppress incidents and alerts and, when they
  end, restore the status the component had before;
- ``dry_run=True`` computes the plan and sends nothing.

Vendor errors never lose the desired state: a failed change is logged and tried again on the
next cycle, which converges.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, Field, model_validator

from unified_health.status_page._client import StatusPage
from unified_health.status_page._clock import Clock, SystemClock
from unified_health.status_page._errors import InvalidInputError, ProviderError, StatusPageError
from unified_health.status_page._logging import logger
from unified_health.status_page._metrics import ProbeMetrics
from unified_health.status_page._models import FrozenModel, Incident
from unified_health.status_page._probes import Probe, ProbeResult
from unified_health.status_page.stores._memory import InMemoryStatusPageStore
from unified_health.status_page.stores._protocol import StatusPageStore

__all__ = [
    "HealthTracker",
    "MaintenanceWindow",
    "PlannedChange",
    "StatusMonitor",
    "Thresholds",
    "outage_fingerprint",
]

METADATA_KEY = "uh_status_page"
_OUTAGES = ("partial_outage", "major_outage")


class Thresholds(FrozenModel):
    """How many results confirm a change, and what counts as flapping.

    Examples:
        >>> Thresholds().failures, Thresholds().successes
        (3, 2)
    """

    failures: int = Field(default=3, ge=1, le=100)
    successes: int = Field(default=2, ge=1, le=100)
    flap_window: int = Field(default=20, ge=4, le=200)
    flap_enter: float = Field(default=0.5, gt=0, le=1)
    flap_exit: float = Field(default=0.25, ge=0, lt=1)

    @model_validator(mode="after")
    def _hysteresis(self) -> Thresholds:
        if self.flap_exit >= self.flap_enter:
            raise ValueError("flap_exit must be below flap_enter")
        return self


class HealthTracker:
    """The confirmed state of one probe.

    Examples:
        >>> tracker = HealthTracker(Thresholds())
        >>> [tracker.observe(ok) for ok in (False, False, False, True, True)]
        [True, True, False, False, True]
    """

    def __init__(self, thresholds: Thresholds) -> None:
        self._thresholds = thresholds
        self.up = True
        self.failures = 0
        self.successes = 0
        self.flapping = False
        self._history: deque[bool] = deque(maxlen=thresholds.flap_window)

    def observe(self, success: bool) -> bool:
        """Record one result; return whether the probe is (confirmed) up."""
        self._history.append(success)
        if success:
            self.successes += 1
            self.failures = 0
            if not self.up and self.successes >= self._thresholds.successes:
                self.up = True
        else:
            self.failures += 1
            self.successes = 0
            if self.up and self.failures >= self._thresholds.failures:
                self.up = False
        history = list(self._history)
        if len(history) >= min(10, self._thresholds.flap_window):
            changes = sum(1 for a, b in itertools.pairwise(history) if a != b)
            ratio = changes / (len(history) - 1)
            if not self.flapping and ratio >= self._thresholds.flap_enter:
                self.flapping = True
                logger.info("probe_flapping", changes=changes)
            elif self.flapping and ratio <= self._thresholds.flap_exit:
                self.flapping = False
        return self.up

    def reset(self) -> None:
        """Forget the history (after a maintenance window): up, no counts."""
        self.up = True
        self.failures = self.successes = 0
        self.flapping = False
        self._history.clear()


class MaintenanceWindow(FrozenModel):
    """A local maintenance window: one-off (``starts_at``/``ends_at``) or weekly.

    Attributes:
        components: Components it covers.
        starts_at: Start of a one-off window (aware).
        ends_at: End of a one-off window (aware, after the start).
        weekdays: Days of a weekly window (0 = Monday).
        start: Local start time of a weekly window.
        duration_minutes: Length of a weekly window.
        timezone: IANA zone of a weekly window.
        set_status: Show the components ``under_maintenance`` during the window.

    Examples:
        >>> from datetime import UTC, datetime, time
        >>> weekly = MaintenanceWindow(components=("db",), weekdays=(6,), start=time(2, 0),
        ...                            duration_minutes=60, timezone="Europe/Paris")
        >>> weekly.active(datetime(2026, 1, 11, 1, 30, tzinfo=UTC))  # Sunday 02:30 in Paris
        True
    """

    components: tuple[str, ...] = Field(min_length=1)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    weekdays: tuple[int, ...] = ()
    start: time | None = None
    duration_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    timezone: str = "UTC"
    set_status: bool = True

    @model_validator(mode="after")
    def _one_kind(self) -> MaintenanceWindow:
        one_off = self.starts_at is not None or self.ends_at is not None
        weekly = bool(self.weekdays) or self.start is not None
        if one_off == weekly:
            raise ValueError("give starts_at and ends_at, or weekdays and start")
        if one_off and (self.starts_at is None or self.ends_at is None):
            raise ValueError("a one-off window needs starts_at and ends_at")
        if (
            one_off
            and self.ends_at is not None
            and self.starts_at is not None
            and (self.ends_at <= self.starts_at)
        ):
            raise ValueError("ends_at must be after starts_at")
        if weekly and (self.start is None or not self.weekdays):
            raise ValueError("a weekly window needs weekdays and start")
        if any(not 0 <= day <= 6 for day in self.weekdays):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("timezone must be an IANA zone name") from None
        return self

    def active(self, now: datetime) -> bool:
        """Whether the window covers ``now`` (aware)."""
        if self.starts_at is not None and self.ends_at is not None:
            return self.starts_at <= now < self.ends_at
        assert self.start is not None
        local = now.astimezone(ZoneInfo(self.timezone))
        for back in (0, 1, 7):  # today, yesterday, a week ago (windows spanning midnight)
            day = local.date() - timedelta(days=back)
            if day.weekday() not in self.weekdays:
                continue
            begins = datetime.combine(day, self.start, tzinfo=local.tzinfo)
            if begins <= local < begins + timedelta(minutes=self.duration_minutes):
                return True
        return False


class PlannedChange(FrozenModel):
    """One change a reconcile cycle makes (or would make, in a dry run).

    Examples:
        >>> PlannedChange(action="open_incident", group="api", components={"api": "major_outage"})
        PlannedChange(action='open_incident', group='api', components={'api': 'major_outage'})
    """

    action: Literal["set_component", "open_incident", "update_incident", "resolve_incident"]
    group: str
    components: dict[str, str]


def outage_fingerprint(page_id: str, group: str) -> str:
    """The stable id of an outage of ``group`` on a page: the same in every process.

    Examples:
        >>> outage_fingerprint("page-1", "api")
        'outage-0d0ac8f60da8e71a'
    """
    return "outage-" + hashlib.sha256(f"{page_id}\x00{group}".encode()).hexdigest()[:16]


class StatusMonitor:
    """Turns probe results into component statuses and incidents on a `StatusPage`.

    Args:
        page: Where statuses go: `StatusPageClient` or `SelfHostedStatusPage`.
        probes: The probes; each names its ``component``.
        store: Shares open incidents and the incident lease between processes
            (`RedisStatusPageStore`); in memory by default.
        page_key: Names the page in outage fingerprints (the page id).
        thresholds: Failure/success thresholds and flap detection.
        windows: Local maintenance windows.
        dry_run: Plan only; send nothing.
        alerter: Called with ``("trigger" | "resolve", fingerprint, summary)`` (for PagerDuty).
        clock: The clock.
        owner: This process's name for leases (random by default).
        incident_name: Title of opened incidents; ``{group}`` is replaced.
        lock_ttl: Seconds the incident lease lasts (longer than a create takes).
        metrics: Records every observed result (`ProbeMetrics`).
        reconcile_every: Seconds after which `step` reconciles even when nothing changed.

    Examples:
        >>> from unified_health.status_page import SelfHostedStatusPage, TcpProbe
        >>> page = SelfHostedStatusPage(components=["db"])
        >>> monitor = StatusMonitor(page, [TcpProbe(name="db", host="h", port=1, component="db")])
        >>> monitor.desired_statuses()
        {'db': 'operational'}
    """

    def __init__(
        self,
        page: StatusPage,
        probes: Sequence[Probe],
        *,
        store: StatusPageStore | None = None,
        page_key: str = "page",
        thresholds: Thresholds | None = None,
        windows: Sequence[MaintenanceWindow] = (),
        dry_run: bool = False,
        alerter: Callable[[str, str, str], None] | None = None,
        clock: Clock | None = None,
        owner: str | None = None,
        incident_name: str = "{group} outage",
        lock_ttl: float = 60.0,
        metrics: ProbeMetrics | None = None,
        reconcile_every: float = 15.0,
    ) -> None:
        if not isinstance(page, StatusPage):
            raise InvalidInputError("page", "must be a StatusPage")
        self._page = page
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._store: StatusPageStore = (
            store if store is not None else InMemoryStatusPageStore(clock=self._clock)
        )
        self._thresholds = thresholds if thresholds is not None else Thresholds()
        self._windows = tuple(windows)
        self.dry_run = dry_run
        self._alerter = alerter
        self._owner = owner or uuid.uuid4().hex[:12]
        self._page_key = page_key
        self._incident_name = incident_name
        self._lock_ttl = lock_ttl
        self.metrics = metrics
        self.reconcile_every = reconcile_every
        self._last_reconcile = float("-inf")
        self._probes: dict[str, Probe] = {}
        self._trackers: dict[str, HealthTracker] = {}
        for probe in probes:
            if probe.component is None:
                raise InvalidInputError(f"probes.{probe.name}.component", "is required")
            self._probes[probe.name] = probe
            self._trackers[probe.name] = HealthTracker(self._thresholds)
        self._by_component: dict[str, list[HealthTracker]] = {}
        self._groups: dict[str, str] = {}
        for probe in self._probes.values():
            component = str(probe.component)
            self._by_component.setdefault(component, []).append(self._trackers[probe.name])
            self._groups.setdefault(component, probe.incident_group or component)
        self._lock = threading.Lock()
        self._sent: dict[str, str] = {}
        self._pre_window: dict[str, str] = {}
        self.incidents_opened = 0

    @property
    def components(self) -> list[str]:
        """The components the probes report on, in probe order, once each."""
        return list(self._by_component)

    def _group_of(self, component: str) -> str:
        return self._groups.get(component, component)

    def observe(self, result: ProbeResult) -> bool:
        """Feed one probe result to its tracker (unknown probes are ignored with a log).

        Returns:
            Whether the probe's confirmed state (up/down, flapping) changed.
        """
        tracker = self._trackers.get(result.probe)
        if tracker is None:
            logger.warning("probe_result_unknown", probe=result.probe)
            return False
        with self._lock:
            before = (tracker.up, tracker.flapping)
            tracker.observe(result.success)
            changed = before != (tracker.up, tracker.flapping)
        if self.metrics is not None:
            self.metrics.observe(result, component=str(self._probes[result.probe].component))
        return changed

    def step(self, results: Sequence[ProbeResult], *, force: bool = False) -> list[PlannedChange]:
        """Observe a batch of results and reconcile if a state changed or a while has passed.

        Reconciling only on change (or every ``reconcile_every`` seconds, which also retries
        a change the vendor refused and notices maintenance windows opening and closing)
        keeps the cost of a quiet cycle to the bookkeeping of each result.

        Args:
            results: What the scheduler returned.
            force: Reconcile whatever happened.

        Returns:
            The changes made (or planned, in a dry run).
        """
        changed = False
        for result in results:
            changed = self.observe(result) or changed
        now = self._clock.monotonic()
        if not (changed or force or now - self._last_reconcile >= self.reconcile_every):
            return []
        self._last_reconcile = now
        return self.reconcile()

    def desired_statuses(self) -> dict[str, str]:
        """The status each component should show now, from the probes alone."""
        statuses: dict[str, str] = {}
        with self._lock:
            for component, trackers in self._by_component.items():
                down = [t for t in trackers if not t.up]
                if any(t.flapping for t in trackers):
                    statuses[component] = "degraded_performance"
                elif down and len(down) == len(trackers):
                    statuses[component] = "major_outage"
                elif down:
                    statuses[component] = "partial_outage"
                else:
                    statuses[component] = "operational"
        return statuses

    def _window_for(self, component: str, now: datetime) -> MaintenanceWindow | None:
        return next((w for w in self._windows if w.active(now) and component in w.components), None)

    def plan(self) -> list[PlannedChange]:
        """The changes a reconcile cycle would make, computed without any request.

        Based on what this monitor last sent; `reconcile` also reads the page and skips
        components a person holds.
        """
        return self._plan(self._sent, open_groups=self._open_groups())

    def _open_groups(self) -> set[str]:
        groups = set(self._groups.values())
        return {
            g
            for g in groups
            if self._store.get_open_incident(outage_fingerprint(self._page_key, g)) is not None
        }

    def _plan(self, current: dict[str, str], *, open_groups: set[str]) -> list[PlannedChange]:
        now = self._clock.now()
        desired = self.desired_statuses()
        changes: list[PlannedChange] = []
        by_group: dict[str, dict[str, str]] = {}
        for component, status in desired.items():
            window = self._window_for(component, now)
            if window is not None:
                self._pre_window.setdefault(component, current.get(component, "operational"))
                if window.set_status and current.get(component) != "under_maintenance":
                    changes.append(
                        PlannedChange(
                            action="set_component",
                            group=component,
                            components={component: "under_maintenance"},
                        )
                    )
                continue
            if component in self._pre_window:
                changes.append(
                    PlannedChange(
                        action="set_component",
                        group=component,
                        components={component: self._pre_window[component]},
                    )
                )
                continue
            by_group.setdefault(self._group_of(component), {})[component] = status
        for group, statuses in by_group.items():
            outage = {c: s for c, s in statuses.items() if s in _OUTAGES}
            is_open = group in open_groups
            if outage and not is_open:
                changes.append(
                    PlannedChange(action="open_incident", group=group, components=dict(outage))
                )
                continue
            if is_open and not outage:
                changes.append(
                    PlannedChange(action="resolve_incident", group=group, components=dict(statuses))
                )
                continue
            moved = {c: s for c, s in statuses.items() if current.get(c, "operational") != s}
            if not moved:
                continue
            if is_open:
                changes.append(
                    PlannedChange(action="update_incident", group=group, components=moved)
                )
            else:
                changes.extend(
                    PlannedChange(action="set_component", group=group, components={c: s})
                    for c, s in moved.items()
                )
        return changes

    def _held_by_people(self) -> tuple[set[str], list[Incident]]:
        """Components in an incident not opened by a monitor, or in an active maintenance."""
        held: set[str] = set()
        unresolved = list(self._page.list_unresolved_incidents())
        for incident in unresolved:
            if METADATA_KEY not in incident.metadata:
                held.update(c.name for c in incident.components)
        for maintenance in self._page.list_active_maintenances():
            held.update(c.name for c in maintenance.components)
        return held, unresolved

    def reconcile(self) -> list[PlannedChange]:
        """Bring the page in line with the probes; return the changes made (or planned).

        Never raises for a vendor or store failure: the change is logged and the next cycle
        tries again.
        """
        try:
            return self._reconcile()
        except StatusPageError as exc:
            logger.warning("reconcile_failed", error_class=type(exc).__name__)
            return []

    def _reconcile(self) -> list[PlannedChange]:
        changes = self._plan(self._sent, open_groups=self._open_groups())
        if self.dry_run:
            for change in changes:
                logger.info(
                    "change_planned",
                    action=change.action,
                    group=change.group,
                    component_count=len(change.components),
                )
            return changes
        if not changes:
            return []
        page_status = {c.name: c.status for c in self._page.list_components()}
        held, unresolved = self._held_by_people()
        done: list[PlannedChange] = []
        for change in changes:
            mine = {
                c: s
                for c, s in change.components.items()
                if c not in held
                and (
                    page_status.get(c) != "under_maintenance"
                    or self._sent.get(c) == "under_maintenance"
                )
            }
            if not mine:
                logger.info("change_skipped_held", group=change.group)
                self._count("change_skipped_held")
                continue
            try:
                made = self._apply(
                    change.model_copy(update={"components": mine}), page_status, unresolved
                )
            except ProviderError as exc:
                logger.warning(
                    "change_failed",
                    action=change.action,
                    group=change.group,
                    status_code=exc.status_code,
                )
                self._count("change_failed")
                continue
            if made is not None:
                done.append(made)
        return done

    def _apply(
        self, change: PlannedChange, page_status: dict[str, str], unresolved: list[Incident]
    ) -> PlannedChange | None:
        fingerprint = outage_fingerprint(self._page_key, change.group)
        now = self._clock.now()
        if change.action == "set_component":
            ((component, status),) = change.components.items()
            if page_status.get(component) != status:
                self._page.update_component(component, status=status)
            self._sent[component] = status
            if component in self._pre_window and self._window_for(component, now) is None:
                # The window is over and the pre-window status is back: judge afresh.
                del self._pre_window[component]
                for probe in self._probes.values():
                    if probe.component == component:
                        self._trackers[probe.name].reset()
            return change
        if change.action == "open_incident":
            return self._open(change, fingerprint, page_status, unresolved)
        incident_id = self._store.get_open_incident(fingerprint)
        if incident_id is None:
            return None
        if change.action == "update_incident":
            moved = {c: s for c, s in change.components.items() if page_status.get(c) != s}
            if moved:
                self._page.update_incident(incident_id, components=moved)
            self._sent.update(change.components)
            return change
        self._page.update_incident(
            incident_id,
            status="resolved",
            body="Service restored.",
            components=change.components,
        )
        self._sent.update(change.components)
        if self._store.clear_open_incident(fingerprint, incident_id) and self._alerter:
            self._alert("resolve", fingerprint, change.group)
        logger.info("incident_resolved", incident_id=incident_id, group=change.group)
        self._count("incident_resolved")
        return change

    def _open(
        self,
        change: PlannedChange,
        fingerprint: str,
        page_status: dict[str, str],
        unresolved: list[Incident],
    ) -> PlannedChange | None:
        if not self._store.acquire_lock(fingerprint, self._owner, ttl=self._lock_ttl):
            logger.info("incident_lock_busy", group=change.group)
            return None
        try:
            if self._store.get_open_incident(fingerprint) is not None:
                self._sent.update(change.components)
                return None
            found = _find(unresolved, fingerprint)
            if found is None:
                found = self._create(change, fingerprint)
            self._store.set_open_incident(fingerprint, found.id)
            self._sent.update(change.components)
            self.incidents_opened += 1
            self._count("incident_opened")
            logger.info(
                "incident_opened",
                incident_id=found.id,
                group=change.group,
                component_count=len(change.components),
            )
            self._alert("trigger", fingerprint, change.group)
            return change
        finally:
            self._store.release_lock(fingerprint, self._owner)

    def _create(self, change: PlannedChange, fingerprint: str) -> Incident:
        metadata = {METADATA_KEY: {"fingerprint": fingerprint}}
        name = self._incident_name.replace("{group}", change.group)
        try:
            return self._page.create_incident(
                name, status="investigating", components=change.components, metadata=metadata
            )
        except ProviderError as exc:
            if exc.status_code is not None:
                raise
            # The answer was lost: the incident may exist. Look before sending it again.
            logger.warning("incident_create_unconfirmed", group=change.group)
            found = _find(list(self._page.list_unresolved_incidents()), fingerprint)
            if found is not None:
                return found
            return self._page.create_incident(
                name, status="investigating", components=change.components, metadata=metadata
            )

    def _count(self, event: str) -> None:
        if self.metrics is not None:
            self.metrics.count(event)

    def _alert(self, action: str, fingerprint: str, group: str) -> None:
        if self._alerter is None:
            return
        try:
            self._alerter(action, fingerprint, self._incident_name.replace("{group}", group))
        except Exception as exc:  # noqa: BLE001 - alerts are best effort
            logger.warning("alert_failed", action=action, error_class=type(exc).__name__)


def _find(incidents: list[Incident], fingerprint: str) -> Incident | None:
    for incident in incidents:
        marker: Any = incident.metadata.get(METADATA_KEY)
        if isinstance(marker, dict) and marker.get("fingerprint") == fingerprint:
            return incident
    return None
