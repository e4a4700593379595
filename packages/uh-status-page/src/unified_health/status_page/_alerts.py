"""`PagerDutyAlerter`: PagerDuty Events API v2 trigger and resolve with a stable dedup key.

The dedup key is the outage fingerprint (`outage_fingerprint`), the same in every process, so
four processes that detect one outage raise one PagerDuty alert, and the resolve closes it.
Pass an alerter to `StatusMonitor(alerter=...)`; there a failed alert is logged and never
raised into the monitor.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx

from unified_health.status_page._errors import InvalidInputError, ProviderError, RateLimitedError
from unified_health.status_page._logging import logger

__all__ = ["DEFAULT_EVENTS_URL", "PagerDutyAlerter"]

DEFAULT_EVENTS_URL = "https://events.pagerduty.com"
_SEVERITIES = ("critical", "error", "warning", "info")


class PagerDutyAlerter:
    """Sends ``trigger`` and ``resolve`` events to PagerDuty Events API v2.

    Args:
        routing_key: The 32-character integration key (never logged).
        base_url: The Events API root.
        http_client: Your ``httpx.Client`` (never closed by the alerter).
        source: The ``payload.source`` of triggers (a host or service name, not patient data).
        severity: ``critical``, ``error``, ``warning`` or ``info``.
        timeout: Seconds per request.
        max_retries: Retries after a 429 or a 5xx (events are idempotent by dedup key).
        sleep: How to wait between attempts.

    Raises:
        InvalidInputError: A bad routing key or severity.

    Examples:
        >>> alerter = PagerDutyAlerter("r" * 32, source="status-monitor")
        >>> alerter.event("trigger", "outage-1", "api outage")["dedup_key"]
        'outage-1'
        >>> alerter.close()
    """

    def __init__(
        self,
        routing_key: str,
        *,
        base_url: str = DEFAULT_EVENTS_URL,
        http_client: httpx.Client | None = None,
        source: str = "uh-status-page",
        severity: str = "critical",
        timeout: float = 5.0,
        max_retries: int = 2,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        key: object = routing_key
        if not isinstance(key, str) or len(key) != 32:
            raise InvalidInputError("routing_key", "must be the 32-character integration key")
        if severity not in _SEVERITIES:
            raise InvalidInputError("severity", "must be one of: " + ", ".join(_SEVERITIES))
        self._key = routing_key
        self._url = base_url.rstrip("/") + "/v2/enqueue"
        self._owns = http_client is None
        self._http = http_client if http_client is not None else httpx.Client()
        self._source = source
        self._severity = severity
        self._timeout = timeout
        self._retries = max_retries
        self._sleep = sleep if sleep is not None else time.sleep
        self._random = random.Random()  # noqa: S311 - backoff jitter, not secrets

    def event(self, action: str, dedup_key: str, summary: str) -> dict[str, Any]:
        """Build the event body for ``action`` (``trigger`` or ``resolve``).

        Raises:
            InvalidInputError: Unknown action, or an empty dedup key.
        """
        if action not in ("trigger", "resolve"):
            raise InvalidInputError("action", "must be trigger or resolve")
        given: object = dedup_key
        if not isinstance(given, str) or not given or len(given) > 255:
            raise InvalidInputError("dedup_key", "must be a str of 1 to 255 characters")
        body: dict[str, Any] = {
            "routing_key": self._key,
            "event_action": action,
            "dedup_key": dedup_key,
        }
        if action == "trigger":
            body["payload"] = {
                "summary": summary[:1024],
                "source": self._source,
                "severity": self._severity,
                "component": dedup_key,
            }
            body["client"] = "uh-status-page"
        return body

    def send(self, action: str, dedup_key: str, summary: str = "") -> None:
        """Send one event, retrying a 429 or 5xx.

        Raises:
            RateLimitedError: PagerDuty kept answering 429.
            ProviderError: PagerDuty refused the event or did not answer.
        """
        body = self.event(action, dedup_key, summary)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.post(self._url, json=body, timeout=self._timeout)
            except httpx.TransportError as exc:
                if attempt <= self._retries:
                    self._sleep(0.5 * 2**attempt)
                    continue
                raise ProviderError(
                    f"PagerDuty did not answer ({type(exc).__name__})", attempts=attempt
                ) from exc
            if response.status_code == 202:
                logger.info("alert_sent", action=action, dedup_key=dedup_key)
                return
            retry_after = response.headers.get("Retry-After")
            wait = float(retry_after) if retry_after and retry_after.isdigit() else None
            if (response.status_code == 429 or response.status_code >= 500) and (
                attempt <= self._retries
            ):
                backoff = 0.5 * 2**attempt * (0.5 + self._random.random() / 2)
                self._sleep(max(backoff, wait or 0.0))
                continue
            error = RateLimitedError if response.status_code == 429 else ProviderError
            raise error(
                f"PagerDuty answered {response.status_code}",
                status_code=response.status_code,
                retry_after=wait,
                attempts=attempt,
                body=response.text[:500] or None,
            )

    def __call__(self, action: str, dedup_key: str, summary: str) -> None:
        """Send an event (the `StatusMonitor` alerter signature)."""
        self.send(action, dedup_key, summary)

    def close(self) -> None:
        """Close the HTTP client if the alerter made it."""
        if self._owns:
            self._http.close()

    def __enter__(self) -> PagerDutyAlerter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
