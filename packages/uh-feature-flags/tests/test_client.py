"""The client's failure policy, readiness, listeners, bootstrap and snapshot swaps."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from unified_health.feature_flags import (
    ClientStatus,
    ErrorCode,
    FeatureFlagAdmin,
    FeatureFlagClient,
    Flag,
    FlagChangeEvent,
    InMemoryFeatureFlagStore,
    InvalidInputError,
    Reason,
    Rollout,
)
from unified_health.feature_flags.testing import FakeClock, capture_logs, flag

USER = {"user_id": "user-1"}


def _broken_listener(event: FlagChangeEvent) -> None:
    raise ZeroDivisionError(event.version)


def test_a_client_on_a_store_that_is_down_serves_defaults_not_ready(flaky: Any) -> None:
    flaky.down = True
    with capture_logs() as logs, FeatureFlagClient(flaky, background=False) as client:
        assert not client.ready()
        result = client.evaluate("beta", USER, default=True)
        assert (result.value, result.reason, result.error_code) == (
            True,
            Reason.ERROR,
            ErrorCode.PROVIDER_NOT_READY,
        )
        assert client.is_enabled("beta", USER, default=True) is True
        assert client.wait_ready(0) is False
    assert [e["event"] for e in logs].count("store_sync_failed") == 1


def test_bootstrap_from_a_file_serves_until_the_store_answers(flaky: Any, tmp_path: Path) -> None:
    admin = FeatureFlagAdmin(flaky.inner)
    admin.create_flag(Flag(key="beta", enabled=True), actor="ops", reason="new")
    with FeatureFlagClient(flaky.inner, background=False) as source:
        path = tmp_path / "flags.json"
        path.write_text(source.export_snapshot())
    admin.toggle_flag("beta", False, actor="ops", reason="changed since the export")
    flaky.down = True
    with FeatureFlagClient(flaky, bootstrap=path, background=False) as client:
        assert client.is_enabled("beta", USER)
        flaky.down = False
        assert client.refresh()
        assert client.ready()
        assert not client.is_enabled("beta", USER)


def test_an_invalid_bootstrap_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        FeatureFlagClient(bootstrap="not json", background=False)


def test_the_last_snapshot_is_served_through_an_outage_and_goes_stale(flaky: Any) -> None:
    clock = FakeClock()
    admin = FeatureFlagAdmin(flaky.inner)
    admin.create_flag(
        Flag(key="ramp", enabled=True, rollout=Rollout(percentage=30)), actor="ops", reason="r"
    )
    with FeatureFlagClient(flaky, clock=clock, stale_after=120, background=False) as client:
        users = [{"user_id": f"u{i}"} for i in range(300)]
        before = [client.evaluate("ramp", u) for u in users]
        flaky.down = True
        with capture_logs() as logs:
            for _ in range(5):
                assert client.refresh() is False
        assert [e["event"] for e in logs] == ["store_sync_failed", "status_changed"]
        assert client.status is ClientStatus.DISCONNECTED
        metrics = client.sync_metrics()
        assert (metrics.connected, metrics.outages, metrics.recoveries) == (False, 1, 0)
        clock.advance(119)
        assert [client.evaluate("ramp", u) for u in users] == before
        clock.advance(1)
        stale = [client.evaluate("ramp", u) for u in users]
        assert [r.value for r in stale] == [r.value for r in before]
        assert {r.reason for r in stale} == {Reason.STALE}
        flaky.down = False
        with capture_logs() as logs:
            assert client.refresh()
        assert [e["event"] for e in logs] == ["store_recovered", "status_changed"]
        assert logs[0]["outage_ms"] == 120_000  # measured on the injected clock
        assert client.evaluate("ramp", users[0]).reason is not Reason.STALE
        assert client.status.value == "READY"  # (mypy narrowed the property above)
        metrics = client.sync_metrics()
        assert (metrics.connected, metrics.recoveries, metrics.last_outage_seconds) == (
            True,
            1,
            120.0,
        )


def test_listeners_get_the_changed_keys_and_can_unsubscribe() -> None:
    store = InMemoryFeatureFlagStore()
    admin = FeatureFlagAdmin(store)
    admin.create_flag(flag("a").build(), actor="ops", reason="r")
    admin.create_flag(flag("b").requires("a").build(), actor="ops", reason="r")
    admin.create_flag(flag("c").build(), actor="ops", reason="r")
    with FeatureFlagClient(store, background=False) as client:
        events: list[FlagChangeEvent] = []
        unsubscribe = client.add_listener(events.append)
        client.add_listener(_broken_listener)  # a broken listener must not stop the others
        admin.toggle_flag("a", False, actor="ops", reason="r")
        with capture_logs() as logs:
            client.refresh()
        assert events[-1].changed_keys == frozenset({"a", "b"})  # b depends on a
        assert events[-1].version == client.snapshot_version
        assert "listener_failed" in [e["event"] for e in logs]
        unsubscribe()
        admin.toggle_flag("c", False, actor="ops", reason="r")
        client.refresh()
        assert len(events) == 1


def test_the_background_thread_applies_changes_without_help() -> None:
    store = InMemoryFeatureFlagStore()
    admin = FeatureFlagAdmin(store)
    admin.create_flag(flag("a").disabled().build(), actor="ops", reason="r")
    with FeatureFlagClient(store) as client:
        changed = threading.Event()
        client.add_listener(lambda event: changed.set())
        admin.toggle_flag("a", True, actor="ops", reason="r")
        assert changed.wait(5)
        assert client.is_enabled("a", USER)


def test_a_multi_flag_change_is_seen_all_or_nothing() -> None:
    from unified_health.feature_flags.stores import Commit, Write

    store = InMemoryFeatureFlagStore()
    keys = [f"f{i}" for i in range(20)]
    with FeatureFlagClient(store) as client:
        seen: list[set[bool]] = []
        stop = threading.Event()
        progress = threading.Event()

        def reader() -> None:
            while not stop.is_set():
                values = client.evaluate_all(USER)
                if values:
                    seen.append({values[k].value for k in keys})
                progress.set()

        thread = threading.Thread(target=reader)
        thread.start()
        for enabled in (True, False, True, False):
            state = store.read()
            assert state is not None
            writes = tuple(
                Write("flags", k, Flag(key=k, enabled=enabled).model_dump_json()) for k in keys
            )
            store.commit(Commit(state.epoch, state.version, writes))
            client.refresh()
            progress.clear()
            assert progress.wait(5)  # the reader has looked at least once more
        stop.set()
        thread.join()
    assert seen
    assert all(len(values) == 1 for values in seen)


def test_snapshot_version_only_grows() -> None:
    store = InMemoryFeatureFlagStore()
    admin = FeatureFlagAdmin(store)
    with FeatureFlagClient(store, background=False) as client:
        versions = [client.snapshot_version]
        for i in range(3):
            admin.create_flag(flag(f"f{i}").build(), actor="ops", reason="r")
            client.refresh()
            versions.append(client.snapshot_version)
    assert versions == sorted(set(versions))


def test_close_leaves_an_injected_store_usable() -> None:
    store = InMemoryFeatureFlagStore()
    client = FeatureFlagClient(store)
    client.close()
    client.close()
    assert store.read() is not None


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_workers_draw_different_reconnect_jitter() -> None:
    client = FeatureFlagClient(InMemoryFeatureFlagStore(), background=False)
    draws = []
    for _ in range(3):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: no pytest machinery from here on
            try:
                os.write(write, repr([client._sync._backoff.next() for _ in range(4)]).encode())
            finally:
                os._exit(0)
        os.close(write)
        draws.append(os.read(read, 4096))
        os.close(read)
        os.waitpid(pid, 0)
    assert len(set(draws)) == 3
    client.close()


def test_a_seeded_backoff_stays_reproducible() -> None:
    from unified_health.feature_flags._config import Backoff

    first, second = Backoff(seed=3), Backoff(seed=3)
    assert [first.next() for _ in range(5)] == [second.next() for _ in range(5)]


def test_status_listeners_hear_stale_and_ready_from_the_sync(flaky: Any) -> None:
    clock = FakeClock()
    with FeatureFlagClient(flaky, clock=clock, background=False, stale_after=30) as client:
        seen: list[ClientStatus] = []
        client.add_status_listener(seen.append)
        assert client.status is ClientStatus.READY
        flaky.down = True
        assert client.refresh() is False
        clock.advance(31)
        assert client.refresh() is False
        assert client.refresh() is False  # reported once per change
        flaky.down = False
        assert client.refresh() is True
        assert seen == [ClientStatus.DISCONNECTED, ClientStatus.STALE, ClientStatus.READY]


def test_a_client_without_data_is_not_ready(flaky: Any) -> None:
    flaky.down = True
    with FeatureFlagClient(flaky, background=False) as client:
        assert client.status is ClientStatus.NOT_READY


def test_get_value_takes_the_context_and_default_as_optional_like_the_others() -> None:
    client = FeatureFlagClient()
    assert client.get_value("missing") is None
    assert client.get_value("missing", default=5) == 5
    assert client.get_value("missing", {"user_id": "u"}, 5) == 5


def test_error_results_are_built_once_per_flag_and_code() -> None:
    store = InMemoryFeatureFlagStore()
    FeatureFlagAdmin(store).create_flag(
        flag("colour", kind="string").variants(a="a", b="b").default("a").off("b").build(),
        actor="ops",
        reason="r",
    )
    with FeatureFlagClient(store, background=False) as client:
        first = client.evaluate("nope")
        assert client.evaluate("nope") is first
        assert client.is_enabled("colour", USER, default=True) is True
        mismatch = client.evaluate("colour", USER, default=False)
        assert (mismatch.value, mismatch.error_code) == (False, ErrorCode.TYPE_MISMATCH)
        assert client._snapshot.errors[("colour", ErrorCode.TYPE_MISMATCH)].value is None
