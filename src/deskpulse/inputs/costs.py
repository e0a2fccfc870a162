"""costs.csv (`[files] costs`): what support cost per month, by category, in the currency of `[costs] currency`.

The numerator of cost per ticket and cost per resolution (spec §3). The format is described in docs/inputs.md,
section "Costs (costs.csv)".
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from deskpulse.inputs.csvfile import read_csv


def read_costs(path: Path) -> dict[date, float]:
    """The total cost of each month listed (keyed by its first day): several lines of a month add up."""
    months: dict[date, float] = {}
    for record in read_csv(path, ("month", "category", "amount")):
        month = record.month("month")
        record.text("category")  # what the money went on: required, so every amount can be traced
        months[month] = months.get(month, 0.0) + record.number("amount", minimum=0)
    return months


def daily_costs(months: dict[date, float], first_day: date, last_day: date) -> Iterator[tuple[date, float]]:
    """Each day's share of its month's cost, for the days from ``first_day`` to ``last_day`` whose month is known.

    A month spreads evenly over its calendar days (pro rata per day, weekends included), so a week or a day
    carries the cost of the days it holds, and a month seen only in part the cost of that part.
    """
    day = first_day
    while day <= last_day:
        month = day.replace(day=1)
        if month in months:
            yield day, months[month] / monthrange(day.year, day.month)[1]
        day += timedelta(days=1)
