"""Mixpanel over the Ingestion API's ``/import`` endpoint (server-side, strict validation).

* Hosts: ``api.mixpanel.com`` (us), ``api-eu.mixpanel.com`` (eu), ``api-in.mixpanel.com`` (in).
* Auth: HTTP Basic with a service account (username and secret, plus ``project_id``) or the
  project secret as the username.
* ``strict=1``: a 400 lists ``failed_records`` by index; the rest of the batch was imported, so
  only the failed events are dropped.
* Limits: 2,000 events and 10 MB of uncompressed JSON per request, 1 MB and fewer than 255
  properties per event. gzip is sent but does not raise the limits.
* No geolocation: ``/import`` locates events only from an ``ip`` property, which is never sent
  (user properties named ``ip``/``$ip`` are refused upstream).
* Only ``track`` maps onto ``/import``; identify, alias and group calls are counted as
  ``unsupported_by_provider`` for Mixpanel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx

from unified_health.analytics._errors import InvalidInputError
from unified_health.analytics._models import DropReason
from unified_health.analytics.providers._base import (
    HttpProvider,
    OutboundEvent,
    ProviderLimits,
    SendResult,
    dumps,
    merge_json,
    quote,
)

__all__ = ["MixpanelProvider"]


class MixpanelProvider(HttpProvider):
    """Deliver events to Mixpanel's ``/import``.

    Args:
        project_id: The Mixpanel project id.
        secret: The service account secret, or the project secret when ``service_account`` is
            not given.
        service_account: The service account username.
        region: ``"us"``, ``"eu"`` or ``"in"`` (data residency).
        categories: Consent categories this destination may receive.
        base_url: Override the host (fake servers in tests).
        http_client: An `httpx.Client` to use (left open on close).
        transport: An httpx transport for the client the provider creates.
        timeout: Seconds per request.
        max_retries: Retries per batch after the first attempt.
        sleep: Injected sleep for backoff.
        seed: Seed for the backoff jitter.

    Raises:
        InvalidInputError: Unknown region, missing project id or secret, no category.

    Example:
        >>> p = MixpanelProvider("12345", "secret", region="eu")
        >>> p.base_url
        'https://api-eu.mixpanel.com'
    """

    name = "mixpanel"
    REGIONS: ClassVar[dict[str, str]] = {
        "us": "api.mixpanel.com",
        "eu": "api-eu.mixpanel.com",
        "in": "api-in.mixpanel.com",
    }
    limits = ProviderLimits(
        max_events_per_request=2000,
        max_request_bytes=10 * 1024 * 1024,
        max_event_bytes=1024 * 1024,
        max_properties_per_event=254,
    )

    def __init__(
        self,
        project_id: str,
        secret: str,
        *,
        service_account: str | None = None,
        region: str = "us",
        categories: Iterable[str] = frozenset({"analytics"}),
        base_url: str | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        max_retries: int = 5,
        sleep: Callable[[float], None] | None = None,
        seed: int | None = None,
    ) -> None:
        if not project_id:
            raise InvalidInputError("project_id", "must not be empty")
        if not secret:
            raise InvalidInputError("secret", "must not be empty")
        self.project_id = project_id
        self._credentials = (service_account, secret) if service_account else (secret, "")
        super().__init__(
            region=region,
            categories=categories,
            base_url=base_url,
            http_client=http_client,
            transport=transport,
            timeout=timeout,
            max_retries=max_retries,
            sleep=sleep,
            seed=seed,
        )

    def _url(self) -> str:
        return f"{self.base_url}/import?{urlencode({'strict': '1', 'project_id': self.project_id})}"

    def _auth(self) -> httpx.Auth:
        return httpx.BasicAuth(*self._credentials)

    def encode(self, event: OutboundEvent) -> bytes | None:
        """Return the ``/import`` record of a track event (``None`` for other kinds)."""
        if event.kind != "track":
            return None
        if event.properties_json is not None and not event.groups:
            # The hot path: pre-serialised properties, identity fragments appended as text.
            tail = (
                '"time":' + str(event.time_ms) + ',"distinct_id":' + quote(event.distinct_id)
                + ',"$insert_id":' + quote(event.insert_id)
                + (',"$user_id":' + quote(event.user_id) if event.user_id else "")
                + (',"$device_id":' + quote(event.device_id) if event.device_id else "")
                + ',"mp_lib":"uh-analytics"}}'
            ).encode()  # fmt: skip
            known = event.properties_json
            sep = b"" if known == b"{}" else b","
            name = quote(event.name).encode()
            return b'{"event":' + name + b',"properties":' + known[:-1] + sep + tail
        extra: dict[str, Any] = {
            "time": event.time_ms,
            "distinct_id": event.distinct_id,
            "$insert_id": event.insert_id,
        }
        if event.user_id:
            extra["$user_id"] = event.user_id
        if event.device_id:
            extra["$device_id"] = event.device_id
        extra["mp_lib"] = "uh-analytics"
        if event.properties_json is not None and not event.groups:
            body = merge_json(event.properties_json, extra)
        else:  # group keys are properties too: merge as dicts so the reserved keys win
            props: dict[str, Any] = dict(event.properties)
            props.update(event.groups or {})
            props.update(extra)
            body = dumps(props)
        return b'{"event":' + dumps(event.name) + b',"properties":' + body + b"}"

    def _envelope(self, parts: list[bytes]) -> bytes:
        return b"[" + b",".join(parts) + b"]"

    def _bad_request(self, body: Any, count: int) -> SendResult:
        failed = body.get("failed_records") if isinstance(body, dict) else None
        if not isinstance(failed, list) or not failed:
            return super()._bad_request(body, count)
        rejected: dict[int, str] = {
            int(record["index"]): DropReason.REJECTED_BY_VENDOR
            for record in failed
            if isinstance(record, dict) and isinstance(record.get("index"), int | float)
        }
        accepted = [i for i in range(count) if i not in rejected]
        return SendResult(400, accepted=accepted, rejected=rejected, error="failed records")
