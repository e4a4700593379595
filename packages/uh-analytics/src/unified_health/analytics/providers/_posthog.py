"""PostHog over the batch capture endpoint (``POST /batch/``).

* Hosts: ``us.i.posthog.com`` (us), ``eu.i.posthog.com`` (eu); ``base_url`` for self-hosted.
* Body: ``{"api_key": ..., "batch": [{"event", "distinct_id", "properties", "timestamp",
  "uuid"}]}``; ``uuid`` (from the insert id) deduplicates retries.
* Limits: 20 MB per request, 1 MB per event; batches of at most 2,000 events.
* PostHog accepts or refuses a batch as a whole, so a 400 halves the batch until the refused
  events are isolated and dropped one by one.
* No geolocation: every event carries ``$geoip_disable: true`` and no ``$ip``.
* ``identify`` -> ``$identify`` (``$set``), ``alias`` -> ``$create_alias``, ``group`` ->
  ``$groupidentify``; anonymous events carry ``$process_person_profile: false``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import httpx

from unified_health.analytics._clock import Clock
from unified_health.analytics._errors import InvalidInputError
from unified_health.analytics._version import __version__
from unified_health.analytics.providers._base import (
    HttpProvider,
    OutboundEvent,
    ProviderLimits,
    dumps,
    quote,
)

__all__ = ["PostHogProvider"]

_UUID_NAMESPACE = uuid.UUID("6f1c2a4e-3b0d-4d8e-9a51-7c2b1e0f4d63")


_HEX = frozenset("0123456789abcdef")
# Sent with every event: no geolocation, and the library's name and version.
_EXTRA: dict[str, Any] = {
    "$geoip_disable": True,
    "$lib": "uh-analytics",
    "$lib_version": __version__,
}
_TRACK_EXTRA = dumps(_EXTRA)[1:-1]
_TRACK_EXTRA_ANONYMOUS = _TRACK_EXTRA + b',"$process_person_profile":false'


def _event_uuid(insert_id: str) -> str:
    if len(insert_id) == 32 and _HEX.issuperset(insert_id):
        h = insert_id
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return str(uuid.uuid5(_UUID_NAMESPACE, insert_id))


class PostHogProvider(HttpProvider):
    """Deliver events to PostHog.

    Args:
        api_key: The project API key (``phc_...``).
        region: ``"us"`` or ``"eu"``.
        categories: Consent categories this destination may receive.
        base_url: Override the host (self-hosted PostHog, fake servers in tests).
        http_client: An `httpx.Client` to use (left open on close).
        transport: An httpx transport for the client the provider creates.
        timeout: Seconds per request.
        max_retries: Retries per batch after the first attempt.
        sleep: Injected sleep for backoff.
        clock: The `Clock` that dates a Retry-After given as an HTTP date; `SystemClock` by
            default.
        seed: Seed for the backoff jitter.

    Raises:
        InvalidInputError: Unknown region, missing key, no category.

    Examples:
        >>> PostHogProvider("phc_key", region="eu").base_url
        'https://eu.i.posthog.com'
    """

    name = "posthog"
    REGIONS: ClassVar[dict[str, str]] = {"us": "us.i.posthog.com", "eu": "eu.i.posthog.com"}
    limits = ProviderLimits(
        max_events_per_request=2000,
        max_request_bytes=20 * 1024 * 1024,
        max_event_bytes=1024 * 1024,
    )

    def __init__(
        self,
        api_key: str,
        *,
        region: str = "us",
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
        self._api_key = api_key
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
        return self.base_url + "/batch/"

    def encode(self, event: OutboundEvent) -> bytes | None:
        """Return the PostHog capture record of any event kind."""
        if event.kind == "track" and event.properties_json is not None:
            return self._encode_track(event, event.properties_json)
        props: dict[str, Any] = {}
        name = event.name
        if event.kind == "track":
            props.update(event.properties)
            if event.groups:
                props["$groups"] = dict(event.groups)
        elif event.kind == "identify":
            name = "$identify"
            props["$set"] = dict(event.traits or {})
        elif event.kind == "alias" and event.previous_id:
            name = "$create_alias"
            props["alias"] = event.previous_id
        elif event.kind == "group" and event.group_type and event.group_key:
            name = "$groupidentify"
            props.update(
                {
                    "$group_type": event.group_type,
                    "$group_key": event.group_key,
                    "$group_set": dict(event.traits or {}),
                }
            )
        else:
            return None
        props.update(_EXTRA)
        if not event.user_id:
            props["$process_person_profile"] = False
        body = dumps(props)
        head = dumps(
            {
                "event": name,
                "distinct_id": event.distinct_id,
                "timestamp": event.iso_timestamp,
                "uuid": _event_uuid(event.insert_id),
            }
        )
        return head[:-1] + b',"properties":' + body + b"}"

    def _encode_track(self, event: OutboundEvent, properties_json: bytes) -> bytes:
        # The hot path: pre-serialised properties and fragments, no dict built per event.
        tail = _TRACK_EXTRA if event.user_id else _TRACK_EXTRA_ANONYMOUS
        if event.groups:
            tail += b',"$groups":' + dumps(dict(event.groups))
        if properties_json == b"{}":
            body = b"{" + tail + b"}"
        else:
            body = properties_json[:-1] + b"," + tail + b"}"
        head = (
            '{"event":' + quote(event.name) + ',"distinct_id":' + quote(event.distinct_id)
            + ',"timestamp":"' + event.iso_timestamp + '","uuid":"'
            + _event_uuid(event.insert_id) + '","properties":'
        )  # fmt: skip
        return head.encode() + body + b"}"

    def _envelope(self, parts: list[bytes]) -> bytes:
        return dumps({"api_key": self._api_key})[:-1] + b',"batch":[' + b",".join(parts) + b"]}"
