"""The hash chain and its signed checkpoints: pure functions shared by every audit log.

Record ``n`` has ``hash = SHA-256("n|prev_hash|body")`` where ``prev_hash`` is record ``n - 1``'s
hash (64 zeros for record 1). A checkpoint is an HMAC-SHA256, under a key only the host holds, over
``seq|hash|at|key_id``: whoever can rewrite the stored rows can recompute the chain, but not the
checkpoints (the CloudTrail digest idea).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

from unified_health.impersonation._models import AuditRecord, Checkpoint, VerifyReport

__all__ = ["GENESIS", "chain_hash", "checkpoint_message", "sign_checkpoint", "verify_chain"]

GENESIS = "0" * 64


def chain_hash(seq: int, prev_hash: str, body: str) -> str:
    """Return the hash of record ``seq``.

    Examples:
        >>> chain_hash(1, GENESIS, "{}")[:16]
        'f9c58de239d5b7d2'
    """
    return hashlib.sha256(f"{seq}|{prev_hash}|{body}".encode()).hexdigest()


def checkpoint_message(seq: int, record_hash: str, at: str, key_id: str) -> bytes:
    """The bytes a checkpoint signs."""
    return f"{seq}|{record_hash}|{at}|{key_id}".encode()


def sign_checkpoint(key: bytes, key_id: str, seq: int, record_hash: str, at: str) -> Checkpoint:
    """Sign a checkpoint over record ``seq``.

    Examples:
        >>> sign_checkpoint(b"k" * 32, "k1", 1, "ab", "2026-01-05T09:00:00Z").signature[:12]
        'b314b47971b7'
    """
    signature = hmac.new(key, checkpoint_message(seq, record_hash, at, key_id), "sha256")
    return Checkpoint(
        seq=seq, hash=record_hash, at=at, key_id=key_id, signature=signature.hexdigest()
    )


def verify_chain(
    records: Iterable[AuditRecord],
    checkpoints: Sequence[Checkpoint] = (),
    *,
    keys: dict[str, bytes] | None = None,
    head_seq: int | None = None,
) -> VerifyReport:
    """Check every link and checkpoint; report the first problem.

    Args:
        records: The records in storage order.
        checkpoints: Signed checkpoints to hold the chain to.
        keys: Signing keys by key id; a checkpoint with an unknown key id is bad.
        head_seq: The length the log itself claims; a shorter chain means records were deleted,
            a longer one that records were added behind the log's back.

    Returns:
        The report: ``tampered`` (a record's content does not match its hash, or a checkpoint
        does not match the record), ``reordered``, ``inserted``, ``deleted`` or
        ``bad_checkpoint``, with the first bad sequence number.

    Examples:
        >>> first = AuditRecord(1, GENESIS, chain_hash(1, GENESIS, "{}"), "{}")
        >>> verify_chain([first]).ok
        True
        >>> verify_chain([AuditRecord(1, GENESIS, first.hash, '{"x":1}')]).problem
        'tampered'
    """
    listed = list(records)
    later_seqs: dict[int, int] = {}
    for record in listed:
        later_seqs[record.seq] = later_seqs.get(record.seq, 0) + 1
    expected, prev, checked = 1, GENESIS, 0
    hashes: dict[int, str] = {}
    sha256 = hashlib.sha256
    for record in listed:
        checked += 1
        seq = record.seq
        later_seqs[seq] -= 1
        own = sha256(f"{seq}|{record.prev_hash}|{record.body}".encode()).hexdigest()
        if own != record.hash:
            return VerifyReport(False, checked, "tampered", seq, 0)
        if seq != expected:
            if seq < expected:
                return VerifyReport(False, checked, "inserted", seq, 0)
            if later_seqs.get(expected, 0) > 0:
                return VerifyReport(False, checked, "reordered", seq, 0)
            return VerifyReport(False, checked, "deleted", expected, 0)
        if record.prev_hash != prev:
            if later_seqs.get(seq, 0) > 0:
                return VerifyReport(False, checked, "inserted", seq, 0)
            return VerifyReport(False, checked, "tampered", seq - 1, 0)
        hashes[seq] = record.hash
        prev = record.hash
        expected += 1
    last = expected - 1
    if head_seq is not None and head_seq > last:
        return VerifyReport(False, checked, "deleted", last + 1, 0)
    if head_seq is not None and head_seq < last:
        return VerifyReport(False, checked, "inserted", head_seq + 1, 0)
    verified = 0
    for checkpoint in checkpoints:
        key = (keys or {}).get(checkpoint.key_id)
        message = checkpoint_message(
            checkpoint.seq, checkpoint.hash, checkpoint.at, checkpoint.key_id
        )
        good = key is not None and hmac.compare_digest(
            hmac.new(key, message, "sha256").hexdigest(), checkpoint.signature
        )
        if not good:
            return VerifyReport(False, checked, "bad_checkpoint", checkpoint.seq, verified)
        if checkpoint.seq > last:
            return VerifyReport(False, checked, "deleted", last + 1, verified)
        if hashes.get(checkpoint.seq) != checkpoint.hash:
            return VerifyReport(False, checked, "tampered", checkpoint.seq, verified)
        verified += 1
    return VerifyReport(True, checked, None, None, verified)
