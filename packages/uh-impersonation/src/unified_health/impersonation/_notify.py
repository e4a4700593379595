"""Telling the impersonated person: the `Notifier` protocol and its implementations.

The service calls ``notify`` right after a session starts. Under the ``required`` policy a failed
notification revokes the session before its token is handed out (no notification, no session);
under ``best_effort`` the failure is logged and the notice stays in the notifier's outbox.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

import httpx

from unified_health.impersonation._clock import Clock, SystemClock
from unified_health.impersonation._errors import (
    InvalidInputError,
    ProviderError,
    RateLimitedError,
)
from unified_health.impersonation._logging import logger

__all__ = [
    "ImpersonationNotice",
    "InMemoryNotifier",
    "NoopNotifier",
    "Notifier",
    "WebhookNotifier",
    "sign_webhook",
]


@dataclass(frozen=True, slots=True)
class ImpersonationNotice:
    """What the impersonated person is told: ids and times only, never the reason text.

    Attributes:
        id: Unique per notice (the webhook's idempotency key).
        session_id: The session.
        target_id: Who is being impersonated (the person to notify).
        actor_id: Who is acting.
        ticket_id: The support ticket.
        started_at: When the session started.
        expires_at: When it ends at the latest.

    Examples:
        >>> from datetime import UTC, datetime
        >>> at = datetime(2026, 1, 5, 9, tzinfo=UTC)
        >>> ImpersonationNotice("n-1", "imp_1", "p-1", "a-1", "ZD-1", at, at).to_json()[:28]
        '{"actor_id":"a-1","expires_a'
    """

    id: str
    session_id: str
    target_id: str
    actor_id: str
    ticket_id: str
    started_at: datetime
    expires_at: datetime

    def to_json(self) -> str:
        """The notice as compact JSON with sorted keys."""
        return json.dumps(
            {
                "id": self.id,
                "type": "impersonation.started",
                "session_id": self.session_id,
                "target_id": self.target_id,
                "actor_id": self.actor_id,
                "ticket_id": self.ticket_id,
                "started_at": self.started_at.isoformat(),
                "expires_at": self.expires_at.isoformat(),
            },
            sort_keys=True,
            separators=(",", ":"),
        )


@runtime_checkable
class Notifier(Protocol):
    """Delivers a notice to the impersonated person; raises when it could not.

    Examples:
        >>> isinstance(InMemoryNotifier(), Notifier)
        True
    """

    def notify(self, notice: ImpersonationNotice) -> None:
        """Deliver the notice or raise."""
        ...


class NoopNotifier:
    """A `Notifier` that tells nobody (for hosts that notify by other means).

    Examples:
        >>> NoopNotifier().notify  # doctest: +ELLIPSIS
        <bound method NoopNotifier.notify of <...NoopNotifier object at ...>>
    """

    def notify(self, notice: ImpersonationNotice) -> None:
        """Do nothing."""


class InMemoryNotifier:
    """A `Notifier` that keeps the notices in ``notices`` (for tests and demos).

    Args:
        fail: When true, every ``notify`` raises `ProviderError` (to test the policies).

    Examples:
        >>> notifier = InMemoryNotifier()
        >>> notifier.notices
        []
    """

    def __init__(self, *, fail: bool = False) -> None:
        self.notices: list[ImpersonationNotice] = []
        self.fail = fail

    def notify(self, notice: ImpersonationNotice) -> None:
        """Keep the notice, or raise `ProviderError` when told to fail."""
        if self.fail:
            raise ProviderError("notification failed", attempts=1)
        self.notices.append(notice)


def sign_webhook(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``X-UH-Signature`` header value: ``t=<unix time>,v1=<HMAC-SHA256 hex>``.

    The HMAC covers ``"<t>." + body``; receivers recompute it and refuse old timestamps.

    Examples:
        >>> sign_webhook(b"s" * 32, 1767603600, b"{}")[:13]
        't=1767603600,'
    """
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class WebhookNotifier:
    """A `Notifier` that POSTs signed JSON to your webhook, with retries, from an outbox.

    Each notice enters the outbox first and leaves it only once the webhook answered 2xx. A
    delivery is retried (exponential backoff with full jitter, at least ``Retry-After``) on
    timeouts, connection errors, 429 and 5xx, up to ``max_retries`` times; other answers fail at
    once. The idempotency key is the notice id, so a retried POST is safe. Undelivered notices
    stay in the outbox; `flush` tries them again.

    Args:
        url: The webhook URL (http or https).
        secret: The HMAC key (at least 32 bytes) for the ``X-UH-Signature`` header.
        client: Your ``httpx.Client`` (never closed by the notifier); one is made otherwise.
        max_retries: Retries after the first attempt.
        timeout: Seconds per attempt when the notifier makes its own client.
        backoff: First backoff in seconds (doubles each retry, capped at 30 s).
        sleep: How to wait between attempts (``time.sleep`` unless given; tests pass
            ``FakeClock.sleep``).
        clock: Time for the signature's timestamp.
        seed: Seed for the backoff jitter.

    Raises:
        InvalidInputError: An argument broke its rule.

    Examples:
        >>> notifier = WebhookNotifier("https://hooks.example.org/impersonation", secret=b"s" * 32)
        >>> notifier.outbox_size
        0
        >>> notifier.close()
    """

    def __init__(
        self,
        url: str,
        *,
        secret: bytes,
        client: httpx.Client | None = None,
        max_retries: int = 3,
        timeout: float = 2.0,
        backoff: float = 0.2,
        sleep: Callable[[float], None] | None = None,
        clock: Clock | None = None,
        seed: int | None = None,
    ) -> None:
        given_url: object = url
        if not isinstance(given_url, str) or not given_url.startswith(("http://", "https://")):
            raise InvalidInputError("url", "must be an http:// or https:// URL")
        given_secret: object = secret
        if not isinstance(given_secret, bytes) or len(given_secret) < 32:
            raise InvalidInputError("secret", "must be bytes of at least 32 bytes")
        if client is not None and not isinstance(client, httpx.Client):
            raise InvalidInputError("client", "must be an httpx.Client")
        retries: object = max_retries
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
            raise InvalidInputError("max_retries", "must be an int from 0 to 10")
        numbers: tuple[tuple[str, object], ...] = (("timeout", timeout), ("backoff", backoff))
        for name, value in numbers:
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise InvalidInputError(name, "must be a number of seconds > 0")
        if sleep is not None and not callable(sleep):
            raise InvalidInputError("sleep", "must be callable")
        self._url = given_url
        self._secret = given_secret
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=timeout)
        self._max_retries = retries
        self._backoff = float(backoff)
        if sleep is None:
            import time

            sleep = time.sleep
        self._sleep = sleep
        self._clock: Clock = clock or SystemClock()
        self._random = random.Random(seed)  # noqa: S311 - jitter, not security
        self._outbox: deque[ImpersonationNotice] = deque()
        self._lock = threading.Lock()

    @property
    def outbox_size(self) -> int:
        """How many notices wait for delivery."""
        return len(self._outbox)

    def notify(self, notice: ImpersonationNotice) -> None:
        """Put the notice in the outbox and deliver it now.

        Raises:
            ProviderError: The webhook did not accept it after the retries (it stays queued).
            RateLimitedError: The last answer was 429.
        """
        if not isinstance(notice, ImpersonationNotice):
            raise InvalidInputError("notice", "must be an ImpersonationNotice")
        with self._lock:
            self._outbox.append(notice)
        self._deliver(notice)
        with self._lock:
            self._outbox.remove(notice)

    def flush(self) -> int:
        """Try every queued notice again; return how many were delivered.

        Failures are logged and leave the notice queued; nothing is raised.
        """
        delivered = 0
        with self._lock:
            pending = list(self._outbox)
        for notice in pending:
            try:
                self._deliver(notice)
            except ProviderError:
                continue
            with self._lock:
                self._outbox.remove(notice)
            delivered += 1
        return delivered

    def _deliver(self, notice: ImpersonationNotice) -> None:
        body = notice.to_json().encode()
        attempts = 0
        while True:
            attempts += 1
            timestamp = int(self._clock.now().timestamp())
            headers = {
                "content-type": "application/json",
                "idempotency-key": notice.id,
                "x-uh-signature": sign_webhook(self._secret, timestamp, body),
            }
            retry_after: float | None = None
            status: int | None = None
            try:
                response = self._client.post(self._url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                error_class = type(exc).__name__
            else:
                status = response.status_code
                if 200 <= status < 300:
                    logger.info("notice_delivered", session_id=notice.session_id, attempts=attempts)
                    return
                error_class = f"http_{status}"
                retry_after = _retry_after(response.headers.get("retry-after"))
                if status != 429 and status < 500:
                    self._fail(notice, status, retry_after, attempts, error_class)
            if attempts > self._max_retries:
                self._fail(notice, status, retry_after, attempts, error_class)
            delay = self._random.uniform(0, min(30.0, self._backoff * 2 ** (attempts - 1)))
            self._sleep(max(delay, retry_after or 0.0))

    def _fail(
        self,
        notice: ImpersonationNotice,
        status: int | None,
        retry_after: float | None,
        attempts: int,
        error_class: str,
    ) -> None:
        logger.warning(
            "notice_failed",
            session_id=notice.session_id,
            attempts=attempts,
            error_class=error_class,
        )
        message = f"webhook did not accept the notice ({error_class})"
        if status == 429:
            raise RateLimitedError(
                message, status_code=status, retry_after=retry_after, attempts=attempts
            )
        raise ProviderError(message, status_code=status, retry_after=retry_after, attempts=attempts)

    def close(self) -> None:
        """Close the HTTP client if the notifier made it."""
        if self._owns_client:
            self._client.close()


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 3600 else None
