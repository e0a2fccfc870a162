"""Help Scout (Mailbox API v1 JSON, as the API returns it) into the canonical model: conversations with their
threads, the status and assignment history the threads carry, users, and satisfaction ratings (`surveys`).

A conversation's threads are its messages (customer, message, note, chat, phone, forward) and its system events
(line items); every thread also records the conversation's status and assignee once it was written, which is the
status history. docs/connectors.md says how every field maps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from deskpulse.config import Config
from deskpulse.inputs.surveys import SurveyRow
from deskpulse.mail.html import html_to_text
from deskpulse.sources.canonical import SourceAgent, SourceEvent, SourceMessage, SourceSummary, SourceTicket
from deskpulse.sources.helpdesk_files import (
    BadRecord,
    HelpdeskRead,
    Newest,
    guarded,
    iso,
    json_files,
    json_objects,
    loose_utc,
    note_messages_before_tickets,
    store_helpdesk_read,
    utc,
)
from deskpulse.store import Store

SOURCE = "helpscout"
STATUSES = ("active", "pending", "closed")  # Help Scout's words, all known to the contract; "spam" is none
# Thread type → (role, public). Chat and phone threads are written by whoever `createdBy` names.
THREAD_ROLES = {
    "customer": ("customer", True),
    "message": ("agent", True),
    "note": ("agent", False),
    "forwardparent": ("agent", False),  # the agent forwarded the conversation to a third party
    "forwardchild": ("agent", True),  # the first thread of the conversation that forward started
    "chat": (None, True),
    "phone": (None, True),
}
UNSENT_STATES = ("draft", "underreview")  # not sent (yet): no message to anyone
# Help Scout's three ratings as stored on the `good-okay-bad` scale (5/3/1), so that `csat` counts "Great".
RATING_SCALE = "good-okay-bad"
RATING_SCORES: dict[Any, int] = {1: 5, 2: 3, 3: 1, "great": 5, "okay": 3, "ok": 3, "not good": 1, "bad": 1}


@dataclass
class _Records:
    """The raw records of one read, by kind, one copy per id (`Newest`)."""

    conversations: Newest[dict[str, Any]] = field(default_factory=lambda: Newest("conversation"))
    ratings: Newest[dict[str, Any]] = field(default_factory=lambda: Newest("rating"))
    users: Newest[dict[str, Any]] = field(default_factory=lambda: Newest("user"))
    customers: Newest[dict[str, Any]] = field(default_factory=lambda: Newest("customer"))
    mailboxes: Newest[dict[str, Any]] = field(default_factory=lambda: Newest("mailbox"))

    def add(self, position: str, value: Any, read: HelpdeskRead) -> bool:
        """Keep a record; False when it is of no kind deskpulse reads (teams, webhooks of other kinds, …)."""
        if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("item"), dict):
            value = value["item"]  # a single object's response: {"item": {...}}
        kind = _kind(value)
        if kind is None:
            return False
        if kind == "ratings":
            # A rating rates one thread: known by conversation and thread, as the report and the webhook both say.
            key = f"{value.get('id') if 'ratingId' in value else value.get('ticketId')}:"
            key += str(value.get("threadid") or value.get("threadId"))
            updated = loose_utc(value.get("modifiedAt") or value.get("ratingCreatedAt") or value.get("createdAt"))
        else:
            key = str(value.get("id", ""))
            updated = loose_utc(value.get("modifiedAt"))
        records: Newest[dict[str, Any]] = getattr(self, kind)
        if not key or key == "None":
            read.reject(position, "no_id", f"a Help Scout {records.kind} without an id")
            return True
        records.add(key, updated, position, value)
        return True


def _kind(value: Any) -> str | None:
    """What a Help Scout object is (the `_Records` list it goes to), from its fields: API responses do not name
    their type."""
    if not isinstance(value, dict):
        return None
    if "threads" in value or ("mailbox" in value and "customer" in value and "status" in value):
        return "conversations"
    if "ratingId" in value or ("rating" in value and ("ticketId" in value or "threadId" in value)):
        return "ratings"
    if value.get("type") == "user":
        return "users"
    if "slug" in value and "folders" in value:
        return "mailboxes"
    if "emails" in value and "firstName" in value and value.get("type") in (None, "customer"):
        return "customers"
    return None


def import_helpscout(store: Store, config: Config, paths: Sequence[Path]) -> SourceSummary:
    """Read the Help Scout files under ``paths`` and store them."""
    return store_helpdesk_read(store, config, SOURCE, read_helpscout(paths))


def read_helpscout(paths: Sequence[Path]) -> HelpdeskRead:
    """Every Help Scout record under ``paths``, translated."""
    read = HelpdeskRead()
    records = _Records()
    for path in json_files(paths):
        left_out = sum(
            not records.add(position, value, read) for position, value in json_objects(path, ("items", "results"), read)
        )
        if left_out:
            read.note(str(path), "not_read", f"{left_out} object(s) of a kind deskpulse does not read; left out")
    return _translate(records, read)


def read_helpscout_objects(objects: Iterable[tuple[str, Any]]) -> HelpdeskRead:
    """`read_helpscout` of API v1-shaped objects already in memory, as ``(position, object)``
    (`deskpulse fetch helpscout`, after `deskpulse.sources.helpscout_api` turned API 2.0 objects into them)."""
    read = HelpdeskRead()
    records = _Records()
    for position, value in objects:
        if not records.add(position, value, read):
            read.note(position, "not_read", "an object of a kind deskpulse does not read; left out")
    return _translate(records, read)


def _translate(records: _Records, read: HelpdeskRead) -> HelpdeskRead:
    people = _People(records)
    merged_into: dict[str, str] = {}
    thread_owners: dict[str, str] = {}  # thread id → its conversation: a thread belongs to one conversation
    for position, raw in records.conversations.entries():
        what = f"conversation {raw.get('id')}"
        conversation = guarded(read, position, what, _conversation, raw, position, people, thread_owners, read)
        if conversation is not None:
            ticket, merges = conversation
            read.tickets.append(ticket)
            merged_into.update(merges)
    for ticket in read.tickets:
        ticket.merged_into = merged_into.get(ticket.id)
    authors = {m.id: m.author for m in read.messages if m.role == "agent"}
    for position, raw in records.ratings.entries():
        rating = guarded(read, position, "rating", _rating, raw, people, authors)
        if rating is not None:
            read.surveys.append(rating)
    read.agents = people.agents()
    read.problems += records.conversations.conflicts() + records.ratings.conflicts()
    note_messages_before_tickets(read)
    return read


class _People:
    """Who the ids of a read are: users (agents) and customers by id, mailboxes by id."""

    def __init__(self, records: _Records) -> None:
        self._records = records

    def who(self, person: Any) -> str | None:
        """A person's address: the one the record carries, else the read's user or customer of that id, else
        `helpscout-user-<id>` / `helpscout-customer-<id>` (the contract's "address when known, else the id")."""
        if not isinstance(person, dict):
            return None
        address = person.get("email") or _first_email(person.get("emails"))
        kind = "customer" if person.get("type") == "customer" else "user"
        if not address and person.get("id") is not None:
            listed = (self._records.customers if kind == "customer" else self._records.users).get(str(person["id"]))
            address = (listed or {}).get("email") or _first_email((listed or {}).get("emails"))
        if address:
            return str(address)
        return f"{SOURCE}-{kind}-{person['id']}" if person.get("id") is not None else None

    def user(self, user: Any) -> str | None:
        return self.who({"id": user, "type": "user"}) if user is not None else None

    def mailbox(self, mailbox: Any) -> str | None:
        if not isinstance(mailbox, dict):
            return None
        listed = self._records.mailboxes.get(str(mailbox.get("id"))) or {}
        return mailbox.get("name") or listed.get("name")

    def agents(self) -> list[SourceAgent]:
        return [
            SourceAgent(str(user["email"]), user.get("fullName") or _full_name(user))
            for _, user in self._records.users.entries()
            if user.get("email")
        ]


def _first_email(emails: Any) -> str | None:
    """The first of a person's addresses: plain strings in a conversation, ``{"value": …}`` in a customer."""
    for email in emails or []:
        address = email.get("value") if isinstance(email, dict) else email
        if address:
            return str(address)
    return None


def _person(value: Any) -> dict[str, Any]:
    """A person field (owner, createdBy, …) as a dict; empty when the API sent none."""
    return value if isinstance(value, dict) else {}


def _full_name(person: dict[str, Any]) -> str | None:
    name = " ".join(str(part) for part in (person.get("firstName"), person.get("lastName")) if part)
    return name or None


def _conversation(
    raw: dict[str, Any], position: str, people: _People, thread_owners: dict[str, str], read: HelpdeskRead
) -> tuple[SourceTicket, dict[str, str]]:
    """The conversation as a ticket; its threads become messages and status/assignment events in ``read``.
    Returns the ticket and the merges its line items record (merged conversation id → this one)."""
    ticket = str(raw["id"])
    # The conversation's own fields first: a malformed conversation is rejected before its threads are read.
    created = utc(raw.get("createdAt"), "createdAt")
    updated = utc(raw.get("modifiedAt"), "modifiedAt")
    closed = utc(raw.get("closedAt"), "closedAt")
    status = raw.get("status")
    excluded = "draft" if raw.get("isDraft") else "spam" if status == "spam" else None
    if status not in STATUSES:
        if status not in (None, "spam"):
            read.note(position, "unknown_status", f"conversation {ticket}: status {status!r}; kept without one")
        status = None
    owner = _person(raw.get("owner"))
    history = _threads(ticket, raw.get("threads") or [], position, people, thread_owners, read)
    if history.deleted:
        excluded = excluded or "deleted"
    if status and history.status and status != history.status:
        # The threads do not end in the conversation's status (a change without a thread): its snapshot wins.
        at = (closed if status == "closed" else None) or updated
        read.events.append(SourceEvent(f"{ticket}-status-{status}", ticket, at, "status", status, history.status))
    source_ticket = SourceTicket(
        ticket,
        created,
        subject=raw.get("subject"),
        requester=people.who({**(raw.get("customer") or {}), "type": "customer"}) if raw.get("customer") else None,
        mailbox=people.mailbox(raw.get("mailbox")),
        channel=raw.get("type"),
        updated_at=updated,
        status=status,
        resolved_at=closed if status == "closed" else None,
        assignee=people.who(owner) if owner.get("type") == "user" else None,
        group=_full_name(owner) if owner.get("type") == "team" else None,
        excluded_reason=excluded,
        tags=[str(tag) for tag in raw.get("tags") or []],
        position=position,
    )
    return source_ticket, history.merged


@dataclass
class _History:
    status: str | None = None  # the status the threads end in
    deleted: bool = False
    merged: dict[str, str] = field(default_factory=dict)


def _threads(
    ticket: str,
    threads: list[Any],
    position: str,
    people: _People,
    thread_owners: dict[str, str],
    read: HelpdeskRead,
) -> _History:
    """Messages and events from a conversation's threads, oldest first (the API lists them newest first).

    A thread's ``status`` is the conversation's after it (``nochange`` when it did not change it) and its
    ``assignedTo`` the assignee after it: each change is an event. Unassigning is not an assignment."""
    history = _History()
    assignee: str | None = None
    dated = []
    for index, thread in enumerate(threads):
        where = f"{position} thread {index}"
        if not isinstance(thread, dict) or thread.get("id") is None:
            read.reject(where, "no_id", f"conversation {ticket}: a thread without an id")
            continue
        at = guarded(read, where, f"thread {thread['id']}", utc, thread.get("createdAt"), "createdAt")
        if at is None:
            if thread.get("createdAt") is None:
                read.reject(where, "no_created_at", f"thread {thread['id']} has no createdAt")
            continue
        dated.append((at, str(thread["id"]), where, thread))
    for at, thread_id, where, thread in sorted(dated, key=lambda item: item[:2]):
        owner = thread_owners.setdefault(thread_id, ticket)
        if owner != ticket:
            detail = f"thread {thread_id} is already in conversation {owner}; not stored again under {ticket}"
            read.reject(where, "thread_in_two_conversations", detail)
            continue
        actor = people.who(thread.get("createdBy"))
        status = thread.get("status")
        if status in STATUSES and status != history.status:
            event = SourceEvent(f"{thread_id}-status", ticket, at, "status", status, history.status, actor, where)
            read.events.append(event)
            history.status = status
        assigned = thread.get("assignedTo") if isinstance(thread.get("assignedTo"), dict) else None
        if assigned is not None:
            is_team = assigned.get("type") == "team"
            kind, value = ("group", _full_name(assigned)) if is_team else ("assignee", people.who(assigned))
            if value and value != assignee:
                read.events.append(SourceEvent(f"{thread_id}-{kind}", ticket, at, kind, value, assignee, actor, where))
                assignee = value if kind == "assignee" else assignee
        if thread.get("type") == "lineitem":
            action = thread.get("actionType")
            if action == "merged" and thread.get("actionSourceId") is not None:
                history.merged[str(thread["actionSourceId"])] = ticket
            elif action in ("deletedTicket", "restoreTicket"):
                history.deleted = action == "deletedTicket"
            continue
        message = guarded(read, where, f"thread {thread_id}", _message, ticket, thread_id, at, thread, where, people)
        if message is not None:
            read.messages.append(message)
    return history


def _message(
    ticket: str, thread_id: str, at: datetime, thread: dict[str, Any], where: str, people: _People
) -> SourceMessage:
    """A thread that is a message: its role by its type (chat and phone by who wrote it), notes and forwards to
    third parties internal, threads hidden from the customer's e-mails internal."""
    kind = thread.get("type")
    if kind not in THREAD_ROLES:
        raise BadRecord("unknown_thread_type", f"type {kind!r} is not one of lineitem, {', '.join(THREAD_ROLES)}")
    state = thread.get("state") or "published"
    if state in UNSENT_STATES:
        raise BadRecord("unsent", f"state {state!r}: never sent; import it again once it is")
    role, public = THREAD_ROLES[kind]
    creator = _person(thread.get("createdBy"))
    if role is None:
        role = "customer" if creator.get("type") == "customer" else "agent"
    author = people.who(creator)
    if kind == "customer" and creator.get("type") != "customer":
        # An agent wrote it down for the customer (a phoned-in request): the words are the customer's.
        author = people.who({**(thread.get("customer") or {}), "type": "customer"}) or author
    return SourceMessage(
        thread_id,
        ticket,
        at,
        author,
        role,
        html_to_text(str(thread.get("body") or "")),
        is_public=public and state != "hidden",
        author_name=_full_name(creator),
        attachment_count=len(thread.get("attachments") or []),
        position=where,
    )


def _rating(raw: dict[str, Any], people: _People, thread_authors: dict[str, str | None]) -> SurveyRow:
    """A Great / Okay / Not Good rating (the reports' ``ratingId`` 1/2/3 or the webhook's word) on
    `good-okay-bad`, credited to the author of the rated thread (else the user the report names)."""
    report = "ratingId" in raw
    conversation = raw.get("id") if report else raw.get("ticketId")
    thread = raw.get("threadid") if report else raw.get("threadId")
    if conversation is None:
        raise BadRecord("no_ticket", "names no conversation")
    value = raw.get("ratingId") if report else str(raw.get("rating") or "").strip().lower()
    if value not in RATING_SCORES:
        raise BadRecord("unknown_rating", f"rating {value!r} is not Great, Okay or Not Good (1, 2, 3)")
    answered = utc(raw.get("ratingCreatedAt"), "ratingCreatedAt") if report else None
    answered = answered or utc(raw.get("modifiedAt"), "modifiedAt") or utc(raw.get("createdAt"), "createdAt")
    if answered is None:
        raise BadRecord("no_time", "has no time")
    agent = thread_authors.get(str(thread)) or (people.user(raw.get("ratingUserId")) if report else None)
    return SurveyRow(
        f"{SOURCE}:{conversation}:{thread}@{iso(answered)}",
        f"{SOURCE}-{conversation}",
        None,
        "csat",
        RATING_SCALE,
        agent.lower() if agent else None,
        None,  # Help Scout does not say when it asked
        True,
        answered,
        RATING_SCORES[value],
        (raw.get("ratingComments") if report else raw.get("comments")) or None,
        SOURCE,
    )
