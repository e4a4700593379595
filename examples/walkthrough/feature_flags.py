"""uh-feature-flags: a flag created, evaluated, ramped up, then swapped in one change set."""

from __future__ import annotations

from collections.abc import Callable

from unified_health.feature_flags import (
    ChangeSet,
    FeatureFlagAdmin,
    FeatureFlagClient,
    Flag,
    InMemoryFeatureFlagStore,
    Rollout,
)

USERS = ["patient-001", "patient-002", "patient-003", "patient-004", "patient-005"]


def run(say: Callable[[str], None]) -> None:
    """Create a flag in an in-memory store and show how a client sees each change."""
    store = InMemoryFeatureFlagStore()
    admin = FeatureFlagAdmin(store)
    flag = admin.create_flag(
        Flag(key="video-visits", enabled=True, rollout=Rollout(percentage=40)),
        actor="ops@example.org",
        reason="staged launch",
    )
    with FeatureFlagClient(store, background=False) as flags:

        def show(label: str) -> None:
            flags.refresh()  # a background client picks changes up by itself within milliseconds
            on = [user for user in USERS if flags.is_enabled("video-visits", {"user_id": user})]
            say(f"{label}: video-visits is on for {len(on)} of {len(USERS)} users {on}")

        show("rollout 40%")
        result = flags.evaluate("video-visits", {"user_id": USERS[0]})
        say(f"why for {USERS[0]}: value={result.value} reason={result.reason}")
        flag = admin.update_flag(
            flag.model_copy(update={"rollout": Rollout(percentage=100)}),
            expected_version=flag.version,
            actor="ops@example.org",
            reason="full launch",
        )
        show("rollout 100%")
        # Two flags change together: one commit, so no reader sees one without the other.
        incident = (
            ChangeSet()
            .toggle_flag("video-visits", False, expected_version=flag.version)
            .put_flag(Flag(key="phone-visits", enabled=True), expected_version=0)
        )
        committed = admin.apply_change_set(incident, actor="ops@example.org", reason="incident")
        show(f"change set (store version {committed.version})")
        phone = flags.is_enabled("phone-visits", {"user_id": USERS[0]})
        say(f"phone-visits for {USERS[0]}: {phone}")
        say(f"audit trail: {len(admin.audit_log())} records")
