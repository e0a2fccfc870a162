"""Handoffs: how often a ticket has to leave the agent who took it, up a tier or to a colleague.

Owns one fact table, `handoffs`: one row per handled ticket (at least one human agent reply), placed in a
period by its first reply, with whether it was ever escalated (`[escalation]` tags, groups, addresses) and how
many times it changed hands. Both metrics share its rows, so the escalated tickets and the reassignments are
always those of the tickets in the denominator (docs/decisions.md).
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any

import ibis

from deskpulse.metrics.metric import MEAN, RATE, Metric
from deskpulse.tickets import threaded_messages

if TYPE_CHECKING:
    from deskpulse.config import EscalationConfig
    from deskpulse.metrics.facts import Calendar
    from deskpulse.store import Store


def build_handoffs(store: Store, calendar: Calendar, ticket_facts: Any) -> Any:
    """One row per counted ticket with a human agent reply (an Ibis expression).

    Columns: ``ticket_id``, ``agent`` (the first replier, as in `tickets`), ``mailbox``, ``first_reply_at``
    (places the row), ``escalated`` (escalation evidence at any time up to now; null when `[escalation]` names
    nothing, so the rate is "not measured" rather than 0), ``reassignments`` (changes of hands: recorded,
    else inferred from the replying agents) and ``inferred_reassignments`` (the part of them inferred).
    """
    handled = ticket_facts.filter(ticket_facts.first_reply_at.notnull())
    handled = handled.select("ticket_id", "agent", "mailbox", "first_reply_at")
    escalated = escalated_tickets(store, calendar.config.escalation)
    if escalated is None:
        flagged = handled.mutate(escalated=ibis.null("boolean"))
    else:
        joined = handled.left_join(escalated, handled.ticket_id == escalated.escalated_ticket_id)
        flagged = joined.select(*handled.columns, escalated=joined.escalated_ticket_id.notnull())
    from deskpulse.metrics.facts import derived_fact_table  # facts imports the catalog, which imports this module

    inferred = derived_fact_table(store, calendar, "inferred_reassignments")
    if inferred is None:
        inferred = inferred_reassignments(store)
    recorded = recorded_reassignments(store)
    joined = flagged.left_join(recorded, "ticket_id").left_join(inferred, "ticket_id")
    inferred_only = joined.recorded.isnull().ifelse(joined.inferred.fill_null(0), 0)  # history wins
    return joined.select(
        *flagged.columns,
        reassignments=ibis.coalesce(joined.recorded, inferred_only).cast("int64"),
        inferred_reassignments=inferred_only.cast("int64"),
    )


def escalated_tickets(store: Store, escalation: EscalationConfig) -> Any | None:
    """The distinct ids (``escalated_ticket_id``) of tickets with any escalation evidence; None when the config
    names no tag, group or address, and nothing can be called an escalation.

    Evidence: a `tag` event adding, or a `ticket_tags` row holding, one of `escalation.tags`; a `group` event
    moving the ticket to one of `escalation.groups` (names compared lowercased, as the config stores them);
    a message of the ticket written by an agent from, to or Cc one of `escalation.addresses`: a reply Cc'ing
    tier 2, an internal forward to it, tier 2 answering itself. A customer's own mail to the address is left out:
    the desk did not move the ticket, and a reply-all only repeats a Cc an agent made.
    """
    found = []
    events = store.table("ticket_events")
    if escalation.tags:
        tagged = events.filter((events.kind == "tag") & events.new_value.lower().isin(escalation.tags))
        tags = store.table("ticket_tags")
        holding = tags.filter(tags.tag.lower().isin(escalation.tags))
        found += [tagged.select("ticket_id"), holding.select("ticket_id")]
    if escalation.groups:
        moved = events.filter((events.kind == "group") & events.new_value.lower().isin(escalation.groups))
        found.append(moved.select("ticket_id"))
    if escalation.addresses:
        messages = threaded_messages(store)
        # Array membership per configured address (a handful): `contains` compiles on DuckDB, PostgreSQL and
        # Spark alike, where unnesting the recipient arrays would multiply every message by its recipients.
        involved = [
            (messages.from_address == address)
            | messages.to_addresses.contains(address).fill_null(False)
            | messages.cc_addresses.contains(address).fill_null(False)
            for address in escalation.addresses
        ]
        mailed = messages.filter((messages.author_role == "agent") & reduce(or_, involved))
        found.append(mailed.select("ticket_id"))
    if not found:
        return None
    union = reduce(lambda a, b: a.union(b), found)
    # Distinct: a ticket escalated twice, or by two kinds of evidence, is one escalated ticket.
    return union.select(escalated_ticket_id=union.ticket_id).distinct()


def recorded_reassignments(store: Store) -> Any:
    """Per ticket with assignment history (`assignee` events), the times it passed from one assignee to another
    (``recorded``). The first assignment is none; an unassignment in between is skipped, so A → nobody → B is one
    and A → B → A two. An event whose old assignee is earlier than the history kept counts from that old value."""
    events = store.table("ticket_events")
    assignments = events.filter(events.kind == "assignee")
    history = assignments.select("ticket_id").distinct()
    assigned = assignments.filter(assignments.new_value.notnull())
    in_order = ibis.window(group_by="ticket_id", order_by=["occurred_at", "event_id"])
    previous = ibis.coalesce(assigned.new_value.lag().over(in_order), assigned.old_value)
    assigned = assigned.mutate(changed=(previous.notnull() & (previous != assigned.new_value)).fill_null(False))
    counted = assigned.group_by("ticket_id").aggregate(recorded=assigned.changed.ifelse(1, 0).sum())
    # Every ticket with history gets a number, even one whose only event unassigned it: 0, never inferred.
    joined = history.left_join(counted, "ticket_id")
    return joined.select(history.ticket_id, recorded=joined.recorded.fill_null(0))


def inferred_reassignments(store: Store) -> Any:
    """Per ticket, the times its human agent replies (spec §1.5) changed author (``inferred``): a mailbox's
    handoffs, for want of assignment history. Used only for tickets that have none (see
    `recorded_reassignments`, which takes precedence)."""
    messages = threaded_messages(store)
    replies = messages.filter((messages.author_role == "agent") & messages.is_public)
    in_order = ibis.window(group_by="ticket_id", order_by=["received_at", "message_key"])
    previous = replies.from_address.lag().over(in_order)
    replies = replies.mutate(changed=(previous.notnull() & (previous != replies.from_address)).fill_null(False))
    return replies.group_by("ticket_id").aggregate(inferred=replies.changed.ifelse(1, 0).sum())


METRICS = (
    Metric(
        "escalation_rate",
        "Escalation rate",
        RATE,
        "lower",
        "Share of the tickets handled (a human agent replied) whose first reply falls in the period that were "
        "escalated at any time so far: a help desk tag or group event to one of `[escalation] tags`/`groups` "
        "(or such a tag on the ticket now), or a message written by an agent from, to or Cc one of "
        "`[escalation] addresses` (a Cc'd reply, an internal forward). A ticket escalated twice counts once; "
        "tickets nobody answered count in neither part. Null (not measured) when `[escalation]` names nothing. "
        "Per agent: the agent who sent the first reply. SLA breaches are `sla_compliance`, not escalations.",
        source="handoffs",
        bucket="first_reply_at",
        population=lambda t: t.escalated.notnull(),
        value=lambda t: t.escalated,
        short="Escalated",
    ),
    Metric(
        "reassignments",
        "Reassignments per ticket",
        MEAN,
        "lower",
        "Changes of hands per handled ticket (first reply in the period), from one agent to another, so far. "
        "From the help desk's assignee history when the ticket has one (the first assignment is none; A → B → A "
        "is two); for a mailbox INFERRED from the replying agents (a reply by another agent than the previous "
        "reply's is a handoff). Beside the mean: `reassignments`, the total count, and `inferred_reassignments`, "
        "the part of it inferred. Per agent: the agent who sent the first reply.",
        source="handoffs",
        bucket="first_reply_at",
        value="reassignments",
        sums=("reassignments", "inferred_reassignments"),
        short="Reassign/ticket",
    ),
)

FACT_TABLES = {"handoffs": build_handoffs}
