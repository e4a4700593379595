"""Scheduled changes and ramps apply exactly once, even with many schedulers racing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from unified_health.feature_flags import (
    FeatureFlagAdmin,
    FeatureFlagStore,
    Flag,
    InvalidInputError,
    NotFoundError,
)
from unified_health.feature_flags.testing import FakeClock, flag

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def hours(n: float) -> datetime:
    return START + timedelta(hours=n)


def test_a_ramp_applies_each_step_when_due(admin: FeatureFlagAdmin) -> None:
    admin.create_flag(flag("ramp").rollout(0).build(), actor="ops", reason="r")
    steps = [(hours(1), 1.0), (hours(2), 5.0), (hours(3), 25.0), (hours(4), 100.0)]
    created = admin.schedule_ramp("ramp", steps, actor="ops", reason="staged launch")
    assert len({c.ramp_id for c in created}) == 1
    assert admin.run_due_schedules(now=hours(0.5)) == []
    applied = admin.run_due_schedules(now=hours(2.5))
    assert [c.percentage for c in applied] == [1.0, 5.0]
    rollout = admin.get_flag("ramp").rollout
    assert rollout is not None
    assert rollout.percentage == 5.0
    assert admin.run_due_schedules(now=hours(2.5)) == []  # exactly once
    admin.run_due_schedules(now=hours(10))
    rollout = admin.get_flag("ramp").rollout
    assert rollout is not None
    assert rollout.percentage == 100.0
    assert admin.list_schedules() == []
    assert {c.status for c in admin.list_schedules(include_done=True)} == {"applied"}
    # Each run is one change set: one commit and one audit record naming every step it applied.
    applies = [r for r in admin.audit_log() if r.action == "schedule.apply"]
    assert len(applies) == 2
    assert applies[0].after is not None
    assert [s["id"] for s in applies[0].after["schedules"]] == [c.id for c in created[:2]]
    assert [c["key"] for c in applies[0].after["changes"]] == ["ramp"]
    assert all(r.actor == "scheduler" for r in admin.audit_log() if r.action == "schedule.apply")


def test_racing_schedulers_apply_a_change_exactly_once(
    store: FeatureFlagStore, clock: FakeClock
) -> None:
    admin = FeatureFlagAdmin(store, clock=clock, max_attempts=50)
    admin.create_flag(Flag(key="beta"), actor="ops", reason="r")
    admin.schedule_change("beta", hours(1), enabled=True, actor="ops", reason="launch at nine")
    results: list[int] = []
    barrier = threading.Barrier(6)

    def run() -> None:
        worker = FeatureFlagAdmin(store, clock=clock, max_attempts=50)
        barrier.wait()
        results.append(len(worker.run_due_schedules(now=hours(2))))

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 1
    assert admin.get_flag("beta").enabled is True
    assert admin.get_flag("beta").version == 2
    assert admin.verify_audit().ok


def test_invalid_ramps_are_refused(admin: FeatureFlagAdmin) -> None:
    admin.create_flag(Flag(key="ramp"), actor="ops", reason="r")
    naive = datetime(2026, 3, 1)  # naive: the point of the test
    cases: list[tuple[list[tuple[datetime, float | None]], str]] = [
        ([(hours(2), 5.0), (hours(1), 10.0)], "steps.1.at"),
        ([(hours(1), 50.0), (hours(2), 10.0)], "steps.1.percentage"),
        ([(naive, 5.0)], "steps.0.at"),
        ([(hours(1), None)], "steps.0"),
        ([(hours(1), 150.0)], "percentage"),
        ([], "steps"),
    ]
    for steps, field in cases:
        with pytest.raises(InvalidInputError) as caught:
            admin.schedule_ramp("ramp", steps, actor="ops", reason="r")
        assert caught.value.field == field
    with pytest.raises(NotFoundError):
        admin.schedule_change("missing", hours(1), enabled=True, actor="ops", reason="r")


def test_cancelled_and_orphaned_changes_are_not_applied(admin: FeatureFlagAdmin) -> None:
    admin.create_flag(Flag(key="a"), actor="ops", reason="r")
    admin.create_flag(Flag(key="b"), actor="ops", reason="r")
    first = admin.schedule_change("a", hours(1), enabled=True, actor="ops", reason="r")
    admin.schedule_change("b", hours(1), enabled=True, actor="ops", reason="r")
    admin.cancel_schedule(first.id, actor="ops", reason="changed our mind")
    with pytest.raises(NotFoundError):
        admin.cancel_schedule(first.id, actor="ops", reason="twice")
    admin.delete_flag("b", actor="ops", reason="gone")
    done = admin.run_due_schedules(now=hours(2))
    assert [c.status for c in done] == ["skipped"]
    assert admin.get_flag("a").enabled is False


def test_the_stale_flag_report(admin: FeatureFlagAdmin, clock: FakeClock) -> None:
    admin.create_flag(
        Flag(key="expired", expires_at=clock.now() + timedelta(days=1), temporary=False),
        actor="ops",
        reason="r",
    )
    admin.create_flag(Flag(key="done", enabled=True, owner="team-a"), actor="ops", reason="r")
    admin.create_flag(flag("ramping").rollout(50).build(), actor="ops", reason="r")
    admin.create_flag(Flag(key="permanent", enabled=True, temporary=False), actor="ops", reason="r")
    assert [s.key for s in admin.stale_flag_report()] == ["done"]
    report = {s.key: s for s in admin.stale_flag_report(now=clock.now() + timedelta(days=40))}
    assert report["expired"].reasons == ["expired"]
    assert report["done"].reasons == ["unchanged", "fully_rolled_out"]
    assert report["done"].owner == "team-a"
    assert report["ramping"].reasons == ["unchanged"]
    assert "permanent" not in report
