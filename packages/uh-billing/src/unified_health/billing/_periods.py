"""Reconciliation periods in a business time zone.

A period is a half-open interval ``[start, end)`` of aware UTC instants whose bounds are local
midnights in the business zone: a daily period lasts 23 or 25 hours on the days the clocks change,
a monthly one lasts as long as its month. Where a zone skips local midnight, the day starts at the
first local instant of that date; consecutive periods always meet exactly, so every instant belongs
to exactly one period of each kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from unified_health.billing._errors import InvalidInputError

__all__ = ["Period", "PeriodKind", "due_periods", "load_zone", "parse_period", "period_containing"]

PeriodKind = Literal["daily", "weekly", "monthly"]
_KINDS = ("daily", "weekly", "monthly")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def load_zone(timezone: str | ZoneInfo) -> ZoneInfo:
    """Return the `ZoneInfo` for an IANA zone name (or the zone itself).

    Args:
        timezone: ``"America/New_York"`` or a `ZoneInfo`.

    Returns:
        The zone.

    Raises:
        InvalidInputError: Not a str or zone, or not a known IANA zone.

    Examples:
        >>> load_zone("Europe/Berlin").key
        'Europe/Berlin'
    """
    given: object = timezone
    if isinstance(given, ZoneInfo):
        return given
    if not isinstance(given, str) or not given:
        raise InvalidInputError("timezone", "must be an IANA zone name such as 'Europe/Berlin'")
    try:
        return ZoneInfo(given)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError("timezone", "must be a known IANA zone name") from None


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone``, as aware UTC."""
    local = datetime(day.year, day.month, day.day, tzinfo=zone)
    return local.astimezone(UTC)


def _kind_start(day: date, kind: str) -> date:
    if kind == "weekly":
        return day - timedelta(days=day.weekday())
    if kind == "monthly":
        return day.replace(day=1)
    return day


def _kind_next(day: date, kind: str) -> date:
    if kind == "weekly":
        return day + timedelta(days=7)
    if kind == "monthly":
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=1)


def _label(day: date, kind: str) -> str:
    if kind == "weekly":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "monthly":
        return f"{day.year:04d}-{day.month:02d}"
    return day.isoformat()


@dataclass(frozen=True, slots=True)
class Period:
    """A reconciliation period ``[start, end)`` in a business time zone.

    Build one with `Period.of` (or `parse_period`), not by hand.

    Attributes:
        kind: ``"daily"``, ``"weekly"`` (ISO weeks, Monday first) or ``"monthly"``.
        first_day: The first local date of the period.
        timezone: The IANA zone name.
        start: The first instant, aware UTC.
        end: The first instant of the next period, aware UTC.

    Examples:
        >>> p = Period.of("daily", date(2026, 11, 1), "America/New_York")
        >>> (p.label, p.hours, p.start.isoformat())
        ('2026-11-01', 25.0, '2026-11-01T04:00:00+00:00')
        >>> Period.of("monthly", date(2026, 2, 14), "UTC").label
        '2026-02'
    """

    kind: PeriodKind
    first_day: date
    timezone: str
    start: datetime
    end: datetime

    @classmethod
    def of(cls, kind: PeriodKind, day: date, timezone: str | ZoneInfo) -> Period:
        """Return the period of ``kind`` that holds the local date ``day``.

        Args:
            kind: ``"daily"``, ``"weekly"`` or ``"monthly"``.
            day: Any local date inside the period.
            timezone: The business zone.

        Returns:
            The period.

        Raises:
            InvalidInputError: Unknown kind, a non-date ``day`` or an unknown zone.

        Examples:
            >>> Period.of("weekly", date(2026, 11, 26), "UTC").label
            '2026-W48'
        """
        if kind not in _KINDS:
            raise InvalidInputError("kind", "must be one of: daily, weekly, monthly")
        given: object = day
        if not isinstance(given, date) or isinstance(given, datetime):
            raise InvalidInputError("day", "must be a datetime.date")
        zone = load_zone(timezone)
        first = _kind_start(day, kind)
        return cls(
            kind, first, zone.key, _midnight(first, zone), _midnight(_kind_next(first, kind), zone)
        )

    @property
    def label(self) -> str:
        """``"2026-11-24"``, ``"2026-W48"`` or ``"2026-11"``: the period's name and run key."""
        return _label(self.first_day, self.kind)

    @property
    def hours(self) -> float:
        """The period's length in hours (23 or 25 on a daylight-saving day)."""
        return (self.end - self.start).total_seconds() / 3600

    def next(self) -> Period:
        """Return the period right after this one.

        Examples:
            >>> Period.of("monthly", date(2026, 12, 3), "UTC").next().label
            '2027-01'
        """
        return Period.of(self.kind, _kind_next(self.first_day, self.kind), self.timezone)

    def previous(self) -> Period:
        """Return the period right before this one.

        Examples:
            >>> Period.of("daily", date(2026, 3, 1), "UTC").previous().label
            '2026-02-28'
        """
        return Period.of(self.kind, self.first_day - timedelta(days=1), self.timezone)

    def contains(self, instant: datetime) -> bool:
        """Return whether the aware ``instant`` lies in ``[start, end)``.

        Examples:
            >>> p = Period.of("daily", date(2026, 1, 5), "UTC")
            >>> p.contains(datetime(2026, 1, 5, 23, 59, tzinfo=UTC))
            True
        """
        return self.start <= instant < self.end


def parse_period(text: str, timezone: str | ZoneInfo) -> Period:
    """Parse ``"2026-11-24"`` (daily), ``"2026-W48"`` (weekly) or ``"2026-11"`` (monthly).

    Args:
        text: The period's label.
        timezone: The business zone.

    Returns:
        The period.

    Raises:
        InvalidInputError: The label matches none of the three forms or names no real date.

    Examples:
        >>> parse_period("2026-03-08", "America/New_York").hours
        23.0
        >>> parse_period("2026-W01", "UTC").first_day
        datetime.date(2025, 12, 29)
    """
    given: object = text
    if not isinstance(given, str):
        raise InvalidInputError(
            "period", "must be a str such as '2026-11-24', '2026-W48' or '2026-11'"
        )
    try:
        if found := _DAY.match(text):
            y, m, d = (int(part) for part in found.groups())
            return Period.of("daily", date(y, m, d), timezone)
        if found := _WEEK.match(text):
            return Period.of(
                "weekly", date.fromisocalendar(int(found[1]), int(found[2]), 1), timezone
            )
        if found := _MONTH.match(text):
            return Period.of("monthly", date(int(found[1]), int(found[2]), 1), timezone)
    except ValueError:
        raise InvalidInputError("period", "must name a real date, ISO week or month") from None
    raise InvalidInputError("period", "must look like '2026-11-24', '2026-W48' or '2026-11'")


def period_containing(instant: datetime, kind: PeriodKind, timezone: str | ZoneInfo) -> Period:
    """Return the period of ``kind`` that holds the aware ``instant``.

    Args:
        instant: An aware datetime.
        kind: ``"daily"``, ``"weekly"`` or ``"monthly"``.
        timezone: The business zone.

    Returns:
        The period with ``start <= instant < end``.

    Raises:
        InvalidInputError: ``instant`` is naive.

    Examples:
        >>> at = datetime(2026, 11, 25, 3, tzinfo=UTC)
        >>> period_containing(at, "daily", "America/New_York").label
        '2026-11-24'
    """
    given: object = instant
    if not isinstance(given, datetime) or given.tzinfo is None:
        raise InvalidInputError("instant", "must be a timezone-aware datetime")
    zone = load_zone(timezone)
    period = Period.of(kind, instant.astimezone(zone).date(), zone)
    while instant < period.start:
        period = period.previous()
    while instant >= period.end:
        period = period.next()
    return period


def due_periods(
    now: datetime,
    kind: PeriodKind,
    timezone: str | ZoneInfo,
    *,
    since: date,
    settle: timedelta = timedelta(hours=6),
) -> Iterator[Period]:
    """Yield, oldest first, every period from the one holding ``since`` that is due at ``now``.

    A period is due once ``end + settle <= now``: the settle delay lets late Stripe records and
    ledger writes land before the period is checked.

    Args:
        now: The current aware time.
        kind: ``"daily"``, ``"weekly"`` or ``"monthly"``.
        timezone: The business zone.
        since: The first local date to consider.
        settle: How long after a period ends it becomes due.

    Returns:
        An iterator of periods, oldest first.

    Raises:
        InvalidInputError: ``now`` is naive or ``settle`` is negative.

    Examples:
        >>> now = datetime(2026, 11, 27, 12, tzinfo=UTC)
        >>> [p.label for p in due_periods(now, "daily", "UTC", since=date(2026, 11, 24))]
        ['2026-11-24', '2026-11-25', '2026-11-26']
    """
    given: object = now
    if not isinstance(given, datetime) or given.tzinfo is None:
        raise InvalidInputError("now", "must be a timezone-aware datetime")
    given_settle: object = settle
    if not isinstance(given_settle, timedelta) or given_settle < timedelta(0):
        raise InvalidInputError("settle", "must be a timedelta >= 0")
    period = Period.of(kind, since, timezone)
    while period.end + settle <= now:
        yield period
        period = period.next()
