"""Responses: how long customers wait for a human agent's reply, and how long agents wait for customers.

Owns two fact tables: `cycles`, one row per wait cycle of a ticket (its oldest unanswered customer message →
the next human agent reply), and `ticket_waits`, one row per ticket with the sums of its cycles (requester
wait) and of the gaps between a reply and the customer's next message (agent wait). A help desk ticket that
came with its status history is measured by that history instead (spec: time in new, open and on-hold is the
requester's wait, time in pending the agent's, time in on-hold on-hold time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis

from deskpulse.calendar import with_business_clock
from deskpulse.metrics.metric import DURATION, Metric, business
from deskpulse.status import DERIVED_SOURCES, OPEN, RESOLVED, is_acknowledgement
from deskpulse.tickets import threaded_messages

if TYPE_CHECKING:
    from datetime import datetime

    from deskpulse.metrics.facts import Calendar
    from deskpulse.store import Store


def build_cycles(store: Store, calendar: Calendar, ticket_facts: Any) -> Any:
    """One row per wait cycle of every counted ticket (an Ibis expression).

    A cycle starts at a customer message that follows nothing human or a human agent reply (spec §1.5), takes
    in the customer messages after it, and ends at the next human agent reply. Automation, system mail and
    internal notes neither start nor end one, nor does a customer's bare acknowledgement ("Thanks, that fixed
    it!", `deskpulse.status.is_acknowledgement`): it asks for nothing. An agent message that answers no waiting
    customer (the opening of a proactive ticket, a follow-up) ends nothing; the first customer message after
    it starts cycle 1.

    Columns: ``ticket_id``, ``cycle_number`` (1 = first), ``customer_at`` (its oldest customer message),
    ``replied_at`` (the reply that ended it; null while unanswered), ``agent`` (who replied; for an unanswered
    cycle the agent who last wrote to the customer, who owes the reply; null when nobody has), ``mailbox``,
    ``seconds``, ``business_seconds``, ``is_first`` (the ticket's first response: cycle 1 of a non-proactive
    ticket), ``awaiting_reply`` (unanswered on a ticket that is not resolved: an unanswered cycle on a resolved
    ticket needed no reply), ``previous_reply_at`` (the agent message before this cycle: the reply that ended
    the previous one, or a proactive opening) and ``agent_wait_seconds`` / ``agent_wait_business_seconds``:
    the time from it to ``customer_at``, cut short by a resolution in between (a reopen is not waiting).
    """
    # facts imports the catalog, which imports this module
    from deskpulse.metrics.facts import derived_fact_table, seconds_between

    stored = derived_fact_table(store, calendar, "cycles", ticket_facts)
    if stored is not None:  # computed by the expression below after the last import (see metrics.facts)
        return stored
    messages = threaded_messages(store)
    events = messages.select(
        "ticket_id",
        "message_key",
        "received_at",
        "from_address",
        is_customer=(messages.author_role == "customer") & ~is_acknowledgement(messages),
        is_reply=((messages.author_role == "agent") & messages.is_public).fill_null(False),
    )
    events = events.filter(events.is_customer | events.is_reply)
    # A customer message and a reply stamped with the same instant: the reply answers the message.
    in_order = ["received_at", "is_reply", "message_key"]
    events = events.mutate(
        opens_cycle=events.is_customer
        & events.is_reply.lag().over(ibis.window(group_by="ticket_id", order_by=in_order)).fill_null(True)
    )
    so_far = ibis.cumulative_window(group_by="ticket_id", order_by=in_order)
    opened = ibis.ifelse(events.opens_cycle, 1, 0).cast("int64")  # PostgreSQL casts no boolean to bigint
    # Cycle 0 holds the agent messages before the first customer message: the opening of a proactive ticket.
    events = events.mutate(cycle_number=opened.sum().over(so_far))

    per_cycle = events.group_by("ticket_id", "cycle_number").aggregate(
        customer_at=events.received_at.min(where=events.is_customer),
        replied_at=events.received_at.min(where=events.is_reply),
        replied_by=events.from_address.argmin(events.received_at, where=events.is_reply),
        last_agent=events.from_address.argmax(events.received_at, where=events.is_reply),
    )
    previous = ibis.window(group_by="ticket_id", order_by="cycle_number")
    per_cycle = per_cycle.mutate(
        previous_reply_at=per_cycle.replied_at.lag().over(previous),
        previous_agent=per_cycle.last_agent.lag().over(previous),
    )
    cycles = per_cycle.filter(per_cycle.cycle_number >= 1)
    cycles = cycles.left_join(_resolutions_between_reply_and_customer(store, cycles), ["ticket_id", "cycle_number"])
    cycles = cycles.mutate(customer_waited_on_until=ibis.coalesce(cycles.resolved_in_gap_at, cycles.customer_at))

    tickets = ticket_facts.select("ticket_id", "mailbox", "is_proactive", "status")
    cycles = cycles.join(tickets, "ticket_id")  # counted tickets only: not excluded, not merged away
    cycles = with_business_clock(cycles, "customer_at", calendar.intervals, "_clock_customer")
    cycles = with_business_clock(cycles, "replied_at", calendar.intervals, "_clock_reply")
    cycles = with_business_clock(cycles, "previous_reply_at", calendar.intervals, "_clock_previous_reply")
    cycles = with_business_clock(cycles, "customer_waited_on_until", calendar.intervals, "_clock_waited_until")
    return cycles.select(
        ticket_id=cycles.ticket_id,
        cycle_number=cycles.cycle_number,
        customer_at=cycles.customer_at,
        replied_at=cycles.replied_at,
        agent=ibis.coalesce(cycles.replied_by, cycles.previous_agent),
        mailbox=cycles.mailbox,
        seconds=seconds_between(cycles.customer_at, cycles.replied_at),
        business_seconds=(cycles._clock_reply - cycles._clock_customer).cast("float64"),
        is_first=(cycles.cycle_number == 1) & ~cycles.is_proactive,
        awaiting_reply=cycles.replied_at.isnull() & (cycles.status != RESOLVED),
        previous_reply_at=cycles.previous_reply_at,
        agent_wait_seconds=seconds_between(cycles.previous_reply_at, cycles.customer_waited_on_until),
        agent_wait_business_seconds=(cycles._clock_waited_until - cycles._clock_previous_reply).cast("float64"),
    )


def _resolutions_between_reply_and_customer(store: Store, cycles: Any) -> Any:
    """Per cycle, the first resolution from the agent message before it up to its customer message, if any.

    For a mailbox that is the inferred resolution at the reply itself (spec §1.6), when the customer wrote
    again only after `inactivity_days`: the ticket was resolved, not waiting for the customer, in between.
    """
    events = store.table("ticket_events")
    resolutions = events.filter((events.kind == "status") & (events.new_value == RESOLVED))
    resolutions = resolutions.select(resolution_ticket_id=resolutions.ticket_id, resolution_at=resolutions.occurred_at)
    gaps = cycles.select("ticket_id", "cycle_number", "previous_reply_at", "customer_at")
    hits = gaps.join(
        resolutions,
        [
            gaps.ticket_id == resolutions.resolution_ticket_id,
            resolutions.resolution_at >= gaps.previous_reply_at,
            resolutions.resolution_at < gaps.customer_at,
        ],
    )
    return hits.group_by("ticket_id", "cycle_number").aggregate(resolved_in_gap_at=hits.resolution_at.min())


# The canonical statuses (`deskpulse.sources.canonical.STATUSES`) whose time each wait sums (spec §2).
REQUESTER_WAITS_IN = (OPEN, "on_hold")
AGENT_WAITS_IN = ("pending",)
ON_HOLD = "on_hold"


def status_stretches(store: Store, calendar: Calendar, horizon: datetime | None = None) -> Any:
    """One row per stretch of time a ticket with its own status history (a help desk's status changes, not those
    deskpulse inferred from mail, read off a ticket list or a label) spent in one status (an Ibis expression).
    The one definition of a stretch for the waits of `ticket_waits` and the paused SLA clock of `sla_targets`.

    The history cuts the ticket's life into stretches: from its creation in the status the first change left
    (open when that change does not say), then from each change to the next. The last stretch is still running:
    it ends at ``horizon`` when one is given (as the SLA clocks read it), else it is left out. Columns:
    ``ticket_id``, ``stretch_number`` (1 = first, in order of time), ``status`` (canonical), ``at``,
    ``ended_at``, ``seconds``, ``business_seconds`` and ``start_clock`` (the business clock at ``at``; both
    null without business hours)."""
    from deskpulse.metrics.facts import seconds_between  # facts imports the catalog, which imports this module

    events = store.table("ticket_events")
    own = events.filter((events.kind == "status") & ~events.source.isin(DERIVED_SOURCES).fill_null(False))
    changes = own.select("ticket_id", "event_id", "old_value", at=own.occurred_at, status=own.new_value)
    first = changes.group_by("ticket_id").aggregate(at=changes.at.min(), status=changes.old_value.argmin(changes.at))
    tickets = store.table("tickets")
    opening = first.join(tickets.select("ticket_id", "created_at"), "ticket_id")
    opening = opening.filter(opening.created_at < opening.at)
    openings = opening.select(
        "ticket_id",
        event_id=ibis.literal(""),  # sorts before every change of the same instant
        at=opening.created_at,
        status=ibis.coalesce(opening.status, ibis.literal(OPEN)),
    )
    stretches = changes.select("ticket_id", "event_id", "at", "status").union(openings)
    following = ibis.window(group_by="ticket_id", order_by=["at", "event_id"])
    running_until = ibis.literal(horizon, type="timestamp") if horizon else ibis.null("timestamp")
    stretches = stretches.mutate(
        stretch_number=(ibis.row_number().over(following) + 1).cast("int64"),
        ended_at=ibis.coalesce(stretches.at.lead().over(following), running_until),
    )
    stretches = stretches.filter(stretches.ended_at.notnull())
    stretches = with_business_clock(stretches, "at", calendar.intervals, "_clock_start")
    stretches = with_business_clock(stretches, "ended_at", calendar.intervals, "_clock_end")
    return stretches.select(
        "ticket_id",
        "stretch_number",
        "status",
        "at",
        "ended_at",
        seconds=seconds_between(stretches.at, stretches.ended_at),
        business_seconds=(stretches._clock_end - stretches._clock_start).cast("float64"),
        start_clock=stretches._clock_start,
    )


def status_history_waits(store: Store, calendar: Calendar) -> Any:
    """Per ticket with its own status history, the time it spent in each kind of status (an Ibis expression),
    summed over its `status_stretches`. A stretch still running counts nothing yet (the waits are read for
    resolved tickets). Columns: ``ticket_id``, ``requester_wait``, ``agent_wait``, ``on_hold`` and their
    ``_business`` twins (business seconds; null without business hours)."""
    stretches = status_stretches(store, calendar)
    zero = ibis.literal(0.0, type="float64")

    def total(column: Any, statuses: tuple[str, ...]) -> Any:
        return ibis.coalesce(column.sum(where=stretches.status.isin(statuses)), zero)

    def business_total(statuses: tuple[str, ...]) -> Any:
        # Null when any stretch has no business clock (no business hours configured): unknown, never 0.
        known = stretches.business_seconds.count() == stretches.count()
        return ibis.ifelse(known, total(stretches.business_seconds, statuses), ibis.null("float64"))

    return stretches.group_by("ticket_id").aggregate(
        requester_wait=total(stretches.seconds, REQUESTER_WAITS_IN),
        requester_wait_business=business_total(REQUESTER_WAITS_IN),
        agent_wait=total(stretches.seconds, AGENT_WAITS_IN),
        agent_wait_business=business_total(AGENT_WAITS_IN),
        on_hold=total(stretches.seconds, (ON_HOLD,)),
        on_hold_business=business_total((ON_HOLD,)),
    )


def build_ticket_waits(store: Store, calendar: Calendar, ticket_facts: Any) -> Any:
    """One row per counted ticket a customer wrote in or a help desk recorded a status history for, with its
    total requester and agent wait (Ibis).

    From the mail, ``requester_wait_time`` sums the ticket's answered cycles; ``agent_wait_time`` sums their
    ``agent_wait_seconds`` (0 when the customer never had to write again; null before the first reply).
    From a status history (`status_history_waits`, which wins where there is one, ``from_status_history``) they
    are the times in new, open and on-hold, and in pending; ``on_hold_time`` is the time in on-hold, which a
    mailbox cannot know: null there. Business variants are null when no business hours are configured.
    ``agent`` is the ticket's assignee (for a mailbox, the agent of its latest reply); ``resolved_at`` (the
    latest resolution) and ``created_at`` come from the ticket.
    """
    from deskpulse.metrics.facts import derived_fact_table  # facts imports the catalog, which imports this module

    stored = derived_fact_table(store, calendar, "ticket_waits", ticket_facts)
    if stored is not None:  # computed by the expression below after the last import (see metrics.facts)
        return stored
    cycles = build_cycles(store, calendar, ticket_facts)
    answered = cycles.replied_at.notnull()
    per_ticket = cycles.group_by(cycles_ticket=cycles.ticket_id).aggregate(
        answered_cycles=answered.sum().cast("int64"),
        cycle_requester_wait=cycles.seconds.sum(),
        cycle_requester_wait_business=cycles.business_seconds.sum(),
        cycle_agent_wait=cycles.agent_wait_seconds.sum(),
        cycle_agent_wait_business=cycles.agent_wait_business_seconds.sum(),
    )
    history = status_history_waits(store, calendar)
    history = history.rename(lambda name: f"history_{name}")
    tickets = ticket_facts.select("ticket_id", "mailbox", "created_at", "resolved_at", agent=ticket_facts.assignee)
    waits = tickets.left_join(per_ticket, tickets.ticket_id == per_ticket.cycles_ticket)
    waits = waits.left_join(history, waits.ticket_id == history.history_ticket_id)
    waits = waits.filter(waits.cycles_ticket.notnull() | waits.history_ticket_id.notnull())
    from_history = waits.history_ticket_id.notnull()
    # No gap to sum means the customer never had to write again: 0, once a reply exists. Business time stays
    # null when no business hours are configured, the only case in which an answered cycle has none.
    no_wait = ibis.literal(0.0, type="float64")
    replied = waits.answered_cycles.fill_null(0) > 0
    has_schedule = replied & waits.cycle_requester_wait_business.notnull()
    return waits.select(
        "ticket_id",
        "agent",
        "mailbox",
        "created_at",
        "resolved_at",
        answered_cycles=waits.answered_cycles.fill_null(0),
        from_status_history=from_history,
        requester_wait_time=from_history.ifelse(waits.history_requester_wait, waits.cycle_requester_wait),
        requester_wait_time_business=from_history.ifelse(
            waits.history_requester_wait_business, waits.cycle_requester_wait_business
        ),
        agent_wait_time=from_history.ifelse(
            waits.history_agent_wait,
            ibis.ifelse(replied, ibis.coalesce(waits.cycle_agent_wait, no_wait), ibis.null("float64")),
        ),
        agent_wait_time_business=from_history.ifelse(
            waits.history_agent_wait_business,
            ibis.ifelse(has_schedule, ibis.coalesce(waits.cycle_agent_wait_business, no_wait), ibis.null("float64")),
        ),
        on_hold_time=from_history.ifelse(waits.history_on_hold, ibis.null("float64")),
        on_hold_time_business=from_history.ifelse(waits.history_on_hold_business, ibis.null("float64")),
    )


FACT_TABLES = {"cycles": build_cycles, "ticket_waits": build_ticket_waits}

FIRST_RESPONSE_TIME = Metric(
    "first_response_time",
    "First response time",
    DURATION,
    "lower",
    "First customer message → first human agent reply (public, outbound, not automation), once per ticket. "
    "Proactive tickets (started by an agent) are left out. Reported as median, p90 and mean with n; `open` "
    "counts tickets created in the period still waiting for a first reply. Per agent: credited to the agent "
    "who sent the first reply.",
    source="tickets",
    bucket="first_reply_at",
    value="first_response_time",
    open_bucket="created_at",
    open_population=lambda t: t.awaiting_first_reply,
    short="First reply",
)

NEXT_RESPONSE_TIME = Metric(
    "next_response_time",
    "Next response time",
    DURATION,
    "lower",
    "Per wait cycle after the first response: the customer's oldest unanswered message → the next human agent "
    "reply. Consecutive customer messages make one cycle; automation never ends one, and a bare thank-you opens "
    "none. The first cycle of a ticket is first_response_time and not counted again; in a proactive ticket "
    "every cycle counts here. Placed in the period of the reply; `open` counts cycles started in the period "
    "still unanswered on an unresolved ticket. Per agent: the agent who replied; an open cycle goes to the "
    "agent who last wrote to the customer.",
    source="cycles",
    bucket="replied_at",
    population=lambda t: ~t.is_first,
    value="seconds",
    open_bucket="customer_at",
    open_population=lambda t: t.awaiting_reply & ~t.is_first,
    short="Next reply",
)


def _resolved_with_a_reply(t: Any) -> Any:
    """Resolved tickets with something to measure: a reply in the mail, or a status history."""
    return t.resolved_at.notnull() & ((t.answered_cycles > 0) | t.from_status_history)


def _unresolved(t: Any) -> Any:
    return t.resolved_at.isnull()


REQUESTER_WAIT_TIME = Metric(
    "requester_wait_time",
    "Requester wait time",
    DURATION,
    "lower",
    "Per resolved ticket, the total time the customer waited for us: for a mailbox, the sum of its answered "
    "wait cycles (first response included); for a help desk ticket with its status history, the time in new, "
    "open and on-hold. Counted for tickets with at least one reply or a status history, in the period of "
    "their resolution; `open` counts unresolved tickets created in the period. Per agent: the ticket's "
    "assignee (for a mailbox, the agent of its latest reply).",
    source="ticket_waits",
    bucket="resolved_at",
    population=_resolved_with_a_reply,
    value="requester_wait_time",
    open_bucket="created_at",
    open_population=_unresolved,
    short="Requester wait",
)

AGENT_WAIT_TIME = Metric(
    "agent_wait_time",
    "Agent wait time",
    DURATION,
    "neutral",
    "Per resolved ticket, the total time we waited for the customer: for a mailbox, the sum of the gaps from "
    "a human agent message to the customer's next message, each cut short by a resolution in between (a "
    "customer who writes again after a resolution reopens the ticket; nobody was waiting meanwhile). 0 when the "
    "customer never had to write again; for a help desk ticket with its status history, the time in pending. "
    "Same tickets, period and agent as requester_wait_time.",
    source="ticket_waits",
    bucket="resolved_at",
    population=_resolved_with_a_reply,
    value="agent_wait_time",
    open_bucket="created_at",
    open_population=_unresolved,
    short="Agent wait",
)

ON_HOLD_TIME = Metric(
    "on_hold_time",
    "On-hold time",
    DURATION,
    "lower",
    "Per resolved ticket, the total time in the on-hold status, from a help desk's status history. A mailbox "
    "has none, so for mailbox tickets it is not measured (`value` null, `n` 0), never guessed from gaps "
    "between emails.",
    source="ticket_waits",
    bucket="resolved_at",
    value="on_hold_time",
    short="On hold",
)

METRICS = (
    FIRST_RESPONSE_TIME,
    business(FIRST_RESPONSE_TIME, "first_response_time_business"),
    NEXT_RESPONSE_TIME,
    business(NEXT_RESPONSE_TIME, "business_seconds"),
    REQUESTER_WAIT_TIME,
    business(REQUESTER_WAIT_TIME, "requester_wait_time_business"),
    AGENT_WAIT_TIME,
    business(AGENT_WAIT_TIME, "agent_wait_time_business"),
    ON_HOLD_TIME,
    business(ON_HOLD_TIME, "on_hold_time_business"),
)
