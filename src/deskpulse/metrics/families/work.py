"""Work: handle time from tracked work, occupancy and utilization against schedules, cost per ticket.

Every number here comes from the user's own files (docs/inputs.md), never from the gaps between messages:
time entries (the `time_entries` table), `[files] schedules` and `[files] costs`. Without them the metrics
are "not measured" (``"value": null, "n": 0``). Three fact tables, each over the local days from the store's
first message to its newest (its horizon), the span its mail covers:

* `work_entries`: one row per time entry and period grain, so a ticket counts once per period however often
  it was worked on in it (see `build_work_entries`);
* `agent_days`: one row per agent and local day, with the seconds handled, paid and available;
* `support_costs`: one row per day with its cost, per ticket created and per resolution on such a day.
"""

from __future__ import annotations

from datetime import UTC, date
from functools import reduce
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import ibis
import pyarrow as pa

from deskpulse.calendar import holidays_between, with_local_period
from deskpulse.inputs.costs import daily_costs, read_costs
from deskpulse.inputs.schedules import read_schedules, schedule_days
from deskpulse.metrics.families.resolution import LABELLED_PERIODS, TICKETS_RESOLVED, build_resolutions
from deskpulse.metrics.message_tickets import tickets_of_named_messages
from deskpulse.metrics.metric import SHARE, Metric

if TYPE_CHECKING:
    from deskpulse.metrics.facts import Calendar
    from deskpulse.store import Store

Span = tuple[date, date] | None  # the first and last local day the store's mail covers; None for no mail

SCHEDULE_DAYS_SCHEMA = pa.schema(
    [
        pa.field("agent", pa.string()),
        pa.field("day_label", pa.string()),
        pa.field("paid_seconds", pa.float64()),
        pa.field("available_seconds", pa.float64()),
    ]
)
COST_DAYS_SCHEMA = pa.schema([pa.field("day_label", pa.string()), pa.field("cost", pa.float64())])
PERIOD_GRAINS = ("day", *LABELLED_PERIODS[1:], "all")  # engine.PERIODS, in the words of the calendar's columns


def build_work_entries(store: Store, calendar: Calendar, ticket_facts: Any) -> Any:
    """One row per time entry and period grain (day, week, month, quarter, year, all): an Ibis expression.

    Columns: ``ticket_id`` (named by the entry, or the ticket of the message it names; null when that message
    is not in the store), ``agent`` (who tracked the time), ``mailbox`` (the ticket's), ``started_at`` (places
    the row), ``seconds``, ``work_period`` (the label of the row's period for its grain, 'all' for the last)
    and ``tickets``: the row's share of one ticket in that period, so that the shares of a ticket's entries in
    a period add up to 1. A ticket k agents worked on in a period gives each agent 1/k of it, spread evenly
    over that agent's entries. The metrics keep the rows whose ``work_period`` is the query's period; when the
    calendar names it, the other grains are left out.
    """
    entries = _counted_entries(store, calendar, _local_days(calendar, _span(calendar)))
    grains = []
    for grain in PERIOD_GRAINS if calendar.period is None else (calendar.period,):
        label = ibis.literal("all") if grain == "all" else entries["day_label" if grain == "day" else grain]
        grains.append(
            entries.select(
                "entry_id", "ticket_id", "ticket_key", "agent", "mailbox", "started_at", "seconds", work_period=label
            )
        )
    rows = reduce(lambda a, b: a.union(b), grains)
    pair = ibis.window(group_by=["work_period", "ticket_key", "agent"], order_by=["started_at", "entry_id"])
    rows = rows.mutate(
        _entries=rows.entry_id.count().over(ibis.window(group_by=["work_period", "ticket_key", "agent"])),
        _first_of_agent=(ibis.row_number().over(pair) == 0).ifelse(1, 0),
    )
    # Agents per ticket and period: a COUNT(DISTINCT) window, which PostgreSQL and Spark lack, as a sum of
    # each agent's first entry.
    rows = rows.mutate(_agents=rows._first_of_agent.sum().over(ibis.window(group_by=["work_period", "ticket_key"])))
    return rows.select(
        "ticket_id",
        "agent",
        "mailbox",
        "started_at",
        "work_period",
        seconds=rows.seconds.cast("float64"),
        tickets=1.0 / (rows._agents * rows._entries).cast("float64"),
    )


def build_agent_days(store: Store, calendar: Calendar, ticket_facts: Any) -> Any:
    """One row per agent and local day with paid time or tracked work: an Ibis expression.

    Columns: ``agent``, ``mailbox`` (null: a day's work is the agent's, not one mailbox's), ``day_start`` (the
    day's first instant, which places the row), ``handled_seconds`` (time entries started that day),
    ``paid_seconds`` and ``available_seconds`` (from the schedule; null when none holds for the agent that day).
    """
    span = _span(calendar)
    days = _local_days(calendar, span)
    schedules = calendar.config.files.schedules
    rows: list[dict[str, Any]] = []
    if schedules is not None and span is not None:
        holidays = holidays_between(calendar.config.business_hours, *span)
        for day in schedule_days(read_schedules(schedules), *span, holidays):
            rows.append(
                {
                    "agent": day.agent,
                    "day_label": day.day.isoformat(),
                    "paid_seconds": day.paid_seconds,
                    "available_seconds": day.available_seconds,
                }
            )
    scheduled = store.register("deskpulse_schedule_days", pa.Table.from_pylist(rows, schema=SCHEDULE_DAYS_SCHEMA))
    entries = _counted_entries(store, calendar, days)
    worked = entries.group_by("agent", "day_label").aggregate(handled_seconds=entries.seconds.sum().cast("float64"))
    both = scheduled.mutate(handled_seconds=ibis.literal(0.0)).union(
        worked.mutate(paid_seconds=ibis.null("float64"), available_seconds=ibis.null("float64")).select(
            *scheduled.columns, "handled_seconds"
        )
    )
    per_day = both.group_by("agent", "day_label").aggregate(
        paid_seconds=both.paid_seconds.max(),
        available_seconds=both.available_seconds.max(),
        handled_seconds=both.handled_seconds.sum(),
    )
    # A day off with no work says nothing; a day off worked through still counts its work.
    per_day = per_day.filter((per_day.paid_seconds > 0).fill_null(False) | (per_day.handled_seconds > 0))
    joined = per_day.join(days, "day_label")
    return joined.select(
        "agent",
        "day_start",
        "handled_seconds",
        "paid_seconds",
        "available_seconds",
        mailbox=ibis.null("string"),
    )


def build_support_costs(store: Store, calendar: Calendar, ticket_facts: Any) -> Any:
    """The cost of each day, and the tickets created and resolved on days with a cost: an Ibis expression.

    One row per event, ``kind`` saying which: ``cost`` (a day: ``cost`` is its share of its month's cost),
    ``created`` (a ticket created that day: ``created`` = 1) or ``resolution`` (a resolution that day:
    ``resolved`` = 1, with the ``previous_day`` … ``previous_year`` labels of the ticket's resolution before it,
    so a ticket counts once per period as in tickets_resolved). ``occurred_at`` places the row. A ticket
    created or resolved on a day of a month without cost is left out. ``agent`` and ``mailbox`` are null:
    cost belongs to the whole team.
    """
    span = _span(calendar)
    costs = calendar.config.files.costs
    rows: list[dict[str, Any]] = []
    if costs is not None and span is not None:
        rows = [{"day_label": day.isoformat(), "cost": cost} for day, cost in daily_costs(read_costs(costs), *span)]
    cost_days = store.register("deskpulse_cost_days", pa.Table.from_pylist(rows, schema=COST_DAYS_SCHEMA))
    days = _local_days(calendar, span)
    no_previous = {f"previous_{p}": ibis.null("string") for p in LABELLED_PERIODS}
    zero, one = ibis.literal(0, type="int64"), ibis.literal(1, type="int64")

    cost_rows = days.join(cost_days, "day_label")
    cost_rows = cost_rows.select(
        occurred_at=cost_rows.day_start,
        kind=ibis.literal("cost"),
        cost=cost_rows.cost,
        created=zero,
        resolved=zero,
        **no_previous,
    )

    def on_cost_days(events: Any, time_column: str) -> Any:
        labelled = with_local_period(events, time_column, calendar.days, "day", "_day_label")
        costed = cost_days.view()  # a fresh relation: the days are joined to each kind of event
        return labelled.join(costed, labelled._day_label == costed.day_label)

    created = on_cost_days(ticket_facts.select("created_at"), "created_at")
    created = created.select(
        occurred_at=created.created_at,
        kind=ibis.literal("created"),
        cost=0.0,
        created=one,
        resolved=zero,
        **no_previous,
    )
    resolutions = build_resolutions(store, calendar, ticket_facts)
    resolutions = resolutions.filter(resolutions.resolved_at.notnull())
    resolved = on_cost_days(
        resolutions.select("resolved_at", *(f"previous_{p}" for p in LABELLED_PERIODS)), "resolved_at"
    )
    resolved = resolved.select(
        occurred_at=resolved.resolved_at,
        kind=ibis.literal("resolution"),
        cost=0.0,
        created=zero,
        resolved=one,
        **{f"previous_{p}": resolved[f"previous_{p}"] for p in LABELLED_PERIODS},
    )
    table = cost_rows.union(created).union(resolved)
    return table.mutate(agent=ibis.null("string"), mailbox=ibis.null("string"))


FACT_TABLES = {
    "work_entries": build_work_entries,
    "agent_days": build_agent_days,
    "support_costs": build_support_costs,
}


def _span(calendar: Calendar) -> Span:
    """The first and last local day of the store's mail: the days work and cost are counted on."""
    if calendar.horizon is None or calendar.first_message is None:
        return None
    zone = ZoneInfo(calendar.config.helpdesk.timezone)
    return (
        calendar.first_message.replace(tzinfo=UTC).astimezone(zone).date(),
        calendar.horizon.replace(tzinfo=UTC).astimezone(zone).date(),
    )


def _local_days(calendar: Calendar, span: Span) -> Any:
    """The local days of ``span``: ``day_label`` ('2026-03-29'), ``day_start`` and the day's period labels."""
    pieces = calendar.days.view()  # a local day may be cut in pieces at UTC midnight
    days = pieces.group_by("day", *LABELLED_PERIODS[1:]).aggregate(day_start=pieces.day_start.min())
    if span is None:
        days = days.filter(ibis.literal(False))
    else:
        days = days.filter((days.day >= ibis.literal(span[0])) & (days.day <= ibis.literal(span[1])))
    return days.select("day_start", *LABELLED_PERIODS[1:], day_label=days.day.strftime("%Y-%m-%d"))


def _counted_entries(store: Store, calendar: Calendar, days: Any) -> Any:
    """The time entries that count, with their ticket resolved and their local day's labels.

    An entry counts when it tracked some time, started on a day of ``days`` and is not about a ticket the
    metrics leave out (automation only, spam, merged away). Work on a ticket the store does not know (a
    message not imported) still counts: it was done. ``ticket_key`` tells tickets apart for counting them,
    the message's id standing in for an unknown ticket.
    """
    entries = store.table("time_entries")
    entries = entries.filter(entries.seconds > 0)
    by_message = tickets_of_named_messages(store, "time_entries")
    tickets = store.table("tickets")
    tickets = tickets.select(
        _ticket_id=tickets.ticket_id,
        _mailbox=tickets.mailbox,
        _left_out=tickets.excluded_reason.notnull() | tickets.merged_into.notnull(),
    )
    named = entries.left_join(by_message, entries.message_id == by_message._message_id)
    ticket_id = ibis.coalesce(entries.ticket_id, named._message_ticket_id)
    joined = named.left_join(tickets, ticket_id == tickets._ticket_id)
    kept = joined.filter(~joined._left_out.fill_null(False))
    ticket_id = ibis.coalesce(kept.ticket_id, kept._message_ticket_id)
    kept = kept.select(
        "entry_id",
        "agent",
        "started_at",
        "seconds",
        ticket_id=ticket_id,
        ticket_key=ibis.coalesce(ticket_id, kept.message_id),
        mailbox=kept._mailbox,
    )
    labelled = with_local_period(kept, "started_at", calendar.days, "day", "_day_label")
    placed = labelled.join(days, labelled._day_label == days.day_label)
    return placed.select(*kept.columns, "day_label", *LABELLED_PERIODS[1:])


def _cost_or_unique_resolution(t: Any) -> Any:
    """Cost days, and each ticket's first resolution in the period, as tickets_resolved counts tickets."""
    assert TICKETS_RESOLVED.population is not None
    return (t.kind == "cost") | ((t.kind == "resolution") & TICKETS_RESOLVED.population(t))


HANDLE_TIME = Metric(
    "handle_time",
    "Handle time (AHT)",
    SHARE,
    "lower",
    "Tracked work seconds ÷ tickets with tracked work, from time entries only (`deskpulse load time-entries`); "
    "without any, not measured (null), never guessed from the gaps between messages. An entry counts in the "
    "period of its start (reporting timezone): a ticket worked on in two months counts in each, with that "
    "month's seconds. Per agent: the seconds the agent tracked ÷ the agent's share of the tickets, a ticket k "
    "agents worked on in the period counting 1/k for each, so the agents' rows add up to the team's. `seconds` "
    "and `tickets` give both sums; `n` counts the time entries.",
    source="work_entries",
    bucket="started_at",
    population=lambda t: t.work_period == t.period,
    value="seconds",
    per="tickets",
    sums=("seconds", "tickets"),
    unit_name="seconds",
    short="Handle time",
)

OCCUPANCY = Metric(
    "occupancy",
    "Occupancy",
    SHARE,
    "neutral",
    "Handled ÷ available time, per agent and team: seconds of time entries started in the period ÷ the paid "
    "hours of `[files] schedules` times each schedule's `available_share`. A holiday of `[business_hours]` is "
    "paid but not available. Agents without a schedule are left out (null, not 0), their work too; "
    "`handled_seconds` and `available_seconds` give both sums; `n` counts the agent-days.",
    source="agent_days",
    bucket="day_start",
    population=lambda t: t.available_seconds.notnull(),  # agent-days under a schedule, for the sums too
    value="handled_seconds",
    per="available_seconds",
    sums=("handled_seconds", "available_seconds"),
    short="Occupancy",
)

UTILIZATION = Metric(
    "utilization",
    "Utilization",
    SHARE,
    "neutral",
    "Handled ÷ scheduled (paid) time, per agent and team: seconds of time entries started in the period ÷ the "
    "paid hours of `[files] schedules` (holidays included). Agents without a schedule are left out (null, not "
    "0), their work too. `[guardrails]` flags it outside its band (default 70–80 %; above 85 % burnout risk). "
    "`handled_seconds` and `paid_seconds` give both sums; `n` counts the agent-days.",
    source="agent_days",
    bucket="day_start",
    population=lambda t: t.paid_seconds.notnull(),
    value="handled_seconds",
    per="paid_seconds",
    sums=("handled_seconds", "paid_seconds"),
    short="Utilization",
)

COST_PER_TICKET = Metric(
    "cost_per_ticket",
    "Cost per ticket",
    SHARE,
    "lower",
    "Support cost of the period ÷ tickets created in it, in the currency of `[costs] currency`. Cost comes from "
    "`[files] costs`, a month's spread evenly over its days, so a week carries the cost of its days; days of "
    "a month without cost are left out (no cost: null). Cost belongs to the whole team: split by agent, team, "
    "mailbox or a ticket attribute, it is all in the row without one, and the named rows are null. `cost` "
    "gives the period's cost; `n` counts the tickets.",
    source="support_costs",
    bucket="occurred_at",
    population=lambda t: t.kind != "resolution",
    value="cost",
    per="created",
    count="created",
    sums=("cost",),
    unit_name="currency per ticket",
    short="Cost/ticket",
)

COST_PER_RESOLUTION = Metric(
    "cost_per_resolution",
    "Cost per resolution",
    SHARE,
    "lower",
    "Support cost of the period ÷ tickets resolved in it (unique tickets, as tickets_resolved), in the currency "
    "of `[costs] currency`; spread over days and split as cost_per_ticket. `cost` gives the period's cost; "
    "`n` counts the tickets resolved.",
    source="support_costs",
    bucket="occurred_at",
    population=_cost_or_unique_resolution,
    value="cost",
    per="resolved",
    count="resolved",
    sums=("cost",),
    unit_name="currency per ticket",
    short="Cost/resolution",
)

METRICS = (HANDLE_TIME, OCCUPANCY, UTILIZATION, COST_PER_TICKET, COST_PER_RESOLUTION)
