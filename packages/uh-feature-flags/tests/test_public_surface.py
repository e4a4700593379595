"""Composition, not mixins: the admin and the client own their parts; only the documented API
is public on them."""

from __future__ import annotations

import inspect

import pytest

from unified_health.feature_flags import (
    FeatureFlagAdmin,
    FeatureFlagClient,
    InMemoryFeatureFlagStore,
)

ADMIN_API = {
    "apply_change_set",
    "archive_flag",
    "archive_segment",
    "audit_log",
    "cancel_schedule",
    "change_set",
    "close",
    "create_flag",
    "create_segment",
    "delete_flag",
    "delete_schedule",
    "delete_segment",
    "flag_exists",
    "from_env",
    "from_url",
    "get_flag",
    "get_segment",
    "initialize",
    "json_schemas",
    "kill_switch_engaged",
    "list_flags",
    "list_schedules",
    "list_segments",
    "prune_schedules",
    "run_due_schedules",
    "schedule_change",
    "schedule_ramp",
    "seed",
    "set_kill_switch",
    "stale_flag_report",
    "toggle_flag",
    "update_flag",
    "update_segment",
    "verify_audit",
}
CLIENT_API = {
    "add_listener",
    "add_status_listener",
    "close",
    "evaluate",
    "evaluate_all",
    "export_snapshot",
    "from_env",
    "from_url",
    "get_value",
    "get_variant",
    "is_enabled",
    "ready",
    "refresh",
    "snapshot_version",
    "status",
    "sync_metrics",
    "wait_ready",
}


def _public(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


@pytest.mark.parametrize(
    ("cls", "api"), [(FeatureFlagAdmin, ADMIN_API), (FeatureFlagClient, CLIENT_API)]
)
def test_only_the_documented_api_is_public(cls: type, api: set[str]) -> None:
    assert _public(cls) == api
    assert cls.__mro__ == (cls, object)  # no base classes, let alone a diamond
    for name in api:
        assert inspect.getdoc(getattr(cls, name)), f"{cls.__name__}.{name} has no docstring"


def test_internal_write_machinery_is_not_reachable_on_the_admin() -> None:
    admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
    for name in ("mutate", "view", "now", "delete_document", "replace_document"):
        assert not hasattr(admin, name)
