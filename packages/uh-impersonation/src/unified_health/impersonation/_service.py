"""`ImpersonationService`: start, validate, end, revoke and list impersonation sessions.

Failure policy: this is a correctness path. Everything here fails closed: a store that cannot be
reached makes ``validate`` deny and ``start`` raise `StoreUnavailableError`; a start whose audit
record cannot be written is revoked before its token leaves the service.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from types import TracebackType
from typing import Literal

from unified_health.impersonation._audit import AuditTrail
from unified_health.impersonation._clock import Clock, SystemClock
from unified_health.impersonation._errors import (
    ImpersonationDeniedError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    StoreUnavailableError,
)
from unified_health.impersonation._logging import logger
from unified_health.impersonation._models import (
    ApprovalRequest,
    AuditAction,
    AuditEvent,
    ImpersonationSession,
    NewSession,
    Principal,
    SessionStatus,
    StartedImpersonation,
    Validation,
)
from unified_health.impersonation._notify import ImpersonationNotice, Notifier
from unified_health.impersonation._policy import (
    APPROVE_IMPERSONATIONS,
    REVOKE_IMPERSONATIONS,
    DenialReason,
    ImpersonationPolicy,
    check_scopes,
)
from unified_health.impersonation.stores._memory import InMemoryImpersonationStore
from unified_health.impersonation.stores._protocol import AuditLog, ImpersonationStore
from unified_health.impersonation.stores._subscription import Subscription

__all__ = ["ImpersonationService", "hash_token"]

_TOKEN = re.compile(r"^uhi_[A-Za-z0-9_-]{43}$")
_SESSION_ID = re.compile(r"^imp_[0-9a-f]{32}$")
_MAX_CACHE_TTL = timedelta(seconds=5)
_APPROVAL_ID = re.compile(r"^apr_[0-9a-f]{32}$")
_STATUS_DENIAL = {
    SessionStatus.EXPIRED: DenialReason.EXPIRED,
    SessionStatus.ENDED: DenialReason.ENDED,
    SessionStatus.REVOKED: DenialReason.REVOKED,
}
Directory = Callable[[str], Principal | None]


def hash_token(token: str) -> tuple[str, str]:
    """Return ``(session id, token hash)`` for a token: both one-way, neither reveals it.

    Examples:
        >>> session_id, token_hash = hash_token("uhi_" + "A" * 43)
        >>> (session_id[:4], len(session_id), len(token_hash))
        ('imp_', 36, 64)
    """
    raw = token.encode()
    session_id = "imp_" + hashlib.sha256(b"uh-impersonation/session-id:" + raw).hexdigest()[:32]
    return session_id, hashlib.sha256(raw).hexdigest()


def _principal(value: object, field: str) -> Principal:
    """Check the type, and validate again: ``model_construct`` skips the model's rules."""
    if not isinstance(value, Principal):
        raise InvalidInputError(field, "must be a Principal")
    try:
        return Principal(
            user_id=value.user_id, role=value.role, login_session_id=value.login_session_id
        )
    except InvalidInputError as exc:
        raise InvalidInputError(f"{field}.{exc.field}", exc.rule) from None


def _source_ip(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError("source_ip", "must be an IP address str or None")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise InvalidInputError("source_ip", "must be an IPv4 or IPv6 address") from None


class ImpersonationService:
    """Audited, ticket-bound, time-limited "act as user" sessions.

    Args:
        store: Where sessions live (`InMemoryImpersonationStore` unless given; use
            `RedisImpersonationStore` when more than one process serves requests).
        audit: The audit trail, or an `AuditLog` to wrap in one (in memory unless given).
        notifier: Tells the impersonated person; ``None`` tells nobody.
        notification: ``"best_effort"`` (a failed notice is logged) or ``"required"`` (no notice,
            no session).
        policy: The rules (`ImpersonationPolicy` with the default roles unless given).
        directory: Called with a user id on every validation; returns the person's current
            `Principal` (or ``None`` when gone), so role and permission changes take effect at
            the next validation of a running session.
        revocation: ``"authoritative"`` (every validation asks the store: a revoke is seen by the
            very next request anywhere) or ``"cached"`` (a valid answer is reused for at most
            ``cache_ttl``; the store's revocation feed, Redis pub/sub, drops it at once).
        cache_ttl: The hard lifetime of a cached answer in cached mode (at most 5 seconds): the
            longest a revoke can go unseen if a pub/sub message is lost.
        clock: Time for audit events and the consent check (expiry is the store's clock).

    Raises:
        InvalidInputError: An argument broke its rule (named by field).

    Examples:
        >>> service = ImpersonationService()
        >>> agent = Principal(user_id="agent-7", role="support_agent", login_session_id="ls-1")
        >>> patient = Principal(user_id="patient-42", role="patient")
        >>> started = service.start(agent, patient, ticket_id="ZD-48213",
        ...                         reason="Cannot see lab results")
        >>> result = service.validate(started.token)
        >>> (result.valid, result.actor_id, result.target_id)
        (True, 'agent-7', 'patient-42')
        >>> service.end(started.id, actor=agent).status
        <SessionStatus.ENDED: 'ended'>
        >>> service.validate(started.token).reason
        'ended'
    """

    def __init__(
        self,
        store: ImpersonationStore | None = None,
        *,
        audit: AuditTrail | AuditLog | None = None,
        notifier: Notifier | None = None,
        notification: Literal["best_effort", "required"] = "best_effort",
        policy: ImpersonationPolicy | None = None,
        directory: Directory | None = None,
        revocation: Literal["authoritative", "cached"] = "authoritative",
        cache_ttl: timedelta = timedelta(seconds=2),
        clock: Clock | None = None,
    ) -> None:
        if revocation not in ("authoritative", "cached"):
            raise InvalidInputError("revocation", "must be 'authoritative' or 'cached'")
        ttl: object = cache_ttl
        if not isinstance(ttl, timedelta) or not timedelta(0) < ttl <= _MAX_CACHE_TTL:
            raise InvalidInputError("cache_ttl", "must be a timedelta above 0 and at most 5 s")
        if clock is not None and not isinstance(clock, Clock):
            raise InvalidInputError("clock", "must be a Clock")
        self._clock: Clock = clock or SystemClock()
        if store is not None and not isinstance(store, ImpersonationStore):
            raise InvalidInputError("store", "must be an ImpersonationStore")
        if isinstance(audit, AuditTrail):
            trail = audit
        elif audit is None or isinstance(audit, AuditLog):
            trail = AuditTrail(audit, clock=self._clock)
        else:
            raise InvalidInputError("audit", "must be an AuditTrail or an AuditLog")
        if notifier is not None and not isinstance(notifier, Notifier):
            raise InvalidInputError("notifier", "must be a Notifier")
        if notification not in ("best_effort", "required"):
            raise InvalidInputError("notification", "must be 'best_effort' or 'required'")
        if notification == "required" and notifier is None:
            raise InvalidInputError("notifier", "is required when notification is 'required'")
        if policy is not None and not isinstance(policy, ImpersonationPolicy):
            raise InvalidInputError("policy", "must be an ImpersonationPolicy")
        if directory is not None and not callable(directory):
            raise InvalidInputError("directory", "must be callable")
        self.store: ImpersonationStore = store or InMemoryImpersonationStore(clock=self._clock)
        self.audit = trail
        self.policy = policy or ImpersonationPolicy()
        self._notifier = notifier
        self._notification = notification
        self._directory = directory
        self._cached = revocation == "cached"
        self._cache_ttl = ttl.total_seconds()
        self._cache: dict[str, tuple[ImpersonationSession, float]] = {}
        self._cache_ids: dict[str, str] = {}
        self._subscription: Subscription | None = None
        self._feed_live = False
        self._feed_lock = threading.Lock()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = "uh:impersonation",
        notifier: Notifier | None = None,
        notification: Literal["best_effort", "required"] = "best_effort",
        policy: ImpersonationPolicy | None = None,
        signing_key: bytes | None = None,
    ) -> ImpersonationService:
        """A service whose sessions and audit log live in Redis at ``url`` (no connection yet).

        Args:
            url: A Redis URL.
            prefix: Key prefix for the store and the log.
            notifier: See the class.
            notification: See the class.
            policy: See the class.
            signing_key: The audit checkpoint key (32 bytes or more).

        Returns:
            The service; `close` closes the Redis clients it made.

        Raises:
            InvalidInputError: The URL or another argument is invalid.

        Examples:
            >>> service = ImpersonationService.from_url("redis://127.0.0.1:6379/0")
            >>> type(service.store).__name__
            'RedisImpersonationStore'
            >>> service.close()
        """
        from unified_health.impersonation.stores._redis import (
            RedisAuditLog,
            RedisImpersonationStore,
        )

        store = RedisImpersonationStore.from_url(url, prefix=prefix)
        log = RedisAuditLog.from_url(url, prefix=prefix)
        return cls(
            store,
            audit=AuditTrail(log, signing_key=signing_key),
            notifier=notifier,
            notification=notification,
            policy=policy,
        )

    @classmethod
    def from_env(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        notifier: Notifier | None = None,
        notification: Literal["best_effort", "required"] = "best_effort",
        policy: ImpersonationPolicy | None = None,
    ) -> ImpersonationService:
        """A service configured from the environment; in memory when no Redis URL is set.

        Variables: ``UH_IMPERSONATION_REDIS_URL``, ``UH_IMPERSONATION_PREFIX`` and
        ``UH_IMPERSONATION_AUDIT_KEY`` (the checkpoint key, hex).

        Args:
            environ: The environment (``os.environ`` unless given).
            notifier: See the class.
            notification: See the class.
            policy: See the class.

        Returns:
            The service.

        Raises:
            InvalidInputError: A variable is malformed (named, its value never shown).

        Examples:
            >>> type(ImpersonationService.from_env(environ={}).store).__name__
            'InMemoryImpersonationStore'
        """
        env = os.environ if environ is None else environ
        key_hex = env.get("UH_IMPERSONATION_AUDIT_KEY")
        key: bytes | None = None
        if key_hex:
            try:
                key = bytes.fromhex(key_hex)
            except ValueError:
                raise InvalidInputError("UH_IMPERSONATION_AUDIT_KEY", "must be hex") from None
        url = env.get("UH_IMPERSONATION_REDIS_URL")
        if url:
            return cls.from_url(
                url,
                prefix=env.get("UH_IMPERSONATION_PREFIX", "uh:impersonation"),
                notifier=notifier,
                notification=notification,
                policy=policy,
                signing_key=key,
            )
        return cls(
            audit=AuditTrail(signing_key=key),
            notifier=notifier,
            notification=notification,
            policy=policy,
        )

    # ------------------------------------------------------------------ audit

    def _record(self, event: AuditEvent, *, must: bool) -> None:
        """Append to the audit trail; on failure raise (``must``) or log once."""
        try:
            self.audit.record(event)
        except StoreUnavailableError:
            if must:
                raise
            logger.warning("audit_append_failed", action=event.action.value)

    def _event(self, action: AuditAction, outcome: str, **fields: str | None) -> AuditEvent:
        return AuditEvent(action=action, outcome=outcome, at=self._clock.now(), **fields)

    def _deny(self, reason: str, must: bool = True, /, **fields: str | None) -> None:
        logger.info(
            "impersonation_denied",
            denial=reason,
            actor_id=fields.get("actor_id"),
            target_id=fields.get("target_id"),
        )
        self._record(self._event(AuditAction.DENY, "denied", denial=reason, **fields), must=must)

    # ------------------------------------------------------------------ start

    def start(
        self,
        actor: Principal,
        target: Principal,
        *,
        ticket_id: str,
        reason: str,
        duration: timedelta | None = None,
        scopes: list[str] | tuple[str, ...] | None = None,
        source_ip: str | None = None,
        approval_id: str | None = None,
    ) -> StartedImpersonation:
        """Start impersonating ``target`` as ``actor``, if the policy allows it.

        Args:
            actor: Who acts; must carry ``login_session_id`` (the session is bound to it).
            target: For whom.
            ticket_id: The support ticket (checked against the policy's format and checker).
            reason: Why; cleaned of control, ANSI and bidi characters and NFC-normalised.
            duration: How long; the policy's maximum (one hour at most) unless shorter.
            scopes: The allowed actions; read-only (``["read"]``) unless given.
            source_ip: Where the actor's request came from, for the audit trail.
            approval_id: For a target on the policy's ``approval_required_for`` list, the id of
                an approved `request_approval` for this actor, target and ticket (used once).

        Returns:
            The session and its token (the token is shown only here).

        Raises:
            InvalidInputError: Bad input (named by field); audited as a denial.
            ImpersonationDeniedError: The policy refused (see ``reason``); audited.
            StoreUnavailableError: The store or the audit log could not be reached; no
                session was handed out.
            ProviderError: Under ``required`` notification, the notice failed; the session was
                revoked.
        """
        known: dict[str, str | None] = {}
        try:
            actor_p = _principal(actor, "actor")
            known["actor_id"] = actor_p.user_id
            known["actor_login_session_id"] = actor_p.login_session_id
            target_p = _principal(target, "target")
            known["target_id"] = target_p.user_id
            if actor_p.login_session_id is None:
                raise InvalidInputError("actor.login_session_id", "is required of an actor")
            ticket = self.policy.check_ticket_id(ticket_id)
            known["ticket_id"] = ticket
            clean_reason = self.policy.sanitize_reason(reason)
            known["reason"] = clean_reason
            length = self.policy.check_duration(duration)
            allowed = check_scopes(scopes)
            ip = _source_ip(source_ip)
            known["source_ip"] = ip
            if approval_id is not None:
                self._approval_id(approval_id)
            denial = self.policy.decide(actor_p, target_p, ticket, at=self._clock.now())
        except InvalidInputError as exc:
            self._deny(DenialReason.INVALID_INPUT.value, detail=exc.field, **known)
            raise
        if denial is None and target_p.user_id in self.policy.approval_required_for:
            denial = self._use_approval(approval_id, actor_p, target_p, ticket)
        if denial is not None:
            self._deny(denial.value, **known)
            raise ImpersonationDeniedError(denial.value)
        token = "uhi_" + secrets.token_urlsafe(32)
        session_id, token_hash = hash_token(token)
        new = NewSession(
            id=session_id,
            actor_id=actor_p.user_id,
            actor_role=actor_p.role,
            actor_login_session_id=actor_p.login_session_id,
            target_id=target_p.user_id,
            target_role=target_p.role,
            ticket_id=ticket,
            reason=clean_reason,
            scopes=allowed,
            duration_us=int(length / timedelta(microseconds=1)),
            source_ip=ip,
        )
        try:
            session = self.store.create(new, token_hash)
        except ImpersonationDeniedError as exc:
            self._deny(exc.reason, **known)
            raise
        except StoreUnavailableError:
            self._deny(DenialReason.STORE_UNAVAILABLE.value, False, **known)
            raise
        try:
            self._record(
                self._event(AuditAction.START, "success", session_id=session.id, **known),
                must=True,
            )
        except StoreUnavailableError:
            self._abandon(session.id, "audit_unavailable")
            raise
        self._notify(session, known)
        logger.info(
            "impersonation_started",
            session_id=session.id,
            actor_id=session.actor_id,
            target_id=session.target_id,
        )
        return StartedImpersonation(session, token)

    def _use_approval(
        self, approval_id: str | None, actor: Principal, target: Principal, ticket: str
    ) -> DenialReason | None:
        if approval_id is None:
            return DenialReason.APPROVAL_REQUIRED
        if self.store.consume_approval(approval_id, actor.user_id, target.user_id, ticket):
            return None
        return DenialReason.APPROVAL_INVALID

    @staticmethod
    def _approval_id(approval_id: object) -> str:
        if not isinstance(approval_id, str) or not _APPROVAL_ID.fullmatch(approval_id):
            raise InvalidInputError("approval_id", "must be an approval request id")
        return approval_id

    def request_approval(
        self, actor: Principal, target: Principal, *, ticket_id: str, reason: str
    ) -> ApprovalRequest:
        """Ask a second person to approve impersonating a sensitive target.

        The policy is checked now as for `start` (a request the policy would refuse is refused);
        the request expires after the policy's ``approval_window``.

        Args:
            actor: Who will act (must carry ``login_session_id``).
            target: For whom.
            ticket_id: The support ticket; `start` must name the same one.
            reason: Why; cleaned as for `start` and kept in the audit trail.

        Returns:
            The pending request; give its ``id`` to the approver, then to `start`.

        Raises:
            InvalidInputError: Bad input (named), audited.
            ImpersonationDeniedError: The policy refused, audited.
            StoreUnavailableError: The store could not be reached.
        """
        known: dict[str, str | None] = {}
        try:
            actor_p = _principal(actor, "actor")
            known["actor_id"] = actor_p.user_id
            target_p = _principal(target, "target")
            known["target_id"] = target_p.user_id
            if actor_p.login_session_id is None:
                raise InvalidInputError("actor.login_session_id", "is required of an actor")
            known["ticket_id"] = self.policy.check_ticket_id(ticket_id)
            known["reason"] = self.policy.sanitize_reason(reason)
            denial = self.policy.decide(actor_p, target_p, known["ticket_id"], at=self._clock.now())
        except InvalidInputError as exc:
            self._deny(DenialReason.INVALID_INPUT.value, detail=exc.field, **known)
            raise
        if denial is not None:
            self._deny(denial.value, **known)
            raise ImpersonationDeniedError(denial.value)
        window_us = int(self.policy.approval_window / timedelta(microseconds=1))
        request = self.store.create_approval(
            "apr_" + secrets.token_hex(16),
            actor_p.user_id,
            target_p.user_id,
            str(known["ticket_id"]),
            window_us,
        )
        self._record(
            self._event(AuditAction.APPROVAL_REQUEST, "success", detail=request.id, **known),
            must=True,
        )
        return request

    def approve(self, approval_id: str, *, approver: Principal) -> ApprovalRequest:
        """Approve a pending request: a second person holding ``approve_impersonations``.

        Args:
            approval_id: The request.
            approver: Who approves; neither the actor nor the target.

        Returns:
            The approved request.

        Raises:
            InvalidInputError: Wrong types or a malformed id.
            NotFoundError: No such request.
            ImpersonationDeniedError: ``approver_not_allowed`` (the actor, the target, or without
                the permission) or ``approval_invalid`` (expired or already approved); audited.
            StoreUnavailableError: The store could not be reached.
        """
        request_id = self._approval_id(approval_id)
        who = _principal(approver, "approver")
        request = self.store.get_approval(request_id)
        if request is None:
            raise NotFoundError("approval request", request_id)
        fields: dict[str, str | None] = {
            "actor_id": request.actor_id,
            "target_id": request.target_id,
            "ticket_id": request.ticket_id,
            "detail": request_id,
            "by": who.user_id,
        }
        role = self.policy.roles.get(who.role)
        if (
            who.user_id in (request.actor_id, request.target_id)
            or role is None
            or APPROVE_IMPERSONATIONS not in role.permissions
        ):
            self._deny(DenialReason.APPROVER_NOT_ALLOWED.value, **fields)
            raise ImpersonationDeniedError(DenialReason.APPROVER_NOT_ALLOWED.value)
        approved = self.store.approve(request_id, who.user_id)
        if approved is None or approved.approved_by != who.user_id:
            self._deny(DenialReason.APPROVAL_INVALID.value, **fields)
            raise ImpersonationDeniedError(DenialReason.APPROVAL_INVALID.value)
        self._record(self._event(AuditAction.APPROVE, "success", **fields), must=True)
        return approved

    def _abandon(self, session_id: str, why: str) -> None:
        try:
            self.store.finish(session_id, SessionStatus.REVOKED, by="system", reason=why)
        except StoreUnavailableError:
            logger.warning("session_abandon_failed", session_id=session_id)

    def _notify(self, session: ImpersonationSession, known: dict[str, str | None]) -> None:
        if self._notifier is None:
            return
        notice = ImpersonationNotice(
            id=secrets.token_hex(16),
            session_id=session.id,
            target_id=session.target_id,
            actor_id=session.actor_id,
            ticket_id=session.ticket_id,
            started_at=session.started_at,
            expires_at=session.expires_at,
        )
        try:
            self._notifier.notify(notice)
        except Exception as exc:
            logger.warning("notice_failed", session_id=session.id, error_class=type(exc).__name__)
            if self._notification == "best_effort":
                return
            self._abandon(session.id, DenialReason.NOTIFICATION_FAILED.value)
            self._record(
                self._event(
                    AuditAction.REVOKE,
                    "failure",
                    session_id=session.id,
                    denial=DenialReason.NOTIFICATION_FAILED.value,
                    **known,
                ),
                must=False,
            )
            if isinstance(exc, ProviderError):
                raise
            raise ProviderError("the notifier failed", attempts=1) from exc

    # ------------------------------------------------------------------ validate

    def validate(
        self,
        token: str,
        *,
        login_session_id: str | None = None,
        source_ip: str | None = None,
    ) -> Validation:
        """Check a token on every request: who acts for whom, or why not.

        Args:
            token: The impersonation token the request carried.
            login_session_id: The login session of the request; when given it must be the one
                the impersonation is bound to.
            source_ip: Where the request came from, for the audit trail.

        Returns:
            A `Validation`; failures (malformed, unknown, expired, ended, revoked, bound to
            another login, no longer allowed by the policy, store unreachable) are audited and
            come back with ``valid=False`` and the reason.

        Raises:
            InvalidInputError: ``token`` (or another argument) has the wrong type.
        """
        if not isinstance(token, str):
            raise InvalidInputError("token", "must be a str")
        if login_session_id is not None and not isinstance(login_session_id, str):
            raise InvalidInputError("login_session_id", "must be a str or None")
        if source_ip is not None:
            source_ip = _source_ip(source_ip)
        if not _TOKEN.fullmatch(token):
            return self._invalid(DenialReason.MALFORMED_TOKEN, None, source_ip)
        session_id, token_hash = hash_token(token)
        cached = self._from_cache(token_hash) if self._cached else None
        if cached is not None:
            session = cached
        else:
            try:
                found, expired_now = self.store.lookup(session_id, token_hash)
            except StoreUnavailableError:
                return self._invalid(DenialReason.STORE_UNAVAILABLE, None, source_ip)
            if found is None:
                return self._invalid(DenialReason.UNKNOWN_TOKEN, None, source_ip)
            session = found
            if expired_now:
                self._record_expiry(session)
            if session.status is not SessionStatus.ACTIVE:
                return self._invalid(_STATUS_DENIAL[session.status], session, source_ip)
            if self._cached and self._feed_live:
                self._cache[token_hash] = (session, self._clock.monotonic() + self._cache_ttl)
                self._cache_ids[session.id] = token_hash
        if login_session_id is not None and login_session_id != session.actor_login_session_id:
            return self._invalid(DenialReason.LOGIN_SESSION_MISMATCH, session, source_ip)
        if self._directory is not None:
            problem = self._recheck(session)
            if problem is not None:
                return self._invalid(problem, session, source_ip)
        return Validation(True, None, session)

    def _from_cache(self, token_hash: str) -> ImpersonationSession | None:
        if not self._feed_live:
            self._listen()
            return None
        entry = self._cache.get(token_hash)
        if entry is None:
            return None
        session, deadline = entry
        if self._clock.monotonic() < deadline and session.expires_at > self._clock.now():
            return session
        self._forget(session.id)
        return None

    def _listen(self) -> None:
        """Subscribe to the store's revocation feed (first cached validation); none, no cache."""
        subscribe = getattr(self.store, "subscribe_revocations", None)
        if subscribe is None:
            return
        with self._feed_lock:
            if self._feed_live:
                return
            try:
                self._subscription = subscribe(self._forget, self._feed_broken)
            except StoreUnavailableError:
                return
            self._feed_live = True

    def _forget(self, session_id: str) -> None:
        token_hash = self._cache_ids.pop(session_id, None)
        if token_hash is not None:
            self._cache.pop(token_hash, None)

    def _feed_broken(self) -> None:
        self._feed_live = False
        self._cache.clear()
        self._cache_ids.clear()

    def _recheck(self, session: ImpersonationSession) -> DenialReason | None:
        assert self._directory is not None
        try:
            actor = self._directory(session.actor_id)
            target = self._directory(session.target_id)
        except Exception as exc:  # noqa: BLE001 - a failing directory denies (fail closed)
            logger.warning(
                "directory_failed", session_id=session.id, error_class=type(exc).__name__
            )
            return DenialReason.POLICY_CHANGED
        denial: DenialReason | None
        if (
            not isinstance(actor, Principal)
            or not isinstance(target, Principal)
            or (actor.user_id, target.user_id) != (session.actor_id, session.target_id)
        ):
            denial = DenialReason.UNKNOWN_USER
        else:
            try:
                denial = self.policy.decide(actor, target, None)
            except InvalidInputError:
                denial = DenialReason.UNKNOWN_USER
        if denial is None:
            return None
        self._finish(session.id, SessionStatus.REVOKED, by="policy", why=denial.value, must=False)
        return DenialReason.POLICY_CHANGED

    def _invalid(
        self, reason: DenialReason, session: ImpersonationSession | None, source_ip: str | None
    ) -> Validation:
        fields: dict[str, str | None] = {"source_ip": source_ip}
        if session is not None:
            fields.update(
                session_id=session.id, actor_id=session.actor_id, target_id=session.target_id
            )
        logger.info("validation_failed", denial=reason.value, session_id=fields.get("session_id"))
        self._record(
            self._event(AuditAction.VALIDATION_FAILURE, "denied", denial=reason.value, **fields),
            must=False,
        )
        return Validation(False, reason.value, session)

    def _record_expiry(self, session: ImpersonationSession) -> None:
        logger.info("impersonation_expired", session_id=session.id)
        self._record(
            self._event(
                AuditAction.EXPIRE,
                "success",
                session_id=session.id,
                actor_id=session.actor_id,
                target_id=session.target_id,
                ticket_id=session.ticket_id,
            ),
            must=False,
        )

    # ------------------------------------------------------------------ end, revoke, list

    def _finish(
        self, session_id: str, status: SessionStatus, *, by: str, why: str, must: bool = True
    ) -> ImpersonationSession | None:
        self._forget(session_id)
        session, changed = self.store.finish(session_id, status, by=by, reason=why)
        if session is None or not changed:
            return session
        if session.status is SessionStatus.EXPIRED:
            self._record_expiry(session)
            return session
        action = AuditAction.END if status is SessionStatus.ENDED else AuditAction.REVOKE
        logger.info(f"impersonation_{status.value}", session_id=session.id)
        self._record(
            self._event(
                action,
                "success",
                session_id=session.id,
                actor_id=session.actor_id,
                target_id=session.target_id,
                ticket_id=session.ticket_id,
                detail=why,
                by=by,
            ),
            must=must,
        )
        return session

    def _session_id(self, session_id: object) -> str:
        if not isinstance(session_id, str):
            raise InvalidInputError("session_id", "must be a str")
        if not _SESSION_ID.fullmatch(session_id):
            raise InvalidInputError("session_id", "must be an impersonation session id")
        return session_id

    def end(self, session_id: str, *, actor: Principal) -> ImpersonationSession:
        """End a session; only its actor may. Ending twice changes nothing.

        Args:
            session_id: The session.
            actor: Who ends it (must be the session's actor).

        Returns:
            The session as it now stands (``ended``, or ``expired`` if its time was up).

        Raises:
            InvalidInputError: A wrong type or a malformed id.
            NotFoundError: No such session.
            ImpersonationDeniedError: ``actor`` is not the session's actor (``not_actor``).
            StoreUnavailableError: The store could not be reached.
        """
        sid = self._session_id(session_id)
        who = _principal(actor, "actor")
        current = self.store.get(sid)
        if current is None:
            raise NotFoundError("impersonation session", sid)
        if current.actor_id != who.user_id:
            self._deny(
                DenialReason.NOT_ACTOR.value, actor_id=who.user_id, session_id=sid, detail="end"
            )
            raise ImpersonationDeniedError(DenialReason.NOT_ACTOR.value, session_id=sid)
        finished = self._finish(sid, SessionStatus.ENDED, by=who.user_id, why="ended")
        assert finished is not None
        return finished

    def revoke(
        self, session_id: str, *, by: Principal, reason: str = "revoked"
    ) -> ImpersonationSession:
        """Revoke a session: its actor, or anyone holding ``revoke_impersonations`` may.

        Args:
            session_id: The session.
            by: Who revokes.
            reason: A short code recorded in the audit trail (letters, digits, ``_``).

        Returns:
            The session as it now stands.

        Raises:
            InvalidInputError: A wrong type or a malformed id or reason.
            NotFoundError: No such session.
            ImpersonationDeniedError: ``by`` may not revoke it (``missing_permission``).
            StoreUnavailableError: The store could not be reached.
        """
        sid = self._session_id(session_id)
        who = self._revoker(by, reason)
        current = self.store.get(sid)
        if current is None:
            raise NotFoundError("impersonation session", sid)
        if current.actor_id != who.user_id and not self._may_revoke(who):
            self._deny(
                DenialReason.MISSING_PERMISSION.value,
                actor_id=who.user_id,
                session_id=sid,
                detail="revoke",
            )
            raise ImpersonationDeniedError(DenialReason.MISSING_PERMISSION.value, session_id=sid)
        finished = self._finish(sid, SessionStatus.REVOKED, by=who.user_id, why=reason)
        assert finished is not None
        return finished

    def _revoker(self, by: object, reason: object) -> Principal:
        who = _principal(by, "by")
        if not isinstance(reason, str) or not re.fullmatch(r"[a-z0-9_]{1,64}", reason):
            raise InvalidInputError("reason", "must be a short code of a-z, 0-9 and _")
        return who

    def _may_revoke(self, who: Principal) -> bool:
        role = self.policy.roles.get(who.role)
        return role is not None and REVOKE_IMPERSONATIONS in role.permissions

    def revoke_for_target(
        self, target_id: str, *, by: Principal, reason: str = "revoked_for_target"
    ) -> list[ImpersonationSession]:
        """Revoke every active session impersonating ``target_id`` (e.g. at the patient's request).

        ``by`` is the target themself, or anyone who may revoke (see `revoke`).

        Returns:
            The sessions revoked.

        Raises:
            InvalidInputError: A wrong type or malformed value.
            ImpersonationDeniedError: ``by`` may not (``missing_permission``).
            StoreUnavailableError: The store could not be reached.
        """
        if not isinstance(target_id, str):
            raise InvalidInputError("target_id", "must be a str")
        who = self._revoker(by, reason)
        if who.user_id != target_id and not self._may_revoke(who):
            self._deny(
                DenialReason.MISSING_PERMISSION.value,
                actor_id=who.user_id,
                target_id=target_id,
                detail="revoke_for_target",
            )
            raise ImpersonationDeniedError(DenialReason.MISSING_PERMISSION.value)
        revoked = []
        for session in self.store.list_active():
            if session.target_id == target_id:
                done = self._finish(session.id, SessionStatus.REVOKED, by=who.user_id, why=reason)
                if done is not None and done.status is SessionStatus.REVOKED:
                    revoked.append(done)
        return revoked

    def end_login_session(self, login_session_id: str) -> list[ImpersonationSession]:
        """End every impersonation bound to a login session; call it when that login ends.

        Returns:
            The sessions ended.

        Raises:
            InvalidInputError: ``login_session_id`` is not a str.
            StoreUnavailableError: The store could not be reached.
        """
        if not isinstance(login_session_id, str):
            raise InvalidInputError("login_session_id", "must be a str")
        ended = []
        for session in self.store.list_active():
            if session.actor_login_session_id == login_session_id:
                done = self._finish(
                    session.id, SessionStatus.ENDED, by=session.actor_id, why="login_ended"
                )
                if done is not None and done.status is SessionStatus.ENDED:
                    ended.append(done)
        return ended

    def list_active(self) -> list[ImpersonationSession]:
        """Every session active now (by the store's clock).

        Raises:
            StoreUnavailableError: The store could not be reached.
        """
        return self.store.list_active()

    def sweep_expired(self, limit: int = 100) -> list[ImpersonationSession]:
        """Mark sessions whose time is up as expired and audit each expiry once.

        Validation already refuses them; run this periodically so that sessions nobody used
        again still get their ``expire`` event.

        Returns:
            The sessions marked expired by this call.
        """
        given: object = limit
        if isinstance(given, bool) or not isinstance(given, int) or not 1 <= given <= 10_000:
            raise InvalidInputError("limit", "must be an int from 1 to 10000")
        expired = self.store.expire_due(limit)
        for session in expired:
            self._record_expiry(session)
        return expired

    # ------------------------------------------------------------------ guards

    def require_not_impersonating(self, validation: Validation | None, *, action: str) -> None:
        """Refuse a sensitive action (password change, payment, ...) during impersonation.

        Args:
            validation: What `validate` returned for this request, or ``None`` when the request
                carried no impersonation token.
            action: The action's name, for the audit trail.

        Raises:
            InvalidInputError: Wrong types.
            ImpersonationDeniedError: The request impersonates (``impersonation_active``), or
                carried a token that did not validate; audited as a scope violation.

        Examples:
            >>> service = ImpersonationService()
            >>> service.require_not_impersonating(None, action="change_password") is None
            True
        """
        name = self._action(action)
        if validation is None:
            return
        if not isinstance(validation, Validation):
            raise InvalidInputError("validation", "must be a Validation or None")
        self._violation(validation, name, DenialReason.IMPERSONATION_ACTIVE)

    def require_scope(self, validation: Validation | None, scope: str) -> None:
        """Allow an action only if the impersonation session's scopes include it.

        Args:
            validation: What `validate` returned, or ``None`` when not impersonating (then the
                person acts as themself and this guard allows).
            scope: The action, e.g. ``"read"`` or ``"messages:send"``.

        Raises:
            InvalidInputError: Wrong types.
            ImpersonationDeniedError: ``scope_not_granted`` (audited), or the validation's own
                reason when it was not valid.

        Examples:
            >>> ImpersonationService().require_scope(None, "messages:send") is None
            True
        """
        name = self._action(scope)
        if validation is None:
            return
        if not isinstance(validation, Validation):
            raise InvalidInputError("validation", "must be a Validation or None")
        if validation.valid and validation.session is not None:
            if name in validation.session.scopes:
                return
            self._violation(validation, name, DenialReason.SCOPE_NOT_GRANTED)
        self._violation(validation, name, DenialReason(validation.reason or "unknown_token"))

    @staticmethod
    def _action(action: object) -> str:
        if not isinstance(action, str) or not re.fullmatch(r"[a-z][a-z0-9_.:-]{0,63}", action):
            raise InvalidInputError("action", "must match ^[a-z][a-z0-9_.:-]{0,63}$")
        return action

    def _violation(self, validation: Validation, action: str, reason: DenialReason) -> None:
        session = validation.session
        logger.info(
            "scope_violation",
            denial=reason.value,
            session_id=None if session is None else session.id,
        )
        self._record(
            self._event(
                AuditAction.SCOPE_VIOLATION,
                "denied",
                denial=reason.value,
                detail=action,
                session_id=None if session is None else session.id,
                actor_id=validation.actor_id,
                target_id=validation.target_id,
            ),
            must=False,
        )
        raise ImpersonationDeniedError(
            reason.value, session_id=None if session is None else session.id
        )

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the store and audit log the service made (`from_url`); injected ones stay open."""
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None
            self._feed_broken()
        self.store.close()
        self.audit.log.close()

    def __enter__(self) -> ImpersonationService:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
