"""The async twin: `SupportClient`, `InternalProvider` and `ZendeskProvider` for asyncio hosts.

Same class names and behaviour as the sync API; the pure core (ticket model, lifecycle checks,
change builders, SLA engine, Zendesk mapping and redaction) is shared, only the I/O differs:
`ZendeskProvider` uses ``httpx.AsyncClient`` and `InternalProvider` runs the (sync) store in a
worker thread.

Examples:
    >>> import asyncio
    >>> from unified_health.support.aio import SupportClient
    >>> async def main() -> str:
    ...     support = SupportClient()
    ...     ticket = await support.create_ticket("Portal login", "Cannot sign in", "patient-42")
    ...     return (await support.add_comment(ticket.id, "On it")).status
    >>> asyncio.run(main())
    'open'
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import httpx

from unified_health.support._calendar import to_epoch
from unified_health.support._client import (
    apply_change,
    comment_change,
    new_ticket,
    priority_change,
    status_change,
    timeline_of,
    with_due,
)
from unified_health.support._clock import Clock, SystemClock
from unified_health.support._errors import (
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
)
from unified_health.support._lifecycle import check_transition
from unified_health.support._logging import logger
from unified_health.support._models import Comment, Ticket
from unified_health.support._sla import SlaPolicy, SlaStatus
from unified_health.support.providers._zendesk import ZendeskProvider as _SyncZendesk
from unified_health.support.stores._memory import InMemoryTicketStore
from unified_health.support.stores._protocol import TicketStore

__all__ = ["InternalProvider", "SupportClient", "SupportProvider", "ZendeskProvider"]


@runtime_checkable
class SupportProvider(Protocol):
    """The async twin of `unified_health.support.SupportProvider`.

    Examples:
        >>> isinstance(InternalProvider(), SupportProvider)
        True
    """

    name: str

    async def create_ticket(
        self, ticket: Ticket, *, idempotency_key: str, fingerprint: str
    ) -> tuple[Ticket, bool]:
        """Create the ticket once per key; return it and whether it is new."""
        ...

    async def get_ticket(self, ticket_id: str) -> Ticket:
        """Return the ticket or raise `NotFoundError`."""
        ...

    async def update_ticket(self, ticket: Ticket, *, expected_version: int) -> Ticket:
        """Write the changed ticket over ``expected_version``."""
        ...


class InternalProvider:
    """Tickets in your `TicketStore`, its calls run in a worker thread.

    Examples:
        >>> InternalProvider().name
        'internal'
    """

    name = "internal"

    def __init__(self, store: TicketStore | None = None) -> None:
        if store is not None and not isinstance(store, TicketStore):
            raise InvalidInputError("store", "must implement TicketStore")
        self.store: TicketStore = store if store is not None else InMemoryTicketStore()

    async def create_ticket(
        self, ticket: Ticket, *, idempotency_key: str, fingerprint: str
    ) -> tuple[Ticket, bool]:
        """Create the ticket once per key (see `TicketStore.create`)."""
        return await asyncio.to_thread(
            self.store.create, ticket, idempotency_key=idempotency_key, fingerprint=fingerprint
        )

    async def get_ticket(self, ticket_id: str) -> Ticket:
        """Return the ticket.

        Raises:
            NotFoundError: No such ticket.
        """
        found = await asyncio.to_thread(self.store.get, ticket_id)
        if found is None:
            raise NotFoundError("ticket", ticket_id)
        return found

    async def update_ticket(self, ticket: Ticket, *, expected_version: int) -> Ticket:
        """Write the changed ticket over ``expected_version``."""
        return await asyncio.to_thread(self.store.update, ticket, expected_version=expected_version)


class ZendeskProvider:
    """The async twin of `unified_health.support.ZendeskProvider` (create, show, update).

    Same arguments as the sync provider, with ``http_client`` an ``httpx.AsyncClient`` and
    ``sleep`` an async function. Mapping, redaction and error handling are the sync provider's.

    Examples:
        >>> provider = ZendeskProvider(subdomain="acme", email="a@acme.test", api_token="t")
        >>> provider.base_url
        'https://acme.zendesk.com'
    """

    name = "zendesk"

    def __init__(
        self,
        *,
        subdomain: str,
        email: str,
        api_token: str,
        base_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        max_retries: int = 3,
        retry_budget: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        seed: int | None = None,
    ) -> None:
        self._core = _SyncZendesk(
            subdomain=subdomain,
            email=email,
            api_token=api_token,
            base_url=base_url,
            http_client=httpx.Client(),  # never used for I/O: mapping and checks only
            max_retries=max_retries,
            retry_budget=retry_budget,
            seed=seed,
        )
        self.base_url = self._core.base_url
        self._http = http_client if http_client is not None else httpx.AsyncClient(timeout=timeout)
        self._owns_client = http_client is None
        self._sleep = sleep if sleep is not None else asyncio.sleep
        self._max_retries = max_retries
        self._budget = float(retry_budget)
        self._random = random.Random(seed)  # noqa: S311 - retry jitter, not a secret

    async def aclose(self) -> None:
        """Close the HTTP client if the provider made it."""
        self._core.close()
        if self._owns_client:
            await self._http.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        waited, attempt = 0.0, 0
        while True:
            attempt += 1
            try:
                response = await self._http.request(
                    method, url, json=json_body, headers={**self._core._headers, **(headers or {})}
                )
            except httpx.TransportError as exc:
                if attempt <= self._max_retries:
                    pause = 0.25 * 2 ** (attempt - 1) * (0.5 + self._random.random() / 2)
                    await self._sleep(pause)
                    waited += pause
                    continue
                raise ProviderError(
                    f"zendesk {method} failed ({type(exc).__name__})", attempts=attempt
                ) from exc
            if response.status_code == 429:
                value = response.headers.get("retry-after", "")
                retry_after = float(value) if value.replace(".", "", 1).isdigit() else 60.0
                if attempt <= self._max_retries and waited + retry_after <= self._budget:
                    await self._sleep(retry_after)
                    waited += retry_after
                    continue
                raise RateLimitedError(
                    "zendesk rate limit: wait before retrying",
                    status_code=429,
                    retry_after=retry_after,
                    attempts=attempt,
                )
            if response.status_code >= 500 and attempt <= self._max_retries:
                await self._sleep(0.25 * attempt)
                continue
            return response

    async def create_ticket(
        self, ticket: Ticket, *, idempotency_key: str, fingerprint: str
    ) -> tuple[Ticket, bool]:
        """Create the ticket with an ``Idempotency-Key``; retries are safe."""
        fired: set[str] = set()
        body = self._core._payload(ticket, fired)
        body["comment"] = {"body": self._core._clean(ticket.description, fired), "public": True}
        if "@" in ticket.requester:
            body["requester"] = {"email": ticket.requester, "name": ticket.requester}
        response = await self._call(
            "POST",
            "/api/v2/tickets.json",
            json_body={"ticket": body},
            headers={"Idempotency-Key": idempotency_key},
        )
        self._core._fail(response, "create")
        self._core._note(ticket.id, fired)
        replayed = response.headers.get("x-idempotency-lookup") == "hit"
        return self._core.to_common(response.json()["ticket"]), not replayed

    async def get_ticket(self, ticket_id: str) -> Ticket:
        """Return the ticket with its first page of comments (up to 100).

        Raises:
            NotFoundError: No such ticket.
        """
        response = await self._call("GET", f"/api/v2/tickets/{ticket_id}.json")
        self._core._fail(response, "show", ticket_id)
        listed = await self._call("GET", f"/api/v2/tickets/{ticket_id}/comments.json")
        self._core._fail(listed, "comments", ticket_id)
        items = listed.json().get("comments", [])
        requester = items[0].get("author_id") if items else None
        comments = [
            Comment(
                id=str(item["id"]),
                author="customer" if item.get("author_id") == requester else "agent",
                body=str(item.get("body") or "(empty)"),
                public=bool(item.get("public", True)),
                created_at=datetime.fromisoformat(str(item["created_at"]).replace("Z", "+00:00")),
            )
            for item in items[1:]
        ]
        return self._core.to_common(response.json()["ticket"], comments)

    async def update_ticket(self, ticket: Ticket, *, expected_version: int) -> Ticket:
        """Write the change with ``safe_update`` against the stamp it was based on.

        Raises:
            ConflictError: Zendesk saw a newer update (409).
        """
        fired: set[str] = set()
        body = self._core._payload(ticket, fired)
        body["safe_update"] = True
        if ticket.vendor_stamp:
            body["updated_stamp"] = ticket.vendor_stamp
        new = [c for c in ticket.comments if not c.id.isdigit()]
        if new:
            body["comment"] = {
                "body": self._core._clean(new[-1].body, fired),
                "public": new[-1].public,
            }
        response = await self._call(
            "PUT", f"/api/v2/tickets/{ticket.id}.json", json_body={"ticket": body}
        )
        self._core._fail(response, "update", ticket.id)
        self._core._note(ticket.id, fired)
        return self._core.to_common(response.json()["ticket"], list(ticket.comments))


class SupportClient:
    """The async twin of `unified_health.support.SupportClient` (tickets and SLA status).

    Offers ``create_ticket``, ``get_ticket``, ``set_status``, ``solve``, ``reopen``,
    ``add_comment``, ``set_priority``, ``assign`` and ``sla_status`` with the sync semantics.

    Examples:
        >>> import asyncio
        >>> async def main() -> str:
        ...     support = SupportClient()
        ...     ticket = await support.create_ticket("s", "d", "r")
        ...     return (await support.solve(ticket.id)).status
        >>> asyncio.run(main())
        'solved'
    """

    def __init__(
        self,
        provider: SupportProvider | None = None,
        *,
        policy: SlaPolicy | None = None,
        clock: Clock | None = None,
        id_factory: Callable[[], str] | None = None,
    ) -> None:
        if provider is not None and not isinstance(provider, SupportProvider):
            raise InvalidInputError("provider", "must implement aio.SupportProvider")
        if policy is not None and not isinstance(policy, SlaPolicy):
            raise InvalidInputError("policy", "must be an SlaPolicy")
        self.provider: SupportProvider = provider if provider is not None else InternalProvider()
        self.policy = policy
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._new_id = id_factory if id_factory is not None else (lambda: uuid.uuid4().hex)

    @classmethod
    def from_url(cls, url: str, *, policy: SlaPolicy | None = None) -> SupportClient:
        """Create a client on ``memory://`` (the async twin keeps stores in memory or yours).

        Examples:
            >>> SupportClient.from_url("memory://").provider.name
            'internal'
        """
        if url != "memory://":
            raise InvalidInputError("url", "must be memory:// (pass a provider for the rest)")
        return cls(InternalProvider(), policy=policy)

    @classmethod
    def from_env(
        cls, *, environ: Mapping[str, str] | None = None, policy: SlaPolicy | None = None
    ) -> SupportClient:
        """Create a client from ``UH_SUPPORT_URL`` (only ``memory://`` here).

        Examples:
            >>> SupportClient.from_env(environ={}).provider.name
            'internal'
        """
        env = {} if environ is None else environ
        return cls.from_url(env.get("UH_SUPPORT_URL", "memory://"), policy=policy)

    async def create_ticket(
        self,
        subject: str,
        description: str,
        requester: str,
        *,
        priority: str = "normal",
        tags: Iterable[str] = (),
        custom_fields: Mapping[str, str | int | bool | None] | None = None,
        assignee: str | None = None,
        idempotency_key: str | None = None,
    ) -> Ticket:
        """Create a ticket once per idempotency key (see the sync client).

        Examples:
            >>> import asyncio
            >>> support = SupportClient()
            >>> asyncio.run(support.create_ticket("s", "d", "r", priority="high")).priority
            'high'
        """
        ticket, key, fingerprint = new_ticket(
            subject,
            description,
            requester,
            priority=priority,
            tags=tags,
            custom_fields=custom_fields,
            assignee=assignee,
            idempotency_key=idempotency_key,
            ticket_id=self._new_id(),
            now=self._clock.now(),
        )
        ticket = with_due(self.policy, ticket, to_epoch(ticket.created_at, "now"))
        stored, created = await self.provider.create_ticket(
            ticket, idempotency_key=key, fingerprint=fingerprint
        )
        logger.info(
            "ticket_created" if created else "ticket_create_replayed",
            ticket_id=stored.id,
            provider=self.provider.name,
        )
        return stored

    async def get_ticket(self, ticket_id: str) -> Ticket:
        """Return the ticket (`NotFoundError` if there is none).

        Examples:
            >>> import asyncio
            >>> support = SupportClient()
            >>> t = asyncio.run(support.create_ticket("s", "d", "r"))
            >>> asyncio.run(support.get_ticket(t.id)).subject
            's'
        """
        return await self.provider.get_ticket(ticket_id)

    async def _change(
        self, ticket_id: str, change: Callable[[Ticket, datetime], dict[str, Any]]
    ) -> Ticket:
        current = await self.provider.get_ticket(ticket_id)
        if current.status == "closed":
            check_transition("closed", "closed")
        changed = apply_change(self.policy, current, change, self._clock.now())
        written = await self.provider.update_ticket(changed, expected_version=current.version)
        logger.info("ticket_updated", ticket_id=ticket_id, version=written.version)
        return written

    async def set_status(self, ticket_id: str, status: str) -> Ticket:
        """Move the ticket to ``status`` if the lifecycle allows it (checked before any write).

        Examples:
            >>> import asyncio
            >>> support = SupportClient()
            >>> t = asyncio.run(support.create_ticket("s", "d", "r"))
            >>> asyncio.run(support.set_status(t.id, "on_hold")).status
            'on_hold'
        """
        return await self._change(ticket_id, status_change(status))

    async def solve(self, ticket_id: str) -> Ticket:
        """Mark the ticket solved.

        Examples:
            >>> import asyncio
            >>> support = SupportClient()
            >>> t = asyncio.run(support.create_ticket("s", "d", "r"))
            >>> asyncio.run(support.solve(t.id)).status
            'solved'
        """
        return await self.set_status(ticket_id, "solved")

    async def reopen(self, ticket_id: str) -> Ticket:
        """Reopen a solved ticket (`InvalidInputError` otherwise).

        Examples:
            >>> import asyncio
            >>> support = SupportClient()
            >>> t = asyncio.run(support.create_ticket("s", "d", "r"))
            >>> _ = asyncio.run(support.solve(t.id))
            >>> asyncio.run(support.reopen(t.id)).status
            'open'
        """
        ticket = await self.provider.get_ticket(ticket_id)
        if ticket.status != "solved":
            check_transition(ticket.status, "closed" if ticket.status == "closed" else "solved")
            raise InvalidInputError("status", "only a solved ticket can be reopened")
        return await self.set_status(ticket_id, "open")

    async def add_comment(
        self, ticket_id: str, body: str, *, author: str = "agent", public: bool = True
    ) -> Ticket:
        """Add a comment (the status moves as in the sync client).

        Examples:
            >>> import asyncio
            >>> support = SupportClient()
            >>> t = asyncio.run(support.create_ticket("s", "d", "r"))
            >>> len(asyncio.run(support.add_comment(t.id, "note", public=False)).comments)
            1
        """
        return await self._change(ticket_id, comment_change(body, author, public))

    async def set_priority(self, ticket_id: str, priority: str) -> Ticket:
        """Change the priority (SLA targets re-target from the original start).

        Examples:
            >>> import asyncio
            >>> support = SupportClient()
            >>> t = asyncio.run(support.create_ticket("s", "d", "r"))
            >>> asyncio.run(support.set_priority(t.id, "urgent")).priority
            'urgent'
        """
        return await self._change(ticket_id, priority_change(priority))

    async def assign(self, ticket_id: str, assignee: str | None) -> Ticket:
        """Assign the ticket to an agent (``None`` unassigns).

        Examples:
            >>> import asyncio
            >>> support = SupportClient()
            >>> t = asyncio.run(support.create_ticket("s", "d", "r"))
            >>> asyncio.run(support.assign(t.id, "agent-7")).assignee
            'agent-7'
        """
        return await self._change(ticket_id, lambda ticket, now: {"assignee": assignee})

    async def sla_status(self, ticket_id: str) -> SlaStatus:
        """Return every SLA instance of the ticket now (the client needs a policy).

        Examples:
            >>> import asyncio
            >>> from datetime import timedelta
            >>> policy = SlaPolicy({"normal": {"resolution": timedelta(days=1)}})
            >>> support = SupportClient(policy=policy)
            >>> t = asyncio.run(support.create_ticket("s", "d", "r"))
            >>> asyncio.run(support.sla_status(t.id)).current("resolution").state
            'running'
        """
        if self.policy is None:
            raise InvalidInputError("policy", "the client needs an SlaPolicy for SLA status")
        ticket = await self.provider.get_ticket(ticket_id)
        return self.policy.evaluate_at(timeline_of(ticket), to_epoch(self._clock.now(), "now"))
