"""Derive tickets from the stored messages: thread them, then rebuild the `tickets` and `agents` tables.

Runs after every import over the whole store, so a late message that links two conversations, or a
re-import, always lands on the same answer. Ticket ids are hashes of their root message, so they stay
stable across re-imports.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import ibis
import pyarrow as pa

from deskpulse.config import Config
from deskpulse.mail.threading import ThreadInput, thread_messages
from deskpulse.store import Store

HUMAN_ROLES = ("customer", "agent")


def ticket_id_for(root_key: str) -> str:
    return "T-" + hashlib.sha1(root_key.encode("utf-8")).hexdigest()[:12]


def rebuild_tickets(store: Store, config: Config) -> int:
    """Re-thread every message, store the assignment, rebuild `tickets` and `agents`; return the ticket count."""
    _assign_threads(store, config)
    tickets = _ticket_rows(store, config)
    store.replace_all("tickets", tickets)
    _rebuild_agents(store, config)
    return int(tickets.num_rows)


def _assign_threads(store: Store, config: Config) -> None:
    columns = [
        "message_key",
        "message_id",
        "in_reply_to",
        "reference_ids",
        "subject",
        "customer_address",
        "received_at",
    ]
    rows = store.table("messages").select(columns).to_pyarrow().to_pydict()
    inputs = [
        ThreadInput(
            key=key,
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=tuple(references or ()),
            subject=subject or "",
            customer=customer,
            sent_at=received_at,
        )
        for key, message_id, in_reply_to, references, subject, customer, received_at in zip(
            *(rows[c] for c in columns), strict=True
        )
    ]
    assignments = thread_messages(inputs, config.subject_window)
    keys = list(assignments)
    table = pa.table(
        {
            "message_key": keys,
            "ticket_id": [ticket_id_for(assignments[k].thread_key) for k in keys],
            "parent_key": [assignments[k].parent_key for k in keys],
            "thread_link": [assignments[k].linked_by for k in keys],
        }
    )
    store.sql.register("thread_assignment", table)
    try:
        # Only rows whose assignment changed are rewritten: after the first import that is a handful.
        store.execute(
            """
            UPDATE messages SET ticket_id = a.ticket_id, parent_key = a.parent_key, thread_link = a.thread_link
            FROM thread_assignment AS a
            WHERE messages.message_key = a.message_key
              AND (messages.ticket_id IS DISTINCT FROM a.ticket_id
                   OR messages.parent_key IS DISTINCT FROM a.parent_key
                   OR messages.thread_link IS DISTINCT FROM a.thread_link)
            """
        )
    finally:
        store.sql.unregister("thread_assignment")


def _ticket_rows(store: Store, config: Config) -> pa.Table:
    messages = store.table("messages")
    horizon = messages.received_at.max().to_pyarrow().as_py()
    human = messages.author_role.isin(HUMAN_ROLES)
    is_agent = messages.author_role == "agent"
    is_customer = messages.author_role == "customer"
    first_human_at = messages.received_at.min(where=human)
    per_ticket = messages.group_by("ticket_id").aggregate(
        root_message_key=messages.message_key.argmin(messages.received_at),
        subject=messages.subject.argmin(messages.received_at),
        created_at=messages.received_at.min(),
        updated_at=messages.received_at.max(),
        message_count=messages.count(),
        human_messages=human.sum(),
        first_human_role=messages.author_role.argmin(messages.received_at, where=human),
        first_human_at=first_human_at,
        requester=messages.customer_address.argmin(messages.received_at, where=messages.customer_address.notnull()),
        mailbox=messages.mailbox.argmin(messages.received_at, where=messages.mailbox.notnull()),
        last_agent_reply_at=messages.received_at.max(where=is_agent),
        last_customer_at=messages.received_at.max(where=is_customer),
        assignee=messages.from_address.argmax(messages.received_at, where=is_agent),
    )
    if horizon is None:
        return per_ticket.limit(0).to_pyarrow()
    # Spec §1.6: a mailbox ticket is resolved at its last human agent reply once no customer message follows
    # within `inactivity_days`. "Now" is the store's horizon (its newest message), so a historical export is
    # judged by its own timeline, not by the day it happens to be imported.
    quiet_since = ibis.literal(horizon - timedelta(days=config.resolution.inactivity_days), type="timestamp")
    answered_last = per_ticket.last_agent_reply_at.notnull() & (
        per_ticket.last_customer_at.isnull() | (per_ticket.last_customer_at < per_ticket.last_agent_reply_at)
    )
    resolved = answered_last & (per_ticket.last_agent_reply_at <= quiet_since)
    result = per_ticket.select(
        ticket_id=per_ticket.ticket_id,
        root_message_key=per_ticket.root_message_key,
        subject=per_ticket.subject,
        requester=per_ticket.requester,
        mailbox=per_ticket.mailbox,
        channel=ibis.literal("email"),
        created_at=per_ticket.created_at,
        updated_at=per_ticket.updated_at,
        message_count=per_ticket.message_count.cast("int32"),
        is_proactive=(per_ticket.first_human_role == "agent").fill_null(False),
        status=ibis.ifelse(resolved, "resolved", "open"),
        resolved_at=ibis.ifelse(resolved, per_ticket.last_agent_reply_at, ibis.null("timestamp")),
        resolution_inferred=resolved,
        priority=ibis.null("string"),
        category=ibis.null("string"),
        assignee=per_ticket.assignee,
        merged_into=ibis.null("string"),
        excluded_reason=ibis.ifelse(per_ticket.human_messages == 0, "automation_only", ibis.null("string")),
    )
    return result.order_by("created_at", "ticket_id").to_pyarrow()


def _rebuild_agents(store: Store, config: Config) -> None:
    messages = store.table("messages")
    agents = messages.filter(messages.author_role == "agent")
    from_mail = (
        agents.group_by(address=agents.from_address)
        .aggregate(name=agents.from_name.argmax(agents.received_at))
        .to_pyarrow()
        .to_pylist()
    )
    names = {row["address"]: row["name"] for row in from_mail}
    for address in config.helpdesk.agent_addresses:
        names.setdefault(address, None)
    rows = sorted(names.items())
    store.replace_all(
        "agents",
        pa.table(
            {
                "address": [a for a, _ in rows],
                "name": [n for _, n in rows],
                "team": pa.nulls(len(rows), pa.string()),
                "active": [True] * len(rows),
                "source": ["mail" if a in {r["address"] for r in from_mail} else "config" for a, _ in rows],
            }
        ),
    )


def as_of(store: Store) -> datetime | None:
    """The store's horizon: the time of its newest message."""
    value = store.table("messages").received_at.max().to_pyarrow().as_py()
    return value if isinstance(value, datetime) else None
