r"""The audit log: one append-only, hash-chained record per mutation, and its verifier.

``hash = SHA-256(prev_hash + "\n" + canonical_json(record without "hash"))`` in hex, where
canonical JSON has sorted keys, no spaces and UTF-8 text. The first record's ``prev_hash`` is the
empty string. Editing, removing or reordering any record breaks every hash after it; removing
records from the end is caught by comparing the chain with the head hash and length the store
recorded with its last commit.

Context keys never enter a record. Audit records are kept forever, and a flag's individual
targets (``targets[].values``) and a segment's ``included`` / ``excluded`` lists hold context
keys (user or patient ids), so `redact` replaces each such list with
``{"count": n, "hmac_sha256": [...]}``: the hex HMAC-SHA256 of each key under the keyspace's
audit key (a random secret the store keeps next to its version, never exported). Whoever holds
the store can still tell whether a given key was added or removed; the log alone reveals only
how many keys changed. A document the admin could not read is recorded as
``{"unreadable": true, "sha256": ..., "length": ...}`` of its stored text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "AuditRecord",
    "AuditVerification",
    "new_audit_key",
    "raw_digest",
    "redact",
    "seal",
    "verify_chain",
]

_KEYED_LISTS = ("included", "excluded")


class AuditRecord(BaseModel):
    """One mutation: who, why, what before and after, and the chain hashes.

    Examples:
        >>> record = AuditRecord.model_validate_json(seal(
        ...     seq=1, at=datetime.fromisoformat("2026-01-01T00:00:00+00:00"), actor="ops",
        ...     reason="launch", action="flag.create", target="f", before=None, after={"key": "f"},
        ...     store_version=1, prev_hash="",
        ... )[0])
        >>> record.action
        'flag.create'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int
    at: AwareDatetime
    actor: str
    reason: str
    action: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    store_version: int
    prev_hash: str
    hash: str = Field(min_length=64, max_length=64)


class AuditVerification(BaseModel):
    """The verifier's verdict.

    Examples:
        >>> verify_chain([]).ok
        True
    """

    model_config = ConfigDict(frozen=True)

    ok: bool
    count: int
    first_bad_seq: int | None = None
    problem: str | None = None


def _canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256(f"{prev_hash}\n{_canonical(body)}".encode()).hexdigest()


def seal(
    *,
    seq: int,
    at: datetime,
    actor: str,
    reason: str,
    action: str,
    target: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    store_version: int,
    prev_hash: str,
) -> tuple[str, str]:
    """Build one chained record.

    Args:
        seq: 1 for the first record, then +1.
        at: When, timezone-aware.
        actor: Who (an id, as the caller identifies staff).
        reason: Why, as given by the actor.
        action: What, e.g. ``"flag.update"``.
        target: The key of what changed.
        before: The document before (``None`` when created).
        after: The document after (``None`` when deleted).
        store_version: The store version this mutation produces.
        prev_hash: The previous record's hash (``""`` for the first).

    Returns:
        ``(record_json, hash)``.

    Examples:
        >>> line, digest = seal(
        ...     seq=1, at=datetime.fromisoformat("2026-01-01T00:00:00+00:00"), actor="ops",
        ...     reason="r", action="flag.create", target="f", before=None, after=None,
        ...     store_version=1, prev_hash="",
        ... )
        >>> len(digest)
        64
    """
    body = {
        "seq": seq,
        "at": at.isoformat(),
        "actor": actor,
        "reason": reason,
        "action": action,
        "target": target,
        "before": before,
        "after": after,
        "store_version": store_version,
        "prev_hash": prev_hash,
    }
    digest = _digest(prev_hash, body)
    return _canonical({**body, "hash": digest}), digest


def new_audit_key() -> str:
    """Return a fresh random audit key (64 hex characters).

    Examples:
        >>> len(new_audit_key())
        64
    """
    return secrets.token_hex(32)


def _keyed(values: Any, key: str) -> Any:
    if not isinstance(values, list):
        return values
    secret = key.encode()
    return {
        "count": len(values),
        "hmac_sha256": [
            hmac.new(secret, str(value).encode(), hashlib.sha256).hexdigest() for value in values
        ],
    }


def redact(document: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    """Replace the context keys a flag or segment document lists with keyed hashes.

    Args:
        document: A flag or segment as JSON (other documents pass through unchanged).
        key: The keyspace's audit key.

    Returns:
        A copy with ``targets[].values``, ``included`` and ``excluded`` replaced by
        ``{"count": n, "hmac_sha256": [...]}``.

    Examples:
        >>> out = redact({"key": "s", "included": ["patient-1"], "excluded": []}, "k" * 64)
        >>> out["included"]["count"], "patient-1" in str(out)
        (1, False)
    """
    if document is None:
        return None
    out = dict(document)
    targets = out.get("targets")
    if isinstance(targets, list):
        out["targets"] = [
            {**target, "values": _keyed(target.get("values"), key)}
            if isinstance(target, dict)
            else target
            for target in targets
        ]
    for name in _KEYED_LISTS:
        if name in out:
            out[name] = _keyed(out[name], key)
    return out


def raw_digest(raw: str) -> dict[str, Any]:
    """Describe a stored document the admin could not read, without copying its text.

    Args:
        raw: The stored text.

    Returns:
        ``{"unreadable": True, "sha256": ..., "length": ...}``.

    Examples:
        >>> raw_digest("{bad")["length"]
        4
    """
    return {
        "unreadable": True,
        "sha256": hashlib.sha256(raw.encode()).hexdigest(),
        "length": len(raw),
    }


def verify_chain(
    records: list[str], *, head: str | None = None, length: int | None = None
) -> AuditVerification:
    """Recompute every hash and link; report the first record that does not fit.

    Args:
        records: Raw records, oldest first, as the store returns them.
        head: The head hash the store recorded (checked when given with ``length``).
        length: The log length the store recorded. Records after it (appended after the
            store was read) are allowed; fewer records, or a record at that position whose hash
            is not ``head``, mean records were removed or replaced.

    Returns:
        An `AuditVerification`.

    Examples:
        >>> line, digest = seal(
        ...     seq=1, at=datetime.fromisoformat("2026-01-01T00:00:00+00:00"), actor="ops",
        ...     reason="r", action="flag.create", target="f", before=None, after=None,
        ...     store_version=1, prev_hash="",
        ... )
        >>> verify_chain([line]).ok
        True
        >>> verify_chain([line.replace('"ops"', '"eve"')]).problem
        'hash mismatch'
        >>> verify_chain([], head=digest, length=1).problem
        'truncated'
    """
    prev_hash = ""
    hashes: list[str] = []
    for index, raw in enumerate(records, start=1):
        try:
            body = json.loads(raw)
            AuditRecord.model_validate(body)
        except (ValueError, ValidationError):
            return AuditVerification(
                ok=False, count=len(records), first_bad_seq=index, problem="unreadable"
            )
        claimed = body.pop("hash")
        if body.get("seq") != index:
            return AuditVerification(
                ok=False, count=len(records), first_bad_seq=index, problem="sequence gap"
            )
        if body.get("prev_hash") != prev_hash:
            return AuditVerification(
                ok=False, count=len(records), first_bad_seq=index, problem="broken link"
            )
        if _digest(prev_hash, body) != claimed:
            return AuditVerification(
                ok=False, count=len(records), first_bad_seq=index, problem="hash mismatch"
            )
        prev_hash = claimed
        hashes.append(claimed)
    if head is not None and length is not None:
        if len(hashes) < length:
            return AuditVerification(
                ok=False, count=len(records), first_bad_seq=len(hashes) + 1, problem="truncated"
            )
        if length and hashes[length - 1] != head:
            return AuditVerification(
                ok=False, count=len(records), first_bad_seq=length, problem="head mismatch"
            )
    return AuditVerification(ok=True, count=len(records))
