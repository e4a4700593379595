"""Test helpers for code that uses uh-support.

A fake clock, log capture and the in-memory store.

The family's ``testing`` modules share these names and shapes: `FakeClock` (``now``,
``monotonic``, ``advance``, ``sleep``, ``sleeps``) and `capture_logs`. Package-specific fakes
(fake vendor servers, builders) are added beside them.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from unified_health.support._errors import InvalidInputError
from unified_health.support._logging import LOGGER_NAME
from unified_health.support.stores._memory import InMemoryTicketStore

__all__ = ["FakeClock", "FakeIntercom", "FakeZendesk", "InMemoryTicketStore", "capture_logs"]

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
        >>> from unified_health.support._logging import logger
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


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class FakeZendesk:
    """A fake Zendesk Tickets API: real HTTP on 127.0.0.1, in a thread.

    It checks basic auth (``email/token:api_token``), requires a first comment on create,
    honours ``Idempotency-Key`` (same key and body: the same ticket with
    ``x-idempotency-lookup: hit``; another body: 400 ``IdempotentRequestError``), refuses a
    ``safe_update`` whose ``updated_stamp`` is stale with 409, pages with cursors, serves the
    incremental cursor export, and can be told to rate limit, fail or lose an answer.

    Args:
        email: The accepted agent e-mail.
        api_token: The accepted API token.
        requests_per_minute: Zendesk's rate limit; past it, 429 with ``Retry-After`` until the
            minute (read from ``clock``) is over. ``None``: no limit.
        clock: The fake's time source for the rate limit (a `FakeClock` in tests).

    Examples:
        >>> with FakeZendesk() as zendesk:
        ...     zendesk.url.startswith("http://127.0.0.1:")
        True
    """

    def __init__(
        self,
        *,
        email: str = "agent@example.test",
        api_token: str = "token",
        requests_per_minute: int | None = None,
        clock: FakeClock | None = None,
    ) -> None:
        self.requests_per_minute = requests_per_minute
        self._clock = clock if clock is not None else FakeClock()
        self._window: tuple[int, int] = (-1, 0)
        self.email = email
        self.api_token = api_token
        self.tickets: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str]] = []
        self._keys: dict[str, tuple[str, int]] = {}
        self._failures: list[tuple[int, float | None]] = []
        self._lose: list[float] = []
        self._next_id = 1
        self._tick = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = make_server(
            "127.0.0.1", 0, self._app, server_class=_Server, handler_class=_Quiet
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def fail_next(self, status: int, *, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (and ``Retry-After`` if given)."""
        with self._lock:
            self._failures.extend([(status, retry_after)] * times)

    def lose_next_answer(self, seconds: float) -> None:
        """Commit the next request, then hold its answer ``seconds`` (past the client timeout)."""
        with self._lock:
            self._lose.append(seconds)

    def stop(self) -> None:
        """Stop serving."""
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeZendesk:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _limited(self) -> float | None:
        if self.requests_per_minute is None:
            return None
        now = self._clock.now().timestamp()
        minute = int(now // 60)
        start, count = self._window
        count = count + 1 if start == minute else 1
        self._window = (minute, count)
        if count > self.requests_per_minute:
            return float(60 - int(now % 60))
        return None

    def _stamp(self) -> str:
        self._tick += 1
        moment = _DEFAULT_START + timedelta(seconds=self._tick)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _page(self, items: list[Any], key: str, query: dict[str, list[str]], path: str) -> Any:
        size = int(query.get("page[size]", ["100"])[0])
        after = int(query.get("page[after]", ["0"])[0])
        chunk = items[after : after + size]
        more = after + size < len(items)
        following = f"{self.url}{path}?page[size]={size}&page[after]={after + size}"
        return {
            key: chunk,
            "meta": {"has_more": more, "after_cursor": str(after + size)},
            "links": {"next": following if more else None},
        }

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Any,
    ) -> tuple[int, Any, dict[str, str]]:
        expected = base64.b64encode(f"{self.email}/token:{self.api_token}".encode()).decode()
        if headers.get("authorization") != f"Basic {expected}":
            return 401, {"error": "Couldn't authenticate you"}, {}
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/api/v2/tickets.json":
            ticket = body.get("ticket") if isinstance(body, dict) else None
            if not isinstance(ticket, dict) or not (ticket.get("comment") or {}).get("body"):
                return (
                    422,
                    {
                        "error": "RecordInvalid",
                        "details": {"base": [{"description": "Description: cannot be blank"}]},
                    },
                    {},
                )
            key = headers.get("idempotency-key")
            canonical = json.dumps(ticket, sort_keys=True)
            if key and key in self._keys:
                seen, ticket_id = self._keys[key]
                if seen != canonical:
                    return (
                        400,
                        {
                            "error": "IdempotentRequestError",
                            "description": "key reused with another payload",
                        },
                        {},
                    )
                return 201, {"ticket": self.tickets[ticket_id]}, {"x-idempotency-lookup": "hit"}
            ticket_id = self._next_id
            self._next_id += 1
            stamp = self._stamp()
            stored = {
                "id": ticket_id,
                "subject": ticket.get("subject"),
                "description": ticket["comment"]["body"],
                "status": ticket.get("status", "new"),
                "priority": ticket.get("priority"),
                "requester_id": 1000 + ticket_id,
                "assignee_id": ticket.get("assignee_id"),
                "tags": ticket.get("tags", []),
                "custom_fields": ticket.get("custom_fields", []),
                "external_id": ticket.get("external_id"),
                "created_at": stamp,
                "updated_at": stamp,
            }
            self.tickets[ticket_id] = stored
            self.comments[ticket_id] = [
                {
                    "id": 1,
                    "author_id": 1000 + ticket_id,
                    "public": True,
                    "body": ticket["comment"]["body"],
                    "created_at": stamp,
                }
            ]
            if key:
                self._keys[key] = (canonical, ticket_id)
            return 201, {"ticket": stored}, {"x-idempotency-lookup": "miss"}
        if method == "GET" and path == "/api/v2/tickets.json":
            items = [self.tickets[k] for k in sorted(self.tickets)]
            return 200, self._page(items, "tickets", query, path), {}
        if method == "GET" and path == "/api/v2/incremental/tickets/cursor.json":
            start = int(query.get("cursor", query.get("start_time", ["0"]))[0] or 0)
            items = [self.tickets[k] for k in sorted(self.tickets) if k > start][:2]
            last = items[-1]["id"] if items else start
            end = not any(k > last for k in self.tickets)
            return 200, {"tickets": items, "after_cursor": str(last), "end_of_stream": end}, {}
        if len(parts) >= 4 and parts[:3] == ["api", "v2", "tickets"]:
            ticket_id = int(parts[3].split(".")[0]) if parts[3].split(".")[0].isdigit() else -1
            found = self.tickets.get(ticket_id)
            if found is None:
                return 404, {"error": "RecordNotFound", "description": "Not found"}, {}
            stored = found
            if method == "GET" and len(parts) == 5 and parts[4] == "comments.json":
                return 200, self._page(self.comments[ticket_id], "comments", query, path), {}
            if method == "GET":
                return 200, {"ticket": stored}, {}
            if method == "PUT":
                change = body.get("ticket") if isinstance(body, dict) else None
                if not isinstance(change, dict):
                    return 400, {"error": "InvalidEndpoint"}, {}
                if stored["status"] == "closed":
                    return 422, {"error": "RecordInvalid", "description": "closed"}, {}
                if (
                    change.get("safe_update")
                    and change.get("updated_stamp") != stored["updated_at"]
                ):
                    return 409, {"error": "UpdateConflict", "description": "stale"}, {}
                for name in (
                    "subject",
                    "status",
                    "priority",
                    "tags",
                    "assignee_id",
                    "custom_fields",
                ):
                    if name in change:
                        stored[name] = change[name]
                stored["updated_at"] = self._stamp()
                comment = change.get("comment")
                if isinstance(comment, dict) and comment.get("body"):
                    self.comments[ticket_id].append(
                        {
                            "id": len(self.comments[ticket_id]) + 1,
                            "author_id": 1,
                            "public": comment.get("public", True),
                            "body": comment["body"],
                            "created_at": stored["updated_at"],
                        }
                    )
                return 200, {"ticket": stored}, {}
        return 404, {"error": "InvalidEndpoint"}, {}

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self._lock:
            self.requests.append((method, path))
            failure = self._failures.pop(0) if self._failures else None
            lose = self._lose.pop(0) if self._lose else None
            limited = self._limited()
            if failure is None and limited is not None:
                failure = (429, limited)
            if failure is not None:
                status, retry_after = failure
                payload: Any = {"error": "APIRateLimitExceeded" if status == 429 else "Error"}
                extra = {} if retry_after is None else {"Retry-After": str(retry_after)}
            else:
                status, payload, extra = self._route(
                    method, path, parse_qs(environ.get("QUERY_STRING", "")), headers, body
                )
        if lose is not None:
            self._stop.wait(lose)
        out = json.dumps(payload).encode()
        start_response(
            f"{status} Fake",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(out))),
                ("X-Zendesk-Request-Id", f"req-{len(self.requests)}"),
                *extra.items(),
            ],
        )
        return iter([out])


_INTERCOM_VERSIONS = frozenset({"2.10", "2.11", "2.12", "2.13", "2.14", "Unstable"})
_CATEGORIES = ("submitted", "in_progress", "waiting_on_customer", "resolved")


class FakeIntercom:
    """A fake Intercom Tickets API: real HTTP on 127.0.0.1, answering the documented shapes.

    It checks the bearer token and the ``Intercom-Version`` header, requires ``ticket_type_id``
    and ``contacts`` on create, searches tickets by attribute, serves ``/ticket_states``, and
    can be told to fail or to lose the answer to a create after committing it.

    Args:
        access_token: The accepted token.

    Examples:
        >>> with FakeIntercom() as intercom:
        ...     intercom.url.startswith("http://127.0.0.1:")
        True
    """

    def __init__(self, *, access_token: str = "token") -> None:
        self.access_token = access_token
        self.tickets: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self._failures: list[tuple[int, float | None]] = []
        self._lose: list[float] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._tick = int(_DEFAULT_START.timestamp())
        self._server = make_server(
            "127.0.0.1", 0, self._app, server_class=_Server, handler_class=_Quiet
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def fail_next(self, status: int, *, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next ``times`` requests with ``status``."""
        with self._lock:
            self._failures.extend([(status, retry_after)] * times)

    def lose_next_answer(self, seconds: float) -> None:
        """Commit the next request, then hold its answer ``seconds`` (past the client timeout)."""
        with self._lock:
            self._lose.append(seconds)

    def stop(self) -> None:
        """Stop serving."""
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeIntercom:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @staticmethod
    def _error(code: str, message: str) -> dict[str, Any]:
        return {
            "type": "error.list",
            "request_id": "req-fake",
            "errors": [{"code": code, "message": message}],
        }

    @staticmethod
    def _state(category: str) -> dict[str, Any]:
        index = _CATEGORIES.index(category)
        label = category.replace("_", " ").capitalize()
        return {
            "type": "ticket_state",
            "id": str(8000 + index),
            "category": category,
            "internal_label": label,
            "external_label": label,
        }

    def _route(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        if headers.get("authorization") != f"Bearer {self.access_token}":
            return 401, self._error("unauthorized", "Access Token Invalid")
        if headers.get("intercom-version", "2.14") not in _INTERCOM_VERSIONS:
            return 400, self._error("intercom_version_invalid", "Requested version is invalid")
        if method == "GET" and path == "/ticket_states":
            return 200, {"type": "list", "data": [self._state(c) for c in _CATEGORIES]}
        if method == "POST" and path == "/tickets":
            if (
                not isinstance(body, dict)
                or not body.get("ticket_type_id")
                or not body.get("contacts")
            ):
                return 400, self._error("parameter_not_found", "ticket_type_id and contacts")
            self._tick += 1
            ticket_id = str(600 + len(self.tickets) + 1)
            contact = body["contacts"][0]
            self.tickets[ticket_id] = {
                "type": "ticket",
                "id": ticket_id,
                "ticket_id": str(len(self.tickets) + 1),
                "category": "Customer",
                "ticket_attributes": dict(body.get("ticket_attributes") or {}),
                "ticket_state": self._state("submitted"),
                "ticket_type": {
                    "type": "ticket_type",
                    "id": str(body["ticket_type_id"]),
                    "name": "Support",
                    "category": "Customer",
                },
                "contacts": {
                    "type": "contact.list",
                    "contacts": [
                        {
                            "type": "contact",
                            "id": f"c-{ticket_id}",
                            "external_id": contact.get("external_id") or contact.get("email"),
                        }
                    ],
                },
                "admin_assignee_id": "0",
                "team_assignee_id": "0",
                "created_at": self._tick,
                "updated_at": self._tick,
                "open": True,
                "is_shared": True,
            }
            return 200, self.tickets[ticket_id]
        if method == "POST" and path == "/tickets/search":
            query = (body or {}).get("query") or {}
            field = str(query.get("field", ""))
            found = list(self.tickets.values())
            if field.startswith("ticket_attribute."):
                name = field.removeprefix("ticket_attribute.")
                found = [t for t in found if t["ticket_attributes"].get(name) == query.get("value")]
            per_page = int(((body or {}).get("pagination") or {}).get("per_page", 50))
            start = int(((body or {}).get("pagination") or {}).get("starting_after") or 0)
            page = found[start : start + per_page]
            more = start + per_page < len(found)
            pages: dict[str, Any] = {
                "type": "pages",
                "page": start // per_page + 1,
                "per_page": per_page,
                "total_pages": 1,
            }
            if more:
                pages["next"] = {"per_page": per_page, "starting_after": str(start + per_page)}
            return 200, {
                "type": "ticket.list",
                "tickets": page,
                "total_count": len(found),
                "pages": pages,
            }
        if path.startswith("/tickets/"):
            stored = self.tickets.get(path.removeprefix("/tickets/"))
            if stored is None:
                return 404, self._error("ticket_not_found", "Ticket not found")
            if method == "GET":
                return 200, stored
            if method == "PUT" and isinstance(body, dict):
                state_id = body.get("ticket_state_id")
                if state_id is not None:
                    states = {self._state(c)["id"]: c for c in _CATEGORIES}
                    if state_id not in states:
                        return 400, self._error("parameter_invalid", "unknown ticket state")
                    stored["ticket_state"] = self._state(states[state_id])
                if "open" in body:
                    stored["open"] = bool(body["open"])
                if "assignee_id" in body:
                    stored["admin_assignee_id"] = str(body["assignee_id"] or "0")
                self._tick += 1
                stored["updated_at"] = self._tick
                return 200, stored
        return 404, self._error("not_found", "Resource Not Found")

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        extra: dict[str, str] = {}
        with self._lock:
            self.requests.append((method, path))
            failure = self._failures.pop(0) if self._failures else None
            lose = self._lose.pop(0) if self._lose else None
            if failure is not None:
                status, retry_after = failure
                payload: Any = self._error(
                    "rate_limit_exceeded" if status == 429 else "server_error", "scripted failure"
                )
                if retry_after is not None:
                    extra["Retry-After"] = str(int(retry_after))
            else:
                status, payload = self._route(method, path, headers, body)
        if lose is not None:
            self._stop.wait(lose)
        out = json.dumps(payload).encode()
        start_response(
            f"{status} Fake",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(out))),
                ("X-Request-Id", "req-fake"),
                *extra.items(),
            ],
        )
        return iter([out])
