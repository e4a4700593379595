"""Admin and store integrity: all-or-nothing commits, foreign data, audit truncation, repair."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import redis

from unified_health.feature_flags import (
    ConflictError,
    ErrorCode,
    FeatureFlagAdmin,
    FeatureFlagClient,
    FeatureFlagStore,
    Flag,
    InMemoryFeatureFlagStore,
    InvalidInputError,
    Prerequisite,
    RedisFeatureFlagStore,
    Segment,
    StoreUnavailableError,
    Target,
)
from unified_health.feature_flags._validation import MAX_PREREQUISITE_DEPTH
from unified_health.feature_flags.stores import Commit, StoreState, Write
from unified_health.feature_flags.testing import FakeClock, capture_logs

USER = {"user_id": "user-123"}


@pytest.fixture
def redis_store(redis_client: redis.Redis, redis_prefix: str) -> RedisFeatureFlagStore:
    store = RedisFeatureFlagStore(redis_client, prefix=redis_prefix)
    FeatureFlagAdmin(store).initialize(actor="test", reason="fresh keyspace")
    return store


def _raw_write(store: FeatureFlagStore, *writes: Write) -> None:
    state = store.read()
    assert state is not None
    store.commit(Commit(state.epoch, state.version, writes))


# ---------------------------------------------------------------- 1. atomic commits


@pytest.mark.redis
def test_a_commit_that_would_fail_part_way_writes_nothing(
    redis_client: redis.Redis, redis_store: RedisFeatureFlagStore
) -> None:
    admin = FeatureFlagAdmin(redis_store)
    admin.create_flag(Flag(key="a", enabled=False), actor="ops", reason="new")
    before = redis_store.read()
    assert before is not None
    redis_client.delete(redis_store.keys.audit)
    redis_client.set(redis_store.keys.audit, "foreign data of another type")
    with pytest.raises(StoreUnavailableError):
        admin.toggle_flag("a", True, actor="ops", reason="launch")
    after = redis_store.read()
    assert after is not None
    assert (after.version, dict(after.flags)) == (before.version, dict(before.flags))
    assert json.loads(after.flags["a"])["enabled"] is False


# ---------------------------------------------------------------- 2. foreign fields, repair


@pytest.mark.redis
def test_a_foreign_field_affects_only_itself_and_the_admin_can_remove_it(
    redis_client: redis.Redis, redis_store: RedisFeatureFlagStore
) -> None:
    admin = FeatureFlagAdmin(redis_store)
    admin.create_flag(Flag(key="a", enabled=True), actor="ops", reason="new")
    client = FeatureFlagClient(redis_store, background=False)
    redis_client.hset(redis_store.keys.flags, "foreign", "garbage")
    admin.toggle_flag("a", False, actor="ops", reason="still writable")
    assert client.refresh()
    assert client.is_enabled("a", USER) is False
    result = client.evaluate("foreign", USER, default=True)
    assert (result.value, result.error_code) == (True, ErrorCode.PARSE_ERROR)
    admin.delete_flag("foreign", actor="ops", reason="remove foreign data")
    assert not admin.flag_exists("foreign")
    before = admin.audit_log()[-1].before
    assert before is not None
    assert (before["unreadable"], before["length"]) == (True, len("garbage"))
    assert "garbage" not in json.dumps(before)
    assert admin.verify_audit().ok
    client.close()


@pytest.mark.redis
def test_initialize_restores_a_half_deleted_keyspace_and_chains_the_audit(
    redis_client: redis.Redis, redis_store: RedisFeatureFlagStore
) -> None:
    admin = FeatureFlagAdmin(redis_store)
    admin.create_flag(Flag(key="a", enabled=True), actor="ops", reason="new")
    client = FeatureFlagClient(redis_store, background=False)
    document = client.export_snapshot()
    records = len(redis_store.audit_records())
    redis_client.delete(redis_store.keys.flags)  # meta still records one flag
    assert redis_store.read() is None
    assert client.refresh() is False
    with pytest.raises(StoreUnavailableError):
        admin.toggle_flag("a", False, actor="ops", reason="refused")
    admin.initialize(actor="ops", reason="restore", document=document)
    assert client.refresh()
    assert client.is_enabled("a", USER)
    log = admin.audit_log()
    assert [r.seq for r in log] == list(range(1, records + 2))
    assert log[-1].action == "store.initialize"
    assert admin.verify_audit().ok
    client.close()


# ---------------------------------------------------------------- 4. audit truncation


@pytest.mark.redis
def test_verify_audit_detects_records_removed_from_the_end(
    redis_client: redis.Redis, redis_store: RedisFeatureFlagStore
) -> None:
    admin = FeatureFlagAdmin(redis_store)
    admin.create_flag(Flag(key="a"), actor="ops", reason="new")
    admin.toggle_flag("a", True, actor="mallory", reason="enable quietly")
    assert admin.verify_audit().ok
    redis_client.rpop(redis_store.keys.audit)
    verdict = admin.verify_audit()
    assert (verdict.ok, verdict.problem) == (False, "truncated")
    redis_client.delete(redis_store.keys.audit)
    assert admin.verify_audit().problem == "truncated"


def test_a_replaced_last_record_is_a_head_mismatch() -> None:
    store = InMemoryFeatureFlagStore()
    admin = FeatureFlagAdmin(store)
    admin.create_flag(Flag(key="a"), actor="ops", reason="new")
    state = store.read()
    assert state is not None
    store._audit_head = "0" * 64
    verdict = admin.verify_audit()
    assert (verdict.ok, verdict.problem, verdict.first_bad_seq) == (False, "head mismatch", 1)


def test_memory_wipe_drops_the_audit_as_redis_does_and_initialize_chains_onto_a_kept_log() -> None:
    store = InMemoryFeatureFlagStore()
    admin = FeatureFlagAdmin(store)
    admin.create_flag(Flag(key="x"), actor="ops", reason="new")
    store.wipe()
    assert store.audit_records() == []
    admin.initialize(actor="ops", reason="restore")
    assert admin.verify_audit().ok
    admin.create_flag(Flag(key="y"), actor="ops", reason="new")
    store.wipe(keep_audit=True)
    admin.initialize(actor="ops", reason="restore")
    assert [r.seq for r in admin.audit_log()] == [1, 2, 3]
    assert admin.verify_audit().ok


# ---------------------------------------------------------------- 5. unreadable documents


def _unreadable_flag(store: FeatureFlagStore) -> str:
    raw = json.dumps(
        {
            "key": "mv",
            "kind": "string",
            "enabled": True,
            "variants": {"a": "A", "b": "B"},
            "default_variant": "a",
            "off_variant": "a",
            "field_from_v2": 1,
            "version": 7,
        }
    )
    _raw_write(store, Write("flags", "mv", raw))
    return raw


def test_toggling_or_archiving_an_unreadable_flag_is_refused_and_update_replaces_it() -> None:
    store = InMemoryFeatureFlagStore()
    admin = FeatureFlagAdmin(store)
    raw = _unreadable_flag(store)
    with pytest.raises(ConflictError, match="update_flag"):
        admin.toggle_flag("mv", True, actor="ops", reason="re-enable")
    with pytest.raises(ConflictError, match="update_flag"):
        admin.archive_flag("mv", actor="ops", reason="retire")
    state = store.read()
    assert state is not None
    assert state.flags["mv"] == raw
    with pytest.raises(ConflictError):
        admin.update_flag(Flag(key="mv"), expected_version=6, actor="ops", reason="stale")
    new = admin.update_flag(Flag(key="mv"), expected_version=7, actor="ops", reason="repair")
    assert new.version == 8
    before = admin.audit_log()[-1].before
    assert before is not None
    assert (before["unreadable"], before["length"]) == (True, len(raw))
    assert "field_from_v2" not in json.dumps(before)


def test_archiving_an_unreadable_segment_is_refused() -> None:
    store = InMemoryFeatureFlagStore()
    admin = FeatureFlagAdmin(store)
    _raw_write(store, Write("segments", "s", '{"key": "s", "from_v2": 1}'))
    with pytest.raises(ConflictError, match="update_segment"):
        admin.archive_segment("s", actor="ops", reason="retire")
    assert (
        admin.update_segment(Segment(key="s"), expected_version=0, actor="o", reason="r").key == "s"
    )
    admin.delete_segment("s", actor="ops", reason="cleanup")


# ---------------------------------------------------------------- 6. prerequisite depth


def test_a_write_that_deepens_another_flags_chain_past_the_limit_is_refused() -> None:
    admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
    count = MAX_PREREQUISITE_DEPTH + 1  # f0 -> ... -> f10: f0 is exactly at the limit
    for i in reversed(range(count)):
        requires = [Prerequisite(key=f"f{i + 1}")] if i < count - 1 else []
        admin.create_flag(Flag(key=f"f{i}", prerequisites=requires), actor="o", reason="r")
    admin.create_flag(Flag(key="leaf"), actor="ops", reason="new")
    bottom = admin.get_flag(f"f{count - 1}")
    deeper = bottom.model_copy(update={"prerequisites": [Prerequisite(key="leaf")]})
    with pytest.raises(InvalidInputError) as caught:
        admin.update_flag(deeper, expected_version=bottom.version, actor="ops", reason="r")
    assert caught.value.field == "prerequisites"
    assert "f0" in caught.value.rule
    assert admin.get_flag(f"f{count - 1}").prerequisites == []


# ---------------------------------------------------------------- 11. corrupt settings, schedules


def test_a_corrupt_schedule_is_skipped_and_the_others_still_run() -> None:
    clock = FakeClock()
    store = InMemoryFeatureFlagStore()
    admin = FeatureFlagAdmin(store, clock=clock)
    admin.create_flag(Flag(key="f"), actor="ops", reason="new")
    admin.schedule_change("f", clock.now(), enabled=True, actor="ops", reason="go")
    _raw_write(store, Write("schedules", "broken", "{bad"), Write("settings", "kill_switch", "{"))
    with capture_logs() as logs:
        assert [c.flag_key for c in admin.list_schedules()] == ["f"]
        assert [c.status for c in admin.run_due_schedules()] == ["applied"]
    assert admin.get_flag("f").enabled
    assert any(e.get("key") == "broken" for e in logs)
    assert all("{bad" not in json.dumps(e, default=str) for e in logs)
    with pytest.raises(ConflictError, match="delete_schedule"):
        admin.cancel_schedule("broken", actor="ops", reason="r")
    admin.delete_schedule("broken", actor="ops", reason="remove corrupt document")
    assert admin.kill_switch_engaged() is False
    admin.set_kill_switch(True, actor="ops", reason="repair and engage")
    assert admin.kill_switch_engaged() is True


def test_finished_schedules_are_pruned_after_the_retention_and_audit_records_stay() -> None:
    clock = FakeClock()
    admin = FeatureFlagAdmin(InMemoryFeatureFlagStore(), clock=clock)
    admin.create_flag(Flag(key="f"), actor="ops", reason="new")
    applied = admin.schedule_change("f", clock.now(), enabled=True, actor="o", reason="r")
    later = admin.schedule_change(
        "f", clock.now() + timedelta(days=400), enabled=False, actor="o", reason="r"
    )
    admin.run_due_schedules()
    assert admin.prune_schedules(older_than=timedelta(days=30)) == 0
    clock.advance(timedelta(days=31).total_seconds())
    assert admin.prune_schedules(older_than=timedelta(days=30)) == 1
    assert [c.id for c in admin.list_schedules(include_done=True)] == [later.id]
    actions = [r.action for r in admin.audit_log()]
    assert "schedule.apply" in actions
    assert actions[-1] == "schedule.prune"
    assert admin.audit_log()[-1].after == {"removed": [applied.id]}


# ---------------------------------------------------------------- 12. If-Match on archive/delete


def test_archive_and_delete_honour_expected_version() -> None:
    admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
    admin.create_flag(Flag(key="f"), actor="ops", reason="new")
    admin.create_segment(Segment(key="s"), actor="ops", reason="new")
    with pytest.raises(ConflictError):
        admin.archive_flag("f", expected_version=2, actor="ops", reason="stale")
    with pytest.raises(ConflictError):
        admin.delete_flag("f", expected_version=2, actor="ops", reason="stale")
    with pytest.raises(ConflictError):
        admin.archive_segment("s", expected_version=2, actor="ops", reason="stale")
    with pytest.raises(ConflictError):
        admin.delete_segment("s", expected_version=2, actor="ops", reason="stale")
    assert admin.archive_flag("f", expected_version=1, actor="ops", reason="r").version == 2
    admin.delete_flag("f", expected_version=2, actor="ops", reason="r")
    admin.delete_segment("s", expected_version=1, actor="ops", reason="r")
    with pytest.raises(ConflictError):
        admin.delete_flag("f", expected_version=2, actor="ops", reason="already gone")


# ---------------------------------------------------------------- audit holds no context keys


def test_audit_records_hold_keyed_hashes_not_context_keys(store: FeatureFlagStore) -> None:
    admin = FeatureFlagAdmin(store)
    admin.create_segment(
        Segment(key="s", included=["patient-1"], excluded=["patient-2"]), actor="o", reason="r"
    )
    admin.create_flag(
        Flag(key="f", targets=[Target(variant="on", values=["patient-3"])]), actor="o", reason="r"
    )
    admin.create_flag(
        Flag(key="g", targets=[Target(variant="on", values=["patient-3"])]), actor="o", reason="r"
    )
    text = "\n".join(store.audit_records())
    assert "patient-" not in text
    records = admin.audit_log()
    after_f, after_g = records[-2].after, records[-1].after
    assert after_f is not None
    assert after_g is not None
    assert after_f["targets"][0]["values"]["count"] == 1
    assert after_f["targets"] == after_g["targets"]  # one keyspace, one key: comparable
    assert admin.verify_audit().ok


# ---------------------------------------------------------------- sync: late reads, clock, close


class GatedStore:
    """Delegates to a store; the first read after ``arm()`` waits until ``release`` is set."""

    def __init__(self, inner: InMemoryFeatureFlagStore) -> None:
        self.inner = inner
        self.armed = False
        self.read_done = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def read(self) -> StoreState | None:
        state = self.inner.read()
        if self.armed:
            self.armed = False
            self.read_done.set()
            self.release.wait(10)
        return state


def test_a_late_read_from_an_old_epoch_never_replaces_newer_data() -> None:
    inner = InMemoryFeatureFlagStore()
    admin = FeatureFlagAdmin(inner)
    admin.create_flag(Flag(key="beta", enabled=False), actor="ops", reason="new")
    gated = GatedStore(inner)
    client = FeatureFlagClient(gated, background=False)  # type: ignore[arg-type]
    gated.armed = True
    slow = threading.Thread(target=client.refresh)
    slow.start()
    assert gated.read_done.wait(10)  # the slow refresh holds a read of the old epoch
    document = json.dumps({"version": 1, "flags": {"beta": {"key": "beta", "enabled": True}}})
    inner.wipe()
    admin.initialize(actor="ops", reason="restore", document=document)
    assert client.refresh()
    new_epoch = client._snapshot.epoch
    gated.release.set()
    slow.join(10)
    assert client._snapshot.epoch == new_epoch
    assert client.is_enabled("beta", USER)
    client.close()


class DeafMemoryStore:
    """An in-memory store whose change feed never delivers: only the poll can."""

    def __init__(self, inner: InMemoryFeatureFlagStore) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def watch(self) -> object:
        feed = self.inner.watch()

        class Deaf:
            def next(self, timeout: float) -> None:
                feed.next(timeout)

            def close(self) -> None:
                feed.close()

        return Deaf()


def test_the_poll_is_paced_by_the_injected_clock() -> None:
    inner = InMemoryFeatureFlagStore()
    admin = FeatureFlagAdmin(inner)
    admin.create_flag(Flag(key="beta", enabled=False), actor="ops", reason="new")
    clock = FakeClock()
    changed = threading.Event()
    deaf = DeafMemoryStore(inner)
    client = FeatureFlagClient(deaf, clock=clock, poll_interval=3600)  # type: ignore[arg-type]
    client.add_listener(lambda event: changed.set())
    admin.toggle_flag("beta", True, actor="ops", reason="launch")
    clock.advance(3600)
    assert changed.wait(10)
    assert client.is_enabled("beta", USER)
    client.close()


@pytest.mark.redis
def test_close_is_quiet(redis_store: RedisFeatureFlagStore) -> None:
    with capture_logs() as logs:
        client = FeatureFlagClient(redis_store, poll_interval=3600)
        assert client._sync.wait_for(lambda s: s._feed is not None and s.healthy, timeout=10)
        client.close()
    assert [e for e in logs if e["log_level"] in ("warning", "error")] == []
    assert client._sync._thread is None
