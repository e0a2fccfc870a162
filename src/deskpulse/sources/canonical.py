"""The one contract every help desk connector writes through: tickets, their messages, status and assignment
history, tags and agents, as the source records them, into the canonical tables.

A connector (Zendesk, Freshdesk, Help Scout, a CSV export with a column mapping) only translates its source into
the records below and calls `store_source`. Ids are the source's own; they become deskpulse ids by prefixing the
source name (`zendesk-4213`), so two help desks in one store never collide and re-reading a source finds the same
rows. Re-reading changes nothing; a ticket read again after it changed replaces its stored row. A record that
cannot be stored (no id, no time, a message naming no ticket) is quarantined with its reason, never dropped in
silence and never the end of the import.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from deskpulse.columns import arrow_table, rows_table
from deskpulse.config import Config
from deskpulse.mail.quoting import split_reply
from deskpulse.schema import (
    AGENTS,
    MESSAGES,
    QUARANTINE,
    SOURCE_TICKETS,
    SURVEYS,
    TICKET_EVENTS,
    TICKET_TAGS,
    TIME_ENTRIES,
)
from deskpulse.store import Store

if TYPE_CHECKING:
    from deskpulse.inputs.surveys import SurveyRow
    from deskpulse.inputs.time_entries import TimeEntry

# A help desk's statuses in deskpulse's words (spec §1.6). Anything else is an error the connector must map.
STATUSES = {
    "new": "open",
    "open": "open",
    "active": "open",
    "reopened": "open",
    "pending": "pending",
    "waiting on customer": "pending",
    "waiting": "pending",
    "hold": "on_hold",
    "on-hold": "on_hold",
    "on_hold": "on_hold",
    "on hold": "on_hold",
    "waiting on third party": "on_hold",
    "solved": "resolved",
    "resolved": "resolved",
    "closed": "resolved",
}
ROLES = ("customer", "agent", "automation", "system")
_SUBJECT_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|vs)\s*(\[\d+\])?\s*:\s*|\[[^\]]*\]\s*)+", re.IGNORECASE)


@dataclass
class SourceTicket:
    id: str
    created_at: datetime | None
    subject: str | None = None
    requester: str | None = None  # address when known, else `<source>-user-<the source's user id>`
    mailbox: str | None = None
    channel: str | None = None
    updated_at: datetime | None = None
    status: str | None = None  # in the source's words; see STATUSES
    resolved_at: datetime | None = None
    priority: str | None = None
    category: str | None = None
    organisation: str | None = None
    assignee: str | None = None
    group: str | None = None
    merged_into: str | None = None  # the source's id of the ticket that absorbed this one
    excluded_reason: str | None = None  # spam, deleted, test, …
    tags: Sequence[str] = ()
    position: str = ""  # where in the source it was read, for error reports


@dataclass
class SourceMessage:
    id: str
    ticket: str  # the source's ticket id
    created_at: datetime | None
    author: str | None  # address when known, else `<source>-user-<the source's user id>`
    role: str  # customer, agent, automation or system
    body: str = ""
    is_public: bool = True
    author_name: str | None = None
    message_id: str | None = None  # the mail Message-ID, when the source kept it
    attachment_count: int = 0
    position: str = ""


@dataclass
class SourceEvent:
    id: str
    ticket: str
    occurred_at: datetime | None
    kind: str  # status, assignee, group, priority, tag, …
    new_value: str | None
    old_value: str | None = None
    actor: str | None = None
    position: str = ""


@dataclass
class SourceAgent:
    address: str
    name: str | None = None
    team: str | None = None
    active: bool = True


@dataclass(frozen=True)
class Problem:
    """A record a connector could not use (``rejected``: it goes to `quarantine`), or kept but worth a look.

    ``raw`` is the record as read (a file's line), when the connector has it: the quarantine row then keeps its
    hash, size and first 300 characters, so the user can find the record in the source."""

    position: str
    reason: str
    detail: str
    rejected: bool = True
    raw: str | None = None


@dataclass
class SourceSummary:
    source: str
    read: int = 0
    stored: int = 0
    updated: int = 0
    duplicates: int = 0
    quarantined: int = 0
    tickets: int = 0
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (position, reason, detail)

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "records_read": self.read,
            "records_stored": self.stored,
            "records_updated": self.updated,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "tickets": self.tickets,
            "problems": [list(p) for p in self.problems[:50]],
        }


def ticket_id(source: str, external_id: str) -> str:
    return f"{source}-{external_id}"


def canonical_status(value: str | None) -> str | None:
    if value is None:
        return None
    return STATUSES.get(value.strip().lower())


def store_source(
    store: Store,
    config: Config,
    source: str,
    *,
    tickets: Iterable[SourceTicket] = (),
    messages: Iterable[SourceMessage] = (),
    events: Iterable[SourceEvent] = (),
    agents: Iterable[SourceAgent] = (),
    surveys: Sequence[SurveyRow] = (),
    time_entries: Sequence[TimeEntry] = (),
    problems: Sequence[Problem] = (),
    rebuild: bool = True,
) -> SourceSummary:
    """Store one read of a source and (unless ``rebuild`` is false) rebuild the tickets and their facts.

    Survey answers and time entries are stored as `deskpulse load` stores them (idempotent by their ids).
    ``problems`` are what the connector itself could not use (``rejected``: counted as read and quarantined)
    or kept but found suspicious; both are reported in the summary, after the contract's own."""
    summary = SourceSummary(source)
    now = datetime.now(UTC).replace(tzinfo=None)
    quarantine: list[dict[str, Any]] = []

    def reject(position: str, reason: str, detail: str, raw: str | None = None) -> None:
        summary.quarantined += 1
        summary.problems.append((position, reason, detail))
        data = (detail if raw is None else raw).encode("utf-8", "replace")
        quarantine.append(
            {
                "source": source,
                "source_position": position,
                "content_hash": hashlib.sha1(data).hexdigest(),
                "reason": reason,
                "action": "rejected",
                "detail": detail,
                "excerpt": None if raw is None else raw[:300],
                "size_bytes": None if raw is None else len(data),
                "recorded_at": now,
            }
        )

    ticket_rows, tag_rows = _ticket_rows(source, tickets, now, summary, reject)
    message_rows = _message_rows(source, messages, {r["ticket_id"]: r for r in ticket_rows}, now, summary, reject)
    event_rows = _event_rows(source, events, summary, reject)
    new, changed = store.upsert("source_tickets", arrow_table(SOURCE_TICKETS, _columns(SOURCE_TICKETS, ticket_rows)))
    summary.stored += new
    summary.updated += changed
    summary.duplicates += len(ticket_rows) - new - changed
    for name, table, rows in (("messages", MESSAGES, message_rows), ("ticket_events", TICKET_EVENTS, event_rows)):
        added = store.insert_new(name, arrow_table(table, _columns(table, rows)))
        summary.stored += added
        summary.duplicates += len(rows) - added
    if tag_rows:
        # A ticket's tags are what the source says now: its rows from this source are replaced.
        ids = sorted({r["ticket_id"] for r in tag_rows})
        store.register("retagged", pa.table({"ticket_id": pa.array(ids, pa.string())}))
        store.execute(
            "DELETE FROM ticket_tags WHERE source = ? AND ticket_id IN (SELECT ticket_id FROM retagged)", [source]
        )
        store.insert_new("ticket_tags", arrow_table(TICKET_TAGS, _columns(TICKET_TAGS, tag_rows)))
    agent_rows = [
        {"address": a.address.lower(), "name": a.name, "team": a.team, "active": a.active, "source": source}
        for a in agents
    ]
    summary.read += len(agent_rows)
    store.upsert("agents", arrow_table(AGENTS, _columns(AGENTS, agent_rows)), ignore=())
    for name, table, records in (("time_entries", TIME_ENTRIES, time_entries), ("surveys", SURVEYS, surveys)):
        added = store.insert_new(name, rows_table(table, [asdict(record) for record in records]))
        summary.read += len(records)
        summary.stored += added
        summary.duplicates += len(records) - added
    for problem in problems:
        if problem.rejected:
            summary.read += 1
            reject(problem.position, problem.reason, problem.detail, problem.raw)
        else:
            summary.problems.append((problem.position, problem.reason, problem.detail))
    if quarantine:
        store.insert_new("quarantine", arrow_table(QUARANTINE, _columns(QUARANTINE, quarantine)))
    if summary.stored or summary.updated:
        from deskpulse.touched import forget_built

        forget_built(store)  # a help desk's tickets are rebuilt whole, not as new mail touches them
    if rebuild:
        from deskpulse.tickets import rebuild_tickets

        summary.tickets = rebuild_tickets(store, config)
    return summary


def _columns(table: Any, rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {name: [row.get(name) for row in rows] for name in table.column_names}


def _ticket_rows(
    source: str, tickets: Iterable[SourceTicket], now: datetime, summary: SourceSummary, reject: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    for ticket in tickets:
        summary.read += 1
        where = ticket.position or f"ticket {ticket.id}"
        if not ticket.id:
            reject(where, "no_id", "a ticket without an id")
            continue
        if ticket.created_at is None:
            reject(where, "no_created_at", f"ticket {ticket.id} has no creation time")
            continue
        status = canonical_status(ticket.status)
        if ticket.status is not None and status is None:
            reject(
                where,
                "unknown_status",
                f"ticket {ticket.id}: status {ticket.status!r} is not one of {sorted(STATUSES)}",
            )
            continue
        our_id = ticket_id(source, ticket.id)
        if ticket.resolved_at is not None and ticket.resolved_at < ticket.created_at:
            summary.problems.append((where, "resolved_before_created", f"ticket {ticket.id}: kept, times as given"))
        rows.append(
            {
                "ticket_id": our_id,
                "source": source,
                "external_id": ticket.id,
                "subject": ticket.subject,
                "requester": ticket.requester.lower() if ticket.requester else None,
                "mailbox": ticket.mailbox,
                "channel": ticket.channel,
                "created_at": ticket.created_at,
                "updated_at": ticket.updated_at,
                "status": status,
                "source_status": ticket.status,
                "resolved_at": ticket.resolved_at if status == "resolved" else None,
                "priority": ticket.priority.lower() if ticket.priority else None,
                "category": ticket.category,
                "organisation": ticket.organisation,
                "assignee": ticket.assignee.lower() if ticket.assignee else None,
                "group_name": ticket.group,
                "merged_into": ticket_id(source, ticket.merged_into) if ticket.merged_into else None,
                "excluded_reason": ticket.excluded_reason,
                "ingested_at": now,
            }
        )
        tags += [{"ticket_id": our_id, "tag": tag, "source": source} for tag in dict.fromkeys(ticket.tags)]
    return rows, tags


def _message_rows(
    source: str,
    messages: Iterable[SourceMessage],
    tickets: dict[str, dict[str, Any]],
    now: datetime,
    summary: SourceSummary,
    reject: Any,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for message in messages:
        summary.read += 1
        where = message.position or f"message {message.id}"
        if not message.id or not message.ticket:
            reject(where, "no_id", "a message without its own id or its ticket's")
            continue
        if message.created_at is None:
            reject(where, "no_created_at", f"message {message.id} has no time")
            continue
        if message.role not in ROLES:
            reject(where, "unknown_role", f"message {message.id}: role {message.role!r} is not one of {ROLES}")
            continue
        our_ticket = ticket_id(source, message.ticket)
        ticket = tickets.get(our_ticket, {})
        # Help desks that keep the mail often keep its quoted history too: only the new text is the message.
        parts = split_reply(message.body or "")
        author = message.author.lower() if message.author else None
        subject = ticket.get("subject")
        raw = f"{source}|{message.ticket}|{message.id}|{message.created_at.isoformat()}|{message.body}"
        rows.append(
            {
                "message_key": f"{source}:{message.id}",
                "message_id": message.message_id,
                "source": source,
                "source_position": where,
                "content_hash": hashlib.sha1(raw.encode("utf-8")).hexdigest(),
                "received_at": message.created_at,
                "received_from": "source",
                "date_header_at": None,
                "from_address": author,
                "from_name": message.author_name,
                "to_addresses": [],
                "cc_addresses": [],
                "mailbox": ticket.get("mailbox"),
                "customer_address": author if message.role == "customer" else ticket.get("requester"),
                "subject": subject,
                "normalized_subject": _SUBJECT_PREFIX.sub("", subject).casefold().strip() if subject else "",
                "in_reply_to": None,
                "reference_ids": [],
                "author_role": message.role,
                "role_reason": f"{source}_role",
                "is_public": message.is_public,
                "body_text": parts.new_text,
                "quoted_text": parts.quoted_text,
                "signature": parts.signature,
                "has_html": False,
                "attachment_count": message.attachment_count,
                "size_bytes": len((message.body or "").encode("utf-8")),
                "ingested_at": now,
                "source_ticket_id": our_ticket,
            }
        )
    return rows


def _event_rows(
    source: str, events: Iterable[SourceEvent], summary: SourceSummary, reject: Any
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for event in events:
        summary.read += 1
        where = event.position or f"event {event.id}"
        if not event.id or not event.ticket or event.occurred_at is None:
            reject(where, "incomplete_event", f"event {event.id!r} lacks its id, ticket or time")
            continue
        new, old = event.new_value, event.old_value
        if event.kind == "status":
            new, old = canonical_status(new), canonical_status(old)
            if event.new_value is not None and new is None:
                reject(where, "unknown_status", f"event {event.id}: status {event.new_value!r}")
                continue
        rows.append(
            {
                "event_id": f"{source}:{event.id}",
                "ticket_id": ticket_id(source, event.ticket),
                "occurred_at": event.occurred_at,
                "kind": event.kind,
                "actor": event.actor.lower() if event.actor and "@" in event.actor else event.actor,
                "old_value": old,
                "new_value": new,
                "inferred": False,
                "source": source,
            }
        )
    return rows
