"""`StatusPageClient`: the typed client of the Statuspage.io REST API v1.

Every call goes through one injected ``httpx.Client`` with ``Authorization: OAuth <key>``,
request bodies in the vendor's envelopes (``{"incident": {...}}``, ``{"component": {...}}``),
and a `RateLimiter` that keeps the token under 60 requests in any 60 s. Answers are frozen
pydantic models with open enums; errors carry the status code, the vendor's request id, its
``Retry-After`` and its error text.

Input is checked before any request: component statuses and incident statuses against the
vendor's values, names of components against the page's components, maintenance windows
(aware datetimes, ending after they start and not in the past).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol, TypeVar, runtime_checkable

import httpx

from unified_health.status_page._clock import Clock, SystemClock
from unified_health.status_page._errors import (
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
)
from unified_health.status_page._logging import logger
from unified_health.status_page._models import (
    COMPONENT_STATUSES,
    IMPACTS,
    INCIDENT_STATUSES,
    MAINTENANCE_STATUSES,
    Component,
    ComponentGroup,
    Incident,
    IncidentTemplate,
    IncidentUpdate,
    Page,
    Subscriber,
    VendorModel,
    check_aware,
    check_choice,
    check_text,
)
from unified_health.status_page._ratelimit import RateLimiter, token_bucket
from unified_health.status_page.stores._protocol import StatusPageStore

__all__ = ["DEFAULT_BASE_URL", "StatusPage", "StatusPageClient"]

DEFAULT_BASE_URL = "https://api.statuspage.io/v1"
_RATE_LIMITED = (420, 429)
_M = TypeVar("_M", bound=VendorModel)
_SUBSCRIBER_STATES = ("active", "unconfirmed", "quarantined", "all")
_SUBSCRIBER_TYPES = ("email", "sms", "webhook", "slack", "teams", "integration_partner")


@runtime_checkable
class StatusPage(Protocol):
    """What the probes need from a status page; `StatusPageClient` and `SelfHostedStatusPage`.

    Examples:
        >>> from unified_health.status_page import SelfHostedStatusPage
        >>> isinstance(SelfHostedStatusPage(components=["api"]), StatusPage)
        True
    """

    def list_components(self) -> Iterator[Component]:
        """Yield every component of the page."""
        ...

    def update_component(self, component: str, *, status: str) -> Component:
        """Set one component's status (``component`` is a name or an id)."""
        ...

    def create_incident(
        self,
        name: str,
        *,
        status: str = "investigating",
        body: str | None = None,
        components: Mapping[str, str] | None = None,
        metadata: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Incident:
        """Open an incident, setting the statuses of the components it names."""
        ...

    def update_incident(
        self,
        incident_id: str,
        *,
        status: str | None = None,
        body: str | None = None,
        components: Mapping[str, str] | None = None,
    ) -> Incident:
        """Post an update to an incident."""
        ...

    def list_unresolved_incidents(self) -> Iterator[Incident]:
        """Yield the incidents that are not resolved."""
        ...

    def list_active_maintenances(self) -> Iterator[Incident]:
        """Yield the scheduled maintenances in progress."""
        ...


def _check_str(value: object, field: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 200 or "/" in value:
        raise InvalidInputError(field, "must be a non-empty str of at most 200 characters, no '/'")
    return value


def _check_bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(field, "must be a bool")
    return value


def _check_metadata(value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInputError("metadata", "must be a mapping")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, Mapping):
            raise InvalidInputError("metadata", "must map str keys to objects (vendor rule)")
    return {key: dict(item) for key, item in value.items()}


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        return None


def _error_text(response: httpx.Response) -> str | None:
    try:
        decoded = response.json()
    except ValueError:
        return response.text[:500] or None
    if isinstance(decoded, Mapping):
        for key in ("message", "error"):
            if isinstance(decoded.get(key), str):
                return str(decoded[key])[:500]
    return str(decoded)[:500]


class StatusPageClient:
    """The Statuspage.io REST API v1 for one page.

    No constructor call touches the network. Component arguments accept the component's name
    or its id; names are resolved once from the page (or from ``component_ids``, which makes
    the check need no request at all).

    Args:
        api_key: The page's API key (sent as ``Authorization: OAuth <key>``; never logged).
        page_id: The page's id.
        http_client: Your ``httpx.Client`` (never closed by this client). One is made and owned
            when omitted.
        base_url: The API root.
        timeout: Seconds per request.
        max_retries: Retries after a 420/429 (every call), a 5xx or a transport error (reads and
            idempotent writes only; a ``POST`` that timed out is not replayed blindly).
        limiter: The token's `RateLimiter`; one in memory (60 per 60 s) by default.
        store: Where a default limiter keeps its log: pass a `RedisStatusPageStore` to share
            the budget between processes.
        component_ids: Known component names and their ids, to skip the lookup.
        clock: The clock.
        sleep: How to wait between attempts.
        seed: Seed of the backoff jitter.

    Raises:
        InvalidInputError: An argument broke a rule.

    Examples:
        >>> status = StatusPageClient("key", "page-1", component_ids={"api": "c-api"})
        >>> status.page_id
        'page-1'
        >>> try:
        ...     status.create_incident("API slow", components={"api": "slowish"})
        ... except InvalidInputError as err:
        ...     print(err.field)
        components.api
        >>> status.close()
    """

    def __init__(
        self,
        api_key: str,
        page_id: str,
        *,
        http_client: httpx.Client | None = None,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        max_retries: int = 3,
        limiter: RateLimiter | None = None,
        store: StatusPageStore | None = None,
        component_ids: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], None] | None = None,
        seed: int | None = None,
    ) -> None:
        key: object = api_key
        if not isinstance(key, str) or not key.strip():
            raise InvalidInputError("api_key", "must be a non-empty str")
        self.page_id = _check_str(page_id, "page_id")
        given_url: object = base_url
        if not isinstance(given_url, str) or not given_url.startswith(("http://", "https://")):
            raise InvalidInputError("base_url", "must be an http:// or https:// URL")
        given_timeout: object = timeout
        if (
            isinstance(given_timeout, bool)
            or not isinstance(given_timeout, int | float)
            or given_timeout <= 0
        ):
            raise InvalidInputError("timeout", "must be a number of seconds > 0")
        retries: object = max_retries
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
            raise InvalidInputError("max_retries", "must be an int from 0 to 10")
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise InvalidInputError("http_client", "must be an httpx.Client")
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._timeout = float(timeout)
        self._max_retries = max_retries
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._sleep = sleep if sleep is not None else _default_sleep
        self._random = random.Random(seed)  # noqa: S311 - backoff jitter, not secrets
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client()
        self.limiter = (
            limiter
            if limiter is not None
            else RateLimiter(
                token_bucket(api_key), store=store, clock=self._clock, sleep=self._sleep
            )
        )
        self._names_lock = threading.Lock()
        self._names: dict[str, str] | None = None
        self._ids: set[str] = set()
        if component_ids is not None:
            if not isinstance(component_ids, Mapping):
                raise InvalidInputError("component_ids", "must map names to ids")
            for name, component_id in component_ids.items():
                _check_str(name, "component_ids")
                _check_str(component_id, "component_ids")
            self._names = dict(component_ids)
            self._ids = set(component_ids.values())

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        api_key: str,
        page_id: str,
        http_client: httpx.Client | None = None,
        store: StatusPageStore | None = None,
        timeout: float = 10.0,
        max_retries: int = 3,
    ) -> StatusPageClient:
        """Create a client for an API root other than Statuspage's (a proxy, a fake server).

        Args:
            url: The API root, e.g. ``https://api.statuspage.io/v1``.
            api_key: The API key.
            page_id: The page id.
            http_client: Your ``httpx.Client``.
            store: Where the default limiter keeps its log.
            timeout: Seconds per request.
            max_retries: Retries, as in the constructor.

        Returns:
            The client.

        Examples:
            >>> StatusPageClient.from_url("http://127.0.0.1:9", api_key="k", page_id="p").page_id
            'p'
        """
        return cls(
            api_key,
            page_id,
            base_url=url,
            http_client=http_client,
            store=store,
            timeout=timeout,
            max_retries=max_retries,
        )

    @classmethod
    def from_env(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        store: StatusPageStore | None = None,
    ) -> StatusPageClient:
        """Create a client from the ``UH_STATUS_PAGE_*`` environment variables.

        Reads ``UH_STATUS_PAGE_API_KEY``, ``UH_STATUS_PAGE_PAGE_ID`` and optionally
        ``UH_STATUS_PAGE_BASE_URL``.

        Args:
            environ: The variables (``os.environ`` by default).
            http_client: Your ``httpx.Client``.
            store: Where the default limiter keeps its log.

        Returns:
            The client.

        Raises:
            InvalidInputError: A required variable is missing.

        Examples:
            >>> env = {"UH_STATUS_PAGE_API_KEY": "k", "UH_STATUS_PAGE_PAGE_ID": "p-1"}
            >>> StatusPageClient.from_env(environ=env).page_id
            'p-1'
        """
        source = os.environ if environ is None else environ
        for name in ("UH_STATUS_PAGE_API_KEY", "UH_STATUS_PAGE_PAGE_ID"):
            if not source.get(name):
                raise InvalidInputError(name, "must be set")
        return cls(
            source["UH_STATUS_PAGE_API_KEY"],
            source["UH_STATUS_PAGE_PAGE_ID"],
            base_url=source.get("UH_STATUS_PAGE_BASE_URL") or DEFAULT_BASE_URL,
            http_client=http_client,
            store=store,
        )

    # -- transport -----------------------------------------------------------------------------
    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        delay: float = min(0.5 * 2**attempt, 30.0) * (0.5 + self._random.random() / 2)
        return max(delay, retry_after or 0.0)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        not_found: tuple[str, str] | None = None,
    ) -> Any:
        url = f"{self._base_url}/pages/{self.page_id}{path}"
        replayable = method != "POST"
        attempt = 0
        while True:
            attempt += 1
            self.limiter.acquire()
            try:
                response = self._http.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    headers={
                        "Authorization": f"OAuth {self._api_key}",
                        "Accept": "application/json",
                    },
                    timeout=self._timeout,
                )
            except httpx.TransportError as exc:
                logger.warning(
                    "statuspage_call_failed",
                    method=method,
                    attempt=attempt,
                    error_class=type(exc).__name__,
                )
                if replayable and attempt <= self._max_retries:
                    self._sleep(self._backoff(attempt, None))
                    continue
                raise ProviderError(
                    f"Statuspage {method} did not answer ({type(exc).__name__})", attempts=attempt
                ) from exc
            request_id = response.headers.get("X-Request-Id")
            if response.status_code in _RATE_LIMITED:
                retry_after = _retry_after(response)
                self.limiter.pause(retry_after if retry_after is not None else 60.0)
                if attempt <= self._max_retries:
                    continue
                raise RateLimitedError(
                    f"Statuspage answered {response.status_code} (rate limited)",
                    status_code=response.status_code,
                    request_id=request_id,
                    retry_after=retry_after,
                    attempts=attempt,
                    body=_error_text(response),
                )
            if response.status_code >= 500 and replayable and attempt <= self._max_retries:
                self._sleep(self._backoff(attempt, _retry_after(response)))
                continue
            if response.status_code == 404 and not_found is not None:
                raise NotFoundError(*not_found)
            if response.status_code >= 400:
                logger.warning(
                    "statuspage_call_refused",
                    method=method,
                    status_code=response.status_code,
                    request_id=request_id,
                )
                raise ProviderError(
                    f"Statuspage answered {response.status_code} to {method}",
                    status_code=response.status_code,
                    request_id=request_id,
                    retry_after=_retry_after(response),
                    attempts=attempt,
                    body=_error_text(response),
                )
            if response.status_code == 204 or not response.content:
                return None
            return response.json()

    def _paged(
        self,
        path: str,
        model: type[_M],
        *,
        size_param: str = "per_page",
        first_page: int = 1,
        page_size: int = 100,
        params: Mapping[str, Any] | None = None,
    ) -> Iterator[_M]:
        page = first_page
        while True:
            query = {**(params or {}), "page": page, size_param: page_size}
            items = self._request("GET", path, params=query)
            if not isinstance(items, list):
                raise ProviderError(f"Statuspage answered a non-list to GET {path}")
            for item in items:
                yield model.model_validate(item)
            if len(items) < page_size:
                return
            page += 1

    # -- component names -----------------------------------------------------------------------
    def _component_names(self) -> dict[str, str]:
        with self._names_lock:
            if self._names is None:
                found = {c.name: c.id for c in self.list_components() if not c.group}
                self._names = found
                self._ids = set(found.values())
            return self._names

    def resolve_component(self, component: str) -> str:
        """Return the id of a component given by name or id.

        Args:
            component: A component's name or id.

        Returns:
            The id.

        Raises:
            InvalidInputError: The page has no such component.

        Examples:
            >>> StatusPageClient("k", "p", component_ids={"api": "c1"}).resolve_component("api")
            'c1'
        """
        return self._resolve(component, "component")

    def _resolve(self, component: object, field: str) -> str:
        if not isinstance(component, str) or not component:
            raise InvalidInputError(field, "must be a component name or id")
        names = self._component_names()
        if component in names:
            return names[component]
        if component in self._ids:
            return component
        raise InvalidInputError(field, "names a component the page does not have")

    def _component_map(self, components: object) -> dict[str, str]:
        if not isinstance(components, Mapping):
            raise InvalidInputError("components", "must map component names to statuses")
        for name, status in components.items():
            check_choice(status, f"components.{name}", COMPONENT_STATUSES)
        return {
            self._resolve(name, f"components.{name}"): status for name, status in components.items()
        }

    def _component_list(self, components: object) -> list[str]:
        if isinstance(components, str) or not isinstance(components, Sequence):
            raise InvalidInputError("components", "must be a list of component names")
        return [self._resolve(name, f"components.{i}") for i, name in enumerate(components)]

    # -- page ----------------------------------------------------------------------------------
    def get_page(self) -> Page:
        """Return the page's profile.

        Raises:
            NotFoundError: The page does not exist.
            ProviderError: Statuspage answered with an error.
        """
        return Page.model_validate(self._request("GET", "", not_found=("page", self.page_id)))

    # -- components ----------------------------------------------------------------------------
    def list_components(self) -> Iterator[Component]:
        """Yield every component (and group row) of the page, 100 per request, lazily.

        Raises:
            ProviderError: Statuspage answered with an error.
        """
        return self._paged("/components", Component)

    def get_component(self, component: str) -> Component:
        """Return one component, by name or id.

        Raises:
            InvalidInputError: The page has no such component.
            NotFoundError: Statuspage has no such component.
        """
        component_id = self._resolve(component, "component")
        data = self._request(
            "GET", f"/components/{component_id}", not_found=("component", component_id)
        )
        return Component.model_validate(data)

    def create_component(
        self,
        name: str,
        *,
        status: str = "operational",
        description: str | None = None,
        group_id: str | None = None,
        showcase: bool = True,
    ) -> Component:
        """Create a component.

        Raises:
            InvalidInputError: A field broke a rule (checked before any request).
            ProviderError: Statuspage answered with an error.
        """
        fields: dict[str, Any] = {
            "name": check_text(name, "name"),
            "status": check_choice(status, "status", COMPONENT_STATUSES),
            "showcase": _check_bool(showcase, "showcase"),
        }
        if description is not None:
            fields["description"] = check_text(description, "description", empty=True)
        if group_id is not None:
            fields["group_id"] = _check_str(group_id, "group_id")
        created = Component.model_validate(
            self._request("POST", "/components", body={"component": fields})
        )
        with self._names_lock:
            if self._names is not None:
                self._names[created.name] = created.id
                self._ids.add(created.id)
        return created

    def update_component(
        self,
        component: str,
        *,
        status: str | None = None,
        name: str | None = None,
        description: str | None = None,
    ) -> Component:
        """Change a component (by name or id): its status, name or description.

        Raises:
            InvalidInputError: Unknown component or invalid status (before any write).
            NotFoundError: Statuspage has no such component.
        """
        fields: dict[str, Any] = {}
        if status is not None:
            fields["status"] = check_choice(status, "status", COMPONENT_STATUSES)
        if name is not None:
            fields["name"] = check_text(name, "name")
        if description is not None:
            fields["description"] = check_text(description, "description", empty=True)
        if not fields:
            raise InvalidInputError("status", "give at least one of status, name, description")
        component_id = self._resolve(component, "component")
        data = self._request(
            "PATCH",
            f"/components/{component_id}",
            body={"component": fields},
            not_found=("component", component_id),
        )
        return Component.model_validate(data)

    def delete_component(self, component: str) -> bool:
        """Delete a component (by id or name); ``False`` if it was already gone.

        Raises:
            ProviderError: Statuspage answered with an error.
        """
        component_id = _check_str(component, "component")
        with self._names_lock:
            if self._names is not None and component in self._names:
                component_id = self._names[component]
        try:
            self._request("DELETE", f"/components/{component_id}", not_found=("component", ""))
        except NotFoundError:
            return False
        with self._names_lock:
            if self._names is not None:
                self._names = {k: v for k, v in self._names.items() if v != component_id}
                self._ids.discard(component_id)
        return True

    def list_component_groups(self) -> Iterator[ComponentGroup]:
        """Yield every component group, 100 per request, lazily."""
        return self._paged("/component-groups", ComponentGroup)

    def create_component_group(
        self, name: str, components: Sequence[str], *, description: str | None = None
    ) -> ComponentGroup:
        """Create a group of existing components (names or ids).

        Raises:
            InvalidInputError: Unknown component, empty list or bad name (before any write).
        """
        group: dict[str, Any] = {"name": check_text(name, "name")}
        ids = self._component_list(components)
        if not ids:
            raise InvalidInputError("components", "must name at least one component")
        group["components"] = ids
        if description is not None:
            group["description"] = check_text(description, "description", empty=True)
        data = self._request("POST", "/component-groups", body={"component_group": group})
        return ComponentGroup.model_validate(data)

    # -- incidents -----------------------------------------------------------------------------
    def create_incident(
        self,
        name: str,
        *,
        status: str = "investigating",
        body: str | None = None,
        components: Mapping[str, str] | None = None,
        metadata: Mapping[str, Mapping[str, Any]] | None = None,
        impact_override: str | None = None,
        deliver_notifications: bool = True,
    ) -> Incident:
        """Open a realtime incident and set the statuses of the components it affects.

        The components' new statuses travel in the same request (the vendor's ``components``
        map), so an outage of six components costs one request.

        Args:
            name: The incident's title (at most 255 characters).
            status: ``investigating``, ``identified``, ``monitoring`` or ``resolved``.
            body: The first update's message.
            components: Component name (or id) to its new status.
            metadata: Your data on the incident; every top-level value must be an object.
            impact_override: ``none``, ``maintenance``, ``minor``, ``major`` or ``critical``.
            deliver_notifications: Notify subscribers.

        Returns:
            The incident.

        Raises:
            InvalidInputError: A field broke a rule (checked before any write).
            ProviderError: Statuspage answered with an error. A timeout is not retried: the
                incident may exist; look for it (see `StatusMonitor`, which reconciles).
        """
        fields: dict[str, Any] = {
            "name": check_text(name, "name"),
            "status": check_choice(status, "status", INCIDENT_STATUSES),
            "deliver_notifications": _check_bool(deliver_notifications, "deliver_notifications"),
        }
        if body is not None:
            fields["body"] = check_text(body, "body", max_length=25000, empty=True)
        if impact_override is not None:
            fields["impact_override"] = check_choice(impact_override, "impact_override", IMPACTS)
        if metadata is not None:
            fields["metadata"] = _check_metadata(metadata)
        if components is not None:
            mapped = self._component_map(components)
            fields["components"] = mapped
            fields["component_ids"] = list(mapped)
        data = self._request("POST", "/incidents", body={"incident": fields})
        return Incident.model_validate(data)

    def update_incident(
        self,
        incident_id: str,
        *,
        status: str | None = None,
        body: str | None = None,
        components: Mapping[str, str] | None = None,
        name: str | None = None,
        metadata: Mapping[str, Mapping[str, Any]] | None = None,
        deliver_notifications: bool | None = None,
    ) -> Incident:
        """Post an update: new status, message and component statuses in one request.

        Raises:
            InvalidInputError: A field broke a rule (checked before any write).
            NotFoundError: No such incident.
        """
        incident_id = _check_str(incident_id, "incident_id")
        fields: dict[str, Any] = {}
        if status is not None:
            fields["status"] = check_choice(
                status, "status", INCIDENT_STATUSES + MAINTENANCE_STATUSES
            )
        if body is not None:
            fields["body"] = check_text(body, "body", max_length=25000, empty=True)
        if name is not None:
            fields["name"] = check_text(name, "name")
        if metadata is not None:
            fields["metadata"] = _check_metadata(metadata)
        if deliver_notifications is not None:
            fields["deliver_notifications"] = _check_bool(
                deliver_notifications, "deliver_notifications"
            )
        if components is not None:
            mapped = self._component_map(components)
            fields["components"] = mapped
            fields["component_ids"] = list(mapped)
        if not fields:
            raise InvalidInputError("status", "give at least one field to change")
        data = self._request(
            "PATCH",
            f"/incidents/{incident_id}",
            body={"incident": fields},
            not_found=("incident", incident_id),
        )
        return Incident.model_validate(data)

    def update_incident_update(
        self,
        incident_id: str,
        update_id: str,
        *,
        body: str | None = None,
        display_at: datetime | None = None,
    ) -> IncidentUpdate:
        """Correct a posted update: its message or the time it shows.

        Raises:
            InvalidInputError: Nothing to change, or a naive ``display_at`` (before any request).
            NotFoundError: No such incident or update.
        """
        incident_id = _check_str(incident_id, "incident_id")
        update_id = _check_str(update_id, "update_id")
        fields: dict[str, Any] = {}
        if body is not None:
            fields["body"] = check_text(body, "body", max_length=25000, empty=True)
        if display_at is not None:
            fields["display_at"] = _iso(check_aware(display_at, "display_at"))
        if not fields:
            raise InvalidInputError("body", "give body or display_at")
        data = self._request(
            "PATCH",
            f"/incidents/{incident_id}/incident_updates/{update_id}",
            body={"incident_update": fields},
            not_found=("incident update", update_id),
        )
        return IncidentUpdate.model_validate(data)

    def resolve_incident(
        self, incident_id: str, *, body: str | None = None, components: Sequence[str] = ()
    ) -> Incident:
        """Resolve an incident and set the named components back to operational.

        Raises:
            InvalidInputError: Unknown component (before any write).
            NotFoundError: No such incident.
        """
        restored = dict.fromkeys(self._component_list(list(components)), "operational")
        return self.update_incident(
            incident_id, status="resolved", body=body, components=restored or None
        )

    def get_incident(self, incident_id: str) -> Incident:
        """Return one incident or maintenance.

        Raises:
            NotFoundError: No such incident.
        """
        incident_id = _check_str(incident_id, "incident_id")
        data = self._request(
            "GET", f"/incidents/{incident_id}", not_found=("incident", incident_id)
        )
        return Incident.model_validate(data)

    def delete_incident(self, incident_id: str) -> bool:
        """Delete an incident; ``False`` if it was already gone."""
        incident_id = _check_str(incident_id, "incident_id")
        try:
            self._request("DELETE", f"/incidents/{incident_id}", not_found=("incident", ""))
        except NotFoundError:
            return False
        return True

    def list_incidents(self, *, query: str | None = None) -> Iterator[Incident]:
        """Yield every incident, newest first, 100 per request (``page`` and ``limit``), lazily.

        Args:
            query: Search text (the vendor's ``q``).
        """
        params = {} if query is None else {"q": check_text(query, "query")}
        return self._paged("/incidents", Incident, size_param="limit", params=params)

    def list_unresolved_incidents(self) -> Iterator[Incident]:
        """Yield the incidents that are not resolved, lazily."""
        return self._paged("/incidents/unresolved", Incident)

    def list_upcoming_maintenances(self) -> Iterator[Incident]:
        """Yield the scheduled maintenances that have not started, lazily."""
        return self._paged("/incidents/upcoming", Incident)

    def list_active_maintenances(self) -> Iterator[Incident]:
        """Yield the scheduled maintenances in progress, lazily."""
        return self._paged("/incidents/active_maintenance", Incident)

    def list_scheduled_maintenances(self) -> Iterator[Incident]:
        """Yield every scheduled maintenance, lazily."""
        return self._paged("/incidents/scheduled", Incident)

    def schedule_maintenance(
        self,
        name: str,
        *,
        starts_at: datetime,
        ends_at: datetime,
        components: Sequence[str],
        body: str | None = None,
        auto_in_progress: bool = True,
        auto_completed: bool = True,
        auto_transition_to_maintenance_state: bool = True,
        auto_transition_to_operational_state: bool = True,
        remind_prior: bool = False,
        notify_at_start: bool = True,
        notify_at_end: bool = True,
        deliver_notifications: bool = True,
        metadata: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Incident:
        """Schedule a maintenance window with the vendor's auto-transition options.

        Args:
            name: Title of the maintenance.
            starts_at: Start (timezone-aware, not in the past).
            ends_at: End (timezone-aware, after the start).
            components: Component names or ids under maintenance.
            body: Message to subscribers.
            auto_in_progress: Move to ``in_progress`` at the start.
            auto_completed: Move to ``completed`` at the end.
            auto_transition_to_maintenance_state: Set the components to ``under_maintenance``
                when the maintenance starts.
            auto_transition_to_operational_state: Set them back to ``operational`` at the end.
            remind_prior: Remind subscribers before the start.
            notify_at_start: Notify when the window auto-starts.
            notify_at_end: Notify when it auto-completes.
            deliver_notifications: Notify subscribers of the scheduling.
            metadata: Your data; every top-level value must be an object.

        Returns:
            The scheduled maintenance.

        Raises:
            InvalidInputError: Naive datetimes, a window ending before it starts or lying in the
                past, unknown components (all before any write).
        """
        start = check_aware(starts_at, "starts_at")
        end = check_aware(ends_at, "ends_at")
        if end <= start:
            raise InvalidInputError("ends_at", "must be after starts_at")
        if start < self._clock.now():
            raise InvalidInputError("starts_at", "must not lie in the past")
        fields: dict[str, Any] = {
            "name": check_text(name, "name"),
            "status": "scheduled",
            "scheduled_for": _iso(start),
            "scheduled_until": _iso(end),
            "scheduled_auto_in_progress": _check_bool(auto_in_progress, "auto_in_progress"),
            "scheduled_auto_completed": _check_bool(auto_completed, "auto_completed"),
            "auto_transition_to_maintenance_state": _check_bool(
                auto_transition_to_maintenance_state, "auto_transition_to_maintenance_state"
            ),
            "auto_transition_to_operational_state": _check_bool(
                auto_transition_to_operational_state, "auto_transition_to_operational_state"
            ),
            "scheduled_remind_prior": _check_bool(remind_prior, "remind_prior"),
            "auto_transition_deliver_notifications_at_start": _check_bool(
                notify_at_start, "notify_at_start"
            ),
            "auto_transition_deliver_notifications_at_end": _check_bool(
                notify_at_end, "notify_at_end"
            ),
            "deliver_notifications": _check_bool(deliver_notifications, "deliver_notifications"),
        }
        if body is not None:
            fields["body"] = check_text(body, "body", max_length=25000, empty=True)
        if metadata is not None:
            fields["metadata"] = _check_metadata(metadata)
        ids = self._component_list(components)
        if not ids:
            raise InvalidInputError("components", "must name at least one component")
        fields["component_ids"] = ids
        data = self._request("POST", "/incidents", body={"incident": fields})
        return Incident.model_validate(data)

    # -- templates -----------------------------------------------------------------------------
    def list_incident_templates(self) -> Iterator[IncidentTemplate]:
        """Yield every incident template, lazily."""
        return self._paged("/incident_templates", IncidentTemplate)

    def create_incident_template(
        self,
        name: str,
        *,
        title: str,
        body: str,
        update_status: str | None = None,
        components: Sequence[str] = (),
        should_send_notifications: bool = True,
    ) -> IncidentTemplate:
        """Save an incident template.

        Raises:
            InvalidInputError: A field broke a rule (before any write).
        """
        fields: dict[str, Any] = {
            "name": check_text(name, "name"),
            "title": check_text(title, "title"),
            "body": check_text(body, "body", max_length=25000),
            "should_send_notifications": _check_bool(
                should_send_notifications, "should_send_notifications"
            ),
        }
        if update_status is not None:
            fields["update_status"] = check_choice(
                update_status, "update_status", INCIDENT_STATUSES + MAINTENANCE_STATUSES
            )
        ids = self._component_list(list(components))
        if ids:
            fields["component_ids"] = ids
        data = self._request("POST", "/incident_templates", body={"template": fields})
        return IncidentTemplate.model_validate(data)

    # -- subscribers ---------------------------------------------------------------------------
    def list_subscribers(
        self, *, state: str = "active", kind: str | None = None
    ) -> Iterator[Subscriber]:
        """Yield subscribers, 100 per request (pages count from 0 on this endpoint), lazily.

        Args:
            state: ``active``, ``unconfirmed``, ``quarantined`` or ``all``.
            kind: Only this type: ``email``, ``sms``, ``webhook``, ``slack``, ``teams``,
                ``integration_partner``.
        """
        params = {"state": check_choice(state, "state", _SUBSCRIBER_STATES)}
        if kind is not None:
            params["type"] = check_choice(kind, "kind", _SUBSCRIBER_TYPES)
        return self._paged(
            "/subscribers", Subscriber, size_param="limit", first_page=0, params=params
        )

    def create_subscriber(
        self,
        *,
        email: str | None = None,
        endpoint: str | None = None,
        phone_number: str | None = None,
        phone_country: str | None = None,
        components: Sequence[str] = (),
        skip_confirmation: bool = False,
    ) -> Subscriber:
        """Subscribe an e-mail address, a webhook (``endpoint`` and ``email``) or a phone.

        Raises:
            InvalidInputError: No contact given, or a field broke a rule (before any write).
        """
        fields: dict[str, Any] = {
            "skip_confirmation_notification": _check_bool(skip_confirmation, "skip_confirmation")
        }
        for field, value in (
            ("email", email),
            ("endpoint", endpoint),
            ("phone_number", phone_number),
            ("phone_country", phone_country),
        ):
            if value is not None:
                fields[field] = check_text(value, field, max_length=1000)
        if not {"email", "endpoint", "phone_number"} & fields.keys():
            raise InvalidInputError("email", "give an email, an endpoint or a phone_number")
        if "phone_number" in fields and "phone_country" not in fields:
            raise InvalidInputError("phone_country", "is required with phone_number")
        ids = self._component_list(list(components))
        if ids:
            fields["component_ids"] = ids
        data = self._request("POST", "/subscribers", body={"subscriber": fields})
        return Subscriber.model_validate(data)

    def delete_subscriber(self, subscriber_id: str) -> bool:
        """Unsubscribe; ``False`` if the subscriber was already gone."""
        subscriber_id = _check_str(subscriber_id, "subscriber_id")
        try:
            self._request("DELETE", f"/subscribers/{subscriber_id}", not_found=("subscriber", ""))
        except NotFoundError:
            return False
        return True

    # -- system metrics ------------------------------------------------------------------------
    def submit_metric_point(self, metric_id: str, value: float, *, at: datetime) -> None:
        """Add one data point to a system metric.

        Raises:
            InvalidInputError: A naive ``at`` or a value that is not a finite number.
        """
        metric_id = _check_str(metric_id, "metric_id")
        moment = check_aware(at, "at")
        given: object = value
        if isinstance(given, bool) or not isinstance(given, int | float) or given != given:
            raise InvalidInputError("value", "must be a finite number")
        point = {"timestamp": int(moment.timestamp()), "value": float(value)}
        self._request("POST", f"/metrics/{metric_id}/data", body={"data": point})

    # -- lifecycle -----------------------------------------------------------------------------
    def close(self) -> None:
        """Close the HTTP client if this client made it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> StatusPageClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _default_sleep(seconds: float) -> None:
    time.sleep(seconds)
