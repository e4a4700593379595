"""The `RecordStore` contract, run against every implementation: in memory and on real Redis."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import redis

from unified_health.status_page import (
    ConflictError,
    InMemoryRecordStore,
    InvalidInputError,
    RecordStore,
    RedisRecordStore,
)


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[RecordStore]:
    if request.param == "memory":
        yield InMemoryRecordStore()
        return
    client: redis.Redis = request.getfixturevalue("redis_client")
    prefix: str = request.getfixturevalue("redis_prefix")
    with RedisRecordStore(client, prefix=prefix) as redis_store:
        yield redis_store


def test_a_new_key_starts_at_version_one(store: RecordStore) -> None:
    record = store.put("r-1", {"status": "open"}, expected_version=0)
    assert (record.key, record.version, record.data) == ("r-1", 1, {"status": "open"})
    assert store.get("r-1") == record


def test_each_write_adds_one_to_the_version(store: RecordStore) -> None:
    store.put("r-1", {"n": 1})
    store.put("r-1", {"n": 2})
    third = store.put("r-1", {"n": 3}, expected_version=2)
    assert third.version == 3
    assert store.get("r-1") == third


def test_a_stale_version_is_a_conflict_and_writes_nothing(store: RecordStore) -> None:
    store.put("r-1", {"n": 1})
    with pytest.raises(ConflictError, match="version 1"):
        store.put("r-1", {"n": 99}, expected_version=0)
    with pytest.raises(ConflictError):
        store.delete("r-1", expected_version=5)
    record = store.get("r-1")
    assert record is not None
    assert (record.version, record.data) == (1, {"n": 1})


def test_delete_is_idempotent(store: RecordStore) -> None:
    store.put("r-1", {"n": 1})
    assert store.delete("r-1") is True
    assert store.delete("r-1") is False
    assert store.get("r-1") is None
    assert store.put("r-1", {"n": 2}, expected_version=0).version == 1


def test_list_records_yields_each_record_once(store: RecordStore) -> None:
    for index in range(1200):
        store.put(f"r-{index}", {"index": index})
    keys = [record.key for record in store.list_records()]
    assert sorted(keys) == sorted(f"r-{index}" for index in range(1200))


def test_stored_data_is_a_copy(store: RecordStore) -> None:
    data = {"tags": ["a"]}
    record = store.put("r-1", data)
    data["tags"].append("b")
    record.data["tags"].append("c")
    stored = store.get("r-1")
    assert stored is not None
    assert stored.data == {"tags": ["a"]}


@pytest.mark.parametrize(
    ("key", "data", "expected_version", "field"),
    [
        ("", {}, None, "key"),
        (7, {}, None, "key"),
        ("a\nb", {}, None, "key"),
        ("k" * 257, {}, None, "key"),
        ("r-1", "not a mapping", None, "data"),
        ("r-1", {"when": object()}, None, "data.when"),
        ("r-1", {"x": float("nan")}, None, "data.x"),
        ("r-1", {1: "int key"}, None, "data"),
        ("r-1", {}, -1, "expected_version"),
        ("r-1", {}, True, "expected_version"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    store: RecordStore, key: object, data: object, expected_version: object, field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        store.put(key, data, expected_version=expected_version)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert list(store.list_records()) == []


def test_concurrent_creates_of_one_key_have_one_winner(store: RecordStore) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(16)

    def create(worker: int) -> None:
        barrier.wait()
        try:
            store.put("only-one", {"worker": worker}, expected_version=0)
            outcomes.append("won")
        except ConflictError:
            outcomes.append("lost")

    threads = [threading.Thread(target=create, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost"] * 15 + ["won"]
    record = store.get("only-one")
    assert record is not None
    assert record.version == 1
