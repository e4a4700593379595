"""OpenFeature's gherkin conformance suite (evaluation.feature) run against our provider.

The feature files and ``test-flags.json`` are read at test time from ``$UH_VENDOR_SPECS`` or from
``../shared/vendor-specs`` beside the repository; without them every scenario is skipped with the
reason. ``test-flags.json`` is translated into our `Flag` model (its small ``contextEvaluator``
expressions become rules), stored in an in-memory store, and evaluated through the OpenFeature
SDK's client, so what is checked is the whole path a user takes.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import FlagEvaluationDetails

from unified_health.feature_flags._client import FeatureFlagClient
from unified_health.feature_flags._models import Condition, Flag, Rule
from unified_health.feature_flags._openfeature import FeatureFlagProvider
from unified_health.feature_flags.stores import Commit, InMemoryFeatureFlagStore, Write


def _gherkin_dir() -> Path:
    root = os.environ.get("UH_VENDOR_SPECS")
    base = Path(root) if root else Path(__file__).resolve().parents[3].parent / "shared"
    if not root:
        base = base / "vendor-specs"
    return base / "openfeature" / "gherkin"


GHERKIN = _gherkin_dir()

# ------------------------------------------------------------------------- feature file reader


@dataclass
class Scenario:
    name: str
    steps: list[str] = field(default_factory=list)


def read_feature(path: Path) -> list[Scenario]:
    """Plain scenarios with the background's steps prepended (no outlines in this file)."""
    background: list[str] = []
    scenarios: list[Scenario] = []
    current: list[str] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "@")):
            continue
        if line.startswith("Background:"):
            current = background
        elif line.startswith("Scenario:"):
            scenario = Scenario(line.removeprefix("Scenario:").strip())
            scenarios.append(scenario)
            current = scenario.steps
        elif current is not None and re.match(r"(Given|When|Then|And|But) ", line):
            current.append(line.split(" ", 1)[1])
    for scenario in scenarios:
        scenario.steps[:0] = background
    return scenarios


def _params() -> list[Any]:
    path = GHERKIN / "evaluation.feature"
    if not path.is_file() or not (GHERKIN / "test-flags.json").is_file():
        reason = f"OpenFeature gherkin suite not found at {GHERKIN} (set UH_VENDOR_SPECS)"
        return [pytest.param(None, id="evaluation.feature", marks=pytest.mark.skip(reason=reason))]
    return [pytest.param(s, id=s.name) for s in read_feature(path)]


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
            conditions.append(Condition(attribute=found["flag"], operator="in", values=[False]))
            continue
        literal = found["value"]
        value: Any = literal.strip("'") if literal.startswith("'") else json.loads(literal)
        operator = "in" if found["op"] == "==" else "gt"
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
    data = json.loads((GHERKIN / "test-flags.json").read_text(encoding="utf-8"))
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
    return {
        "boolean": lambda: text == "true",
        "string": lambda: text,
        "integer": lambda: int(text),
        "float": lambda: float(text),
    }[kind]()


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
def test_evaluation_feature(scenario: Scenario, world: World) -> None:
    for text in scenario.steps:
        for pattern, function in STEPS:
            found = pattern.match(text)
            if found:
                function(world, *found.groups())
                break
        else:
            pytest.fail(f"no step definition for: {text}")
