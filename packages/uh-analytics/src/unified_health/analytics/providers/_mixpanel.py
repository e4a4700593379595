"""Mixpanel over the Ingestion API: ``/import`` (events), ``/engage`` and ``/groups`` (profiles).

* Hosts: ``api.mixpanel.com`` (us), ``api-eu.mixpanel.com`` (eu), ``api-in.mixpanel.com`` (in).
* Routes: ``track`` and ``alias`` go to ``/import``; ``identify`` to ``/engage`` (a ``$set`` on the
  user profile); ``group`` to ``/groups`` (a ``$set`` on the group profile). A request holds the
  events of one route only.
* Auth: ``/import`` takes HTTP Basic with a service account (username and secret, plus
  ``project_id``) or the project secret as the username. ``/engage`` and ``/groups`` take no
  credentials: every update carries the project token (``$token``); the secret is never sent there.
  Without ``project_token`` identify and group calls are counted ``unsupported_by_provider`` and
  a WARNING ``profile_updates_disabled`` is logged once (``require_project_token=True`` makes the
  token mandatory at construction instead).
* ``strict=1``: a 400 lists ``failed_records`` by index; the rest of the batch was stored, so only
  the failed records are dropped. ``/engage`` and ``/groups`` otherwise answer ``1`` (at least one
  update valid) or ``0`` (none valid) with a 200.
* Limits: ``/import`` 2,000 events and 10 MB of uncompressed JSON per request, 1 MB and fewer than
  255 properties per event, gzip sent (it does not raise the limits). Up to 6 of those properties
  are added here (``time``, ``distinct_id``, ``$insert_id``, ``$user_id``, ``$device_id``,
  ``mp_lib``), so an event keeps at most 248 of its own (group keys included): a client whose
  ``max_properties`` is higher fails at construction, and an event over it (too many group keys)
  is dropped as ``oversized`` before it is sent. ``/engage`` and ``/groups``
  2,000 updates per request and 1 MB per update; they document no request size, so requests are
  kept under 2 MB (the ingestion API's 413 limit), and are sent uncompressed (gzip is documented
  for ``/import`` only).
* Idempotency: events carry ``$insert_id`` (Mixpanel deduplicates on event, time, distinct_id and
  insert id). Profile updates have no insert id; only ``$set`` is sent, which gives the same
  profile however often it is applied, so retries stay safe.
* No geolocation: ``/import`` locates events only from an ``ip`` property, which is never sent
  (user properties named ``ip``/``$ip`` are refused upstream); profile requests carry ``ip=0``.
* Identity (``id_merge``): ``"simplified"`` (the default; Mixpanel recommends Simplified ID Merge
  for new projects) relies on ``$user_id``/``$device_id`` on events; ``alias`` sends an
  ``$identify`` event carrying both ids, which links them. ``"original"`` is for projects on the
  Original ID Merge or Legacy ID Management systems: ``alias`` sends ``$create_alias`` (which has
  no effect under Simplified ID Merge). Either way every id is the pseudonymous one the client
  built.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Literal
from urllib.parse import urlencode

import httpx

from unified_health.analytics._clock import Clock
from unified_health.analytics._errors import InvalidInputError
from unified_health.analytics._logging import logger
from unified_health.analytics._models import DropReason
from unified_health.analytics.providers._base import (
    HttpProvider,
    OutboundEvent,
    ProviderLimits,
    SendResult,
    dumps,
    quote,
)

__all__ = ["MixpanelProvider"]


IdMerge = Literal["simplified", "original"]
_MB = 1024 * 1024
_PROFILE_LIMITS = ProviderLimits(
    max_events_per_request=2000, max_request_bytes=2 * _MB, max_event_bytes=_MB
)


class MixpanelProvider(HttpProvider):
    """Deliver events to Mixpanel's ``/import`` and profile updates to ``/engage``/``/groups``.

    Args:
        project_id: The Mixpanel project id.
        secret: The service account secret, or the project secret when ``service_account`` is
            not given.
        service_account: The service account username.
        project_token: The project token, needed for user and group profile updates
            (``identify`` and ``group``); without it those calls are not delivered.
        require_project_token: Fail at construction when ``project_token`` is missing, instead
            of dropping profile updates with a counted reason and one warning.
        id_merge: The project's identity system: ``"simplified"`` (Simplified ID Merge, which
            Mixpanel recommends for new projects) or ``"original"`` (Original ID Merge or Legacy ID
            Management, where ``alias`` sends ``$create_alias``).
        region: ``"us"``, ``"eu"`` or ``"in"`` (data residency).
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
        InvalidInputError: Unknown region or ``id_merge``, missing project id or secret, an empty
            project token (or none with ``require_project_token``), no category.

    Examples:
        >>> p = MixpanelProvider("12345", "secret", project_token="tok", region="eu")
        >>> p.base_url, p.id_merge
        ('https://api-eu.mixpanel.com', 'simplified')
        >>> p.limits_for("engage").max_events_per_request
        2000
    """

    name = "mixpanel"
    REGIONS: ClassVar[dict[str, str]] = {
        "us": "api.mixpanel.com",
        "eu": "api-eu.mixpanel.com",
        "in": "api-in.mixpanel.com",
    }
    limits = ProviderLimits(
        max_events_per_request=2000,
        max_request_bytes=10 * _MB,
        max_event_bytes=_MB,
        max_properties_per_event=254,  # "fewer than 255 properties"
        # time, distinct_id, $insert_id, $user_id, $device_id, mp_lib
        added_properties=6,
    )
    ROUTES: ClassVar[tuple[str, ...]] = ("import", "engage", "groups")

    def __init__(
        self,
        project_id: str,
        secret: str,
        *,
        service_account: str | None = None,
        project_token: str | None = None,
        require_project_token: bool = False,
        id_merge: IdMerge = "simplified",
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
        if not project_id:
            raise InvalidInputError("project_id", "must not be empty")
        if not secret:
            raise InvalidInputError("secret", "must not be empty")
        if project_token == "":
            raise InvalidInputError("project_token", "must be a non-empty string")
        if project_token is None and require_project_token:
            raise InvalidInputError("project_token", "is required (require_project_token=True)")
        if id_merge not in ("simplified", "original"):
            raise InvalidInputError("id_merge", "must be 'simplified' or 'original'")
        self.project_id = project_id
        self.id_merge: IdMerge = id_merge
        self._credentials = (service_account, secret) if service_account else (secret, "")
        self._token = project_token
        self._token_json = quote(project_token) if project_token else ""
        self._warned = threading.Event()
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

    @property
    def profiles_enabled(self) -> bool:
        """Whether identify and group calls are delivered (a project token was given)."""
        return self._token is not None

    def limits_for(self, route: str) -> ProviderLimits:
        """The documented limits of one request to ``route``."""
        return self.limits if route == "import" else _PROFILE_LIMITS

    def _url(self) -> str:
        return f"{self.base_url}/import?{urlencode({'strict': '1', 'project_id': self.project_id})}"

    def _route_url(self, route: str) -> str:
        return f"{self.base_url}/{route}?{urlencode({'ip': '0', 'strict': '1'})}"

    def _auth(self) -> httpx.Auth:
        return httpx.BasicAuth(*self._credentials)

    # -- encoding ------------------------------------------------------------------------------
    def encode(self, event: OutboundEvent) -> bytes | None:
        """Return the ``/import`` record of one event (``None`` for profile updates).

        `deliver` without a route posts to ``/import``; the delivery worker uses
        `encode_routed`, which also builds ``/engage`` and ``/groups`` updates.
        """
        routed = self.encode_routed(event)
        return routed[1] if routed is not None and routed[0] == "import" else None

    def encode_routed(self, event: OutboundEvent) -> tuple[str, bytes] | None:
        """Return ``(route, JSON)``: ``/import`` records, ``/engage`` or ``/groups`` updates."""
        kind = event.kind
        if kind == "track":
            return "import", self._encode_track(event)
        if kind == "alias":
            return self._encode_alias(event)
        if kind == "identify" or (event.group_type and event.group_key):
            if self._token is None:
                self._warn_once()
                return None
            traits = dumps(dict(event.traits or {}))
            if kind == "identify":
                head = b'{"$token":' + self._token_json.encode() + b',"$distinct_id":'
                return "engage", head + quote(
                    event.distinct_id
                ).encode() + b',"$set":' + traits + b"}"
            head = b'{"$token":' + self._token_json.encode() + b',"$group_key":'
            ids = quote(str(event.group_type)) + ',"$group_id":' + quote(str(event.group_key))
            return "groups", head + ids.encode() + b',"$set":' + traits + b"}"
        return None

    def _warn_once(self) -> None:
        if not self._warned.is_set():
            self._warned.set()
            logger.warning(
                "profile_updates_disabled", provider=self.name, reason="no_project_token"
            )

    def _encode_alias(self, event: OutboundEvent) -> tuple[str, bytes] | None:
        if not (event.previous_id and event.user_id):
            return None
        props: dict[str, Any] = {"time": event.time_ms}
        if self.id_merge == "simplified":
            # An event holding both ids links the device to the user (Simplified ID Merge).
            name = "$identify"
            props.update({"distinct_id": event.user_id, "$user_id": event.user_id,
                          "$device_id": event.previous_id})  # fmt: skip
        else:
            name = "$create_alias"
            props.update({"distinct_id": event.previous_id, "alias": event.user_id})
        props.update({"$insert_id": event.insert_id, "mp_lib": "uh-analytics"})
        return "import", b'{"event":' + dumps(name) + b',"properties":' + dumps(props) + b"}"

    def _encode_track(self, event: OutboundEvent) -> bytes:
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
        # Group keys are properties too: merge as dicts so the reserved keys win.
        props: dict[str, Any] = dict(event.properties)
        props.update(event.groups or {})
        props.update(extra)
        body = dumps(props)
        return b'{"event":' + dumps(event.name) + b',"properties":' + body + b"}"

    def _envelope(self, parts: list[bytes]) -> bytes:
        return b"[" + b",".join(parts) + b"]"

    # -- sending -------------------------------------------------------------------------------
    def deliver(
        self, parts: list[bytes], *, timeout: float, route: str | None = None
    ) -> SendResult:
        """POST one route's encoded events (``/import`` when no route is named)."""
        if route is None or route == "import":
            return super().deliver(parts, timeout=timeout)
        if route not in self.ROUTES:
            raise ValueError(f"unknown route {route!r}")
        return self._post(
            self._route_url(route), self._envelope(parts), len(parts), timeout=timeout,
            gzip_body=False, auth=None, success=_profile_success,
        )  # fmt: skip

    def _bad_request(self, body: Any, count: int) -> SendResult:
        failed = body.get("failed_records") if isinstance(body, dict) else None
        if not isinstance(failed, list) or not failed:
            return super()._bad_request(body, count)
        rejected: dict[int, str] = {
            int(record["index"]): DropReason.REJECTED_BY_VENDOR
            for record in failed
            if isinstance(record, dict)
            and isinstance(record.get("index"), int | float)
            and 0 <= record["index"] < count
        }
        if not rejected:  # names no event of this request: find the bad ones by halving
            return super()._bad_request(body, count)
        accepted = [i for i in range(count) if i not in rejected]
        return SendResult(400, accepted=accepted, rejected=rejected, error="failed records")


def _profile_success(body: Any, count: int) -> SendResult:
    """A 200 from ``/engage`` or ``/groups``: ``1`` (stored) or ``0`` (no update was valid)."""
    status = body.get("status") if isinstance(body, dict) else body
    if status in (0, "0"):
        return SendResult(
            200, rejected=dict.fromkeys(range(count), DropReason.REJECTED_BY_VENDOR),
            error="no valid update",
        )  # fmt: skip
    return SendResult(200, accepted=list(range(count)))
