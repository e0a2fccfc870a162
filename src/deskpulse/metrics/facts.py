"""Per-ticket facts: the derived timestamps, counts and durations every aggregate is computed from.

One Ibis expression over `messages` and `tickets`, joined to the business calendar, so it runs on any Ibis
engine. `deskpulse tickets` exports exactly these rows, so every KPI can be recomputed from the export.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis

from deskpulse.calendar import business_intervals, calendar_days, calendar_range, with_business_clock
from deskpulse.config import Config
from deskpulse.errors import UserError
from deskpulse.metrics.catalog import TICKET_SORTS
from deskpulse.store import Store
from deskpulse.tickets import threaded_messages


@dataclass(frozen=True)
class Calendar:
    """The two calendar tables for the store's time range, as Ibis tables."""

    intervals: Any
    days: Any
    horizon: datetime | None


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
    intervals = ibis.memtable(business_intervals(config.business_hours, first_day, last_day))
    days = ibis.memtable(calendar_days(config.helpdesk.timezone, first_day, last_day))
    return Calendar(intervals, days, horizon)


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
    facts = with_business_clock(facts, "first_customer_at", calendar.intervals, "_clock_first_customer")
    facts = with_business_clock(facts, "first_reply_at", calendar.intervals, "_clock_first_reply")
    # Spec §1.7: proactive tickets have no first response time; nor does a ticket no customer wrote in.
    responds = ~facts.is_proactive & facts.first_customer_at.notnull()
    horizon = ibis.literal(calendar.horizon, type="timestamp") if calendar.horizon else ibis.null("timestamp")
    waiting = responds & facts.first_reply_at.isnull() & (facts.status != "resolved")
    return facts.select(
        *(c for c in facts.columns if not c.startswith("_clock")),
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
