"""Test helpers shipped with the library: fake vendor servers, a fake clock, log capture.

The fake vendors are real HTTP servers on 127.0.0.1 (a thread serving a small WSGI app on a free
port). They check credentials, required fields and the documented count and byte limits, answer
in each vendor's documented shapes (per-event 400s included), deduplicate by insert id the way
the vendors do, and can be told to fail, throttle or stall::

    with FakePostHog() as vendor:
        client = AnalyticsClient([vendor.provider()], default_consent="analytics")
        client.track("page_viewed", user_id="user-1")
        client.shutdown()
        assert len(vendor.events) == 1
"""

from __future__ import annotations

import abc
import base64
import gzip
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from socketserver import ThreadingMixIn
from typing import Any, Self
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from unified_health.analytics._errors import InvalidInputError
from unified_health.analytics._logging import LOGGER_NAME
from unified_health.analytics.providers._amplitude import AmplitudeProvider
from unified_health.analytics.providers._mixpanel import MixpanelProvider
from unified_health.analytics.providers._posthog import PostHogProvider
from unified_health.analytics.providers._recording import (
    RecordedRequest,
    RecordingProvider,
    RecordingTransport,
)
from unified_health.analytics.stores._memory import (
    InMemoryConsentStore,
    InMemorySpillStore,
    InMemorySurrogateIdStore,
)

__all__ = [
    "FakeAmplitude",
    "FakeClock",
    "FakeMixpanel",
    "FakePostHog",
    "FakeVendorServer",
    "InMemoryConsentStore",
    "InMemorySpillStore",
    "InMemorySurrogateIdStore",
    "ReceivedRequest",
    "RecordedRequest",
    "RecordingProvider",
    "RecordingTransport",
    "capture_logs",
]

MB = 1024 * 1024
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_DEFAULT_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
Respond = tuple[int, Any, dict[str, str]]
EventCheck = Callable[[dict[str, Any]], str | None]


class FakeClock:
    """A `Clock` that moves only when told to; ``sleep`` advances it instead of waiting.

    Pass it as ``clock=`` and its ``sleep`` wherever the package takes a ``sleep=`` function.

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
        given: object = _DEFAULT_START if start is None else start  # callers may pass anything
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
        >>> from unified_health.analytics._logging import logger
        >>> with capture_logs() as events:
        ...     logger.info("consent_updated", purged=0)
        >>> events
        [{'event': 'consent_updated', 'purged': 0, 'log_level': 'info'}]
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


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One request a fake vendor received (body decompressed and decoded)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw_size: int
    payload: Any
    status: int


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128


class FakeVendorServer(abc.ABC):
    """Base of the fake vendors: a threaded WSGI server on 127.0.0.1 with failure controls.

    Args:
        latency: Seconds every answer is delayed (a real vendor is tens of ms away).

    Examples:
        >>> with FakePostHog() as vendor:
        ...     vendor.url.startswith("http://127.0.0.1:")
        True
    """

    def __init__(self, *, latency: float = 0.0) -> None:
        self.latency = latency
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._scripted: list[tuple[int, float | None, Any, str | None]] = []
        self._stalls: list[tuple[float, bool, str | None]] = []
        self._checks: list[EventCheck] = []
        self._requests: list[ReceivedRequest] = []
        self._events: list[dict[str, Any]] = []
        self._ids: dict[str, int] = {}
        self._server = make_server(
            "127.0.0.1", 0, self._app, server_class=_Server, handler_class=_Quiet
        )
        self.port: int = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-{type(self).__name__}",
            daemon=True,
        )
        self._thread.start()

    # -- controls ------------------------------------------------------------------------------
    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: float | None = None,
        body: Any = None,
        path: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (vendor-shaped body by default).

        With ``path`` only requests to that path (``"/engage"``) are failed.
        """
        with self._lock:
            self._scripted.extend([(status, retry_after, body, path)] * times)

    def stall_next(
        self, seconds: float, *, times: int = 1, commit: bool = False, path: str | None = None
    ) -> None:
        """Hold the next requests (to ``path``, if given) for ``seconds`` before answering.

        With ``commit=True`` the events are ingested first, as when a vendor stores a batch and
        the answer is lost to a client timeout: the retry must not double count.
        """
        with self._lock:
            self._stalls.extend([(seconds, commit, path)] * times)

    def reject_events(self, check: EventCheck) -> None:
        """Add a per-event validation: return a field name to reject the event, else ``None``."""
        with self._lock:
            self._checks.append(check)

    # -- observations --------------------------------------------------------------------------
    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request received, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def events(self) -> list[dict[str, Any]]:
        """Ingested events, deduplicated by insert id as the vendor would count them."""
        with self._lock:
            return list(self._events)

    @property
    def duplicates(self) -> int:
        """Events received again with an insert id already ingested (not counted twice)."""
        with self._lock:
            return sum(n - 1 for n in self._ids.values())

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

    # -- vendor specifics ----------------------------------------------------------------------
    @abc.abstractmethod
    def handle(self, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: bytes) -> tuple[Respond, list[dict[str, Any]]]:  # fmt: skip
        """Validate one request; return the answer and the events it ingests."""

    def error_body(self, status: int) -> Any:
        """The vendor's body for a scripted error."""
        return {"code": status, "error": _REASONS.get(status, "error")}

    @abc.abstractmethod
    def insert_id_of(self, event: dict[str, Any]) -> str:
        """The vendor's deduplication key of an event."""

    def _check(self, event: dict[str, Any]) -> str | None:
        for check in self._checks:
            field = check(event)
            if field:
                return field
        return None

    def _ingest(self, events: Iterable[dict[str, Any]]) -> None:
        with self._lock:
            for event in events:
                key = self.insert_id_of(event)
                self._ids[key] = self._ids.get(key, 0) + 1
                if self._ids[key] == 1:
                    self._events.append(event)

    # -- WSGI ----------------------------------------------------------------------------------
    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        body = raw
        if headers.get("content-encoding") == "gzip":
            try:
                body = gzip.decompress(raw)
            except OSError:
                body = b"\x00"
        query = parse_qs(environ.get("QUERY_STRING", ""))
        path = environ.get("PATH_INFO", "")
        with self._lock:
            scripted = _pop_for(self._scripted, path)
            stall = _pop_for(self._stalls, path)
        if self.latency:
            self._stop.wait(self.latency)
        ingested: list[dict[str, Any]] = []
        extra: dict[str, str] = {"X-Request-Id": f"req-{len(self._requests) + 1}"}
        if scripted is not None:
            status, retry_after, custom, _ = scripted
            payload = custom if custom is not None else self.error_body(status)
            if retry_after is not None:
                extra["Retry-After"] = str(retry_after)
        else:
            (status, payload, more), ingested = self.handle(path, query, headers, body)
            extra.update(more)
        if stall is not None:
            seconds, commit, _ = stall
            if commit:
                self._ingest(ingested)
                ingested = []
            self._stop.wait(seconds)
        self._ingest(ingested)
        try:
            decoded: Any = json.loads(body) if body else None
        except ValueError:
            decoded = None
        with self._lock:
            self._requests.append(
                ReceivedRequest("POST", path, query, headers, len(body), decoded, status)
            )
        out = json.dumps(payload).encode()
        start_response(
            f"{status} {_REASONS.get(status, 'Status')}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(out))),
             *extra.items()],
        )  # fmt: skip
        return iter([out])


def _pop_for(pending: list[Any], path: str) -> Any:
    """Take the first scripted entry (its last item is a path or ``None``) that applies."""
    for index, entry in enumerate(pending):
        if entry[-1] is None or entry[-1] == path:
            return pending.pop(index)
    return None


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


_PROFILE_OPS = {
    "/engage": ("$set", "$set_once", "$add", "$union", "$append", "$remove", "$unset", "$delete"),
    "/groups": ("$set", "$set_once", "$union", "$remove", "$unset", "$delete"),
}
_PROFILE_IDS = {"/engage": ("$distinct_id",), "/groups": ("$group_key", "$group_id")}


class FakeMixpanel(FakeVendorServer):
    """A fake Mixpanel Ingestion API: ``/import``, ``/engage`` and ``/groups``.

    ``/import`` checks Basic auth and ``project_id``; 2,000 events / 10 MB per request, 1 MB and
    fewer than 255 properties per event; answers 400 with ``failed_records``, 401, 413 and 429.
    ``/engage`` and ``/groups`` check the project token in every update (401 when it is wrong),
    the ids (``$distinct_id``; ``$group_key`` and ``$group_id``) and exactly one known operation;
    2,000 updates per request and 1 MB per update. With ``strict=1`` invalid updates are listed
    in a 400's ``failed_records`` (the valid ones are applied); without it the answer is ``1``
    when at least one update was valid, else ``0``. Profiles are kept in `profiles` and
    `group_profiles`; requests without ``ip=0`` are counted in `geolocated_requests`.

    Examples:
        >>> with FakeMixpanel() as vendor:
        ...     vendor.provider().base_url == vendor.url
        True
    """

    def __init__(
        self,
        *,
        project_id: str = "1234567",
        secret: str = "mp-service-secret",
        service_account: str = "sa.user",
        token: str = "mp-project-token",
        latency: float = 0.0,
    ) -> None:
        self.project_id = project_id
        self.secret = secret
        self.service_account = service_account
        self.token = token
        self._profiles: dict[str, dict[str, Any]] = {}
        self._group_profiles: dict[tuple[str, str], dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._geolocated = 0
        super().__init__(latency=latency)

    def provider(self, **options: Any) -> MixpanelProvider:
        """A `MixpanelProvider` pointed at this server (with its project token by default)."""
        options.setdefault("project_token", self.token)
        return MixpanelProvider(
            self.project_id,
            self.secret,
            service_account=self.service_account,
            base_url=self.url,
            **options,
        )

    # -- observations --------------------------------------------------------------------------
    @property
    def profiles(self) -> dict[str, dict[str, Any]]:
        """User profiles by ``$distinct_id``, as the applied ``/engage`` updates left them."""
        with self._lock:
            return {key: dict(value) for key, value in self._profiles.items()}

    @property
    def group_profiles(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Group profiles by ``($group_key, $group_id)``, as ``/groups`` updates left them."""
        with self._lock:
            return {key: dict(value) for key, value in self._group_profiles.items()}

    @property
    def profile_updates(self) -> list[dict[str, Any]]:
        """Every applied ``/engage`` and ``/groups`` update, oldest first (not deduplicated)."""
        with self._lock:
            return list(self._updates)

    @property
    def geolocated_requests(self) -> int:
        """Profile requests sent without ``ip=0`` (Mixpanel would geolocate the sender)."""
        with self._lock:
            return self._geolocated

    def insert_id_of(self, event: dict[str, Any]) -> str:
        """Mixpanel deduplicates on (event, time, distinct_id, $insert_id)."""
        p = event.get("properties", {})
        return f"{event.get('event')}|{p.get('time')}|{p.get('distinct_id')}|{p.get('$insert_id')}"

    def _ingest(self, events: Iterable[dict[str, Any]]) -> None:
        imported: list[dict[str, Any]] = []
        with self._lock:
            for record in events:
                if "$token" not in record:
                    imported.append(record)
                    continue
                self._updates.append(record)
                if "$group_key" in record:
                    key = (str(record["$group_key"]), str(record["$group_id"]))
                    self._apply(self._group_profiles, key, record)
                else:
                    self._apply(self._profiles, str(record["$distinct_id"]), record)
        super()._ingest(imported)

    @staticmethod
    def _apply(store: dict[Any, dict[str, Any]], key: Any, update: dict[str, Any]) -> None:
        profile = store.setdefault(key, {})
        if "$delete" in update:
            store.pop(key, None)
        elif isinstance(update.get("$set"), dict):
            profile.update(update["$set"])
        elif isinstance(update.get("$set_once"), dict):
            for name, value in update["$set_once"].items():
                profile.setdefault(name, value)
        elif isinstance(update.get("$unset"), list):
            for name in update["$unset"]:
                profile.pop(name, None)

    # -- requests ------------------------------------------------------------------------------
    def handle(self, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: bytes) -> tuple[Respond, list[dict[str, Any]]]:  # fmt: skip
        """Validate an ``/import``, ``/engage`` or ``/groups`` request."""
        if path in _PROFILE_OPS:
            return self._handle_profiles(path, query, body)
        expected = base64.b64encode(f"{self.service_account}:{self.secret}".encode()).decode()
        if path != "/import":
            return (404, {"code": 404, "error": "not found", "status": "Not Found"}, {}), []
        if headers.get("authorization") != f"Basic {expected}" or query.get("project_id") != [
            self.project_id
        ]:
            return (401, {"code": 401, "error": "Invalid credentials", "status": "Unauthorized"},
                    {}), []  # fmt: skip
        if len(body) > 10 * MB:
            return (413, {"code": 413, "error": f"request exceeds max limit of {10 * MB} bytes",
                          "status": "Request Entity Too Large"}, {}), []  # fmt: skip
        events = _json(body)
        if not isinstance(events, list) or not events or len(events) > 2000:
            return (400, {"code": 400, "error": "request must be a JSON array of 1 to 2000 events",
                          "status": "Bad Request", "failed_records": []}, {}), []  # fmt: skip
        failed: list[dict[str, Any]] = []
        good: list[dict[str, Any]] = []
        may_be_big = len(body) > MB  # no single event can exceed 1 MB otherwise
        for index, event in enumerate(events):
            field = self._validate(event, may_be_big)
            if field:
                props = event.get("properties") if isinstance(event, dict) else None
                failed.append({
                    "index": index,
                    "insert_id": (props or {}).get("$insert_id", ""),
                    "field": field,
                    "message": f"'{field}' is invalid",
                })  # fmt: skip
            else:
                good.append(event)
        if failed:
            return (400, {"code": 400, "num_records_imported": len(good), "status": "Bad Request",
                          "failed_records": failed}, {}), good  # fmt: skip
        return (200, {"code": 200, "num_records_imported": len(good), "status": "OK"}, {}), good

    def _handle_profiles(
        self, path: str, query: dict[str, list[str]], body: bytes
    ) -> tuple[Respond, list[dict[str, Any]]]:
        if len(body) > 2 * MB:
            return (413, {"code": 413, "error": f"request exceeds max limit of {2 * MB} bytes",
                          "status": "Request Entity Too Large"}, {}), []  # fmt: skip
        updates = _json(body)
        if not isinstance(updates, list) or not updates or len(updates) > 2000:
            return (400, {"error": "request must be a JSON array of 1 to 2000 updates",
                          "status": 0}, {}), []  # fmt: skip
        tokens = {u.get("$token") for u in updates if isinstance(u, dict) and "$token" in u}
        if tokens - {self.token}:
            return (401, {"error": "Invalid project token", "status": "error"}, {}), []
        if query.get("ip") != ["0"]:
            with self._lock:
                self._geolocated += 1
        failed: list[dict[str, Any]] = []
        good: list[dict[str, Any]] = []
        may_be_big = len(body) > MB
        for index, update in enumerate(updates):
            field = self._validate_update(path, update, may_be_big)
            if field:
                failed.append({"index": index, "field": field, "message": f"'{field}' is invalid"})
            else:
                good.append(update)
        if query.get("strict") == ["1"] and failed:
            answer = {"error": "some updates failed validation", "status": 0,
                      "num_good_events": len(good), "failed_records": failed}  # fmt: skip
            return (400, answer, {}), good
        return (200, 1 if good else 0, {}), good

    def _validate_update(self, path: str, update: Any, may_be_big: bool) -> str | None:
        if not isinstance(update, dict):
            return "update"
        if update.get("$token") != self.token:
            return "$token"
        for name in _PROFILE_IDS[path]:
            if not (isinstance(update.get(name), str) and update[name]):
                return name
        ops = [op for op in _PROFILE_OPS[path] if op in update]
        unknown = [k for k in update if k.startswith("$") and k not in (
            "$token", "$ip", "$time", "$ignore_time", "$ignore_alias", *_PROFILE_IDS[path],
            *_PROFILE_OPS[path])]  # fmt: skip
        if len(ops) != 1 or unknown:
            return "operation"
        if ops[0] in ("$set", "$set_once", "$add", "$union", "$append", "$remove") and not (
            isinstance(update[ops[0]], dict)
        ):
            return ops[0]
        if may_be_big and len(json.dumps(update)) > MB:
            return ops[0]
        return self._check(update)

    def _validate(self, event: Any, may_be_big: bool) -> str | None:
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            return "event"
        props = event.get("properties")
        if not isinstance(props, dict):
            return "properties"
        if may_be_big and len(json.dumps(event)) > MB:
            return "properties"
        if len(props) >= 255:
            return "properties"
        if not isinstance(props.get("time"), int):
            return "properties.time"
        if not props.get("distinct_id"):
            return "properties.distinct_id"
        insert_id = props.get("$insert_id")
        if not isinstance(insert_id, str) or not 0 < len(insert_id) <= 36:
            return "properties.$insert_id"
        return self._check(event)

    def error_body(self, status: int) -> Any:
        """Mixpanel's error shape."""
        if status == 429:
            return {"code": 429, "error": "Project exceeded rate limits. Please retry the request "
                    "with exponential backoff.", "status": "Too Many Requests"}  # fmt: skip
        return {"code": status, "error": _REASONS.get(status, "error"),
                "status": _REASONS.get(status, "error")}  # fmt: skip


class FakeAmplitude(FakeVendorServer):
    """A fake Amplitude HTTP V2 (``/2/httpapi``, 1 MB) and batch (``/batch``, 20 MB) API.

    Checks the key in the body, 2,000 events per request, ids of at least 5 characters; answers
    400 with ``events_with_invalid_fields``/``events_with_missing_fields``, 413 and 429. The APIs
    document a plain JSON body, so a compressed one is refused as JSON it cannot read.

    Examples:
        >>> with FakeAmplitude() as vendor:
        ...     vendor.provider().endpoint
        'httpapi'
    """

    def __init__(self, *, api_key: str = "amp-api-key", latency: float = 0.0) -> None:
        self.api_key = api_key
        super().__init__(latency=latency)

    def provider(self, **options: Any) -> AmplitudeProvider:
        """An `AmplitudeProvider` pointed at this server."""
        return AmplitudeProvider(self.api_key, base_url=self.url, **options)

    def insert_id_of(self, event: dict[str, Any]) -> str:
        """Amplitude deduplicates on insert_id (per device/user)."""
        return f"{event.get('user_id') or event.get('device_id')}|{event.get('insert_id')}"

    def handle(self, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: bytes) -> tuple[Respond, list[dict[str, Any]]]:  # fmt: skip
        """Validate an HTTP V2 or batch upload."""
        limit = {"/2/httpapi": MB, "/batch": 20 * MB}.get(path)
        if limit is None:
            return (404, {"code": 404, "error": "not found"}, {}), []
        if len(body) > limit:
            return (413, {"code": 413, "error": "Payload too large"}, {}), []
        if headers.get("content-encoding"):
            return (400, {"code": 400, "error": "Invalid JSON request body"}, {}), []
        data = _json(body)
        if not isinstance(data, dict) or not data.get("api_key"):
            return (400, {"code": 400, "error": "Request missing required field",
                          "missing_field": "api_key"}, {}), []  # fmt: skip
        if data["api_key"] != self.api_key:
            return (400, {"code": 400, "error": "Invalid API key: " + "*" * 8}, {}), []
        events = data.get("events")
        if not isinstance(events, list) or not events:
            return (400, {"code": 400, "error": "Request missing required field",
                          "missing_field": "events"}, {}), []  # fmt: skip
        if len(events) > 2000:
            return (413, {"code": 413, "error": "Payload too large"}, {}), []
        min_len = int((data.get("options") or {}).get("min_id_length") or 5)
        invalid: dict[str, list[int]] = {}
        missing: dict[str, list[int]] = {}
        for index, event in enumerate(events):
            if not isinstance(event, dict) or not event.get("event_type"):
                missing.setdefault("event_type", []).append(index)
                continue
            ids = [event.get("user_id"), event.get("device_id")]
            if not any(ids):
                missing.setdefault("user_id", []).append(index)
                continue
            if any(isinstance(i, str) and len(i) < min_len for i in ids if i):
                invalid.setdefault("user_id", []).append(index)
                continue
            if not isinstance(event.get("time"), int):
                invalid.setdefault("time", []).append(index)
                continue
            field = self._check(event)
            if field:
                invalid.setdefault(field, []).append(index)
        if invalid or missing:
            body_out: dict[str, Any] = {"code": 400, "error": "Request contains invalid events"}
            if invalid:
                body_out["events_with_invalid_fields"] = invalid
            if missing:
                body_out["events_with_missing_fields"] = missing
            return (400, body_out, {}), []
        return (200, {"code": 200, "events_ingested": len(events), "payload_size_bytes": len(body),
                      "server_upload_time": 0}, {}), events  # fmt: skip

    def error_body(self, status: int) -> Any:
        """Amplitude's error shapes."""
        if status == 429:
            return {"code": 429, "error": "Too many requests for some devices and users",
                    "eps_threshold": 30, "throttled_devices": {}, "throttled_users": {},
                    "throttled_events": [], "exceeded_daily_quota_users": {},
                    "exceeded_daily_quota_devices": {}}  # fmt: skip
        return {"code": status, "error": _REASONS.get(status, "error")}


class FakePostHog(FakeVendorServer):
    """A fake PostHog ``/batch/`` capture endpoint.

    Checks the key in the body, 20 MB per request, 1 MB per event, ``event`` and ``distinct_id``;
    the whole batch is accepted or refused.

    Examples:
        >>> with FakePostHog() as vendor:
        ...     vendor.provider().name
        'posthog'
    """

    def __init__(self, *, api_key: str = "phc_test_key", latency: float = 0.0) -> None:
        self.api_key = api_key
        super().__init__(latency=latency)

    def provider(self, **options: Any) -> PostHogProvider:
        """A `PostHogProvider` pointed at this server."""
        return PostHogProvider(self.api_key, base_url=self.url, **options)

    def insert_id_of(self, event: dict[str, Any]) -> str:
        """PostHog deduplicates on uuid."""
        return str(event.get("uuid"))

    def handle(self, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: bytes) -> tuple[Respond, list[dict[str, Any]]]:  # fmt: skip
        """Validate a batch capture."""
        if path not in ("/batch/", "/batch"):
            return (404, {"type": "invalid_request", "code": "not_found"}, {}), []
        if len(body) > 20 * MB:
            return (413, {"type": "validation_error", "code": "payload_too_large",
                          "detail": "Payload too large"}, {}), []  # fmt: skip
        data = _json(body)
        if not isinstance(data, dict) or not isinstance(data.get("batch"), list):
            return self._invalid("Malformed request data"), []
        if data.get("api_key") != self.api_key:
            return (401, {"type": "authentication_error", "code": "invalid_api_key",
                          "detail": "Project API key invalid."}, {}), []  # fmt: skip
        may_be_big = len(body) > MB
        for event in data["batch"]:
            if not isinstance(event, dict) or not event.get("event"):
                return self._invalid("Invalid payload: event name missing"), []
            if not event.get("distinct_id"):
                return self._invalid("Invalid payload: distinct_id missing"), []
            if (may_be_big and len(json.dumps(event)) > MB) or self._check(event):
                return self._invalid("Invalid payload: event rejected"), []
        return (200, {"status": 1}, {}), list(data["batch"])

    @staticmethod
    def _invalid(detail: str) -> Respond:
        return 400, {"type": "validation_error", "code": "invalid_payload", "detail": detail}, {}

    def error_body(self, status: int) -> Any:
        """PostHog's error shape."""
        return {"type": "server_error" if status >= 500 else "validation_error",
                "code": _REASONS.get(status, "error").lower().replace(" ", "_"),
                "detail": _REASONS.get(status, "error")}  # fmt: skip
