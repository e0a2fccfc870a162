"""The facts behind one number: the rows of a metric's fact table that make its population in one cell.

A cell is what `compute_kpis` returns in one row: a metric, a period label and the values of the grouping
columns. The rows come from the same bucketing, filters and population as the engine's aggregate, so their count
is the number's n (for a rate, the hits are marked; for a duration or a mean, each row carries its value). A
ratio of two metrics drills into its denominator, the population the share is of; a difference into both of its
terms.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from deskpulse.config import Config
from deskpulse.errors import UserError
from deskpulse.metrics.catalog import METRICS
from deskpulse.metrics.engine import KpiQuery, _bucketed, _dimension_tables, fact_tables
from deskpulse.metrics.facts import build_calendar
from deskpulse.metrics.metric import COUNT, DIFFERENCE, DURATION, MEAN, RATE, RATIO, SHARE, Metric
from deskpulse.store import Store

# At most this many rows come back; `n` still counts them all.
DEFAULT_LIMIT = 500


@dataclass
class DrillDown:
    metric: str  # the metric asked for
    source_metric: str  # the metric whose population the rows are (itself, or a derived metric's input)
    period: str | None
    group: dict[str, Any]
    n: int  # every row of the population, also those past the limit
    columns: list[str]
    rows: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "source_metric": self.source_metric,
            "period": self.period,
            "group": self.group,
            "n": self.n,
            "columns": self.columns,
            "rows": self.rows,
        }


def drill_down(
    store: Store,
    config: Config,
    query: KpiQuery,
    metric_id: str,
    *,
    period: str | None = None,
    group: dict[str, Any] | None = None,
    limit: int = DEFAULT_LIMIT,
) -> DrillDown:
    """The fact rows behind ``metric_id`` in the cell (``period`` label, ``group`` values of ``query.by``) of the
    result ``compute_kpis(store, config, query)`` gives; ``period`` None means the whole range (period "all")."""
    if metric_id not in METRICS:
        raise UserError(f"unknown metric {metric_id!r}")
    group = dict(group or {})
    unknown = set(group) - set(query.by)
    if unknown:
        raise UserError(f"the query is not grouped by {', '.join(sorted(unknown))}")
    requested = METRICS[metric_id]
    if requested.kind == DIFFERENCE:  # n counts both terms' populations: show both, each row saying which
        assert requested.of is not None
        parts = [
            drill_down(store, config, query, term, period=period, group=group, limit=limit) for term in requested.of
        ]
        rows = [{"term": part.source_metric, **row} for part in parts for row in part.rows]
        columns = ["term", *dict.fromkeys(c for part in parts for c in part.columns)]
        n = sum(part.n for part in parts)
        return DrillDown(metric_id, metric_id, period, group, n, columns, rows[:limit])
    metric = _population_metric(requested)
    # The cell's group values become filters; a null group value (facts without that dimension) cannot be named.
    filters = dict(query.filters)
    for dim in query.by:
        value = group.get(dim)
        if value is None:
            raise UserError(f"name the {dim} of the cell to drill into")
        filters[dim] = (str(value),)
    cell = replace(query, metrics=[metric.id], by=[], filters=filters, period=query.period if period else "all")
    calendar = replace(build_calendar(store, config), period=cell.period)
    facts = fact_tables(store, calendar, {metric.source})[metric.source]
    table = _bucketed(facts, metric.bucket, calendar, cell, _dimension_tables(store, config, list(filters)))
    if period is not None:
        table = table.filter(table.period == period)
    population = _population(table, metric)
    if population is not None:
        table = table.filter(population)
    shown = _shown_columns(table, metric)
    n = int(table.count().to_pyarrow().as_py())
    projected = table.select(**shown)
    # Largest values first for durations and means (the outliers a reviewer wants), else the latest first.
    order = [projected.value.desc()] if "value" in shown and metric.kind != SHARE else []
    records = projected.order_by([*order, projected.at.desc()]).limit(limit).to_pyarrow().to_pylist()
    return DrillDown(metric_id, metric.id, period, group, n, list(shown), records)


def _population_metric(metric: Metric) -> Metric:
    """The metric whose population a ratio rests on: its denominator (the tickets the share is of)."""
    while metric.kind == RATIO:
        assert metric.of is not None
        metric = METRICS[metric.of[1]]
    return metric


def _population(table: Any, metric: Metric) -> Any:
    """The rows the engine counts in ``metric``'s n (see `engine._plain_aggregates`)."""
    population = metric.population(table) if metric.population is not None else None
    counted = None
    if metric.kind in (DURATION, MEAN):
        assert isinstance(metric.value, str)
        counted = table[metric.value].notnull()
    elif metric.kind == SHARE:
        assert metric.per is not None
        counted = table[metric.per].notnull()
    if population is None:
        return counted
    population = population.fill_null(False)
    return population if counted is None else population & counted


def _shown_columns(table: Any, metric: Metric) -> dict[str, Any]:
    """What each row shows: the ticket, who it is credited to, when it happened and the value behind the number."""
    shown: dict[str, Any] = {}
    for column in ("ticket_id", "agent", "mailbox"):
        if column in table.columns:
            shown[column] = table[column]
    shown["at"] = table[metric.bucket]
    shown["period"] = table.period
    if metric.kind in (DURATION, MEAN):
        assert isinstance(metric.value, str)
        shown["value"] = table[metric.value]
    elif metric.kind == RATE:
        assert callable(metric.value)
        shown["hit"] = metric.value(table).fill_null(False)
    elif metric.kind == SHARE:
        assert isinstance(metric.value, str) and metric.per is not None
        shown["value"] = table[metric.value]
        shown["per"] = table[metric.per]
    elif metric.kind == COUNT and metric.ages is not None:
        shown["age"] = table[metric.ages]
    return shown
