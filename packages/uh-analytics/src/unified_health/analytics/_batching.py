"""Batching as a pure function: events in, request-sized chunks (and the refused) out.

`plan_requests` encodes each event with the provider and groups the parts into requests within
the vendor's limits (count and bytes per request; for a `RoutedProvider`, per route). An event
the vendor has no call for is ``unsupported``; one over the vendor's per-event bytes or
properties is ``oversized``. No threads, no I/O beyond what ``to_outbound`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

from unified_health.analytics._models import Event
from unified_health.analytics.providers._base import (
    OutboundEvent,
    Provider,
    ProviderLimits,
    RoutedProvider,
)

__all__ = ["ENVELOPE_MARGIN", "Chunk", "Plan", "plan_requests"]

#: Bytes kept free in every request for the vendor's envelope around the events.
ENVELOPE_MARGIN = 4096


@dataclass(slots=True)
class Chunk:
    """One request's worth of events: the route (``None`` for one endpoint) and their parts."""

    route: str | None
    events: list[Event] = field(default_factory=list)
    parts: list[bytes] = field(default_factory=list)
    size: int = 0


@dataclass(slots=True)
class Plan:
    """The requests to send, and the events no request can carry."""

    chunks: list[Chunk] = field(default_factory=list)
    unsupported: list[Event] = field(default_factory=list)
    oversized: list[Event] = field(default_factory=list)


def _own_properties(event: OutboundEvent) -> int:
    """An event's properties plus its group keys (vendors send group keys as properties)."""
    groups = event.groups
    return len(event.properties) + (len(groups) if groups else 0)


def _too_big(part: bytes, outbound: OutboundEvent, limits: ProviderLimits) -> bool:
    own = limits.own_properties_per_event
    return len(part) > limits.max_event_bytes or (
        own is not None and _own_properties(outbound) > own
    )


def plan_requests(
    events: Sequence[Event],
    provider: Provider,
    to_outbound: Callable[[Event], OutboundEvent | None],
) -> Plan:
    """Encode ``events`` and group them into requests within the provider's limits.

    Examples:
        >>> from unified_health.analytics.testing import RecordingProvider
        >>> from unified_health.analytics._outbound import to_outbound
        >>> from unified_health.analytics import HmacPseudonymizer
        >>> ids = HmacPseudonymizer({"k1": b"0123456789abcdef0123456789abcdef"})
        >>> events = [Event("track", "e", {"n": n}, "user-1", None, "analytics", 0.0, str(n))
        ...           for n in range(3)]
        >>> plan = plan_requests(events, RecordingProvider(), lambda e: to_outbound(e, ids))
        >>> [len(chunk.events) for chunk in plan.chunks], plan.oversized
        ([3], [])
    """
    plan = Plan()
    routed = isinstance(provider, RoutedProvider)
    limits: dict[str | None, ProviderLimits] = {}
    open_chunks: dict[str | None, Chunk] = {}
    for event in events:
        outbound = to_outbound(event)
        encoded = _encode(provider, routed, outbound) if outbound is not None else None
        if encoded is None:
            plan.unsupported.append(event)
            continue
        route, part = encoded
        lim = limits.get(route)
        if lim is None:
            lim = limits[route] = (
                cast(RoutedProvider, provider).limits_for(route)
                if routed and route is not None
                else provider.limits
            )
        if _too_big(part, cast(OutboundEvent, outbound), lim):
            plan.oversized.append(event)
            continue
        chunk = open_chunks.get(route)
        if chunk is not None and (
            len(chunk.parts) >= lim.max_events_per_request
            or chunk.size + len(part) + 1 > lim.max_request_bytes - ENVELOPE_MARGIN
        ):
            plan.chunks.append(chunk)
            chunk = None
        if chunk is None:
            chunk = open_chunks[route] = Chunk(route)
        chunk.events.append(event)
        chunk.parts.append(part)
        chunk.size += len(part) + 1
    plan.chunks.extend(open_chunks.values())
    return plan


def _encode(
    provider: Provider, routed: bool, outbound: OutboundEvent
) -> tuple[str | None, bytes] | None:
    if routed:
        return cast(RoutedProvider, provider).encode_routed(outbound)
    part = provider.encode(outbound)
    return None if part is None else (None, part)
