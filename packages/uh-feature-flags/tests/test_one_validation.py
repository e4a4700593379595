"""One validation for every way in: single writes, change sets and initialize/import agree."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unified_health.feature_flags import (
    ConflictError,
    FeatureFlagAdmin,
    FeatureFlagClient,
    FeatureFlagStore,
    Flag,
    InMemoryFeatureFlagStore,
    InvalidInputError,
    Prerequisite,
)
from unified_health.feature_flags._validation import MAX_PREREQUISITE_DEPTH

KEYS = ["a", "b", "c", "d", "e"]


def _flag(key: str, prerequisites: list[str]) -> dict[str, Any]:
    return {
        "key": key,
        "enabled": True,
        "prerequisites": [{"key": p} for p in prerequisites],
    }


def _document(graph: dict[str, list[str]]) -> str:
    return json.dumps({"flags": {key: _flag(key, deps) for key, deps in graph.items()}})


def _chain(length: int) -> dict[str, list[str]]:
    """f0 <- f1 <- ... : flag i requires flag i-1, so the last flag's chain is length - 1 deep."""
    return {f"f{i}": ([f"f{i - 1}"] if i else []) for i in range(length)}


def _fresh() -> tuple[InMemoryFeatureFlagStore, FeatureFlagAdmin]:
    store = InMemoryFeatureFlagStore(initialized=False)
    return store, FeatureFlagAdmin(store)


@pytest.mark.redis
def test_initialize_refuses_a_prerequisite_cycle_and_writes_nothing_on_redis(
    redis_client: Any, redis_prefix: str
) -> None:
    from unified_health.feature_flags import RedisFeatureFlagStore

    store = RedisFeatureFlagStore(redis_client, prefix=redis_prefix)
    admin = FeatureFlagAdmin(store)
    with pytest.raises(InvalidInputError) as caught:
        admin.initialize(actor="ops", reason="import", document=_document({"a": ["b"], "b": ["a"]}))
    assert (caught.value.field, caught.value.rule) == (
        "flags.a.prerequisites",
        "prerequisites must not form a cycle",
    )
    assert store.read() is None  # nothing was written


def test_initialize_refuses_a_chain_deeper_than_create_flag_allows() -> None:
    store, admin = _fresh()
    too_deep = _chain(MAX_PREREQUISITE_DEPTH + 2)
    with pytest.raises(InvalidInputError) as caught:
        admin.initialize(actor="ops", reason="import", document=_document(too_deep))
    assert caught.value.rule == f"prerequisite chains must be at most {MAX_PREREQUISITE_DEPTH} deep"
    assert store.read() is None
    admin.initialize(
        actor="ops", reason="import", document=_document(_chain(MAX_PREREQUISITE_DEPTH + 1))
    )
    assert len(admin.list_flags()) == MAX_PREREQUISITE_DEPTH + 1


def test_initialize_refuses_a_missing_prerequisite_and_an_unknown_setting() -> None:
    _, admin = _fresh()
    with pytest.raises(InvalidInputError) as caught:
        admin.initialize(actor="ops", reason="import", document=_document({"a": ["ghost"]}))
    assert caught.value.field == "flags.a.prerequisites.0.key"
    document = json.dumps({"settings": {"kill_switch": "yes"}})
    with pytest.raises(InvalidInputError) as caught:
        admin.initialize(actor="ops", reason="import", document=document)
    assert caught.value.field == "settings.kill_switch"


def test_a_bad_flag_in_a_document_is_named_by_its_path() -> None:
    _, admin = _fresh()
    document = json.dumps({"flags": {"a": {"key": "a", "enabled": "yes"}}})
    with pytest.raises(InvalidInputError) as caught:
        admin.initialize(actor="ops", reason="import", document=document)
    assert caught.value.field == "flags.a.enabled"


def test_update_flag_refuses_to_close_a_cycle(store: FeatureFlagStore) -> None:
    admin = FeatureFlagAdmin(store)
    admin.create_flag(Flag(key="a"), actor="ops", reason="new")
    admin.create_flag(
        Flag(key="b", prerequisites=[Prerequisite(key="a")]), actor="ops", reason="new"
    )
    with pytest.raises(InvalidInputError) as caught:
        admin.update_flag(
            Flag(key="a", prerequisites=[Prerequisite(key="b")]),
            expected_version=1,
            actor="ops",
            reason="cycle",
        )
    assert "cycle" in caught.value.rule
    assert admin.get_flag("a").prerequisites == []


graphs = st.dictionaries(
    st.sampled_from(KEYS),
    st.lists(st.sampled_from(KEYS), max_size=3, unique=True),
    min_size=1,
).map(lambda g: {k: [d for d in deps if d != k and d in g] for k, deps in g.items()})


def _by_single_writes(graph: dict[str, list[str]]) -> bool:
    """Build ``graph`` one write at a time; whether every write was accepted."""
    store = InMemoryFeatureFlagStore()
    admin = FeatureFlagAdmin(store)
    for key in graph:
        admin.create_flag(_flag(key, []), actor="ops", reason="new")
    try:
        for key, deps in graph.items():
            if deps:
                current = admin.get_flag(key)
                admin.update_flag(
                    _flag(key, deps), expected_version=current.version, actor="ops", reason="dep"
                )
    except InvalidInputError:
        return False
    return True


def _by_initialize(graph: dict[str, list[str]]) -> bool:
    store, admin = _fresh()
    try:
        admin.initialize(actor="ops", reason="import", document=_document(graph))
    except InvalidInputError:
        assert store.read() is None
        return False
    with FeatureFlagClient(store, background=False) as client:
        for key in graph:
            assert client.evaluate(key, {"user_id": "u"}).error_code is None
    return True


def _by_change_set(graph: dict[str, list[str]]) -> bool:
    admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
    changes = admin.change_set()
    for key, deps in graph.items():
        changes.put_flag(_flag(key, deps))
    try:
        admin.apply_change_set(changes, actor="ops", reason="release")
    except InvalidInputError:
        assert admin.list_flags() == []
        return False
    return True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=graphs)
def test_every_write_path_accepts_and_refuses_the_same_graphs(
    graph: dict[str, list[str]],
) -> None:
    assert _by_single_writes(graph) == _by_initialize(graph) == _by_change_set(graph)


def test_initialize_on_an_initialised_store_is_still_a_conflict() -> None:
    admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
    with pytest.raises(ConflictError):
        admin.initialize(actor="ops", reason="again")
