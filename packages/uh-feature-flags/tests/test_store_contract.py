"""One contract suite for every FeatureFlagStore: memory and Redis behave the same."""

from __future__ import annotations

import threading

import pytest

from unified_health.feature_flags import (
    ConflictError,
    FeatureFlagAdmin,
    FeatureFlagStore,
    InMemoryFeatureFlagStore,
    StoreUnavailableError,
)
from unified_health.feature_flags.stores import ChangeFeed, Commit, Write


def _commit(store: FeatureFlagStore, *writes: Write, record: str | None = None) -> int:
    state = store.read()
    assert state is not None
    return store.commit(
        Commit(
            base_epoch=state.epoch,
            base_version=state.version,
            writes=writes,
            audit_record=record,
            audit_hash="h" * 64 if record else "",
        )
    )


def test_a_fresh_store_is_initialised_and_empty(store: FeatureFlagStore) -> None:
    state = store.read()
    assert state is not None
    assert (dict(state.flags), dict(state.segments), dict(state.settings)) == ({}, {}, {})
    assert store.read_version() == (state.epoch, state.version)


def test_a_commit_writes_all_documents_and_bumps_the_version_once(store: FeatureFlagStore) -> None:
    before = store.read()
    assert before is not None
    version = _commit(
        store,
        Write("flags", "a", '{"key":"a"}'),
        Write("flags", "b", '{"key":"b"}'),
        Write("segments", "s", '{"key":"s"}'),
        Write("settings", "kill_switch", "true"),
        Write("schedules", "x", "{}"),
        record='{"seq":1}',
    )
    after = store.read()
    assert after is not None
    assert version == after.version == before.version + 1
    assert dict(after.flags) == {"a": '{"key":"a"}', "b": '{"key":"b"}'}
    assert dict(after.segments) == {"s": '{"key":"s"}'}
    assert dict(after.settings) == {"kill_switch": "true"}
    assert dict(after.schedules) == {"x": "{}"}
    assert (after.audit_head, after.audit_length) == ("h" * 64, before.audit_length + 1)
    assert store.audit_records()[-1] == '{"seq":1}'


def test_deletes_remove_documents(store: FeatureFlagStore) -> None:
    _commit(store, Write("flags", "a", "{}"), Write("flags", "b", "{}"))
    _commit(store, Write("flags", "a", None), Write("flags", "missing", None))
    state = store.read()
    assert state is not None
    assert list(state.flags) == ["b"]


def test_a_stale_base_version_is_a_conflict_and_writes_nothing(store: FeatureFlagStore) -> None:
    state = store.read()
    assert state is not None
    _commit(store, Write("flags", "a", "1"))
    with pytest.raises(ConflictError):
        store.commit(
            Commit(state.epoch, state.version, (Write("flags", "a", "2"),), "{}", "h" * 64)
        )
    after = store.read()
    assert after is not None
    assert after.flags["a"] == "1"
    assert after.version == state.version + 1
    assert len(store.audit_records()) == after.audit_length


def test_a_foreign_epoch_is_a_conflict(store: FeatureFlagStore) -> None:
    state = store.read()
    assert state is not None
    with pytest.raises(ConflictError):
        store.commit(Commit("another-epoch", state.version, (Write("flags", "a", "1"),)))


def test_initialising_twice_is_a_conflict(store: FeatureFlagStore) -> None:
    with pytest.raises(ConflictError):
        store.commit(Commit("", 0, (), initialize=True, new_epoch="e2"))


def test_concurrent_writers_never_both_win(store: FeatureFlagStore) -> None:
    state = store.read()
    assert state is not None
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def write(n: int) -> None:
        barrier.wait()
        try:
            store.commit(Commit(state.epoch, state.version, (Write("flags", "a", str(n)),)))
            outcomes.append("won")
        except ConflictError:
            outcomes.append("lost")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost"] * 7 + ["won"]


def test_the_feed_announces_each_commit(store: FeatureFlagStore) -> None:
    feed: ChangeFeed = store.watch()
    try:
        assert feed.next(0.05) is None
        version = _commit(store, Write("flags", "a", "{}"))
        announced = None
        for _ in range(50):
            announced = feed.next(0.1)
            if announced is not None:
                break
        found = store.read_version()
        assert found is not None
        assert announced == (found[0], version)
    finally:
        feed.close()


def test_a_closed_feed_returns_nothing(store: FeatureFlagStore) -> None:
    feed = store.watch()
    feed.close()
    if isinstance(store, InMemoryFeatureFlagStore):
        assert feed.next(0.01) is None


def test_an_uninitialised_store_reads_none_and_refuses_commits() -> None:
    store = InMemoryFeatureFlagStore(initialized=False)
    assert store.read() is None
    assert store.read_version() is None
    with pytest.raises(StoreUnavailableError):
        store.commit(Commit("", 0, (Write("flags", "a", "{}"),)))


def test_admin_audit_chain_verifies_on_every_store(
    store: FeatureFlagStore, admin: FeatureFlagAdmin
) -> None:
    from unified_health.feature_flags import Flag

    admin.create_flag(Flag(key="a", enabled=True), actor="ops", reason="new")
    admin.toggle_flag("a", False, actor="ops", reason="incident")
    verdict = admin.verify_audit()
    assert verdict.ok
    assert verdict.count == len(store.audit_records())
