"""Resolution episodes: each ticket's resolutions and reopens, read from its status history (`ticket_events`).

Engine-neutral Ibis over the canonical tables, so a help desk's own status history and the history inferred
from a mailbox (`deskpulse.status`) give the same kind of rows. Only changes count: a `resolved` after a
`resolved` is no new resolution, an `open` before any resolution no reopen.
"""

from __future__ import annotations

from typing import Any

import ibis

from deskpulse.config import ResolutionConfig
from deskpulse.status import RESOLVED
from deskpulse.tickets import threaded_messages

DAY_SECONDS = 86400
# resolution_rate_cohort: the share of a period's new tickets resolved within this many days of creation.
COHORT_DAYS = 7


def status_changes(store: Any) -> Any:
    """One row per change between unresolved and resolved: ``ticket_id``, ``occurred_at``, ``event_id``,
    ``actor``, ``inferred`` and ``resolves`` (true: the ticket became resolved; false: it was reopened)."""
    events = store.table("ticket_events")
    status = events.filter(events.kind == "status")
    status = status.select(
        "ticket_id", "occurred_at", "event_id", "actor", "inferred", resolves=(status.new_value == RESOLVED)
    )
    history = ibis.window(group_by="ticket_id", order_by=["occurred_at", "event_id"])
    status = status.mutate(was_resolved=status.resolves.lag().over(history).fill_null(False))
    changes = status.filter(status.resolves != status.was_resolved)
    return changes.drop("was_resolved")


def resolution_events(store: Any, resolution: ResolutionConfig) -> Any:
    """One row per resolution: ``ticket_id``, ``event_id``, ``resolved_at``, ``agent`` (who resolved it),
    ``inferred``, ``number`` (1 = the ticket's first), ``previous_resolved_at``, ``reopened_at`` (its reopen;
    null while it holds), ``reopened_within_window`` and ``replies_so_far`` (human agent replies up to it).

    A reopen is within the window when the customer writes again within `reopen_window_days` of the moment the
    ticket became resolved: for an inferred resolution that is `inactivity_days` after the resolving reply, as
    no one could know the reply was the last before the quiet period had passed.
    """
    changes = status_changes(store)
    history = ibis.window(group_by="ticket_id", order_by=["occurred_at", "event_id"])
    changes = changes.mutate(next_change_at=changes.occurred_at.lead().over(history))
    resolutions = changes.filter(changes.resolves)
    resolutions = resolutions.mutate(
        number=(ibis.row_number().over(history) + 1).cast("int64"),
        previous_resolved_at=resolutions.occurred_at.lag().over(history),
    )
    window_days = ibis.literal(resolution.reopen_window_days) + ibis.ifelse(
        resolutions.inferred.fill_null(False), resolution.inactivity_days, 0
    )
    reopen_seconds = resolutions.next_change_at.epoch_seconds() - resolutions.occurred_at.epoch_seconds()
    resolutions = resolutions.select(
        "ticket_id",
        "event_id",
        "number",
        "previous_resolved_at",
        resolved_at=resolutions.occurred_at,
        agent=resolutions.actor,
        inferred=resolutions.inferred,
        reopened_at=resolutions.next_change_at,
        reopened_within_window=(reopen_seconds <= window_days * DAY_SECONDS).fill_null(False),
    )
    messages = threaded_messages(store)
    replies = messages.filter((messages.author_role == "agent") & messages.is_public)
    replies = replies.select(reply_ticket_id=replies.ticket_id, reply_at=replies.received_at)
    joined = resolutions.left_join(
        replies,
        [resolutions.ticket_id == replies.reply_ticket_id, replies.reply_at <= resolutions.resolved_at],
    )
    counted = joined.group_by("event_id").aggregate(replies_so_far=joined.reply_at.count().cast("int64"))
    return resolutions.join(counted, "event_id")


def resolution_summary(store: Any, resolution: ResolutionConfig, events: Any | None = None) -> Any:
    """One row per ticket with at least one resolution: ``first_resolved_at``, ``first_resolution_agent``,
    ``last_resolved_at``, ``resolutions``, ``reopens``, ``first_resolution_reopened`` (within the window) and
    ``settled_replies``: the human agent replies up to the first resolution not reopened within the window
    (null when every resolution so far was), the replies it took to resolve the ticket for good. ``events``:
    `resolution_events`, when already computed."""
    if events is None:
        events = resolution_events(store, resolution)
    held = ~events.reopened_within_window
    return events.group_by("ticket_id").aggregate(
        first_resolved_at=events.resolved_at.min(),
        first_resolution_agent=events.agent.argmin(events.number),
        last_resolved_at=events.resolved_at.max(),
        resolutions=events.count().cast("int64"),
        reopens=events.reopened_at.count().cast("int64"),
        first_resolution_reopened=events.reopened_within_window.argmin(events.number),
        settled_replies=events.replies_so_far.argmin(events.number, where=held),
    )


def open_intervals(store: Any, tickets: Any) -> Any:
    """When each ticket in ``tickets`` (with ``ticket_id``, ``created_at``) was open: one row per stretch,
    ``ticket_id``, ``opened_at`` (creation or a reopen) and ``closed_at`` (the resolution that ended it; null
    while it lasts). A ticket resolved at the instant it was created (a proactive message nobody answered)
    has one empty stretch."""
    changes = status_changes(store)
    counted = tickets.select("ticket_id")
    changes = changes.join(counted, "ticket_id").select("ticket_id", at=changes.occurred_at, resolves=changes.resolves)
    created = tickets.select("ticket_id", at=tickets.created_at, resolves=ibis.literal(False))
    timeline = created.union(changes)
    # Creation and reopens alternate with resolutions; at one instant the opening comes first.
    in_order = ibis.window(group_by="ticket_id", order_by=["at", "resolves"])
    timeline = timeline.mutate(next_at=timeline.at.lead().over(in_order))
    opened = timeline.filter(~timeline.resolves)
    return opened.select("ticket_id", opened_at=opened.at, closed_at=opened.next_at)
