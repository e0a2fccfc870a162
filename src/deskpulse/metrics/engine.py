"""The KPI engine: computes catalog metrics for any grouping, as Ibis expressions over the ticket facts.

Each metric is placed in a period by its own event (creation for volumes, the reply for response times),
in the reporting timezone. The result follows the JSON contract of spec §4.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from deskpulse.calendar import with_local_period
from deskpulse.config import Config
from deskpulse.errors import UserError
from deskpulse.metrics.catalog import DURATION, METRICS, Metric
from deskpulse.metrics.facts import Calendar, build_calendar, ticket_facts
from deskpulse.store import Store

PERIODS = ("day", "week", "month", "quarter", "year", "all")
DIMENSIONS = {"agent": "first_reply_agent", "mailbox": "mailbox"}


@dataclass(frozen=True)
class KpiQuery:
    metrics: list[str]
    period: str = "month"
    by: list[str] = field(default_factory=list)
    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise UserError(f"unknown period {self.period!r}; use one of {', '.join(PERIODS)}")
        for dim in self.by:
            if dim not in DIMENSIONS:
                raise UserError(f"cannot group by {dim!r}; use one of {', '.join(DIMENSIONS)}")


@dataclass
class KpiResult:
    timezone: str
    group_by: list[str]
    metrics: list[str]
    rows: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "group_by": self.group_by,
            "metrics": {m: METRICS[m].contract() for m in self.metrics},
            "rows": self.rows,
        }


def compute_kpis(store: Store, config: Config, query: KpiQuery) -> KpiResult:
    calendar = build_calendar(store, config)
    facts = ticket_facts(store, calendar)
    group_by = ([] if query.period == "all" else ["period"]) + list(query.by)
    keys = [*(["period"] if "period" in group_by else []), *(f"_{d}" for d in query.by)]
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    awaiting: dict[tuple[Any, ...], int] = {}
    # Volumes, and tickets still waiting for a first reply, belong to the period the ticket was created in;
    # response times to the period of the reply (spec §2).
    for bucket_column, aggregates in (
        ("created_at", _creation_aggregates),
        ("first_reply_at", _reply_aggregates),
    ):
        wanted = [m for m in query.metrics if METRICS[m].bucket == _BUCKET_EVENT[bucket_column]]
        if not wanted and bucket_column == "first_reply_at":
            continue
        table = _bucketed(facts, bucket_column, calendar, query)
        grouped = table.group_by(keys) if keys else table
        for record in grouped.aggregate(**aggregates(table)).to_pyarrow().to_pylist():
            key = tuple(record.get(k) for k in keys)
            row = rows.setdefault(key, dict(zip(group_by, key, strict=True)))
            if bucket_column == "created_at":
                awaiting[key] = int(record["awaiting_first_response"] or 0)
            for metric_id in wanted:
                row[metric_id] = _shape(metric_id, record)
    if not group_by:
        rows.setdefault((), {})
    ordered = []
    for key in sorted(rows, key=_sort_key):
        row = rows[key]
        for metric_id in query.metrics:
            value = row.pop(metric_id, None) or _empty(METRICS[metric_id])
            if METRICS[metric_id].kind == DURATION:
                value["open"] = awaiting.get(key, 0)
            row[metric_id] = value  # re-inserted so metrics follow the group columns, in the order asked for
        ordered.append(row)
    return KpiResult(config.helpdesk.timezone, group_by, list(query.metrics), ordered)


def _bucketed(facts: Any, bucket_column: str, calendar: Calendar, query: KpiQuery) -> Any:
    table = facts.filter(facts[bucket_column].notnull())
    table = with_local_period(table, bucket_column, calendar.days, query.period, "period")
    if query.since or query.until:
        table = with_local_period(table, bucket_column, calendar.days, "day", "_day")
        if query.since:
            table = table.filter(table._day >= query.since.isoformat())
        if query.until:
            table = table.filter(table._day <= query.until.isoformat())
    return table.mutate(**{f"_{d}": table[DIMENSIONS[d]] for d in query.by})


def _sort_key(key: tuple[Any, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((value is None, "" if value is None else str(value)) for value in key)


def _empty(metric: Metric) -> dict[str, Any]:
    if metric.kind == DURATION:
        return {"value": None, "median": None, "p90": None, "mean": None, "n": 0, "open": 0}
    return {"value": None, "n": 0}


_BUCKET_EVENT = {"created_at": "ticket creation", "first_reply_at": "first reply"}
_REPLY_METRICS = ("first_response_time", "first_response_time_business")


def _creation_aggregates(t: Any) -> dict[str, Any]:
    responds = ~t.is_proactive & t.first_customer_at.notnull()
    return {
        "tickets_created": t.count(),
        "unreplied": t.awaiting_first_reply.sum(),
        "unreplied_median_age": t.unreplied_age.median(),
        "unreplied_max_age": t.unreplied_age.max(),
        "awaiting_first_response": (responds & t.first_reply_at.isnull()).sum(),
    }


def _reply_aggregates(t: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for metric_id in _REPLY_METRICS:
        column = t[metric_id]
        out[f"{metric_id}__median"] = column.median()
        out[f"{metric_id}__p90"] = column.quantile(0.9)
        out[f"{metric_id}__mean"] = column.mean()
        out[f"{metric_id}__n"] = column.count()
    return out


def _shape(metric_id: str, r: dict[str, Any]) -> dict[str, Any]:
    """One metric's JSON object (spec §4) from an aggregated record."""
    if metric_id == "tickets_created":
        return {"value": r["tickets_created"], "n": r["tickets_created"]}
    if metric_id == "unreplied_tickets":
        unreplied = int(r["unreplied"] or 0)
        return {
            "value": unreplied,
            "n": unreplied,
            "median_age": r["unreplied_median_age"],
            "max_age": r["unreplied_max_age"],
        }
    n = int(r[f"{metric_id}__n"] or 0)
    median = r[f"{metric_id}__median"] if n else None
    return {
        "value": median,
        "median": median,
        "p90": r[f"{metric_id}__p90"] if n else None,
        "mean": r[f"{metric_id}__mean"] if n else None,
        "n": n,
        "open": 0,
    }
