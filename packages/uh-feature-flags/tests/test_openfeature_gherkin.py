"""OpenFeature's gherkin conformance suites (evaluation.feature, evaluation_v2.feature) run
against our provider.

The feature files and ``test-flags.json`` are read at test time from ``$UH_VENDOR_SPECS`` or from
``../shared/vendor-specs`` beside the repository (`uh_testkit.vendor_spec`); without them the
suite's one placeholder test skips with the reason, or fails under ``UH_REQUIRE_VENDOR_SPECS=1``.
``test-flags.json`` is translated into our `Flag` model (its small ``contextEvaluator``
expressions become rules), stored in an in-memory store, and evaluated through the OpenFeature
SDK's client, so what is checked is the whole path a user takes. Every v2 evaluation is also
checked against the provider's own resolution and the native client's result; the v2 scenarios
that are left out, and the one step replaced, are listed with their reasons in ``V2_LEFT_OUT`` and
``V2_REWRITES``; a test checks that every scenario left out is still in the suite.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode, ProviderNotReadyError
from openfeature.flag_evaluation import FlagEvaluationDetails
from openfeature.provider import ProviderStatus

from uh_testkit import vendor_spec, vendor_specs_dir
from unified_health.feature_flags._client import FeatureFlagClient
from unified_health.feature_flags._errors import StoreUnavailableError
from unified_health.feature_flags._models import Condition, Flag, Operator, Rule
from unified_health.feature_flags._openfeature import FeatureFlagProvider, to_context
from unified_health.feature_flags.stores import (
    ChangeFeed,
    Commit,
    InMemoryFeatureFlagStore,
    StoreState,
    Write,
)
from unified_health.feature_flags.testing import FakeClock

GHERKIN = vendor_specs_dir() / "openfeature" / "gherkin"

# ------------------------------------------------------------------------- feature file reader


@dataclass
class Scenario:
    name: str
    steps: list[str] = field(default_factory=list)
    example: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        cells = ", ".join(cell.replace('\\"', '"') for cell in self.example)
        return f"{self.name} [{cells}]" if self.example else self.name


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _filler(values: dict[str, str]) -> Callable[[re.Match[str]], str]:
    """Replace ``<name>`` in a scenario outline with the example row's value."""

    def fill(match: re.Match[str]) -> str:
        return values[match[1]]

    return fill


def read_feature(path: Path) -> list[Scenario]:
    """Scenarios and expanded outlines, each with the background's steps prepended.

    Data tables under a step are not kept: no step this module runs takes one.
    """
    background: list[str] = []
    templates: list[tuple[str, list[str], list[list[str]]]] = []
    steps: list[str] | None = None
    rows: list[list[str]] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "@")):
            continue
        if line.startswith("Background:"):
            steps, rows = background, None
        elif line.startswith(("Scenario:", "Scenario Outline:")):
            steps, rows = [], []
            templates.append((line.split(":", 1)[1].strip(), steps, rows))
        elif line.startswith("Examples:"):
            rows = templates[-1][2]
            rows.append([])  # marks a new table: its next row is a header
        elif line.startswith("|"):
            if rows is not None and rows:
                rows.append(_cells(line))
        elif steps is not None and re.match(r"(Given|When|Then|And|But) ", line):
            steps.append(line.split(" ", 1)[1])
    scenarios: list[Scenario] = []
    for name, template, table in templates:
        if not table:
            scenarios.append(Scenario(name, [*background, *template]))
            continue
        header: list[str] = []
        for row in table:
            if not row:
                header = []
            elif not header:
                header = row
            else:
                values = dict(zip(header, row, strict=True))
                expanded = [re.sub(r"<(\w+)>", _filler(values), text) for text in template]
                scenarios.append(Scenario(name, [*background, *expanded], tuple(row)))
    return scenarios


def _suite_present(feature: str) -> bool:
    return (GHERKIN / feature).is_file() and (GHERKIN / "test-flags.json").is_file()


def _require_suite(feature: str) -> Path:
    """The feature file; skips (or fails, when required) the test if the suite is missing."""
    vendor_spec("openfeature", "gherkin", "test-flags.json")
    return vendor_spec("openfeature", "gherkin", feature)


def _params() -> list[Any]:
    if not _suite_present("evaluation.feature"):
        return [pytest.param(None, id="evaluation.feature")]
    return [pytest.param(s, id=s.id) for s in read_feature(GHERKIN / "evaluation.feature")]


# ------------------------------------------------------------------------- test-flags.json


_TERM = re.compile(
    r"^(?:(?P<not>!)(?P<flag>\w+)|(?P<attr>\w+) (?P<op>==|>) (?P<value>'[^']*'|-?\d+(?:\.\d+)?))$"
)


def rules_from_evaluator(expression: str) -> list[Rule]:
    """``a == 'x' && b > 1 && !c ? 'variant' : ''`` as one rule (the only form the data uses)."""
    condition, outcome = expression.split(" ? ")
    variant = outcome.split(" : ")[0].strip("'")
    conditions = []
    for term in condition.split(" && "):
        found = _TERM.match(term.strip())
        assert found, f"unsupported contextEvaluator term: {term!r}"
        if found["not"]:
            conditions.append(
                Condition(attribute=found["flag"], operator=Operator.IN, values=[False])
            )
            continue
        literal = found["value"]
        value: Any = literal.strip("'") if literal.startswith("'") else json.loads(literal)
        operator = Operator.IN if found["op"] == "==" else Operator.GT
        conditions.append(Condition(attribute=found["attr"], operator=operator, values=[value]))
    return [Rule(id="context-evaluator", conditions=conditions, variant=variant)]


def _kind(values: list[Any]) -> str:
    if all(isinstance(v, bool) for v in values):
        return "boolean"
    if all(isinstance(v, str) for v in values):
        return "string"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "number"
    return "json"


def to_flag(key: str, spec: dict[str, Any]) -> Flag | None:
    """One entry of ``test-flags.json`` as a `Flag`; ``None`` when it has no default variant."""
    default = spec.get("defaultVariant")
    if default is None:
        return None  # "code default" flags: our model always names a default variant
    evaluator = spec.get("contextEvaluator")
    return Flag(
        key=key,
        kind=_kind(list(spec["variants"].values())),  # type: ignore[arg-type]
        enabled=not spec.get("disabled", False),
        variants=spec["variants"],
        default_variant=default,
        off_variant=default,
        rules=rules_from_evaluator(evaluator) if evaluator else [],
    )


# test-flags.json has no "context-aware" flag, which evaluation.feature uses; this is the flag
# the scenario describes (the first name, last name, age and customer status of one person).
CONTEXT_AWARE = {
    "variants": {"internal": "INTERNAL", "external": "EXTERNAL"},
    "defaultVariant": "external",
    "contextEvaluator": (
        "fn == 'Sulisław' && ln == 'Świętopełk' && age == 29 && !customer ? 'internal' : ''"
    ),
}


@pytest.fixture(scope="module")
def flag_store() -> InMemoryFeatureFlagStore:
    data = json.loads(vendor_spec("openfeature", "gherkin", "test-flags.json").read_text("utf-8"))
    data["context-aware"] = CONTEXT_AWARE
    flags = [flag for key, spec in data.items() if (flag := to_flag(key, spec)) is not None]
    store = InMemoryFeatureFlagStore()
    state = store.read()
    assert state is not None
    writes = tuple(Write("flags", f.key, f.model_dump_json()) for f in flags)
    store.commit(Commit(base_epoch=state.epoch, base_version=state.version, writes=writes))
    return store


# ------------------------------------------------------------------------- steps


@dataclass
class World:
    client: OpenFeatureClient
    context: EvaluationContext | None = None
    value: Any = None
    default: Any = None
    details: FlagEvaluationDetails[Any] | None = None


Step = Callable[..., None]
STEPS: list[tuple[re.Pattern[str], Step]] = []


def step(pattern: str) -> Callable[[Step], Step]:
    def register(function: Step) -> Step:
        STEPS.append((re.compile(f"^{pattern}$"), function))
        return function

    return register


def _typed(kind: str, text: str) -> Any:
    text = text.strip('"')
    if kind == "boolean":
        return text == "true"
    if kind == "integer":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "string":
        return text
    raise KeyError(kind)


def _getter(world: World, kind: str, details: bool) -> Callable[..., Any]:
    name = f"get_{kind}_{'details' if details else 'value'}"
    method: Callable[..., Any] = getattr(world.client, name)
    return method


@step("a stable provider")
def _stable(world: World) -> None:
    assert world.client.get_provider_status().value == "READY"


@step(
    r'an? (boolean|string|integer|float) flag with key "([^"]+)" is evaluated '
    r"with default value (.+)"
)
def _evaluate_value(world: World, kind: str, key: str, default: str) -> None:
    world.default = _typed(kind, default)
    world.value = _getter(world, kind, False)(key, world.default, world.context)


@step(r"the resolved (boolean|string|integer|float) value should be (.+)")
def _check_value(world: World, kind: str, expected: str) -> None:
    assert world.value == _typed(kind, expected)
    assert type(world.value) is type(_typed(kind, expected))


@step(r'an object flag with key "([^"]+)" is evaluated with a null default value')
def _evaluate_object(world: World, key: str) -> None:
    world.value = world.client.get_object_value(key, None, world.context)  # type: ignore[arg-type]


@step(
    r'an? (boolean|string|integer|float) flag with key "([^"]+)" is evaluated with details '
    r"and default value (.+)"
)
def _evaluate_details(world: World, kind: str, key: str, default: str) -> None:
    world.default = _typed(kind, default)
    world.details = _getter(world, kind, True)(key, world.default, world.context)


@step(
    r"the resolved (boolean|string|integer|float) details value should be (.+), the variant "
    r'should be "([^"]+)", and the reason should be "([^"]+)"'
)
def _check_details(world: World, kind: str, value: str, variant: str, reason: str) -> None:
    assert world.details is not None
    assert world.details.value == _typed(kind, value)
    assert (world.details.variant, world.details.reason) == (variant, reason)
    assert world.details.error_code is None


@step(r'an object flag with key "([^"]+)" is evaluated with details and a null default value')
def _evaluate_object_details(world: World, key: str) -> None:
    world.details = world.client.get_object_details(key, None, world.context)  # type: ignore[arg-type]
    world.value = world.details.value


_FIELDS = (
    r'should be contain fields "([^"]+)", "([^"]+)", and "([^"]+)", '
    r'with values "([^"]+)", "([^"]+)" and (\d+), respectively'
)


@step(r"the resolved object (?:details )?value " + _FIELDS)
def _check_object(
    world: World, first: str, second: str, third: str, v1: str, v2: str, v3: str
) -> None:
    assert world.value == {first: v1 == "true", second: v2, third: int(v3)}


@step(r'the variant should be "([^"]+)", and the reason should be "([^"]+)"')
def _check_variant_reason(world: World, variant: str, reason: str) -> None:
    assert world.details is not None
    assert (world.details.variant, world.details.reason) == (variant, reason)


@step(r"context contains keys (.+) with values (.+)")
def _context(world: World, keys: str, values: str) -> None:
    names = re.findall(r'"([^"]+)"', keys)
    raw = re.findall(r'"[^"]*"|\d+', values)
    parsed: list[Any] = []
    for item in raw:
        text = item.strip('"')
        parsed.append(
            int(item) if item.isdigit() else (text == "true" if text in {"true", "false"} else text)
        )
    world.context = EvaluationContext(attributes=dict(zip(names, parsed, strict=True)))


@step(r'a flag with key "([^"]+)" is evaluated with default value "([^"]+)"')
def _evaluate_string(world: World, key: str, default: str) -> None:
    world.default = default
    world.value = world.client.get_string_value(key, default, world.context)


@step(r'the resolved string response should be "([^"]+)"')
def _check_string(world: World, expected: str) -> None:
    assert world.value == expected


@step(r'the resolved flag value is "([^"]+)" when the context is empty')
def _check_empty_context(world: World, expected: str) -> None:
    assert (
        world.client.get_string_value("context-aware", world.default, EvaluationContext())
        == expected
    )


@step(
    r'a non-existent string flag with key "([^"]+)" is evaluated with details and a fallback '
    r'value "([^"]+)"'
)
def _evaluate_missing(world: World, key: str, default: str) -> None:
    world.default = default
    world.details = world.client.get_string_details(key, default, world.context)


@step(r"the default (string|integer) value should be returned")
def _check_default(world: World, kind: str) -> None:
    assert world.details is not None
    assert world.details.value == world.default
    assert type(world.details.value) is type(world.default)


@step(
    r"the reason should indicate an error and the error code should indicate an? "
    r'(?:missing flag|type mismatch) with "([^"]+)"'
)
def _check_error(world: World, code: str) -> None:
    assert world.details is not None
    assert world.details.reason == "ERROR"
    assert world.details.error_code is not None
    assert world.details.error_code.value == code


@step(
    r'a string flag with key "([^"]+)" is evaluated as an integer, with details and a fallback '
    r"value (\d+)"
)
def _evaluate_as_integer(world: World, key: str, default: str) -> None:
    world.default = int(default)
    world.details = world.client.get_integer_details(key, world.default, world.context)


# ------------------------------------------------------------------------- the test


@pytest.fixture
def world(flag_store: InMemoryFeatureFlagStore) -> Iterator[World]:
    domain = f"gherkin-{uuid.uuid4().hex[:8]}"
    client = FeatureFlagClient(flag_store, background=False)
    provider = FeatureFlagProvider(client)
    api.set_provider_and_wait(provider, domain=domain)
    try:
        yield World(client=api.get_client(domain))
    finally:
        provider.shutdown()
        client.close()


@pytest.mark.parametrize("scenario", _params())
def test_evaluation_feature(scenario: Scenario | None, world: World) -> None:
    if scenario is None:
        _require_suite("evaluation.feature")
        return
    for text in scenario.steps:
        for pattern, function in STEPS:
            found = pattern.match(text)
            if found:
                function(world, *found.groups())
                break
        else:
            pytest.fail(f"no step definition for: {text}")


# ------------------------------------------------------------------------- evaluation_v2.feature

# Scenarios (by name, or by name and example row) that are left out, and why. Each is either
# behaviour of the OpenFeature SDK alone, or something our provider deliberately never reports.
V2_LEFT_OUT: dict[str, str] = {
    "Provider in fatal state error": (
        "SDK-only: PROVIDER_FATAL is the SDK short-circuiting a provider that declared itself "
        "fatal; ours never does (a lost store is retried forever and reported as STALE)"
    ),
    "Provider status accessibility [fatal, FATAL]": (
        "our provider has no fatal state: a lost store is retried forever and reported as STALE"
    ),
    "Flag metadata in evaluation details": (
        "our Flag model has no free-form metadata: every result carries exactly "
        "{'version': <flag version>}, so the spec's string/integer/float/boolean entries "
        "cannot be expressed"
    ),
    "CACHED reason": (
        "our provider evaluates every call locally on the current snapshot and keeps no result "
        "cache, so CACHED would never be a truthful reason"
    ),
    "Evaluation options with hooks": "SDK-only: hook execution and ordering belong to the SDK",
    "Evaluation context immutability": (
        "SDK-only: the context and the details are SDK objects (plain mutable dataclasses in "
        "openfeature-sdk 0.10); the provider only copies the context's attributes"
    ),
}

# Steps replaced in one scenario, with the reason. A disabled `Flag` serves its off variant
# (with reason DISABLED), exactly as the native client does; the spec's test provider serves
# the caller's fallback instead. The spec's disabled flags are translated with their default
# variant as off variant, so that is the value checked.
V2_REWRITES: dict[tuple[str, str], str] = {
    (
        "DISABLED reason",
        'the resolved details value should be "',
    ): "the resolved details value should be the flag's off variant",
}


def _v2_params() -> list[Any]:
    if not _suite_present("evaluation_v2.feature"):
        return [pytest.param(None, id="evaluation_v2.feature")]
    params = []
    for scenario in read_feature(GHERKIN / "evaluation_v2.feature"):
        if scenario.id in V2_LEFT_OUT or scenario.name in V2_LEFT_OUT:
            continue
        for (name, prefix), replacement in V2_REWRITES.items():
            if scenario.name == name:
                scenario.steps = [
                    replacement if text.startswith(prefix) else text for text in scenario.steps
                ]
        params.append(pytest.param(scenario, id=scenario.id))
    return params


def test_v2_scenarios_left_out_are_still_in_the_suite() -> None:
    scenarios = read_feature(_require_suite("evaluation_v2.feature"))
    known = {s.id for s in scenarios} | {s.name for s in scenarios}
    assert set(V2_LEFT_OUT) <= known, sorted(set(V2_LEFT_OUT) - known)


class SwitchableStore:
    """Reads the shared store, or fails like an unreachable Redis while ``down`` is set."""

    def __init__(self, inner: InMemoryFeatureFlagStore) -> None:
        self.inner = inner
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
        """The shared store outlives every client."""


class GatedProvider(FeatureFlagProvider):
    """A provider whose initialisation waits for ``gate``, so the SDK holds it NOT_READY."""

    def __init__(self, client: FeatureFlagClient, gate: threading.Event) -> None:
        super().__init__(client, ready_timeout=0)
        self._gate = gate

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        self._gate.wait()
        super().initialize(evaluation_context)


_TYPES = {"Boolean": "boolean", "String": "string", "Integer": "integer", "Float": "float"}


def _v2_typed(kind: str, text: str) -> Any:
    """A feature-file literal (already unquoted) as a value of the step's type."""
    text = text.replace('\\"', '"')
    if kind == "Object":
        return json.loads(text)
    if kind == "Boolean":
        return {"true": True, "false": False}[text]
    if kind == "Integer":
        return int(text)
    if kind == "Float":
        return float(text)
    if kind == "String":
        return text
    raise KeyError(kind)


@dataclass
class V2World:
    flag_store: InMemoryFeatureFlagStore
    flags: FeatureFlagClient
    provider: FeatureFlagProvider
    client: OpenFeatureClient
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    kind: str = ""
    key: str = ""
    default: Any = None
    attributes: dict[str, Any] = field(default_factory=dict)
    details: FlagEvaluationDetails[Any] | None = None

    @property
    def context(self) -> EvaluationContext | None:
        return EvaluationContext(attributes=dict(self.attributes)) if self.attributes else None

    def use(self, provider: FeatureFlagProvider, *, wait: bool) -> None:
        """Bind ``provider`` to a fresh domain and evaluate through it from now on."""
        domain = f"gherkin-v2-{uuid.uuid4().hex[:8]}"
        self.provider, self.flags = provider, provider.client
        self.client = api.get_client(domain)
        self.cleanups.append(provider.shutdown)
        self.cleanups.append(provider.client.close)
        if wait:
            api.set_provider_and_wait(provider, domain=domain)
        else:
            api.set_provider(provider, domain=domain)


V2_STEPS: list[tuple[re.Pattern[str], Callable[..., None]]] = []


def v2_step(pattern: str) -> Callable[[Step], Step]:
    def register(function: Step) -> Step:
        V2_STEPS.append((re.compile(f"^{pattern}$"), function))
        return function

    return register


@v2_step("a stable provider")
def _v2_stable(world: V2World) -> None:
    assert world.client.get_provider_status() is ProviderStatus.READY


@v2_step("a not ready provider")
def _v2_not_ready(world: V2World) -> None:
    gate = threading.Event()
    empty = InMemoryFeatureFlagStore(initialized=False)
    world.use(GatedProvider(FeatureFlagClient(empty, background=False), gate), wait=False)
    world.cleanups.append(gate.set)
    assert world.client.get_provider_status() is ProviderStatus.NOT_READY


@v2_step("a error provider")
def _v2_error(world: V2World) -> None:
    empty = InMemoryFeatureFlagStore(initialized=False)
    provider = FeatureFlagProvider(FeatureFlagClient(empty, background=False), ready_timeout=0)
    with pytest.raises(ProviderNotReadyError):
        world.use(provider, wait=True)


@v2_step("a stale provider")
def _v2_stale(world: V2World) -> None:
    store, clock = SwitchableStore(world.flag_store), FakeClock()
    flags = FeatureFlagClient(store, clock=clock, background=False, stale_after=30)
    world.use(FeatureFlagProvider(flags), wait=True)
    store.down = True
    assert flags.refresh() is False
    clock.advance(31)
    assert flags.refresh() is False  # the first failed attempt past stale_after: STALE


@v2_step(r'the provider status should be "([A-Z_]+)"')
def _v2_status(world: V2World, status: str) -> None:
    assert world.client.get_provider_status() is ProviderStatus(status)
    if status != "NOT_READY":  # the SDK's own state before initialize returns
        assert world.provider.status is ProviderStatus(status)


@v2_step(
    r'a (Boolean|String|Integer|Float|Object)-flag with key "([^"]+)" and a fallback value "(.*)"'
)
def _v2_flag(world: V2World, kind: str, key: str, default: str) -> None:
    world.kind, world.key, world.default = kind, key, _v2_typed(kind, default)


@v2_step(
    r'a context containing a key "([^"]+)", with type "(Boolean|String|Integer|Float)" '
    r'and with value "(.*)"'
)
def _v2_context(world: V2World, key: str, kind: str, value: str) -> None:
    world.attributes[key] = _v2_typed(kind, value)


@v2_step(r'a context containing a key "([^"]+)" with null value')
def _v2_null_context(world: V2World, key: str) -> None:
    world.attributes[key] = None


def _v2_evaluate(world: V2World) -> Any:
    kind = _TYPES.get(world.kind, "object")
    return getattr(world.client, f"get_{kind}_details"), getattr(
        world.provider, f"resolve_{kind}_details"
    )


@v2_step("the flag was evaluated with details")
def _v2_evaluated(world: V2World) -> None:
    get, resolve = _v2_evaluate(world)
    world.details = get(world.key, world.default, world.context)
    _check_same_as_provider_and_native(world, resolve(world.key, world.default, world.context))


@v2_step("the flag was evaluated with details asynchronously")
def _v2_evaluated_async(world: V2World) -> None:
    kind = _TYPES.get(world.kind, "object")
    get = getattr(world.client, f"get_{kind}_details_async")

    async def evaluate() -> FlagEvaluationDetails[Any]:
        task = asyncio.ensure_future(get(world.key, world.default, world.context))
        other = asyncio.ensure_future(asyncio.sleep(0, result="other"))  # yields only
        done = await asyncio.gather(task, other)
        assert done[1] == "other"
        return done[0]  # type: ignore[no-any-return]

    world.details = asyncio.run(evaluate())
    _, resolve = _v2_evaluate(world)
    _check_same_as_provider_and_native(world, resolve(world.key, world.default, world.context))


@v2_step("the evaluation should complete without blocking")
def _v2_completed(world: V2World) -> None:
    assert world.details is not None
    assert world.details.error_code is None


def _check_same_as_provider_and_native(world: V2World, direct: Any) -> None:
    """The SDK's details are the provider's resolution, which is the native client's result."""
    details = world.details
    assert details is not None
    sdk = (details.value, details.variant, details.reason, details.error_code)
    assert sdk == (direct.value, direct.variant, direct.reason, direct.error_code)
    context = to_context(world.context)
    native = world.flags.evaluate(world.key, context, world.default)
    code = native.error_code.value if native.error_code is not None else None
    assert (native.value, native.variant, native.reason.value, code) == (
        details.value,
        details.variant,
        details.reason,
        details.error_code.value if details.error_code is not None else None,
    )


def _v2_expect_value(world: V2World, expected: Any) -> None:
    assert world.details is not None
    assert world.details.value == expected
    assert type(world.details.value) is type(expected)


@v2_step(r'the resolved details value should be "(.*)"')
def _v2_value(world: V2World, expected: str) -> None:
    _v2_expect_value(world, _v2_typed(world.kind, expected))


@v2_step("the resolved details value should be the flag's off variant")
def _v2_off_variant(world: V2World) -> None:
    state = world.flag_store.read()
    assert state is not None
    flag = Flag.model_validate_json(state.flags[world.key])
    _v2_expect_value(world, flag.variants[flag.off_variant])


@v2_step(r'the reason should be "([A-Z_]+)"')
def _v2_reason(world: V2World, reason: str) -> None:
    assert world.details is not None
    assert world.details.reason == reason


@v2_step(r'the error-code should be "([A-Z_]+)"')
def _v2_error_code(world: V2World, code: str) -> None:
    assert world.details is not None
    assert world.details.error_code is ErrorCode(code)


@v2_step(r'the flag key should be "([^"]+)"')
def _v2_flag_key(world: V2World, key: str) -> None:
    assert world.details is not None
    assert world.details.flag_key == key


@v2_step(r'the variant should be "([^"]+)"')
def _v2_variant(world: V2World, variant: str) -> None:
    assert world.details is not None
    assert world.details.variant == variant


@pytest.fixture
def v2_world(flag_store: InMemoryFeatureFlagStore) -> Iterator[V2World]:
    flags = FeatureFlagClient(flag_store, background=False)
    world = V2World(flag_store, flags, FeatureFlagProvider(flags), api.get_client())
    world.use(world.provider, wait=True)
    try:
        yield world
    finally:
        for cleanup in world.cleanups:
            cleanup()


@pytest.mark.parametrize("scenario", _v2_params())
def test_evaluation_v2_feature(scenario: Scenario | None, v2_world: V2World) -> None:
    if scenario is None:
        _require_suite("evaluation_v2.feature")
        return
    for text in scenario.steps:
        for pattern, function in V2_STEPS:
            found = pattern.match(text)
            if found:
                function(v2_world, *found.groups())
                break
        else:
            pytest.fail(f"no step definition for: {text}")
