"""The OpenFeature provider: lifecycle, status, events, type checks, parity with the client."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TypedDict

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import EventDetails, ProviderEvent
from openfeature.exception import ErrorCode
from openfeature.provider import ProviderStatus

from unified_health.feature_flags._admin import FeatureFlagAdmin
from unified_health.feature_flags._client import FeatureFlagClient
from unified_health.feature_flags._errors import StoreUnavailableError
from unified_health.feature_flags._models import (
    Condition,
    Flag,
    Operator,
    Rollout,
    Rule,
    WeightedVariant,
)
from unified_health.feature_flags._openfeature import FeatureFlagProvider
from unified_health.feature_flags.stores import (
    ChangeFeed,
    Commit,
    InMemoryFeatureFlagStore,
    StoreState,
)


class Who(TypedDict):
    actor: str
    reason: str


WHO: Who = {"actor": "test", "reason": "test"}


class Clock:
    def __init__(self) -> None:
        self.seconds = 0.0

    def now(self) -> datetime:
        return datetime(2026, 1, 1, tzinfo=UTC)

    def monotonic(self) -> float:
        return self.seconds


class SwitchableStore:
    """An in-memory store whose reads fail while ``down`` is set, like an unreachable Redis."""

    def __init__(self) -> None:
        self.inner = InMemoryFeatureFlagStore()
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailableError("store is down")

    def read(self) -> StoreState | None:
        self._check()
        return self.inner.read()

    def read_version(self) -> tuple[str, int] | None:
        self._check()
        return self.inner.read_version()

    def commit(self, commit: Commit) -> int:
        return self.inner.commit(commit)

    def audit_records(self) -> list[str]:
        return self.inner.audit_records()

    def watch(self) -> ChangeFeed:
        self._check()
        return self.inner.watch()

    def close(self) -> None:
        self.inner.close()


class Events:
    """Collects OpenFeature events for one domain (handlers run on the SDK's thread pool)."""

    def __init__(self, client: OpenFeatureClient) -> None:
        self._seen: list[tuple[ProviderEvent, EventDetails]] = []
        self._changed = threading.Condition()
        for event in ProviderEvent:
            client.add_handler(event, self._handler(event))

    def _handler(self, event: ProviderEvent) -> Any:
        def handle(details: EventDetails) -> None:
            with self._changed:
                self._seen.append((event, details))
                self._changed.notify_all()

        return handle

    def wait_for(self, event: ProviderEvent, count: int = 1) -> list[EventDetails]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.of(event)) >= count, timeout=5)
            found = self.of(event)
        assert len(found) >= count, f"{event} seen {len(found)} times, wanted {count}"
        return found

    def of(self, event: ProviderEvent) -> list[EventDetails]:
        return [details for kind, details in self._seen if kind is event]


FLAGS = [
    Flag(key="bool-flag", enabled=True),
    Flag(
        key="color",
        kind="string",
        enabled=True,
        variants={"red": "red", "blue": "blue"},
        default_variant="red",
        off_variant="red",
        rules=[
            Rule(
                id="clinicians",
                conditions=[
                    Condition(attribute="role", operator=Operator.IN, values=["clinician"])
                ],
                variant="blue",
            )
        ],
    ),
    Flag(
        key="limit",
        kind="number",
        enabled=True,
        variants={"low": 10, "high": 2.5},
        default_variant="low",
        off_variant="low",
        rollout=Rollout(
            variants=[
                WeightedVariant(variant="low", weight=50),
                WeightedVariant(variant="high", weight=50),
            ]
        ),
    ),
    Flag(
        key="layout",
        kind="json",
        enabled=True,
        variants={"grid": {"columns": 3}, "list": ["a", "b"]},
        default_variant="grid",
        off_variant="list",
    ),
    Flag(key="dark", enabled=False),
]


@pytest.fixture
def switchable() -> SwitchableStore:
    store = SwitchableStore()
    admin = FeatureFlagAdmin(store)
    for flag in FLAGS:
        admin.create_flag(flag, **WHO)
    return store


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def flags(switchable: SwitchableStore, clock: Clock) -> Iterator[FeatureFlagClient]:
    client = FeatureFlagClient(switchable, clock=clock, background=False, stale_after=30)
    yield client
    client.close()


@pytest.fixture
def domain() -> str:
    return f"provider-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def provider(flags: FeatureFlagClient, domain: str) -> Iterator[FeatureFlagProvider]:
    provider = FeatureFlagProvider(flags)
    api.set_provider_and_wait(provider, domain=domain)
    yield provider
    provider.shutdown()


@pytest.fixture
def of_client(provider: FeatureFlagProvider, domain: str) -> OpenFeatureClient:
    return api.get_client(domain)


def _status(provider: FeatureFlagProvider) -> ProviderStatus:
    """Read the status afresh (a property mypy would otherwise keep narrowed)."""
    return provider.status


def test_metadata_and_ready_status(
    of_client: OpenFeatureClient, provider: FeatureFlagProvider
) -> None:
    assert provider.get_metadata().name == "uh-feature-flags"
    assert of_client.get_provider_status() is ProviderStatus.READY
    assert provider.status is ProviderStatus.READY
    assert provider.client is not None


def test_ready_event_is_delivered_to_late_handlers(of_client: OpenFeatureClient) -> None:
    events = Events(of_client)
    events.wait_for(ProviderEvent.PROVIDER_READY)


def test_every_type_resolves_with_variant_reason_and_metadata(of_client: OpenFeatureClient) -> None:
    ctx = EvaluationContext(targeting_key="user-1", attributes={"role": "clinician"})
    boolean = of_client.get_boolean_details("bool-flag", False, ctx)
    assert (boolean.value, boolean.variant, boolean.reason) == (True, "on", "STATIC")
    assert boolean.flag_metadata == {"version": 1}
    color = of_client.get_string_details("color", "none", ctx)
    assert (color.value, color.variant, color.reason) == ("blue", "blue", "TARGETING_MATCH")
    layout = of_client.get_object_details("layout", {}, ctx)
    assert layout.value == {"columns": 3}
    disabled = of_client.get_boolean_details("dark", True, ctx)
    assert (disabled.value, disabled.reason) == (False, "DISABLED")


def test_numbers_integer_and_float(of_client: OpenFeatureClient) -> None:
    results = {}
    for i in range(40):
        ctx = EvaluationContext(targeting_key=f"user-{i}")
        details = of_client.get_float_details("limit", 0.0, ctx)
        assert details.reason == "SPLIT"
        assert isinstance(details.value, float)
        results[details.variant] = details.value
        as_int = of_client.get_integer_details("limit", -1, ctx)
        if details.variant == "low":
            assert (as_int.value, as_int.error_code) == (10, None)
        else:
            assert (as_int.value, as_int.error_code) == (-1, ErrorCode.TYPE_MISMATCH)
    assert results == {"low": 10.0, "high": 2.5}


@pytest.mark.parametrize(
    ("method", "key", "default"),
    [
        ("get_string_details", "bool-flag", "fallback"),
        ("get_integer_details", "bool-flag", 7),
        ("get_float_details", "bool-flag", 0.5),
        ("get_boolean_details", "color", False),
        ("get_object_details", "color", {"a": 1}),
        ("get_string_details", "layout", "x"),
    ],
)
def test_type_mismatch_returns_the_default(
    of_client: OpenFeatureClient, method: str, key: str, default: Any
) -> None:
    details = getattr(of_client, method)(key, default, EvaluationContext(targeting_key="u"))
    assert details.value == default
    assert details.reason == "ERROR"
    assert details.error_code is ErrorCode.TYPE_MISMATCH


def test_missing_flag(of_client: OpenFeatureClient) -> None:
    details = of_client.get_boolean_details("nope", True)
    assert (details.value, details.reason, details.error_code) == (
        True,
        "ERROR",
        ErrorCode.FLAG_NOT_FOUND,
    )


@pytest.mark.parametrize("user", ["u-1", "u-2", "u-3", "u-4", "u-5"])
@pytest.mark.parametrize("role", ["clinician", "admin", None])
def test_results_are_the_native_clients(
    of_client: OpenFeatureClient, flags: FeatureFlagClient, user: str, role: str | None
) -> None:
    attributes = {"role": role} if role else {}
    ctx = EvaluationContext(targeting_key=user, attributes=attributes)
    native_ctx = {"targeting_key": user, **attributes}
    getters = {
        "bool-flag": (of_client.get_boolean_details, False),
        "color": (of_client.get_string_details, ""),
        "limit": (of_client.get_float_details, 0.0),
        "layout": (of_client.get_object_details, {}),
        "dark": (of_client.get_boolean_details, True),
    }
    for key, (get, default) in getters.items():
        ours = get(key, default, ctx)  # type: ignore[operator]
        native = flags.evaluate(key, native_ctx, default)
        assert (ours.value, ours.variant, ours.reason) == (
            native.value,
            native.variant,
            native.reason.value,
        )
        assert ours.flag_metadata == dict(native.flag_metadata)


def test_configuration_changed_names_the_flags(
    of_client: OpenFeatureClient, flags: FeatureFlagClient, switchable: SwitchableStore
) -> None:
    events = Events(of_client)
    FeatureFlagAdmin(switchable).toggle_flag("dark", True, **WHO)
    flags.refresh()
    changed = events.wait_for(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    assert changed[0].flags_changed == ["dark"]
    assert changed[0].provider_name == "uh-feature-flags"
    assert of_client.get_boolean_value("dark", False) is True


def test_stale_then_ready_again(
    of_client: OpenFeatureClient,
    provider: FeatureFlagProvider,
    flags: FeatureFlagClient,
    switchable: SwitchableStore,
    clock: Clock,
) -> None:
    events = Events(of_client)
    switchable.down = True
    assert flags.refresh() is False
    clock.seconds += 31
    details = of_client.get_boolean_details("bool-flag", False)
    assert (details.value, details.reason) == (True, "STALE")
    events.wait_for(ProviderEvent.PROVIDER_STALE)
    assert of_client.get_provider_status() is ProviderStatus.STALE
    assert provider.status is ProviderStatus.STALE

    switchable.down = False
    assert flags.refresh() is True
    assert of_client.get_boolean_details("bool-flag", False).reason == "STATIC"
    events.wait_for(ProviderEvent.PROVIDER_READY, count=2)  # the initial one, then recovery
    assert of_client.get_provider_status() is ProviderStatus.READY


def test_stale_and_ready_are_emitted_by_the_sync_without_any_evaluation(
    of_client: OpenFeatureClient,
    provider: FeatureFlagProvider,
    flags: FeatureFlagClient,
    switchable: SwitchableStore,
    clock: Clock,
) -> None:
    events = Events(of_client)
    switchable.down = True
    assert flags.refresh() is False  # out of reach, not yet for stale_after
    assert _status(provider) is ProviderStatus.READY
    clock.seconds += 31
    assert flags.refresh() is False  # the next failed attempt finds it stale
    events.wait_for(ProviderEvent.PROVIDER_STALE)
    assert _status(provider) is ProviderStatus.STALE

    switchable.down = False
    assert flags.refresh() is True
    events.wait_for(ProviderEvent.PROVIDER_READY, count=2)  # the initial one, then recovery
    assert provider.status is ProviderStatus.READY


def test_a_provider_without_data_errors_then_turns_ready_when_data_arrives(domain: str) -> None:
    store = InMemoryFeatureFlagStore(initialized=False)
    client = FeatureFlagClient(store, background=False)
    provider = FeatureFlagProvider(client, ready_timeout=0.01)
    of_client = api.get_client(domain)
    events = Events(of_client)
    api.set_provider(provider, domain=domain)
    try:
        errors = events.wait_for(ProviderEvent.PROVIDER_ERROR)
        assert errors[0].error_code is ErrorCode.PROVIDER_NOT_READY
        assert of_client.get_provider_status() is ProviderStatus.ERROR
        details = of_client.get_boolean_details("later", False)
        assert details.error_code is ErrorCode.PROVIDER_NOT_READY

        admin = FeatureFlagAdmin(store)
        admin.initialize(**WHO)
        admin.create_flag(Flag(key="later", enabled=True), **WHO)
        client.refresh()
        events.wait_for(ProviderEvent.PROVIDER_READY)
        assert events.wait_for(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)[0].flags_changed == [
            "later"
        ]
        assert of_client.get_provider_status() is ProviderStatus.READY
        assert of_client.get_boolean_value("later", False) is True
    finally:
        provider.shutdown()
        client.close()


def test_shutdown_unsubscribes_and_can_close_the_client(
    switchable: SwitchableStore, domain: str
) -> None:
    client = FeatureFlagClient(switchable, background=False)
    provider = FeatureFlagProvider(client, close_client_on_shutdown=True)
    api.set_provider_and_wait(provider, domain=domain)
    seen: list[str] = []
    provider.attach(lambda _provider, event, _details: seen.append(event.value))
    provider.shutdown()
    assert provider.status is ProviderStatus.NOT_READY
    FeatureFlagAdmin(switchable).toggle_flag("dark", True, **WHO)
    client.refresh()
    assert seen == []
