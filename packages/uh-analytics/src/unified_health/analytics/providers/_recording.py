"""Dry runs and golden tests: record the exact payloads each provider would send.

`RecordingTransport` plugs into any vendor provider (``transport=RecordingTransport()``): the
provider builds its real request (URL, headers, gzip body) and the transport keeps it and answers
with the vendor's success shape instead of sending it. `RecordingProvider` is a destination that
keeps the pseudonymised events themselves, vendor-neutral.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from unified_health.analytics.providers._base import (
    OutboundEvent,
    ProviderLimits,
    SendResult,
    check_categories,
    dumps,
)

__all__ = ["RecordedRequest", "RecordingProvider", "RecordingTransport"]

_SECRET_FIELDS = ("api_key", "$token")


def _redact(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: ("[redacted]" if k in _SECRET_FIELDS else v) for k, v in payload.items()}


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request a provider would have sent; credentials are replaced by ``"[redacted]"``.

    Examples:
        >>> RecordedRequest("POST", "https://x/batch/", {}, {"batch": []}).events
        []
    """

    method: str
    url: str
    headers: dict[str, str]
    payload: Any

    @property
    def events(self) -> list[Any]:
        """The events in the payload, whatever the vendor calls the list."""
        if isinstance(self.payload, list):
            return self.payload
        if isinstance(self.payload, dict):
            for key in ("events", "batch"):
                if isinstance(self.payload.get(key), list):
                    return list(self.payload[key])
        return []


def _success_body(path: str, count: int) -> dict[str, Any]:
    if path.startswith("/import"):
        return {"code": 200, "num_records_imported": count, "status": "OK"}
    if path.startswith(("/2/httpapi", "/batch")) and not path.startswith("/batch/"):
        return {"code": 200, "events_ingested": count, "payload_size_bytes": 0}
    return {"status": 1}


class RecordingTransport(httpx.BaseTransport):
    """An httpx transport that records requests and answers like a healthy vendor.

    Examples:
        >>> from unified_health.analytics import PostHogProvider
        >>> transport = RecordingTransport()
        >>> provider = PostHogProvider("phc_key", transport=transport)
        >>> transport.requests
        []
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request recorded so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def events(self) -> list[Any]:
        """Every event of every recorded request."""
        return [event for request in self.requests for event in request.events]

    def clear(self) -> None:
        """Forget what was recorded."""
        with self._lock:
            self._requests.clear()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Record ``request`` and answer 200 with the vendor's success body."""
        body = request.read()
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        payload: Any = json.loads(body) if body else None
        if isinstance(payload, dict):
            payload = _redact(payload)
        elif isinstance(payload, list):
            payload = [_redact(item) if isinstance(item, dict) else item for item in payload]
        headers = {
            k.lower(): ("[redacted]" if k.lower() == "authorization" else v)
            for k, v in request.headers.items()
        }
        recorded = RecordedRequest(request.method, str(request.url), headers, payload)
        with self._lock:
            self._requests.append(recorded)
        return httpx.Response(200, json=_success_body(request.url.path, len(recorded.events)))


class RecordingProvider:
    """A destination that keeps the pseudonymised events it receives (and sends nothing).

    Args:
        name: The provider name used in metrics.
        categories: Consent categories it may receive.

    Examples:
        >>> RecordingProvider().events
        []
    """

    limits = ProviderLimits(
        max_events_per_request=500, max_request_bytes=5 * 1024 * 1024, max_event_bytes=1024 * 1024
    )
    max_retries = 0

    def __init__(
        self, name: str = "recording", *, categories: Iterable[str] = frozenset({"analytics"})
    ) -> None:
        self.name = name
        self.categories = check_categories(categories)
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []

    @property
    def events(self) -> list[dict[str, Any]]:
        """The events received so far, as JSON objects."""
        with self._lock:
            return list(self._events)

    def encode(self, event: OutboundEvent) -> bytes | None:
        """Serialise every field of the outbound event."""
        return dumps(
            {
                "kind": event.kind,
                "name": event.name,
                "distinct_id": event.distinct_id,
                "user_id": event.user_id,
                "device_id": event.device_id,
                "timestamp": event.timestamp,
                "insert_id": event.insert_id,
                "properties": dict(event.properties),
                "groups": dict(event.groups) if event.groups else None,
                "traits": dict(event.traits) if event.traits else None,
                "previous_id": event.previous_id,
                "group_type": event.group_type,
                "group_key": event.group_key,
            }
        )

    def deliver(self, parts: list[bytes], *, timeout: float) -> SendResult:
        """Keep the events; always succeeds."""
        decoded = [json.loads(part) for part in parts]
        with self._lock:
            self._events.extend(decoded)
        return SendResult(200, accepted=list(range(len(parts))))

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Never used (no failures)."""
        return 0.0

    def sleep(self, seconds: float) -> None:
        """Never waits."""

    def close(self) -> None:
        """Nothing to close."""

    def reset_after_fork(self) -> None:
        """Nothing to reset."""
