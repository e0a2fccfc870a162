"""Per-ticket facts: the derived timestamps, counts and durations every aggregate is computed from.

One Ibis expression over `messages` and `tickets`, joined to the business calendar, so it runs on any Ibis
engine. `deskpulse tickets` exports exactly these rows, so every KPI can be recomputed from the export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import ibis

from deskpulse.calendar import business_intervals, calendar_days, calendar_range, with_business_clock
from deskpulse.config import Config, ResolutionConfig
from deskpulse.errors import UserError
from deskpulse.metrics.catalog import TICKET_SORTS
from deskpulse.metrics.episodes import DAY_SECONDS, resolution_summary
from deskpulse.store import Store
from deskpulse.tickets import threaded_messages


@dataclass(frozen=True)
class Calendar:
    """The two calendar tables for the store's time range, as Ibis tables, and the settings that say when
    a ticket counts as resolved or reopened."""

    intervals: Any
    days: Any
    horizon: datetime | None
    resolution: ResolutionConfig = field(default_factory=ResolutionConfig)
    config: Config = field(default_factory=Config)  # the rest of the settings, for families that need them


def build_calendar(store: Store, config: Config) -> Calendar:
    messages = store.table("messages")
    bounds = messages.aggregate(first=messages.received_at.min(), last=messages.received_at.max()).to_pyarrow()
    first, last = bounds["first"][0].as_py(), bounds["last"][0].as_py()
    if first is None or last is None:
        first = last = datetime(2000, 1, 1)
        horizon = None
    else:
        horizon = last
    first_day, last_day = calendar_range(first, last)
    # Real (temporary) tables on the engine rather than Ibis memtables: a cached fact table must still find
    # them in later queries, which memtables do not guarantee on every backend (Spark).
    intervals = store.register(
        "deskpulse_business_intervals", business_intervals(config.business_hours, first_day, last_day)
    )
    days = store.register("deskpulse_calendar_days", calendar_days(config.helpdesk.timezone, first_day, last_day))
    return Calendar(intervals, days, horizon, config.resolution, config)


def seconds_between(start: Any, stop: Any) -> Any:
    return (stop.epoch_seconds() - start.epoch_seconds()).cast("float64")


def ticket_facts(store: Store, calendar: Calendar) -> Any:
    """One row per counted ticket (not excluded, not merged away) with its derived timestamps and durations."""
    messages = threaded_messages(store)
    tickets = store.table("tickets")
    is_customer = messages.author_role == "customer"
    is_reply = (messages.author_role == "agent") & messages.is_public
    per_ticket = messages.group_by("ticket_id").aggregate(
        first_customer_at=messages.received_at.min(where=is_customer),
        last_customer_at=messages.received_at.max(where=is_customer),
        customer_messages=is_customer.sum().cast("int64"),
        first_reply_at=messages.received_at.min(where=is_reply),
        first_reply_agent=messages.from_address.argmin(messages.received_at, where=is_reply),
        last_reply_at=messages.received_at.max(where=is_reply),
        replies=is_reply.sum().cast("int64"),
        automated_messages=(messages.author_role == "automation").sum().cast("int64"),
    )
    counted = tickets.filter(tickets.excluded_reason.isnull() & tickets.merged_into.isnull())
    joined = counted.join(per_ticket, "ticket_id", how="left")
    facts = joined.select(
        "ticket_id",
        "subject",
        "requester",
        "mailbox",
        "status",
        "is_proactive",
        "created_at",
        "resolved_at",
        "resolution_inferred",
        "first_customer_at",
        "last_customer_at",
        "customer_messages",
        "first_reply_at",
        "first_reply_agent",
        "last_reply_at",
        "replies",
        "automated_messages",
        "assignee",
    )
    # Resolutions and reopens (spec §1.6), from the status history; columns stay null for a ticket never resolved.
    summary = resolution_summary(store, calendar.resolution)
    joined = facts.left_join(summary, "ticket_id")
    facts = joined.select(
        *facts.columns,
        "first_resolved_at",
        "first_resolution_agent",
        "last_resolved_at",
        resolutions=joined.resolutions.fill_null(0),
        reopens=joined.reopens.fill_null(0),
        first_resolution_reopened=joined.first_resolution_reopened,
        settled_replies=joined.settled_replies,
    )
    facts = with_business_clock(facts, "first_customer_at", calendar.intervals, "_clock_first_customer")
    facts = with_business_clock(facts, "first_reply_at", calendar.intervals, "_clock_first_reply")
    facts = with_business_clock(facts, "created_at", calendar.intervals, "_clock_created")
    facts = with_business_clock(facts, "first_resolved_at", calendar.intervals, "_clock_first_resolved")
    facts = with_business_clock(facts, "resolved_at", calendar.intervals, "_clock_resolved")
    # Spec §1.7: proactive tickets have no first response time; nor does a ticket no customer wrote in.
    responds = ~facts.is_proactive & facts.first_customer_at.notnull()
    horizon = ibis.literal(calendar.horizon, type="timestamp") if calendar.horizon else ibis.null("timestamp")
    waiting = responds & facts.first_reply_at.isnull() & (facts.status != "resolved")
    resolved_now = facts.status == "resolved"
    # The cohort of a ticket is judged once its window has passed, and the quiet period that infers a
    # resolution after it: before that, a "not yet" could still turn into a "yes".
    cohort_days = calendar.resolution.cohort_days
    cohort_seconds = cohort_days * DAY_SECONDS
    judged_after = (cohort_days + calendar.resolution.inactivity_days) * DAY_SECONDS
    judged = seconds_between(facts.created_at, horizon) >= judged_after
    return facts.select(
        *(c for c in facts.columns if not c.startswith("_clock") and c != "settled_replies"),
        agent=facts.first_reply_agent,  # --by agent: the agent who answered first
        first_response_time=ibis.ifelse(
            responds, seconds_between(facts.first_customer_at, facts.first_reply_at), ibis.null("float64")
        ),
        first_response_time_business=ibis.ifelse(
            responds,
            (facts._clock_first_reply - facts._clock_first_customer).cast("float64"),
            ibis.null("float64"),
        ),
        awaiting_first_reply=waiting,
        unreplied_age=ibis.ifelse(waiting, seconds_between(facts.first_customer_at, horizon), ibis.null("float64")),
        # Human agent replies it took to resolve the ticket for good: up to the first resolution the customer
        # did not undo within reopen_window_days (all replies so far while none held). A proactive ticket's
        # opening message is not a reply to anyone.
        touches=ibis.ifelse(
            facts.first_resolved_at.notnull(),
            ibis.coalesce(facts.settled_replies, facts.replies) - facts.is_proactive.ifelse(1, 0),
            ibis.null("int64"),
        ),
        first_resolution_time=seconds_between(facts.created_at, facts.first_resolved_at),
        first_resolution_time_business=(facts._clock_first_resolved - facts._clock_created).cast("float64"),
        full_resolution_time=ibis.ifelse(
            resolved_now, seconds_between(facts.created_at, facts.resolved_at), ibis.null("float64")
        ),
        full_resolution_time_business=ibis.ifelse(
            resolved_now, (facts._clock_resolved - facts._clock_created).cast("float64"), ibis.null("float64")
        ),
        resolved_within_cohort=ibis.ifelse(
            judged,
            (seconds_between(facts.created_at, facts.first_resolved_at) <= cohort_seconds).fill_null(False),
            ibis.null("boolean"),
        ),
    )


def list_tickets(
    store: Store,
    calendar: Calendar,
    *,
    sort: str = "created_at",
    descending: bool = False,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The per-ticket facts as records, sorted (nulls last) and optionally limited."""
    if sort not in TICKET_SORTS:
        raise UserError(f"cannot sort by {sort!r}; use one of {', '.join(TICKET_SORTS)}")
    facts = ticket_facts(store, calendar)
    key = facts[sort].desc(nulls_first=False) if descending else facts[sort].asc(nulls_first=False)
    facts = facts.order_by([key, facts.ticket_id])
    if limit is not None:
        facts = facts.limit(limit)
    return list(facts.to_pyarrow().to_pylist())
