"""Resolution: when tickets are resolved, how often they come back, how many touches it took, what stays open.

Owns two fact tables. `resolutions`: one row per resolution (spec §1.6), credited to the agent who resolved,
plus one row per ticket still open, so resolution times can count their censored tickets. `backlog`: one row per
local day and ticket open at its end. Both place a row in a period by its own date; the predicates below that
need "the same period" compare the row's `period` label with labels of a related date made the same way.
"""

from __future__ import annotations

from datetime import timedelta
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any

import ibis

from deskpulse.calendar import with_local_period
from deskpulse.metrics.episodes import COHORT_DAYS, DAY_SECONDS, open_intervals, resolution_events
from deskpulse.metrics.metric import COUNT, DIFFERENCE, DURATION, MEAN, RATE, RATIO, Metric, business
from deskpulse.status import RESOLVED

if TYPE_CHECKING:
    from deskpulse.metrics.facts import Calendar
    from deskpulse.store import Store

# Period labels have one shape per period ('2026-03-29', '2026-W13', '2026-03', '2026-Q1', '2026'), so a row's
# `period` equals a related date's label for some period only when both fall in the same period of the query.
LABELLED_PERIODS = ("day", "week", "month", "quarter", "year")
# Spec §3: the backlog's age bands, each up to (not including) its upper bound in days.
BACKLOG_AGE_BANDS: tuple[tuple[str, int | None], ...] = (
    ("<1d", 1),
    ("1-3d", 3),
    ("3-7d", 7),
    ("7-30d", 30),
    (">30d", None),
)


def build_resolutions(store: Store, calendar: Calendar, ticket_facts: Any) -> Any:
    """One row per resolution of a counted ticket, and one per counted ticket still open (an Ibis expression).

    Resolution rows: ``resolved_at``, ``agent`` (who resolved it), ``inferred``, ``is_first`` (the ticket's
    first resolution, which carries the ticket's ``touches``, ``first_resolution_reopened`` and
    ``first_resolution_time``), ``is_final`` (its latest, with the ticket resolved now: carries
    ``full_resolution_time``), ``reopened_within_window`` and ``previous_resolved_at`` with its period labels
    (``previous_day`` … ``previous_year``). Open rows: ``resolved_at`` null, ``still_open``, ``never_resolved``,
    ``agent`` as in `tickets` (the first replier). Every row has ``ticket_id``, ``mailbox`` and ``created_at``.
    """
    from deskpulse.metrics.facts import derived_fact_table  # facts imports the catalog, which imports this module

    events = derived_fact_table(store, calendar, "resolution_events", ticket_facts)
    if events is None:
        events = resolution_events(store, calendar.resolution)
    tickets = ticket_facts.select(
        "ticket_id",
        "mailbox",
        "created_at",
        "status",
        "first_resolved_at",
        "touches",
        "first_resolution_reopened",
        "first_resolution_time",
        "first_resolution_time_business",
        "full_resolution_time",
        "full_resolution_time_business",
        ticket_resolutions=ticket_facts.resolutions,
    )
    rows = events.join(tickets, "ticket_id")  # counted tickets only: not excluded, not merged away
    is_first = rows.number == 1
    is_final = (rows.number == rows.ticket_resolutions) & (rows.status == RESOLVED)
    resolved = rows.select(
        ticket_id=rows.ticket_id,
        agent=rows.agent,
        mailbox=rows.mailbox,
        created_at=rows.created_at,
        resolved_at=rows.resolved_at,
        inferred=rows.inferred,
        is_first=is_first,
        is_final=is_final,
        reopened_within_window=rows.reopened_within_window,
        # A float, as replies_per_resolution averages it: PostgreSQL averages integers as numeric, not double.
        touches=is_first.ifelse(rows.touches, ibis.null("int64")).cast("float64"),
        first_resolution_reopened=is_first.ifelse(rows.first_resolution_reopened, ibis.null("boolean")),
        first_resolution_time=is_first.ifelse(rows.first_resolution_time, ibis.null("float64")),
        first_resolution_time_business=is_first.ifelse(rows.first_resolution_time_business, ibis.null("float64")),
        full_resolution_time=is_final.ifelse(rows.full_resolution_time, ibis.null("float64")),
        full_resolution_time_business=is_final.ifelse(rows.full_resolution_time_business, ibis.null("float64")),
        previous_resolved_at=rows.previous_resolved_at,
        still_open=ibis.literal(False),
        never_resolved=ibis.literal(False),
    )
    unresolved = ticket_facts.filter(ticket_facts.status != RESOLVED)
    still_open = unresolved.select(
        ticket_id=unresolved.ticket_id,
        agent=unresolved.agent,
        mailbox=unresolved.mailbox,
        created_at=unresolved.created_at,
        resolved_at=ibis.null("timestamp"),
        inferred=ibis.null("boolean"),
        is_first=ibis.literal(False),
        is_final=ibis.literal(False),
        reopened_within_window=ibis.literal(False),
        touches=ibis.null("float64"),
        first_resolution_reopened=ibis.null("boolean"),
        first_resolution_time=ibis.null("float64"),
        first_resolution_time_business=ibis.null("float64"),
        full_resolution_time=ibis.null("float64"),
        full_resolution_time_business=ibis.null("float64"),
        previous_resolved_at=ibis.null("timestamp"),
        still_open=ibis.literal(True),
        never_resolved=unresolved.first_resolved_at.isnull(),
    )
    # The labels of the previous resolution, which only resolution rows have.
    for period in LABELLED_PERIODS:
        resolved = with_local_period(resolved, "previous_resolved_at", calendar.days, period, f"previous_{period}")
    still_open = still_open.mutate(**{f"previous_{period}": ibis.null("string") for period in LABELLED_PERIODS})
    return resolved.union(still_open.cast(resolved.schema()))


def build_backlog(store: Store, calendar: Calendar, ticket_facts: Any) -> Any:
    """One row per local day and counted ticket open at its end (an Ibis expression).

    The last day is the one holding the store's horizon, its snapshot taken at the horizon. Columns:
    ``ticket_id``, ``agent`` (the first replier, as in `tickets`), ``mailbox``, ``day_start`` (the day's first
    instant, which places the row), ``age`` (seconds from creation to the snapshot), ``age_band`` (one of
    `BACKLOG_AGE_BANDS`), ``at_horizon`` (the last day) and the next day's period labels ``next_day`` …
    ``next_year`` (null on the last day), which tell whether the day ends a period. With a query's period on the
    calendar, only the days that end one of its periods have rows, and ``ends_period`` is true (else null).
    """
    from deskpulse.metrics.facts import seconds_between  # facts imports the catalog, which imports this module

    tickets = ticket_facts.select("ticket_id", "agent", "mailbox", "created_at", "resolutions")
    # A ticket never resolved is open from its creation on; only the others need their status history read.
    quiet = tickets.filter(tickets.resolutions == 0)
    quiet = quiet.select("ticket_id", "agent", "mailbox", "created_at", opened_at="created_at")
    quiet = quiet.mutate(closed_at=ibis.null(quiet.created_at.type()))
    changed = tickets.filter(tickets.resolutions > 0).drop("resolutions")
    reopened = open_intervals(store, changed).join(changed, "ticket_id")
    intervals = quiet.union(reopened.select(*quiet.columns))
    # A ticket is open at a snapshot when it was opened before the cutoff and not closed by then. The cutoff is
    # the end of the day; on the last day, just after the horizon, as every message up to it has happened.
    if calendar.horizon is None:
        horizon = cutoff_at_horizon = ibis.null("timestamp")
    else:
        horizon = ibis.literal(calendar.horizon, type="timestamp")
        cutoff_at_horizon = ibis.literal(calendar.horizon + timedelta(microseconds=1), type="timestamp")
    # The calendar may cut a local day into pieces (at UTC midnight); a snapshot needs the whole day.
    pieces = calendar.days.view()
    days = pieces.group_by("day", *LABELLED_PERIODS[1:]).aggregate(
        day_start=pieces.day_start.min(), day_end=pieces.day_end.max()
    )
    days = days.filter((days.day_start <= horizon).fill_null(False))
    at_horizon = days.day_end > horizon
    snapshots = days.select(
        day_start=days.day_start,
        at_horizon=at_horizon,
        as_of=at_horizon.ifelse(horizon, days.day_end),
        cutoff=at_horizon.ifelse(cutoff_at_horizon, days.day_end),
        next_day=days.day.strftime("%Y-%m-%d"),
        next_week=days.week,
        next_month=days.month,
        next_quarter=days.quarter,
        next_year=days.year,
    )
    following = ibis.window(order_by="day_start")
    snapshots = snapshots.mutate(
        **{f"next_{p}": snapshots[f"next_{p}"].lead().over(following) for p in LABELLED_PERIODS},
        **{f"_this_{p}": snapshots[f"next_{p}"] for p in LABELLED_PERIODS},
    )
    # A query by month reads only each month's last snapshot (`_ends_period`): the other days need no rows, and
    # every day kept ends a period of the query. Without a query every day is kept, and the labels tell.
    if calendar.period == "all":
        snapshots = snapshots.filter(snapshots.at_horizon)
    elif calendar.period in LABELLED_PERIODS[1:]:
        this_label, next_label = snapshots[f"_this_{calendar.period}"], snapshots[f"next_{calendar.period}"]
        snapshots = snapshots.filter(next_label.isnull() | (next_label != this_label))
    ends_period = ibis.null("boolean") if calendar.period is None else ibis.literal(True)
    snapshots = snapshots.mutate(ends_period=ends_period)
    still_open_at = ibis.coalesce(intervals.closed_at, cutoff_at_horizon)
    rows = intervals.join(snapshots, [intervals.opened_at < snapshots.cutoff, still_open_at >= snapshots.cutoff])
    age = seconds_between(rows.created_at, rows.as_of)
    band = ibis.cases(
        *((age < upper * DAY_SECONDS, label) for label, upper in BACKLOG_AGE_BANDS if upper is not None),
        else_=BACKLOG_AGE_BANDS[-1][0],
    )
    return rows.select(
        "ticket_id",
        "agent",
        "mailbox",
        "day_start",
        "at_horizon",
        *(f"next_{p}" for p in LABELLED_PERIODS),
        "ends_period",
        age=age,
        age_band=band,
    )


FACT_TABLES = {"resolutions": build_resolutions, "backlog": build_backlog}


def _in_same_period(t: Any, prefix: str) -> Any:
    """The row's period is the one the related date labelled ``prefix``… falls in (false without that date)."""
    same_label = reduce(or_, ((t.period == t[f"{prefix}{p}"]).fill_null(False) for p in LABELLED_PERIODS))
    return (t.period == "all").ifelse(t[f"{prefix}day"].notnull(), same_label)


def _first_in_period(t: Any) -> Any:
    """The ticket's first resolution in the row's period: no earlier resolution of it falls in the same one."""
    return ~_in_same_period(t, "previous_")


def _ends_period(t: Any) -> Any:
    """The backlog snapshot is the period's last: the next day belongs to another period, or there is none."""
    return t.ends_period.fill_null((t.period == "all").ifelse(t.at_horizon, ~_in_same_period(t, "next_")))


def _first_resolution_with_replies(t: Any) -> Any:
    return t.is_first & (t.touches >= 1)


TICKETS_RESOLVED = Metric(
    "tickets_resolved",
    "Tickets resolved",
    COUNT,
    "higher",
    "Unique tickets with at least one resolution in the period (spec §1.6: for a mailbox, inferred at the last "
    "human agent reply that no customer message followed within `inactivity_days`). A ticket resolved, "
    "reopened and resolved again in the same period counts once; in two periods, once in each. Per agent: the "
    "agent who resolved it (the first time in the period).",
    source="resolutions",
    bucket="resolved_at",
    population=_first_in_period,
    short="Resolved",
)

RESOLUTIONS = Metric(
    "resolutions",
    "Resolutions",
    COUNT,
    "neutral",
    "Resolution events in the period: a ticket resolved twice counts twice (tickets_resolved counts it once). "
    "Per agent: the agent who resolved.",
    source="resolutions",
    bucket="resolved_at",
    unit_name="resolutions",
)

FIRST_RESOLUTION_TIME = Metric(
    "first_resolution_time",
    "First resolution time",
    DURATION,
    "lower",
    "Ticket creation (its first message) → its first resolution, placed in the period of that resolution. "
    "`open` counts tickets created in the period that were never resolved. Per agent: the agent who resolved.",
    source="resolutions",
    bucket="resolved_at",
    population=lambda t: t.is_first,
    value="first_resolution_time",
    open_bucket="created_at",
    open_population=lambda t: t.never_resolved,
    short="First resolution",
)

FULL_RESOLUTION_TIME = Metric(
    "full_resolution_time",
    "Full resolution time",
    DURATION,
    "lower",
    "Ticket creation → its latest resolution, for tickets resolved now (a reopened ticket counts once it is "
    "resolved again), placed in the period of that resolution. `open` counts tickets created in the period "
    "that are open now, reopened ones included. Per agent: the agent who resolved last.",
    source="resolutions",
    bucket="resolved_at",
    population=lambda t: t.is_final,
    value="full_resolution_time",
    open_bucket="created_at",
    open_population=lambda t: t.still_open,
    short="Full resolution",
)

REPLIES_PER_RESOLUTION = Metric(
    "replies_per_resolution",
    "Replies per resolution",
    MEAN,
    "lower",
    "Mean number of human agent replies (touches) it took to resolve a ticket, over tickets first resolved in "
    "the period with at least one reply. Touches count up to the first resolution the customer did not undo "
    "within `reopen_window_days`; a proactive ticket's opening message is not a reply. Per agent: the agent of "
    "the first resolution.",
    source="resolutions",
    bucket="resolved_at",
    population=_first_resolution_with_replies,
    value="touches",
    unit_name="replies per ticket",
    short="Replies/resolution",
)

ONE_TOUCH_RATE = Metric(
    "one_touch_rate",
    "One-touch rate (FCR)",
    RATE,
    "higher",
    "First contact resolution: of the tickets first resolved in the period with at least one human agent "
    "reply, the share resolved with exactly one reply and not reopened within `reopen_window_days` of that "
    'resolution. A closing "thanks" from the customer is not a reopen. Per agent: the agent who resolved.',
    source="resolutions",
    bucket="resolved_at",
    population=_first_resolution_with_replies,
    value=lambda t: (t.touches == 1) & ~t.first_resolution_reopened,
    short="One-touch",
)

TWO_TOUCH_RATE = Metric(
    "two_touch_rate",
    "Two-touch rate",
    RATE,
    "neutral",
    "Of the tickets first resolved in the period with at least one human agent reply, the share that took "
    "exactly two replies (touches, as in replies_per_resolution).",
    source="resolutions",
    bucket="resolved_at",
    population=_first_resolution_with_replies,
    value=lambda t: t.touches == 2,
    short="Two-touch",
)

MULTI_TOUCH_RATE = Metric(
    "multi_touch_rate",
    "Multi-touch rate",
    RATE,
    "lower",
    "Of the tickets first resolved in the period with at least one human agent reply, the share that took "
    "three replies or more. One-, two- and multi-touch add up to 1, less the one-reply tickets reopened within "
    "the window and not resolved again.",
    source="resolutions",
    bucket="resolved_at",
    population=_first_resolution_with_replies,
    value=lambda t: t.touches >= 3,
    short="Multi-touch",
)

ZERO_REPLY_RESOLUTIONS = Metric(
    "zero_reply_resolutions",
    "Zero-reply resolutions",
    COUNT,
    "neutral",
    "Tickets first resolved in the period without any human agent reply; for a mailbox, proactive messages "
    "nobody answered (or only thanked for) within `inactivity_days`. Kept out of the touch rates' denominators.",
    source="resolutions",
    bucket="resolved_at",
    population=lambda t: t.is_first & (t.touches == 0),
    short="Zero-reply",
)

RESOLUTION_RATE = Metric(
    "resolution_rate",
    "Resolution rate",
    RATIO,
    "higher",
    "Throughput: tickets_resolved ÷ tickets_created of the same period (and agent or mailbox). Tickets resolved "
    "need not be the ones created in the period, so the rate can exceed 1; `n` is tickets_created.",
    of=("tickets_resolved", "tickets_created"),
    short="Resolution rate",
)

RESOLUTION_RATE_COHORT = Metric(
    "resolution_rate_cohort",
    "Resolution rate (cohort)",
    RATE,
    "higher",
    f"Of the tickets created in the period, the share first resolved within `cohort_days` (default {COHORT_DAYS}) "
    "days of creation. A ticket counts once its cohort days and the `inactivity_days` that infer a resolution "
    "have passed by the store's newest message; younger ones are left out, not counted as unresolved. Per "
    "agent: the first replier, as for tickets_created.",
    source="tickets",
    bucket="created_at",
    population=lambda t: t.resolved_within_cohort.notnull(),
    value=lambda t: t.resolved_within_cohort,
    short="Resolved in cohort",
)

REOPEN_RATE = Metric(
    "reopen_rate",
    "Reopen rate",
    RATE,
    "lower",
    "Of the resolutions in the period, the share the customer undid within `reopen_window_days`: counted from "
    "the resolution, or for an inferred one from the end of the `inactivity_days` that inferred it. Each "
    'resolution counts, so a ticket that bounces twice counts twice. A closing "thanks" is no reopen.',
    source="resolutions",
    bucket="resolved_at",
    value=lambda t: t.reopened_within_window,
    short="Reopens",
)

BACKLOG = Metric(
    "backlog",
    "Backlog",
    COUNT,
    "lower",
    "Tickets open at the end of the period (for the period still running, at the store's newest message), "
    "reopened ones included; `median_age` and `max_age` give their age since creation (seconds), and `by_age` "
    "the count in each age band (<1 d, 1–3 d, 3–7 d, 7–30 d, >30 d). Per agent: the first replier (none for "
    "unreplied tickets).",
    source="backlog",
    bucket="day_start",
    population=_ends_period,
    ages="age",
    short="Backlog",
    breakdown=("age_band", tuple(label for label, _ in BACKLOG_AGE_BANDS)),
    breakdown_key="by_age",
)

NET_CHANGE = Metric(
    "net_change",
    "Net change",
    DIFFERENCE,
    "lower",
    "tickets_created − tickets_resolved in the period: how much the backlog grew (negative: shrank). A flow, "
    "not the backlog itself.",
    of=("tickets_created", "tickets_resolved"),
    short="Net change",
)

METRICS = (
    TICKETS_RESOLVED,
    RESOLUTIONS,
    FIRST_RESOLUTION_TIME,
    business(FIRST_RESOLUTION_TIME, "first_resolution_time_business"),
    FULL_RESOLUTION_TIME,
    business(FULL_RESOLUTION_TIME, "full_resolution_time_business"),
    REPLIES_PER_RESOLUTION,
    ONE_TOUCH_RATE,
    TWO_TOUCH_RATE,
    MULTI_TOUCH_RATE,
    ZERO_REPLY_RESOLUTIONS,
    RESOLUTION_RATE,
    RESOLUTION_RATE_COHORT,
    REOPEN_RATE,
    BACKLOG,
    NET_CHANGE,
)
