"""Test helpers for code that uses uh-status-page.

A fake clock, log capture, the in-memory store, a fake Statuspage server on 127.0.0.1 that
behaves like the vendor (OAuth header, envelopes, enums, per-endpoint paging, the rolling
60-per-60-s limit answered with 420/429 and ``Retry-After``), a fake PagerDuty Events v2 server
and a local TLS server factory with valid, expired and self-signed certificates.

The family's ``testing`` modules share these names and shapes: `FakeClock` (``now``,
``monotonic``, ``advance``, ``sleep``, ``sleeps``) and `capture_logs`. Package-specific fakes
(fake vendor servers, builders) are added beside them.
"""

from __future__ import annotations

import abc
import http.server
import ipaddress
import json
import logging
import math
import ssl
import tempfile
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any, Self
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from unified_health.status_page._clock import Clock, SystemClock
from unified_health.status_page._errors import InvalidInputError
from unified_health.status_page._logging import LOGGER_NAME
from unified_health.status_page.stores._memory import InMemoryStatusPageStore

__all__ = [
    "FakeClock",
    "FakePagerDuty",
    "FakePublicFeed",
    "FakeStatuspage",
    "InMemoryStatusPageStore",
    "ReceivedCall",
    "TlsServer",
    "capture_logs",
    "tls_server",
]

_DEFAULT_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class FakeClock:
    """A `Clock` that moves only when told to; ``sleep`` advances it instead of waiting.

    Pass its ``sleep`` wherever the package takes a ``sleep=`` function.

    Args:
        start: The initial wall time (timezone-aware); 2026-01-05 09:00 UTC by default.

    Raises:
        InvalidInputError: ``start`` is naive.

    Examples:
        >>> clock = FakeClock()
        >>> before = clock.monotonic()
        >>> clock.sleep(2.5)
        >>> (clock.monotonic() - before, clock.sleeps)
        (2.5, [2.5])
        >>> clock.now().isoformat()
        '2026-01-05T09:00:02.500000+00:00'
    """

    def __init__(self, start: datetime | None = None) -> None:
        given: object = _DEFAULT_START if start is None else start
        if not isinstance(given, datetime) or given.tzinfo is None:
            raise InvalidInputError("start", "must be a timezone-aware datetime")
        self._now = given.astimezone(UTC)
        self._monotonic = 1000.0
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        """Return the fake wall time, aware UTC."""
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        """Return the fake monotonic time in seconds."""
        with self._lock:
            return self._monotonic

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by ``seconds``.

        Raises:
            InvalidInputError: ``seconds`` is negative.
        """
        if seconds < 0:
            raise InvalidInputError("seconds", "must not be negative")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._monotonic += seconds

    def sleep(self, seconds: float) -> None:
        """Record the requested sleep in ``sleeps`` and advance instead of waiting."""
        with self._lock:
            self.sleeps.append(seconds)
        self.advance(max(seconds, 0.0))


class _Capture(logging.Handler):
    def __init__(self, entries: list[dict[str, Any]]) -> None:
        super().__init__(logging.DEBUG)
        self.entries = entries

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, "uh_fields", {})
        entry = {"event": getattr(record, "uh_event", record.getMessage())}
        entry.update(fields)
        entry["log_level"] = record.levelname.lower()
        self.entries.append(entry)


@contextmanager
def capture_logs() -> Iterator[list[dict[str, Any]]]:
    """Collect the package's log events (every level) as dicts while the block runs.

    Each entry holds ``event``, ``log_level`` and the event's fields, like
    ``structlog.testing.capture_logs``. Nothing is printed.

    Yields:
        The list that receives the entries.

    Examples:
        >>> from unified_health.status_page._logging import logger
        >>> with capture_logs() as events:
        ...     logger.info("record_written", key_count=1)
        >>> events
        [{'event': 'record_written', 'key_count': 1, 'log_level': 'info'}]
    """
    entries: list[dict[str, Any]] = []
    handler = _Capture(entries)
    stdlib_logger = logging.getLogger(LOGGER_NAME)
    previous_level = stdlib_logger.level
    stdlib_logger.addHandler(handler)
    stdlib_logger.setLevel(logging.DEBUG)
    try:
        yield entries
    finally:
        stdlib_logger.removeHandler(handler)
        stdlib_logger.setLevel(previous_level)


@dataclass(frozen=True)
class ReceivedCall:
    """One request a fake server received, and the status it answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int
    at: float


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128


_Answer = tuple[int, Any, dict[str, str]]


class _FakeServer(abc.ABC):
    """A threaded WSGI server on 127.0.0.1 at a free port, with scripted failures."""

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._calls: list[ReceivedCall] = []
        self._scripted: list[tuple[int, float | None, str | None]] = []
        self._stalls: list[tuple[float, bool, str | None]] = []
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, server_class=_Server, handler_class=_Quiet
        )
        self.port: int = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: float | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests (to paths ending in ``path``) with ``status``."""
        with self._lock:
            self._scripted.extend([(status, retry_after, path)] * times)

    def stall_next(
        self, seconds: float, *, commit: bool = True, times: int = 1, path: str | None = None
    ) -> None:
        """Hold the next answers ``seconds``; with ``commit`` the request takes effect first."""
        with self._lock:
            self._stalls.extend([(seconds, commit, path)] * times)

    @property
    def calls(self) -> list[ReceivedCall]:
        """Every request received, oldest first."""
        with self._lock:
            return list(self._calls)

    def stop(self) -> None:
        """Stop serving."""
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @abc.abstractmethod
    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> _Answer:
        """Answer one request (vendor specific)."""

    def error_body(self, status: int) -> Any:
        """The vendor's body for a scripted error."""
        return {"message": f"error {status}"}

    def _wsgi(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterator[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = ValueError
        with self._lock:
            scripted = _pop_for(self._scripted, path)
            stall = _pop_for(self._stalls, path)
        extra: dict[str, str] = {"X-Request-Id": uuid.uuid4().hex[:12]}
        if stall is not None and not stall[1]:
            self._stop.wait(stall[0])
        if scripted is not None:
            status, retry_after, _ = scripted
            payload: Any = self.error_body(status)
            if retry_after is not None:
                extra["Retry-After"] = str(retry_after)
        else:
            status, payload, more = self.handle(method, path, query, headers, body)
            extra.update(more)
        if stall is not None and stall[1]:
            self._stop.wait(stall[0])
        with self._lock:
            self._calls.append(
                ReceivedCall(method, path, query, headers, body, status, self.clock.monotonic())
            )
        out = b"" if payload is None else json.dumps(payload).encode()
        start(
            f"{status} Status",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(out))),
                *extra.items(),
            ],
        )
        return iter([out])


def _pop_for(pending: list[Any], path: str) -> Any:
    for index, entry in enumerate(pending):
        if entry[-1] is None or path.endswith(entry[-1]):
            return pending.pop(index)
    return None


_COMPONENT_STATUSES = (
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
)
_INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved")
_SCHEDULED_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
_IMPACTS = ("none", "maintenance", "minor", "major", "critical")
_ENVELOPES: dict[str, tuple[str, frozenset[str]]] = {
    "component": (
        "component",
        frozenset(
            {
                "description",
                "status",
                "name",
                "only_show_if_degraded",
                "group_id",
                "showcase",
                "start_date",
            }
        ),
    ),
    "incident": (
        "incident",
        frozenset(
            {
                "name",
                "status",
                "impact_override",
                "scheduled_for",
                "scheduled_until",
                "scheduled_remind_prior",
                "auto_transition_to_maintenance_state",
                "auto_transition_to_operational_state",
                "scheduled_auto_in_progress",
                "scheduled_auto_completed",
                "auto_transition_deliver_notifications_at_start",
                "auto_transition_deliver_notifications_at_end",
                "reminder_intervals",
                "metadata",
                "deliver_notifications",
                "auto_tweet_at_beginning",
                "auto_tweet_on_completion",
                "auto_tweet_on_creation",
                "auto_tweet_one_hour_before",
                "backfill_date",
                "backfilled",
                "body",
                "components",
                "component_ids",
                "scheduled_auto_transition",
            }
        ),
    ),
    "template": (
        "template",
        frozenset(
            {
                "name",
                "title",
                "body",
                "group_id",
                "update_status",
                "should_tweet",
                "should_send_notifications",
                "component_ids",
            }
        ),
    ),
    "subscriber": (
        "subscriber",
        frozenset(
            {
                "email",
                "endpoint",
                "phone_country",
                "phone_number",
                "skip_confirmation_notification",
                "page_access_user",
                "component_ids",
            }
        ),
    ),
    "component_group": ("component_group", frozenset({"components", "name", "description"})),
    "data": ("data", frozenset({"timestamp", "value"})),
    "incident_update": (
        "incident_update",
        frozenset({"wants_twitter_update", "body", "display_at", "deliver_notifications"}),
    ),
}
"""Request envelopes (from the vendor's OpenAPI description): the key and its allowed fields."""


class FakeStatuspage(_FakeServer):
    """A fake Statuspage.io REST API v1 for one page, served on 127.0.0.1.

    It checks what the vendor checks: ``Authorization: OAuth <key>`` (or ``?api_key=``), the
    page id, the request envelope and its fields, enum values, required fields and component
    ids; it pages every list by that endpoint's rule (``page``/``per_page`` from 1, incidents
    ``page``/``limit``, subscribers ``page`` from 0 with ``limit``); and it enforces the rolling
    limit of ``limit`` requests per ``window`` seconds per key, answering ``rate_limit_status``
    (420 or 429) with ``Retry-After``. ``over_limit`` counts those answers.

    Args:
        api_key: The key it accepts.
        page_id: The page it serves.
        components: Names of components to create at start.
        limit: Requests allowed per window.
        window: The rolling window in seconds.
        rate_limit_status: 420 (Statuspage's historical answer) or 429.
        clock: Measures the window (a `FakeClock` makes the limit virtual).

    Examples:
        >>> import httpx
        >>> with FakeStatuspage(components=["api"]) as vendor:
        ...     answer = httpx.get(f"{vendor.url}/pages/page-1/components",
        ...                        headers={"Authorization": "OAuth test-key"})
        ...     [c["name"] for c in answer.json()]
        ['api']
    """

    def __init__(
        self,
        *,
        api_key: str = "test-key",
        page_id: str = "page-1",
        components: list[str] | tuple[str, ...] = (),
        limit: int = 60,
        window: float = 60.0,
        rate_limit_status: int = 420,
        clock: Clock | None = None,
    ) -> None:
        self.api_key = api_key
        self.page_id = page_id
        self.limit = limit
        self.window = window
        self.rate_limit_status = rate_limit_status
        self.over_limit = 0
        self._arrivals: deque[float] = deque()
        self._seq = 0
        self.components: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.incidents: dict[str, dict[str, Any]] = {}
        self.templates: dict[str, dict[str, Any]] = {}
        self.subscribers: dict[str, dict[str, Any]] = {}
        self.metric_points: list[dict[str, Any]] = []
        super().__init__(clock=clock)
        for name in components:
            self.add_component(name)

    # -- state helpers -------------------------------------------------------------------------
    def _id(self) -> str:
        self._seq += 1
        return f"{self._seq:012x}"

    def _stamp(self) -> str:
        return self.clock.now().isoformat().replace("+00:00", "Z")

    def add_component(self, name: str, *, status: str = "operational") -> str:
        """Create a component directly (as a person would in the dashboard); return its id."""
        with self._lock:
            return self._new_component(name, status)

    def _new_component(self, name: str, status: str) -> str:
        component_id = self._id()
        self.components[component_id] = {
            "id": component_id,
            "page_id": self.page_id,
            "group_id": None,
            "created_at": self._stamp(),
            "updated_at": self._stamp(),
            "group": False,
            "name": name,
            "description": None,
            "position": len(self.components) + 1,
            "status": status,
            "showcase": True,
            "only_show_if_degraded": False,
            "automation_email": f"component+{component_id}@notifications.statuspage.io",
            "start_date": None,
        }
        return component_id

    def component_id(self, name: str) -> str:
        """Return the id of the component called ``name``."""
        with self._lock:
            return str(next(c["id"] for c in self.components.values() if c["name"] == name))

    def set_component_status(self, name: str, status: str) -> None:
        """Change a component's status as a person would in the dashboard."""
        with self._lock:
            for component in self.components.values():
                if component["name"] == name:
                    component["status"] = status

    def status_of(self, name: str) -> str:
        """Return the current status of the component called ``name``."""
        with self._lock:
            return str(next(c["status"] for c in self.components.values() if c["name"] == name))

    def open_incident(self, name: str, components: Mapping[str, str]) -> str:
        """Open an incident directly (as a person would); return its id."""
        with self._lock:
            return self._create_incident(
                {
                    "name": name,
                    "status": "investigating",
                    "components": {self._by_name(k): v for k, v in components.items()},
                }
            )

    def _by_name(self, name: str) -> str:
        return str(next(c["id"] for c in self.components.values() if c["name"] == name))

    # -- request handling ----------------------------------------------------------------------
    def _rate_limited(self) -> _Answer | None:
        now = self.clock.monotonic()
        with self._lock:
            while self._arrivals and self._arrivals[0] <= now - self.window:
                self._arrivals.popleft()
            if len(self._arrivals) >= self.limit:
                self.over_limit += 1
                wait = self._arrivals[0] + self.window - now
                retry = {"Retry-After": str(max(1, math.ceil(wait)))}
                return self.rate_limit_status, {"error": "Rate limit exceeded"}, retry
            self._arrivals.append(now)
        return None

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> _Answer:
        """Authenticate, rate-limit, validate and answer one request as the vendor would."""
        authorization = headers.get("authorization", "")
        if authorization != f"OAuth {self.api_key}" and query.get("api_key") != self.api_key:
            return 401, {"message": "Could not authenticate"}, {}
        limited = self._rate_limited()
        if limited is not None:
            return limited
        prefix = (
            f"/v1/pages/{self.page_id}" if path.startswith("/v1/") else f"/pages/{self.page_id}"
        )
        if not path.startswith(prefix):
            return 404, {"message": "The requested resource could not be found."}, {}
        parts = [p for p in path[len(prefix) :].split("/") if p]
        if body is ValueError:
            return 400, {"message": "Bad request: body is not JSON"}, {}
        with self._lock:
            return self._route(method, parts, query, body)

    def _route(self, method: str, parts: list[str], query: dict[str, str], body: Any) -> _Answer:
        missing: _Answer = (404, {"message": "The requested resource could not be found."}, {})
        if not parts:
            if method == "GET":
                return (
                    200,
                    {
                        "id": self.page_id,
                        "name": "Fake page",
                        "subdomain": "fake",
                        "url": "https://status.example.org",
                        "time_zone": "Etc/UTC",
                        "created_at": self._stamp(),
                        "updated_at": self._stamp(),
                    },
                    {},
                )
            return 405, {"message": "Method not allowed."}, {}
        head, rest = parts[0], parts[1:]
        if head == "components":
            return self._components(method, rest, query, body)
        if head == "component-groups":
            if method == "GET" and not rest:
                return self._page_of(list(self.groups.values()), query, "per_page", 1)
            if method == "POST" and not rest:
                fields, error = self._envelope(body, "component_group")
                if error:
                    return error
                ids = fields.get("components")
                if not isinstance(fields.get("name"), str) or not isinstance(ids, list):
                    return 422, {"message": "component_group needs name and components"}, {}
                if not ids or any(i not in self.components for i in ids):
                    return 422, {"message": "components must be ids of this page"}, {}
                group_id = self._id()
                group = {
                    "id": group_id,
                    "page_id": self.page_id,
                    "name": fields["name"],
                    "description": fields.get("description"),
                    "components": ids,
                    "position": len(self.groups) + 1,
                    "created_at": self._stamp(),
                    "updated_at": self._stamp(),
                }
                self.groups[group_id] = group
                return 201, group, {}
            return missing
        if head == "incidents":
            return self._incidents(method, rest, query, body)
        if head == "incident_templates":
            if method == "GET" and not rest:
                return self._page_of(list(self.templates.values()), query, "per_page", 1)
            if method == "POST" and not rest:
                fields, error = self._envelope(body, "template")
                if error:
                    return error
                for required in ("name", "title", "body"):
                    if not isinstance(fields.get(required), str):
                        return 422, {"message": f"template.{required} is required"}, {}
                status = fields.get("update_status")
                if status is not None and status not in _INCIDENT_STATUSES + _SCHEDULED_STATUSES:
                    return 422, {"message": "template.update_status is invalid"}, {}
                template_id = self._id()
                ids = fields.get("component_ids", [])
                template = {
                    "id": template_id,
                    "name": fields["name"],
                    "title": fields["title"],
                    "body": fields["body"],
                    "group_id": fields.get("group_id"),
                    "update_status": status,
                    "should_tweet": False,
                    "should_send_notifications": fields.get("should_send_notifications", True),
                    "components": [self.components[i] for i in ids if i in self.components],
                }
                self.templates[template_id] = template
                return 201, template, {}
            return missing
        if head == "subscribers":
            return self._subscribers(method, rest, query, body)
        if head == "metrics" and len(rest) == 2 and rest[1] == "data" and method == "POST":
            fields, error = self._envelope(body, "data")
            if error:
                return error
            if not isinstance(fields.get("timestamp"), int) or not isinstance(
                fields.get("value"), int | float
            ):
                return 422, {"message": "data needs an int timestamp and a number value"}, {}
            self.metric_points.append({"metric_id": rest[0], **fields})
            return 201, {"data": fields}, {}
        return missing

    def _envelope(self, body: Any, kind: str) -> tuple[dict[str, Any], _Answer | None]:
        key, allowed = _ENVELOPES[kind]
        extra_top = {"description"} if kind == "component_group" else set()
        if not isinstance(body, dict) or key not in body or set(body) - {key} - extra_top:
            return {}, (400, {"message": f'Bad request: body must be {{"{key}": {{...}}}}'}, {})
        fields = body[key]
        if not isinstance(fields, dict):
            return {}, (400, {"message": f"Bad request: {key} must be an object"}, {})
        unknown = set(fields) - allowed
        if unknown:
            return {}, (422, {"message": f"Unknown field {key}.{sorted(unknown)[0]}"}, {})
        if kind == "component_group" and "description" in body:
            fields = {**fields, "description": body["description"]}
        return fields, None

    def _page_of(
        self, items: list[dict[str, Any]], query: dict[str, str], size: str, first: int
    ) -> _Answer:
        try:
            page = int(query.get("page", str(first)))
            per = int(query.get(size, "100"))
        except ValueError:
            return 400, {"message": "page and page size must be integers"}, {}
        if page < first or not 1 <= per <= 100:
            return 400, {"message": f"page must be >= {first}, {size} from 1 to 100"}, {}
        start = (page - first) * per
        return 200, items[start : start + per], {}

    def _components(
        self, method: str, rest: list[str], query: dict[str, str], body: Any
    ) -> _Answer:
        missing: _Answer = (404, {"message": "The requested resource could not be found."}, {})
        if not rest:
            if method == "GET":
                return self._page_of(list(self.components.values()), query, "per_page", 1)
            if method == "POST":
                fields, error = self._envelope(body, "component")
                if error:
                    return error
                if not isinstance(fields.get("name"), str) or not fields["name"]:
                    return 422, {"message": "component.name is required"}, {}
                status = fields.get("status", "operational")
                if status not in _COMPONENT_STATUSES:
                    return 422, {"message": "component.status is invalid"}, {}
                component_id = self._new_component(fields["name"], status)
                self.components[component_id].update(
                    {k: v for k, v in fields.items() if k not in ("name", "status")}
                )
                return 201, self.components[component_id], {}
            return 405, {"message": "Method not allowed."}, {}
        component = self.components.get(rest[0])
        if component is None or len(rest) > 1:
            return missing
        if method == "GET":
            return 200, component, {}
        if method in ("PATCH", "PUT"):
            fields, error = self._envelope(body, "component")
            if error:
                return error
            if "status" in fields and fields["status"] not in _COMPONENT_STATUSES:
                return 422, {"message": "component.status is invalid"}, {}
            component.update(fields)
            component["updated_at"] = self._stamp()
            return 200, component, {}
        if method == "DELETE":
            del self.components[rest[0]]
            return 204, None, {}
        return 405, {"message": "Method not allowed."}, {}

    def _apply_components(self, incident: dict[str, Any], fields: dict[str, Any]) -> str | None:
        changes = fields.get("components") or {}
        ids = list(fields.get("component_ids") or []) + [
            k for k in changes if k not in (fields.get("component_ids") or [])
        ]
        if not isinstance(changes, dict):
            return "incident.components must map component ids to statuses"
        for component_id in ids:
            if component_id not in self.components:
                return "incident.component_ids must be ids of this page"
        if any(status not in _COMPONENT_STATUSES for status in changes.values()):
            return "incident.components has an invalid status"
        for component_id, status in changes.items():
            self.components[component_id]["status"] = status
        known = {c["id"] for c in incident["components"]}
        for component_id in ids:
            if component_id not in known:
                incident["components"].append(self.components[component_id])
        incident["components"] = [
            self.components[c["id"]] for c in incident["components"] if c["id"] in self.components
        ]
        return None

    def _create_incident(self, fields: dict[str, Any]) -> str:
        incident_id = self._id()
        scheduled = fields.get("status") in _SCHEDULED_STATUSES
        incident = {
            "id": incident_id,
            "page_id": self.page_id,
            "name": fields["name"],
            "status": fields.get("status", "scheduled" if scheduled else "investigating"),
            "impact": fields.get("impact_override", "maintenance" if scheduled else "minor"),
            "impact_override": fields.get("impact_override"),
            "metadata": fields.get("metadata", {}),
            "components": [],
            "incident_updates": [],
            "created_at": self._stamp(),
            "updated_at": self._stamp(),
            "resolved_at": None,
            "monitoring_at": None,
            "shortlink": f"https://stspg.io/{incident_id}",
            "scheduled_for": fields.get("scheduled_for"),
            "scheduled_until": fields.get("scheduled_until"),
            "scheduled_auto_in_progress": fields.get("scheduled_auto_in_progress", False),
            "scheduled_auto_completed": fields.get("scheduled_auto_completed", False),
            "auto_transition_to_maintenance_state": fields.get(
                "auto_transition_to_maintenance_state", False
            ),
            "auto_transition_to_operational_state": fields.get(
                "auto_transition_to_operational_state", False
            ),
        }
        self._apply_components(incident, fields)
        self._add_update(incident, fields)
        self.incidents[incident_id] = incident
        return incident_id

    def _add_update(self, incident: dict[str, Any], fields: dict[str, Any]) -> None:
        incident["incident_updates"].insert(
            0,
            {
                "id": self._id(),
                "incident_id": incident["id"],
                "status": incident["status"],
                "body": fields.get("body", ""),
                "created_at": self._stamp(),
                "display_at": self._stamp(),
                "affected_components": [
                    {"code": k, "new_status": v}
                    for k, v in (fields.get("components") or {}).items()
                ],
            },
        )

    def _check_incident_fields(self, fields: dict[str, Any], *, create: bool) -> str | None:
        if create and (not isinstance(fields.get("name"), str) or not fields["name"]):
            return "incident.name is required"
        if "name" in fields and len(str(fields["name"])) > 255:
            return "incident.name is longer than 255 characters"
        status = fields.get("status")
        if status is not None and status not in _INCIDENT_STATUSES + _SCHEDULED_STATUSES:
            return "incident.status is invalid"
        if fields.get("impact_override") not in (None, *_IMPACTS):
            return "incident.impact_override is invalid"
        metadata = fields.get("metadata")
        if metadata is not None and (
            not isinstance(metadata, dict)
            or any(not isinstance(v, dict) for v in metadata.values())
        ):
            return "incident.metadata top-level values must be objects"
        if status in _SCHEDULED_STATUSES and create:
            start, end = fields.get("scheduled_for"), fields.get("scheduled_until")
            try:
                begins = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
                ends = datetime.fromisoformat(str(end).replace("Z", "+00:00"))
            except ValueError:
                return "incident.scheduled_for and scheduled_until must be date-times"
            if ends <= begins:
                return "incident.scheduled_until must be after scheduled_for"
        return None

    def _incidents(self, method: str, rest: list[str], query: dict[str, str], body: Any) -> _Answer:
        missing: _Answer = (404, {"message": "The requested resource could not be found."}, {})
        everything = sorted(self.incidents.values(), key=lambda i: i["created_at"], reverse=True)
        lists = {
            "unresolved": [i for i in everything if i["status"] in _INCIDENT_STATUSES[:3]],
            "upcoming": [i for i in everything if i["status"] == "scheduled"],
            "scheduled": [i for i in everything if i["status"] in _SCHEDULED_STATUSES],
            "active_maintenance": [
                i for i in everything if i["status"] in ("in_progress", "verifying")
            ],
        }
        if not rest:
            if method == "GET":
                found = everything
                if "q" in query:
                    found = [i for i in found if query["q"].lower() in i["name"].lower()]
                return self._page_of(found, query, "limit", 1)
            if method == "POST":
                fields, error = self._envelope(body, "incident")
                if error:
                    return error
                problem = self._check_incident_fields(fields, create=True)
                if problem is None:
                    for component_id in [
                        *(fields.get("components") or {}),
                        *(fields.get("component_ids") or []),
                    ]:
                        if component_id not in self.components:
                            problem = "incident.component_ids must be ids of this page"
                if problem is not None:
                    return 422, {"message": problem}, {}
                incident_id = self._create_incident(fields)
                return 201, self.incidents[incident_id], {}
            return 405, {"message": "Method not allowed."}, {}
        if rest[0] in lists and len(rest) == 1:
            if method != "GET":
                return 405, {"message": "Method not allowed."}, {}
            return self._page_of(lists[rest[0]], query, "per_page", 1)
        incident = self.incidents.get(rest[0])
        if incident is not None and len(rest) == 3 and rest[1] == "incident_updates":
            update = next((u for u in incident["incident_updates"] if u["id"] == rest[2]), None)
            if update is None:
                return missing
            if method not in ("PATCH", "PUT"):
                return 405, {"message": "Method not allowed."}, {}
            fields, error = self._envelope(body, "incident_update")
            if error:
                return error
            update.update({k: v for k, v in fields.items() if k in ("body", "display_at")})
            return 200, update, {}
        if incident is None or len(rest) > 1:
            return missing
        if method == "GET":
            return 200, incident, {}
        if method == "DELETE":
            del self.incidents[rest[0]]
            return 200, incident, {}
        if method in ("PATCH", "PUT"):
            fields, error = self._envelope(body, "incident")
            if error:
                return error
            problem = self._check_incident_fields(fields, create=False)
            if problem is None:
                problem = self._apply_components(incident, fields)
            if problem is not None:
                return 422, {"message": problem}, {}
            for key in ("name", "status", "metadata", "impact_override"):
                if key in fields:
                    incident[key] = fields[key]
            if incident["status"] in ("resolved", "completed") and not incident["resolved_at"]:
                incident["resolved_at"] = self._stamp()
            incident["updated_at"] = self._stamp()
            self._add_update(incident, fields)
            return 200, incident, {}
        return 405, {"message": "Method not allowed."}, {}

    def _subscribers(
        self, method: str, rest: list[str], query: dict[str, str], body: Any
    ) -> _Answer:
        if not rest and method == "GET":
            state = query.get("state", "active")
            if state not in ("active", "unconfirmed", "quarantined", "all"):
                return 400, {"message": "state is invalid"}, {}
            kind = query.get("type")
            found = [
                s
                for s in self.subscribers.values()
                if (state == "all" or s["state"] == state) and (kind is None or s["mode"] == kind)
            ]
            return self._page_of(found, query, "limit", 0)
        if not rest and method == "POST":
            fields, error = self._envelope(body, "subscriber")
            if error:
                return error
            if not any(fields.get(k) for k in ("email", "endpoint", "phone_number")):
                return 422, {"message": "subscriber needs an email, endpoint or phone_number"}, {}
            ids = fields.get("component_ids")
            if ids is not None and (not ids or any(i not in self.components for i in ids)):
                return 422, {"message": "component_ids must be ids of this page"}, {}
            subscriber_id = self._id()
            mode = (
                "webhook"
                if fields.get("endpoint")
                else ("sms" if fields.get("phone_number") else "email")
            )
            subscriber = {
                "id": subscriber_id,
                "mode": mode,
                "email": fields.get("email"),
                "endpoint": fields.get("endpoint"),
                "phone_number": fields.get("phone_number"),
                "phone_country": fields.get("phone_country"),
                "skip_confirmation_notification": fields.get(
                    "skip_confirmation_notification", False
                ),
                "components": ids or list(self.components),
                "created_at": self._stamp(),
                "quarantined_at": None,
                "purge_at": None,
                "state": "active",
            }
            self.subscribers[subscriber_id] = subscriber
            return 201, {k: v for k, v in subscriber.items() if k != "state"}, {}
        if len(rest) == 1 and rest[0] in self.subscribers:
            if method == "GET":
                return 200, self.subscribers[rest[0]], {}
            if method == "DELETE":
                return 200, self.subscribers.pop(rest[0]), {}
        return 404, {"message": "The requested resource could not be found."}, {}

    def add_subscribers(self, count: int) -> None:
        """Create ``count`` e-mail subscribers (for paging tests)."""
        with self._lock:
            for index in range(count):
                subscriber_id = self._id()
                self.subscribers[subscriber_id] = {
                    "id": subscriber_id,
                    "mode": "email",
                    "email": f"user{index}@example.org",
                    "created_at": self._stamp(),
                    "state": "active",
                    "components": [],
                }


class FakePagerDuty(_FakeServer):
    """A fake PagerDuty Events API v2 (``POST /v2/enqueue``) on 127.0.0.1.

    Checks the body as PagerDuty does (``routing_key`` of 32 characters, ``event_action``,
    a ``payload`` with ``summary``, ``source`` and ``severity`` on a trigger, a ``dedup_key``
    on acknowledge/resolve) and answers 202 with ``{"status", "message", "dedup_key"}`` or 400
    with ``{"status", "message", "errors"}``. ``alerts`` maps each dedup key to its state.

    Examples:
        >>> import httpx
        >>> with FakePagerDuty() as pd:
        ...     httpx.post(f"{pd.url}/v2/enqueue", json={"routing_key": "r" * 32,
        ...         "event_action": "resolve", "dedup_key": "k"}).status_code
        202
    """

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.alerts: dict[str, str] = {}
        super().__init__(clock=clock)

    def error_body(self, status: int) -> Any:
        """PagerDuty's error body."""
        return {"status": "error", "message": f"error {status}", "errors": []}

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> _Answer:
        """Validate and answer one event."""
        if method != "POST" or path != "/v2/enqueue":
            return 404, {"status": "error", "message": "Not found"}, {}
        errors: list[str] = []
        if not isinstance(body, dict):
            return (
                400,
                {
                    "status": "invalid event",
                    "message": "Event object is invalid",
                    "errors": ["body must be a JSON object"],
                },
                {},
            )
        routing_key = body.get("routing_key")
        if not isinstance(routing_key, str) or len(routing_key) != 32:
            errors.append("'routing_key' must be a 32 character string")
        action = body.get("event_action")
        if action not in ("trigger", "acknowledge", "resolve"):
            errors.append("'event_action' is invalid")
        dedup_key = body.get("dedup_key")
        if action == "trigger":
            payload = body.get("payload")
            if not isinstance(payload, dict):
                errors.append("'payload' is missing")
            else:
                errors.extend(
                    f"'payload.{key}' is missing"
                    for key in ("summary", "source", "severity")
                    if not isinstance(payload.get(key), str) or not payload[key]
                )
                if payload.get("severity") not in ("critical", "error", "warning", "info"):
                    errors.append("'payload.severity' is invalid")
                if len(str(payload.get("summary", ""))) > 1024:
                    errors.append("'payload.summary' is longer than 1024 characters")
            dedup_key = dedup_key or uuid.uuid4().hex
        elif not isinstance(dedup_key, str) or not dedup_key:
            errors.append("'dedup_key' is required")
        if errors:
            return (
                400,
                {"status": "invalid event", "message": "Event object is invalid", "errors": errors},
                {},
            )
        with self._lock:
            self.alerts[str(dedup_key)] = {
                "trigger": "triggered",
                "acknowledge": "acknowledged",
                "resolve": "resolved",
            }[str(action)]
        return 202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key}, {}


@dataclass(frozen=True)
class TlsServer:
    """A running local HTTPS server (see `tls_server`).

    Attributes:
        host: ``127.0.0.1``.
        port: Its port.
        url: ``https://localhost:<port>/``.
        ca_file: PEM file of the CA that signed the certificate (trust it to verify).
        expires_at: The certificate's ``not_valid_after``.
    """

    host: str
    port: int
    url: str
    ca_file: str
    expires_at: datetime


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""


@contextmanager
def tls_server(
    kind: str = "valid", *, days: int = 90, clock: Clock | None = None
) -> Iterator[TlsServer]:
    """Serve HTTPS on 127.0.0.1 with a certificate made for the test.

    Args:
        kind: ``valid`` (signed by the returned CA for ``localhost`` and ``127.0.0.1``),
            ``expired`` (valid in every other way, ended yesterday), ``self_signed`` (its own
            issuer) or ``wrong_host`` (signed by the CA for ``other.example``).
        days: Days until a ``valid`` certificate expires.
        clock: The clock the validity dates are based on.

    Yields:
        The server's address and the CA file.

    Raises:
        InvalidInputError: Unknown ``kind``.

    Examples:
        >>> import ssl, socket
        >>> with tls_server("expired") as server:
        ...     server.url.startswith("https://localhost:")
        True
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    kinds = ("valid", "expired", "self_signed", "wrong_host")
    if kind not in kinds:
        raise InvalidInputError("kind", "must be one of: " + ", ".join(kinds))
    now = (clock if clock is not None else SystemClock()).now()

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(name("uh-status-page test CA"))
        .issuer_name(name("uh-status-page test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    hosts = ["other.example"] if kind == "wrong_host" else ["localhost"]
    alt: list[x509.GeneralName] = [x509.DNSName(h) for h in hosts]
    if kind != "wrong_host":
        alt.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    if kind == "expired":
        begins, ends = now - timedelta(days=91), now - timedelta(days=1)
    else:
        begins, ends = now - timedelta(days=1), now + timedelta(days=days)
    subject = name(hosts[0])
    issuer, signer = (subject, key) if kind == "self_signed" else (ca_cert.subject, ca_key)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(begins)
        .not_valid_after(ends)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .sign(signer, hashes.SHA256())
    )
    with tempfile.TemporaryDirectory() as folder:
        cert_file = Path(folder, "cert.pem")
        key_file = Path(folder, "key.pem")
        ca_file = Path(folder, "ca.pem")
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        port = server.server_address[1]
        try:
            yield TlsServer(
                host="127.0.0.1",
                port=port,
                url=f"https://localhost:{port}/",
                ca_file=str(ca_file),
                expires_at=ends,
            )
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


class FakePublicFeed(_FakeServer):
    """A public status page on 127.0.0.1 serving ``/api/v2/summary.json`` with ETags.

    It serves the documents of a `SelfHostedStatusPage`, so a test changes the page and the
    feed follows. ``not_modified`` counts the ``304`` answers.

    Args:
        page: The page to publish.

    Examples:
        >>> import httpx
        >>> from unified_health.status_page import SelfHostedStatusPage
        >>> with FakePublicFeed(SelfHostedStatusPage(components=["api"])) as feed:
        ...     httpx.get(f"{feed.url}/api/v2/summary.json").json()["status"]["indicator"]
        'none'
    """

    def __init__(self, page: Any, *, clock: Clock | None = None) -> None:
        self.page = page
        self.not_modified = 0
        super().__init__(clock=clock)

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> _Answer:
        """Serve the page's public documents with an ETag."""
        documents = {
            "/api/v2/summary.json": self.page.summary_json,
            "/api/v2/status.json": self.page.status_json,
        }
        if method != "GET" or path not in documents:
            return 404, {"error": "not found"}, {}
        document = documents[path]()
        document["page"].pop("updated_at", None)
        import hashlib

        etag = '"' + hashlib.sha256(json.dumps(document).encode()).hexdigest()[:32] + '"'
        if headers.get("if-none-match") == etag:
            with self._lock:
                self.not_modified += 1
            return 304, None, {"ETag": etag}
        return 200, document, {"ETag": etag}
