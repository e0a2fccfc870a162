"""The Zendesk connector: Zendesk's tickets, audits (or ticket events, or comments), users, groups, organizations
and satisfaction ratings, translated into the canonical model (`deskpulse.sources.canonical`).

`deskpulse.sources.zendesk_files` unwraps whatever files hold them; `deskpulse.sources.zendesk_api` fetches them
live. Both hand `ZendeskObjects` to `store_zendesk`, which maps and stores them; docs/connectors.md ("Zendesk")
says how each field maps and why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deskpulse.columns import rows_table
from deskpulse.config import Config
from deskpulse.inputs.surveys import BINARY_SCALE, BINARY_SCORES, SCALES, SurveyRow
from deskpulse.schema import SOURCE_USERS
from deskpulse.sources.canonical import (
    Problem,
    SourceAgent,
    SourceEvent,
    SourceMessage,
    SourceSummary,
    SourceTicket,
    canonical_status,
    ticket_id,
)
from deskpulse.sources.helpdesk_files import HelpdeskRead, store_helpdesk_read
from deskpulse.sources.zendesk_files import ZendeskObjects, field_of, object_id, read_zendesk
from deskpulse.store import Store

SOURCE = "zendesk"
# A comment made by a trigger or an automation (`via.channel` "rule"), or by Zendesk itself, is no person's.
AUTOMATION_CHANNELS = frozenset({"rule", "automation", "trigger", "system"})
AUTOMATION_RELS = frozenset({"trigger", "automation"})
SYSTEM_USER = "-1"  # the author Zendesk names for its own changes and notes
# Zendesk's user kinds in deskpulse's words.
ROLES = {"end-user": "customer", "agent": "agent", "admin": "agent"}
# The audit fields that become ticket events, by the event kind they become.
EVENT_FIELDS = {"status": "status", "assignee_id": "assignee", "group_id": "group", "priority": "priority"}
DELETED = "deleted"  # a status word of Zendesk's that is no status: the ticket went to the bin
MERGED_TAG = "closed_by_merge"
# The notes Zendesk writes on both sides of a merge.
_MERGED_INTO = re.compile(r"closed and merged into (?:request|ticket) #(\d+)", re.IGNORECASE)
_MERGED_FROM = re.compile(r"(?:request|ticket) #(\d+)\b.{0,300}? was closed and merged into this", re.IGNORECASE | re.S)


@dataclass(frozen=True)
class ZendeskUser:
    address: str | None
    name: str | None
    role: str | None  # customer or agent
    active: bool = True


@dataclass
class Directory:
    """The people, groups and organisations that Zendesk's ids name."""

    users: dict[str, ZendeskUser] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    organizations: dict[str, str] = field(default_factory=dict)

    def person(self, user_id: Any) -> str | None:
        """A user's address when known, else `zendesk-user-<id>` (the contract's convention, so that two help
        desks' user ids never meet)."""
        if user_id in (None, ""):
            return None
        key = object_id(user_id)
        if key == SYSTEM_USER:
            return "zendesk"
        user = self.users.get(key)
        return user.address if user is not None and user.address else f"zendesk-user-{key}"

    def group(self, group_id: Any) -> str | None:
        return None if group_id in (None, "") else self.groups.get(object_id(group_id), object_id(group_id))


def import_zendesk(store: Store, config: Config, paths: Iterable[Path]) -> SourceSummary:
    """`deskpulse import zendesk PATH…`: read the files and store them (see `import_objects`)."""
    return import_objects(store, config, read_zendesk(paths))


def import_objects(store: Store, config: Config, objects: ZendeskObjects) -> SourceSummary:
    """Store a read of files (`store_zendesk`), and say what became of the ticket_metrics in it: they are not
    stored; their solve times are used, and `--compare-metrics` compares them."""
    summary = store_zendesk(store, config, objects)
    if objects.ticket_metrics:
        count = len(objects.ticket_metrics)
        summary.read += count
        detail = f"{count:,} records: used for solve times, not stored; compare them with --compare-metrics"
        summary.problems.append(("ticket_metrics", "not_stored", detail))
    return summary


def store_zendesk(
    store: Store, config: Config, objects: ZendeskObjects, *, rebuild: bool = True, known: Directory | None = None
) -> SourceSummary:
    """Store one read of Zendesk: its users (kept in `source_users`, so later reads that name only an id find
    them), the tickets, comments, changes and agents through the connector contract, the satisfaction ratings
    as surveys, and every object that could not be used in `quarantine`. Storing the same read again changes
    nothing. ``known``: groups and organisations read before (a fetch's earlier pages)."""
    new_users, changed_users = store.upsert("source_users", rows_table(SOURCE_USERS, _user_rows(objects)), ignore=())
    directory = load_directory(store, objects, known)
    records = translate(objects, directory, stored_merge_notes(store, objects))
    summary = store_helpdesk_read(store, config, SOURCE, records, rebuild=rebuild)
    summary.read += len(objects.users)
    summary.stored += new_users
    summary.updated += changed_users
    summary.duplicates += len(objects.users) - new_users - changed_users
    summary.problems += [
        (name, "not_used", f"{count:,} records deskpulse does not read") for name, count in objects.unused.items()
    ]
    return summary


def load_directory(store: Store, objects: ZendeskObjects, known: Directory | None = None) -> Directory:
    """Users as stored (this read's were stored first); groups and organisations as known, then as read."""
    users = {
        user_id: ZendeskUser(address, name, role, bool(active))
        for user_id, address, name, role, active in store.execute(
            "SELECT user_id, address, name, role, active FROM source_users WHERE source = ?", [SOURCE]
        )
    }
    known = known or Directory()
    return Directory(
        users=users,
        groups={**known.groups, **names(objects.groups)},
        organizations={**known.organizations, **names(objects.organizations)},
    )


def names(collection: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Groups' or organisations' names by id."""
    return {key: str(item.get("name") or key) for key, item in collection.items()}


def stored_merge_notes(store: Store, objects: ZendeskObjects) -> dict[str, str]:
    """The stored comments of this read's tickets tagged `closed_by_merge`: the note naming the ticket that
    absorbed one may have come in an earlier read (a fetch stores ticket events before the tickets)."""
    merged = [key for key, ticket in objects.tickets.items() if MERGED_TAG in _tags(objects, key, ticket)]
    if not merged:
        return {}
    placeholders = ", ".join("?" for _ in merged)
    rows = store.execute(
        f"SELECT source_ticket_id, body_text FROM messages WHERE source = ? AND source_ticket_id IN ({placeholders})",
        [SOURCE, *(ticket_id(SOURCE, key) for key in merged)],
    )
    notes: dict[str, str] = {}
    for our_id, body in rows:
        key = our_id.removeprefix(f"{SOURCE}-")
        notes[key] = f"{notes.get(key, '')}\n{body or ''}"
    return notes


def translate(objects: ZendeskObjects, directory: Directory, merge_notes: dict[str, str] | None = None) -> HelpdeskRead:
    """The canonical records of one read (pure: no store)."""
    records = HelpdeskRead(problems=list(objects.problems))  # what reading the files could not use, first
    comments = _comments(objects)
    merged_into = _merge_targets(objects, comments, merge_notes or {}, records)
    for key, ticket in objects.tickets.items():
        records.tickets.append(_ticket(objects, directory, key, ticket, merged_into.get(key)))
    records.messages = [m for m in (_message(directory, c, records) for c in comments) if m is not None]
    records.events = _events(objects, directory)
    records.agents = _agents(objects, directory)
    records.surveys = [s for s in (_survey(directory, r) for r in objects.satisfaction_ratings.values()) if s]
    _note_times_before_creation(records)
    return records


# --- tickets ------------------------------------------------------------------------------------------------


def _ticket(
    objects: ZendeskObjects, directory: Directory, key: str, ticket: dict[str, Any], merged_into: str | None
) -> SourceTicket:
    status = ticket.get("status")
    deleted = status == DELETED
    metrics = objects.ticket_metrics.get(key, {})
    via = field_of(ticket, "via")
    source = field_of(via, "source")
    to = field_of(source, "to")
    tags = _tags(objects, key, ticket)
    return SourceTicket(
        id=key,
        created_at=instant(ticket.get("created_at")),
        subject=ticket.get("subject") or ticket.get("raw_subject"),
        requester=directory.person(ticket.get("requester_id")),
        mailbox=ticket.get("recipient") or to.get("address"),
        channel=via.get("channel") or None,
        updated_at=instant(ticket.get("updated_at")),
        # A deleted ticket keeps the status its history gives; it counts nowhere anyway.
        status=None if deleted else status,
        # Zendesk's ticket has no solve time; its metrics do. The status history, when read, takes precedence.
        resolved_at=instant(metrics.get("solved_at")),
        priority=ticket.get("priority"),
        organisation=directory.organizations.get(object_id(ticket.get("organization_id"))),
        assignee=directory.person(ticket.get("assignee_id")),
        group=directory.group(ticket.get("group_id")),
        merged_into=merged_into,
        excluded_reason=DELETED if deleted else ("merged" if MERGED_TAG in tags and not merged_into else None),
        tags=tags,
        position=objects.positions.get(("tickets", key), ""),
    )


def _tags(objects: ZendeskObjects, key: str, ticket: dict[str, Any]) -> list[str]:
    tags = ticket.get("tags") or []
    tags = tags if isinstance(tags, list) else []
    return list(dict.fromkeys([*map(str, tags), *objects.ticket_tags.get(key, [])]))


def _merge_targets(
    objects: ZendeskObjects, comments: list[dict[str, Any]], stored_notes: dict[str, str], records: HelpdeskRead
) -> dict[str, str]:
    """Which ticket absorbed each merged-away one. Zendesk closes a merged-away ticket with the tag
    `closed_by_merge` and notes on both tickets ("… closed and merged into request #N"); a warehouse lists the
    absorbed ids on the survivor (`merged_ticket_ids`), as do incremental ticket events."""
    into: dict[str, str] = {}
    for key, ticket in objects.tickets.items():
        for absorbed in ticket.get("merged_ticket_ids") or []:
            into[object_id(absorbed)] = key
    for audit in objects.audits.values():
        for absorbed in audit.get("merged_ticket_ids") or []:
            into[object_id(absorbed)] = object_id(audit.get("ticket_id"))
    for comment in comments:
        body, key = str(comment.get("body") or ""), object_id(comment.get("ticket_id"))
        if match := _MERGED_INTO.search(body):
            into[key] = match.group(1)
        elif match := _MERGED_FROM.search(body):
            into[match.group(1)] = key
    for key, notes in stored_notes.items():
        if key not in into and (match := _MERGED_INTO.search(notes)):
            into[key] = match.group(1)
    into = {merged: survivor for merged, survivor in into.items() if merged != survivor}
    for key, ticket in objects.tickets.items():
        if MERGED_TAG in _tags(objects, key, ticket) and key not in into:
            records.problems.append(
                Problem(
                    objects.positions.get(("tickets", key), f"ticket {key}"),
                    "merge_target_unknown",
                    f"ticket {key} is tagged {MERGED_TAG} but no note names the ticket it was merged into: it counts "
                    "nowhere and keeps its messages; read its comments (audits or ticket events) to move them",
                    rejected=False,
                )
            )
    return into


# --- comments -----------------------------------------------------------------------------------------------


def _comments(objects: ZendeskObjects) -> list[dict[str, Any]]:
    """Every comment once, from a comments page or an audit's Comment event (whose id is the comment's id), with
    its ticket, time and `via` (an event's own, else its audit's)."""
    found: dict[str, dict[str, Any]] = {}
    for key, comment in objects.comments.items():
        found[key] = {**comment, "position": objects.positions.get(("comments", key), "")}
    for audit_key, audit in objects.audits.items():
        for event in audit.get("events") or []:
            if not isinstance(event, dict) or not str(event.get("type") or "").endswith("Comment"):
                continue
            if event.get("id") in (None, "") or object_id(event["id"]) in found:
                continue
            found[object_id(event["id"])] = {
                **event,
                "ticket_id": audit.get("ticket_id"),
                "created_at": event.get("created_at") or audit.get("created_at"),
                "via": event.get("via") or audit.get("via"),
                "position": objects.positions.get(("audits", audit_key), ""),
            }
    return list(found.values())


def _message(directory: Directory, comment: dict[str, Any], records: HelpdeskRead) -> SourceMessage | None:
    key, ticket = object_id(comment.get("id")), comment.get("ticket_id")
    position = comment.get("position") or f"comment {key}"
    author = None if comment.get("author_id") in (None, "") else object_id(comment["author_id"])
    role = _role(directory, author, comment.get("via"))
    if role is None:
        records.problems.append(
            Problem(
                position,
                "unknown_author",
                f"comment {key} on ticket {ticket}: its author {author} is not among the users read; import the "
                "users (users.json, the incremental user export) with the comments",
            )
        )
        return None
    user = directory.users.get(author or "")
    attachments = comment.get("attachments")
    return SourceMessage(
        id=key,
        ticket="" if ticket in (None, "") else object_id(ticket),
        created_at=instant(comment.get("created_at")),
        author=directory.person(author),
        role=role,
        body=str(comment.get("plain_body") or comment.get("body") or ""),
        is_public=_public(comment.get("public")),
        author_name=user.name if user else None,
        attachment_count=len(attachments) if isinstance(attachments, list) else 0,
        position=position,
    )


def _role(directory: Directory, author: str | None, via: Any) -> str | None:
    channel, rel = _via(via)
    if channel in AUTOMATION_CHANNELS or rel in AUTOMATION_RELS:
        return "automation"
    if author == SYSTEM_USER:
        return "system"
    user = directory.users.get(author or "")
    return user.role if user is not None else None


def _via(via: Any) -> tuple[str, str]:
    """(channel, source rel) of a via object; ticket events write via as a word ("Rule", "Web form")."""
    if isinstance(via, dict):
        source = field_of(via, "source")
        return str(via.get("channel") or "").lower(), str(source.get("rel") or "").lower()
    return str(via or "").lower(), ""


def _public(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() not in ("false", "0", "f")


# --- changes ------------------------------------------------------------------------------------------------


def _events(objects: ZendeskObjects, directory: Directory) -> list[SourceEvent]:
    """Status, assignee, group, priority and tag changes of every audit, in time order per ticket.

    A status change that leaves the canonical status as it was is left out: Zendesk closing a solved ticket
    (solved → closed) is no second resolution, and new → open no reopen. The previous value is the change's
    own `previous_value` when it has one (audits do), else the ticket's status before it in this read (a
    warehouse's field history has none)."""
    events: list[SourceEvent] = []
    last_status: dict[str, str] = {}
    audits = sorted(
        objects.audits.values(), key=lambda a: (instant(a.get("created_at")) or datetime.min, object_id(a.get("id")))
    )
    for audit in audits:
        key = object_id(audit.get("ticket_id"))
        at, actor = instant(audit.get("created_at")), directory.person(audit.get("author_id"))
        position = objects.positions.get(("audits", object_id(audit.get("id"))), "")
        for event in audit.get("events") or []:
            if not isinstance(event, dict) or event.get("type") not in ("Create", "Change"):
                continue
            name, value, event_id = event.get("field_name"), event.get("value"), object_id(event.get("id"))
            if name == "tags":
                events += _tag_events(key, event_id, at, actor, value, event.get("previous_value"), position)
                continue
            if name not in EVENT_FIELDS or (event["type"] == "Create" and value in (None, "")):
                continue  # a field deskpulse does not track, or one a new ticket was created without
            previous = event.get("previous_value")
            if name == "status":
                previous = previous if "previous_value" in event else last_status.get(key)
                value = None if value is None else str(value)
                last_status[key] = value or ""
                if value == DELETED:
                    events.append(SourceEvent(event_id, key, at, DELETED, DELETED, previous, actor, position))
                    continue
                if previous is not None and canonical_status(str(previous)) == canonical_status(value):
                    continue
                previous = None if previous == DELETED else previous
            elif name == "assignee_id":
                value, previous = directory.person(value), directory.person(previous)
            elif name == "group_id":
                value, previous = directory.group(value), directory.group(previous)
            kind = EVENT_FIELDS[name]
            events.append(SourceEvent(event_id, key, at, kind, _text(value), _text(previous), actor, position))
    return events


def _tag_events(
    ticket: str, event_id: str, at: datetime | None, actor: str | None, value: Any, previous: Any, position: str
) -> list[SourceEvent]:
    """One `tag` event per tag added (new_value) or removed (old_value)."""
    now, before = set(_words(value)), set(_words(previous))
    added = [SourceEvent(f"{event_id}+{tag}", ticket, at, "tag", tag, None, actor, position) for tag in now - before]
    removed = [SourceEvent(f"{event_id}-{tag}", ticket, at, "tag", None, tag, actor, position) for tag in before - now]
    return sorted(added, key=lambda e: e.id) + sorted(removed, key=lambda e: e.id)


def _words(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value).split() if value else []


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


# --- people and surveys -------------------------------------------------------------------------------------


def _user_rows(objects: ZendeskObjects) -> list[dict[str, Any]]:
    rows = []
    for key, user in objects.users.items():
        email = user.get("email")
        rows.append(
            {
                "source": SOURCE,
                "user_id": key,
                "address": str(email).strip().lower() if email else None,
                "name": user.get("name"),
                "role": ROLES.get(str(user.get("role") or "")),
                "active": _active(user),
            }
        )
    return rows


def _active(user: dict[str, Any]) -> bool:
    return user.get("active") is not False and not user.get("suspended")


def _agents(objects: ZendeskObjects, directory: Directory) -> list[SourceAgent]:
    """The agents and admins of this read (those with an address; Zendesk requires one for staff)."""
    agents = []
    for user in objects.users.values():
        if ROLES.get(str(user.get("role") or "")) == "agent" and user.get("email"):
            team = directory.groups.get(object_id(user.get("default_group_id")))
            agents.append(SourceAgent(str(user["email"]), user.get("name"), team, _active(user)))
    return agents


def _survey(directory: Directory, rating: dict[str, Any]) -> SurveyRow | None:
    """A satisfaction rating as a CSAT survey row: "offered" is an invitation; "good"/"bad" (and their
    `_with_comment` forms) an answer on the good-bad scale, given when the rating was last updated. Unoffered
    ratings are none."""
    score = str(rating.get("score") or "").removesuffix("_with_comment")
    if score not in ("offered", *BINARY_SCORES) or rating.get("ticket_id") in (None, ""):
        return None
    sent_at = instant(rating.get("created_at"))
    answered_at = instant(rating.get("updated_at") or rating.get("created_at")) if score in BINARY_SCORES else None
    survey_id = f"{SOURCE}-{object_id(rating.get('id'))}"
    if answered_at is not None:
        survey_id += "@" + answered_at.isoformat(timespec="seconds") + "Z"
    agent = directory.person(rating.get("assignee_id"))
    return SurveyRow(
        survey_id=survey_id,
        ticket_id=ticket_id(SOURCE, object_id(rating["ticket_id"])),
        message_id=None,
        kind="csat",
        scale=BINARY_SCALE if answered_at is not None else SCALES["csat"][0],
        agent=agent if agent and "@" in agent else None,
        sent_at=sent_at,
        delivered=True,
        answered_at=answered_at,
        score=BINARY_SCORES[score] if answered_at is not None else None,
        comment=rating.get("comment") or None,
        source=SOURCE,
    )


# --- checks and quarantine ----------------------------------------------------------------------------------


def _note_times_before_creation(records: HelpdeskRead) -> None:
    """A comment or change earlier than its ticket's creation is kept as given, and reported once per ticket."""
    created = {t.id: t.created_at for t in records.tickets if t.created_at is not None}
    early: dict[str, datetime] = {}
    for ticket, at in [(m.ticket, m.created_at) for m in records.messages] + [
        (e.ticket, e.occurred_at) for e in records.events
    ]:
        if at is not None and ticket in created and at < created[ticket]:
            early[ticket] = min(at, early.get(ticket, at))
    for ticket, at in sorted(early.items()):
        records.problems.append(
            Problem(
                f"ticket {ticket}",
                "before_created",
                f"ticket {ticket} was created {created[ticket]:%Y-%m-%d %H:%M:%S} UTC but has a comment or change "
                f"at {at:%Y-%m-%d %H:%M:%S} UTC: kept, times as given",
                rejected=False,
            )
        )


# --- values -------------------------------------------------------------------------------------------------


def instant(value: Any) -> datetime | None:
    """A Zendesk time as naive UTC: ISO 8601 with `Z` or an offset (the API), a naive `2020-02-19 01:54:52`
    (a warehouse, in UTC) or Unix seconds (ticket events' `timestamp`). None when absent or unreadable."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
