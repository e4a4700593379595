"""`ReconciliationService`: one period, or every due period, reconciled exactly once.

A run: take the period's lock, mark the run started in the store, fetch Stripe and read the ledger
for ``[start - W, end + W)``, match and classify, store the report, then alert. A failure marks the
run failed (with the exception's class) and is raised: the period is re-run by the next call.
An alert that cannot be delivered is logged; the stored report stays the source of truth.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from unified_health.billing._bounded import match_records_bounded
from unified_health.billing._clock import Clock, SystemClock
from unified_health.billing._errors import (
    BillingError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from unified_health.billing._ledger import LedgerSource, read_ledger
from unified_health.billing._locks import FileRunLock, RunLock
from unified_health.billing._logging import logger
from unified_health.billing._matching import Finding, check_payouts, match_records
from unified_health.billing._periods import (
    Period,
    PeriodKind,
    due_periods,
    load_zone,
    parse_period,
    period_containing,
)
from unified_health.billing._records import StripeRecord
from unified_health.billing._report import Report, build_report
from unified_health.billing._slack import Alerter, SlackAlerter
from unified_health.billing._stripe import StripeSource
from unified_health.billing.stores._memory import InMemoryReconciliationStore
from unified_health.billing.stores._protocol import ReconciliationStore

__all__ = ["ReconciliationService", "StripeFetcher"]


@runtime_checkable
class StripeFetcher(Protocol):
    """What the service needs from the Stripe side (`StripeSource` is one).

    Examples:
        >>> isinstance(StripeSource("sk_test_1"), StripeFetcher)
        True
    """

    livemode: bool

    def fetch(
        self, start: datetime, end: datetime, *, run_key: str | None = None
    ) -> list[StripeRecord]:
        """Return Stripe's records created in ``[start, end)``."""
        ...


class ReconciliationService:
    """Reconcile Stripe against the host's ledger per period, store reports, alert.

    Args:
        stripe: The Stripe side (a `StripeSource`); its key decides live or test mode.
        ledger: The host's records (a `LedgerSource`).
        alerter: Where reports are announced (a `SlackAlerter`), or ``None``.
        timezone: The business time zone of the periods.
        schedule: ``"daily"``, ``"weekly"`` or ``"monthly"``: what `run_due` runs.
        store: Where runs and reports are kept; in memory by default.
        lock: The run lock; a file lock (one machine) by default, `RedisRunLock` for several.
        window: The tolerance window W.
        settle: How long after its end a period becomes due.
        fuzzy_window: Enables the fuzzy tier with this slack; ``None`` keeps it off.
        first_period: The first local date `run_due` considers; by default the period before
            the current one (no catch-up further back on a fresh store).
        report_url: Builds the link to a report for the alert, from its run key.
        payouts: Also check that each payout created in the period equals the sum of its
            balance transactions (needs a `StripeSource`).
        partitions: Match with `match_records_bounded` in this many partitions, so the ledger
            is streamed through disk instead of memory (the Stripe side stays in memory).
        clock: The clock.

    Raises:
        InvalidInputError: A wrong type for any argument (named, never echoed).

    Examples:
        >>> from unified_health.billing import IterableLedger, StripeSource
        >>> service = ReconciliationService(stripe=StripeSource("sk_test_1"),
        ...                                 ledger=IterableLedger([]), timezone="Europe/Berlin")
        >>> service.run_key(service.period("2026-11-24"))
        'daily:2026-11-24:Europe/Berlin:test'
    """

    def __init__(
        self,
        *,
        stripe: StripeFetcher,
        ledger: LedgerSource,
        alerter: Alerter | None = None,
        timezone: str = "UTC",
        schedule: PeriodKind = "daily",
        store: ReconciliationStore | None = None,
        lock: RunLock | None = None,
        window: timedelta = timedelta(hours=6),
        settle: timedelta = timedelta(hours=2),
        fuzzy_window: timedelta | None = None,
        first_period: date | None = None,
        report_url: Callable[[str], str] | None = None,
        payouts: bool = False,
        partitions: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(stripe, StripeFetcher):
            raise InvalidInputError(
                "stripe", "must be a StripeSource (fetch(start, end) and livemode)"
            )
        if not isinstance(ledger, LedgerSource):
            raise InvalidInputError("ledger", "must implement LedgerSource (rows(start, end))")
        if alerter is not None and not isinstance(alerter, Alerter):
            raise InvalidInputError("alerter", "must have send(report, report_url=...)")
        if schedule not in ("daily", "weekly", "monthly"):
            raise InvalidInputError("schedule", "must be one of: daily, weekly, monthly")
        store = InMemoryReconciliationStore() if store is None else store
        if not isinstance(store, ReconciliationStore):
            raise InvalidInputError("store", "must implement ReconciliationStore")
        lock = FileRunLock() if lock is None else lock
        if not isinstance(lock, RunLock):
            raise InvalidInputError("lock", "must implement RunLock (acquire, release)")
        for name, value in (("window", window), ("settle", settle)):
            given: object = value
            if not isinstance(given, timedelta) or given < timedelta(0):
                raise InvalidInputError(name, "must be a timedelta >= 0")
        fuzzy: object = fuzzy_window
        if fuzzy is not None and (not isinstance(fuzzy, timedelta) or fuzzy <= timedelta(0)):
            raise InvalidInputError("fuzzy_window", "must be a timedelta > 0 or None")
        self.zone = load_zone(timezone)
        self.stripe = stripe
        self.ledger = ledger
        self.alerter = alerter
        self.schedule: PeriodKind = schedule
        self.store = store
        self.lock = lock
        self.window = window
        self.settle = settle
        self.fuzzy_window = fuzzy_window
        self.first_period = first_period
        self.report_url = report_url
        if payouts and not isinstance(stripe, StripeSource):
            raise InvalidInputError("payouts", "needs a StripeSource (fetch_payouts)")
        self.payouts = bool(payouts)
        given_parts: object = partitions
        if given_parts is not None and (
            isinstance(given_parts, bool)
            or not isinstance(given_parts, int)
            or not 1 <= given_parts <= 4096
        ):
            raise InvalidInputError("partitions", "must be an int from 1 to 4096 or None")
        self.partitions = partitions
        self.clock = clock or SystemClock()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        stripe_api_key: str,
        ledger: LedgerSource,
        slack_webhook_url: str | None = None,
        timezone: str = "UTC",
        schedule: PeriodKind = "daily",
    ) -> ReconciliationService:
        """Build a service whose runs and locks live on Redis (``redis://``) or PostgreSQL.

        A ``redis://`` URL gives a Redis store and a Redis lock; a ``postgresql://`` URL gives a
        PostgreSQL store (migrated) and a file lock.

        Raises:
            InvalidInputError: Another URL scheme.

        Examples:
            >>> from unified_health.billing import IterableLedger
            >>> try:
            ...     ReconciliationService.from_url("ftp://x", stripe_api_key="sk_test_1",
            ...                                    ledger=IterableLedger([]))
            ... except InvalidInputError as err:
            ...     print(err.field)
            url
        """
        from unified_health.billing.stores._postgres import PostgresReconciliationStore
        from unified_health.billing.stores._redis import RedisReconciliationStore

        given: object = url
        if not isinstance(given, str):
            raise InvalidInputError("url", "must be a str")
        lock: RunLock
        store: ReconciliationStore
        if url.startswith(("redis://", "rediss://", "unix://")):
            from unified_health.billing._locks import RedisRunLock

            redis_store = RedisReconciliationStore.from_url(url)
            store = redis_store
            lock = RedisRunLock(redis_store._client)
        elif url.startswith(("postgresql://", "postgres://")):
            pg = PostgresReconciliationStore.from_url(url)
            pg.migrate()
            store, lock = pg, FileRunLock()
        else:
            raise InvalidInputError("url", "must be a redis:// or postgresql:// URL")
        return cls(
            stripe=StripeSource(stripe_api_key),
            ledger=ledger,
            alerter=None if slack_webhook_url is None else SlackAlerter(slack_webhook_url),
            timezone=timezone,
            schedule=schedule,
            store=store,
            lock=lock,
        )

    @classmethod
    def from_env(
        cls,
        *,
        ledger: LedgerSource,
        environ: Mapping[str, str] | None = None,
    ) -> ReconciliationService:
        """Build a service from the environment.

        Variables: ``UH_BILLING_STRIPE_API_KEY`` (required), ``UH_BILLING_STORE_URL``,
        ``UH_BILLING_SLACK_WEBHOOK_URL``, ``UH_BILLING_TIMEZONE`` and ``UH_BILLING_SCHEDULE``.

        Raises:
            InvalidInputError: The key is missing (named, never echoed).

        Examples:
            >>> from unified_health.billing import IterableLedger
            >>> env = {"UH_BILLING_STRIPE_API_KEY": "sk_test_1",
            ...        "UH_BILLING_TIMEZONE": "Asia/Tokyo"}
            >>> ReconciliationService.from_env(ledger=IterableLedger([]), environ=env).zone.key
            'Asia/Tokyo'
        """
        env = os.environ if environ is None else environ
        key = env.get("UH_BILLING_STRIPE_API_KEY")
        if not key:
            raise InvalidInputError("UH_BILLING_STRIPE_API_KEY", "is required")
        schedule = env.get("UH_BILLING_SCHEDULE", "daily")
        if schedule not in ("daily", "weekly", "monthly"):
            raise InvalidInputError("UH_BILLING_SCHEDULE", "must be one of: daily, weekly, monthly")
        timezone = env.get("UH_BILLING_TIMEZONE", "UTC")
        slack = env.get("UH_BILLING_SLACK_WEBHOOK_URL") or None
        store_url = env.get("UH_BILLING_STORE_URL")
        if store_url:
            return cls.from_url(
                store_url,
                stripe_api_key=key,
                ledger=ledger,
                slack_webhook_url=slack,
                timezone=timezone,
                schedule=schedule,  # type: ignore[arg-type]
            )
        return cls(
            stripe=StripeSource(key),
            ledger=ledger,
            alerter=None if slack is None else SlackAlerter(slack),
            timezone=timezone,
            schedule=schedule,  # type: ignore[arg-type]
        )

    # -- periods ---------------------------------------------------------------------------------
    def period(self, period: str | Period) -> Period:
        """Resolve ``"2026-11-24"``, ``"2026-W48"``, ``"2026-11"`` or a `Period` in the zone.

        Raises:
            InvalidInputError: An unparsable label, or a `Period` of another zone.
        """
        if isinstance(period, Period):
            if period.timezone != self.zone.key:
                raise InvalidInputError("period", "must be in the service's time zone")
            return period
        return parse_period(period, self.zone)

    def run_key(self, period: Period) -> str:
        """The key a period runs under: kind, label, zone and mode."""
        mode = "live" if self.stripe.livemode else "test"
        return f"{period.kind}:{period.label}:{period.timezone}:{mode}"

    # -- runs ------------------------------------------------------------------------------------
    def reconcile(self, period: str | Period) -> Report:
        """Reconcile one period and return its report.

        A period that already succeeded is not run again: its stored report is returned.

        Args:
            period: The period's label (daily, weekly or monthly) or a `Period`.

        Returns:
            The report.

        Raises:
            ConflictError: Another worker is running this period right now.
            InvalidInputError: A bad period.
            ProviderError: Stripe failed (the run is recorded as failed and can be re-run).
            StoreUnavailableError: The store or the lock could not be reached.
        """
        resolved = self.period(period)
        key = self.run_key(resolved)
        existing = self._succeeded(key)
        if existing is not None:
            return existing
        token = self.lock.acquire(key, ttl_seconds=3600.0)
        if token is None:
            raise ConflictError(f"run {key!r} is in progress elsewhere")
        try:
            existing = self._succeeded(key)
            if existing is not None:
                return existing
            return self._run(resolved, key)
        finally:
            self.lock.release(key, token)

    def _succeeded(self, key: str) -> Report | None:
        try:
            record = self.store.get_run(key)
        except NotFoundError:
            return None
        return self.store.get_report(key) if record.status == "succeeded" else None

    def _recheck(self, period: Period) -> frozenset[str]:
        """Ids left pending by the previous period's stored report."""
        try:
            previous = self.store.get_report(self.run_key(period.previous()))
        except NotFoundError:
            return frozenset()
        return frozenset(i for note in previous.notes if note.kind == "pending" for i in note.ids)

    def _run(self, period: Period, key: str) -> Report:
        started = self.clock.now()
        self.store.start_run(key, period=period.label, at=started)
        logger.info("run_started", run_key=key)
        try:
            low, high = period.start - self.window, period.end + self.window
            stripe_records = self.stripe.fetch(low, high, run_key=key)
            ledger_items = read_ledger(self.ledger, low, high, livemode=self.stripe.livemode)
            now = self.clock.now()
            options: dict[str, Any] = {
                "start": int(period.start.timestamp()),
                "end": int(period.end.timestamp()),
                "now": int(now.timestamp()),
                "window": int(self.window.total_seconds()),
                "fuzzy_window": None
                if self.fuzzy_window is None
                else int(self.fuzzy_window.total_seconds()),
                "recheck": self._recheck(period),
            }
            if self.partitions is None:
                outcome = match_records(stripe_records, ledger_items, **options)
            else:
                outcome = match_records_bounded(
                    iter(stripe_records), ledger_items, partitions=self.partitions, **options
                )
            extra: list[Finding] = []
            if self.payouts and isinstance(self.stripe, StripeSource):
                extra = check_payouts(*self.stripe.fetch_payouts(period.start, period.end))
            report = build_report(
                outcome,
                period,
                generated_at=now,
                window=int(self.window.total_seconds()),
                livemode=self.stripe.livemode,
                extra=extra,
            )
        except Exception as exc:
            self.store.fail_run(key, error_class=type(exc).__name__, at=self.clock.now())
            logger.warning("run_failed", run_key=key, error_class=type(exc).__name__)
            raise
        self.store.finish_run(key, report, at=self.clock.now())
        logger.info(
            "run_finished",
            run_key=key,
            discrepancy_count=report.open_discrepancies,
            input_error_count=len(report.input_errors),
        )
        self._alert(report)
        return report

    def _alert(self, report: Report) -> None:
        if self.alerter is None:
            return
        url = None if self.report_url is None else self.report_url(report.run_key)
        try:
            self.alerter.send(report, report_url=url)
        except (BillingError, OSError) as exc:
            logger.warning("alert_failed", run_key=report.run_key, error_class=type(exc).__name__)

    def due(self) -> list[Period]:
        """Every period of the schedule that is due now and has not succeeded, oldest first.

        Examples:
            >>> from unified_health.billing import IterableLedger, StripeSource
            >>> from unified_health.billing.testing import FakeClock
            >>> from datetime import UTC
            >>> clock = FakeClock(datetime(2026, 11, 26, 12, tzinfo=UTC))
            >>> service = ReconciliationService(stripe=StripeSource("sk_test_1"),
            ...     ledger=IterableLedger([]), first_period=date(2026, 11, 23), clock=clock)
            >>> [p.label for p in service.due()]
            ['2026-11-23', '2026-11-24', '2026-11-25']
        """
        now = self.clock.now()
        since = self.first_period
        if since is None:
            since = period_containing(now, self.schedule, self.zone).previous().first_day
        periods = due_periods(now, self.schedule, self.zone, since=since, settle=self.settle)
        return [p for p in periods if self._succeeded(self.run_key(p)) is None]

    def run_due(self) -> list[Report]:
        """Run every due period once, oldest first; stop at the first failure and raise it.

        Periods another worker is running are skipped (its lock holds them).

        Returns:
            The reports of the periods run now.

        Raises:
            ProviderError: Stripe failed (that run is recorded as failed; a later call retries).
            StoreUnavailableError: The store or the lock could not be reached.
        """
        reports = []
        for period in self.due():
            try:
                reports.append(self.reconcile(period))
            except ConflictError:
                logger.info("run_skipped_locked", run_key=self.run_key(period))
        return reports
