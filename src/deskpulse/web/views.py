"""Page content as data: tables of cells and charts, which one template draws and one CSV writer exports.

Every page is a `Page`: a title, notes, charts (Vega-Lite specs from `deskpulse.charts`) and tables. A cell keeps
the raw value (what CSV and the tests read, in `data-value`) beside the text people read, and may link to the
tickets behind it. Nothing here computes a metric: values come from the library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from deskpulse import render
from deskpulse.metrics.catalog import METRICS
from deskpulse.metrics.metric import COUNT, DURATION, MEAN


@dataclass(frozen=True)
class Cell:
    value: Any
    text: str
    href: str | None = None
    metric: str | None = None  # the metric the value is of (data-metric, for tests and scripts)
    css: str | None = None  # e.g. "on-target", "off-target", "spike"


@dataclass
class TableData:
    name: str  # for ?export=<name>
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str | None = None

    def csv(self) -> str:
        records = [
            {column: _csv(cell.value) for column, cell in zip(self.columns, row, strict=True)} for row in self.rows
        ]
        return render.records_csv(self.columns, records)


@dataclass
class Page:
    title: str
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)
    tables: list[TableData] = field(default_factory=list)
    html_blocks: list[str] = field(default_factory=list)  # already-escaped HTML from a renderer (reports)

    def table(self, name: str) -> TableData | None:
        return next((t for t in self.tables if t.name == name), None)


def _csv(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def show(metric_id: str | None, value: Any) -> str:
    """A metric's value as people read it: durations as 1h 02m, rates as percentages, counts with separators."""
    if value is None:
        return "–"
    metric = METRICS.get(metric_id) if metric_id else None
    if metric is None:
        if isinstance(value, float):
            return f"{value:,.2f}"
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M")
        return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
    if is_duration(metric.id):
        return render.human_duration(value)
    if metric.unit == "ratio":
        return f"{100 * float(value):.1f} %"
    if metric.kind == COUNT:
        return f"{int(value):,}"
    if metric.kind == MEAN:
        return f"{float(value):,.2f}"
    return f"{float(value):,.2f}" if isinstance(value, float) else str(value)


def show_delta(metric_id: str, delta: float | None) -> str:
    if delta is None:
        return "–"
    metric = METRICS[metric_id]
    sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
    if is_duration(metric_id):
        return sign + render.human_duration(abs(delta))
    if metric.unit == "ratio":
        return f"{sign}{100 * abs(delta):.1f} pt"
    return f"{sign}{abs(delta):,.2f}".rstrip("0").rstrip(".")


def confidence(metric_id: str, result: dict[str, Any]) -> str:
    """What says how sure a number is: a rate's 95 % interval, a duration's p90, an inconclusive survey sample."""
    metric = METRICS[metric_id]
    parts = []
    if result.get("ci_low") is not None:
        parts.append(f"95 % CI {show(metric_id, result['ci_low'])} – {show(metric_id, result['ci_high'])}")
    if metric.kind == DURATION and result.get("p90") is not None:
        parts.append(f"p90 {show(metric_id, result['p90'])}")
    if result.get("open"):
        parts.append(f"{result['open']:,} still open")
    if result.get("inconclusive"):
        parts.append("too few answers to conclude")
    return "; ".join(parts)


def is_duration(metric_id: str) -> bool:
    """Whether the metric's values are seconds (a duration, or a mean of seconds such as handle time)."""
    metric = METRICS[metric_id]
    return metric.kind == DURATION or metric.unit == "seconds"


def metric_label(metric_id: str) -> str:
    return METRICS[metric_id].label
