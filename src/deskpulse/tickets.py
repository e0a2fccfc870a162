"""Derive tickets from the stored messages: thread them, then rebuild the `tickets` and `agents` tables.

Runs after every import over the whole store, so a late message that links two conversations, or a
re-import, always lands on the same answer. Ticket ids are hashes of their root message, so they stay
stable across re-imports.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import ibis
import pyarrow as pa

from deskpulse.columns import arrow_table
from deskpulse.config import Config
from deskpulse.labels import LABEL_TAG_SOURCE, LabelEffects, label_effects, no_label_effects
from deskpulse.mail.threading import ThreadAssignment, ThreadInput, thread_messages
from deskpulse.schema import AGENTS, MESSAGE_THREADS, TICKET_TAGS, TICKETS, Column, TableDef
from deskpulse.status import OPEN, RESOLVED, write_inferred_events
from deskpulse.store import Store

HUMAN_ROLES = ("customer", "agent")


def ticket_id_for(root_key: str) -> str:
    return "T-" + hashlib.sha1(root_key.encode("utf-8")).hexdigest()[:12]


def rebuild_tickets(store: Store, config: Config) -> int:
    """Re-thread every message, store the assignment, infer status changes into `ticket_events` (spec §1.6),
    rebuild `tickets` and `agents`, then the derived fact tables queries read; return the ticket count."""
    from deskpulse.metrics.facts import store_span  # the metrics import this module

    _assign_threads(store, config)
    messages = threaded_messages(store)
    # "Now" is the store's horizon (the newest instant it knows), so a historical export is judged by its own
    # timeline, not by the day it happens to be imported.
    horizon = store_span(store)[1]
    labels = _label_effects(store, config)
    write_inferred_events(store, config, messages, horizon, labels.resolutions)
    _store_label_tags(store, labels.tags)
    tickets = _ticket_rows(store, messages, horizon, labels)
    store.replace_all("tickets", tickets)
    _rebuild_agents(store, config)
    rebuild_derived_facts(store, config)
    from deskpulse.touched import mark_built

    mark_built(store, config, horizon)
    return int(tickets.num_rows)


def _label_effects(store: Store, config: Config) -> LabelEffects:
    """What folders and labels say about the tickets (`deskpulse.labels`); nothing to work out without labels."""
    if store.count("message_labels") == 0:
        return no_label_effects()
    return label_effects(store, config)


def _store_label_tags(store: Store, tags: pa.Table) -> None:
    """Tags that labels give mail are derived: replaced on every rebuild, a help desk's own tags untouched."""
    store.execute("DELETE FROM ticket_tags WHERE source = ?", [LABEL_TAG_SOURCE])
    store.insert_new("ticket_tags", tags.select(TICKET_TAGS.column_names).cast(TICKET_TAGS.arrow_schema()))


def _categories(store: Store, from_labels: pa.Table) -> Any:
    """Each mail ticket's category, by precedence (a help desk's own category wins over all of these, later): a
    person's label (`deskpulse categorize` labels; the newest per ticket; one naming a message finds its ticket
    through the Message-ID), what a folder or Gmail label means, then the rules' or the model's classification
    (`ticket_categories`, which says `Unclassified` below its threshold). An Ibis table: ticket_id, category and
    category_source (which of these gave it)."""
    store.register("folder_label_categories", from_labels.select(["ticket_id", "category", "source"]))
    store.execute(
        """
        CREATE OR REPLACE TEMP TABLE ticket_category_choice AS
        WITH manual AS (
            SELECT coalesce(l.ticket_id, mt.ticket_id) AS ticket_id, arg_max(l.category, l.labelled_at) AS category
            FROM category_labels l
            LEFT JOIN messages m ON l.ticket_id IS NULL AND m.message_id = l.message_id
            LEFT JOIN message_threads mt ON mt.message_key = m.message_key
            WHERE coalesce(l.ticket_id, mt.ticket_id) IS NOT NULL
            GROUP BY 1
        ),
        classified AS (
            SELECT ticket_id, category, method FROM ticket_categories WHERE method NOT IN ('source', 'label')
        ),
        candidates AS (
            SELECT ticket_id, category, 'label' AS method, 1 AS rank FROM manual
            UNION ALL SELECT ticket_id, category, source, 2 FROM folder_label_categories
            UNION ALL SELECT ticket_id, category, method, 3 FROM classified
        )
        SELECT ticket_id, arg_min(category, rank) AS category, arg_min(method, rank) AS category_source
        FROM candidates GROUP BY ticket_id
        """
    )
    return store.ibis.table("ticket_category_choice")


def rebuild_derived_facts(store: Store, config: Config) -> None:
    """The derived fact tables queries read (`deskpulse.metrics.facts.store_derived_facts`), as an import builds
    them: on one DuckDB thread, so they fit under the import's memory limit (with two threads a million tickets
    ran out of 512 MB; with one, ten million fit, spilling to disk)."""
    from deskpulse.metrics.facts import store_derived_facts  # the metrics import this module

    with store.single_thread():
        store_derived_facts(store, config)


_THREAD_COLUMNS = [
    "message_key",
    "message_id",
    "in_reply_to",
    "reference_ids",
    "normalized_subject",
    "customer_address",
    "received_at",
]


def _thread_inputs(store: Store, *, where: str | None = None) -> list[ThreadInput]:
    """What the threader needs of every stored mail message (a help desk's messages name their ticket and are
    not threaded), read in slices to keep memory flat; ``where`` (SQL over `messages`) narrows them further.

    A Message-ID appears several times (as a message's own id, then in its replies' In-Reply-To and
    References), and a customer on many messages; one shared string object for each saves most of the memory
    a 200,000-message store would otherwise cost here.
    """
    shared: dict[str, str] = {}
    share = shared.setdefault
    inputs: list[ThreadInput] = []
    condition = "source_ticket_id IS NULL" + (f" AND ({where})" if where else "")
    for batch in store.scan("messages", _THREAD_COLUMNS, where=condition):
        columns = [batch.column(c).to_pylist() for c in _THREAD_COLUMNS]
        for key, message_id, in_reply_to, references, subject, customer, received_at in zip(*columns, strict=True):
            key = share(key, key)
            inputs.append(
                ThreadInput(
                    key,
                    key if message_id == key else (None if message_id is None else share(message_id, message_id)),
                    None if in_reply_to is None else share(in_reply_to, in_reply_to),
                    tuple([share(r, r) for r in references]) if references else (),
                    share(subject, subject) if subject else "",
                    None if customer is None else share(customer, customer),
                    received_at,
                )
            )
        del columns
    return inputs


def _assign_threads(store: Store, config: Config) -> None:
    """Place every message in its ticket: mail by threading, a help desk's messages under the ticket the source
    filed them in; then move the messages of merged-away tickets to the ticket that absorbed them (spec §1.1)."""
    survivors = merge_targets(store)
    table = thread_rows(thread_messages(_thread_inputs(store), config.subject_window), survivors)
    store.replace_all("message_threads", table)
    # A help desk's messages: each replies to the one before it in its ticket.
    merges = arrow_table(MERGES, {"merged": list(survivors), "survivor": list(survivors.values())})
    store.register("ticket_merges", merges)
    store.execute(
        """
        INSERT INTO message_threads (message_key, ticket_id, parent_key, thread_link)
        SELECT m.message_key, coalesce(g.survivor, m.source_ticket_id),
               lag(m.message_key) OVER (PARTITION BY m.source_ticket_id ORDER BY m.received_at, m.message_key),
               'source'
        FROM messages m LEFT JOIN ticket_merges g ON g.merged = m.source_ticket_id
        WHERE m.source_ticket_id IS NOT NULL
        """
    )


def thread_rows(assignments: dict[str, ThreadAssignment], survivors: dict[str, str]) -> pa.Table:
    """`message_threads` rows for the threader's assignments: each thread's ticket id is the hash of its root
    message, or the ticket that absorbed it when a help desk merged it away."""
    ticket_ids: dict[str, str] = {}
    for assignment in assignments.values():
        if assignment.thread_key not in ticket_ids:
            ticket_id = ticket_id_for(assignment.thread_key)
            ticket_ids[assignment.thread_key] = survivors.get(ticket_id, ticket_id)
    return arrow_table(
        MESSAGE_THREADS,
        {
            "message_key": list(assignments),
            "ticket_id": [ticket_ids[a.thread_key] for a in assignments.values()],
            "parent_key": [a.parent_key for a in assignments.values()],
            "thread_link": [a.linked_by for a in assignments.values()],
        },
    )


MERGES = TableDef(
    "ticket_merges",
    "Merged-away ticket → the ticket that finally absorbed it (chains followed).",
    (
        Column("merged", "VARCHAR", "ticket_id merged away", primary_key=True),
        Column("survivor", "VARCHAR", "ticket_id its messages join"),
    ),
)


def merge_targets(store: Store) -> dict[str, str]:
    """For each merged-away ticket, the ticket that finally absorbed it: merges chain (A into B, then B into C
    sends A's messages to C). A cycle, which no help desk should produce, stops at the last ticket before it
    repeats."""
    rows = store.execute("SELECT ticket_id, merged_into FROM source_tickets WHERE merged_into IS NOT NULL")
    into = dict(rows)
    targets = {}
    for ticket in into:
        seen = {ticket}
        target = into[ticket]
        while target in into and into[target] not in seen:
            seen.add(target)
            target = into[target]
        targets[ticket] = target
    return targets


def threaded_messages(store: Store) -> Any:
    """`messages` with the ticket each belongs to (an Ibis expression)."""
    threads = store.table("message_threads")
    return store.table("messages").join(threads, "message_key")


def _ticket_rows(
    store: Store, messages: Any, horizon: datetime | None, labels: LabelEffects, *, only: Any | None = None
) -> pa.Table:
    """The `tickets` rows of every ticket in ``messages`` and of every help desk ticket (those of the Ibis table
    ``only`` (ticket_id) when given: the rest are left alone)."""
    human = messages.author_role.isin(HUMAN_ROLES)
    is_agent = messages.author_role == "agent"
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
        assignee=messages.from_address.argmax(messages.received_at, where=is_agent),
    )
    if horizon is None:
        return TICKETS.arrow_schema().empty_table()
    # A help desk's own record of a ticket wins over what the messages suggest; a ticket may have only one
    # (a CSV of tickets without their messages; a merged-away ticket, whose messages moved to the survivor).
    source = store.table("source_tickets")
    if only is not None:
        source = source.semi_join(only, "ticket_id")
    source = source.rename(lambda name: f"source_{name}")
    # What a folder or label says (`deskpulse.labels`) comes next, then the messages.
    categories = _categories(store, labels.categories)
    priorities = store.register("label_priorities", labels.priorities).select("ticket_id", "priority")
    per_ticket = per_ticket.left_join(categories, "ticket_id").left_join(priorities, "ticket_id")
    both = per_ticket.outer_join(source, per_ticket.ticket_id == source.source_ticket_id)
    both = both.select(
        *(c for c in both.columns if c not in ("ticket_id", "source_ticket_id")),
        ticket_id=ibis.coalesce(both.source_ticket_id, both.ticket_id),
    ).view()  # a fresh relation: the join below is on a column computed over the one above
    # Status comes from the status history: the source's own, or the resolutions and reopens inferred from the
    # mail (`deskpulse.status`, spec §1.6). The latest change decides; resolved_at is the latest resolution.
    events = store.table("ticket_events")
    if only is not None:
        events = events.semi_join(only, "ticket_id")
    changes = events.filter(events.kind == "status")
    # Events of one instant (a log with minute times) keep their recorded order: event ids sort within it.
    in_order = ibis.window(group_by="ticket_id", order_by=[changes.occurred_at, changes.event_id])
    changes = changes.mutate(order=ibis.row_number().over(in_order))
    # A resolution is a change into resolved: a help desk's solved → closed moves nothing.
    is_resolution = (changes.new_value == RESOLVED) & (changes.old_value.isnull() | (changes.old_value != RESOLVED))
    latest = changes.group_by("ticket_id").aggregate(
        last_status=changes.new_value.argmax(changes.order),
        last_resolved_at=changes.occurred_at.max(where=is_resolution),
        last_resolution_inferred=changes.inferred.argmax(changes.order, where=is_resolution),
    )
    both = both.left_join(latest, "ticket_id")
    status = ibis.coalesce(both.last_status, both.source_status, ibis.literal(OPEN))
    resolved = status == RESOLVED
    requester = ibis.coalesce(both.source_requester, both.requester)
    excluded = ibis.coalesce(
        both.source_excluded_reason,
        both.source_merged_into.notnull().ifelse("merged", ibis.null("string")),
        (both.human_messages == 0).ifelse("automation_only", ibis.null("string")),
    )
    result = both.select(
        ticket_id=both.ticket_id,
        root_message_key=both.root_message_key,
        subject=ibis.coalesce(both.source_subject, both.subject),
        requester=requester,
        mailbox=ibis.coalesce(both.source_mailbox, both.mailbox),
        channel=ibis.coalesce(both.source_channel, ibis.literal("email")),
        created_at=ibis.coalesce(both.source_created_at, both.created_at),
        updated_at=ibis.coalesce(both.source_updated_at, both.updated_at),
        message_count=both.message_count.fill_null(0).cast("int32"),
        is_proactive=(both.first_human_role == "agent").fill_null(False),
        status=status,
        resolved_at=ibis.ifelse(
            resolved, ibis.coalesce(both.last_resolved_at, both.source_resolved_at), ibis.null("timestamp")
        ),
        resolution_inferred=resolved & both.last_resolution_inferred.fill_null(False),
        priority=ibis.coalesce(both.source_priority, both.priority),
        category=ibis.coalesce(both.source_category, both.category),
        category_source=both.source_category.notnull().ifelse("source", both.category_source),
        organisation=ibis.coalesce(both.source_organisation, _organisation(requester)),
        assignee=ibis.coalesce(both.source_assignee, both.assignee),
        merged_into=both.source_merged_into,
        excluded_reason=excluded,
    )
    return store.arrow(result.order_by("created_at", "ticket_id"))


# Mail providers whose users share a domain but no organisation.
FREEMAIL_DOMAINS = (
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.de", "yahoo.fr", "ymail.com", "hotmail.com",
    "hotmail.co.uk", "hotmail.de", "hotmail.fr", "outlook.com", "live.com", "msn.com", "icloud.com", "me.com",
    "mac.com", "aol.com", "gmx.de", "gmx.net", "gmx.com", "web.de", "t-online.de", "proton.me", "protonmail.com",
    "mail.ru", "yandex.ru", "qq.com", "163.com", "126.com", "free.fr", "orange.fr", "laposte.net", "zoho.com",
)  # fmt: skip


def _organisation(address: Any) -> Any:
    """A mailbox knows no organisations: the requester's domain stands for one, except a mail provider's."""
    domain = address.re_extract(r"@([^@>]+)$", 1).lower().nullif("")
    return domain.isin(FREEMAIL_DOMAINS).ifelse(ibis.null("string"), domain)


def _rebuild_agents(store: Store, config: Config) -> None:
    messages = store.table("messages")
    agents = messages.filter(messages.author_role == "agent")
    from_mail = store.arrow(
        agents.group_by(address=agents.from_address).aggregate(name=agents.from_name.argmax(agents.received_at))
    ).to_pylist()
    names = {row["address"]: row["name"] for row in from_mail}
    for address in config.helpdesk.agent_addresses:
        names.setdefault(address, None)
    addresses = sorted(names)
    seen_in_mail = {row["address"] for row in from_mail}
    columns = {
        "address": addresses,
        "name": [names[a] for a in addresses],
        "team": [None] * len(addresses),
        "active": [True] * len(addresses),
        "source": ["mail" if a in seen_in_mail else "config" for a in addresses],
    }
    # Agents a help desk listed stay as the connector stored them (with their team), whether or not they wrote
    # mail; mail and config are re-read every time.
    listed = store.table("agents")
    kept = store.arrow(listed.filter(~listed.source.isin(("mail", "config"))))
    known = set(kept.column("address").to_pylist())
    keep = [address not in known for address in columns["address"]]
    rebuilt = arrow_table(
        AGENTS, {name: [v for v, k in zip(values, keep, strict=True) if k] for name, values in columns.items()}
    )
    store.replace_all("agents", pa.concat_tables([kept.cast(rebuilt.schema), rebuilt]))
