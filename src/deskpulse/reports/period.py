"""A report's period from its label (2026-03, 2026-W09, 2026-Q1, 2026, 2026-03-05), the period before it, and
their bounds as UTC instants, so that a report selects its tickets with two comparisons and no calendar join.

Labels are the KPI engine's (`deskpulse.calendar.calendar_days`): ISO weeks, calendar months, quarters and years,
as local days in the reporting timezone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from deskpulse.errors import UserError

_LABELS = (
    ("day", re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")),
    ("week", re.compile(r"^(\d{4})-W(\d{2})$")),
    ("month", re.compile(r"^(\d{4})-(\d{2})$")),
    ("quarter", re.compile(r"^(\d{4})-Q([1-4])$")),
    ("year", re.compile(r"^(\d{4})$")),
)


class PeriodError(UserError):
    pass


@dataclass(frozen=True)
class Span:
    """One period: its kind, label and local days ``first_day`` … ``last_day``."""

    kind: str
    label: str
    first_day: date
    last_day: date

    def utc_bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """``[start, end)`` as naive UTC (the store's timestamps): local midnight of the first day and of the
        day after the last."""
        return _utc_midnight(self.first_day, timezone), _utc_midnight(self.last_day + timedelta(days=1), timezone)

    def describe(self) -> str:
        return f"{self.label} ({self.first_day} … {self.last_day})" if self.kind != "day" else self.label


@dataclass(frozen=True)
class ReportPeriod:
    current: Span
    previous: Span

    @property
    def kind(self) -> str:
        return self.current.kind

    @property
    def label(self) -> str:
        return self.current.label


def parse_period(label: str) -> ReportPeriod:
    """The period a label names and the one before it, or an error saying what a label looks like."""
    text = label.strip()
    for kind, pattern in _LABELS:
        match = pattern.match(text)
        if match:
            try:
                current = _span(kind, *(int(part) for part in match.groups()))
            except ValueError:
                break
            return ReportPeriod(current, _span_of(kind, current.first_day - timedelta(days=1)))
    raise PeriodError(
        f"--period {label!r} is not a period label; use a month 2026-03, an ISO week 2026-W09, a quarter 2026-Q1, "
        "a year 2026 or a day 2026-03-05"
    )


def _span(kind: str, year: int, number: int = 1, day: int = 1) -> Span:
    if kind == "day":
        first = date(year, number, day)
        return Span(kind, first.isoformat(), first, first)
    if kind == "week":
        first = date.fromisocalendar(year, number, 1)
        return Span(kind, f"{year}-W{number:02d}", first, first + timedelta(days=6))
    if kind == "month":
        first = date(year, number, 1)
        following = date(year + number // 12, number % 12 + 1, 1)
        return Span(kind, f"{year}-{number:02d}", first, following - timedelta(days=1))
    if kind == "quarter":
        first = date(year, 3 * number - 2, 1)
        last = date(year, 12, 31) if number == 4 else date(year, 3 * number + 1, 1) - timedelta(days=1)
        return Span(kind, f"{year}-Q{number}", first, last)
    return Span(kind, str(year), date(year, 1, 1), date(year, 12, 31))


def _span_of(kind: str, day: date) -> Span:
    """The period of ``kind`` holding ``day``."""
    if kind == "week":
        iso = day.isocalendar()
        return _span(kind, iso.year, iso.week)
    if kind == "day":
        return _span(kind, day.year, day.month, day.day)
    if kind == "quarter":
        return _span(kind, day.year, (day.month - 1) // 3 + 1)
    return _span(kind, day.year, day.month) if kind == "month" else _span(kind, day.year)


def _utc_midnight(day: date, timezone: str) -> datetime:
    local = datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC).replace(tzinfo=None)
