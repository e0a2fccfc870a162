"""What folders and labels say about tickets: tags, resolutions, categories and priorities.

Messages carry labels (`message_labels`): the IMAP folder a sync found them in, the labels of a Gmail Takeout
export. Gmail labels a person made become tags; Gmail's own (Inbox, Opened, Category Updates, …) describe a
reader's mailbox, not the ticket, and do not. `[labels]` in deskpulse.toml says which folders and labels mean
resolved, a category or a priority, matched without regard to case. `label_effects` turns all of it into rows
per ticket for the ticket rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import pyarrow as pa

from deskpulse.config import Config
from deskpulse.store import Store

# Labels Gmail sets by itself (lowercased), plus "Category …" tabs and "IMAP_…" flags an IMAP client left.
GMAIL_SYSTEM_LABELS = frozenset(
    "inbox sent draft drafts spam trash starred important unread opened archived chat".split()  # noqa: SIM905
)
_GMAIL_SYSTEM_PREFIX = r"^(category[ :]|imap_)"
LABEL_TAG_SOURCE = "gmail"  # ticket_tags.source of the tags labels give: rebuilt with the tickets


@dataclass(frozen=True)
class LabelEffects:
    """Rows keyed by ticket_id (through `message_threads`), for the ticket rebuild to apply."""

    tags: pa.Table  # ticket_id, tag, source: the Gmail labels of the ticket's messages
    resolutions: pa.Table  # ticket_id, occurred_at, label, source: a ticket filed under a `resolved` label
    categories: pa.Table  # ticket_id, category, label, source: from `[labels] category`
    priorities: pa.Table  # ticket_id, priority, label, source: from `[labels] priority`


def label_effects(store: Store, config: Config) -> LabelEffects:
    labelled = store.table("message_labels").join(_ticket_messages(store), "message_key")
    name = labelled.label.lower()

    is_system = name.isin(sorted(GMAIL_SYSTEM_LABELS)) | name.re_search(_GMAIL_SYSTEM_PREFIX)
    gmail = labelled.filter((labelled.source == "gmail") & ~is_system)
    tags = gmail.select("ticket_id", tag=gmail.label, source=ibis.literal(LABEL_TAG_SOURCE)).distinct()

    return LabelEffects(
        tags=store.arrow(tags.order_by("ticket_id", "tag")),
        resolutions=store.arrow(_resolutions(store, labelled, config).order_by("ticket_id")),
        categories=_latest_meaning(store, labelled, config.labels.category, "category"),
        priorities=_latest_meaning(store, labelled, config.labels.priority, "priority"),
    )


def no_label_effects() -> LabelEffects:
    """The effects of no labels at all: four empty tables of the right columns."""

    def empty(**columns: pa.DataType) -> pa.Table:
        return pa.schema([("ticket_id", pa.string()), *columns.items()]).empty_table()

    return LabelEffects(
        tags=empty(tag=pa.string(), source=pa.string()),
        resolutions=empty(occurred_at=pa.timestamp("us"), label=pa.string(), source=pa.string()),
        categories=empty(category=pa.string(), label=pa.string(), source=pa.string()),
        priorities=empty(priority=pa.string(), label=pa.string(), source=pa.string()),
    )


def _ticket_messages(store: Store) -> Any:
    threads = store.table("message_threads").select("message_key", "ticket_id")
    messages = store.table("messages").select("message_key", "received_at", "author_role")
    return threads.join(messages, "message_key")


def _resolutions(store: Store, labelled: Any, config: Config) -> Any:
    """When each ticket filed under a `resolved` folder or label was resolved: its latest message as it stood
    when it was filed.

    Neither IMAP nor a Gmail export says when a conversation was moved to "Done". What the mail does say: the
    messages filed there existed then (the latest of them is `filed_after`), and a customer message that arrived
    later without the label came after the filing (it reopens the ticket). So the resolution is at the ticket's
    latest message before that next customer message (an agent's reply kept in Sent counts), and no later than
    when deskpulse first saw the label (`observed_at`); with no such message, at the latest labelled one.
    """
    resolved = [label.lower() for label in config.labels.resolved]
    filed = labelled.filter(labelled.label.lower().isin(resolved))
    per_ticket = filed.group_by("ticket_id").aggregate(
        filed_after=filed.received_at.max(),
        seen_at=filed.observed_at.max(),
        label=filed.label.argmax(filed.received_at),
        source=filed.source.argmax(filed.received_at),
    )
    everything = _ticket_messages(store).view()
    everything = everything.mutate(is_filed=everything.message_key.isin(filed.message_key))
    later = everything.join(per_ticket, "ticket_id")
    is_next_customer = (later.author_role == "customer") & (later.received_at > later.filed_after) & ~later.is_filed
    bounds = later.group_by("ticket_id").aggregate(next_customer_at=later.received_at.min(where=is_next_customer))
    candidates = later.join(bounds, "ticket_id")
    before_next = candidates.next_customer_at.isnull() | (candidates.received_at < candidates.next_customer_at)
    in_time = before_next & (candidates.received_at <= candidates.seen_at)
    result = candidates.group_by(["ticket_id", "label", "source", "filed_after"]).aggregate(
        last_before=candidates.received_at.max(where=in_time)
    )
    return result.select(
        "ticket_id",
        occurred_at=ibis.greatest(result.last_before, result.filed_after),
        label=result.label,
        source=result.source,
    )


def _latest_meaning(store: Store, labelled: Any, meanings: dict[str, str] | Any, column: str) -> pa.Table:
    """Per ticket, the meaning (a category, a priority) of the configured label on its latest labelled message,
    as a help desk's current value would be; a tie on one message goes to the label first in name order."""
    lookup = {label.lower(): meaning for label, meaning in meanings.items()}
    meaning = labelled.label.lower().substitute(lookup, else_=ibis.null("string"))
    matched = labelled.mutate(meaning=meaning).filter(lambda t: t.meaning.notnull())
    rank = ibis.row_number().over(group_by=matched.ticket_id, order_by=[ibis.desc(matched.received_at), matched.label])
    latest = matched.mutate(rank=rank).filter(lambda t: t.rank == 0)
    expression = latest.select("ticket_id", **{column: latest.meaning}, label=latest.label, source=latest.source)
    return store.arrow(expression.order_by("ticket_id"))
