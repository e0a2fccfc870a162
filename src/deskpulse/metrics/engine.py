"""The KPI engine: computes any catalog metric for any grouping, as Ibis expressions over fact tables.

Each metric is placed in a period by its own event (creation for volumes, the reply for response times),
in the reporting timezone; its declaration (`deskpulse.metrics.metric.Metric`) says which. The result
follows the JSON contract of spec §4.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date
from math import sqrt
from typing import Any

import ibis
import ibis.expr.operations as ops

from deskpulse.calendar import with_local_period
from deskpulse.config import Config
from deskpulse.errors import UserError
from deskpulse.insight.taxonomy import SEPARATOR
from deskpulse.metrics.catalog import METRICS
from deskpulse.metrics.facts import Calendar, build_calendar, ticket_facts
from deskpulse.metrics.families import FACT_TABLES
from deskpulse.metrics.metric import COUNT, DURATION, MEAN, RATE, RATIO, SHARE, Metric
from deskpulse.store import Store

PERIODS = ("day", "week", "month", "quarter", "year", "all")
# What --by and --filter accept. `agent` and `mailbox` are columns of every fact table (the agent a fact is
# credited to); `team` is that agent's team; the others belong to the fact's ticket. A ticket with several
# tags counts once under each of them.
DIMENSIONS = ("agent", "team", "mailbox", "category", "subcategory", "priority", "tag", "organisation", "flag")
TICKET_DIMENSIONS = ("category", "subcategory", "priority", "organisation")


@dataclass(frozen=True)
class KpiQuery:
    metrics: list[str]
    period: str = "month"
    by: list[str] = field(default_factory=list)
    since: date | None = None
    until: date | None = None
    # Keep only facts whose dimension holds one of the values, e.g. {"priority": ("urgent", "high")}.
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise UserError(f"unknown period {self.period!r}; use one of {', '.join(PERIODS)}")
        for dim in self.by:
            if dim not in DIMENSIONS:
                raise UserError(f"cannot group by {dim!r}; use one of {', '.join(DIMENSIONS)}")
        for dim, values in self.filters.items():
            if dim not in DIMENSIONS:
                raise UserError(f"cannot filter by {dim!r}; use one of {', '.join(DIMENSIONS)}")
            if not values:
                raise UserError(f"the filter on {dim} names no value")


def parse_filters(texts: list[str]) -> dict[str, tuple[str, ...]]:
    """``["priority=urgent,high", "team=Billing"]`` → {"priority": ("urgent", "high"), "team": ("Billing",)}."""
    filters: dict[str, tuple[str, ...]] = {}
    for text in texts:
        name, sep, values = text.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UserError(f"a filter reads DIMENSION=VALUE[,VALUE…], such as priority=urgent; got {text!r}")
        if name not in DIMENSIONS:
            raise UserError(f"cannot filter by {name!r}; use one of {', '.join(DIMENSIONS)}")
        parts = tuple(v.strip() for v in values.split(",") if v.strip())
        filters[name] = filters.get(name, ()) + parts
    return filters


@dataclass
class KpiResult:
    timezone: str
    group_by: list[str]
    metrics: list[str]
    rows: list[dict[str, Any]]
    # Tickets created in the query's date range that no metric counts, by reason (spec §1.8): merged away,
    # spam, deleted, automation only, … Grouping and filters do not apply: they are nobody's tickets.
    left_out: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "group_by": self.group_by,
            "metrics": {m: METRICS[m].contract() for m in self.metrics},
            "rows": self.rows,
            "left_out": self.left_out,
        }


def _reads_a_stored_table(table: Any) -> bool:
    """Whether ``table`` is a stored table or columns computed row by row over one: reading it again in another
    pass costs less than copying every column of it into a temporary table first."""
    op = table.op()
    while isinstance(op, ops.Project):
        op = op.parent
    return isinstance(op, ops.DatabaseTable)


def compute_kpis(store: Store, config: Config, query: KpiQuery) -> KpiResult:
    calendar = replace(build_calendar(store, config), period=query.period)
    requested = [METRICS[m] for m in query.metrics]
    metrics = _with_inputs(requested)
    tables = fact_tables(store, calendar, {metric.source for metric in metrics if not metric.derived})
    dimensions = _dimension_tables(store, config, [*query.by, *query.filters])
    group_by = ([] if query.period == "all" else ["period"]) + list(query.by)
    keys = [*(["period"] if "period" in group_by else []), *(f"_{d}" for d in query.by)]
    # One aggregation per (fact table, bucket column): every metric placed in periods by the same event
    # is computed in the same pass.
    passes: dict[tuple[str, str], dict[str, Any]] = {}
    for metric in metrics:
        if metric.derived:
            continue
        passes.setdefault((metric.source, metric.bucket), {})[metric.id] = ("value", metric)
        if metric.open_bucket is not None:
            passes.setdefault((metric.source, metric.open_bucket), {})[f"{metric.id}__open"] = ("open", metric)
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    # A fact table read by several passes is computed once and kept (a temporary table on the engine), unless
    # it is a stored table already (or columns computed row by row over one, as the per-ticket facts are).
    sources = [source for source, _ in passes]
    cached = {
        source: tables[source].cache()
        for source in set(sources)
        if sources.count(source) > 1 and not _reads_a_stored_table(tables[source])
    }
    try:
        for (source, bucket), wanted in passes.items():
            table = _bucketed(cached.get(source, tables[source]), bucket, calendar, query, dimensions)
            aggregates: dict[str, Any] = {}
            for role, metric in wanted.values():
                aggregates.update(_open_aggregates(table, metric) if role == "open" else _aggregates(table, metric))
            grouped = table.group_by(keys) if keys else table
            for record in grouped.aggregate(**aggregates).to_pyarrow().to_pylist():
                key = tuple(record.get(k) for k in keys)
                row = rows.setdefault(key, dict(zip(group_by, key, strict=True)))
                for role, metric in wanted.values():
                    if role == "open":
                        row[f"_{metric.id}__open"] = int(record[f"{metric.id}__open"] or 0)
                    else:
                        row[metric.id] = _shape(metric, record)
    finally:
        for table in cached.values():
            table.release()
    if not group_by:
        rows.setdefault((), {})
    ordered = []
    for key in sorted(rows, key=_sort_key):
        row = rows[key]
        results: dict[str, dict[str, Any]] = {}
        for metric in metrics:  # inputs come before the metrics derived from them
            if metric.derived:
                assert metric.of is not None
                results[metric.id] = _combine(metric, results[metric.of[0]], results[metric.of[1]])
                continue
            value = row.pop(metric.id, None) or _empty(metric)
            if metric.kind == DURATION:
                value["open"] = row.pop(f"_{metric.id}__open", 0)
            if metric.survey_sample:
                # Each part of a breakdown is a smaller sample than the whole: it is judged on its own n.
                for judged in (value, *value.get(metric.breakdown_key, {}).values()):
                    judged["inconclusive"] = judged["n"] < config.guardrails.min_survey_answers
            results[metric.id] = value
        # Group columns first, then the metrics in the order asked for; inputs nobody asked for are dropped.
        shaped = {k: v for k, v in row.items() if not k.startswith("_")}
        shaped.update((metric.id, results[metric.id]) for metric in requested)
        ordered.append(shaped)
    return KpiResult(config.helpdesk.timezone, group_by, list(query.metrics), ordered, left_out(store, calendar, query))


def left_out(store: Store, calendar: Calendar, query: KpiQuery) -> dict[str, int]:
    """How many tickets created in the query's date range the metrics leave out, by reason."""
    tickets = store.table("tickets")
    excluded = tickets.filter(tickets.excluded_reason.notnull())
    excluded = _bucketed(
        excluded, "created_at", calendar, KpiQuery([], "all", since=query.since, until=query.until), []
    )
    counts = excluded.group_by("excluded_reason").aggregate(tickets=excluded.count())
    return {row["excluded_reason"]: int(row["tickets"]) for row in counts.to_pyarrow().to_pylist()}


def _with_inputs(requested: list[Metric]) -> list[Metric]:
    """The requested metrics and every metric a derived one needs, each input before what it feeds."""
    ordered: list[Metric] = []

    def add(metric: Metric) -> None:
        if metric in ordered:
            return
        for input_id in metric.of or ():
            add(METRICS[input_id])
        ordered.append(metric)

    for metric in requested:
        add(metric)
    return ordered


def _combine(metric: Metric, first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """A RATIO or DIFFERENCE of two metrics' results in the same row."""
    a, b = first["value"], second["value"]
    if metric.kind == RATIO:
        # n is the denominator's population: the tickets the share is of.
        if not b:
            return {"value": None, "n": 0}
        return {"value": (a or 0) / b, "n": second["n"]}
    # A difference of counts: a missing side counted nothing in this period; with nothing on either side there
    # is no population, and no number (spec §4).
    n = first["n"] + second["n"]
    return {"value": (a or 0) - (b or 0) if n else None, "n": n}


def wilson_interval(hits: int, n: int, z: float = 1.96) -> tuple[float, float] | tuple[None, None]:
    """The Wilson score interval of a proportion (95 % by default): honest for small n and near 0 or 1."""
    if n == 0:
        return None, None
    p = hits / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    margin = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)


def fact_tables(store: Store, calendar: Calendar, names: Collection[str] | None = None) -> dict[str, Any]:
    """The fact tables ``names`` (default: every one the families declare) and the per-ticket facts, as Ibis
    tables. Only those asked for are built: some builders read files or query the store."""
    tickets = ticket_facts(store, calendar)
    tables = {"tickets": tickets}
    for name, builder in FACT_TABLES.items():
        if names is None or name in names:
            tables[name] = builder(store, calendar, tickets)
    return tables


@dataclass(frozen=True)
class _Lookup:
    """A table joined to fact rows for some dimensions: on the fact column `on`, matching its `key` column, it
    adds the `_dim_<name>` columns `adds` (null on fact tables without `on`)."""

    on: str
    table: Any
    key: str
    adds: tuple[str, ...]


def category_levels(path: Any) -> tuple[Any, Any]:
    """A hierarchical category column ("Billing > Refund Request") as the dimensions `category` (the top level)
    and `subcategory` (the whole path below a top level; null for a ticket filed under a top level only)."""
    cut = path.find(SEPARATOR)
    return (cut < 0).ifelse(path, path.substr(0, cut)), (cut < 0).ifelse(ibis.null("string"), path)


def _dimension_tables(store: Store, config: Config, wanted: list[str]) -> list[_Lookup]:
    """The lookups the wanted dimensions need: ticket attributes, tags, review flags, agents' teams."""
    lookups = []
    if set(wanted) & set(TICKET_DIMENSIONS):
        tickets = store.table("tickets")
        adds = tuple(f"_dim_{d}" for d in TICKET_DIMENSIONS)
        category, subcategory = category_levels(tickets.category)
        attributes = {
            "category": category,
            "subcategory": subcategory,
            "priority": tickets.priority,
            "organisation": tickets.organisation,
        }
        table = tickets.select(_ticket_id=tickets.ticket_id, **{f"_dim_{d}": attributes[d] for d in TICKET_DIMENSIONS})
        lookups.append(_Lookup("ticket_id", table, "_ticket_id", adds))
    if "tag" in wanted:
        tags = store.table("ticket_tags")
        table = tags.select(_tag_ticket_id=tags.ticket_id, _dim_tag=tags.tag).distinct()
        lookups.append(_Lookup("ticket_id", table, "_tag_ticket_id", ("_dim_tag",)))
    if "flag" in wanted:  # a ticket counts under each kind of review flag it has (open or reviewed)
        flags = store.table("ticket_flags")
        table = flags.select(_flag_ticket_id=flags.ticket_id, _dim_flag=flags.kind).distinct()
        lookups.append(_Lookup("ticket_id", table, "_flag_ticket_id", ("_dim_flag",)))
    if "team" in wanted:
        from deskpulse.inputs.agents import agent_teams

        teams = agent_teams(store, config)
        table = teams.select(_team_agent=teams.agent, _dim_team=teams.team)
        lookups.append(_Lookup("agent", table, "_team_agent", ("_dim_team",)))
    return lookups


def _with_dimensions(table: Any, lookups: list[_Lookup], wanted: list[str]) -> Any:
    """``table`` with a ``_dim_<name>`` column for each wanted dimension (null where the fact has none)."""
    columns = set(table.columns)
    out = table.mutate(**{f"_dim_{d}": table[d] for d in ("agent", "mailbox") if d in wanted})
    for lookup in lookups:
        if lookup.on in columns:
            out = out.left_join(lookup.table, out[lookup.on] == lookup.table[lookup.key]).drop(lookup.key)
        else:
            out = out.mutate(**{column: ibis.null("string") for column in lookup.adds})
    return out


def _bucketed(facts: Any, bucket_column: str, calendar: Calendar, query: KpiQuery, dimensions: list[_Lookup]) -> Any:
    table = facts.filter(facts[bucket_column].notnull())
    wanted = [*query.by, *query.filters]
    if wanted:
        table = _with_dimensions(table, dimensions, wanted)
        for dim, values in query.filters.items():
            table = table.filter(table[f"_dim_{dim}"].isin(values))
    table = with_local_period(table, bucket_column, calendar.days, query.period, "period")
    if query.since or query.until:
        table = with_local_period(table, bucket_column, calendar.days, "day", "_day")
        if query.since:
            table = table.filter(table._day >= query.since.isoformat())
        if query.until:
            table = table.filter(table._day <= query.until.isoformat())
    return table.mutate(**{f"_{d}": table[f"_dim_{d}"] for d in query.by})


def _sort_key(key: tuple[Any, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((value is None, "" if value is None else str(value)) for value in key)


def _aggregates(t: Any, metric: Metric) -> dict[str, Any]:
    """The Ibis aggregates of one metric over a bucketed fact table, named `<id>__<stat>`."""
    out: dict[str, Any] = {}
    for each in (metric, *_breakdown_parts(metric)):  # a breakdown's parts report the metric's sums too
        out.update(_plain_aggregates(t, each))
        population = each.population(t) if each.population is not None else None
        for column in each.sums:
            summed = t[column].cast("float64")
            out[f"{each.id}__sum_{column}"] = summed.sum() if population is None else summed.sum(where=population)
    return out


def _breakdown_parts(metric: Metric) -> list[Metric]:
    """One metric per label of the breakdown: the same aggregate over the rows holding that label."""
    if metric.breakdown is None:
        return []
    column, labels = metric.breakdown
    parts = []
    for index, label in enumerate(labels):

        def population(t: Any, label: str = label) -> Any:
            holds = (t[column] == label).fill_null(False)
            return holds if metric.population is None else metric.population(t) & holds

        parts.append(replace(metric, id=f"{metric.id}__b{index}", population=population, breakdown=None, ages=None))
    return parts


def _plain_aggregates(t: Any, metric: Metric) -> dict[str, Any]:
    population = metric.population(t) if metric.population is not None else None
    name = metric.id
    if metric.kind == COUNT:
        out = {f"{name}__n": t.count(where=population) if population is not None else t.count()}
        if metric.ages is not None:
            ages = t[metric.ages] if population is None else population.ifelse(t[metric.ages], None)
            out[f"{name}__median_age"] = ages.median()
            out[f"{name}__max_age"] = ages.max()
        return out
    if metric.kind in (DURATION, MEAN):
        assert isinstance(metric.value, str), f"{name}: value must name a column"
        column = t[metric.value].cast("float64")  # PostgreSQL would average integers into numerics
        if population is not None:
            column = population.ifelse(column, None)
        out = {f"{name}__n": column.count(), f"{name}__mean": column.mean()}
        if metric.kind == DURATION:
            out[f"{name}__median"] = column.median()
            out[f"{name}__p90"] = column.quantile(0.9)
        return out
    if metric.kind == RATE:
        assert callable(metric.value), f"{name}: value must be a predicate"
        hit = metric.value(t)
        if population is not None:
            return {f"{name}__n": population.sum(), f"{name}__hits": (population & hit).sum()}
        return {f"{name}__n": t.count(), f"{name}__hits": hit.sum()}
    if metric.kind == SHARE:
        assert isinstance(metric.value, str) and metric.per is not None, f"{name}: value and per name columns"
        numerator, denominator = t[metric.value].cast("float64"), t[metric.per].cast("float64")
        counted = denominator.notnull() if population is None else population & denominator.notnull()
        return {
            f"{name}__n": counted.sum() if metric.count is None else t[metric.count].sum(where=counted),
            f"{name}__num": numerator.sum(where=counted),
            f"{name}__den": denominator.sum(where=counted),
        }
    raise ValueError(f"{name}: unknown kind {metric.kind}")


def _open_aggregates(t: Any, metric: Metric) -> dict[str, Any]:
    assert metric.open_population is not None
    return {f"{metric.id}__open": metric.open_population(t).sum()}


def _shape(metric: Metric, r: dict[str, Any]) -> dict[str, Any]:
    """One metric's JSON object (spec §4) from an aggregated record."""
    shaped = _plain_shape(metric, r) | _sums(metric, r)
    if metric.breakdown is not None:
        labels = metric.breakdown[1]
        parts = _breakdown_parts(metric)
        shaped[metric.breakdown_key] = {
            label: _plain_shape(part, r) | _sums(part, r) for label, part in zip(labels, parts, strict=True)
        }
    return shaped


def _sums(metric: Metric, r: dict[str, Any]) -> dict[str, Any]:
    """The population's sum of each column in `metric.sums`, reported beside the value."""
    totals = {column: r[f"{metric.id}__sum_{column}"] for column in metric.sums}
    return {column: None if total is None else float(total) for column, total in totals.items()}


def _plain_shape(metric: Metric, r: dict[str, Any]) -> dict[str, Any]:
    name = metric.id
    n = int(r[f"{name}__n"] or 0)
    if n == 0:
        return _empty(metric)
    if metric.kind == COUNT:
        shaped: dict[str, Any] = {"value": n, "n": n}
        if metric.ages is not None:
            shaped["median_age"] = r[f"{name}__median_age"]
            shaped["max_age"] = r[f"{name}__max_age"]
        return shaped
    if metric.kind == DURATION:
        median = r[f"{name}__median"]
        return {
            "value": median,
            "median": median,
            "p90": r[f"{name}__p90"],
            "mean": r[f"{name}__mean"],
            "n": n,
            "open": 0,
        }
    if metric.kind == MEAN:
        return {"value": r[f"{name}__mean"], "n": n}
    if metric.kind == SHARE:
        numerator, denominator = r[f"{name}__num"], r[f"{name}__den"]
        value = float(numerator or 0) / float(denominator) if denominator else None
        return {"value": value, "n": n}
    hits = int(r[f"{name}__hits"] or 0)
    low, high = wilson_interval(hits, n)
    return {"value": hits / n, "n": n, "ci_low": low, "ci_high": high}


def _empty(metric: Metric) -> dict[str, Any]:
    """A metric with no population: ``"value": null, "n": 0`` (spec §4), even for counts."""
    empty = _plain_empty(metric)
    for column in metric.sums:
        empty[column] = None
    if metric.breakdown is not None:
        labels = metric.breakdown[1]
        empty[metric.breakdown_key] = {
            label: _plain_empty(part) | dict.fromkeys(part.sums)
            for label, part in zip(labels, _breakdown_parts(metric), strict=True)
        }
    return empty


def _plain_empty(metric: Metric) -> dict[str, Any]:
    if metric.kind == DURATION:
        return {"value": None, "median": None, "p90": None, "mean": None, "n": 0, "open": 0}
    empty: dict[str, Any] = {"value": None, "n": 0}
    if metric.kind == RATE:
        empty.update(ci_low=None, ci_high=None)
    if metric.ages is not None:
        empty.update(median_age=None, max_age=None)
    return empty
