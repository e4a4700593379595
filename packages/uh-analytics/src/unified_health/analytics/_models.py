"""Values of uh-analytics: consent categories, the queued event, delivery results, metrics.

`Event` is the record that travels through the queue. It is a slotted dataclass rather than a
pydantic model because it is built on the caller's thread for every `track()` call, where
microseconds count; everything a user reads back (`MetricsSnapshot`, `ShutdownReport`) is a
frozen pydantic model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "ConsentCategory",
    "DeliveryFailure",
    "DeliveryState",
    "DropReason",
    "Event",
    "EventKind",
    "FailureCause",
    "MetricsSnapshot",
    "ProviderStatus",
    "ShutdownReport",
]

EventKind = Literal["track", "identify", "alias", "group"]


class ConsentCategory(StrEnum):
    """The built-in consent categories. Clients accept more (`consent_categories=`).

    ``essential`` is strictly necessary processing: every user has it, it cannot be withdrawn.

    Examples:
        >>> ConsentCategory.ANALYTICS == "analytics"
        True
    """

    ESSENTIAL = "essential"
    ANALYTICS = "analytics"
    MARKETING = "marketing"


class DropReason(StrEnum):
    """Why an event (or a property of one) was not delivered; the keys of the drop counters.

    Examples:
        >>> str(DropReason.NO_CONSENT)
        'no_consent'
    """

    NO_CONSENT = "no_consent"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    QUEUE_FULL = "queue_full"
    INVALID_NAME = "invalid_name"
    INVALID_INPUT = "invalid_input"
    SCHEMA_VIOLATION = "schema_violation"
    MISSING_SCHEMA = "missing_schema"
    OVERSIZED = "oversized"
    NO_PROVIDER = "no_provider"
    UNSUPPORTED_BY_PROVIDER = "unsupported_by_provider"
    REJECTED_BY_VENDOR = "rejected_by_vendor"
    UNAUTHORIZED = "unauthorized"
    RETRIES_EXHAUSTED = "retries_exhausted"
    SHUTDOWN_DEADLINE = "shutdown_deadline"
    CLIENT_CLOSED = "client_closed"
    INTERNAL_ERROR = "internal_error"


@dataclass(slots=True)
class Event:
    """One queued event, after validation and sanitisation, before pseudonymisation.

    ``user_id``, ``anonymous_id``, ``previous_id`` and ``group_key`` are the caller's raw
    identifiers. They stay inside the process and are turned into pseudonymous ids on the sender
    thread; ``outbound`` caches that pseudonymised view, shared by every provider. An event
    restored from the spill store has only its pseudonymous ids (``outbound``): raw ids are never
    written there.

    Examples:
        >>> e = Event("track", "page_viewed", {"path": "/home"}, "user-1", None, "analytics",
        ...           1_700_000_000.0, "0" * 32)
        >>> Event.from_json(e.to_json()) == e
        True
    """

    kind: EventKind
    name: str
    properties: dict[str, Any]
    user_id: str | None
    anonymous_id: str | None
    category: str
    timestamp: float
    insert_id: str
    groups: dict[str, str] | None = None
    traits: dict[str, Any] | None = None
    previous_id: str | None = None
    group_type: str | None = None
    group_key: str | None = None
    size: int = field(default=0, compare=False)
    properties_json: bytes | None = field(default=None, compare=False, repr=False)
    outbound: Any = field(default=None, compare=False, repr=False)

    def to_json(self) -> bytes:
        """Serialise for the spill store."""
        return json.dumps(
            {
                "v": 1,
                "kind": self.kind,
                "name": self.name,
                "properties": self.properties,
                "user_id": self.user_id,
                "anonymous_id": self.anonymous_id,
                "category": self.category,
                "timestamp": self.timestamp,
                "insert_id": self.insert_id,
                "groups": self.groups,
                "traits": self.traits,
                "previous_id": self.previous_id,
                "group_type": self.group_type,
                "group_key": self.group_key,
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        """Rebuild an event written by `to_json`."""
        data = json.loads(raw)
        return cls(
            kind=data["kind"],
            name=data["name"],
            properties=data["properties"],
            user_id=data["user_id"],
            anonymous_id=data["anonymous_id"],
            category=data["category"],
            timestamp=float(data["timestamp"]),
            insert_id=data["insert_id"],
            groups=data.get("groups"),
            traits=data.get("traits"),
            previous_id=data.get("previous_id"),
            group_type=data.get("group_type"),
            group_key=data.get("group_key"),
            size=len(raw),
        )


class MetricsSnapshot(BaseModel):
    """Counters at one moment. Counts only, never values.

    Attributes:
        enqueued: Events accepted by `track()` and friends (counted once, not per provider).
        sent: Events a vendor accepted, per provider name.
        retried: Delivery attempts repeated after a retryable failure, per provider.
        dropped: Events dropped, by reason (`DropReason` values).
        redacted: Values redacted by the sanitiser, by category.
        adjusted: Properties coerced, truncated or removed, by rule.
        spilled: Events written to the spill store.
        queued: Events waiting in the queues right now, per provider.

    Examples:
        >>> MetricsSnapshot().dropped
        {}
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enqueued: int = 0
    sent: Mapping[str, int] = {}
    retried: Mapping[str, int] = {}
    dropped: Mapping[str, int] = {}
    redacted: Mapping[str, int] = {}
    adjusted: Mapping[str, int] = {}
    spilled: int = 0
    queued: Mapping[str, int] = {}

    @property
    def sent_total(self) -> int:
        """Events sent, summed over providers."""
        return sum(self.sent.values())

    @property
    def dropped_total(self) -> int:
        """Events dropped, summed over reasons."""
        return sum(self.dropped.values())


class ShutdownReport(BaseModel):
    """What `AnalyticsClient.shutdown()` achieved before its deadline.

    Attributes:
        delivered: Events delivered while draining, per provider.
        undelivered: Events this shutdown could not deliver, per provider (spilled ones
            included); losses before the shutdown are in `AnalyticsClient.metrics()`.
        spilled: Events this shutdown wrote to the spill store for a later process to deliver.
        timed_out: Whether the deadline passed before the queues drained.
        duration: Seconds the shutdown took.

    Examples:
        >>> ShutdownReport(delivered={"posthog": 3}).lost
        0
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    delivered: Mapping[str, int] = {}
    undelivered: Mapping[str, int] = {}
    spilled: int = 0
    timed_out: bool = False
    duration: float = 0.0

    @property
    def lost(self) -> int:
        """Events neither delivered nor spilled."""
        return sum(self.undelivered.values()) - self.spilled


#: Why a delivery attempt failed: the network step that broke, or the vendor's answer.
FailureCause = Literal[
    "dns", "connect", "timeout", "transport", "http_status", "rate_limit", "spill_store"
]

#: ``healthy``: the last attempt succeeded (or none failed yet); ``retrying``: the vendor is
#: failing and events wait (queued, in flight or spilled); ``stopped``: the client shut down.
DeliveryState = Literal["healthy", "retrying", "stopped"]


class DeliveryFailure(BaseModel):
    """The last failed delivery attempt of one provider: its cause, never a payload.

    Attributes:
        cause: ``dns``, ``connect``, ``timeout`` or ``transport`` (no answer arrived),
            ``http_status`` (the vendor answered with an error), ``rate_limit`` (429) or
            ``spill_store`` (the spill store could not be written).
        error_class: The exception class (``ConnectError``, ``ReadTimeout``) or, for an answer,
            the `ProviderError` class raised for it (``RateLimitedError`` for 429).
        status_code: The HTTP status, or ``None`` when no answer arrived.
        retry_after: Seconds the vendor asked to wait, when it said so.
        attempts: Attempts made for the batch so far.
        request_id: The vendor's request id, when it sent one.
        at: Unix time of the failure (the client's clock).

    Examples:
        >>> DeliveryFailure(cause="rate_limit", error_class="RateLimitedError",
        ...                 status_code=429, retry_after=2.0, attempts=1, at=0.0).cause
        'rate_limit'
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    cause: FailureCause
    error_class: str
    status_code: int | None = None
    retry_after: float | None = None
    attempts: int = 1
    request_id: str | None = None
    at: float = 0.0


class ProviderStatus(BaseModel):
    """Delivery to one provider at one moment: where every accepted event is.

    Every event the provider's lane accepted, or took back from the spill store, is in exactly
    one place: ``accepted + replayed == sent + queued + in_flight + spilled + dropped total``,
    at every moment (`unaccounted` is always 0).

    Attributes:
        provider: The provider's name.
        state: ``healthy``, ``retrying`` or ``stopped``.
        accepted: Events handed to this provider by `track()` and friends.
        replayed: Events taken back from the spill store for delivery.
        sent: Events the vendor accepted.
        queued: Events waiting in memory (the queue, and overflow on its way to the spill store).
        in_flight: Events taken for delivery and not yet settled (being sent or backing off).
        spilled: Events written to the spill store.
        dropped: Events given up, by reason (`DropReason` values).
        retried: Attempts repeated after a retryable failure.
        lane_errors: Unexpected errors the delivery threads caught and survived.
        spill_pending: Whether this process believes its spill store lane holds events.
        last_error: The last failed attempt, or ``None``.

    Examples:
        >>> status = ProviderStatus(provider="posthog", state="healthy", accepted=3, sent=2,
        ...                         queued=1)
        >>> status.unaccounted
        0
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    state: DeliveryState
    accepted: int = 0
    replayed: int = 0
    sent: int = 0
    queued: int = 0
    in_flight: int = 0
    spilled: int = 0
    dropped: Mapping[str, int] = {}
    retried: int = 0
    lane_errors: int = 0
    spill_pending: bool = False
    last_error: DeliveryFailure | None = None

    @property
    def unaccounted(self) -> int:
        """Accepted events found in no counter (always 0; a bug otherwise)."""
        settled = self.sent + self.queued + self.in_flight + self.spilled
        return self.accepted + self.replayed - settled - sum(self.dropped.values())
