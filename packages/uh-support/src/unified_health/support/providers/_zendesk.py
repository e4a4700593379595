"""`ZendeskProvider`: the common ticket model over Zendesk's Tickets API (httpx).

- Create sends an ``Idempotency-Key`` header, so a retried create (after a timeout, a 5xx or a
  lost answer) makes one ticket; Zendesk answers a reused key with another payload with 400
  ``IdempotentRequestError``, raised here as `ConflictError`.
- Update sends ``safe_update`` with the ``updated_stamp`` the change was based on; Zendesk's 409
  becomes `ConflictError`.
- 429 answers are retried after ``Retry-After`` while the caller's wait budget allows; past it,
  `RateLimitedError` carries ``retry_after``. 5xx and timeouts are retried only for idempotent
  calls (GET, PUT with safe_update, POST with an idempotency key).
- Subject, comments and string custom fields pass the redactor before they are sent; the
  provider counts which detectors fired (``redactions``), never what they matched.
- Status and priority map through data tables (`ZENDESK_STATUSES`, `ZENDESK_PRIORITIES`) that a
  caller may override; the vendor's own status word is kept in ``raw_status``.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from unified_health.support._clock import Clock, SystemClock
from unified_health.support._errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
)
from unified_health.support._logging import logger
from unified_health.support._models import Comment, HistoryEntry, Ticket
from unified_health.support._redaction import PatternRedactor, Redactor

__all__ = ["ZENDESK_PRIORITIES", "ZENDESK_STATUSES", "ZendeskProvider"]

ZENDESK_STATUSES: Mapping[str, str] = {
    "new": "new",
    "open": "open",
    "pending": "pending",
    "on_hold": "hold",
    "solved": "solved",
    "closed": "closed",
}
"""Common status -> Zendesk status (the reverse is derived)."""

ZENDESK_PRIORITIES: Mapping[str, str] = {
    "low": "low",
    "normal": "normal",
    "high": "high",
    "urgent": "urgent",
}
"""Common priority -> Zendesk priority (the reverse is derived; no priority reads as normal)."""


def _parse_time(text: object) -> datetime:
    if not isinstance(text, str):
        raise ProviderError("zendesk answered a ticket without a timestamp")
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class ZendeskProvider:
    """Tickets in Zendesk, through the Tickets API.

    Args:
        subdomain: The account's subdomain (``acme`` for ``acme.zendesk.com``).
        email: The agent's e-mail for API-token authentication.
        api_token: The API token (never logged or raised).
        base_url: Override of ``https://<subdomain>.zendesk.com`` (tests, proxies).
        http_client: Your ``httpx.Client`` (not closed by the provider).
        timeout: Seconds per request when the provider makes its own client.
        max_retries: Retries of a retryable failure.
        retry_budget: Total seconds the provider may wait on ``Retry-After`` for one call.
        sleep: The sleep function (inject ``FakeClock.sleep`` in tests).
        statuses: Override of `ZENDESK_STATUSES`.
        priorities: Override of `ZENDESK_PRIORITIES`.
        clock: The time source.
        seed: Seed of the retry jitter.
        redactor: Redacts subject, comments and string custom fields before they are sent
            (`PatternRedactor` by default; pass your own to change the detectors).

    Raises:
        InvalidInputError: A missing subdomain, e-mail or token, or a bad option.

    Examples:
        >>> provider = ZendeskProvider(subdomain="acme", email="a@acme.test", api_token="t")
        >>> (provider.name, provider.base_url)
        ('zendesk', 'https://acme.zendesk.com')
    """

    name = "zendesk"

    def __init__(
        self,
        *,
        subdomain: str,
        email: str,
        api_token: str,
        base_url: str | None = None,
        http_client: httpx.Client | None = None,
        timeout: float = 10.0,
        max_retries: int = 3,
        retry_budget: float = 30.0,
        sleep: Callable[[float], None] | None = None,
        statuses: Mapping[str, str] | None = None,
        priorities: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        seed: int | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        for field, value in (("subdomain", subdomain), ("email", email), ("api_token", api_token)):
            given: object = value
            if not isinstance(given, str) or not given.strip():
                raise InvalidInputError(field, "must be a non-empty str")
        retries: object = max_retries
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise InvalidInputError("max_retries", "must be an int >= 0")
        budget: object = retry_budget
        if isinstance(budget, bool) or not isinstance(budget, int | float) or budget < 0:
            raise InvalidInputError("retry_budget", "must be a number of seconds >= 0")
        self.base_url = (base_url or f"https://{subdomain}.zendesk.com").rstrip("/")
        token = base64.b64encode(f"{email}/token:{api_token}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}
        self._owns_client = http_client is None
        self._http = http_client if http_client is not None else httpx.Client(timeout=timeout)
        self._max_retries = max_retries
        self._budget = float(retry_budget)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._sleep = sleep if sleep is not None else _real_sleep
        if redactor is not None and not isinstance(redactor, Redactor):
            raise InvalidInputError("redactor", "must implement Redactor")
        self.redactor: Redactor = redactor if redactor is not None else PatternRedactor()
        self.redactions: dict[str, int] = {}
        self._random = random.Random(seed)  # noqa: S311 - retry jitter, not a secret
        self.statuses = dict(statuses if statuses is not None else ZENDESK_STATUSES)
        self.priorities = dict(priorities if priorities is not None else ZENDESK_PRIORITIES)
        self._status_back = {vendor: common for common, vendor in self.statuses.items()}
        self._priority_back = {vendor: common for common, vendor in self.priorities.items()}

    def close(self) -> None:
        """Close the HTTP client if the provider made it."""
        if self._owns_client:
            self._http.close()

    # -- HTTP -----------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        retryable: bool,
    ) -> httpx.Response:
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(
                    method,
                    url,
                    json=json_body,
                    params=params,
                    headers={**self._headers, **(headers or {})},
                )
            except httpx.TransportError as exc:
                if retryable and attempt <= self._max_retries:
                    pause = self._backoff(attempt)
                    logger.info("zendesk_retry", attempt=attempt, error_class=type(exc).__name__)
                    self._sleep(pause)
                    waited += pause
                    continue
                raise ProviderError(
                    f"zendesk {method} failed ({type(exc).__name__})", attempts=attempt
                ) from exc
            status = response.status_code
            request_id = response.headers.get("x-zendesk-request-id")
            if status == 429:
                retry_after = _retry_after(response)
                if attempt <= self._max_retries and waited + retry_after <= self._budget:
                    logger.info("zendesk_rate_limited", attempt=attempt, retry_after=retry_after)
                    self._sleep(retry_after)
                    waited += retry_after
                    continue
                raise RateLimitedError(
                    "zendesk rate limit: wait before retrying",
                    status_code=429,
                    request_id=request_id,
                    retry_after=retry_after,
                    attempts=attempt,
                )
            if status >= 500 and retryable and attempt <= self._max_retries:
                pause = self._backoff(attempt)
                self._sleep(pause)
                waited += pause
                continue
            return response

    def _backoff(self, attempt: int) -> float:
        return float(min(8.0, 0.25 * 2 ** (attempt - 1)) * (0.5 + self._random.random() / 2))

    def _fail(self, response: httpx.Response, what: str, ticket_id: str = "-") -> None:
        status = response.status_code
        if status < 400:
            return
        request_id = response.headers.get("x-zendesk-request-id")
        if status == 404:
            raise NotFoundError("ticket", ticket_id)
        try:
            body = response.json()
        except ValueError:
            body = {}
        error = str(body.get("error", "")) if isinstance(body, dict) else ""
        if status == 409 or error == "IdempotentRequestError":
            raise ConflictError(f"zendesk refused the {what}: {error or 'conflict'}")
        if status == 422 or status == 400:
            raise InvalidInputError("ticket", f"zendesk refused the {what} ({error or status})")
        raise ProviderError(
            f"zendesk answered {status} to the {what}", status_code=status, request_id=request_id
        )

    # -- mapping --------------------------------------------------------------------------------

    def to_common(self, data: Mapping[str, Any], comments: list[Comment] | None = None) -> Ticket:
        """Map a Zendesk ticket object to the common model (raw status kept).

        Examples:
            >>> provider = ZendeskProvider(subdomain="acme", email="a@acme.test", api_token="t")
            >>> t = provider.to_common({"id": 7, "subject": "s", "description": "d",
            ...     "status": "hold", "priority": None, "requester_id": 9, "tags": [],
            ...     "created_at": "2026-01-05T09:00:00Z", "updated_at": "2026-01-05T09:00:00Z"})
            >>> (t.id, t.status, t.raw_status, t.priority)
            ('7', 'on_hold', 'hold', 'normal')
        """
        raw_status = str(data.get("status") or "new")
        status = self._status_back.get(raw_status, "open")
        priority = self._priority_back.get(str(data.get("priority") or "normal"), "normal")
        created = _parse_time(data.get("created_at"))
        fields = {
            str(item["id"]): item.get("value")
            for item in data.get("custom_fields") or []
            if isinstance(item, dict) and "id" in item
        }
        assignee = data.get("assignee_id")
        return Ticket(
            id=str(data["id"]),
            subject=str(data.get("subject") or "(no subject)"),
            description=str(data.get("description") or "(no description)"),
            requester=str(data.get("requester_id") or "unknown"),
            status=status,  # type: ignore[arg-type]
            raw_status=raw_status,
            priority=priority,  # type: ignore[arg-type]
            assignee=None if assignee is None else str(assignee),
            tags=tuple(sorted(str(tag) for tag in data.get("tags") or [])),
            custom_fields={k: v for k, v in fields.items() if isinstance(v, str | int | bool)},
            comments=tuple(comments or ()),
            history=self._history(created, priority, status, data, comments or []),
            created_at=created,
            updated_at=_parse_time(data.get("updated_at")),
            vendor_stamp=str(data.get("updated_at")),
        )

    def _clean(self, text: str, fired: set[str]) -> str:
        result = self.redactor.redact(text)
        fired.update(result.detectors)
        return result.text

    def _note(self, ticket_id: str, fired: set[str]) -> None:
        if not fired:
            return
        for name in fired:
            self.redactions[name] = self.redactions.get(name, 0) + 1
        logger.info("ticket_redacted", ticket_id=ticket_id, detectors=",".join(sorted(fired)))

    @staticmethod
    def _history(
        created: datetime,
        priority: str,
        status: str,
        data: Mapping[str, Any],
        comments: list[Comment],
    ) -> tuple[HistoryEntry, ...]:
        """What the SLA engine can know without audits: creation, comments, current status.

        The current status is dated at the ticket's ``updated_at`` (Zendesk's ticket object
        does not say when the status changed).
        """
        entries = [
            HistoryEntry(at=created, kind="priority", value=priority),
            HistoryEntry(at=created, kind="status", value="new"),
        ]
        entries += [
            HistoryEntry(at=c.created_at, kind="comment", value=c.author, public=c.public)
            for c in comments
        ]
        if status != "new":
            entries.append(
                HistoryEntry(at=_parse_time(data.get("updated_at")), kind="status", value=status)
            )
        return tuple(sorted(entries, key=lambda entry: entry.at))

    def _payload(self, ticket: Ticket, fired: set[str]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "subject": self._clean(ticket.subject, fired),
            "status": self.statuses[ticket.status],
            "priority": self.priorities[ticket.priority],
            "tags": list(ticket.tags),
            "external_id": ticket.id,
        }
        if ticket.custom_fields:
            body["custom_fields"] = [
                {
                    "id": int(key) if key.isdigit() else key,
                    "value": self._clean(value, fired) if isinstance(value, str) else value,
                }
                for key, value in sorted(ticket.custom_fields.items())
            ]
        if ticket.assignee is not None and ticket.assignee.isdigit():
            body["assignee_id"] = int(ticket.assignee)
        return body

    # -- SupportProvider ------------------------------------------------------------------------

    def create_ticket(
        self, ticket: Ticket, *, idempotency_key: str, fingerprint: str
    ) -> tuple[Ticket, bool]:
        """Create the ticket with an ``Idempotency-Key``; retries are safe.

        Raises:
            ConflictError: The key was used with another payload.
            RateLimitedError: Rate limited past the wait budget.
            ProviderError: Zendesk failed or could not be reached.
        """
        fired: set[str] = set()
        body = self._payload(ticket, fired)
        body["comment"] = {"body": self._clean(ticket.description, fired), "public": True}
        if "@" in ticket.requester:
            body["requester"] = {"email": ticket.requester, "name": ticket.requester}
        response = self._call(
            "POST",
            "/api/v2/tickets.json",
            json_body={"ticket": body},
            headers={"Idempotency-Key": idempotency_key},
            retryable=True,
        )
        self._fail(response, "create")
        self._note(ticket.id, fired)
        replayed = response.headers.get("x-idempotency-lookup") == "hit"
        created = self.to_common(response.json()["ticket"])
        logger.info("zendesk_ticket_created", ticket_id=created.id, replayed=replayed)
        return created, not replayed

    def get_ticket(self, ticket_id: str) -> Ticket:
        """Return the ticket with its comments.

        Raises:
            NotFoundError: No such ticket.
        """
        response = self._call("GET", f"/api/v2/tickets/{ticket_id}.json", retryable=True)
        self._fail(response, "show", ticket_id)
        comments = list(self._comments(ticket_id))
        return self.to_common(response.json()["ticket"], comments)

    def _comments(self, ticket_id: str) -> Iterator[Comment]:
        url: str | None = f"/api/v2/tickets/{ticket_id}/comments.json"
        params: dict[str, str] | None = {"page[size]": "100"}
        requester: Any = None
        while url:
            response = self._call("GET", url, params=params, retryable=True)
            self._fail(response, "comments", ticket_id)
            page = response.json()
            for item in page.get("comments", []):
                if requester is None:
                    requester = item.get("author_id")  # the first comment is the description
                    continue
                yield Comment(
                    id=str(item["id"]),
                    author="customer" if item.get("author_id") == requester else "agent",
                    body=str(item.get("body") or "(empty)"),
                    public=bool(item.get("public", True)),
                    created_at=_parse_time(item.get("created_at")),
                )
            meta = page.get("meta") or {}
            url = (page.get("links") or {}).get("next") if meta.get("has_more") else None
            params = None

    def update_ticket(self, ticket: Ticket, *, expected_version: int) -> Ticket:
        """Write the change with ``safe_update`` against the stamp it was based on.

        Raises:
            ConflictError: Zendesk saw a newer update (409).
        """
        fired: set[str] = set()
        body = self._payload(ticket, fired)
        body["safe_update"] = True
        if ticket.vendor_stamp:
            body["updated_stamp"] = ticket.vendor_stamp
        current_comments = ticket.comments
        new = [c for c in current_comments if not c.id.isdigit()]
        if new:
            body["comment"] = {"body": self._clean(new[-1].body, fired), "public": new[-1].public}
        response = self._call(
            "PUT", f"/api/v2/tickets/{ticket.id}.json", json_body={"ticket": body}, retryable=True
        )
        self._fail(response, "update", ticket.id)
        self._note(ticket.id, fired)
        return self.to_common(response.json()["ticket"], list(current_comments))

    def list_tickets(self) -> Iterator[Ticket]:
        """Yield every ticket, following cursor pagination (no 10,000-record cap)."""
        url: str | None = "/api/v2/tickets.json"
        params: dict[str, str] | None = {"page[size]": "100"}
        while url:
            response = self._call("GET", url, params=params, retryable=True)
            self._fail(response, "list")
            page = response.json()
            for item in page.get("tickets", []):
                yield self.to_common(item)
            meta = page.get("meta") or {}
            url = (page.get("links") or {}).get("next") if meta.get("has_more") else None
            params = None

    def export_tickets(self, start_time: int) -> Iterator[Ticket]:
        """Yield tickets changed since ``start_time`` (epoch seconds) via the incremental export.

        Stops at ``end_of_stream``; a cursor that comes back unchanged without the end of the
        stream raises instead of looping.

        Raises:
            ProviderError: The export cursor stalled.
        """
        params: dict[str, str] = {"start_time": str(int(start_time))}
        previous: str | None = None
        while True:
            response = self._call(
                "GET", "/api/v2/incremental/tickets/cursor.json", params=params, retryable=True
            )
            self._fail(response, "export")
            page = response.json()
            for item in page.get("tickets", []):
                yield self.to_common(item)
            if page.get("end_of_stream"):
                return
            cursor = page.get("after_cursor")
            if not cursor or cursor == previous:
                raise ProviderError("zendesk export cursor stalled", status_code=200)
            previous = cursor
            params = {"cursor": str(cursor)}


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after", "")
    try:
        return max(float(value), 0.0)
    except ValueError:
        return 60.0


def _real_sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)
