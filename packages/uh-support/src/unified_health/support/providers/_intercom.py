"""`IntercomProvider`: the common ticket model over Intercom's Tickets API (httpx).

- Every request carries ``Intercom-Version`` (2.14 by default) and a bearer token; ``region``
  picks ``api.intercom.io``, ``api.eu.intercom.io`` or ``api.au.intercom.io``.
- Intercom takes no idempotency key, so the provider writes the request key and the payload
  fingerprint into two ticket attributes and searches for them before creating: a retried
  create, after a lost answer too, finds the ticket instead of making a second one; the same key
  with another fingerprint raises `ConflictError`. (Two creates with one key racing each other
  at the same instant are not serialised by Intercom.)
- Ticket states map by category through `INTERCOM_STATES`; closing sets ``open: false``.
- 429 is retried after ``Retry-After`` (or ``X-RateLimit-Reset``) within the wait budget, then
  `RateLimitedError`; 5xx and timeouts are retried for reads and searches only.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from unified_health.support._errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
)
from unified_health.support._logging import logger
from unified_health.support._models import HistoryEntry, Ticket
from unified_health.support._redaction import PatternRedactor, Redactor

__all__ = ["INTERCOM_HOSTS", "INTERCOM_STATES", "IntercomProvider"]

INTERCOM_HOSTS: Mapping[str, str] = {
    "us": "https://api.intercom.io",
    "eu": "https://api.eu.intercom.io",
    "au": "https://api.au.intercom.io",
}
"""Intercom's regional API hosts."""

INTERCOM_STATES: Mapping[str, str] = {
    "new": "submitted",
    "open": "in_progress",
    "pending": "waiting_on_customer",
    "on_hold": "in_progress",
    "solved": "resolved",
    "closed": "resolved",
}
"""Common status -> Intercom ticket-state category."""

_BACK = {
    "submitted": "new",
    "in_progress": "open",
    "waiting_on_customer": "pending",
    "resolved": "solved",
}
KEY_ATTRIBUTE = "uh_request_key"
PRINT_ATTRIBUTE = "uh_request_fingerprint"


class IntercomProvider:
    """Tickets in Intercom, through the Tickets API.

    Args:
        access_token: The app's access token (never logged or raised).
        ticket_type_id: The ticket type new tickets get (it must have the two text attributes
            ``uh_request_key`` and ``uh_request_fingerprint``).
        region: ``"us"``, ``"eu"`` or ``"au"``.
        base_url: Override of the regional host (tests, proxies).
        version: The ``Intercom-Version`` header.
        http_client: Your ``httpx.Client`` (not closed by the provider).
        timeout: Seconds per request when the provider makes its own client.
        max_retries: Retries of a retryable failure.
        retry_budget: Total seconds the provider may wait on rate limits for one call.
        sleep: The sleep function (inject ``FakeClock.sleep`` in tests).
        states: Override of `INTERCOM_STATES`.
        redactor: Redacts title and description before they are sent.
        seed: Seed of the retry jitter.

    Raises:
        InvalidInputError: A missing token or ticket type, or an unknown region.

    Examples:
        >>> provider = IntercomProvider(access_token="t", ticket_type_id="55", region="eu")
        >>> (provider.name, provider.base_url)
        ('intercom', 'https://api.eu.intercom.io')
    """

    name = "intercom"

    def __init__(
        self,
        *,
        access_token: str,
        ticket_type_id: str,
        region: str = "us",
        base_url: str | None = None,
        version: str = "2.14",
        http_client: httpx.Client | None = None,
        timeout: float = 10.0,
        max_retries: int = 3,
        retry_budget: float = 30.0,
        sleep: Callable[[float], None] | None = None,
        states: Mapping[str, str] | None = None,
        redactor: Redactor | None = None,
        seed: int | None = None,
    ) -> None:
        for field, value in (("access_token", access_token), ("ticket_type_id", ticket_type_id)):
            given: object = value
            if not isinstance(given, str) or not given.strip():
                raise InvalidInputError(field, "must be a non-empty str")
        if region not in INTERCOM_HOSTS:
            raise InvalidInputError("region", "must be one of: us, eu, au")
        self.base_url = (base_url or INTERCOM_HOSTS[region]).rstrip("/")
        self.ticket_type_id = ticket_type_id
        self._headers = {
            "Authorization": f"Bearer {access_token}",
            "Intercom-Version": version,
            "Accept": "application/json",
        }
        self._owns_client = http_client is None
        self._http = http_client if http_client is not None else httpx.Client(timeout=timeout)
        self._max_retries = max_retries
        self._budget = float(retry_budget)
        self._sleep = sleep if sleep is not None else time.sleep
        self._random = random.Random(seed)  # noqa: S311 - retry jitter, not a secret
        self.states = dict(states if states is not None else INTERCOM_STATES)
        self.redactor: Redactor = redactor if redactor is not None else PatternRedactor()
        self._state_ids: dict[str, str] = {}

    def close(self) -> None:
        """Close the HTTP client if the provider made it."""
        if self._owns_client:
            self._http.close()

    def _call(
        self, method: str, path: str, *, json_body: Any = None, retryable: bool
    ) -> httpx.Response:
        waited, attempt = 0.0, 0
        while True:
            attempt += 1
            try:
                response = self._http.request(
                    method, f"{self.base_url}{path}", json=json_body, headers=self._headers
                )
            except httpx.TransportError as exc:
                if retryable and attempt <= self._max_retries:
                    self._sleep(0.25 * attempt * (0.5 + self._random.random() / 2))
                    continue
                raise ProviderError(
                    f"intercom {method} failed ({type(exc).__name__})", attempts=attempt
                ) from exc
            if response.status_code == 429:
                header = response.headers.get("retry-after")
                wait = float(header) if header and header.isdigit() else 10.0
                if attempt <= self._max_retries and waited + wait <= self._budget:
                    self._sleep(wait)
                    waited += wait
                    continue
                raise RateLimitedError(
                    "intercom rate limit: wait before retrying",
                    status_code=429,
                    request_id=response.headers.get("x-request-id"),
                    retry_after=wait,
                    attempts=attempt,
                )
            if response.status_code >= 500 and retryable and attempt <= self._max_retries:
                self._sleep(0.25 * attempt)
                continue
            if response.status_code == 404:
                raise NotFoundError("ticket", path.rsplit("/", 1)[-1])
            if response.status_code >= 400:
                if response.status_code in (400, 422):
                    raise InvalidInputError(
                        "ticket", f"intercom refused it ({response.status_code})"
                    )
                raise ProviderError(
                    f"intercom answered {response.status_code}",
                    status_code=response.status_code,
                    request_id=response.headers.get("x-request-id"),
                    attempts=attempt,
                )
            return response

    def to_common(self, data: Mapping[str, Any]) -> Ticket:
        """Map an Intercom ticket object to the common model (state category kept raw).

        Examples:
            >>> p = IntercomProvider(access_token="t", ticket_type_id="55")
            >>> t = p.to_common({"id": "631", "open": True, "created_at": 1767603600,
            ...     "updated_at": 1767603600, "ticket_attributes": {"_default_title_": "Login"},
            ...     "ticket_state": {"category": "waiting_on_customer"},
            ...     "contacts": {"contacts": [{"id": "c1", "external_id": "p-1"}]}})
            >>> (t.id, t.status, t.raw_status, t.subject)
            ('631', 'pending', 'waiting_on_customer', 'Login')
        """
        attributes = data.get("ticket_attributes") or {}
        raw = str((data.get("ticket_state") or {}).get("category") or "submitted")
        status = _BACK.get(raw, "open")
        if status == "solved" and data.get("open") is False:
            status = "closed"
        created = datetime.fromtimestamp(int(data.get("created_at") or 0), UTC)
        contacts = ((data.get("contacts") or {}).get("contacts")) or [{}]
        requester = contacts[0].get("external_id") or contacts[0].get("id") or "unknown"
        assignee = data.get("admin_assignee_id")
        return Ticket(
            id=str(data["id"]),
            subject=str(attributes.get("_default_title_") or "(no title)"),
            description=str(attributes.get("_default_description_") or "(no description)"),
            requester=str(requester),
            status=status,  # type: ignore[arg-type]
            raw_status=raw,
            assignee=None if assignee in (None, 0, "0") else str(assignee),
            history=(
                HistoryEntry(at=created, kind="priority", value="normal"),
                HistoryEntry(at=created, kind="status", value="new"),
            ),
            created_at=created,
            updated_at=datetime.fromtimestamp(int(data.get("updated_at") or 0), UTC),
        )

    def _search_key(self, key: str) -> dict[str, Any] | None:
        body = {
            "query": {"field": f"ticket_attribute.{KEY_ATTRIBUTE}", "operator": "=", "value": key},
            "pagination": {"per_page": 5},
        }
        found = self._call("POST", "/tickets/search", json_body=body, retryable=True).json()
        tickets = found.get("tickets") or []
        return tickets[0] if tickets else None

    def create_ticket(
        self, ticket: Ticket, *, idempotency_key: str, fingerprint: str
    ) -> tuple[Ticket, bool]:
        """Create once per key (searched by ticket attribute before and after a lost answer).

        Raises:
            ConflictError: The key was used with another payload.
            InvalidInputError: Tags, custom fields or a priority, which this provider does not
                carry (raised before any HTTP call).
        """
        self._refuse_unsupported(ticket)
        existing = self._search_key(idempotency_key)
        if existing is not None:
            attributes = existing.get("ticket_attributes") or {}
            if attributes.get(PRINT_ATTRIBUTE) != fingerprint:
                raise ConflictError(
                    f"idempotency key {idempotency_key!r} was used for a different ticket payload"
                )
            return self.to_common(existing), False
        contact = (
            {"email": ticket.requester}
            if "@" in ticket.requester
            else {"external_id": ticket.requester}
        )
        body = {
            "ticket_type_id": self.ticket_type_id,
            "contacts": [contact],
            "ticket_attributes": {
                "_default_title_": self.redactor.redact(ticket.subject).text,
                "_default_description_": self.redactor.redact(ticket.description).text,
                KEY_ATTRIBUTE: idempotency_key,
                PRINT_ATTRIBUTE: fingerprint,
            },
        }
        try:
            response = self._call("POST", "/tickets", json_body=body, retryable=False)
        except ProviderError as exc:
            if exc.status_code is not None and exc.status_code < 500:
                raise
            found = self._search_key(idempotency_key)  # the answer was lost: did it land?
            if found is None:
                raise
            logger.info("intercom_create_recovered", ticket_id=str(found.get("id")))
            return self.to_common(found), True
        return self.to_common(response.json()), True

    def get_ticket(self, ticket_id: str) -> Ticket:
        """Return the ticket.

        Raises:
            NotFoundError: No such ticket.
        """
        return self.to_common(self._call("GET", f"/tickets/{ticket_id}", retryable=True).json())

    def _state_id(self, category: str) -> str:
        if not self._state_ids:
            listed = self._call("GET", "/ticket_states", retryable=True).json()
            for state in listed.get("data", []):
                self._state_ids.setdefault(str(state.get("category")), str(state.get("id")))
        if category not in self._state_ids:
            raise ProviderError(f"intercom has no ticket state in category {category}")
        return self._state_ids[category]

    @staticmethod
    def _refuse_unsupported(ticket: Ticket) -> None:
        """Refuse, before any HTTP call, what this provider cannot carry (never drop it)."""
        if ticket.comments:
            raise InvalidInputError("comments", "the Intercom provider does not send replies")
        if ticket.tags:
            raise InvalidInputError("tags", "the Intercom provider does not send tags")
        if ticket.custom_fields:
            raise InvalidInputError("custom_fields", "the Intercom provider does not send them")
        if ticket.priority != "normal":
            raise InvalidInputError("priority", "Intercom tickets have no priority")

    def update_ticket(self, ticket: Ticket, *, expected_version: int) -> Ticket:
        """Write the state, open flag and assignee (Intercom keeps no versions to check).

        Raises:
            InvalidInputError: The change holds comments, tags, custom fields or a priority,
                which this provider does not carry (raised before any HTTP call).
        """
        self._refuse_unsupported(ticket)
        body: dict[str, Any] = {
            "ticket_state_id": self._state_id(self.states[ticket.status]),
            "open": ticket.status != "closed",
        }
        if ticket.assignee is not None:
            body["assignee_id"] = ticket.assignee
        response = self._call("PUT", f"/tickets/{ticket.id}", json_body=body, retryable=True)
        return self.to_common(response.json())

    def list_tickets(self) -> Iterator[Ticket]:
        """Yield open and closed tickets, following the search cursor."""
        pagination: dict[str, Any] = {"per_page": 50}
        while True:
            body = {
                "query": {"field": "created_at", "operator": ">", "value": "0"},
                "pagination": pagination,
            }
            page = self._call("POST", "/tickets/search", json_body=body, retryable=True).json()
            for item in page.get("tickets", []):
                yield self.to_common(item)
            following = ((page.get("pages") or {}).get("next") or {}).get("starting_after")
            if not following:
                return
            pagination = {"per_page": 50, "starting_after": following}
