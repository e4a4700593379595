"""`SupportClient`: one ticket API over any provider, with the lifecycle, SLAs and escalations.

Every change is computed locally on the common model (lifecycle checked first, so an invalid
transition raises before any write), then written with the version it was based on; a write
that fails leaves the stored ticket as it was. After each write the client stores the ticket's
next SLA due time, which breach scans read through the store's due index.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Literal

from unified_health.support._calendar import to_datetime, to_epoch
from unified_health.support._clock import Clock, SystemClock
from unified_health.support._csat import CsatScore, sign_survey, verify_survey
from unified_health.support._errors import InvalidInputError
from unified_health.support._lifecycle import check_transition
from unified_health.support._logging import logger
from unified_health.support._models import MAX_BODY, Comment, CsatRating, HistoryEntry, Ticket
from unified_health.support._provider import InternalProvider, SupportProvider
from unified_health.support._sla import PRIORITIES, SlaEvent, SlaPolicy, SlaStatus, SlaTimeline
from unified_health.support.stores._protocol import TicketStore

__all__ = ["BreachWarning", "SupportClient", "timeline_of"]


def timeline_of(ticket: Ticket) -> SlaTimeline:
    """Return the SLA timeline of a ticket (its creation and history).

    Examples:
        >>> from datetime import UTC
        >>> at = datetime(2026, 1, 5, 9, tzinfo=UTC)
        >>> t = Ticket(id="t", subject="s", description="d", requester="r", priority="high",
        ...            created_at=at, updated_at=at)
        >>> timeline_of(t).priority
        'high'
    """
    first_priority = next(
        (entry.value for entry in ticket.history if entry.kind == "priority"), ticket.priority
    )
    # a vendor's clock may run ahead of the host's: nothing happens before creation
    events = [
        SlaEvent(max(entry.at, ticket.created_at), entry.kind, entry.value, entry.public)
        for entry in ticket.history
    ]
    return SlaTimeline(ticket.created_at, first_priority, "new", events)


def _cycle(ticket: Ticket) -> int:
    return sum(1 for e in ticket.history if e.kind == "status" and e.value == "solved") or 1


@dataclass(frozen=True, slots=True)
class BreachWarning:
    """A ticket whose SLA instance is due within a scan's horizon, or already breached.

    Examples:
        >>> from datetime import UTC
        >>> w = BreachWarning("t-1", "first_reply", datetime(2026, 1, 5, 10, tzinfo=UTC), False)
        >>> (w.ticket_id, w.metric)
        ('t-1', 'first_reply')
    """

    ticket_id: str
    metric: str
    due_at: datetime
    breached: bool
    started_ts: int = 0


def _text(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(field, "must be a non-empty str")
    if len(value) > limit:
        raise InvalidInputError(field, f"must be at most {limit} characters")
    return value


def with_due(policy: SlaPolicy | None, ticket: Ticket, now: int) -> Ticket:
    """Return ``ticket`` with its next SLA due time (and metric) as of ``now``."""
    due_at: datetime | None = None
    metric: str | None = None
    if policy is not None:
        status = policy.evaluate_at(timeline_of(ticket), now)
        best: int | None = None
        for instance in status.instances:
            if (
                instance.due_ts is not None
                and instance.fulfilled_ts is None
                and not instance.paused
                and (best is None or instance.due_ts < best)
            ):
                best, metric = instance.due_ts, instance.metric
        due_at = None if best is None else to_datetime(best)
    if due_at == ticket.sla_due_at and metric == ticket.sla_due_metric:
        return ticket
    return ticket.model_copy(update={"sla_due_at": due_at, "sla_due_metric": metric})


def new_ticket(
    subject: str,
    description: str,
    requester: str,
    *,
    priority: str,
    tags: Iterable[str],
    custom_fields: Mapping[str, str | int | bool | None] | None,
    assignee: str | None,
    idempotency_key: str | None,
    ticket_id: str,
    now: datetime,
) -> tuple[Ticket, str, str]:
    """Validate a create request; return the new ticket, its idempotency key and fingerprint."""
    _text(subject, "subject", 250)
    _text(description, "description", MAX_BODY)
    _text(requester, "requester", 256)
    if priority not in PRIORITIES:
        raise InvalidInputError("priority", f"must be one of: {', '.join(PRIORITIES)}")
    if isinstance(tags, str) or not isinstance(tags, Iterable):
        raise InvalidInputError("tags", "must be a collection of str")
    tag_list = sorted(set(tags))
    fields = dict(custom_fields or {})
    if idempotency_key is not None:
        _text(idempotency_key, "idempotency_key", 200)
    payload = {
        "subject": subject,
        "description": description,
        "requester": requester,
        "priority": priority,
        "tags": tag_list,
        "custom_fields": fields,
        "assignee": assignee,
    }
    try:
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        raise InvalidInputError("custom_fields", "values must be str, int, bool or None") from None
    fingerprint = hashlib.sha256(canonical.encode()).hexdigest()
    key = idempotency_key if idempotency_key is not None else f"derived:{fingerprint}"
    ticket = Ticket(
        id=ticket_id,
        subject=subject,
        description=description,
        requester=requester,
        priority=priority,  # type: ignore[arg-type]
        assignee=assignee,
        tags=tuple(tag_list),
        custom_fields=fields,
        history=(
            HistoryEntry(at=now, kind="priority", value=priority),
            HistoryEntry(at=now, kind="status", value="new"),
        ),
        created_at=now,
        updated_at=now,
    )
    return ticket, key, fingerprint


def apply_change(
    policy: SlaPolicy | None,
    current: Ticket,
    change: Callable[[Ticket, datetime], dict[str, Any]],
    now: datetime,
) -> Ticket:
    """Apply a change to a ticket locally (validated, SLA due refreshed); nothing is written."""
    fields = change(current, now)
    fields["updated_at"] = now
    changed = Ticket(**{**current.model_dump(), **fields})
    return with_due(policy, changed, to_epoch(now, "now"))


def status_change(status: str) -> Callable[[Ticket, datetime], dict[str, Any]]:
    """The change that moves a ticket to ``status`` (the lifecycle is checked on apply)."""

    def change(ticket: Ticket, now: datetime) -> dict[str, Any]:
        check_transition(ticket.status, status)
        if status == ticket.status:
            return {}
        entry = HistoryEntry(at=now, kind="status", value=status)
        return {"status": status, "raw_status": status, "history": (*ticket.history, entry)}

    return change


def comment_change(
    body: str, author: str, public: bool
) -> Callable[[Ticket, datetime], dict[str, Any]]:
    """Validate a comment; return the change that adds it (and moves the status)."""
    _text(body, "body", MAX_BODY)
    if author not in ("agent", "customer"):
        raise InvalidInputError("author", "must be one of: agent, customer")
    if not isinstance(public, bool):
        raise InvalidInputError("public", "must be a bool")
    if author == "customer" and not public:
        raise InvalidInputError("public", "a customer comment is always public")

    def change(ticket: Ticket, now: datetime) -> dict[str, Any]:
        comment = Comment(
            id=f"{ticket.id}-c{len(ticket.comments) + 1}",
            author=author,  # type: ignore[arg-type]
            body=body,
            public=public,
            created_at=now,
        )
        history = list(ticket.history)
        status = ticket.status
        if public and author == "agent" and status == "new":
            status = "open"
        if author == "customer" and status in ("pending", "solved"):
            status = "open"
        fields: dict[str, Any] = {"comments": (*ticket.comments, comment)}
        if status != ticket.status:
            # the reopening comes first, so a customer reply to a solved ticket arms next_reply
            history.append(HistoryEntry(at=now, kind="status", value=status))
            fields.update(status=status, raw_status=status)
        history.append(HistoryEntry(at=now, kind="comment", value=author, public=public))
        fields["history"] = tuple(history)
        return fields

    return change


def priority_change(priority: str) -> Callable[[Ticket, datetime], dict[str, Any]]:
    """Validate a priority; return the change that sets it."""
    if priority not in PRIORITIES:
        raise InvalidInputError("priority", f"must be one of: {', '.join(PRIORITIES)}")

    def change(ticket: Ticket, now: datetime) -> dict[str, Any]:
        if priority == ticket.priority:
            return {}
        entry = HistoryEntry(at=now, kind="priority", value=priority)
        return {"priority": priority, "history": (*ticket.history, entry)}

    return change


class SupportClient:
    """Tickets, lifecycle and SLAs over one `SupportProvider`.

    Args:
        provider: Where tickets live; an `InternalProvider` on an in-memory store by default.
        policy: The SLA policy; without one, `sla_status` reports no targets.
        clock: The time source (`SystemClock` by default).
        id_factory: Makes new ticket ids (random UUIDs by default).
        csat_secret: Signs CSAT survey tokens; needed for `offer_survey` and `record_rating`.
        survey_ttl: How long a survey token stays valid (14 days by default).

    Raises:
        InvalidInputError: A provider, policy or clock of the wrong type.

    Examples:
        >>> support = SupportClient()
        >>> ticket = support.create_ticket("Portal login", "Cannot sign in", "patient-42")
        >>> (ticket.status, ticket.priority, ticket.version)
        ('new', 'normal', 1)
    """

    def __init__(
        self,
        provider: SupportProvider | None = None,
        *,
        policy: SlaPolicy | None = None,
        clock: Clock | None = None,
        id_factory: Callable[[], str] | None = None,
        csat_secret: str | bytes | None = None,
        survey_ttl: timedelta = timedelta(days=14),
    ) -> None:
        secret: object = csat_secret
        if secret is not None and (not isinstance(secret, str | bytes) or not secret):
            raise InvalidInputError("csat_secret", "must be a non-empty str or bytes")
        ttl: object = survey_ttl
        if not isinstance(ttl, timedelta) or ttl <= timedelta(0):
            raise InvalidInputError("survey_ttl", "must be a positive timedelta")
        self._csat_secret = csat_secret.encode() if isinstance(csat_secret, str) else csat_secret
        self._survey_ttl = survey_ttl
        if provider is not None and not isinstance(provider, SupportProvider):
            raise InvalidInputError("provider", "must implement SupportProvider")
        if policy is not None and not isinstance(policy, SlaPolicy):
            raise InvalidInputError("policy", "must be an SlaPolicy")
        if clock is not None and not isinstance(clock, Clock):
            raise InvalidInputError("clock", "must implement Clock")
        self._owns_provider = provider is None
        self.provider: SupportProvider = provider if provider is not None else InternalProvider()
        self.policy = policy
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._new_id = id_factory if id_factory is not None else (lambda: uuid.uuid4().hex)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        policy: SlaPolicy | None = None,
        prefix: str = "uh:support",
        clock: Clock | None = None,
    ) -> SupportClient:
        """Create a client on an internal store named by URL: ``memory://`` or ``redis://...``.

        No connection is made until the first call.

        Args:
            url: ``memory://`` or a Redis URL (``redis://``, ``rediss://``, ``unix://``).
            policy: The SLA policy.
            prefix: Redis key prefix.
            clock: The time source.

        Returns:
            The client; `close` closes the store it created.

        Raises:
            InvalidInputError: An unsupported URL.

        Examples:
            >>> with SupportClient.from_url("memory://") as support:
            ...     support.provider.name
            'internal'
        """
        given: object = url
        if not isinstance(given, str):
            raise InvalidInputError("url", "must be a str")
        if given == "memory://":
            client = cls(InternalProvider(), policy=policy, clock=clock)
        elif given.startswith(("redis://", "rediss://", "unix://")):
            from unified_health.support.stores._redis import RedisTicketStore

            store = RedisTicketStore.from_url(given, prefix=prefix)
            client = cls(InternalProvider(store), policy=policy, clock=clock)
        else:
            raise InvalidInputError("url", "must be memory:// or a redis:// URL")
        client._owns_provider = True
        return client

    @classmethod
    def from_env(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        policy: SlaPolicy | None = None,
        clock: Clock | None = None,
    ) -> SupportClient:
        """Create a client from ``UH_SUPPORT_URL`` and ``UH_SUPPORT_PREFIX``.

        Examples:
            >>> SupportClient.from_env(environ={}).provider.name
            'internal'
        """
        env = os.environ if environ is None else environ
        return cls.from_url(
            env.get("UH_SUPPORT_URL", "memory://"),
            policy=policy,
            prefix=env.get("UH_SUPPORT_PREFIX", "uh:support"),
            clock=clock,
        )

    def close(self) -> None:
        """Close the provider if the client created it."""
        closer = getattr(self.provider, "close", None)
        if self._owns_provider and callable(closer):
            closer()

    def __enter__(self) -> SupportClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- SLA bookkeeping ------------------------------------------------------------------------

    def _with_due(self, ticket: Ticket, now: int) -> Ticket:
        return with_due(self.policy, ticket, now)

    # -- tickets --------------------------------------------------------------------------------

    def create_ticket(
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
        """Create a ticket, once per idempotency key.

        Without ``idempotency_key`` the key is derived from the payload, so the same request
        retried creates one ticket. The same key with a different payload raises
        `ConflictError`; it never returns the other ticket silently.

        Args:
            subject: One line (1 to 250 characters).
            description: The first message (up to 65,536 characters).
            requester: Who asked: an id or address of the requester.
            priority: ``low``, ``normal``, ``high`` or ``urgent``.
            tags: Tags (lower-case, ``[a-z0-9_-:.]``).
            custom_fields: Field name to str, int, bool or None.
            assignee: The agent, if already known.
            idempotency_key: The caller's key for this request.

        Returns:
            The ticket (the stored one when the key was seen before).

        Raises:
            InvalidInputError: A field broke a rule (named, without its value).
            ConflictError: The key was used before with a different payload.

        Examples:
            >>> support = SupportClient()
            >>> a = support.create_ticket("Refill", "Need a refill", "p-1", idempotency_key="req-7")
            >>> b = support.create_ticket("Refill", "Need a refill", "p-1", idempotency_key="req-7")
            >>> a.id == b.id
            True
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
        now = ticket.created_at
        ticket = self._with_due(ticket, to_epoch(now, "now"))
        stored, created = self.provider.create_ticket(
            ticket, idempotency_key=key, fingerprint=fingerprint
        )
        logger.info(
            "ticket_created" if created else "ticket_create_replayed",
            ticket_id=stored.id,
            provider=self.provider.name,
        )
        return stored

    def get_ticket(self, ticket_id: str) -> Ticket:
        """Return the ticket.

        Raises:
            NotFoundError: No such ticket.

        Examples:
            >>> support = SupportClient()
            >>> t = support.create_ticket("s", "d", "r")
            >>> support.get_ticket(t.id).subject
            's'
        """
        return self.provider.get_ticket(ticket_id)

    def _change(
        self,
        ticket_id: str,
        change: Callable[[Ticket, datetime], dict[str, Any]],
        *,
        allow_closed: bool = False,
    ) -> Ticket:
        current = self.provider.get_ticket(ticket_id)
        if current.status == "closed" and not allow_closed:
            check_transition("closed", "closed")
        now = self._clock.now()
        changed = apply_change(self.policy, current, change, now)
        written = self.provider.update_ticket(changed, expected_version=current.version)
        logger.info("ticket_updated", ticket_id=ticket_id, version=written.version)
        return written

    def set_status(self, ticket_id: str, status: str) -> Ticket:
        """Move the ticket to ``status`` if the lifecycle allows it (checked before any write).

        Raises:
            InvalidInputError: Unknown status or a move the lifecycle forbids.
            NotFoundError: No such ticket.
            ConflictError: The ticket changed meanwhile; read it again and retry.

        Examples:
            >>> support = SupportClient()
            >>> t = support.create_ticket("s", "d", "r")
            >>> support.set_status(t.id, "pending").status
            'pending'
        """
        change = status_change(status)
        return self._change(ticket_id, change)

    def solve(self, ticket_id: str) -> Ticket:
        """Mark the ticket solved (fulfils every running SLA instance).

        Examples:
            >>> support = SupportClient()
            >>> support.solve(support.create_ticket("s", "d", "r").id).status
            'solved'
        """
        return self.set_status(ticket_id, "solved")

    def reopen(self, ticket_id: str) -> Ticket:
        """Reopen a solved ticket; lifetime SLA metrics resume their counted time.

        Raises:
            InvalidInputError: The ticket is not solved (a closed one is final).

        Examples:
            >>> support = SupportClient()
            >>> t = support.solve(support.create_ticket("s", "d", "r").id)
            >>> support.reopen(t.id).status
            'open'
        """
        ticket = self.provider.get_ticket(ticket_id)
        if ticket.status != "solved":
            check_transition(ticket.status, "closed" if ticket.status == "closed" else "solved")
            raise InvalidInputError("status", "only a solved ticket can be reopened")
        return self.set_status(ticket_id, "open")

    def add_comment(
        self, ticket_id: str, body: str, *, author: str = "agent", public: bool = True
    ) -> Ticket:
        """Add a comment; it may move the status as a help desk would.

        An agent's public reply opens a new ticket; a customer's reply reopens a pending or
        solved one.

        Args:
            ticket_id: The ticket.
            body: The text (1 to 65,536 characters).
            author: ``"agent"`` or ``"customer"``.
            public: ``False`` for an internal note (agents only).

        Raises:
            InvalidInputError: Empty or oversized body, unknown author, a customer note.

        Examples:
            >>> support = SupportClient()
            >>> t = support.create_ticket("s", "d", "r")
            >>> t = support.add_comment(t.id, "Looking into it")
            >>> (t.status, len(t.comments))
            ('open', 1)
        """
        change = comment_change(body, author, public)
        return self._change(ticket_id, change)

    def set_priority(self, ticket_id: str, priority: str) -> Ticket:
        """Change the priority; SLA targets re-target from each instance's original start.

        Examples:
            >>> support = SupportClient()
            >>> support.set_priority(support.create_ticket("s", "d", "r").id, "urgent").priority
            'urgent'
        """
        change = priority_change(priority)
        return self._change(ticket_id, change)

    def assign(self, ticket_id: str, assignee: str | None) -> Ticket:
        """Assign the ticket to an agent (``None`` unassigns).

        Examples:
            >>> support = SupportClient()
            >>> support.assign(support.create_ticket("s", "d", "r").id, "agent-7").assignee
            'agent-7'
        """
        if assignee is not None:
            _text(assignee, "assignee", 256)
        return self._change(ticket_id, lambda ticket, now: {"assignee": assignee})

    def add_tags(self, ticket_id: str, tags: Iterable[str]) -> Ticket:
        """Add tags (kept sorted, without duplicates).

        Examples:
            >>> support = SupportClient()
            >>> support.add_tags(support.create_ticket("s", "d", "r").id, ["billing", "vip"]).tags
            ('billing', 'vip')
        """
        if isinstance(tags, str) or not isinstance(tags, Iterable):
            raise InvalidInputError("tags", "must be a collection of str")
        new = list(tags)
        return self._change(
            ticket_id, lambda ticket, now: {"tags": tuple(sorted({*ticket.tags, *new}))}
        )

    def remove_tags(self, ticket_id: str, tags: Iterable[str]) -> Ticket:
        """Remove tags (absent ones are ignored).

        Examples:
            >>> support = SupportClient()
            >>> t = support.create_ticket("s", "d", "r", tags=["a", "b"])
            >>> support.remove_tags(t.id, ["a"]).tags
            ('b',)
        """
        if isinstance(tags, str) or not isinstance(tags, Iterable):
            raise InvalidInputError("tags", "must be a collection of str")
        gone = set(tags)
        return self._change(
            ticket_id, lambda ticket, now: {"tags": tuple(t for t in ticket.tags if t not in gone)}
        )

    def create_follow_up(self, ticket_id: str, description: str) -> Ticket:
        """Open a new ticket that follows up a closed (or solved) one.

        Examples:
            >>> support = SupportClient()
            >>> t = support.solve(support.create_ticket("s", "d", "r").id)
            >>> t = support.set_status(t.id, "closed")
            >>> support.create_follow_up(t.id, "It broke again").follow_up_of == t.id
            True
        """
        original = self.provider.get_ticket(ticket_id)
        if original.status not in ("solved", "closed"):
            raise InvalidInputError("ticket_id", "a follow-up needs a solved or closed ticket")
        created = self.create_ticket(
            original.subject,
            description,
            original.requester,
            priority=original.priority,
            tags=original.tags,
            idempotency_key=f"follow-up:{ticket_id}:{hashlib.sha256(description.encode()).hexdigest()[:16]}",
        )
        if created.follow_up_of == ticket_id:
            return created
        return self._change(created.id, lambda ticket, now: {"follow_up_of": ticket_id})

    # -- CSAT -----------------------------------------------------------------------------------

    def _secret(self) -> bytes:
        if self._csat_secret is None:
            raise InvalidInputError("csat_secret", "the client needs a csat_secret for surveys")
        return self._csat_secret

    def offer_survey(self, ticket_id: str) -> str | None:
        """Return a signed survey token for the ticket's current solve cycle, once.

        Returns ``None`` when this cycle's survey was already offered (claimed through the
        store, so once across processes).

        Raises:
            InvalidInputError: No ``csat_secret``, or the ticket is not solved or closed.

        Examples:
            >>> support = SupportClient(csat_secret="k")
            >>> t = support.solve(support.create_ticket("s", "d", "r").id)
            >>> token = support.offer_survey(t.id)
            >>> (token is not None, support.offer_survey(t.id))
            (True, None)
        """
        secret = self._secret()
        ticket = self.provider.get_ticket(ticket_id)
        if ticket.status not in ("solved", "closed"):
            raise InvalidInputError("ticket_id", "a survey is offered once the ticket is solved")
        cycle = _cycle(ticket)
        if not self._store().claim_once(ticket.id, f"csat-offer/{cycle}"):
            return None
        expires = self._clock.now() + self._survey_ttl
        logger.info("csat_offered", ticket_id=ticket.id, cycle=cycle)
        return sign_survey(secret, ticket.id, cycle, expires)

    def record_rating(self, token: str, rating: str | int, *, comment: str | None = None) -> Ticket:
        """Record a rating (``"good"``/``"bad"`` or 1 to 5) against the token's solve cycle.

        A second rating for the same cycle replaces the first (the requester changed their mind).

        Raises:
            InvalidInputError: A forged or expired token, or a rating outside the scales.

        Examples:
            >>> support = SupportClient(csat_secret="k")
            >>> t = support.solve(support.create_ticket("s", "d", "r").id)
            >>> rated = support.record_rating(support.offer_survey(t.id), "good")
            >>> [(r.cycle, r.score, r.good) for r in rated.csat]
            [(1, 5, True)]
        """
        survey = verify_survey(self._secret(), token, self._clock.now())
        scale: Literal["good_bad", "five_point"]
        if rating in ("good", "bad"):
            score, scale = (5 if rating == "good" else 1), "good_bad"
        elif isinstance(rating, int) and not isinstance(rating, bool) and 1 <= rating <= 5:
            score, scale = rating, "five_point"
        else:
            raise InvalidInputError("rating", "must be 'good', 'bad' or an int from 1 to 5")
        if comment is not None:
            _text(comment, "comment", MAX_BODY)

        def change(ticket: Ticket, now: datetime) -> dict[str, Any]:
            entry = CsatRating(
                cycle=survey.cycle, score=score, scale=scale, comment=comment, rated_at=now
            )
            kept = tuple(r for r in ticket.csat if r.cycle != survey.cycle)
            return {"csat": tuple(sorted((*kept, entry), key=lambda r: r.cycle))}

        return self._change(survey.ticket_id, change, allow_closed=True)

    def csat_scores(
        self,
        *,
        by: str = "agent",
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[CsatScore]:
        """CSAT per agent, priority or month, over ratings given in ``[since, until)``.

        Args:
            by: ``"agent"``, ``"priority"`` or ``"month"`` (``YYYY-MM`` of the rating, UTC).
            since: First instant counted (aware), if any.
            until: End of the period (exclusive, aware), if any.

        Examples:
            >>> support = SupportClient(csat_secret="k")
            >>> t = support.create_ticket("s", "d", "r", assignee="agent-7")
            >>> t = support.solve(t.id)
            >>> _ = support.record_rating(support.offer_survey(t.id), 4)
            >>> [(s.key, s.rated, s.score) for s in support.csat_scores(by="agent")]
            [('agent-7', 1, 1.0)]
        """
        if by not in ("agent", "priority", "month"):
            raise InvalidInputError("by", "must be one of: agent, priority, month")
        low = None if since is None else to_epoch(since, "since")
        high = None if until is None else to_epoch(until, "until")
        groups: dict[str, list[int]] = {}
        for ticket in self.provider.list_tickets():
            for rating in ticket.csat:
                at = to_epoch(rating.rated_at, "rated_at")
                if (low is not None and at < low) or (high is not None and at >= high):
                    continue
                if by == "agent":
                    key = ticket.assignee or "unassigned"
                elif by == "priority":
                    key = ticket.priority
                else:
                    key = rating.rated_at.strftime("%Y-%m")
                counts = groups.setdefault(key, [0, 0])
                counts[0] += 1
                counts[1] += 1 if rating.good else 0
        return [CsatScore(key, rated, good) for key, (rated, good) in sorted(groups.items())]

    # -- SLAs -----------------------------------------------------------------------------------

    def sla_status(self, ticket_id: str) -> SlaStatus:
        """Return every SLA instance of the ticket now: targets, due times, breaches.

        Each instance's ``explain()`` shows the counted windows, holidays and pauses.

        Raises:
            InvalidInputError: The client has no SLA policy.
            NotFoundError: No such ticket.

        Examples:
            >>> from datetime import UTC
            >>> from unified_health.support.testing import FakeClock
            >>> clock = FakeClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
            >>> policy = SlaPolicy({"high": {"first_reply": timedelta(hours=1)}})
            >>> support = SupportClient(policy=policy, clock=clock)
            >>> t = support.create_ticket("s", "d", "r", priority="high")
            >>> clock.advance(3600 + 1)
            >>> support.sla_status(t.id).current("first_reply").state
            'breached'
        """
        if self.policy is None:
            raise InvalidInputError("policy", "the client needs an SlaPolicy for SLA status")
        ticket = self.provider.get_ticket(ticket_id)
        return self.policy.evaluate_at(timeline_of(ticket), to_epoch(self._clock.now(), "now"))

    def _store(self) -> TicketStore:
        store = getattr(self.provider, "store", None)
        if not isinstance(store, TicketStore):
            raise InvalidInputError("provider", "breach scans need a provider with a TicketStore")
        return store

    def scan_breaches(self, within: timedelta) -> list[BreachWarning]:
        """Return SLA instances due within ``within`` from now, or already breached.

        Reads the store's due index, then re-evaluates each candidate exactly.

        Raises:
            InvalidInputError: ``within`` is not a non-negative timedelta, no policy, or a
                provider without a store.

        Examples:
            >>> from datetime import UTC
            >>> from unified_health.support.testing import FakeClock
            >>> clock = FakeClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
            >>> support = SupportClient(
            ...     policy=SlaPolicy({"high": {"first_reply": timedelta(hours=1)}}), clock=clock)
            >>> t = support.create_ticket("s", "d", "r", priority="high")
            >>> clock.advance(50 * 60)
            >>> [(w.metric, w.breached) for w in support.scan_breaches(timedelta(minutes=15))]
            [('first_reply', False)]
        """
        given: object = within
        if not isinstance(given, timedelta) or given < timedelta(0):
            raise InvalidInputError("within", "must be a timedelta >= 0")
        if self.policy is None:
            raise InvalidInputError("policy", "the client needs an SlaPolicy for breach scans")
        now = to_epoch(self._clock.now(), "now")
        horizon = now + int(within.total_seconds())
        store = self._store()
        warnings: list[BreachWarning] = []
        for ticket_id in store.due_before(to_datetime(horizon)):
            ticket = store.get(ticket_id)
            if ticket is None:
                continue
            status = self.policy.evaluate_at(timeline_of(ticket), now)
            for instance in status.instances:
                if instance.fulfilled_ts is not None or instance.due_ts is None:
                    continue
                if instance.due_ts <= horizon:
                    warnings.append(
                        BreachWarning(
                            ticket.id,
                            instance.metric,
                            to_datetime(instance.due_ts),
                            instance.breached_ts is not None,
                            instance.started_ts,
                        )
                    )
        warnings.sort(key=lambda warning: (warning.due_at, warning.ticket_id))
        return warnings

    def escalate(
        self,
        callback: Callable[[BreachWarning, timedelta], None],
        *,
        thresholds: Iterable[timedelta] = (timedelta(minutes=15), timedelta(0)),
    ) -> int:
        """Call ``callback(warning, threshold)`` once per SLA instance and threshold.

        A threshold fires when the instance is due within it (``timedelta(0)``: at the breach).
        "Once" holds across processes sharing the store (claimed with `TicketStore.claim_once`
        before the call). A callback that raises is logged (class name only) and not retried.

        Returns:
            How many callbacks were made.

        Examples:
            >>> from datetime import UTC
            >>> from unified_health.support.testing import FakeClock
            >>> clock = FakeClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
            >>> support = SupportClient(
            ...     policy=SlaPolicy({"high": {"first_reply": timedelta(hours=1)}}), clock=clock)
            >>> t = support.create_ticket("s", "d", "r", priority="high")
            >>> clock.advance(61 * 60)
            >>> calls = []
            >>> support.escalate(lambda w, th: calls.append(th.seconds))
            2
            >>> support.escalate(lambda w, th: calls.append(th.seconds))
            0
        """
        levels = sorted(set(thresholds), reverse=True)
        for level in levels:
            checked: object = level
            if not isinstance(checked, timedelta) or checked < timedelta(0):
                raise InvalidInputError("thresholds", "must be timedeltas >= 0")
        if not levels:
            return 0
        store = self._store()
        now = self._clock.now()
        fired = 0
        for warning in self.scan_breaches(levels[0]):
            for level in levels:
                if warning.due_at - level > now and not warning.breached:
                    continue
                if level == timedelta(0) and not warning.breached:
                    continue
                marker = f"{warning.metric}@{warning.started_ts}/{int(level.total_seconds())}"
                if not store.claim_once(warning.ticket_id, marker):
                    continue
                fired += 1
                try:
                    callback(warning, level)
                except Exception as exc:  # noqa: BLE001 - a host callback must not stop the scan
                    logger.warning(
                        "escalation_callback_failed",
                        ticket_id=warning.ticket_id,
                        error_class=type(exc).__name__,
                    )
        return fired
