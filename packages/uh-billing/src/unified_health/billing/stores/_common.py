"""Checks shared by every reconciliation store, so all of them refuse the same input."""

from __future__ import annotations

from datetime import datetime

from unified_health.billing._errors import InvalidInputError, NotFoundError
from unified_health.billing._models import RunRecord, TrendPoint
from unified_health.billing._report import Report

__all__ = [
    "check_at",
    "check_key",
    "check_limit",
    "check_report",
    "newest_first",
    "not_found",
    "trend_points",
]


def check_key(run_key: object) -> str:
    """Return ``run_key`` if usable, else raise `InvalidInputError`."""
    if not isinstance(run_key, str) or not 0 < len(run_key) <= 200:
        raise InvalidInputError("run_key", "must be a str of 1 to 200 characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in run_key):
        raise InvalidInputError("run_key", "must not contain control characters")
    return run_key


def check_at(at: object, field: str = "at") -> datetime:
    """Return ``at`` if it is an aware datetime, else raise `InvalidInputError`."""
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise InvalidInputError(field, "must be a timezone-aware datetime")
    return at


def check_limit(limit: object) -> int:
    """Return ``limit`` if it is an int from 1 to 10000."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10000:
        raise InvalidInputError("limit", "must be an int from 1 to 10000")
    return limit


def check_report(run_key: str, report: object) -> Report:
    """Return ``report`` if it is the `Report` of ``run_key``."""
    if not isinstance(report, Report):
        raise InvalidInputError("report", "must be a Report")
    if report.run_key != run_key:
        raise InvalidInputError("report", "must belong to the run (report.run_key differs)")
    return report


def not_found(run_key: str) -> NotFoundError:
    """The error for an unknown run."""
    return NotFoundError("run", run_key)


def newest_first(records: list[RunRecord]) -> list[RunRecord]:
    """Sort run records newest period first (labels are ISO, so they sort as text)."""
    return sorted(records, key=lambda r: (r.period, r.run_key), reverse=True)


def trend_points(records: list[RunRecord], kind: str, limit: int) -> list[TrendPoint]:
    """The trend of succeeded runs of ``kind``, oldest first, the last ``limit`` of them."""
    chosen = [r for r in records if r.status == "succeeded" and r.run_key.startswith(f"{kind}:")]
    chosen.sort(key=lambda r: (r.period, r.run_key))
    return [
        TrendPoint(
            run_key=r.run_key,
            period=r.period,
            open_discrepancies=r.open_discrepancies or 0,
            critical=r.critical or 0,
        )
        for r in chosen[-limit:]
    ]
