"""The audit trail: verification finds real tampering in memory, in Redis and in PostgreSQL;
exports (JSON Lines with a manifest, FHIR AuditEvent) and the command line."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis

from unified_health.impersonation import (
    AuditAction,
    AuditEvent,
    AuditRecord,
    AuditTrail,
    ImpersonationService,
    InMemoryAuditLog,
    InvalidInputError,
    PostgresAuditLog,
    Principal,
    RedisAuditLog,
    StoreUnavailableError,
    verify_export,
)
from unified_health.impersonation._chain import GENESIS, chain_hash, verify_chain
from unified_health.impersonation._cli import main
from unified_health.impersonation.testing import FakeClock

KEY = b"k" * 32
AGENT = Principal(user_id="agent-7", role="support_agent", login_session_id="ls-7")
PATIENT = Principal(user_id="patient-42", role="patient")


def event(n: int) -> AuditEvent:
    return AuditEvent(
        action=AuditAction.START,
        outcome="success",
        at=datetime(2026, 1, 5, 9, 0, n % 60, tzinfo=UTC),
        actor_id=f"agent-{n}",
        target_id="patient-1",
        ticket_id="ZD-1",
        reason="Cannot see lab results",
    )


def chain(count: int) -> list[AuditRecord]:
    log = InMemoryAuditLog()
    return [log.append(event(n)) for n in range(count)]


def rechained(records: list[AuditRecord]) -> list[AuditRecord]:
    """What an attacker who can write the store does: recompute every hash."""
    out, prev = [], GENESIS
    for seq, record in enumerate(records, 1):
        fixed = AuditRecord(seq, prev, chain_hash(seq, prev, record.body), record.body)
        out.append(fixed)
        prev = fixed.hash
    return out


# ------------------------------------------------------------------ the chain itself


def test_an_intact_chain_verifies() -> None:
    report = verify_chain(chain(10), head_seq=10)
    assert (report.ok, report.checked, report.problem) == (True, 10, None)


def test_an_edited_record_is_tampered() -> None:
    records = chain(10)
    records[4] = dataclasses.replace(records[4], body=records[4].body.replace("agent-4", "x"))
    assert (verify_chain(records).problem, verify_chain(records).seq) == ("tampered", 5)


def test_an_edited_record_with_its_hash_recomputed_breaks_the_next_link() -> None:
    records = chain(10)
    body = records[4].body.replace("agent-4", "x")
    records[4] = dataclasses.replace(
        records[4], body=body, hash=chain_hash(5, records[3].hash, body)
    )
    report = verify_chain(records)
    assert (report.problem, report.seq) == ("tampered", 5)


def test_swapped_records_are_reordered() -> None:
    records = chain(10)
    records[3], records[4] = records[4], records[3]
    report = verify_chain(records)
    assert (report.problem, report.seq) == ("reordered", 5)


def test_a_missing_record_is_deleted() -> None:
    records = chain(10)
    del records[6]
    assert (verify_chain(records).problem, verify_chain(records).seq) == ("deleted", 7)


def test_a_forged_record_is_inserted() -> None:
    records = chain(10)
    forged = AuditRecord(6, records[4].hash, chain_hash(6, records[4].hash, "{}"), "{}")
    records.insert(5, forged)
    report = verify_chain(records)
    assert (report.problem, report.seq) == ("inserted", 6)


def test_a_truncated_tail_is_deleted_when_the_head_remembers() -> None:
    records = chain(10)
    assert verify_chain(records[:8], head_seq=10).problem == "deleted"
    assert verify_chain(records, head_seq=9).problem == "inserted"


def test_a_rewritten_chain_is_caught_by_the_signed_checkpoint() -> None:
    log = InMemoryAuditLog()
    trail = AuditTrail(log, signing_key=KEY, checkpoint_every=5, clock=FakeClock())
    for n in range(10):
        trail.record(event(n))
    assert trail.verify().checkpoints == 2
    records = list(log.records())
    records[2] = dataclasses.replace(records[2], body=records[2].body.replace("agent-2", "x"))
    forged = rechained(records)
    report = verify_chain(forged, log.checkpoints(), keys={"k1": KEY}, head_seq=10)
    assert (report.ok, report.problem, report.seq) == (False, "tampered", 5)


def test_a_forged_or_unknown_checkpoint_is_bad() -> None:
    log = InMemoryAuditLog()
    trail = AuditTrail(log, signing_key=KEY, checkpoint_every=3, clock=FakeClock())
    for n in range(3):
        trail.record(event(n))
    assert trail.verify(keys={"k1": b"x" * 32}).problem == "bad_checkpoint"
    assert trail.verify(keys={}).problem == "bad_checkpoint"
    assert AuditTrail(log).verify(keys={"k1": KEY}).ok


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"log": "redis://x"}, "log"),
        ({"signing_key": b"short"}, "signing_key"),
        ({"signing_key": "k" * 32}, "signing_key"),
        ({"key_id": "bad id"}, "key_id"),
        ({"checkpoint_every": 0}, "checkpoint_every"),
    ],
)
def test_bad_trail_settings_are_named(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        AuditTrail(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


# ------------------------------------------------------------------ real stores, really tampered


@pytest.fixture
def redis_trail(redis_client: redis.Redis, redis_prefix: str) -> AuditTrail:
    trail = AuditTrail(
        RedisAuditLog(redis_client, prefix=redis_prefix),
        signing_key=KEY,
        checkpoint_every=4,
        clock=FakeClock(),
    )
    for n in range(10):
        trail.record(event(n))
    return trail


def _stream(trail: AuditTrail) -> str:
    log = trail.log
    assert isinstance(log, RedisAuditLog)
    return log.stream_key


def test_redis_an_intact_stream_verifies(redis_trail: AuditTrail) -> None:
    report = redis_trail.verify()
    assert (report.ok, report.checked, report.checkpoints) == (True, 10, 2)


def test_redis_an_entry_rewritten_in_the_stream_is_tampered(
    redis_trail: AuditTrail, redis_client: redis.Redis
) -> None:
    stream = _stream(redis_trail)
    entries: list[tuple[bytes, dict[bytes, bytes]]] = redis_client.xrange(stream)  # type: ignore[assignment]
    redis_client.delete(stream)
    for entry_id, fields in entries:
        if entry_id == b"0-6":
            fields[b"b"] = fields[b"b"].replace(b"agent-5", b"agent-9")
        redis_client.xadd(stream, dict(fields), id=entry_id)  # type: ignore[arg-type]
    report = redis_trail.verify()
    assert (report.ok, report.problem, report.seq) == (False, "tampered", 6)


def test_redis_an_entry_removed_with_xdel_is_deleted(
    redis_trail: AuditTrail, redis_client: redis.Redis
) -> None:
    redis_client.xdel(_stream(redis_trail), "0-3")
    report = redis_trail.verify()
    assert (report.problem, report.seq) == ("deleted", 3)


def test_redis_a_rewritten_and_rechained_stream_is_caught_by_checkpoints(
    redis_trail: AuditTrail, redis_client: redis.Redis
) -> None:
    stream = _stream(redis_trail)
    records = list(redis_trail.log.records())
    records[1] = dataclasses.replace(records[1], body=records[1].body.replace("agent-1", "x"))
    redis_client.delete(stream)
    for record in rechained(records):
        fields = {"p": record.prev_hash, "h": record.hash, "b": record.body}
        redis_client.xadd(stream, fields, id=f"0-{record.seq}")  # type: ignore[arg-type]
    report = redis_trail.verify()
    assert (report.problem, report.seq) == ("tampered", 4)


def test_redis_a_truncated_tail_is_deleted(
    redis_trail: AuditTrail, redis_client: redis.Redis
) -> None:
    redis_client.xdel(_stream(redis_trail), "0-10", "0-9")
    report = redis_trail.verify()
    assert (report.problem, report.seq) == ("deleted", 9)


@pytest.fixture
def postgres_trail(postgres_connection: Any) -> AuditTrail:
    log = PostgresAuditLog(postgres_connection)
    log.migrate()
    log.migrate()
    trail = AuditTrail(log, signing_key=KEY, checkpoint_every=4, clock=FakeClock())
    for n in range(10):
        trail.record(event(n))
    return trail


def test_postgres_an_intact_table_verifies(postgres_trail: AuditTrail) -> None:
    report = postgres_trail.verify()
    assert (report.ok, report.checked, report.checkpoints) == (True, 10, 2)


def test_postgres_an_updated_row_is_tampered(
    postgres_trail: AuditTrail, postgres_connection: Any
) -> None:
    postgres_connection.execute(
        "UPDATE uh_impersonation_audit SET body = replace(body, 'agent-6', 'agent-0') WHERE seq = 7"
    )
    report = postgres_trail.verify()
    assert (report.problem, report.seq) == ("tampered", 7)


def test_postgres_a_deleted_row_is_deleted(
    postgres_trail: AuditTrail, postgres_connection: Any
) -> None:
    postgres_connection.execute("DELETE FROM uh_impersonation_audit WHERE seq = 2")
    assert (postgres_trail.verify().problem, postgres_trail.verify().seq) == ("deleted", 2)


def test_postgres_swapped_sequence_numbers_are_caught(
    postgres_trail: AuditTrail, postgres_connection: Any
) -> None:
    postgres_connection.execute(
        "UPDATE uh_impersonation_audit SET seq = CASE seq WHEN 3 THEN -4 ELSE -3 END "
        "WHERE seq IN (3, 4)"
    )
    postgres_connection.execute("UPDATE uh_impersonation_audit SET seq = -seq WHERE seq < 0")
    report = postgres_trail.verify()
    assert (report.ok, report.problem, report.seq) == (False, "tampered", 3)


def test_postgres_a_row_appended_behind_the_log_is_inserted(
    postgres_trail: AuditTrail, postgres_connection: Any
) -> None:
    seq, prev = postgres_trail.log.head()
    body = event(99).to_json()
    postgres_connection.execute(
        "INSERT INTO uh_impersonation_audit (seq, prev_hash, hash, body) VALUES (%s, %s, %s, %s)",
        (seq + 1, prev, chain_hash(seq + 1, prev, body), body),
    )
    assert (postgres_trail.verify().problem, postgres_trail.verify().seq) == ("inserted", 11)


def test_postgres_truncation_with_the_head_moved_back_is_caught_by_a_checkpoint(
    postgres_trail: AuditTrail, postgres_connection: Any
) -> None:
    postgres_connection.execute("DELETE FROM uh_impersonation_audit WHERE seq > 6")
    postgres_connection.execute(
        "UPDATE uh_impersonation_audit_head SET seq = 6, "
        "hash = (SELECT hash FROM uh_impersonation_audit WHERE seq = 6)"
    )
    report = postgres_trail.verify()
    assert (report.problem, report.seq) == ("deleted", 7)


def test_postgres_without_migrate_is_a_clear_error(postgres_connection: Any) -> None:
    with pytest.raises(StoreUnavailableError) as caught:
        PostgresAuditLog(postgres_connection).append(event(1))
    assert caught.value.__cause__ is not None


def test_postgres_a_service_writes_its_trail_to_postgres(postgres_connection: Any) -> None:
    log = PostgresAuditLog(postgres_connection)
    log.migrate()
    service = ImpersonationService(audit=AuditTrail(log, signing_key=KEY))
    started = service.start(AGENT, PATIENT, ticket_id="ZD-1", reason="Cannot see labs")
    service.end(started.id, actor=AGENT)
    assert [r.event.action for r in log.records()] == [AuditAction.START, AuditAction.END]
    assert service.audit.verify().ok


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"table": "drop table x"}, "table"), ({"table": "Audit"}, "table")],
)
def test_postgres_bad_settings_are_named(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        PostgresAuditLog(None, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
    with pytest.raises(InvalidInputError) as caught:
        PostgresAuditLog.from_url("mysql://x")
    assert caught.value.field == "url"
    with pytest.raises(InvalidInputError) as caught:
        PostgresAuditLog("postgresql://x")
    assert caught.value.field == "connection"


# ------------------------------------------------------------------ export and the command line


def test_a_jsonl_export_verifies_and_an_edited_export_does_not(tmp_path: Path) -> None:
    trail = AuditTrail(signing_key=KEY, clock=FakeClock())
    for n in range(5):
        trail.record(event(n))
    manifest = json.loads(trail.export_jsonl(tmp_path).read_text())
    assert (manifest["records"], manifest["first_seq"], manifest["last_seq"]) == (5, 1, 5)
    assert verify_export(tmp_path, keys={"k1": KEY}).ok
    assert verify_export(tmp_path).problem == "bad_checkpoint"
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    (tmp_path / "audit.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    assert verify_export(tmp_path, keys={"k1": KEY}).problem == "bad_checkpoint"
    with pytest.raises(InvalidInputError):
        verify_export(tmp_path / "missing")


def test_the_fhir_export_is_one_audit_event_per_record(tmp_path: Path) -> None:
    service = ImpersonationService()
    started = service.start(
        AGENT, PATIENT, ticket_id="ZD-1", reason="Cannot see labs", source_ip="10.0.0.1"
    )
    service.validate("uhi_" + "Z" * 43)
    service.end(started.id, actor=AGENT)
    lines = service.audit.export_fhir(tmp_path).read_text().splitlines()
    resources = [json.loads(line) for line in lines]
    assert [r["subtype"][0]["code"] for r in resources] == ["start", "validation_failure", "end"]
    start = resources[0]
    assert start["resourceType"] == "AuditEvent"
    assert start["outcome"] == "0"
    assert start["agent"][0]["who"]["identifier"]["value"] == "agent-7"
    assert start["agent"][0]["network"] == {"address": "10.0.0.1", "type": "2"}
    assert start["agent"][1]["who"]["identifier"]["value"] == "patient-42"
    assert {"type": "reason", "valueString": "Cannot see labs"} in start["entity"][0]["detail"]
    assert resources[1]["outcome"] == "4"
    assert resources[1]["outcomeDesc"] == "unknown_token"


def test_the_cli_verifies_and_exports_a_redis_trail(
    redis_trail: AuditTrail,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {"UH_IMPERSONATION_AUDIT_KEY": KEY.hex()}
    source = ["--redis-url", redis_url, "--prefix", redis_prefix]
    assert main(["audit", "verify", *source], environ=env) == 0
    assert json.loads(capsys.readouterr().out)["checked"] == 10
    assert main(["audit", "export", *source, "--out", str(tmp_path)], environ=env) == 0
    assert main(["audit", "verify", "--export-dir", str(tmp_path)], environ=env) == 0
    capsys.readouterr()
    redis.Redis.from_url(redis_url).xdel(_stream(redis_trail), "0-4")
    assert main(["audit", "verify", *source], environ=env) == 1
    assert json.loads(capsys.readouterr().out)["problem"] == "deleted"
    assert main(["audit", "verify", *source], environ={"UH_IMPERSONATION_AUDIT_KEY": "zz"}) == 2


def test_the_cli_verifies_a_postgres_trail(
    postgres_trail: AuditTrail,
    postgres_url: str,
    postgres_schema: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"{postgres_url}?options=-csearch_path%3D{postgres_schema}"
    env = {"UH_IMPERSONATION_AUDIT_KEY": KEY.hex()}
    assert main(["audit", "verify", "--postgres-url", url], environ=env) == 0
    assert json.loads(capsys.readouterr().out)["checkpoints"] == 2


def test_the_console_script_is_declared() -> None:
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "uh-impersonation"]
    assert script.value == "unified_health.impersonation._cli:main"
