"""Slack alerts through incoming webhooks: a summary of a report, never patient data.

The message holds the period, counts per class, amounts per currency, a bounded list of ids and a
link to the full report. Ids that do not look like ids (an e-mail, anything with spaces) are
replaced by ``[redacted]``; names, e-mails and descriptions are never read from the records at all.
Slack's limits are kept (50 blocks, 3000 characters per section, 150 per header, a short top-level
``text``), one message per second per webhook, and ``Retry-After`` is honoured on 429.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import httpx

from unified_health.billing._clock import Clock, SystemClock
from unified_health.billing._errors import InvalidInputError, ProviderError, RateLimitedError
from unified_health.billing._logging import logger
from unified_health.billing._money import format_money
from unified_health.billing._report import Report

__all__ = ["Alerter", "SlackAlerter", "slack_payload"]

_SAFE_ID = re.compile(r"^[A-Za-z0-9_\-:.]{1,64}$")
_SECTION_LIMIT = 3000
_HEADER_LIMIT = 150
_TEXT_LIMIT = 3000
_MAX_BLOCKS = 50
_last_sent: dict[str, float] = {}
_last_sent_lock = threading.Lock()


@runtime_checkable
class Alerter(Protocol):
    """Where a finished report is announced.

    Examples:
        >>> isinstance(SlackAlerter("https://hooks.slack.com/services/T0/B0/x"), Alerter)
        True
    """

    def send(self, report: Report, *, report_url: str | None = None) -> bool:
        """Announce the report; return whether a message was sent."""
        ...


def _safe(identifier: str) -> str:
    return identifier if _SAFE_ID.match(identifier) else "[redacted]"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_payload(
    report: Report, *, report_url: str | None = None, max_ids: int = 20
) -> dict[str, Any]:
    """Build the webhook message for ``report`` (pure; no I/O).

    Args:
        report: The report.
        report_url: A link to the full report, if you publish one.
        max_ids: How many discrepancies to list by id.

    Returns:
        The JSON payload: ``text`` (the fallback) and ``blocks``.

    Examples:
        >>> from datetime import date
        >>> from unified_health.billing import MatchOutcome, Period, build_report
        >>> p = Period.of("daily", date(2026, 11, 24), "UTC")
        >>> r = build_report(MatchOutcome(), p, generated_at=p.end, window=0, livemode=True)
        >>> slack_payload(r)["text"]
        'Reconciliation 2026-11-24 (live): 0 discrepancies, 0 critical, 0 input errors'
    """
    mode = "live" if report.livemode else "test"
    text = (
        f"Reconciliation {report.period} ({mode}): {report.open_discrepancies} discrepancies, "
        f"{report.critical} critical, {len(report.input_errors)} input errors"
    )
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _clip(f"Reconciliation {report.period} ({mode})", _HEADER_LIMIT),
            },
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, _SECTION_LIMIT)}},
    ]
    totals = report.totals()
    if totals:
        lines = []
        for kind, per_currency in totals.items():
            amounts = ", ".join(format_money(a, c) for c, a in per_currency.items())
            lines.append(f"• *{kind}*: {report.counts.get(kind, 0)} ({amounts})")
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _clip("\n".join(lines), _SECTION_LIMIT)},
            }
        )
    if report.discrepancies:
        lines = []
        for item in report.discrepancies[:max_ids]:
            ids = " / ".join(_safe(i) for i in item.ids[:3])
            lines.append(f"• {item.kind} ({item.severity}): `{ids}`")
        more = len(report.discrepancies) - max_ids
        if more > 0:
            lines.append(f"… and {more} more in the report")
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _clip("\n".join(lines), _SECTION_LIMIT)},
            }
        )
    if report.input_errors:
        rows = ", ".join(f"row {e.row} ({e.field})" for e in report.input_errors[:max_ids])
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": _clip(f"Ledger input errors: {rows}", _SECTION_LIMIT),
                },
            }
        )
    if report_url is not None:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": _clip(f"<{report_url}|Full report>", _SECTION_LIMIT),
                },
            }
        )
    return {"text": _clip(text, _TEXT_LIMIT), "blocks": blocks[:_MAX_BLOCKS]}


class SlackAlerter:
    """Post report summaries to a Slack incoming webhook.

    Construction makes no network call.

    Args:
        webhook_url: The incoming webhook's URL (a secret: never logged or raised).
        http_client: An ``httpx.Client`` to use (never closed here); one is made otherwise.
        only_when_discrepancies: Stay quiet when a report has no discrepancy and no input error.
        max_retries: Retries after a 429, a 5xx or a broken connection.
        timeout: Seconds per request.
        max_ids: How many discrepancies to list by id.
        clock: The clock; sleep: how to wait; seed: jitter's seed.

    Raises:
        InvalidInputError: Not an http(s) URL.

    Examples:
        >>> SlackAlerter("https://hooks.slack.com/services/T0/B0/x").max_retries
        3
    """

    def __init__(
        self,
        webhook_url: str,
        *,
        http_client: httpx.Client | None = None,
        only_when_discrepancies: bool = True,
        max_retries: int = 3,
        timeout: float = 10.0,
        max_ids: int = 20,
        clock: Clock | None = None,
        sleep: Callable[[float], None] | None = None,
        seed: int | None = None,
    ) -> None:
        given: object = webhook_url
        if not isinstance(given, str) or not given.startswith(("https://", "http://")):
            raise InvalidInputError("webhook_url", "must be an http(s) URL")
        self._url = webhook_url
        self._client = http_client
        self.only_when_discrepancies = only_when_discrepancies
        self.max_retries = max_retries
        self.timeout = timeout
        self.max_ids = max_ids
        self._clock = clock or SystemClock()
        self._sleep = sleep or _real_sleep
        self._random = random.Random(seed)  # noqa: S311 - backoff jitter, not secrets

    def _wait_turn(self) -> None:
        """One message per second per webhook, across every alerter in the process."""
        with _last_sent_lock:
            now = self._clock.monotonic()
            last = _last_sent.get(self._url)
            slot = now if last is None else max(now, last + 1.0)
            _last_sent[self._url] = slot
        if slot > now:
            self._sleep(slot - now)

    def send(self, report: Report, *, report_url: str | None = None) -> bool:
        """Post the summary of ``report``; ``False`` when there was nothing to say.

        Raises:
            ProviderError: Slack refused the message or kept failing (after ``max_retries``).
            RateLimitedError: Slack kept answering 429.
        """
        if self.only_when_discrepancies and not report.discrepancies and not report.input_errors:
            return False
        payload = slack_payload(report, report_url=report_url, max_ids=self.max_ids)
        client = self._client or httpx.Client(timeout=self.timeout)
        try:
            self._post(client, payload)
        finally:
            if self._client is None:
                client.close()
        logger.info(
            "alert_sent", run_key=report.run_key, discrepancy_count=report.open_discrepancies
        )
        return True

    def _post(self, client: httpx.Client, payload: dict[str, Any]) -> None:
        attempt = 0
        while True:
            attempt += 1
            self._wait_turn()
            wait = min(30.0, 0.5 * 2.0 ** (attempt - 1)) * (0.5 + self._random.random() / 2)
            try:
                answer = client.post(self._url, json=payload)
            except httpx.HTTPError as exc:
                error: ProviderError = ProviderError(
                    f"Slack could not be reached ({type(exc).__name__})", attempts=attempt
                )
            else:
                if answer.status_code == 200:
                    return
                if answer.status_code == 429:
                    retry_after = _seconds(answer.headers.get("retry-after"))
                    wait = retry_after if retry_after is not None else wait
                    error = RateLimitedError(
                        "Slack answered 429", status_code=429, retry_after=wait, attempts=attempt
                    )
                elif answer.status_code >= 500:
                    error = ProviderError(
                        f"Slack answered {answer.status_code}",
                        status_code=answer.status_code,
                        attempts=attempt,
                    )
                else:
                    raise ProviderError(
                        f"Slack refused the message ({answer.status_code})",
                        status_code=answer.status_code,
                        attempts=attempt,
                    )
            logger.warning("alert_retried", attempt=attempt, status_code=error.status_code)
            if attempt > self.max_retries:
                raise error
            self._sleep(wait)


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _real_sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)
