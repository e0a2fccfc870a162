"""Bottlenecks: the tickets and categories that cost the most work and waiting — longest handle times, most
replies, longest customer waits, most reassignments, reopen loops — each category set against the median
category, with the ticket ids behind every number.

Built on the per-ticket facts the KPIs use (`deskpulse.metrics.facts`, `ticket_outcomes`, the requester waits of
`families.responses`), so a bottleneck and the KPI it explains cannot disagree. Those rows are computed once;
the per-category figures are one aggregate over them, the worst tickets one ranked query per measure.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import ibis

from deskpulse.config import Config
from deskpulse.errors import UserError
from deskpulse.insight.taxonomy import SEPARATOR
from deskpulse.store import Store

NO_CATEGORY = "(none)"
REOPEN_LOOP = 2  # reopened this often or more: the fix did not hold, twice


class BottleneckError(UserError):
    pass


@dataclass(frozen=True)
class Measure:
    """One way a ticket can be a bottleneck: its per-ticket ``column`` and the per-category ``statistic``
    (the median for durations, which a few months-long tickets would otherwise dominate; the mean for counts,
    whose median is 0 or 1 almost everywhere)."""

    id: str
    label: str
    statistic: str  # "median" or "mean"
    is_duration: bool
    definition: str


MEASURES = (
    Measure(
        "handle_time",
        "Handle time",
        "median",
        True,
        "Tracked time (the ticket's time entries) where it has any, else its resolution time (created → latest "
        "resolution); null for an open ticket without time entries.",
    ),
    Measure("replies", "Replies", "mean", False, "Public replies of human agents."),
    Measure(
        "customer_wait",
        "Customer wait",
        "median",
        True,
        "Requester wait time: the customer's answered waits for a reply, summed (first response included).",
    ),
    Measure(
        "reassignments",
        "Reassignments",
        "mean",
        False,
        "Changes of assignee: from the help desk's history, else the changes of replying agent.",
    ),
    Measure(
        "reopens",
        "Reopens",
        "mean",
        False,
        f"Times the customer reopened the ticket after a resolution; {REOPEN_LOOP} or more is a reopen loop.",
    ),
)
MEASURE_IDS = tuple(m.id for m in MEASURES)


@dataclass(frozen=True)
class BottleneckOptions:
    since: date | None = None  # tickets created on or after this local day (reporting timezone)
    until: date | None = None  # … and on or before this one
    top_level: bool = False  # group by the top-level category ("Billing") instead of the full path
    min_tickets: int = 5  # a category needs this many tickets with a value to be compared for a measure
    examples: int = 10  # ticket ids per category and measure, worst first
    limit: int = 10  # tickets in each overall top list
    # Only tickets whose attribute holds one of the values, as the web app's filters say, e.g.
    # (("mailbox", ("help@acme.test",)), ("team", ("Tier 1",))): category (the top level), mailbox, priority,
    # agent (the ticket's assignee) and team (the assignee's).
    ticket_filters: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class CategoryFigure:
    """One category's figure for one measure: its value (median or mean), over how many tickets, its ratio to the
    median category (null when it is not compared or the median is 0) and its worst tickets."""

    value: float | None
    n: int
    ratio: float | None
    ticket_ids: list[str]


@dataclass(frozen=True)
class CategoryBottlenecks:
    category: str
    tickets: int
    reopen_loops: int  # tickets reopened REOPEN_LOOP times or more
    figures: dict[str, CategoryFigure]

    @property
    def worst_ratio(self) -> float:
        ratios = [f.ratio for f in self.figures.values() if f.ratio is not None]
        return max(ratios, default=0.0)


@dataclass(frozen=True)
class TicketBottleneck:
    ticket_id: str
    subject: str | None
    category: str
    value: float
    source: str | None = None  # handle time: "tracked" or "resolution"


@dataclass(frozen=True)
class BottleneckReport:
    medians: dict[str, float | None]  # per measure, the median of the compared categories' values
    categories: list[CategoryBottlenecks]  # the worst ratio first
    top_tickets: dict[str, list[TicketBottleneck]]
    options: BottleneckOptions = field(default_factory=BottleneckOptions)

    def as_json(self) -> dict[str, Any]:
        return {
            "measures": [
                {"id": m.id, "label": m.label, "statistic": m.statistic, "definition": m.definition} for m in MEASURES
            ],
            "median_of_categories": self.medians,
            "min_tickets": self.options.min_tickets,
            "categories": [
                {
                    "category": c.category,
                    "tickets": c.tickets,
                    "reopen_loops": c.reopen_loops,
                    **{
                        m: {"value": f.value, "n": f.n, "ratio_to_median": f.ratio, "ticket_ids": f.ticket_ids}
                        for m, f in c.figures.items()
                    },
                }
                for c in self.categories
            ],
            "top_tickets": {
                measure: [
                    {
                        "ticket_id": t.ticket_id,
                        "subject": t.subject,
                        "category": t.category,
                        "value": t.value,
                        **({"source": t.source} if measure == "handle_time" else {}),
                    }
                    for t in tickets
                ]
                for measure, tickets in self.top_tickets.items()
            },
        }

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per category (CSV)."""
        rows = []
        for c in self.categories:
            row: dict[str, Any] = {"category": c.category, "tickets": c.tickets, "reopen_loops": c.reopen_loops}
            for measure, figure in c.figures.items():
                row[measure] = figure.value
                row[f"{measure}_n"] = figure.n
                row[f"{measure}_ratio"] = figure.ratio
                row[f"{measure}_ticket_ids"] = " ".join(figure.ticket_ids)
            rows.append(row)
        return rows


CSV_COLUMNS = (
    "category",
    "tickets",
    "reopen_loops",
    *(f"{m}{suffix}" for m in MEASURE_IDS for suffix in ("", "_n", "_ratio", "_ticket_ids")),
)


def per_ticket_measures(store: Store, config: Config, options: BottleneckOptions = BottleneckOptions()) -> Any:
    """One row per counted ticket (Ibis): ``ticket_id``, ``subject``, ``category`` (the grouping: full path or
    top level, `NO_CATEGORY` when none), ``created_at``, every measure of `MEASURES` and ``handle_source``."""
    from deskpulse.metrics.engine import fact_tables
    from deskpulse.metrics.facts import build_calendar
    from deskpulse.metrics.ticket_outcomes import with_outcomes

    calendar = build_calendar(store, config)
    tables = fact_tables(store, calendar, ["ticket_waits"])
    facts = with_outcomes(store, calendar, tables["tickets"])
    waits = tables["ticket_waits"].select("ticket_id", "requester_wait_time")
    categories = store.table("tickets").select("ticket_id", "category")
    joined = facts.left_join(waits, "ticket_id").left_join(categories, "ticket_id")
    tracked = joined.time_entries.fill_null(0) > 0
    category = joined.category.strip()
    if options.top_level:
        category = category.split(SEPARATOR.strip())[0].strip()
    per_ticket = joined.select(
        "ticket_id",
        "subject",
        "created_at",
        category=ibis.coalesce(ibis.ifelse(category == "", ibis.null("string"), category), NO_CATEGORY),
        handle_time=ibis.ifelse(tracked, joined.handle_seconds.cast("float64"), joined.full_resolution_time),
        handle_source=ibis.ifelse(
            tracked,
            "tracked",
            ibis.ifelse(joined.full_resolution_time.notnull(), "resolution", ibis.null("string")),
        ),
        replies=joined.replies.fill_null(0).cast("float64"),
        customer_wait=joined.requester_wait_time,
        reassignments=joined.reassignments.cast("float64"),
        reopens=joined.reopens.fill_null(0).cast("float64"),
    )
    if options.ticket_filters:
        chosen = _filtered_tickets(store, config, options.ticket_filters)
        per_ticket = per_ticket.filter(per_ticket.ticket_id.isin(chosen.ticket_id))
    zone = ZoneInfo(config.helpdesk.timezone)
    if options.since is not None:
        per_ticket = per_ticket.filter(per_ticket.created_at >= _utc_midnight(options.since, zone))
    if options.until is not None:
        next_day = date.fromordinal(options.until.toordinal() + 1)
        per_ticket = per_ticket.filter(per_ticket.created_at < _utc_midnight(next_day, zone))
    return per_ticket


def _filtered_tickets(store: Store, config: Config, filters: tuple[tuple[str, tuple[str, ...]], ...]) -> Any:
    """The tickets (an Ibis table with ``ticket_id``) whose attributes hold the filters' values."""
    from deskpulse.inputs.agents import agent_teams
    from deskpulse.metrics.engine import category_levels

    tickets = store.table("tickets")
    top, _ = category_levels(tickets.category)
    columns = {"category": top, "mailbox": tickets.mailbox, "priority": tickets.priority, "agent": tickets.assignee}
    for dimension, values in filters:
        if dimension == "team":
            teams = agent_teams(store, config)
            condition = tickets.assignee.isin(teams.filter(teams.team.isin(values)).agent)
        elif dimension in columns:
            condition = columns[dimension].isin(values)
        else:
            raise BottleneckError(f"cannot filter bottlenecks by {dimension!r}; use one of team, {', '.join(columns)}")
        tickets = tickets.filter(condition)
    return tickets.select("ticket_id")


def find_bottlenecks(
    store: Store, config: Config, options: BottleneckOptions = BottleneckOptions()
) -> BottleneckReport:
    """Per category: each measure, its ratio to the median category and its worst tickets; overall: the worst
    tickets per measure."""
    if options.min_tickets < 1 or options.examples < 0 or options.limit < 0:
        raise BottleneckError("--min-tickets must be at least 1, --examples and --limit at least 0")
    # Computed once: the aggregate and the ranked lists below read the rows eleven times, and each recomputation
    # of the per-ticket facts costs seconds.
    per_ticket = store.register(
        "deskpulse_bottleneck_tickets", store.arrow(per_ticket_measures(store, config, options))
    )
    aggregates: dict[str, Any] = {
        "tickets": per_ticket.count(),
        "reopen_loops": (per_ticket.reopens >= REOPEN_LOOP).sum(),
    }
    for measure in MEASURES:
        column = per_ticket[measure.id]
        aggregates[measure.id] = column.median() if measure.statistic == "median" else column.mean()
        aggregates[f"{measure.id}_n"] = column.count()
    figures = store.arrow(per_ticket.group_by("category").aggregate(**aggregates)).to_pylist()
    if not figures:
        raise BottleneckError("no tickets to analyse in that period: import mail first (deskpulse ingest)")
    medians: dict[str, float | None] = {}
    for measure in MEASURES:
        compared = [r[measure.id] for r in figures if r[f"{measure.id}_n"] >= options.min_tickets]
        medians[measure.id] = float(statistics.median(compared)) if compared else None
    worst = {m.id: _worst_per_category(store, per_ticket, m.id, options.examples) for m in MEASURES}
    categories = [
        CategoryBottlenecks(
            row["category"],
            int(row["tickets"]),
            int(row["reopen_loops"] or 0),
            {m.id: _figure(row, m.id, medians[m.id], options, worst[m.id].get(row["category"], [])) for m in MEASURES},
        )
        for row in figures
    ]
    categories.sort(key=lambda c: (-c.worst_ratio, -c.tickets, c.category))
    top = {m.id: _top_tickets(store, per_ticket, m.id, options.limit) for m in MEASURES}
    return BottleneckReport(medians, categories, top, options)


def _figure(
    row: dict[str, Any], measure: str, median: float | None, options: BottleneckOptions, ticket_ids: list[str]
) -> CategoryFigure:
    value, n = row[measure], int(row[f"{measure}_n"])
    ratio = None
    if n >= options.min_tickets and value is not None and median is not None and median > 0:
        ratio = float(value) / median
    return CategoryFigure(None if value is None else float(value), n, ratio, ticket_ids)


def _worst_per_category(store: Store, per_ticket: Any, measure: str, examples: int) -> dict[str, list[str]]:
    """Each category's tickets with the largest values of ``measure`` (above 0), largest first."""
    if examples == 0:
        return {}
    column = per_ticket[measure]
    valued = per_ticket.filter(column.notnull() & (column > 0))
    ranked = valued.mutate(
        rank=ibis.row_number().over(group_by="category", order_by=[valued[measure].desc(), valued.ticket_id])
    )
    rows = store.arrow(ranked.filter(ranked["rank"] < examples).order_by(["category", "rank"])).to_pylist()
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row["category"], []).append(row["ticket_id"])
    return found


def _top_tickets(store: Store, per_ticket: Any, measure: str, limit: int) -> list[TicketBottleneck]:
    column = per_ticket[measure]
    valued = per_ticket.filter(column.notnull() & (column > 0))
    ordered = valued.order_by([valued[measure].desc(), valued.ticket_id]).limit(limit)
    return [
        TicketBottleneck(
            row["ticket_id"],
            row["subject"],
            row["category"],
            float(row[measure]),
            row["handle_source"] if measure == "handle_time" else None,
        )
        for row in store.arrow(ordered).to_pylist()
    ]


def _utc_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant (naive, as stored) at which ``day`` begins in ``zone``."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
