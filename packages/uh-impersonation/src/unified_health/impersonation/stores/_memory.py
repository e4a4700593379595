"""The in-memory session store and audit log: the embedded default, and the reference for tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

from unified_health.impersonation._chain import GENESIS, chain_hash
from unified_health.impersonation._clock import Clock, SystemClock
from unified_health.impersonation._errors import ImpersonationDeniedError, InvalidInputError
from unified_health.impersonation._models import (
    ApprovalRequest,
    AuditEvent,
    AuditRecord,
    Checkpoint,
    ImpersonationSession,
    NewSession,
    SessionStatus,
)
from unified_health.impersonation.stores._subscription import Subscription

__all__ = ["InMemoryAuditLog", "InMemoryImpersonationStore"]


@dataclass(slots=True)
class _Entry:
    session: ImpersonationSession
    token_hash: str


class InMemoryImpersonationStore:
    """An `ImpersonationStore` in this process's memory, thread-safe, on an injected clock.

    Args:
        clock: The store's clock (`SystemClock` unless given); it decides expiry.

    Examples:
        >>> from unified_health.impersonation.testing import FakeClock
        >>> store = InMemoryImpersonationStore(clock=FakeClock())
        >>> store.list_active()
        []
    """

    def __init__(self, *, clock: Clock | None = None) -> None:
        if clock is not None and not isinstance(clock, Clock):
            raise InvalidInputError("clock", "must be a Clock")
        self._clock: Clock = clock or SystemClock()
        self._sessions: dict[str, _Entry] = {}
        self._actor_lock: dict[str, str] = {}
        self._approvals: dict[str, ApprovalRequest] = {}
        self._listeners: list[Callable[[str], None]] = []
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the store's time."""
        return self._clock.now()

    def _expire_if_due(self, entry: _Entry, now: datetime) -> bool:
        session = entry.session
        if session.status is not SessionStatus.ACTIVE or session.expires_at > now:
            return False
        entry.session = session.model_copy(
            update={"status": SessionStatus.EXPIRED, "ended_at": session.expires_at}
        )
        if self._actor_lock.get(session.actor_id) == session.id:
            del self._actor_lock[session.actor_id]
        return True

    def create(self, new: NewSession, token_hash: str) -> ImpersonationSession:
        """Store a new active session stamped with the store's clock.

        Raises:
            ImpersonationDeniedError: The actor already has an active session
                (``already_impersonating``) or is being impersonated (``nested_impersonation``).
        """
        with self._lock:
            now = self._clock.now()
            held = self._actor_lock.get(new.actor_id)
            if held is not None and not self._expire_if_due(self._sessions[held], now):
                raise ImpersonationDeniedError("already_impersonating")
            for entry in self._sessions.values():
                if (
                    entry.session.target_id == new.actor_id
                    and not self._expire_if_due(entry, now)
                    and entry.session.status is SessionStatus.ACTIVE
                ):
                    raise ImpersonationDeniedError("nested_impersonation")
            session = ImpersonationSession(
                id=new.id,
                actor_id=new.actor_id,
                actor_role=new.actor_role,
                actor_login_session_id=new.actor_login_session_id,
                target_id=new.target_id,
                target_role=new.target_role,
                ticket_id=new.ticket_id,
                reason=new.reason,
                scopes=new.scopes,
                started_at=now,
                expires_at=now + timedelta(microseconds=new.duration_us),
                source_ip=new.source_ip,
            )
            self._sessions[new.id] = _Entry(session, token_hash)
            self._actor_lock[new.actor_id] = new.id
            return session

    def lookup(self, session_id: str, token_hash: str) -> tuple[ImpersonationSession | None, bool]:
        """Return the session matching id and token hash, and whether this call expired it."""
        entry = self._sessions.get(session_id)
        if entry is None or entry.token_hash != token_hash:
            return None, False
        session = entry.session
        if session.status is SessionStatus.ACTIVE and session.expires_at <= self._clock.now():
            with self._lock:
                changed = self._expire_if_due(entry, self._clock.now())
                return entry.session, changed
        return session, False

    def get(self, session_id: str) -> ImpersonationSession | None:
        """Return the session by id, expiry applied, or ``None``."""
        entry = self._sessions.get(session_id)
        if entry is None:
            return None
        with self._lock:
            self._expire_if_due(entry, self._clock.now())
            return entry.session

    def finish(
        self, session_id: str, status: SessionStatus, *, by: str, reason: str
    ) -> tuple[ImpersonationSession | None, bool]:
        """End or revoke an active session; an expired one is marked expired instead."""
        with self._lock:
            entry = self._sessions.get(session_id)
            if entry is None:
                return None, False
            now = self._clock.now()
            if self._expire_if_due(entry, now):
                return entry.session, True
            session = entry.session
            if session.status is not SessionStatus.ACTIVE:
                return session, False
            entry.session = session.model_copy(
                update={"status": status, "ended_at": now, "ended_by": by, "end_reason": reason}
            )
            if self._actor_lock.get(session.actor_id) == session.id:
                del self._actor_lock[session.actor_id]
            listeners = list(self._listeners)
        for listener in listeners:
            listener(session_id)
        return entry.session, True

    def subscribe_revocations(
        self, callback: Callable[[str], None], on_error: Callable[[], None]
    ) -> Subscription:
        """Call ``callback(session_id)`` whenever a session of this store is ended or revoked.

        Returns:
            The subscription; `Subscription.close` stops it.
        """
        with self._lock:
            self._listeners.append(callback)

        def stop() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return Subscription(stop)

    def list_active(self) -> list[ImpersonationSession]:
        """Every session active now."""
        now = self._clock.now()
        return [
            entry.session
            for entry in list(self._sessions.values())
            if entry.session.status is SessionStatus.ACTIVE and entry.session.expires_at > now
        ]

    def expire_due(self, limit: int = 100) -> list[ImpersonationSession]:
        """Mark up to ``limit`` sessions whose time is up as expired and return them."""
        expired: list[ImpersonationSession] = []
        with self._lock:
            now = self._clock.now()
            for entry in self._sessions.values():
                if len(expired) >= limit:
                    break
                if self._expire_if_due(entry, now):
                    expired.append(entry.session)
        return expired

    def create_approval(
        self, approval_id: str, actor_id: str, target_id: str, ticket_id: str, ttl_us: int
    ) -> ApprovalRequest:
        """Store a pending approval request."""
        with self._lock:
            now = self._clock.now()
            request = ApprovalRequest(
                id=approval_id,
                actor_id=actor_id,
                target_id=target_id,
                ticket_id=ticket_id,
                requested_at=now,
                expires_at=now + timedelta(microseconds=ttl_us),
            )
            self._approvals[approval_id] = request
            return request

    def get_approval(self, approval_id: str) -> ApprovalRequest | None:
        """Return the approval request, or ``None``."""
        return self._approvals.get(approval_id)

    def approve(self, approval_id: str, approver_id: str) -> ApprovalRequest | None:
        """Approve a pending, unexpired request once."""
        with self._lock:
            request = self._approvals.get(approval_id)
            if request is None:
                return None
            if request.approved_by is None and request.expires_at > self._clock.now():
                request = request.model_copy(update={"approved_by": approver_id})
                self._approvals[approval_id] = request
            return request

    def consume_approval(
        self, approval_id: str, actor_id: str, target_id: str, ticket_id: str
    ) -> bool:
        """Use an approved request once for this actor, target and ticket."""
        with self._lock:
            request = self._approvals.get(approval_id)
            if (
                request is None
                or request.approved_by is None
                or request.consumed
                or request.expires_at <= self._clock.now()
                or (request.actor_id, request.target_id, request.ticket_id)
                != (actor_id, target_id, ticket_id)
            ):
                return False
            self._approvals[approval_id] = request.model_copy(update={"consumed": True})
            return True

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> InMemoryImpersonationStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class InMemoryAuditLog:
    """An `AuditLog` in this process's memory (tests, demos; not a system of record).

    Examples:
        >>> from datetime import UTC, datetime
        >>> from unified_health.impersonation import AuditAction, AuditEvent
        >>> log = InMemoryAuditLog()
        >>> log.append(AuditEvent(action=AuditAction.END, outcome="success",
        ...                       at=datetime(2026, 1, 5, tzinfo=UTC))).seq
        1
    """

    def __init__(self) -> None:
        self._records: list[AuditRecord] = []
        self._checkpoints: list[Checkpoint] = []
        self._lock = threading.Lock()

    def append(self, event: AuditEvent) -> AuditRecord:
        """Append the event as the next record."""
        body = event.to_json()
        with self._lock:
            seq, prev = self._head()
            record = AuditRecord(seq + 1, prev, chain_hash(seq + 1, prev, body), body)
            self._records.append(record)
            return record

    def _head(self) -> tuple[int, str]:
        if not self._records:
            return 0, GENESIS
        last = self._records[-1]
        return last.seq, last.hash

    def head(self) -> tuple[int, str]:
        """The last record's seq and hash."""
        with self._lock:
            return self._head()

    def records(self, *, after: int = 0) -> Iterator[AuditRecord]:
        """Yield the records with ``seq > after``."""
        with self._lock:
            snapshot = list(self._records)
        for record in snapshot:
            if record.seq > after:
                yield record

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Keep a signed checkpoint."""
        with self._lock:
            self._checkpoints.append(checkpoint)

    def checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint, oldest first."""
        with self._lock:
            return list(self._checkpoints)

    def close(self) -> None:
        """Nothing to release."""
