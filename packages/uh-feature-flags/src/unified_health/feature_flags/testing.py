"""Test helpers for code that uses uh-feature-flags.

A flag builder, an in-memory setup that applies writes at once, a fake clock and log capture.
The family's ``testing`` modules share `FakeClock` (``now``, ``monotonic``, ``advance``,
``sleep``, ``sleeps``) and `capture_logs`.

Examples:
    >>> from unified_health.feature_flags.testing import FeatureFlagTestEnv, condition, flag
    >>> with FeatureFlagTestEnv() as env:
    ...     env.set(
    ...         flag("new-checkout")
    ...         .rule("staff", condition("email", "ends_with", "@clinic.org"), variant="on")
    ...         .rollout(25)
    ...     )
    ...     env.client.is_enabled("new-checkout", {"user_id": "u1", "email": "a@clinic.org"})
    True

In pytest::

    @pytest.fixture
    def flags():
        with FeatureFlagTestEnv() as env:
            yield env
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from pydantic import JsonValue

from unified_health.feature_flags._admin import FeatureFlagAdmin
from unified_health.feature_flags._client import FeatureFlagClient
from unified_health.feature_flags._errors import InvalidInputError
from unified_health.feature_flags._exposure import ExposureEvent
from unified_health.feature_flags._logging import LOGGER_NAME
from unified_health.feature_flags._models import (
    Condition,
    Flag,
    FlagKind,
    Prerequisite,
    Rollout,
    Rule,
    Segment,
    SegmentRule,
    Target,
    WeightedVariant,
)
from unified_health.feature_flags.stores._memory import InMemoryFeatureFlagStore

__all__ = [
    "FakeClock",
    "FeatureFlagTestEnv",
    "FlagBuilder",
    "InMemoryExposureSink",
    "capture_logs",
    "condition",
    "flag",
    "segment",
]


def condition(
    attribute: str,
    operator: str,
    *values: JsonValue,
    context_kind: str = "user",
    negate: bool = False,
    case_insensitive: bool = False,
) -> Condition:
    """Build a `Condition` with positional values.

    Examples:
        >>> condition("plan", "in", "pro", "enterprise").values
        ['pro', 'enterprise']
    """
    return Condition.model_validate(
        {
            "attribute": attribute,
            "operator": operator,
            "values": list(values),
            "context_kind": context_kind,
            "negate": negate,
            "case_insensitive": case_insensitive,
        }
    )


def _rollout(
    percentage: float,
    variants: Mapping[str, float] | None,
    bucket_by: str,
    context_kind: str,
) -> Rollout:
    weighted = [WeightedVariant(variant=k, weight=w) for k, w in (variants or {}).items()]
    return Rollout(
        percentage=percentage, variants=weighted, bucket_by=bucket_by, context_kind=context_kind
    )


class FlagBuilder:
    """Fluent construction of a `Flag`; every method returns the builder. Enabled by default.

    Examples:
        >>> f = (
        ...     flag("checkout-button", kind="string")
        ...     .variants(control="grey", blue="blue", green="green")
        ...     .default("control").off("control")
        ...     .rollout(100, variants={"blue": 50, "green": 50})
        ...     .build()
        ... )
        >>> f.kind, f.rollout.percentage
        ('string', 100.0)
    """

    def __init__(self, key: str, *, kind: FlagKind = "boolean") -> None:
        self._data: dict[str, Any] = {"key": key, "kind": kind, "enabled": True}
        self._rules: list[Rule] = []
        self._targets: list[Target] = []
        self._prerequisites: list[Prerequisite] = []

    def enabled(self, on: bool = True) -> Self:
        """Set ``enabled``."""
        self._data["enabled"] = on
        return self

    def disabled(self) -> Self:
        """Set ``enabled`` to false."""
        return self.enabled(False)

    def variants(self, **values: JsonValue) -> Self:
        """Replace the variants (name=value)."""
        self._data["variants"] = dict(values)
        return self

    def default(self, variant: str) -> Self:
        """Set the fallthrough ``default_variant``."""
        self._data["default_variant"] = variant
        return self

    def off(self, variant: str) -> Self:
        """Set the ``off_variant``."""
        self._data["off_variant"] = variant
        return self

    def rollout(
        self,
        percentage: float,
        *,
        variants: Mapping[str, float] | None = None,
        bucket_by: str = "key",
        context_kind: str = "user",
    ) -> Self:
        """Set the fallthrough rollout (``variants`` maps names to weights summing to 100)."""
        self._data["rollout"] = _rollout(percentage, variants, bucket_by, context_kind)
        return self

    def target(self, variant: str, *keys: str, context_kind: str = "user") -> Self:
        """Serve ``variant`` to the listed context keys."""
        self._targets.append(Target(variant=variant, values=list(keys), context_kind=context_kind))
        return self

    def rule(
        self,
        rule_id: str,
        *conditions: Condition,
        variant: str | None = None,
        percentage: float | None = None,
        weights: Mapping[str, float] | None = None,
        bucket_by: str = "key",
        context_kind: str = "user",
    ) -> Self:
        """Add a rule serving ``variant``, or a rollout when ``percentage`` is given."""
        rollout = None
        if percentage is not None:
            rollout = _rollout(percentage, weights, bucket_by, context_kind)
        self._rules.append(
            Rule(id=rule_id, conditions=list(conditions), variant=variant, rollout=rollout)
        )
        return self

    def requires(self, key: str, *variants: str) -> Self:
        """Add a prerequisite: flag ``key`` must serve one of ``variants`` (default ``on``)."""
        self._prerequisites.append(Prerequisite(key=key, variants=list(variants) or ["on"]))
        return self

    def with_fields(self, **fields: Any) -> Self:
        """Set any other `Flag` field (``salt``, ``client_side``, ``owner``, ``expires_at``...)."""
        self._data.update(fields)
        return self

    def build(self) -> Flag:
        """Return the validated `Flag`."""
        data = {
            **self._data,
            "rules": self._rules,
            "targets": self._targets,
            "prerequisites": self._prerequisites,
        }
        return Flag.model_validate(data)


def flag(key: str, *, kind: FlagKind = "boolean") -> FlagBuilder:
    """Start building a flag (enabled, boolean unless ``kind`` says otherwise).

    Examples:
        >>> flag("beta").rollout(10).build().rollout.percentage
        10.0
    """
    return FlagBuilder(key, kind=kind)


def segment(
    key: str,
    *,
    included: Sequence[str] = (),
    excluded: Sequence[str] = (),
    rules: Sequence[Sequence[Condition]] = (),
    context_kind: str = "user",
) -> Segment:
    """Build a `Segment`; each item of ``rules`` is a list of conditions that must all hold.

    Examples:
        >>> segment("pilot", included=["u1"]).included
        ['u1']
    """
    return Segment(
        key=key,
        included=list(included),
        excluded=list(excluded),
        rules=[SegmentRule(conditions=list(c)) for c in rules],
        context_kind=context_kind,
    )


_DEFAULT_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class FakeClock:
    """A `Clock` that moves only when told to; ``sleep`` advances it instead of waiting.

    Pass its ``sleep`` wherever the package takes a ``sleep=`` function.

    Args:
        start: The initial wall time (timezone-aware); 2026-01-05 09:00 UTC by default.

    Raises:
        InvalidInputError: ``start`` is naive.

    Examples:
        >>> clock = FakeClock()
        >>> before = clock.monotonic()
        >>> clock.sleep(2.5)
        >>> (clock.monotonic() - before, clock.sleeps)
        (2.5, [2.5])
        >>> clock.now().isoformat()
        '2026-01-05T09:00:02.500000+00:00'
    """

    def __init__(self, start: datetime | None = None) -> None:
        given: object = _DEFAULT_START if start is None else start
        if not isinstance(given, datetime) or given.tzinfo is None:
            raise InvalidInputError("start", "must be a timezone-aware datetime")
        self._now = given.astimezone(UTC)
        self._monotonic = 1000.0
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        """Return the fake wall time, aware UTC."""
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        """Return the fake monotonic time in seconds."""
        with self._lock:
            return self._monotonic

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by ``seconds``.

        Raises:
            InvalidInputError: ``seconds`` is negative.
        """
        if seconds < 0:
            raise InvalidInputError("seconds", "must not be negative")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._monotonic += seconds

    def sleep(self, seconds: float) -> None:
        """Record the requested sleep in ``sleeps`` and advance instead of waiting."""
        with self._lock:
            self.sleeps.append(seconds)
        self.advance(max(seconds, 0.0))


class InMemoryExposureSink:
    """An `ExposureSink` that keeps every event in ``events``.

    Examples:
        >>> InMemoryExposureSink().events
        []
    """

    def __init__(self) -> None:
        self.events: list[ExposureEvent] = []

    def send(self, events: Sequence[ExposureEvent]) -> None:
        """Keep the batch."""
        self.events.extend(events)


class FeatureFlagTestEnv:
    """An in-memory store, admin and client whose client sees every write immediately.

    Args:
        items: Flags, flag builders or segments to create up front.
        clock: Injected into the admin and the client (a `FakeClock` by default).

    Examples:
        >>> with FeatureFlagTestEnv(flag("beta")) as env:
        ...     env.client.is_enabled("beta")
        True
    """

    def __init__(
        self, *items: Flag | FlagBuilder | Segment, clock: FakeClock | None = None
    ) -> None:
        self.clock = clock if clock is not None else FakeClock()
        self.store = InMemoryFeatureFlagStore()
        self.admin = FeatureFlagAdmin(self.store, clock=self.clock)
        self.client = FeatureFlagClient(self.store, clock=self.clock, background=False)
        if items:
            self.set(*items)

    def set(self, *items: Flag | FlagBuilder | Segment) -> None:
        """Create or replace flags and segments (segments first), then refresh the client."""
        built = [i.build() if isinstance(i, FlagBuilder) else i for i in items]
        for item in sorted(built, key=lambda i: isinstance(i, Flag)):
            if isinstance(item, Segment):
                if self.store.read() and item.key in self._state().segments:
                    current = self.admin.get_segment(item.key)
                    self.admin.update_segment(
                        item, expected_version=current.version, actor="test", reason="test"
                    )
                else:
                    self.admin.create_segment(item, actor="test", reason="test")
            elif item.key in self._state().flags:
                current_flag = self.admin.get_flag(item.key)
                self.admin.update_flag(
                    item, expected_version=current_flag.version, actor="test", reason="test"
                )
            else:
                self.admin.create_flag(item, actor="test", reason="test")
        self.client.refresh()

    def remove(self, key: str) -> None:
        """Delete a flag and refresh the client."""
        self.admin.delete_flag(key, actor="test", reason="test")
        self.client.refresh()

    def _state(self) -> Any:
        state = self.store.read()
        assert state is not None
        return state

    def close(self) -> None:
        """Close the client."""
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Capture(logging.Handler):
    def __init__(self, entries: list[dict[str, Any]]) -> None:
        super().__init__(logging.DEBUG)
        self.entries = entries

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, "uh_fields", {})
        entry = {"event": getattr(record, "uh_event", record.getMessage())}
        entry.update(fields)
        entry["log_level"] = record.levelname.lower()
        self.entries.append(entry)


@contextmanager
def capture_logs() -> Iterator[list[dict[str, Any]]]:
    """Collect the package's log events (every level) as dicts while the block runs.

    Each entry holds ``event``, ``log_level`` and the event's fields, like
    ``structlog.testing.capture_logs``. Nothing is printed.

    Yields:
        The list that receives the entries.

    Examples:
        >>> from unified_health.feature_flags._logging import logger
        >>> with capture_logs() as events:
        ...     logger.info("record_written", key_count=1)
        >>> events
        [{'event': 'record_written', 'key_count': 1, 'log_level': 'info'}]
    """
    entries: list[dict[str, Any]] = []
    handler = _Capture(entries)
    stdlib_logger = logging.getLogger(LOGGER_NAME)
    previous_level = stdlib_logger.level
    stdlib_logger.addHandler(handler)
    stdlib_logger.setLevel(logging.DEBUG)
    try:
        yield entries
    finally:
        stdlib_logger.removeHandler(handler)
        stdlib_logger.setLevel(previous_level)
