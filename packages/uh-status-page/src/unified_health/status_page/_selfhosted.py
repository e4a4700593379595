"""`SelfHostedStatusPage`: a status page kept in a `StatusPageStore` and served by this package.

It implements the `StatusPage` protocol (so `StatusMonitor` drives it like Statuspage.io) and
renders the public documents a hosted page serves: ``/api/v2/summary.json``,
``/api/v2/status.json``, ``/api/v2/incidents/unresolved.json``,
``/api/v2/scheduled-maintenances/upcoming.json`` and a plain, accessible HTML page. `asgi_app`
returns a mountable ASGI application serving them (no framework needed).

Every change is a read-modify-write of one versioned document; a write that lost a race to
another process is retried on the fresh state, so no change is lost.
"""

from __future__ import annotations

import hashlib
import html
import json
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping, Sequence
from datetime import datetime
from typing import Any

from unified_health.status_page._clock import Clock, SystemClock
from unified_health.status_page._errors import ConflictError, InvalidInputError, NotFoundError
from unified_health.status_page._models import (
    COMPONENT_STATUSES,
    INCIDENT_STATUSES,
    Component,
    Incident,
    check_aware,
    check_choice,
    check_text,
)
from unified_health.status_page.stores._memory import InMemoryStatusPageStore
from unified_health.status_page.stores._protocol import StatusPageStore

__all__ = ["SelfHostedStatusPage"]

_LABELS = {
    "operational": "Operational",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
    "under_maintenance": "Under maintenance",
}
_INDICATOR = {
    "major_outage": ("major", "Major System Outage"),
    "partial_outage": ("minor", "Partial System Outage"),
    "degraded_performance": ("minor", "Minor Service Outage"),
    "under_maintenance": ("maintenance", "Service Under Maintenance"),
}
_IMPACT = {"major_outage": "major", "partial_outage": "minor", "degraded_performance": "minor"}

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class SelfHostedStatusPage:
    """A status page of your own, backed by a store.

    Args:
        store: Where the page lives (`InMemoryStatusPageStore` by default;
            `RedisStatusPageStore` to share it between processes).
        components: Component names to create if the page does not have them yet.
        name: The page's title.
        clock: The clock.

    Examples:
        >>> page = SelfHostedStatusPage(components=["api", "web"])
        >>> page.update_component("api", status="degraded_performance").status
        'degraded_performance'
        >>> page.status_json()["status"]
        {'indicator': 'minor', 'description': 'Minor Service Outage'}
    """

    def __init__(
        self,
        store: StatusPageStore | None = None,
        *,
        components: Sequence[str] = (),
        name: str = "Service status",
        clock: Clock | None = None,
    ) -> None:
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._store: StatusPageStore = (
            store if store is not None else InMemoryStatusPageStore(clock=self._clock)
        )
        self.name = check_text(name, "name")
        if isinstance(components, str):
            raise InvalidInputError("components", "must be a list of names")
        for index, component in enumerate(components):
            check_text(component, f"components.{index}")
        if components:
            self._change(lambda state: self._ensure(state, list(components)))

    # -- state ---------------------------------------------------------------------------------
    def _now(self) -> str:
        return self._clock.now().isoformat()

    def _ensure(self, state: dict[str, Any], names: list[str]) -> None:
        known = {c["name"] for c in state["components"]}
        for name in names:
            if name not in known:
                state["components"].append(
                    {
                        "id": "c" + hashlib.sha256(name.encode()).hexdigest()[:11],
                        "name": name,
                        "status": "operational",
                        "position": len(state["components"]) + 1,
                        "updated_at": self._now(),
                    }
                )
                known.add(name)

    def _load(self) -> tuple[int, dict[str, Any]]:
        version, state = self._store.load_page()
        state.setdefault("components", [])
        state.setdefault("incidents", [])
        return version, state

    def _change(self, edit: Callable[[dict[str, Any]], Any]) -> Any:
        for _ in range(20):
            version, state = self._load()
            result = edit(state)
            try:
                self._store.save_page(state, expected_version=version)
            except ConflictError:
                continue
            return result
        raise ConflictError("the page changed under every one of 20 attempts")

    def _component(self, state: dict[str, Any], component: str) -> dict[str, Any]:
        for item in state["components"]:
            if component in (item["name"], item["id"]):
                found: dict[str, Any] = item
                return found
        raise InvalidInputError("component", "names a component the page does not have")

    def _incident_model(self, state: dict[str, Any], item: dict[str, Any]) -> Incident:
        by_id = {c["id"]: c for c in state["components"]}
        return Incident.model_validate(
            {
                **item,
                "components": [by_id[i] for i in item["component_ids"] if i in by_id],
                "incident_updates": item["updates"],
            }
        )

    # -- the StatusPage protocol ---------------------------------------------------------------
    def list_components(self) -> Iterator[Component]:
        """Yield the page's components."""
        _, state = self._load()
        return iter([Component.model_validate(c) for c in state["components"]])

    def update_component(self, component: str, *, status: str) -> Component:
        """Set a component's status (by name or id).

        Raises:
            InvalidInputError: Unknown component or status.
        """
        check_choice(status, "status", COMPONENT_STATUSES)

        def edit(state: dict[str, Any]) -> Component:
            item = self._component(state, component)
            item.update(status=status, updated_at=self._now())
            return Component.model_validate(item)

        result: Component = self._change(edit)
        return result

    def create_incident(
        self,
        name: str,
        *,
        status: str = "investigating",
        body: str | None = None,
        components: Mapping[str, str] | None = None,
        metadata: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Incident:
        """Open an incident and set its components' statuses.

        Raises:
            InvalidInputError: A bad name, status or component (nothing is written).
        """
        check_text(name, "name")
        check_choice(status, "status", INCIDENT_STATUSES)
        changes = dict(components or {})
        for component, value in changes.items():
            check_choice(value, f"components.{component}", COMPONENT_STATUSES)

        def edit(state: dict[str, Any]) -> Incident:
            ids = []
            for component, value in changes.items():
                item = self._component(state, component)
                item.update(status=value, updated_at=self._now())
                ids.append(item["id"])
            worst = [_IMPACT.get(v, "none") for v in changes.values()]
            incident = {
                "id": "i" + uuid.uuid4().hex[:11],
                "name": name,
                "status": status,
                "impact": "major" if "major" in worst else ("minor" if worst else "none"),
                "metadata": {k: dict(v) for k, v in (metadata or {}).items()},
                "component_ids": ids,
                "created_at": self._now(),
                "updated_at": self._now(),
                "resolved_at": None,
                "scheduled_for": None,
                "scheduled_until": None,
                "updates": [self._update(status, body)],
            }
            state["incidents"].insert(0, incident)
            return self._incident_model(state, incident)

        result: Incident = self._change(edit)
        return result

    def _update(self, status: str, body: str | None) -> dict[str, Any]:
        return {
            "id": "u" + uuid.uuid4().hex[:11],
            "status": status,
            "body": body or "",
            "created_at": self._now(),
        }

    def update_incident(
        self,
        incident_id: str,
        *,
        status: str | None = None,
        body: str | None = None,
        components: Mapping[str, str] | None = None,
    ) -> Incident:
        """Post an update to an incident.

        Raises:
            NotFoundError: No such incident.
            InvalidInputError: A bad status or component (nothing is written).
        """
        if status is not None:
            check_choice(status, "status", INCIDENT_STATUSES)
        changes = dict(components or {})
        for component, value in changes.items():
            check_choice(value, f"components.{component}", COMPONENT_STATUSES)

        def edit(state: dict[str, Any]) -> Incident:
            incident = next((i for i in state["incidents"] if i["id"] == incident_id), None)
            if incident is None:
                raise NotFoundError("incident", incident_id)
            for component, value in changes.items():
                item = self._component(state, component)
                item.update(status=value, updated_at=self._now())
                if item["id"] not in incident["component_ids"]:
                    incident["component_ids"].append(item["id"])
            if status is not None:
                incident["status"] = status
                if status == "resolved":
                    incident["resolved_at"] = self._now()
            incident["updated_at"] = self._now()
            incident["updates"].insert(0, self._update(incident["status"], body))
            return self._incident_model(state, incident)

        result: Incident = self._change(edit)
        return result

    def list_unresolved_incidents(self) -> Iterator[Incident]:
        """Yield the incidents that are not resolved."""
        _, state = self._load()
        return iter(
            [
                self._incident_model(state, i)
                for i in state["incidents"]
                if i["status"] in INCIDENT_STATUSES[:3]
            ]
        )

    def schedule_maintenance(
        self,
        name: str,
        *,
        starts_at: datetime,
        ends_at: datetime,
        components: Sequence[str],
        body: str | None = None,
    ) -> Incident:
        """Announce a maintenance window; it shows as upcoming, then in progress, then completed.

        While it is in progress, `StatusMonitor` leaves its components alone (as on
        Statuspage), so their probes raise no incident.

        Raises:
            InvalidInputError: Naive datetimes, a window ending before it starts or lying in the
                past, unknown components (nothing is written).

        Examples:
            >>> from datetime import UTC, datetime, timedelta
            >>> page = SelfHostedStatusPage(components=["db"])
            >>> start = datetime.now(UTC) + timedelta(days=1)
            >>> page.schedule_maintenance("DB upgrade", starts_at=start,
            ...     ends_at=start + timedelta(hours=1), components=["db"]).status
            'scheduled'
        """
        check_text(name, "name")
        start = check_aware(starts_at, "starts_at")
        end = check_aware(ends_at, "ends_at")
        if end <= start:
            raise InvalidInputError("ends_at", "must be after starts_at")
        if start < self._clock.now():
            raise InvalidInputError("starts_at", "must not lie in the past")
        if isinstance(components, str) or not components:
            raise InvalidInputError("components", "must name at least one component")

        def edit(state: dict[str, Any]) -> Incident:
            ids = [self._component(state, c)["id"] for c in components]
            item: dict[str, Any] = {
                "id": "m" + uuid.uuid4().hex[:11],
                "name": name,
                "status": "scheduled",
                "impact": "maintenance",
                "metadata": {},
                "component_ids": ids,
                "created_at": self._now(),
                "updated_at": self._now(),
                "resolved_at": None,
                "scheduled_for": start.isoformat(),
                "scheduled_until": end.isoformat(),
                "updates": [self._update("scheduled", body)],
            }
            state.setdefault("maintenances", []).append(item)
            return self._incident_model(state, item)

        result: Incident = self._change(edit)
        return result

    def _maintenances(self, state: dict[str, Any], *statuses: str) -> list[Incident]:
        now = self._clock.now()
        found = []
        for item in state.get("maintenances", []):
            begins = datetime.fromisoformat(item["scheduled_for"])
            ends = datetime.fromisoformat(item["scheduled_until"])
            status = "scheduled" if now < begins else ("in_progress" if now < ends else "completed")
            if status in statuses:
                found.append(self._incident_model(state, {**item, "status": status}))
        return found

    def list_active_maintenances(self) -> Iterator[Incident]:
        """Yield the maintenances in progress."""
        _, state = self._load()
        return iter(self._maintenances(state, "in_progress"))

    # -- public documents ----------------------------------------------------------------------
    def _page_json(self) -> dict[str, Any]:
        return {
            "id": "self-hosted",
            "name": self.name,
            "url": "/",
            "time_zone": "Etc/UTC",
            "updated_at": self._now(),
        }

    def _indicator(self, state: dict[str, Any]) -> dict[str, str]:
        statuses = {c["status"] for c in state["components"]}
        for status in (
            "major_outage",
            "partial_outage",
            "degraded_performance",
            "under_maintenance",
        ):
            if status in statuses:
                indicator, description = _INDICATOR[status]
                return {"indicator": indicator, "description": description}
        return {"indicator": "none", "description": "All Systems Operational"}

    def _public_incidents(self, state: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            self._incident_model(state, i).model_dump(mode="json", exclude={"metadata"})
            for i in state["incidents"]
            if i["status"] in INCIDENT_STATUSES[:3]
        ]

    def status_json(self) -> dict[str, Any]:
        """The document of ``/api/v2/status.json``."""
        _, state = self._load()
        return {"page": self._page_json(), "status": self._indicator(state)}

    def summary_json(self) -> dict[str, Any]:
        """The document of ``/api/v2/summary.json``.

        Examples:
            >>> page = SelfHostedStatusPage(components=["api"])
            >>> [c["status"] for c in page.summary_json()["components"]]
            ['operational']
        """
        _, state = self._load()
        return {
            "page": self._page_json(),
            "status": self._indicator(state),
            "components": [
                Component.model_validate(c).model_dump(mode="json") for c in state["components"]
            ],
            "incidents": self._public_incidents(state),
            "scheduled_maintenances": [
                m.model_dump(mode="json", exclude={"metadata"})
                for m in self._maintenances(state, "scheduled", "in_progress")
            ],
        }

    def unresolved_json(self) -> dict[str, Any]:
        """The document of ``/api/v2/incidents/unresolved.json``."""
        _, state = self._load()
        return {"page": self._page_json(), "incidents": self._public_incidents(state)}

    def upcoming_json(self) -> dict[str, Any]:
        """The document of ``/api/v2/scheduled-maintenances/upcoming.json``."""
        _, state = self._load()
        upcoming = self._maintenances(state, "scheduled")
        return {
            "page": self._page_json(),
            "scheduled_maintenances": [
                m.model_dump(mode="json", exclude={"metadata"}) for m in upcoming
            ],
        }

    def render_html(self) -> str:
        """A plain, accessible HTML page: a heading, the overall status and a component list.

        Examples:
            >>> "<h1>Service status</h1>" in SelfHostedStatusPage(components=["api"]).render_html()
            True
        """
        summary = self.summary_json()
        rows = "\n".join(
            f'<li><span class="name">{html.escape(c["name"])}</span>: '
            f'<span class="status status-{c["status"]}">'
            f"{html.escape(_LABELS.get(c['status'], c['status']))}</span></li>"
            for c in summary["components"]
        )
        incidents = "\n".join(
            f"<li><h3>{html.escape(i['name'])}</h3><p>Status: {html.escape(i['status'])}</p></li>"
            for i in summary["incidents"]
        )
        title = html.escape(self.name)
        return (
            '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title></head>\n<body>\n<main>\n<h1>{title}</h1>\n"
            f'<p role="status" aria-live="polite">{html.escape(summary["status"]["description"])}'
            f'</p>\n<section aria-labelledby="components"><h2 id="components">Components</h2>\n'
            f"<ul>\n{rows}\n</ul></section>\n"
            f'<section aria-labelledby="incidents"><h2 id="incidents">Current incidents</h2>\n'
            f"<ul>\n{incidents or '<li>No current incidents.</li>'}\n</ul></section>\n"
            "</main>\n</body>\n</html>\n"
        )

    def asgi_app(self) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
        """A mountable ASGI app serving the public documents and the HTML page.

        Returns:
            The ASGI callable (``/``, ``/api/v2/summary.json``, ``/api/v2/status.json``,
            ``/api/v2/incidents/unresolved.json``,
            ``/api/v2/scheduled-maintenances/upcoming.json``; GET and HEAD; ETag and
            ``If-None-Match`` honoured).

        Examples:
            >>> callable(SelfHostedStatusPage().asgi_app())
            True
        """
        routes: dict[str, Callable[[], dict[str, Any]]] = {
            "/api/v2/summary.json": self.summary_json,
            "/api/v2/status.json": self.status_json,
            "/api/v2/incidents/unresolved.json": self.unresolved_json,
            "/api/v2/scheduled-maintenances/upcoming.json": self.upcoming_json,
        }

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                return
            path = scope.get("path", "/")
            root = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :] or "/"
            method = scope.get("method", "GET")
            if method not in ("GET", "HEAD"):
                await _respond(send, 405, b"", "text/plain", method)
                return
            if path in ("/", "/index.html"):
                body, kind = self.render_html().encode(), "text/html; charset=utf-8"
            elif path in routes:
                document = routes[path]()
                document["page"].pop("updated_at", None)
                body, kind = json.dumps(document).encode(), "application/json"
            else:
                await _respond(send, 404, b'{"error": "not found"}', "application/json", method)
                return
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            headers = dict(scope.get("headers") or [])
            if headers.get(b"if-none-match", b"").decode() == etag:
                await _respond(send, 304, b"", kind, method, etag)
                return
            await _respond(send, 200, body, kind, method, etag)

        return app


async def _respond(
    send: Send, status: int, body: bytes, kind: str, method: str, etag: str | None = None
) -> None:
    headers = [
        (b"content-type", kind.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-cache"),
    ]
    if etag:
        headers.append((b"etag", etag.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})
