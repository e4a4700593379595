"""The event builder: what `track()` and friends do on the caller's thread, one step per concern.

`EventBuilder.build` runs, in order: `_check_shape` (names, mappings, group types),
`_identities` (the ids, from the call or the current `analytics_context`), `_category`,
`_consented` (when that needs no I/O), whether a provider takes the category, `_merged` (super and
context properties), `_schema_applied`, `_cleaned` (the one call into the property rules and the
sanitiser), `_serialised` (the byte bound) and `_timestamp`, then makes the `Event`. Each step
raises `InvalidInputError` naming the field, or returns a drop reason; none does I/O.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from unified_health.analytics._clock import Clock
from unified_health.analytics._consent import ConsentGate
from unified_health.analytics._context import AnalyticsContext, current_context
from unified_health.analytics._errors import InvalidInputError
from unified_health.analytics._metrics import Metrics
from unified_health.analytics._models import DropReason, Event, EventKind
from unified_health.analytics._normalize import SCAN_MARGIN, finish, prepare
from unified_health.analytics._schema import SchemaRegistry
from unified_health.analytics._validation import NameRules, nonempty_str
from unified_health.analytics.providers._base import dumps

__all__ = ["Call", "EventBuilder", "Limits", "new_insert_id"]

# The version (4) and variant (RFC 4122) bits of a random UUID, as `uuid.uuid4` sets them.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)
#: Bytes an event takes in the queue's accounting beyond its properties' JSON.
EVENT_OVERHEAD = 160

#: The sanitiser entry point: scrub ``properties``, adding redaction counts by category.
ScrubInto = Callable[[Mapping[str, object], dict[str, int]], dict[str, object]]


def new_insert_id(rng: random.Random | None = None) -> str:
    """A random version-4 UUID in hex (vendors such as PostHog require the UUID shape).

    Examples:
        >>> len(new_insert_id(random.Random(1)))
        32
    """
    # The module's generator: seeded from the OS, reseeded in forked children, and far
    # cheaper than os.urandom per event. Insert ids need uniqueness, not secrecy.
    bits = (rng or random).getrandbits(128)
    return f"{bits & _UUID4_CLEAR | _UUID4_SET:032x}"


@dataclass(frozen=True, slots=True)
class Limits:
    """The property bounds of every event."""

    max_properties: int
    max_string_length: int
    max_event_bytes: int


@dataclass(slots=True)
class Call:
    """One call of `track`, `identify`, `alias` or `group`, as the caller made it.

    Examples:
        >>> Call("track", "page_viewed", None, "user-1").kind
        'track'
    """

    kind: EventKind
    name: str
    properties: Mapping[str, Any] | None
    user_id: str | None
    anonymous_id: str | None = None
    category: str | None = None
    groups: Mapping[str, str] | None = None
    timestamp: datetime | None = None
    previous_id: str | None = None
    group_type: str | None = None
    group_key: str | None = None


class EventBuilder:
    """Turns a `Call` into a sanitised, bounded `Event`, or says why it is dropped.

    Examples:
        >>> from unified_health.analytics import Sanitizer, SystemClock
        >>> from unified_health.analytics.stores import InMemoryConsentStore
        >>> gate = ConsentGate(InMemoryConsentStore(), {"analytics"}, {"analytics"})
        >>> sanitizer = Sanitizer()
        >>> builder = EventBuilder(
        ...     gate=gate, names=NameRules(sanitizer), schemas=SchemaRegistry(None),
        ...     scrub_into=sanitizer.scrub_into, metrics=Metrics(), clock=SystemClock(),
        ...     limits=Limits(200, 1024, 32_768), default_category="analytics",
        ... )
        >>> event = builder.build(Call("track", "page_viewed", {"plan": "gold"}, "user-1"))
        >>> (event.name, event.properties, event.category)
        ('page_viewed', {'plan': 'gold'}, 'analytics')
    """

    def __init__(
        self,
        *,
        gate: ConsentGate,
        names: NameRules,
        schemas: SchemaRegistry,
        scrub_into: ScrubInto,
        metrics: Metrics,
        clock: Clock,
        limits: Limits,
        default_category: str,
        served: Callable[[str], bool] = bool,
        event_categories: Mapping[str, str] | None = None,
        require_schemas: bool = False,
        strict: bool = False,
        rng: random.Random | None = None,
    ) -> None:
        self._gate = gate
        self._names = names
        self._schemas = schemas
        self._scrub_into = scrub_into
        self._metrics = metrics
        self._clock = clock
        self._limits = limits
        self._default_category = default_category
        self._served = served
        self._event_categories = dict(event_categories or {})
        self._require_schemas = require_schemas
        self._strict = strict
        self._rng = rng
        self.super_properties: dict[str, Any] = {}

    def build(self, call: Call) -> Event | DropReason:
        """The event for ``call``, or the reason it is dropped without an error.

        Raises:
            InvalidInputError: The call broke an input rule (names the field).
        """
        ctx = current_context()
        self._check_shape(call)
        user_id, anonymous_id = self._identities(call, ctx)
        category = self._category(call)
        if not self._consented(user_id or anonymous_id, category):
            return DropReason.NO_CONSENT
        if not self._served(category):
            return DropReason.NO_PROVIDER
        merged = self._schema_applied(call, self._merged(call, ctx))
        raw_ids = self._raw_ids(call, user_id, anonymous_id)
        props = self._cleaned(merged, raw_ids)
        body = self._serialised(props)
        return self._event(call, user_id, anonymous_id, category, props, body)

    def new_id(self) -> str:
        """A new insert id (seeded in tests)."""
        return new_insert_id(self._rng)

    # -- the steps -----------------------------------------------------------------------------
    def _check_shape(self, call: Call) -> None:
        if call.kind == "track":
            self._names.check_event(call.name)
        given: object = call.properties  # callers may pass anything
        if given is not None and not isinstance(given, Mapping):
            field = "properties" if call.kind == "track" else "traits"
            raise InvalidInputError(field, "must be a mapping of names to values, or None")
        for field in ("previous_id", "group_key"):
            value = getattr(call, field)
            if value is not None and not nonempty_str(value):
                raise InvalidInputError(field, "must be a non-empty string")
        if call.kind == "group":
            self._names.check_group_type("group_type", call.group_type)
        if call.groups is not None:
            self._check_groups(call.groups)

    def _check_groups(self, groups: object) -> None:
        if not isinstance(groups, Mapping):
            raise InvalidInputError("groups", "must map group types to group keys")
        for group_name, key in groups.items():
            self._names.check_group_type("groups", group_name)
            if not nonempty_str(key):
                raise InvalidInputError("groups", "group keys must be non-empty strings")

    def _identities(
        self, call: Call, ctx: AnalyticsContext | None
    ) -> tuple[str | None, str | None]:
        """The user and anonymous ids: the call's, else the context's, else a new anonymous id."""
        user_id, anonymous_id = call.user_id, call.anonymous_id
        if user_id is None and ctx is not None:
            user_id = ctx.user_id
            anonymous_id = anonymous_id if anonymous_id is not None else ctx.anonymous_id
        if user_id is not None and not nonempty_str(user_id):
            raise InvalidInputError("user_id", "must be a non-empty string")
        if anonymous_id is not None and not nonempty_str(anonymous_id):
            raise InvalidInputError("anonymous_id", "must be a non-empty string")
        if user_id is None and anonymous_id is None:
            anonymous_id = f"anon-{self.new_id()}"
        return user_id, anonymous_id

    def _category(self, call: Call) -> str:
        category = call.category or self._event_categories.get(call.name, self._default_category)
        if category not in self._gate.known:
            raise InvalidInputError("category", "must be a known consent category")
        return category

    def _consented(self, subject: str | None, category: str) -> bool:
        """``False`` only when the answer needs no I/O and is no (else decided at delivery)."""
        return self._gate.allows_now(subject, category) is not False

    def _merged(self, call: Call, ctx: AnalyticsContext | None) -> Mapping[str, Any]:
        """Super properties, then the context's, then the call's (track events only)."""
        properties = call.properties
        context_props = ctx.properties if ctx is not None else None
        if call.kind == "track" and (self.super_properties or context_props):
            merged = {**self.super_properties, **(context_props or {})}
            if properties:
                merged.update(properties)
            return merged
        if type(properties) is dict:
            return properties  # read, never changed, by what follows
        return dict(properties) if properties else {}

    def _schema_applied(self, call: Call, merged: Mapping[str, Any]) -> Mapping[str, Any]:
        if call.kind != "track":
            return merged
        if call.name in self._schemas:
            checked, unknown = self._schemas.apply(call.name, merged)
            if unknown:
                self._metrics.adjusted({"schema_unknown_property": unknown})
            return checked
        if self._require_schemas:
            raise InvalidInputError(call.name, "has no schema and require_schemas is set")
        return merged

    @staticmethod
    def _raw_ids(call: Call, user_id: str | None, anonymous_id: str | None) -> tuple[str, ...]:
        """The raw ids the sanitiser must remove wherever they appear in property values."""
        found = [i for i in (user_id, anonymous_id, call.previous_id, call.group_key) if i]
        if call.groups:
            found.extend(call.groups.values())
        return tuple(found)

    def _cleaned(self, merged: Mapping[str, Any], raw_ids: tuple[str, ...]) -> dict[str, Any]:
        """The property rules and the sanitiser: the one place this module calls into them."""
        limits = self._limits
        clean, adjusted = prepare(
            merged, limits.max_properties, limits.max_string_length + SCAN_MARGIN
        )
        if adjusted:
            if self._strict:
                raise InvalidInputError("properties", f"rejected: {', '.join(sorted(adjusted))}")
            self._metrics.adjusted(adjusted)
        redactions: dict[str, int] = {}
        scrubbed = self._scrub_into(clean, redactions)
        if redactions:
            self._metrics.redacted(redactions)
        props, post = finish(scrubbed, raw_ids, limits.max_string_length)
        if post:
            own = post.pop("user_id", 0)
            if own:
                self._metrics.redacted({"user_id": own})
            self._metrics.adjusted(post)
        return props

    def _serialised(self, props: dict[str, Any]) -> bytes:
        body = dumps(props)
        if len(body) > self._limits.max_event_bytes:
            raise InvalidInputError(
                "properties", f"larger than {self._limits.max_event_bytes} bytes"
            )
        return body

    def _timestamp(self, timestamp: datetime | None) -> float:
        if timestamp is None:
            return self._clock.now().timestamp()
        if timestamp.tzinfo is None or timestamp.utcoffset() is None:
            raise InvalidInputError("timestamp", "must be timezone-aware")
        return timestamp.timestamp()

    def _event(
        self,
        call: Call,
        user_id: str | None,
        anonymous_id: str | None,
        category: str,
        props: dict[str, Any],
        body: bytes,
    ) -> Event:
        is_profile = call.kind in ("identify", "group")
        return Event(
            kind=call.kind,
            name=call.name,
            properties={} if is_profile else props,
            user_id=user_id,
            anonymous_id=anonymous_id,
            category=category,
            timestamp=self._timestamp(call.timestamp),
            insert_id=self.new_id(),
            groups=dict(call.groups) if call.groups else None,
            traits=props if is_profile else None,
            previous_id=call.previous_id,
            group_type=call.group_type,
            group_key=call.group_key,
            size=len(body) + EVENT_OVERHEAD,
            properties_json=None if is_profile else body,
        )
