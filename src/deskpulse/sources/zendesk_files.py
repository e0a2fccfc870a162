"""Read Zendesk as its API and its exporters write it: the objects of every file, sorted by kind.

A Zendesk export comes in many wrappings, and one read may mix them: API pages (`{"tickets": [...],
"next_page": ...}`, incremental export pages with their cursors and sideloads), single objects (`{"ticket":
{...}}`), bare lists, JSONL with one object or one page per line, Airbyte records (`{"stream": "tickets", "data":
{...}}`), and warehouse tables as Fivetran writes them (`ticket.csv`, `ticket_comment.csv`, … or the dbt seeds'
`ticket_data.csv`). This module only unwraps them into `ZendeskObjects`; `deskpulse.sources.zendesk` maps the
objects to the canonical model. A file or line that cannot be read becomes a `Problem`, never the end of a read.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deskpulse.sources.canonical import Problem

# The kinds of object deskpulse uses, by the collection names pages and exporters give them.
COLLECTIONS = {
    "tickets": "tickets",
    "ticket": "tickets",
    "audits": "audits",
    "audit": "audits",
    "ticket_audits": "audits",
    "ticket_events": "ticket_events",
    "comments": "comments",
    "comment": "comments",
    "ticket_comments": "comments",
    "ticket_metrics": "ticket_metrics",
    "ticket_metric": "ticket_metrics",
    "metric_sets": "ticket_metrics",  # the incremental ticket export's sideload
    "satisfaction_ratings": "satisfaction_ratings",
    "satisfaction_rating": "satisfaction_ratings",
    "users": "users",
    "user": "users",
    "groups": "groups",
    "group": "groups",
    "organizations": "organizations",
    "organization": "organizations",
}
# What an object's own `url` (`https://acme.zendesk.com/api/v2/tickets/1.json`) says it is.
_URL_KIND = re.compile(r"/api/v2/(tickets|users|groups|organizations|ticket_metrics|satisfaction_ratings)/\d+")
# A comments page belongs to the ticket its links name (`/api/v2/tickets/33/comments.json`).
_COMMENTS_URL = re.compile(r"/tickets/(\d+)/comments")
# Fivetran's Zendesk tables (the dbt_zendesk seeds add `_data`), by the kind their rows become.
WAREHOUSE_TABLES = {
    "ticket": "tickets",
    "ticket_comment": "comments",
    "ticket_field_history": "field_history",
    "ticket_tag": "ticket_tags",
    "user": "users",
    "group": "groups",
    "organization": "organizations",
    "satisfaction_rating": "satisfaction_ratings",
}
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")


@dataclass
class ZendeskObjects:
    """Every object of one read, by kind and id. A ticket read twice (an incremental export repeats a ticket
    each time it changes) is kept in its latest version, by `updated_at`."""

    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    audits: dict[str, dict[str, Any]] = field(default_factory=dict)
    comments: dict[str, dict[str, Any]] = field(default_factory=dict)
    ticket_metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # by ticket id
    satisfaction_ratings: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    organizations: dict[str, dict[str, Any]] = field(default_factory=dict)
    ticket_tags: dict[str, list[str]] = field(default_factory=dict)  # a warehouse's tag table
    positions: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, id) → where it was read
    problems: list[Problem] = field(default_factory=list)
    unused: dict[str, int] = field(default_factory=dict)  # streams and tables deskpulse does not use, with counts
    objects_read: int = 0

    def add(self, kind: str, obj: Any, position: str, ticket_hint: str | None = None) -> None:
        """File one object under ``kind`` (a key of COLLECTIONS' values, or `ticket_events`/`field_history`)."""
        if not isinstance(obj, dict):
            self.problems.append(Problem(position, "not_an_object", f"expected a JSON object, found {_short(obj)}"))
            return
        self.objects_read += 1
        if kind == "ticket_events":
            obj, kind = audit_from_ticket_event(obj), "audits"
        elif kind == "field_history":
            obj, kind = audit_from_field_history(obj), "audits"
        elif kind == "comments" and obj.get("ticket_id") is None and ticket_hint is not None:
            obj = {**obj, "ticket_id": ticket_hint}
        elif kind == "ticket_tags":
            if obj.get("ticket_id") not in (None, "") and obj.get("tag"):
                tags = self.ticket_tags.setdefault(str(obj["ticket_id"]), [])
                if obj["tag"] not in tags:
                    tags.append(str(obj["tag"]))
            return
        key_field = "ticket_id" if kind == "ticket_metrics" else "id"
        if obj.get(key_field) in (None, ""):
            self.problems.append(Problem(position, "no_id", f"a {kind} object without {key_field}: {_short(obj)}"))
            return
        key = object_id(obj[key_field])
        collection: dict[str, dict[str, Any]] = getattr(self, kind)
        stored = collection.get(key)
        if stored is not None and str(stored.get("updated_at") or "") > str(obj.get("updated_at") or ""):
            return  # an older version of something already read
        collection[key] = obj
        self.positions[(kind, key)] = position

    def skip(self, name: str, count: int = 1) -> None:
        self.unused[name] = self.unused.get(name, 0) + count


def read_zendesk(paths: Iterable[Path]) -> ZendeskObjects:
    """Read every file named, and every JSON, JSONL or warehouse CSV file under the directories named."""
    objects = ZendeskObjects()
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (*JSON_SUFFIXES, ".csv"))
        elif path.is_file():
            files = [path]
        else:
            objects.problems.append(Problem(str(path), "not_found", "no such file or directory"))
            continue
        for file in files:
            if file.suffix.lower() == ".csv":
                _read_warehouse_table(file, objects)
            else:
                read_json_text(file.read_text(encoding="utf-8", errors="replace"), str(file), objects, file.name)
    return objects


def read_json_text(text: str, where: str, objects: ZendeskObjects, name: str = "") -> None:
    """One file's or one HTTP response's text: a JSON document, else one JSON value per line (JSONL)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as whole_error:
        lines = text.splitlines()
        first = next((line for line in lines if line.strip()), "")
        if not _parses(first):
            objects.problems.append(Problem(where, "malformed_json", f"not JSON: {whole_error}"))
            return
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                objects.problems.append(Problem(f"{where}:{number}", "malformed_json", f"not JSON: {error}"))
                continue
            _read_value(value, f"{where}:{number}", objects, name)
        return
    _read_value(document, where, objects, name)


def _read_value(value: Any, where: str, objects: ZendeskObjects, name: str) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            kind = kind_of(item, name)
            if kind is None:
                detail = f"not a Zendesk object deskpulse reads: {_short(item)}"
                objects.problems.append(Problem(f"{where}[{index}]", "unknown_object", detail))
            else:
                objects.add(kind, item, f"{where}[{index}]")
        return
    if not isinstance(value, dict):
        objects.problems.append(Problem(where, "not_a_page", f"expected a page or an object, found {_short(value)}"))
        return
    if isinstance(value.get("stream"), str) and "data" in value:  # an Airbyte record
        kind = COLLECTIONS.get(value["stream"])
        if kind is None:
            objects.skip(value["stream"])
        else:
            objects.add(kind, value["data"], where)
        return
    # A page or a wrapper (`{"ticket": {...}}`) has no id of its own; an object with an id is one object, even
    # when a field of it is named like a collection (a ticket's `satisfaction_rating`).
    collections = [key for key in value if key in COLLECTIONS and isinstance(value[key], list | dict)]
    if collections and "id" not in value:
        hint = _comments_ticket(value)
        for key in collections:
            items = value[key] if isinstance(value[key], list) else [value[key]]
            for index, item in enumerate(items):
                objects.add(COLLECTIONS[key], item, f"{where}#{key}[{index}]", ticket_hint=hint)
        return
    kind = kind_of(value, name)
    if kind is None:
        objects.problems.append(Problem(where, "not_a_page", f"no Zendesk collection in it: {_short(value)}"))
    else:
        objects.add(kind, value, where)


def kind_of(obj: Any, file_name: str = "") -> str | None:
    """What a bare object is: by its own API url, else by its shape, else by the file's name."""
    if not isinstance(obj, dict):
        return None
    match = _URL_KIND.search(str(obj.get("url") or ""))
    if match:
        return COLLECTIONS[match.group(1)]
    if isinstance(obj.get("events"), list) and "ticket_id" in obj:
        return "audits"
    if isinstance(obj.get("child_events"), list):
        return "ticket_events"
    if "reply_time_in_minutes" in obj:
        return "ticket_metrics"
    if obj.get("type") == "Comment" and "ticket_id" in obj:
        return "comments"
    stem = re.sub(r"(_dedup|_data|_page\d*|\d+)$", "", Path(file_name).stem.lower())
    for name, kind in COLLECTIONS.items():
        if stem.endswith(name):
            return kind
    return None


def audit_from_ticket_event(event: dict[str, Any]) -> dict[str, Any]:
    """An incremental ticket event (`/incremental/ticket_events`, with its `child_events`) in the shape of an
    audit, so that both are mapped once. A child change names its field either as `field_name` or as a key of
    its own (`{"status": "solved", "previous_value": "open"}`)."""
    children = []
    for child in event.get("child_events") or []:
        if not isinstance(child, dict):
            continue
        kind = child.get("event_type") or child.get("type")
        item = {**child, "type": kind}
        if kind in ("Create", "Change") and "field_name" not in child:
            for name in ("status", "assignee_id", "group_id", "priority", "tags"):
                if name in child:
                    item["field_name"], item["value"] = name, child[name]
                    break
        children.append(item)
    return {
        "id": event.get("id"),
        "ticket_id": event.get("ticket_id"),
        "created_at": event.get("created_at") or event.get("timestamp"),
        "author_id": event.get("updater_id"),
        "via": event.get("via"),
        "events": children,
        "merged_ticket_ids": event.get("merged_ticket_ids") or [],
    }


def audit_from_field_history(row: dict[str, Any]) -> dict[str, Any]:
    """A warehouse's field history row (ticket_id, field_name, value, updated, user_id) as a one-change audit.
    Its id is made of what identifies the change, so the same row read twice is one change."""
    identity = f"{row.get('ticket_id')}|{row.get('field_name')}|{row.get('updated')}|{row.get('value')}"
    return {
        "id": f"history:{identity}",
        "ticket_id": row.get("ticket_id"),
        "created_at": row.get("updated"),
        "author_id": row.get("user_id") or None,
        "via": None,
        "events": [
            {
                "id": f"history:{identity}",
                "type": "Change",
                "field_name": row.get("field_name"),
                "value": row.get("value"),
            }
        ],
    }


def _read_warehouse_table(path: Path, objects: ZendeskObjects) -> None:
    """A Fivetran Zendesk table as CSV: rows become API-shaped objects (a comment's `created` is its
    `created_at`, a user id column `author_id`), so the same mapping reads them."""
    table = re.sub(r"_data$", "", path.stem.lower())
    kind = WAREHOUSE_TABLES.get(table)
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        rows = list(_csv_rows(handle))
    if kind is None:
        objects.skip(f"{path.name} (table {table})", len(rows))
        return
    for number, row in zip(range(2, len(rows) + 2), rows, strict=True):  # 1 is the header
        objects.add(kind, _warehouse_object(kind, row), f"{path}:{number}")


def _csv_rows(handle: Any) -> Iterator[dict[str, str]]:
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        return
    for values in reader:
        # Extra trailing fields (the dbt seeds have some) are dropped; missing ones are empty.
        yield {name: (values[i] if i < len(values) else "") for i, name in enumerate(header)}


def _warehouse_object(kind: str, row: dict[str, str]) -> dict[str, Any]:
    obj: dict[str, Any] = {name: (value if value != "" else None) for name, value in row.items()}
    if kind == "comments":
        obj["created_at"] = obj.pop("created", None)
        obj["author_id"] = obj.pop("user_id", None)
        obj["public"] = _boolean(obj.get("public"), True)
    elif kind == "tickets":
        obj["via"] = {"channel": obj.get("via_channel")}
        obj["tags"] = []
        obj["merged_ticket_ids"] = _id_list(obj.get("merged_ticket_ids"))
    elif kind == "users":
        obj["active"] = _boolean(obj.get("active"), True)
        obj["suspended"] = _boolean(obj.get("suspended"), False)
    return obj


def _boolean(text: Any, default: bool) -> bool:
    if text is None:
        return default
    return str(text).strip().lower() in ("true", "t", "1", "yes")


def _id_list(text: Any) -> list[str]:
    """`[1967, 1970]` as a warehouse writes a list column."""
    return re.findall(r"\d+", str(text or ""))


def _comments_ticket(page: dict[str, Any]) -> str | None:
    """The ticket a comments page belongs to, from its links (a comment object does not name its ticket)."""
    links = field_of(page, "links")
    for url in (page.get("next_page"), page.get("previous_page"), *links.values()):
        match = _COMMENTS_URL.search(str(url or ""))
        if match:
            return match.group(1)
    return None


def field_of(obj: Any, name: str) -> dict[str, Any]:
    """``obj[name]`` when both are JSON objects, else an empty one: Zendesk leaves nested objects out or null."""
    value = obj.get(name) if isinstance(obj, dict) else None
    return value if isinstance(value, dict) else {}


def _parses(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True


def object_id(value: Any) -> str:
    """Ids as text ("" for none); a float id (`7261.0`, as some exporters write integers) loses its `.0`."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 120 else text[:117] + "..."
