"""Change sets: one commit, one version, one announcement, one audit record, all or nothing;
readers (threads and real processes) never see a half-applied change set."""

from __future__ import annotations

import multiprocessing
import os
import threading
from typing import Any

import pytest

from unified_health.feature_flags import (
    ChangeSet,
    ConflictError,
    FeatureFlagAdmin,
    FeatureFlagClient,
    FeatureFlagStore,
    Flag,
    InvalidInputError,
    NotFoundError,
    Prerequisite,
    RedisFeatureFlagStore,
    Segment,
)
from unified_health.feature_flags.testing import FakeClock


def _string_flag(key: str, value: str) -> Flag:
    return Flag(
        key=key,
        kind="string",
        enabled=True,
        variants={"current": value, "off": "off"},
        default_variant="current",
        off_variant="off",
    )


def _generation(keys: list[str], generation: int) -> ChangeSet:
    changes = ChangeSet()
    for key in keys:
        changes.put_flag(_string_flag(key, f"g{generation}"))
    return changes


def test_a_change_set_is_one_version_one_announcement_and_one_audit_record(
    store: FeatureFlagStore, clock: FakeClock
) -> None:
    admin = FeatureFlagAdmin(store, clock=clock)
    admin.create_flag(Flag(key="old"), actor="ops", reason="new")
    before = store.read_version()
    assert before is not None
    feed = store.watch()
    try:
        changes = (
            ChangeSet()
            .put_segment(Segment(key="pilot", included=["u-1"]))
            .put_flag(Flag(key="billing", enabled=True))
            .put_flag(Flag(key="invoices", prerequisites=[Prerequisite(key="billing")]))
            .delete_flag("old")
        )
        result = admin.apply_change_set(changes, actor="ops", reason="release 42")
        announced = [found for found in (feed.next(0.3) for _ in range(5)) if found]
    finally:
        feed.close()
    assert result.version == before[1] + 1
    assert store.read_version() == (before[0], before[1] + 1)
    assert announced == [(before[0], before[1] + 1)]
    assert sorted(result.flags) == ["billing", "invoices"]
    assert result.deleted_flags == ["old"]
    assert sorted(f.key for f in admin.list_flags()) == ["billing", "invoices"]
    record = admin.audit_log()[-1]
    assert (record.action, record.actor, record.reason) == ("change_set.apply", "ops", "release 42")
    assert record.after is not None
    assert record.before is not None
    named = [(c["kind"], c["key"], c["op"]) for c in record.after["changes"]]
    assert named == [
        ("segment", "pilot", "put"),
        ("flag", "billing", "put"),
        ("flag", "invoices", "put"),
        ("flag", "old", "delete"),
    ]
    assert "u-1" not in str(record.after)  # context keys are hashed in the audit record
    assert admin.verify_audit().ok


def _unchanged(store: FeatureFlagStore, admin: FeatureFlagAdmin, version: Any) -> None:
    assert store.read_version() == version
    assert [(f.key, f.version, f.enabled) for f in admin.list_flags()] == [("a", 1, False)]


def test_a_failed_change_set_writes_nothing(store: FeatureFlagStore) -> None:
    admin = FeatureFlagAdmin(store)
    admin.create_flag(Flag(key="a"), actor="ops", reason="new")
    version = store.read_version()
    stale = ChangeSet().put_flag(Flag(key="b")).toggle_flag("a", True, expected_version=7)
    with pytest.raises(ConflictError):
        admin.apply_change_set(stale, actor="ops", reason="stale")
    _unchanged(store, admin, version)
    dangling = (
        ChangeSet()
        .toggle_flag("a", True)
        .put_flag(Flag(key="c", prerequisites=[Prerequisite(key="ghost")]))
    )
    with pytest.raises(InvalidInputError) as caught:
        admin.apply_change_set(dangling, actor="ops", reason="dangling")
    assert caught.value.field == "flags.c.prerequisites.0.key"
    _unchanged(store, admin, version)
    with pytest.raises(NotFoundError):
        admin.apply_change_set(
            ChangeSet().toggle_flag("a", True).toggle_flag("ghost", True),
            actor="ops",
            reason="missing",
        )
    _unchanged(store, admin, version)
    exists = ChangeSet().put_flag(Flag(key="a", enabled=True), expected_version=0)
    with pytest.raises(ConflictError):
        admin.apply_change_set(exists, actor="ops", reason="create twice")
    _unchanged(store, admin, version)


def test_the_whole_store_can_be_locked_at_a_reviewed_version(store: FeatureFlagStore) -> None:
    admin = FeatureFlagAdmin(store)
    reviewed = admin.create_flag(Flag(key="a"), actor="ops", reason="new")
    version = store.read_version()
    assert version is not None
    assert reviewed.version == 1
    admin.create_flag(Flag(key="b"), actor="ops", reason="someone else")
    with pytest.raises(ConflictError):
        admin.apply_change_set(
            ChangeSet().toggle_flag("a", True),
            expected_store_version=version[1],
            actor="ops",
            reason="reviewed at the old version",
        )
    assert admin.get_flag("a").enabled is False


def test_a_change_set_may_delete_a_prerequisite_only_with_its_dependents(
    store: FeatureFlagStore,
) -> None:
    admin = FeatureFlagAdmin(store)
    admin.apply_change_set(
        ChangeSet()
        .put_flag(Flag(key="base"))
        .put_flag(Flag(key="child", prerequisites=[Prerequisite(key="base")])),
        actor="ops",
        reason="new",
    )
    with pytest.raises(InvalidInputError):
        admin.apply_change_set(ChangeSet().delete_flag("base"), actor="ops", reason="half")
    both = ChangeSet().delete_flag("child").delete_flag("base")
    assert admin.apply_change_set(both, actor="ops", reason="cleanup").deleted_flags == [
        "child",
        "base",
    ]


def test_a_change_set_refuses_a_key_twice_and_bad_input_at_once() -> None:
    with pytest.raises(InvalidInputError) as caught:
        ChangeSet().toggle_flag("a", True).delete_flag("a")
    assert caught.value.field == "changes.1.key"
    with pytest.raises(InvalidInputError) as caught:
        ChangeSet().put_flag({"key": "a", "enabled": "yes"})
    assert caught.value.field == "changes.0.enabled"
    with pytest.raises(InvalidInputError) as caught:
        ChangeSet().patch_flag("a", percentage=150)
    assert caught.value.field == "changes.0.percentage"
    with pytest.raises(InvalidInputError) as caught:
        ChangeSet().patch_flag("a")
    assert caught.value.field == "changes.0"


def test_a_concurrent_writer_makes_the_change_set_re_resolve(store: FeatureFlagStore) -> None:
    admin = FeatureFlagAdmin(store)
    admin.create_flag(Flag(key="a"), actor="ops", reason="new")
    other = FeatureFlagAdmin(store)
    commit = store.commit
    raced: list[int] = []

    def commit_after_a_rival(change: Any) -> int:
        if not raced:
            raced.append(0)  # first: the rival's own commit passes straight through
            other.create_flag(Flag(key="rival"), actor="x", reason="race")
        return commit(change)

    store.commit = commit_after_a_rival  # type: ignore[method-assign,assignment]
    try:
        result = admin.apply_change_set(
            ChangeSet().toggle_flag("a", True), actor="ops", reason="after a rival"
        )
    finally:
        del store.commit
    assert raced
    assert admin.get_flag("a").version == 2
    assert admin.flag_exists("rival")
    assert result.version == store.read_version()[1]  # type: ignore[index]


# ---------------------------------------------------------------- torn-read probes

KEYS = [f"flag-{i}" for i in range(8)]
GENERATIONS = 40


def _torn(results: dict[str, Any]) -> tuple[bool, str | None]:
    values = {results[key].value for key in KEYS if key in results}
    present = sum(key in results for key in KEYS)
    torn = len(values) > 1 or present not in (0, len(KEYS))
    return torn, (next(iter(values)) if len(values) == 1 else None)


def test_threads_never_see_half_a_change_set(store: FeatureFlagStore) -> None:
    admin = FeatureFlagAdmin(store)
    admin.apply_change_set(_generation(KEYS, 0), actor="ops", reason="g0")
    done = threading.Event()
    started = threading.Barrier(4)  # three readers and the writer
    torn: list[int] = []
    seen: list[set[str]] = []

    def reader() -> None:
        mine: set[str] = set()
        with FeatureFlagClient(store, poll_interval=0.05) as client:
            client.refresh()
            mine.add(client.evaluate_all({"user_id": "u"})[KEYS[0]].value)  # generation 0
            started.wait(30)
            while True:
                finished = done.is_set()
                if finished:
                    client.refresh()  # the last look: the final generation must be there
                broken, value = _torn(client.evaluate_all({"user_id": "u"}))
                if broken:
                    torn.append(1)
                if value is not None:
                    mine.add(value)
                if finished:
                    break
        seen.append(mine)

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for thread in readers:
        thread.start()
    started.wait(30)
    for generation in range(1, GENERATIONS + 1):
        admin.apply_change_set(_generation(KEYS, generation), actor="ops", reason="next")
    done.set()
    for thread in readers:
        thread.join(30)
    assert torn == []
    assert len(seen) == 3
    for mine in seen:
        assert f"g{GENERATIONS}" in mine  # every reader caught up
        assert len(mine) > 1  # and saw the store move while it read


def _process_reader(url: str, prefix: str, ready: Any, queue: Any) -> None:
    torn = 0
    seen: set[str] = set()
    client = FeatureFlagClient.from_url(url, prefix=prefix, poll_interval=0.05)
    try:
        client.wait_ready(30)
        client.refresh()
        seen.add(client.evaluate_all({"user_id": "u"})[KEYS[0]].value)  # generation 0
        ready.set()
        final = f"g{GENERATIONS}"
        for _ in range(2_000_000):
            broken, value = _torn(client.evaluate_all({"user_id": "u"}))
            torn += broken
            if value is not None:
                seen.add(value)
            if final in seen:
                break
    finally:
        client.close()
    queue.put((torn, sorted(seen)))


@pytest.mark.redis
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_processes_never_see_half_a_change_set_on_redis(
    redis_client: Any, redis_url: str, redis_prefix: str
) -> None:
    store = RedisFeatureFlagStore(redis_client, prefix=redis_prefix)
    admin = FeatureFlagAdmin(store)
    admin.initialize(actor="ops", reason="fresh")
    admin.apply_change_set(_generation(KEYS, 0), actor="ops", reason="g0")
    # fork: the reader function lives in this test module, which a spawned child cannot import
    # under pytest's importlib mode. Each child builds its own client after the fork.
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    readies = [context.Event() for _ in range(3)]
    processes = [
        context.Process(target=_process_reader, args=(redis_url, redis_prefix, ready, queue))
        for ready in readies
    ]
    for process in processes:
        process.start()
    for ready in readies:
        assert ready.wait(60)
    for generation in range(1, GENERATIONS + 1):
        admin.apply_change_set(_generation(KEYS, generation), actor="ops", reason="next")
    reports = [queue.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(30)
        assert process.exitcode == 0
    for torn, seen in reports:
        assert torn == 0
        assert f"g{GENERATIONS}" in seen
        assert len(seen) > 1
