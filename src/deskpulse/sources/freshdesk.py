"""Freshdesk (API v1 and v2 JSON, as the API returns it) into the canonical model: tickets with their description
and conversations, agents, time entries (`time_entries`) and satisfaction ratings (`surveys`).

Freshdesk speaks in codes: status 2 open, 3 pending, 4 resolved, 5 closed (6 and up are an account's custom
statuses), priority 1 low … 4 urgent, source 1 email, 2 portal, 3 phone, 7 chat, 9 feedback widget, 10 outbound
email. The API keeps no status history, so a ticket's status is a snapshot resolved at `stats.resolved_at` (or
`closed_at`); docs/connectors.md says how every field maps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from deskpulse.config import Config
from deskpulse.inputs.surveys import SurveyRow
from deskpulse.inputs.time_entries import TimeEntry
from deskpulse.mail.html import html_to_text
from deskpulse.sources.canonical import SourceAgent, SourceMessage, SourceSummary, SourceTicket, canonical_status
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

SOURCE = "freshdesk"
STATUS_WORDS = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}
# Freshdesk's "Medium" is deskpulse's "normal".
PRIORITIES: dict[Any, str] = {1: "low", 2: "normal", 3: "high", 4: "urgent"}
CHANNELS: dict[Any, str] = {1: "email", 2: "web", 3: "phone", 7: "chat", 9: "web", 10: "email"}
OUTBOUND_EMAIL = 10  # a ticket an agent opened by writing to the customer: its description is the agent's
# A satisfaction rating on any of Freshdesk's scales (103 … 100 … -103): happy, neutral or unhappy, stored on the
# 5/3/1 points of the `good-okay-bad` scale so that `csat` (top two boxes) counts the happy ones.
RATING_SCALE = "good-okay-bad"
HAPPY, NEUTRAL, UNHAPPY = 5, 3, 1
# Freshdesk's first_responded_at and ours name the same reply; they may differ by the seconds between the reply
# being written and being sent.
AGREEMENT_SECONDS = 60
# Single-key wrappers of API v1 responses ({"helpdesk_ticket": {...}}, [{"time_entry": {...}}], …).
_WRAPPERS = frozenset({"helpdesk_ticket", "agent", "user", "customer", "company", "contact", "time_entry", "note"})
_GROUP_FIELDS = frozenset({"escalate_to", "unassigned_for", "agent_ids", "auto_ticket_assign", "business_hour_id"})


@dataclass
class FreshdeskRead(HelpdeskRead):
    """A read of Freshdesk files, with Freshdesk's own first response time per ticket where `stats` gave it."""

    first_responded_at: dict[str, datetime] = field(default_factory=dict)


@dataclass
class FirstResponseAgreement:
    """Our first public agent reply against Freshdesk's `stats.first_responded_at`, ticket by ticket."""

    compared: int = 0
    agreeing: int = 0
    only_freshdesk: list[str] = field(default_factory=list)  # Freshdesk saw a response, we saw no reply
    differing: list[tuple[str, datetime, datetime]] = field(default_factory=list)  # (ticket, ours, Freshdesk's)

    def as_dict(self) -> dict[str, object]:
        return {
            "compared": self.compared,
            "agreeing": self.agreeing,
            "only_freshdesk": self.only_freshdesk,
            "differing": [
                {"ticket": t, "ours": ours.isoformat(), "freshdesk": theirs.isoformat()}
                for t, ours, theirs in self.differing
            ],
        }


def import_freshdesk(
    store: Store, config: Config, paths: Sequence[Path], custom_statuses: Mapping[int, str] | None = None
) -> tuple[SourceSummary, FirstResponseAgreement]:
    """Read the Freshdesk files under ``paths``, store them, and compare our first responses with Freshdesk's."""
    read = read_freshdesk(paths, custom_statuses or {})
    summary = store_helpdesk_read(store, config, SOURCE, read)
    return summary, compare_first_responses(store, config, read.first_responded_at)


def read_freshdesk(paths: Sequence[Path], custom_statuses: Mapping[int, str]) -> FreshdeskRead:
    """Every Freshdesk record under ``paths``, translated; ``custom_statuses`` maps custom status codes to words
    of `deskpulse.sources.canonical.STATUSES`."""
    read = FreshdeskRead()
    records = _Records()
    for path in json_files(paths):
        left_out = sum(
            not records.add(position, value, read) for position, value in json_objects(path, ("results",), read)
        )
        if left_out:
            read.note(str(path), "not_read", f"{left_out} object(s) of a kind deskpulse does not read; left out")
    return _translate(records, custom_statuses, read)


def read_freshdesk_objects(objects: Iterable[tuple[str, Any]], custom_statuses: Mapping[int, str]) -> FreshdeskRead:
    """`read_freshdesk` of API objects already in memory, as ``(position, object)`` (`deskpulse fetch freshdesk`)."""
    read = FreshdeskRead()
    records = _Records()
    for position, value in objects:
        if not records.add(position, value, read):
            read.note(position, "not_read", "an object of a kind deskpulse does not read; left out")
    return _translate(records, custom_statuses, read)


def _translate(records: _Records, custom_statuses: Mapping[int, str], read: FreshdeskRead) -> FreshdeskRead:
    people = _People(records)
    for position, raw in records.tickets.entries():
        what = f"ticket {raw.get('display_id') or raw.get('id')}"
        ticket = guarded(read, position, what, _ticket, raw, position, people, custom_statuses, read)
        if ticket is not None:
            read.tickets.append(ticket[0])
            read.messages.append(ticket[1])
            if ticket[2] is not None:
                read.first_responded_at[ticket[0].id] = ticket[2]
    for position, raw in records.conversations.entries():
        message = guarded(read, position, f"conversation {raw.get('id')}", _conversation, raw, position, people)
        if message is not None:
            read.messages.append(message)
    for position, raw in records.time_entries.entries():
        entry = guarded(read, position, f"time entry {raw.get('id')}", _time_entry, raw, people)
        if entry is not None:
            read.time_entries.append(entry)
    for position, raw in records.ratings.entries():
        rating = guarded(read, position, f"satisfaction rating {raw.get('id')}", _rating, raw, people)
        if rating is not None:
            read.surveys.append(rating)
    read.agents = people.agents()
    for kind in (records.tickets, records.conversations, records.time_entries, records.ratings):
        read.problems += kind.conflicts()
    note_messages_before_tickets(read)
    return read


class _Records:
    """The raw records of one read, by kind, one copy per id (`Newest`)."""

    def __init__(self) -> None:
        self.tickets: Newest[dict[str, Any]] = Newest("ticket")
        self.conversations: Newest[dict[str, Any]] = Newest("conversation")
        self.time_entries: Newest[dict[str, Any]] = Newest("time entry")
        self.ratings: Newest[dict[str, Any]] = Newest("satisfaction rating")
        self.agents: Newest[dict[str, Any]] = Newest("agent")
        self.contacts: Newest[dict[str, Any]] = Newest("contact")
        self.companies: Newest[dict[str, Any]] = Newest("company")
        self.groups: Newest[dict[str, Any]] = Newest("group")

    def add(self, position: str, value: Any, read: HelpdeskRead) -> bool:
        """Keep a record (and a ticket's embedded conversations); False when it is of no kind deskpulse reads."""
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _WRAPPERS:
            value = next(iter(value.values()))
        kind = _kind(value)
        if kind is None:
            return False
        if kind == "tickets":
            ticket = value.get("display_id") or value.get("id")  # v1 numbers tickets by display_id, as v2 does by id
            for index, note in enumerate(value.get("notes") or value.get("conversations") or []):
                note = note.get("note", note) if isinstance(note, dict) else note
                if isinstance(note, dict):
                    self.add(f"{position} conversation {index}", {"ticket_id": ticket, **note}, read)
            value = {k: v for k, v in value.items() if k not in ("notes", "conversations")}
            key = ticket
        elif kind == "agents":
            key = _user_of_agent(value)
        else:
            key = value.get("id")
        records: Newest[dict[str, Any]] = getattr(self, kind)
        if key is None or key == "":
            read.reject(position, "no_id", f"a Freshdesk {records.kind} without an id")
            return True
        records.add(str(key), loose_utc(value.get("updated_at")), position, value)
        return True


def _kind(value: Any) -> str | None:
    """What a Freshdesk object is (the `_Records` list it goes to), from its fields: API responses do not name
    their type."""
    if not isinstance(value, dict):
        return None
    if "ratings" in value and "ticket_id" in value:
        return "ratings"
    if "time_spent" in value or "timespent" in value:
        return "time_entries"
    if "ticket_id" in value and "incoming" in value:
        return "conversations"
    if "display_id" in value or ("subject" in value and "requester_id" in value):
        return "tickets"
    if isinstance(value.get("contact"), dict) or isinstance(value.get("user"), dict):
        return "agents"
    if "email" in value and "helpdesk_agent" in value:
        return "contacts"
    if "domains" in value and "name" in value:
        return "companies"
    if "name" in value and _GROUP_FIELDS & value.keys():
        return "groups"
    return None


def _user_of_agent(agent: dict[str, Any]) -> Any:
    """The user id conversations name an agent by: v1 nests the user (``agent.user.id``); in v2 the agent's own
    id is its user id."""
    if isinstance(agent.get("user"), dict):
        return agent["user"].get("id", agent.get("user_id"))
    return agent.get("id")


class _People:
    """Who the ids of a read are: agents and contacts by user id, companies and groups by id."""

    def __init__(self, records: _Records) -> None:
        self._records = records
        self._contacts: dict[str, str] = {}
        self._agents: dict[str, tuple[str, str | None]] = {}  # user id → (address, name)
        for _, entry in records.time_entries.entries():  # v1 time entries name their agent's address
            if entry.get("user_id") is not None and entry.get("agent_email"):
                self._agents[str(entry["user_id"])] = (str(entry["agent_email"]), entry.get("agent_name"))
        for _, contact in records.contacts.entries():
            if not contact.get("email"):
                continue
            self._contacts[str(contact["id"])] = str(contact["email"])
            if contact.get("helpdesk_agent") or isinstance(contact.get("agent"), dict):
                self._agents[str(contact["id"])] = (str(contact["email"]), contact.get("name"))
        for _, agent in records.agents.entries():
            person = agent.get("user") or agent.get("contact") or {}
            if person.get("email"):
                self._agents[str(_user_of_agent(agent))] = (str(person["email"]), person.get("name"))

    def address(self, user: Any) -> str | None:
        """The user's e-mail address, when the read names it (an agent's over a contact's)."""
        if user is None:
            return None
        agent = self._agents.get(str(user))
        return agent[0] if agent else self._contacts.get(str(user))

    def who(self, user: Any) -> str | None:
        """The user's address, else `freshdesk-user-<id>`: the contract's "address when known, else the id"."""
        if user is None:
            return None
        return self.address(user) or f"freshdesk-user-{user}"

    def company(self, company: Any) -> str | None:
        if company is None:
            return None
        found = self._records.companies.get(str(company))
        return str(found["name"]) if found else f"freshdesk-company-{company}"

    def group(self, group: Any) -> str | None:
        if group is None:
            return None
        found = self._records.groups.get(str(group))
        return str(found["name"]) if found else f"freshdesk-group-{group}"

    def agents(self) -> list[SourceAgent]:
        return [SourceAgent(address, name) for address, name in dict(self._agents.values()).items()]


def _ticket(
    raw: dict[str, Any], position: str, people: _People, custom_statuses: Mapping[int, str], read: HelpdeskRead
) -> tuple[SourceTicket, SourceMessage, datetime | None]:
    """The ticket, its description as its first message (the requester's, or the agent's on an outbound email),
    and Freshdesk's `stats.first_responded_at`."""
    ticket = str(raw.get("display_id") or raw["id"])
    created = utc(raw.get("created_at"), "created_at")
    updated = utc(raw.get("updated_at"), "updated_at")
    stats = raw.get("stats") or {}
    status = _status(ticket, raw, custom_statuses, position, read)
    resolved_at = None
    if canonical_status(status) == "resolved":
        resolved_at = (
            utc(stats.get("resolved_at"), "stats.resolved_at")
            or utc(stats.get("closed_at"), "stats.closed_at")
            or utc(stats.get("status_updated_at"), "stats.status_updated_at")
        )
        if resolved_at is None:
            # A ticket list without include=stats: the last update is when it was resolved, or after.
            resolved_at = updated
            read.note(position, "resolved_at_from_updated_at",
                      f"ticket {ticket} is resolved but has no stats: resolved at its updated_at")  # fmt: skip
    requester = (raw.get("requester") or {}).get("email") or people.who(raw.get("requester_id"))
    responder = people.who(raw.get("responder_id"))
    outbound = raw.get("source") == OUTBOUND_EMAIL
    source_ticket = SourceTicket(
        ticket,
        created,
        subject=raw.get("subject"),
        requester=requester,
        mailbox=(raw.get("to_emails") or [None])[0],
        channel=_channel(raw),
        updated_at=updated,
        status=status,
        resolved_at=resolved_at,
        priority=PRIORITIES.get(raw.get("priority")) or _lower(raw.get("priority_name")),
        category=raw.get("type") or raw.get("ticket_type"),
        organisation=(raw.get("company") or {}).get("name") or people.company(raw.get("company_id")),
        assignee=responder,
        group=people.group(raw.get("group_id")),
        excluded_reason="spam" if raw.get("spam") else "deleted" if raw.get("deleted") else None,
        tags=[str(tag) for tag in raw.get("tags") or []],
        position=position,
    )
    description = SourceMessage(
        f"{ticket}-description",
        ticket,
        created,
        responder if outbound else requester,
        "agent" if outbound else "customer",
        _text(raw, "description_text", "description", "description_html"),
        attachment_count=len(raw.get("attachments") or []),
        position=f"{position} description",
    )
    return source_ticket, description, utc(stats.get("first_responded_at"), "stats.first_responded_at")


def _channel(raw: dict[str, Any]) -> str | None:
    """The channel of a ticket's source code; v1's source name for a code deskpulse does not know."""
    source = raw.get("source")
    if source is None:
        return None
    known = CHANNELS.get(source) if isinstance(source, int) else None
    return known or _lower(raw.get("source_name")) or f"freshdesk-source-{source}"


def _status(
    ticket: str, raw: dict[str, Any], custom_statuses: Mapping[int, str], position: str, read: HelpdeskRead
) -> str | None:
    """The status in words `STATUSES` knows: the user's word for a custom code, Freshdesk's four, or the status
    name v1 sends along. An unknown custom status keeps the ticket without one (counted as open: a custom status
    is never a resolution in Freshdesk) and says how to map it."""
    code, name = raw.get("status"), raw.get("status_name")
    if code is None:
        return None
    if code in custom_statuses:
        return custom_statuses[code]
    if code in STATUS_WORDS:
        return STATUS_WORDS[code]
    if isinstance(name, str) and canonical_status(name):
        return name
    read.note(
        position,
        "unknown_status",
        f"ticket {ticket}: status {code}{f' ({name})' if name else ''} is a custom status; kept without a status "
        f"(counted as open): map it with --status {code}=WORD, WORD one of open, pending, on-hold, resolved",
    )
    return None


def _conversation(raw: dict[str, Any], position: str, people: _People) -> SourceMessage:
    """A reply or note: incoming ones are the customer's, outgoing ones an agent's; private notes are internal."""
    if raw.get("deleted"):
        raise BadRecord("deleted", "deleted in Freshdesk; left out")
    incoming = bool(raw.get("incoming"))
    sender = parseaddr(raw.get("from_email") or "")[1] or None
    user = raw.get("user_id")
    # An agent's outgoing mail comes from the support address: the agent is who the user id names.
    author = (sender or people.who(user)) if incoming else (people.address(user) or sender or people.who(user))
    return SourceMessage(
        str(raw["id"]),
        str(raw["ticket_id"]),
        utc(raw.get("created_at"), "created_at"),
        author,
        "customer" if incoming else "agent",
        _text(raw, "body_text", "body", "body_html"),
        is_public=not raw.get("private"),
        attachment_count=len(raw.get("attachments") or []),
        position=position,
    )


def _time_entry(raw: dict[str, Any], people: _People) -> TimeEntry:
    """Tracked work: v2's ``time_spent`` is "hh:mm", v1's ``timespent`` decimal hours. It started at its
    ``start_time`` (``executed_at`` is the agent's chosen day, as local midnight)."""
    if raw.get("timer_running"):
        raise BadRecord("timer_running", "its timer is still running; import it again once it is stopped")
    if raw.get("ticket_id") is None:
        raise BadRecord("no_ticket", "names no ticket")
    started = (
        utc(raw.get("start_time"), "start_time")
        or utc(raw.get("executed_at"), "executed_at")
        or utc(raw.get("created_at"), "created_at")
    )
    if started is None:
        raise BadRecord("no_time", "has no start_time, executed_at or created_at")
    agent = raw.get("agent_email") or people.who(raw.get("agent_id", raw.get("user_id")))
    if not agent:
        raise BadRecord("no_agent", "names no agent")
    billable = raw.get("billable")
    return TimeEntry(
        f"{SOURCE}:{raw['id']}",
        f"{SOURCE}-{raw['ticket_id']}",
        None,
        str(agent).lower(),
        started,
        _seconds(raw),
        billable if isinstance(billable, bool) else None,
        SOURCE,
    )


def _seconds(raw: dict[str, Any]) -> int:
    if "time_spent" in raw:
        hours, _, minutes = str(raw["time_spent"]).partition(":")
        if not (hours.isdigit() and minutes.isdigit()):
            raise BadRecord("bad_duration", f"time_spent {raw['time_spent']!r} is not hh:mm")
        return int(hours) * 3600 + int(minutes) * 60
    try:
        hours_spent = float(raw["timespent"])
    except (TypeError, ValueError):
        raise BadRecord("bad_duration", f"timespent {raw['timespent']!r} is not a number of hours") from None
    if not 0 <= hours_spent < 1e6:
        raise BadRecord("bad_duration", f"timespent {raw['timespent']!r} is not a number of hours")
    return round(hours_spent * 3600)


def _rating(raw: dict[str, Any], people: _People) -> SurveyRow:
    """A satisfaction rating's answer to the default question, happy/neutral/unhappy on `good-okay-bad`."""
    answered = utc(raw.get("created_at"), "created_at")
    if answered is None:
        raise BadRecord("no_time", "has no created_at")
    value = (raw.get("ratings") or {}).get("default_question")
    if not isinstance(value, int) or not (101 <= value <= 103 or value == 100 or -103 <= value <= -101):
        raise BadRecord("unknown_rating", f"default_question rating {value!r} is not one of 103 … 100 … -103")
    score = HAPPY if value > 100 else NEUTRAL if value == 100 else UNHAPPY
    agent = people.who(raw.get("agent_id"))
    return SurveyRow(
        f"{SOURCE}:{raw['id']}@{iso(answered)}",
        f"{SOURCE}-{raw['ticket_id']}",
        None,
        "csat",
        RATING_SCALE,
        agent.lower() if agent else None,
        None,  # Freshdesk does not say when the survey went out
        True,
        answered,
        score,
        raw.get("feedback") or None,
        SOURCE,
    )


def _text(raw: dict[str, Any], text_field: str, field_: str, html_field: str) -> str:
    """The plain text of a body: v2 sends ``*_text`` beside HTML, v1 plain text beside ``*_html``."""
    if raw.get(text_field) is not None:
        return str(raw[text_field])
    if html_field in raw:
        return str(raw.get(field_) or "")
    return html_to_text(str(raw.get(field_) or ""))


def _lower(value: Any) -> str | None:
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


def compare_first_responses(store: Store, config: Config, freshdesk: Mapping[str, datetime]) -> FirstResponseAgreement:
    """Our first public agent reply of each ticket against Freshdesk's first_responded_at: they agree within
    `AGREEMENT_SECONDS`. (Resolution times cannot disagree: with no status history, ours is Freshdesk's.)"""
    from deskpulse.metrics.facts import build_calendar, ticket_facts

    agreement = FirstResponseAgreement()
    if not freshdesk:
        return agreement
    facts = ticket_facts(store, build_calendar(store, config))
    facts = facts.filter(facts.ticket_id.isin([f"{SOURCE}-{ticket}" for ticket in freshdesk]))
    ours = {row["ticket_id"]: row["first_reply_at"] for row in store.arrow(facts).to_pylist()}
    for ticket, theirs in sorted(freshdesk.items()):
        agreement.compared += 1
        mine = ours.get(f"{SOURCE}-{ticket}")
        if mine is None:
            agreement.only_freshdesk.append(ticket)
        elif abs((mine - theirs).total_seconds()) <= AGREEMENT_SECONDS:
            agreement.agreeing += 1
        else:
            agreement.differing.append((ticket, mine, theirs))
    return agreement
