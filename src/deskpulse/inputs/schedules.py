"""schedules.csv (`[files] schedules`): each agent's paid hours per weekday, and the share available for tickets.

Paid (scheduled) time is the denominator of utilization, available time that of occupancy (spec §3). A line
holds from its `valid_from` date until the same agent's next line. The format is described in docs/inputs.md,
section "Schedules (schedules.csv)".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from deskpulse.config import WEEKDAYS
from deskpulse.inputs.csvfile import read_csv

HOUR_SECONDS = 3600


@dataclass(frozen=True)
class Schedule:
    agent: str
    valid_from: date
    paid_hours: tuple[float, ...]  # Monday to Sunday
    available_share: float  # of the paid time, what is left for tickets after meetings, training and breaks


@dataclass(frozen=True)
class ScheduleDay:
    agent: str
    day: date
    paid_seconds: float
    available_seconds: float


def read_schedules(path: Path) -> list[Schedule]:
    """Every line of a schedules file; the first bad line raises `InputFileError`."""
    schedules: list[Schedule] = []
    lines: dict[tuple[str, date], int] = {}
    for record in read_csv(path, ("agent", "valid_from", *WEEKDAYS), ("available_share",)):
        agent = record.text("agent").lower()
        if "@" not in agent:
            raise record.error("agent", f"{agent!r} is not an e-mail address")
        valid_from = record.day("valid_from")
        if (agent, valid_from) in lines:
            raise record.error(
                "valid_from", f"{agent} already has a schedule from {valid_from} (line {lines[agent, valid_from]})"
            )
        lines[agent, valid_from] = record.line
        hours = []
        for weekday in WEEKDAYS:  # an empty day is a day off
            paid = record.number(weekday, minimum=0) if record.optional(weekday) is not None else 0.0
            if paid > 24:
                raise record.error(weekday, f"{paid:g} hours do not fit in a day")
            hours.append(paid)
        share = 1.0
        if record.optional("available_share") is not None:
            share = record.number("available_share", minimum=0)
            if share > 1:
                raise record.error(
                    "available_share", f"{share:g} is more than 1 (a share: 0.8 means 80 % of paid time)"
                )
        schedules.append(Schedule(agent, valid_from, tuple(hours), share))
    return schedules


def schedule_days(
    schedules: list[Schedule], first_day: date, last_day: date, holidays: frozenset[date]
) -> Iterator[ScheduleDay]:
    """Each agent's paid and available seconds on every day from ``first_day`` to ``last_day`` under a schedule.

    A day before an agent's first schedule has no row: nothing is known about it. A holiday is paid but not
    available: nobody is expected to answer tickets then, yet the time is paid.
    """
    by_agent: dict[str, list[Schedule]] = {}
    for schedule in sorted(schedules, key=lambda s: (s.agent, s.valid_from)):
        by_agent.setdefault(schedule.agent, []).append(schedule)
    for agent, periods in by_agent.items():
        ends = [later.valid_from for later in periods[1:]] + [last_day + timedelta(days=1)]
        for schedule, end in zip(periods, ends, strict=True):
            day = max(schedule.valid_from, first_day)
            while day < end and day <= last_day:
                paid = schedule.paid_hours[day.weekday()] * HOUR_SECONDS
                available = 0.0 if day in holidays else paid * schedule.available_share
                yield ScheduleDay(agent, day, paid, available)
                day += timedelta(days=1)
