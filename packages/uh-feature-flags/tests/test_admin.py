"""The admin API: validated writes, optimistic concurrency, audit chain, references."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from unified_health.feature_flags import (
    ConflictError,
    FeatureFlagAdmin,
    FeatureFlagStore,
    Flag,
    InvalidInputError,
    NotFoundError,
    Segment,
)
from unified_health.feature_flags.testing import FakeClock, condition, flag, segment


def test_create_get_list_and_versions(admin: FeatureFlagAdmin, clock: FakeClock) -> None:
    created = admin.create_flag(Flag(key="beta", enabled=True, version=99), actor="ops", reason="r")
    assert created.version == 1
    assert created.created_at == created.updated_at == clock.now()
    assert admin.get_flag("beta") == created
    assert admin.flag_exists("beta")
    assert [f.key for f in admin.list_flags()] == ["beta"]


def test_create_from_a_mapping_validates_and_names_the_field(admin: FeatureFlagAdmin) -> None:
    bad: dict[str, Any] = {"key": "f", "rollout": {"variants": [{"variant": "on", "weight": 40}]}}
    records = len(admin.audit_log())
    with pytest.raises(InvalidInputError) as caught:
        admin.create_flag(bad, actor="ops", reason="r")
    assert caught.value.field == "rollout.variants"
    assert not admin.flag_exists("f")
    assert len(admin.audit_log()) == records


def test_a_duplicate_key_is_a_conflict(admin: FeatureFlagAdmin) -> None:
    admin.create_flag(Flag(key="beta"), actor="ops", reason="r")
    with pytest.raises(ConflictError):
        admin.create_flag(Flag(key="beta"), actor="ops", reason="again")


def test_a_stale_expected_version_is_a_conflict(admin: FeatureFlagAdmin) -> None:
    admin.create_flag(Flag(key="beta"), actor="ops", reason="r")
    updated = admin.update_flag(
        Flag(key="beta", enabled=True), expected_version=1, actor="ops", reason="on"
    )
    assert updated.version == 2
    with pytest.raises(ConflictError):
        admin.update_flag(Flag(key="beta"), expected_version=1, actor="eve", reason="stale tab")
    with pytest.raises(ConflictError):
        admin.toggle_flag("beta", False, expected_version=1, actor="eve", reason="stale tab")
    assert admin.get_flag("beta").enabled is True
    assert (
        admin.toggle_flag("beta", False, expected_version=2, actor="ops", reason="r").version == 3
    )


def test_missing_flags_raise_not_found(admin: FeatureFlagAdmin) -> None:
    with pytest.raises(NotFoundError):
        admin.get_flag("nope")
    with pytest.raises(NotFoundError):
        admin.toggle_flag("nope", True, actor="ops", reason="r")
    admin.delete_flag("nope", actor="ops", reason="idempotent")


def test_prerequisites_must_exist_and_never_form_a_cycle(admin: FeatureFlagAdmin) -> None:
    with pytest.raises(InvalidInputError) as caught:
        admin.create_flag(flag("b").requires("a").build(), actor="ops", reason="r")
    assert caught.value.field == "prerequisites.0.key"
    admin.create_flag(flag("a").build(), actor="ops", reason="r")
    admin.create_flag(flag("b").requires("a").build(), actor="ops", reason="r")
    with pytest.raises(InvalidInputError) as caught:
        admin.update_flag(
            flag("a").requires("b").build(), expected_version=1, actor="o", reason="r"
        )
    assert caught.value.field == "prerequisites"
    with pytest.raises(InvalidInputError):
        admin.delete_flag("a", actor="ops", reason="still required")
    with pytest.raises(InvalidInputError):
        admin.archive_flag("a", actor="ops", reason="still required")
    assert admin.get_flag("a").version == 1


def test_prerequisite_variants_must_exist(admin: FeatureFlagAdmin) -> None:
    admin.create_flag(flag("a").build(), actor="ops", reason="r")
    with pytest.raises(InvalidInputError) as caught:
        admin.create_flag(flag("b").requires("a", "purple").build(), actor="ops", reason="r")
    assert caught.value.field == "prerequisites.0.variants.0"


def test_segments_lifecycle_and_references(admin: FeatureFlagAdmin) -> None:
    with pytest.raises(InvalidInputError) as caught:
        admin.create_flag(
            flag("f").rule("r", condition("key", "in_segment", "pilot"), variant="on").build(),
            actor="ops",
            reason="r",
        )
    assert caught.value.field == "rules.0.conditions.0.values.0"
    created = admin.create_segment(segment("pilot", included=["u1"]), actor="ops", reason="r")
    assert created.version == 1
    admin.create_flag(
        flag("f").rule("r", condition("key", "in_segment", "pilot"), variant="on").build(),
        actor="ops",
        reason="r",
    )
    updated = admin.update_segment(
        Segment(key="pilot", included=["u1", "u2"]), expected_version=1, actor="ops", reason="r"
    )
    assert updated.included == ["u1", "u2"]
    with pytest.raises(ConflictError):
        admin.update_segment(Segment(key="pilot"), expected_version=1, actor="ops", reason="r")
    with pytest.raises(InvalidInputError):
        admin.delete_segment("pilot", actor="ops", reason="in use")
    with pytest.raises(InvalidInputError):
        admin.archive_segment("pilot", actor="ops", reason="in use")
    admin.delete_flag("f", actor="ops", reason="r")
    assert admin.archive_segment("pilot", actor="ops", reason="r").archived
    admin.delete_segment("pilot", actor="ops", reason="r")
    with pytest.raises(NotFoundError):
        admin.get_segment("pilot")
    assert admin.list_segments() == []


def test_every_mutation_writes_one_chained_audit_record(
    admin: FeatureFlagAdmin, store: FeatureFlagStore
) -> None:
    admin.create_flag(Flag(key="beta"), actor="alice", reason="new")
    admin.toggle_flag("beta", True, actor="bob", reason="launch")
    admin.set_kill_switch(True, actor="carol", reason="incident")
    admin.set_kill_switch(True, actor="carol", reason="no-op writes nothing")
    admin.delete_flag("beta", actor="dave", reason="cleanup")
    records = admin.audit_log()
    assert [(r.seq, r.actor, r.action) for r in records[-4:]] == [
        (records[-4].seq, "alice", "flag.create"),
        (records[-4].seq + 1, "bob", "flag.toggle"),
        (records[-4].seq + 2, "carol", "settings.kill_switch"),
        (records[-4].seq + 3, "dave", "flag.delete"),
    ]
    toggle = records[-3]
    assert toggle.before is not None
    assert toggle.before["enabled"] is False
    assert toggle.after is not None
    assert toggle.after["enabled"] is True
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))
    assert admin.verify_audit().ok


def test_the_verifier_finds_a_tampered_record() -> None:
    from unified_health.feature_flags import InMemoryFeatureFlagStore

    store = InMemoryFeatureFlagStore()
    admin = FeatureFlagAdmin(store)
    admin.create_flag(Flag(key="beta"), actor="alice", reason="new")
    admin.toggle_flag("beta", True, actor="bob", reason="launch")
    admin.toggle_flag("beta", False, actor="bob", reason="rollback")
    record = json.loads(store._audit[1])
    record["actor"] = "mallory"
    store._audit[1] = json.dumps(record)
    verdict = admin.verify_audit()
    assert (verdict.ok, verdict.first_bad_seq, verdict.problem) == (False, 2, "hash mismatch")
    del store._audit[1]
    assert admin.verify_audit().problem == "sequence gap"


def test_actor_and_reason_are_required(admin: FeatureFlagAdmin) -> None:
    with pytest.raises(InvalidInputError) as caught:
        admin.create_flag(Flag(key="beta"), actor="", reason="r")
    assert caught.value.field == "actor"
    with pytest.raises(InvalidInputError) as caught:
        admin.create_flag(Flag(key="beta"), actor="ops", reason="")
    assert caught.value.field == "reason"


def test_kill_switch_state_is_readable(admin: FeatureFlagAdmin) -> None:
    assert admin.kill_switch_engaged() is False
    admin.set_kill_switch(True, actor="oncall", reason="incident")
    assert admin.kill_switch_engaged() is True


def test_json_schemas_are_exported() -> None:
    schemas = FeatureFlagAdmin.json_schemas()
    assert schemas["Flag"]["title"] == "Flag"
    assert "included" in schemas["Segment"]["properties"]


def test_initialize_restores_from_an_exported_snapshot(admin: FeatureFlagAdmin) -> None:
    from unified_health.feature_flags import FeatureFlagClient, InMemoryFeatureFlagStore

    admin.create_segment(segment("pilot", included=["u1"]), actor="ops", reason="r")
    admin.create_flag(
        flag("f").rule("r", condition("key", "in_segment", "pilot"), variant="on").build(),
        actor="ops",
        reason="r",
    )
    source = FeatureFlagClient(admin._store, background=False)
    document = source.export_snapshot()
    source.close()
    fresh = InMemoryFeatureFlagStore(initialized=False)
    restored = FeatureFlagAdmin(fresh)
    restored.initialize(actor="ops", reason="restore", document=document)
    assert restored.get_flag("f").rules[0].id == "r"
    with pytest.raises(ConflictError):
        restored.initialize(actor="ops", reason="twice")
    with FeatureFlagClient(fresh, background=False) as client:
        assert client.is_enabled("f", {"user_id": "u1"})
