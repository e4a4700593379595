r"""The audit log: one append-only, hash-chained record per mutation, and its verifier.

``hash = SHA-256(prev_hash + "\n" + canonical_json(record without "hash"))`` in hex, where
canonical JSON has sorted keys, no spaces and UTF-8 text. The first record's ``prev_hash`` is the
empty string. Editing, removing or reordering any record breaks every hash after it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

__all__ = ["AuditRecord", "AuditVerification", "seal", "verify_chain"]


class AuditRecord(BaseModel):
    """One mutation: who, why, what before and after, and the chain hashes.

    Example:
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

    Example:
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


def verify_chain(records: list[str]) -> AuditVerification:
    """Recompute every hash and link; report the first record that does not fit.

    Args:
        records: Raw records, oldest first, as the store returns them.

    Returns:
        An `AuditVerification`.

    Example:
        >>> line, _ = seal(
        ...     seq=1, at=datetime.fromisoformat("2026-01-01T00:00:00+00:00"), actor="ops",
        ...     reason="r", action="flag.create", target="f", before=None, after=None,
        ...     store_version=1, prev_hash="",
        ... )
        >>> verify_chain([line]).ok
        True
        >>> verify_chain([line.replace('"ops"', '"eve"')]).problem
        'hash mismatch'
    """
    prev_hash = ""
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
    return AuditVerification(ok=True, count=len(records))
