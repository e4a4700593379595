"""The audit trail: a hash-chained log with signed checkpoints, verification and export.

Retention: HIPAA (45 CFR 164.316(b)(2)) keeps audit documentation six years. Keep the PostgreSQL
log that long; trim a Redis log only after an export whose manifest verified (see the docs page).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from unified_health.impersonation._chain import GENESIS, sign_checkpoint, verify_chain
from unified_health.impersonation._clock import Clock, SystemClock
from unified_health.impersonation._errors import InvalidInputError
from unified_health.impersonation._models import (
    AuditEvent,
    AuditRecord,
    Checkpoint,
    VerifyReport,
)
from unified_health.impersonation.stores._memory import InMemoryAuditLog
from unified_health.impersonation.stores._protocol import AuditLog

__all__ = ["AuditTrail", "fhir_audit_event", "verify_export"]

EXPORT_FORMAT = "uh-impersonation-audit/1"
_FHIR_OUTCOME = {"success": "0", "denied": "4", "failure": "8"}
_SUBTYPE_SYSTEM = "https://unified-health.dev/fhir/CodeSystem/impersonation-action"


def _check_key(key: object, field: str) -> bytes:
    if not isinstance(key, bytes) or len(key) < 32:
        raise InvalidInputError(field, "must be bytes of at least 32 bytes")
    return key


class AuditTrail:
    """Appends audit events to a hash-chained `AuditLog` and signs checkpoints every so often.

    Args:
        log: Where records go (`InMemoryAuditLog` unless given).
        signing_key: The HMAC key for checkpoints (at least 32 bytes); ``None`` signs nothing,
            and then only the chain itself is verified.
        key_id: Names the key in each checkpoint, so keys can rotate.
        checkpoint_every: Sign a checkpoint after this many appends by this trail.
        clock: Time for checkpoint stamps.

    Raises:
        InvalidInputError: An argument broke its rule.

    Examples:
        >>> from datetime import UTC, datetime
        >>> from unified_health.impersonation import AuditAction, AuditEvent
        >>> trail = AuditTrail(signing_key=b"k" * 32)
        >>> _ = trail.record(AuditEvent(action=AuditAction.END, outcome="success",
        ...                             at=datetime(2026, 1, 5, tzinfo=UTC)))
        >>> _ = trail.checkpoint()
        >>> trail.verify()
        VerifyReport(ok=True, checked=1, problem=None, seq=None, checkpoints=1)
    """

    def __init__(
        self,
        log: AuditLog | None = None,
        *,
        signing_key: bytes | None = None,
        key_id: str = "k1",
        checkpoint_every: int = 1000,
        clock: Clock | None = None,
    ) -> None:
        if log is not None and not isinstance(log, AuditLog):
            raise InvalidInputError("log", "must be an AuditLog")
        if signing_key is not None:
            _check_key(signing_key, "signing_key")
        given_id: object = key_id
        if not isinstance(given_id, str) or not given_id.isidentifier():
            raise InvalidInputError("key_id", "must be a short identifier")
        every: object = checkpoint_every
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise InvalidInputError("checkpoint_every", "must be an int >= 1")
        self.log: AuditLog = log if log is not None else InMemoryAuditLog()
        self._key = signing_key
        self._key_id = key_id
        self._every = every
        self._since_checkpoint = 0
        self._clock: Clock = clock or SystemClock()

    def record(self, event: AuditEvent) -> AuditRecord:
        """Append the event; sign a checkpoint when one is due.

        Raises:
            StoreUnavailableError: The log could not be written.
        """
        record = self.log.append(event)
        self._since_checkpoint += 1
        if self._key is not None and self._since_checkpoint >= self._every:
            self._sign(record.seq, record.hash)
        return record

    def _sign(self, seq: int, record_hash: str) -> Checkpoint:
        assert self._key is not None
        at = self._clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        checkpoint = sign_checkpoint(self._key, self._key_id, seq, record_hash, at)
        self.log.add_checkpoint(checkpoint)
        self._since_checkpoint = 0
        return checkpoint

    def checkpoint(self) -> Checkpoint | None:
        """Sign a checkpoint over the log's current head now (``None`` without a key or records).

        Raises:
            StoreUnavailableError: The log could not be read or written.
        """
        seq, head_hash = self.log.head()
        if self._key is None or seq == 0:
            return None
        return self._sign(seq, head_hash)

    def verify(self, *, keys: Mapping[str, bytes] | None = None) -> VerifyReport:
        """Check the whole chain and every checkpoint; report the first problem.

        Args:
            keys: Checkpoint keys by key id; the trail's own key unless given.

        Returns:
            The `VerifyReport`.

        Raises:
            StoreUnavailableError: The log could not be read.
        """
        known = dict(keys) if keys is not None else {}
        if keys is None and self._key is not None:
            known[self._key_id] = self._key
        head_seq, _ = self.log.head()
        return verify_chain(
            self.log.records(), self.log.checkpoints(), keys=known, head_seq=head_seq
        )

    def export_jsonl(self, directory: str | Path) -> Path:
        """Write ``audit.jsonl`` (one record a line) and ``manifest.json`` into ``directory``.

        The manifest holds the count, the first and last seq, the last hash, the SHA-256 of the
        file, and, with a signing key, an HMAC over all of that.

        Args:
            directory: An existing directory.

        Returns:
            The manifest's path.

        Raises:
            InvalidInputError: ``directory`` is not an existing directory.
            StoreUnavailableError: The log could not be read.
        """
        folder = _directory(directory)
        digest = hashlib.sha256()
        count, first, last, last_hash = 0, 0, 0, GENESIS
        with (folder / "audit.jsonl").open("w", encoding="utf-8") as out:
            for record in self.log.records():
                line = json.dumps(
                    {
                        "seq": record.seq,
                        "prev_hash": record.prev_hash,
                        "hash": record.hash,
                        "body": record.body,
                    },
                    separators=(",", ":"),
                )
                out.write(line + "\n")
                digest.update(line.encode() + b"\n")
                count += 1
                first = first or record.seq
                last, last_hash = record.seq, record.hash
        manifest: dict[str, Any] = {
            "format": EXPORT_FORMAT,
            "file": "audit.jsonl",
            "records": count,
            "first_seq": first,
            "last_seq": last,
            "last_hash": last_hash,
            "sha256": digest.hexdigest(),
            "exported_at": self._clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if self._key is not None:
            manifest["key_id"] = self._key_id
            manifest["signature"] = _manifest_signature(self._key, manifest)
        path = folder / "manifest.json"
        path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path

    def export_fhir(self, directory: str | Path) -> Path:
        """Write every record as a FHIR R4 ``AuditEvent`` (NDJSON) to ``audit_events.ndjson``.

        Args:
            directory: An existing directory.

        Returns:
            The file's path.

        Raises:
            InvalidInputError: ``directory`` is not an existing directory.
            StoreUnavailableError: The log could not be read.
        """
        path = _directory(directory) / "audit_events.ndjson"
        with path.open("w", encoding="utf-8") as out:
            for record in self.log.records():
                out.write(json.dumps(fhir_audit_event(record), separators=(",", ":")) + "\n")
        return path


def _directory(directory: object) -> Path:
    if not isinstance(directory, str | Path) or not Path(directory).is_dir():
        raise InvalidInputError("directory", "must be an existing directory")
    return Path(directory)


def _manifest_signature(key: bytes, manifest: Mapping[str, Any]) -> str:
    unsigned = {name: value for name, value in manifest.items() if name != "signature"}
    message = json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, message, "sha256").hexdigest()


def verify_export(
    directory: str | Path, *, keys: Mapping[str, bytes] | None = None
) -> VerifyReport:
    """Verify an export: the file's hash and signature against the manifest, then the chain.

    Args:
        directory: Where `AuditTrail.export_jsonl` wrote.
        keys: Signing keys by key id; a signed manifest needs its key.

    Returns:
        The `VerifyReport` (``bad_checkpoint`` when the manifest itself does not check out).

    Raises:
        InvalidInputError: The directory holds no export.

    Examples:
        >>> import tempfile
        >>> trail = AuditTrail()
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     _ = trail.export_jsonl(folder)
        ...     verify_export(folder).ok
        True
    """
    folder = _directory(directory)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        data = (folder / str(manifest["file"])).read_bytes()
    except (OSError, ValueError, KeyError, TypeError):
        raise InvalidInputError("directory", "must hold manifest.json and its file") from None
    if manifest.get("format") != EXPORT_FORMAT or not isinstance(manifest, dict):
        raise InvalidInputError("directory", f"manifest format must be {EXPORT_FORMAT}")
    bad = VerifyReport(False, 0, "bad_checkpoint", int(manifest.get("last_seq", 0)), 0)
    if hashlib.sha256(data).hexdigest() != manifest.get("sha256"):
        return bad
    if "signature" in manifest:
        key = (keys or {}).get(str(manifest.get("key_id")))
        if key is None or not hmac.compare_digest(
            _manifest_signature(key, manifest), str(manifest["signature"])
        ):
            return bad
    records = []
    for line in data.decode().splitlines():
        row = json.loads(line)
        records.append(AuditRecord(row["seq"], row["prev_hash"], row["hash"], row["body"]))
    report = verify_chain(records, head_seq=int(manifest["last_seq"]))
    if report.ok and records and records[-1].hash != manifest.get("last_hash"):
        return VerifyReport(False, report.checked, "tampered", records[-1].seq, 0)
    return report


def fhir_audit_event(record: AuditRecord) -> dict[str, Any]:
    """Map one audit record to a FHIR R4 ``AuditEvent`` resource.

    Args:
        record: The stored record.

    Returns:
        The resource as a dict.

    Examples:
        >>> from datetime import UTC, datetime
        >>> from unified_health.impersonation import AuditAction, AuditEvent, InMemoryAuditLog
        >>> record = InMemoryAuditLog().append(AuditEvent(
        ...     action=AuditAction.START, outcome="success", at=datetime(2026, 1, 5, tzinfo=UTC),
        ...     actor_id="agent-7", target_id="patient-42"))
        >>> resource = fhir_audit_event(record)
        >>> (resource["resourceType"], resource["outcome"], resource["subtype"][0]["code"])
        ('AuditEvent', '0', 'start')
    """
    event = record.event
    agents: list[dict[str, Any]] = []
    if event.actor_id is not None:
        actor: dict[str, Any] = {
            "type": {"text": "impersonating user"},
            "who": {"identifier": {"value": event.actor_id}},
            "requestor": True,
        }
        if event.source_ip is not None:
            actor["network"] = {"address": event.source_ip, "type": "2"}
        agents.append(actor)
    if event.target_id is not None:
        agents.append(
            {
                "type": {"text": "impersonated user"},
                "who": {"identifier": {"value": event.target_id}},
                "requestor": False,
            }
        )
    if not agents:
        agents.append({"type": {"text": "unidentified"}, "requestor": True})
    details = [
        {"type": name, "valueString": value}
        for name, value in (
            ("ticket_id", event.ticket_id),
            ("reason", event.reason),
            ("denial", event.denial),
            ("detail", event.detail),
            ("seq", str(record.seq)),
            ("hash", record.hash),
        )
        if value is not None
    ]
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": f"uh-impersonation-{record.seq}",
        "type": {
            "system": "http://dicom.nema.org/resources/ontology/DCM",
            "code": "110114",
            "display": "User Authentication",
        },
        "subtype": [{"system": _SUBTYPE_SYSTEM, "code": event.action.value}],
        "action": "E",
        "recorded": event.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "outcome": _FHIR_OUTCOME[event.outcome],
        "agent": agents,
        "source": {"observer": {"display": "uh-impersonation"}},
        "entity": [
            {
                "what": {"identifier": {"value": event.session_id or "none"}},
                "detail": details,
            }
        ],
    }
    if event.denial is not None:
        resource["outcomeDesc"] = event.denial
    return resource
