"""Status history inferred for mailbox tickets (spec §1.6): resolutions and reopens as `ticket_events` rows.

A mailbox has no status field. Between two customer messages, a ticket is resolved at the last human agent reply
when no customer message follows within `resolution.inactivity_days` (judged against the store's horizon, its
newest message); the customer's next message reopens it, and a later quiet stretch resolves it again. A short
acknowledgement ("Thanks, that fixed it!") is not a customer message in this sense: it neither holds off a
resolution nor reopens one. The rows are rebuilt after every import, replacing the previous inferred ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import ibis
import pyarrow as pa

from deskpulse.config import Config
from deskpulse.schema import TICKET_EVENTS
from deskpulse.store import Store

RESOLVED = "resolved"
OPEN = "open"
INFERRED_SOURCE = "inferred"  # ticket_events.source of the rows this module infers from mail
SNAPSHOT = "snapshot"  # ... and of those it reads off a help desk ticket that came without its history
LABELLED = "label"  # ... and of those a resolved folder or label says (`deskpulse.labels`)
DERIVED_SOURCES = (INFERRED_SOURCE, SNAPSHOT, LABELLED)  # rewritten on every rebuild

# An acknowledgement is the customer's whole new text (quoted history and signature already removed): short,
# opening (after an optional greeting) with thanks or a confirmation, with no question, request, doubt or new
# problem anywhere in it. Deliberately narrow: a message wrongly taken for an acknowledgement would let a ticket
# whose customer still waits count as resolved. Patterns run on lowercased text and avoid `\b`, which PostgreSQL
# reads as a backspace, so the predicate works on every engine.
ACKNOWLEDGEMENT_MAX_CHARS = 300
_GREETING = (
    r"(hi|hello|hey|hallo|dear|good\s+(morning|afternoon|evening)|guten\s+(morgen|tag|abend)|moin|servus"
    r"|bonjour|hola|ciao)[^,.!?]{0,40}[,.!]?\s+"
)
_THANKS = (
    r"(many\s+thanks|thanks|thank\s+you|thank\s+u|thx|ty|much\s+appreciated|perfect|great|awesome|excellent"
    r"|brilliant|wonderful|fantastic|super|that\s+(did\s+the\s+trick|worked|fixed\s+it|helped|solved\s+it)"
    r"|it\s+works|all\s+(good|sorted|set|fixed)|vielen\s+dank|danke|merci|gracias|grazie)"
)
ACKNOWLEDGEMENT = rf"^\s*({_GREETING})?{_THANKS}([^a-z]|$)"
_DOUBT_WORDS = (
    "but|however|still|not|no\\s+longer|unfortunately|although|though|problem|problems|issue|issues|error|errors"
    "|broken|fail|fails|failed|wrong|cannot|unable|happening|happens|please|could|can\\s+you|would|another|also"
    "|aber|leider|noch|nicht|kein|keine|bitte|wieder|fehler|mais|pas|encore|pero|todavía"
)
NOT_AN_ACKNOWLEDGEMENT = rf"(\?|n['’]t|(^|[^a-z])({_DOUBT_WORDS})([^a-z]|$))"


def is_acknowledgement(messages: Any) -> Any:
    """A customer message that only says thanks or confirms the fix (an Ibis boolean column, never null)."""
    text = messages.body_text.lower()
    return (
        (messages.author_role == "customer")
        & (messages.body_text.length() <= ACKNOWLEDGEMENT_MAX_CHARS)
        & text.re_search(ACKNOWLEDGEMENT)
        & ~text.re_search(NOT_AN_ACKNOWLEDGEMENT)
    ).fill_null(False)


def inferred_status_events(messages: Any, horizon: datetime, inactivity_days: int) -> Any:
    """The inferred resolutions and reopens of every ticket in ``messages`` (threaded), as `ticket_events` rows.

    Customer messages (acknowledgements aside) cut a ticket into stretches; stretch k runs from the k-th customer
    message up to the next one (stretch 0 holds the opening of a proactive ticket). A stretch whose last human
    agent reply is followed by more than `inactivity_days` without a customer message (or is at least that old
    at the horizon) resolves the ticket at that reply; the first customer message of the next stretch reopens it.
    Event ids name the message that caused them, so they are the same after every rebuild.
    """
    is_reply = ((messages.author_role == "agent") & messages.is_public).fill_null(False)
    is_customer = ((messages.author_role == "customer") & ~is_acknowledgement(messages)).fill_null(False)
    human = messages.select(
        "ticket_id", "message_key", "received_at", "from_address", is_reply=is_reply, is_customer=is_customer
    )
    human = human.filter(human.is_reply | human.is_customer)
    # A customer message and a reply stamped with the same instant: the reply answers the message.
    in_order = ibis.cumulative_window(group_by="ticket_id", order_by=["received_at", "is_reply", "message_key"])
    human = human.mutate(stretch=human.is_customer.ifelse(1, 0).sum().over(in_order))
    stretches = human.group_by("ticket_id", "stretch").aggregate(
        customer_at=human.received_at.min(where=human.is_customer),
        customer_key=human.message_key.argmin(human.received_at, where=human.is_customer),
        customer=human.from_address.argmin(human.received_at, where=human.is_customer),
        reply_at=human.received_at.max(where=human.is_reply),
        reply_key=human.message_key.argmax(human.received_at, where=human.is_reply),
        agent=human.from_address.argmax(human.received_at, where=human.is_reply),
    )
    following = ibis.window(group_by="ticket_id", order_by="stretch")
    stretches = stretches.mutate(
        next_customer_at=stretches.customer_at.lead().over(following),
        next_customer_key=stretches.customer_key.lead().over(following),
        next_customer=stretches.customer.lead().over(following),
    )
    quiet = inactivity_days * 86400
    reply_seconds = stretches.reply_at.epoch_seconds()
    resolved = stretches.reply_at.notnull() & ibis.ifelse(
        stretches.next_customer_at.isnull(),
        ibis.literal(horizon, type="timestamp").epoch_seconds() - reply_seconds >= quiet,
        stretches.next_customer_at.epoch_seconds() - reply_seconds > quiet,
    )
    resolutions = stretches.filter(resolved)
    resolved_rows = resolutions.select(
        event_id=ibis.literal(f"{INFERRED_SOURCE}:{RESOLVED}:") + resolutions.reply_key,
        ticket_id=resolutions.ticket_id,
        occurred_at=resolutions.reply_at,
        kind=ibis.literal("status"),
        actor=resolutions.agent,
        old_value=ibis.literal(OPEN),
        new_value=ibis.literal(RESOLVED),
    )
    reopens = resolutions.filter(resolutions.next_customer_at.notnull())
    reopen_rows = reopens.select(
        event_id=ibis.literal(f"{INFERRED_SOURCE}:reopened:") + reopens.next_customer_key,
        ticket_id=reopens.ticket_id,
        occurred_at=reopens.next_customer_at,
        kind=ibis.literal("status"),
        actor=reopens.next_customer,
        old_value=ibis.literal(RESOLVED),
        new_value=ibis.literal(OPEN),
    )
    events = resolved_rows.union(reopen_rows)
    return events.select(*events.columns, inferred=ibis.literal(True), source=ibis.literal(INFERRED_SOURCE)).select(
        *TICKET_EVENTS.column_names
    )


def snapshot_status_events(store: Store) -> Any:
    """Status changes for the help desk tickets whose source gave a status but no history (a CSV of tickets, a
    ticket list without audits): a resolution at the source's resolved_at, so resolution metrics count them.
    Only the latest resolution is known, so such a ticket shows no reopens."""
    tickets = store.table("source_tickets")
    events = store.table("ticket_events")
    derived = events.source.isin(DERIVED_SOURCES).fill_null(False)
    own = events.filter((events.kind == "status") & ~derived)
    with_history = own.select("ticket_id").distinct()
    resolved = tickets.filter((tickets.status == RESOLVED) & tickets.resolved_at.notnull())
    resolved = resolved.anti_join(with_history, "ticket_id")
    return resolved.select(
        event_id=ibis.literal(f"{SNAPSHOT}:{RESOLVED}:") + resolved.ticket_id,
        ticket_id=resolved.ticket_id,
        occurred_at=resolved.resolved_at,
        kind=ibis.literal("status"),
        actor=resolved.assignee,
        old_value=ibis.literal(OPEN),
        new_value=ibis.literal(RESOLVED),
        inferred=ibis.literal(False),
        source=ibis.literal(SNAPSHOT),
    )


def labelled_status_events(store: Store, messages: Any, filed: Any) -> Any:
    """Resolutions a `resolved` folder or label says (spec §1.6: explicit signals first), and the reopen by the
    customer's next message after one (an acknowledgement aside)."""
    resolutions = filed.select(
        event_id=ibis.literal(f"{LABELLED}:{RESOLVED}:") + filed.ticket_id,
        ticket_id=filed.ticket_id,
        occurred_at=filed.occurred_at,
        kind=ibis.literal("status"),
        actor=ibis.null("string"),
        old_value=ibis.literal(OPEN),
        new_value=ibis.literal(RESOLVED),
    )
    customer = messages.filter((messages.author_role == "customer") & ~is_acknowledgement(messages))
    later = customer.join(filed, "ticket_id").filter(lambda t: t.received_at > t.occurred_at)
    first = later.group_by("ticket_id").aggregate(
        occurred_at=later.received_at.min(),
        message_key=later.message_key.argmin(later.received_at),
        actor=later.from_address.argmin(later.received_at),
    )
    reopens = first.select(
        event_id=ibis.literal(f"{LABELLED}:reopened:") + first.message_key,
        ticket_id=first.ticket_id,
        occurred_at=first.occurred_at,
        kind=ibis.literal("status"),
        actor=first.actor,
        old_value=ibis.literal(RESOLVED),
        new_value=ibis.literal(OPEN),
    )
    events = resolutions.union(reopens)
    return events.select(*events.columns, inferred=ibis.literal(False), source=ibis.literal(LABELLED))


def write_inferred_events(
    store: Store, config: Config, messages: Any, horizon: datetime | None, labelled: pa.Table, *, only: Any = None
) -> int:
    """Replace the rows of `ticket_events` this module derives with fresh ones; other sources' rows stay. With
    ``only`` (an Ibis table of ticket_id; ``messages`` holds just theirs) the caller has deleted those tickets'
    derived rows, and only theirs are written.

    A help desk ticket's status is the source's (its history, else a `snapshot` of its resolution). A mail ticket
    filed under a resolved folder or label (``labelled``: ticket_id, occurred_at) is resolved then; the others
    are inferred from the mail (spec §1.6)."""
    events = store.table("ticket_events")
    schema = TICKET_EVENTS.arrow_schema()
    snapshots = snapshot_status_events(store)
    derived = [snapshots if only is None else snapshots.semi_join(only, "ticket_id")]
    if horizon is not None:
        mail = messages.filter(messages.source_ticket_id.isnull())
        if labelled.num_rows:
            filed = store.register("labelled_resolutions", labelled.select(["ticket_id", "occurred_at"]))
            if only is not None:
                filed = filed.semi_join(only, "ticket_id")
            derived.append(labelled_status_events(store, mail, filed))
            mail = mail.anti_join(filed, "ticket_id")
        derived.append(inferred_status_events(mail, horizon, config.resolution.inactivity_days))
    tables = [store.arrow(expression.order_by("ticket_id", "occurred_at", "event_id")) for expression in derived]
    if only is not None:
        store.append("ticket_events", pa.concat_tables([t.cast(schema) for t in tables]))
        return sum(t.num_rows for t in tables)
    kept = store.arrow(events.filter(~events.source.isin(DERIVED_SOURCES).fill_null(False)))
    store.replace_all("ticket_events", pa.concat_tables([t.cast(schema) for t in [kept, *tables]]))
    return sum(t.num_rows for t in tables)
