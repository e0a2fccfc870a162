"""What the connectors that read a help desk's saved API responses share (Freshdesk, Help Scout): finding and
parsing the files, keeping one copy of a record read twice, and storing a read — the contract's records, plus the
tracked work and survey answers the contract does not carry — with what could not be used in `quarantine`.

A user points deskpulse at the JSON their API calls returned (one response per file, a page of a list, or JSON
Lines): the connector recognises each object by its shape, so file names and folder layout do not matter.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from deskpulse.config import Config
from deskpulse.errors import UserError
from deskpulse.inputs.surveys import SurveyRow
from deskpulse.inputs.time_entries import TimeEntry
from deskpulse.sources.canonical import (
    Problem,
    SourceAgent,
    SourceEvent,
    SourceMessage,
    SourceSummary,
    SourceTicket,
    store_source,
)
from deskpulse.store import Store

SUFFIXES = (".json", ".jsonl")
T = TypeVar("T")


@dataclass
class HelpdeskRead:
    """Everything one read of a help desk's files yields, ready to store."""

    tickets: list[SourceTicket] = field(default_factory=list)
    messages: list[SourceMessage] = field(default_factory=list)
    events: list[SourceEvent] = field(default_factory=list)
    agents: list[SourceAgent] = field(default_factory=list)
    time_entries: list[TimeEntry] = field(default_factory=list)
    surveys: list[SurveyRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def reject(self, position: str, reason: str, detail: str) -> None:
        self.problems.append(Problem(position, reason, detail))

    def note(self, position: str, reason: str, detail: str) -> None:
        self.problems.append(Problem(position, reason, detail, rejected=False))


class BadRecord(ValueError):
    """A record that cannot be used, with the reason it is quarantined under."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def guarded(read: HelpdeskRead, position: str, what: str, build: Callable[..., T], *args: Any) -> T | None:
    """``build(*args)``, or None with the record rejected when it is malformed: a help desk's odd record (a missing
    field, a number where text belongs) is quarantined with its reason, never the end of the import."""
    try:
        return build(*args)
    except BadRecord as exc:
        read.reject(position, exc.reason, f"{what}: {exc.detail}")
    except KeyError as exc:
        read.reject(position, "malformed", f"{what}: missing field {exc}")
    except (TypeError, ValueError, AttributeError) as exc:
        read.reject(position, "malformed", f"{what}: {exc}")
    return None


def json_files(paths: Sequence[Path]) -> list[Path]:
    """Each named file, and every ``*.json`` and ``*.jsonl`` file under each named directory, in path order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise UserError(f"{path}: no such file or directory")
    return found


def json_objects(path: Path, list_keys: tuple[str, ...], read: HelpdeskRead) -> Iterator[tuple[str, Any]]:
    """``(position, value)`` for every record of a file: the items of a top-level list, of a list under one of
    ``list_keys`` (an API's page wrapper such as ``{"results": [...]}``), each line of JSON Lines, or the
    document itself. What cannot be parsed (a file, a line) is rejected as `not_json`."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        read.reject(str(path), "not_json", f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        return
    if path.suffix.lower() == ".jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield from _parsed(line, f"{path}:{number}", read)
        return
    for position, document in _parsed(text, str(path), read):
        if isinstance(document, dict):
            listed = [key for key in list_keys if isinstance(document.get(key), list)]
            if listed:
                document = document[listed[0]]
        if isinstance(document, list):
            for index, item in enumerate(document):
                yield f"{position}[{index}]", item
        else:
            yield position, document


def _parsed(text: str, position: str, read: HelpdeskRead) -> Iterator[tuple[str, Any]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        read.reject(position, "not_json", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        return
    yield position, document


def utc(value: Any, name: str) -> datetime | None:
    """An API timestamp (ISO 8601, with an offset or ``Z``; without one it is UTC) as naive UTC; None for none.

    Anything else is a `BadRecord` naming the field."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            instant = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return instant if instant.tzinfo is None else instant.astimezone(UTC).replace(tzinfo=None)
    raise BadRecord("bad_time", f"{name} {value!r} is not an ISO 8601 timestamp")


def loose_utc(value: Any) -> datetime | None:
    """`utc`, or None for a value that is not a timestamp: for ordering copies of a record, not for storing."""
    try:
        return utc(value, "")
    except BadRecord:
        return None


def note_messages_before_tickets(read: HelpdeskRead) -> None:
    """Report messages dated before their ticket's creation: kept with their times as given (a clock or an
    import gone wrong in the source), but a first response measured from them would mislead."""
    created = {t.id: t.created_at for t in read.tickets}
    for message in read.messages:
        opened = created.get(message.ticket)
        if opened is not None and message.created_at is not None and message.created_at < opened:
            read.note(
                message.position,
                "before_ticket",
                f"message {message.id} ({message.created_at:%Y-%m-%d %H:%M:%S}) is older than its ticket "
                f"{message.ticket} ({opened:%Y-%m-%d %H:%M:%S}); kept, times as given",
            )


def iso(instant: datetime) -> str:
    """A naive UTC instant as ``2026-01-12T08:00:00Z``: the answer-time suffix of a `survey_id`."""
    return instant.isoformat(timespec="seconds") + "Z"


@dataclass
class _Copy(Generic[T]):
    updated_at: datetime | None
    position: str
    value: T
    differing: bool = False
    copies: int = 1


class Newest(Generic[T]):
    """One copy per id of records read more than once: the one updated last (by the source's own updated time;
    on a tie, the one read last). Identical copies are plain duplicates; differing ones are reported by
    `conflicts`, so a folder holding two versions of a ticket says which one it kept."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._copies: dict[str, _Copy[T]] = {}

    def add(self, key: str, updated_at: datetime | None, position: str, value: T) -> None:
        kept = self._copies.get(key)
        if kept is None:
            self._copies[key] = _Copy(updated_at, position, value)
            return
        kept.copies += 1
        if value == kept.value:
            return
        kept.differing = True
        if (updated_at or datetime.min) >= (kept.updated_at or datetime.min):
            kept.updated_at, kept.position, kept.value = updated_at, position, value

    def entries(self) -> list[tuple[str, T]]:
        """(position, value) of every kept copy, in the order the ids were first read."""
        return [(copy.position, copy.value) for copy in self._copies.values()]

    def get(self, key: str) -> T | None:
        copy = self._copies.get(key)
        return copy.value if copy else None

    def conflicts(self) -> list[Problem]:
        return [
            Problem(
                copy.position,
                "conflicting_copies",
                f"{self.kind} {key} was read {copy.copies} times with different content; kept this copy (updated "
                "last, or read last on a tie)",
                rejected=False,
            )
            for key, copy in self._copies.items()
            if copy.differing
        ]


def store_helpdesk_read(
    store: Store, config: Config, source: str, read: HelpdeskRead, *, rebuild: bool = True
) -> SourceSummary:
    """Store a read through the connector contract: its records, time entries and survey answers, and what the
    connector rejected, in quarantine; the tickets are rebuilt once at the end (unless ``rebuild`` is False: a
    live fetch stores page after page and rebuilds once when it is done)."""
    return store_source(
        store,
        config,
        source,
        tickets=read.tickets,
        messages=read.messages,
        events=read.events,
        agents=read.agents,
        surveys=read.surveys,
        time_entries=read.time_entries,
        problems=read.problems,
        rebuild=rebuild,
    )
