"""Business calendars: which instants count towards an SLA target.

A `BusinessCalendar` holds an IANA time zone, weekly opening windows in local wall time (several per
day), holidays (local dates) and later hours that take effect from a given date. An instant counts
when its local wall-clock reading, on its local date, falls inside one of that date's windows and
the date is not a holiday. That one rule decides every daylight-saving case: on a spring-forward
day the skipped wall times simply never occur, and on a fall-back day a repeated wall hour inside a
window counts twice (it really is two hours of work).

`CalendarHours` counts every second (24/7). Both share the methods the SLA engine uses.
Instants are counted in whole seconds; sub-second parts are dropped.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from unified_health.support._errors import InvalidInputError

__all__ = ["BusinessCalendar", "CalendarHours", "to_datetime", "to_epoch"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?$")
_EPOCH_DATE = date(1970, 1, 1)
_MARGIN = 15 * 3600  # every UTC offset in the time-zone database lies within +/- 15 hours
_HORIZON_YEARS = 20  # a search for business time gives up after this many years with none
_MAX_DURATION = 3660 * 86400


def to_epoch(value: object, field: str) -> int:
    """Return an aware datetime as whole epoch seconds, or raise `InvalidInputError`.

    Examples:
        >>> to_epoch(datetime(1970, 1, 1, 0, 1, tzinfo=UTC), "at")
        60
    """
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInputError(field, "must be a timezone-aware datetime")
    seconds = value.timestamp()
    return int(seconds // 1)


def to_datetime(seconds: int) -> datetime:
    """Return epoch seconds as an aware UTC datetime.

    Examples:
        >>> to_datetime(60).isoformat()
        '1970-01-01T00:01:00+00:00'
    """
    return datetime.fromtimestamp(seconds, UTC)


def _duration_seconds(value: object, field: str) -> int:
    if not isinstance(value, timedelta):
        raise InvalidInputError(field, "must be a datetime.timedelta")
    seconds = int(value.total_seconds() // 1)
    if seconds < 0 or seconds > _MAX_DURATION:
        raise InvalidInputError(field, "must be between 0 and 3660 days")
    return seconds


def _parse_time(text: object, field: str, *, end: bool) -> int:
    if not isinstance(text, str) or not (match := _TIME.match(text)):
        raise InvalidInputError(field, "must be a time 'HH:MM' or 'HH:MM:SS'")
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    total = hours * 3600 + minutes * 60 + seconds
    if minutes > 59 or seconds > 59 or total > 86400 or (total == 86400 and not end):
        raise InvalidInputError(field, "must be a time of day from 00:00 to 24:00")
    return total


def _expand_days(spec: object, field: str) -> list[int]:
    if not isinstance(spec, str):
        raise InvalidInputError(field, "day keys must be strings such as 'mon' or 'mon-fri'")
    name = spec.strip().lower()
    if name in _DAYS:
        return [_DAYS.index(name)]
    first, sep, last = name.partition("-")
    if sep and first in _DAYS and last in _DAYS and _DAYS.index(first) <= _DAYS.index(last):
        return list(range(_DAYS.index(first), _DAYS.index(last) + 1))
    raise InvalidInputError(field, "day keys must be mon..sun or a range such as 'mon-fri'")


def _parse_hours(hours: object, field: str) -> tuple[tuple[tuple[int, int], ...], ...]:
    if not isinstance(hours, Mapping):
        raise InvalidInputError(field, "must map days ('mon', 'mon-fri') to (start, end) windows")
    week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for spec, windows in hours.items():
        days = _expand_days(spec, field)
        if isinstance(windows, str | bytes) or not isinstance(windows, Sequence):
            raise InvalidInputError(f"{field}.{spec}", "must be a list of (start, end) pairs")
        for index, window in enumerate(windows):
            where = f"{field}.{spec}.{index}"
            if isinstance(window, str | bytes) or not isinstance(window, Sequence):
                raise InvalidInputError(where, "must be a (start, end) pair")
            if len(window) != 2:
                raise InvalidInputError(where, "must be a (start, end) pair")
            start = _parse_time(window[0], where, end=False)
            stop = _parse_time(window[1], where, end=True)
            if stop <= start:
                raise InvalidInputError(where, "end must be after start")
            for day in days:
                week[day].append((start, stop))
    for day, windows in enumerate(week):
        windows.sort()
        for before, after in pairwise(windows):
            if after[0] < before[1]:
                raise InvalidInputError(f"{field}.{_DAYS[day]}", "windows must not overlap")
    if not any(week):
        raise InvalidInputError(field, "must hold some business time; the week has none")
    return tuple(tuple(day) for day in week)


@dataclass(frozen=True, slots=True)
class _Table:
    starts: list[int]
    ends: list[int]
    cum: list[int]  # cum[i]: business seconds in intervals before i (len n + 1)
    first_day: int  # ordinal of the first local date built
    last_day: int  # ordinal of the day after the last local date built
    lo: int  # instants in [lo, hi] are fully described by the table
    hi: int


class CalendarHours:
    """Every second counts: SLA targets measured in calendar hours (24/7).

    Examples:
        >>> hours = CalendarHours()
        >>> start = datetime(2026, 3, 7, 22, 0, tzinfo=UTC)
        >>> hours.add_business_time(start, timedelta(hours=3)).isoformat()
        '2026-03-08T01:00:00+00:00'
    """

    zone = "UTC"

    def elapsed_seconds(self, start: int, end: int) -> int:
        """Return the counted seconds in ``[start, end)`` (epoch seconds)."""
        return end - start if end > start else 0

    def add_seconds(self, start: int, seconds: int) -> int:
        """Return the instant ``seconds`` of counted time after ``start`` (epoch seconds)."""
        return start + seconds

    def intervals(self, start: int, end: int) -> list[tuple[int, int]]:
        """Return the counted intervals inside ``[start, end)`` (epoch seconds)."""
        return [(start, end)] if end > start else []

    def holidays_between(self, start: int, end: int) -> list[date]:
        """Return the holidays whose date falls in ``[start, end)``: none for calendar hours."""
        return []

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Return the counted time between two aware datetimes (zero when ``end <= start``).

        Examples:
            >>> a = datetime(2026, 1, 1, tzinfo=UTC)
            >>> CalendarHours().business_time_between(a, a + timedelta(minutes=5))
            datetime.timedelta(seconds=300)
        """
        return timedelta(
            seconds=self.elapsed_seconds(to_epoch(start, "start"), to_epoch(end, "end"))
        )

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """Return the instant ``duration`` of counted time after ``start``.

        Examples:
            >>> a = datetime(2026, 1, 1, tzinfo=UTC)
            >>> CalendarHours().add_business_time(a, timedelta(days=1)).day
            2
        """
        return to_datetime(
            self.add_seconds(to_epoch(start, "start"), _duration_seconds(duration, "duration"))
        )


class BusinessCalendar:
    """Business hours in an IANA time zone, with holidays and later hours from given dates.

    Args:
        zone: An IANA time-zone name, e.g. ``"America/New_York"``.
        hours: Weekly windows in local wall time: ``{"mon-fri": [("09:00", "12:00"),
            ("13:00", "17:00")], "sat": [("10:00", "14:00")]}``; ``"24:00"`` ends a day.
        holidays: Local dates on which nothing counts.
        hours_from: Later weekly hours, each in force from its local date (inclusive) until the
            next one; ``hours`` applies before the first.

    Raises:
        InvalidInputError: An unknown zone, a malformed or overlapping window, a holiday that is
            not a date, or weekly hours with no business time at all.

    Examples:
        >>> cal = BusinessCalendar(
        ...     "America/New_York",
        ...     hours={"mon-fri": [("09:00", "17:00")]},
        ...     holidays=[date(2026, 12, 25)],
        ... )
        >>> start = datetime(2026, 12, 24, 21, 0, tzinfo=UTC)  # Thu 16:00 local
        >>> cal.add_business_time(start, timedelta(hours=2)).isoformat()  # Sat skipped, Fri holiday
        '2026-12-28T15:00:00+00:00'
    """

    def __init__(
        self,
        zone: str,
        hours: Mapping[str, Sequence[tuple[str, str]]],
        *,
        holidays: Iterable[date] = (),
        hours_from: Mapping[date, Mapping[str, Sequence[tuple[str, str]]]] | None = None,
    ) -> None:
        given_zone: object = zone
        if not isinstance(given_zone, str) or not given_zone:
            raise InvalidInputError("zone", "must be an IANA time-zone name")
        try:
            self._tz = ZoneInfo(given_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInputError("zone", "must be a known IANA time-zone name") from None
        self.zone = given_zone
        base = _parse_hours(hours, "hours")
        given_holidays: object = holidays
        if isinstance(given_holidays, str | bytes) or not isinstance(given_holidays, Iterable):
            raise InvalidInputError("holidays", "must be an iterable of dates")
        days: set[int] = set()
        for index, day in enumerate(given_holidays):
            if not isinstance(day, date) or isinstance(day, datetime):
                raise InvalidInputError(f"holidays.{index}", "must be a datetime.date")
            days.add(day.toordinal())
        self._holidays = frozenset(days)
        changes: list[tuple[int, tuple[tuple[tuple[int, int], ...], ...]]] = []
        given_changes: object = hours_from or {}
        if not isinstance(given_changes, Mapping):
            raise InvalidInputError("hours_from", "must map dates to weekly hours")
        for when, later in sorted(given_changes.items(), key=lambda item: str(item[0])):
            if not isinstance(when, date) or isinstance(when, datetime):
                raise InvalidInputError("hours_from", "keys must be datetime.date")
            changes.append((when.toordinal(), _parse_hours(later, f"hours_from.{when}")))
        changes.sort(key=lambda item: item[0])
        self._change_days = [day for day, _ in changes]
        self._weeks = [base, *(week for _, week in changes)]
        self._lock = threading.Lock()
        self._table = _Table([], [], [0], 0, 0, 0, -1)

    def __repr__(self) -> str:
        return f"BusinessCalendar(zone={self.zone!r})"

    # -- building the interval table ------------------------------------------------------------

    def _offset(self, instant: int) -> int:
        local = datetime.fromtimestamp(instant, self._tz)
        delta = local.utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    def _day_intervals(self, ordinal: int) -> list[tuple[int, int]]:
        if ordinal in self._holidays:
            return []
        week = self._weeks[bisect.bisect_right(self._change_days, ordinal)]
        windows = week[date.fromordinal(ordinal).weekday()]
        if not windows:
            return []
        midnight = (ordinal - _EPOCH_DATE.toordinal()) * 86400  # local midnight read as UTC
        out: list[tuple[int, int]] = []
        for start, stop in windows:
            wall_start, wall_end = midnight + start, midnight + stop
            before = self._offset(wall_start - _MARGIN)
            after = self._offset(wall_end + _MARGIN)
            if before == after:
                out.append((wall_start - before, wall_end - before))
                continue
            low, high = wall_start - _MARGIN, wall_end + _MARGIN  # offset(low) != offset(high)
            while high - low > 1:
                middle = (low + high) // 2
                if self._offset(middle) == before:
                    low = middle
                else:
                    high = middle
            change = high  # the first instant under the new offset
            first = (wall_start - before, min(wall_end - before, change))
            second = (max(wall_start - after, change), wall_end - after)
            out.extend(piece for piece in (first, second) if piece[1] > piece[0])
        return out

    def _build(self, first_day: int, last_day: int) -> _Table:
        pieces: list[tuple[int, int]] = []
        for ordinal in range(first_day, last_day):
            pieces.extend(self._day_intervals(ordinal))
        pieces.sort()
        starts: list[int] = []
        ends: list[int] = []
        for start, end in pieces:
            if ends and start <= ends[-1]:
                ends[-1] = max(ends[-1], end)
            else:
                starts.append(start)
                ends.append(end)
        cum = [0]
        total = 0
        for start, end in zip(starts, ends, strict=True):
            total += end - start
            cum.append(total)
        base = _EPOCH_DATE.toordinal()
        lo = (first_day - base) * 86400 + _MARGIN
        hi = (last_day - base) * 86400 - _MARGIN
        return _Table(starts, ends, cum, first_day, last_day, lo, hi)

    def _cover(self, start: int, end: int) -> _Table:
        table = self._table
        if table.lo <= start and end <= table.hi:
            return table
        with self._lock:
            table = self._table
            if table.lo <= start and end <= table.hi:
                return table
            base = _EPOCH_DATE.toordinal()
            want_first = (start - _MARGIN) // 86400 + base - 1
            want_last = (end + _MARGIN) // 86400 + base + 2
            if table.hi >= table.lo:
                # grow by at least the span already built, so repeated growth costs O(n log n)
                grow = max(table.last_day - table.first_day, 62)
                if want_first < table.first_day:
                    want_first = min(want_first, table.first_day - grow)
                if want_last > table.last_day:
                    want_last = max(want_last, table.last_day + grow)
                want_first = min(want_first, table.first_day)
                want_last = max(want_last, table.last_day)
            else:
                want_last = max(want_last, want_first + 62)
            first = max(want_first, 2)
            last = min(want_last, date.max.toordinal() - 2)
            table = self._build(first, last)
            self._table = table
            return table

    # -- the engine's interface -----------------------------------------------------------------

    def _position(self, table: _Table, instant: int) -> int:
        """Business seconds from the start of the table to ``instant``."""
        index = bisect.bisect_right(table.starts, instant) - 1
        if index < 0:
            return 0
        end = table.ends[index]
        if instant < end:
            return table.cum[index] + instant - table.starts[index]
        return table.cum[index + 1]

    def elapsed_seconds(self, start: int, end: int) -> int:
        """Return the counted seconds in ``[start, end)`` (epoch seconds)."""
        if end <= start:
            return 0
        table = self._cover(start, end)
        return self._position(table, end) - self._position(table, start)

    def add_seconds(self, start: int, seconds: int) -> int:
        """Return the first instant by which ``seconds`` of business time have passed.

        Raises:
            InvalidInputError: The calendar has no business time within 20 years.
        """
        if seconds <= 0:
            return start
        reach = start + seconds
        while True:
            table = self._cover(start, reach)
            target = self._position(table, start) + seconds
            cum = table.cum
            if target <= cum[-1]:
                index = bisect.bisect_left(cum, target) - 1
                due = table.starts[index] + target - cum[index]
                if due <= table.hi and due - start <= _HORIZON_YEARS * 366 * 86400:
                    return due
            if reach - start > _HORIZON_YEARS * 366 * 86400:
                raise InvalidInputError(
                    "calendar", "has no business time left within 20 years of the start"
                )
            reach = max(reach, table.hi) + 62 * 86400

    def intervals(self, start: int, end: int) -> list[tuple[int, int]]:
        """Return the counted intervals inside ``[start, end)`` (epoch seconds)."""
        if end <= start:
            return []
        table = self._cover(start, end)
        index = max(bisect.bisect_right(table.starts, start) - 1, 0)
        out: list[tuple[int, int]] = []
        while index < len(table.starts) and table.starts[index] < end:
            low, high = max(table.starts[index], start), min(table.ends[index], end)
            if high > low:
                out.append((low, high))
            index += 1
        return out

    def holidays_between(self, start: int, end: int) -> list[date]:
        """Return the holidays whose local date touches ``[start, end)`` (epoch seconds)."""
        if end <= start:
            return []
        first = datetime.fromtimestamp(start, self._tz).date().toordinal()
        last = datetime.fromtimestamp(end, self._tz).date().toordinal()
        return [date.fromordinal(day) for day in sorted(self._holidays) if first <= day <= last]

    # -- the public datetime interface ----------------------------------------------------------

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Return the business time between two aware datetimes (zero when ``end <= start``).

        Args:
            start: The first instant.
            end: The last instant (exclusive).

        Returns:
            The counted time, to the second.

        Raises:
            InvalidInputError: A naive datetime.

        Examples:
            >>> cal = BusinessCalendar("Europe/Paris", hours={"mon-fri": [("09:00", "17:00")]})
            >>> friday = datetime(2026, 3, 27, 15, 0, tzinfo=UTC)  # 16:00 CET
            >>> cal.business_time_between(friday, friday + timedelta(days=2, hours=17))
            datetime.timedelta(seconds=7200)
        """
        return timedelta(
            seconds=self.elapsed_seconds(to_epoch(start, "start"), to_epoch(end, "end"))
        )

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """Return the first instant by which ``duration`` of business time has passed.

        Args:
            start: Where counting starts (aware).
            duration: Business time to add (0 to 3660 days).

        Returns:
            The due instant, aware UTC.

        Raises:
            InvalidInputError: A naive datetime, a bad duration, or no business time within
                20 years (for example every remaining day is a holiday).

        Examples:
            >>> cal = BusinessCalendar("Australia/Sydney", hours={"mon-fri": [("09:00", "17:00")]})
            >>> cal.add_business_time(
            ...     datetime(2026, 4, 3, 6, 0, tzinfo=UTC), timedelta(hours=1)
            ... ).isoformat()
            '2026-04-06T00:00:00+00:00'
        """
        return to_datetime(
            self.add_seconds(to_epoch(start, "start"), _duration_seconds(duration, "duration"))
        )

    def windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Return the counted windows between two instants, clipped to them, in UTC.

        Examples:
            >>> hours = {"mon-fri": [("09:00", "12:00"), ("13:00", "17:00")]}
            >>> cal = BusinessCalendar("UTC", hours=hours)
            >>> monday = datetime(2026, 1, 5, tzinfo=UTC)
            >>> [(a.hour, b.hour) for a, b in cal.windows(monday, monday + timedelta(days=1))]
            [(9, 12), (13, 17)]
        """
        return [
            (to_datetime(a), to_datetime(b))
            for a, b in self.intervals(to_epoch(start, "start"), to_epoch(end, "end"))
        ]
