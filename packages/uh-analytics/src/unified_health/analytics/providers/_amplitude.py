"""Amplitude over the HTTP V2 API (``/2/httpapi``) or the Batch Event Upload API (``/batch``).

* Hosts: ``api2.amplitude.com`` (us), ``api.eu.amplitude.com`` (eu).
* Body: ``{"api_key": ..., "events": [...], "options": {"min_id_length": ...}}``; the key travels in
  the body, so recorded payloads redact it.
* Limits: 2,000 events per request; 1 MB per request on ``/2/httpapi``, 20 MB on ``/batch``.
* Bodies are sent uncompressed: both APIs document a JSON body and no ``Content-Encoding``.
* A 400 names bad events in ``events_with_invalid_fields`` / ``events_with_missing_fields``: those
  are dropped and the others, which Amplitude did not ingest, are sent again at once.
* A 429 (``throttled_users``, ``exceeded_daily_quota_users``...) retries the batch after backoff;
  ``insert_id`` makes the retry safe (Amplitude deduplicates for 7 days).
* No geolocation: ``ip`` is never sent (neither an address nor ``"$remote"``), so Amplitude has no
  address to locate.
* ``identify`` becomes ``$identify`` with ``user_properties.$set``; ``group`` becomes
  ``$groupidentify``; ``alias`` is not part of these APIs (counted ``unsupported_by_provider``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Literal

import httpx

from unified_health.analytics._clock import Clock
from unified_health.analytics._errors import InvalidInputError
from unified_health.analytics._models import DropReason
from unified_health.analytics._version import __version__
from unified_health.analytics.providers._base import (
    HttpProvider,
    OutboundEvent,
    ProviderLimits,
    SendResult,
    dumps,
    indices,
    quote,
)

__all__ = ["AmplitudeProvider"]

_PATHS = {"httpapi": "/2/httpapi", "batch": "/batch"}


class AmplitudeProvider(HttpProvider):
    """Deliver events to Amplitude.

    Args:
        api_key: The project's API key.
        region: ``"us"`` or ``"eu"``.
        endpoint: ``"httpapi"`` (HTTP V2, 1 MB requests) or ``"batch"`` (20 MB requests).
        min_id_length: Sent as ``options.min_id_length`` when given.
        categories: Consent categories this destination may receive.
        base_url: Override the host (fake servers in tests).
        http_client: An `httpx.Client` to use (left open on close).
        transport: An httpx transport for the client the provider creates.
        timeout: Seconds per request.
        max_retries: Retries per batch after the first attempt.
        sleep: Injected sleep for backoff.
        clock: The `Clock` that dates a Retry-After given as an HTTP date; `SystemClock` by
            default.
        seed: Seed for the backoff jitter.

    Raises:
        InvalidInputError: Unknown region or endpoint, missing key, no category.

    Examples:
        >>> AmplitudeProvider("key", region="eu").base_url
        'https://api.eu.amplitude.com'
    """

    name = "amplitude"
    gzip_body = False
    REGIONS: ClassVar[dict[str, str]] = {"us": "api2.amplitude.com", "eu": "api.eu.amplitude.com"}

    def __init__(
        self,
        api_key: str,
        *,
        region: str = "us",
        endpoint: Literal["httpapi", "batch"] = "httpapi",
        min_id_length: int | None = None,
        categories: Iterable[str] = frozenset({"analytics"}),
        base_url: str | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        max_retries: int = 5,
        sleep: Callable[[float], None] | None = None,
        clock: Clock | None = None,
        seed: int | None = None,
    ) -> None:
        if not api_key:
            raise InvalidInputError("api_key", "must not be empty")
        if endpoint not in _PATHS:
            raise InvalidInputError("endpoint", "must be one of: batch, httpapi")
        self._api_key = api_key
        self.endpoint = endpoint
        self.min_id_length = min_id_length
        self.limits = ProviderLimits(
            max_events_per_request=2000,
            max_request_bytes=(1 if endpoint == "httpapi" else 20) * 1024 * 1024,
            max_event_bytes=1024 * 1024,
        )
        super().__init__(
            region=region,
            categories=categories,
            base_url=base_url,
            http_client=http_client,
            transport=transport,
            timeout=timeout,
            max_retries=max_retries,
            sleep=sleep,
            clock=clock,
            seed=seed,
        )

    def _url(self) -> str:
        return self.base_url + _PATHS[self.endpoint]

    def encode(self, event: OutboundEvent) -> bytes | None:
        """Return the Amplitude event (``None`` for alias)."""
        if event.kind == "track" and event.properties_json is not None and not event.groups:
            # The hot path: pre-serialised properties, the rest appended as text.
            if event.user_id or event.device_id:
                ids = (',"user_id":' + quote(event.user_id) if event.user_id else "") + (
                    ',"device_id":' + quote(event.device_id) if event.device_id else ""
                )
            else:
                ids = ',"device_id":' + quote(event.distinct_id)
            head = (
                '{"time":' + str(event.time_ms) + ',"insert_id":' + quote(event.insert_id)
                + ',"library":"uh-analytics/' + __version__ + '"' + ids
                + ',"event_type":' + quote(event.name) + ',"event_properties":'
            )  # fmt: skip
            return head.encode() + event.properties_json + b"}"
        out: dict[str, Any] = {
            "time": event.time_ms,
            "insert_id": event.insert_id,
            "library": f"uh-analytics/{__version__}",
        }
        if event.user_id:
            out["user_id"] = event.user_id
        if event.device_id:
            out["device_id"] = event.device_id
        if not event.user_id and not event.device_id:
            out["device_id"] = event.distinct_id
        if event.kind == "track":
            out["event_type"] = event.name
            if event.groups:
                out["groups"] = dict(event.groups)
            if event.properties_json is not None:
                return dumps(out)[:-1] + b',"event_properties":' + event.properties_json + b"}"
            out["event_properties"] = dict(event.properties)
        elif event.kind == "identify":
            out["event_type"] = "$identify"
            out["user_properties"] = {"$set": dict(event.traits or {})}
        elif event.kind == "group" and event.group_type and event.group_key:
            out["event_type"] = "$groupidentify"
            out["groups"] = {event.group_type: event.group_key}
            out["group_properties"] = {"$set": dict(event.traits or {})}
        else:
            return None
        return dumps(out)

    def _envelope(self, parts: list[bytes]) -> bytes:
        head: dict[str, Any] = {"api_key": self._api_key}
        if self.min_id_length is not None:
            head["options"] = {"min_id_length": self.min_id_length}
        return dumps(head)[:-1] + b',"events":[' + b",".join(parts) + b"]}"

    def _bad_request(self, body: Any, count: int) -> SendResult:
        bad = indices(body, "events_with_invalid_fields", "events_with_missing_fields")
        bad = {i for i in bad if 0 <= i < count}
        if not bad:
            return SendResult(
                400,
                rejected=dict.fromkeys(range(count), DropReason.REJECTED_BY_VENDOR),
                error="bad request",
            )
        return SendResult(
            400,
            resend=[i for i in range(count) if i not in bad],
            rejected=dict.fromkeys(sorted(bad), DropReason.REJECTED_BY_VENDOR),
            error="invalid events",
        )
