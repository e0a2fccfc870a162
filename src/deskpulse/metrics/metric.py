"""What a metric declaration is. Families of metrics (`volume`, `response`, …) declare theirs with `Metric`.

A declaration says which fact table a metric reads, which column's local date places a row in a period,
which rows make its population and what to aggregate. The engine turns that into Ibis expressions; nothing
else changes when a metric is added. Predicates are functions of the fact table (an Ibis table), so this
module and the families import no Ibis themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

COUNT = "count"  # rows of the population; value = n
DURATION = "duration"  # seconds in `value`: median (the value), p90, mean, n and the still-open count
RATE = "rate"  # share of the population for which `value` (a predicate) holds; 0–1
MEAN = "mean"  # mean of a number per row in `value`, such as replies per resolved ticket
RATIO = "ratio"  # `of[0]` ÷ `of[1]`, two other metrics' values in the same row (placed by different events)
DIFFERENCE = "difference"  # `of[0]` − `of[1]`, likewise
SHARE = "share"  # sum of column `value` ÷ sum of column `per` over the population, such as handled ÷ paid seconds

Predicate = Callable[[Any], Any]  # fact table → boolean column


@dataclass(frozen=True)
class Metric:
    id: str
    label: str
    kind: str
    better: str  # higher | lower | neutral
    definition: str
    source: str = ""  # the fact table: "tickets" (one row per ticket) or a family's own table
    bucket: str = ""  # the column whose local date places a row in a period
    population: Predicate | None = None  # which rows count; None: every row with a `bucket` time
    value: str | Predicate | None = None  # DURATION, MEAN: a column; RATE: a predicate
    open_bucket: str | None = None  # DURATION: the column placing still-open rows in a period…
    open_population: Predicate | None = None  # …and which rows are still open (censored)
    ages: str | None = None  # COUNT: a column of seconds; adds `median_age` and `max_age` to the result
    of: tuple[str, str] | None = None  # RATIO, DIFFERENCE: the ids of the two metrics combined
    short: str = ""  # a column header for narrow tables; the label when empty
    unit_name: str = ""  # the unit, when not the kind's default
    per: str | None = None  # SHARE: the column summed for the denominator
    # SHARE: a column summed for `n` when the rows are not the population, such as cost per ticket over rows
    # of days and tickets (n = the tickets); None: n counts the rows.
    count: str | None = None
    # A breakdown of the result by a column's values: the result gains `breakdown_key` → {label: sub-result},
    # each sub-result computed like the metric over the rows whose column holds that label.
    breakdown: tuple[str, tuple[str, ...]] | None = None
    breakdown_key: str = ""
    sums: tuple[str, ...] = ()  # columns summed over the population and reported as `<column>` beside the value
    # A survey score: the result says `"inconclusive": true` below `guardrails.min_survey_answers` answers.
    survey_sample: bool = False

    @property
    def header(self) -> str:
        return self.short or self.label

    @property
    def unit(self) -> str:
        if self.unit_name:
            return self.unit_name
        units = {
            COUNT: "tickets",
            DURATION: "seconds",
            RATE: "ratio",
            MEAN: "per ticket",
            RATIO: "ratio",
            SHARE: "ratio",
        }
        return units.get(self.kind, "tickets")

    @property
    def derived(self) -> bool:
        """Computed from other metrics' results rather than from a fact table."""
        return self.kind in (RATIO, DIFFERENCE)

    def contract(self) -> dict[str, str]:
        """The entry under "metrics" in the JSON output (spec §4)."""
        return {"unit": self.unit, "better": self.better, "label": self.label}


def business(metric: Metric, column: str) -> Metric:
    """The `_business` twin of a duration metric, reading business seconds from ``column``."""
    return Metric(
        id=f"{metric.id}_business",
        label=f"{metric.label} (business hours)",
        kind=metric.kind,
        better=metric.better,
        definition=f"{metric.id} counted in business seconds only: the opening hours, timezone and holidays of "
        "[business_hours]. Null (never 0) when no business hours are configured.",
        source=metric.source,
        bucket=metric.bucket,
        population=metric.population,
        value=column,
        open_bucket=metric.open_bucket,
        open_population=metric.open_population,
        short=f"{metric.header} (business)",
    )
