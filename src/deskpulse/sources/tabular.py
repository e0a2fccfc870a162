"""The generic CSV/JSONL connector: tickets, messages, events, surveys and time entries from any tool's export,
read through a mapping file (`deskpulse.sources.tabular_mapping`) into the canonical model.

Everything read goes through the connector contract (`deskpulse.sources.canonical.store_source`): tickets,
messages and events, surveys and time entries (with the identities `deskpulse.inputs` gives them, so loading the
same export again adds nothing), and the rows that could not be used. An export is not a config file: a row that
cannot be used is quarantined with its file, line, field, reason and raw text, and the rest is imported, since
one bad row must not stop 100,000 good ones. Rows that are kept but look wrong (times out of order) are reported
in the summary's problems.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from deskpulse.inputs.csvfile import FALSE_WORDS, TRUE_WORDS
from deskpulse.inputs.surveys import BINARY_SCALE, BINARY_SCORES, SCALES, SurveyRow
from deskpulse.inputs.time_entries import LONGEST_ENTRY_SECONDS, TimeEntry
from deskpulse.sources.canonical import (
    Problem,
    SourceEvent,
    SourceMessage,
    SourceSummary,
    SourceTicket,
    canonical_status,
    store_source,
    ticket_id,
)
from deskpulse.sources.tabular_files import BadRow, Row, files_for, read_rows
from deskpulse.sources.tabular_mapping import (
    CATEGORY,
    ID,
    ISO,
    KIND_FIELDS,
    UNIX,
    UNIX_MS,
    KindMapping,
    TabularMapping,
)

if TYPE_CHECKING:
    from deskpulse.config import Config
    from deskpulse.store import Store

CATEGORY_SEPARATOR = " > "
TIME_CACHE_SIZE = 100_000
STATUS = "status"  # the kind of change compared in our words, whose empty value is unknown (see _Snapshots)


@dataclass(frozen=True)
class FileRead:
    """One file read for one kind of record: how many rows it had and how many were no record of that kind."""

    kind: str
    path: Path
    rows: int = 0
    skipped: int = 0


@dataclass
class TabularImport:
    summary: SourceSummary
    files: list[FileRead] = field(default_factory=list)

    def problems_by_reason(self) -> dict[str, list[tuple[str, str]]]:
        """The problems (rows quarantined, and rows kept that look wrong) grouped by reason, the commonest first:
        each a list of (position, detail), the detail naming the ticket."""
        grouped: dict[str, list[tuple[str, str]]] = {}
        for position, reason, detail in self.summary.problems:
            grouped.setdefault(reason, []).append((position, detail))
        return dict(sorted(grouped.items(), key=lambda item: (-len(item[1]), item[0])))


def import_tabular(store: Store, config: Config, mapping: TabularMapping, paths: Sequence[Path] = ()) -> TabularImport:
    """Read the files of ``paths`` (or, without any, those the mapping names) and store their records.

    Each file is read for every kind whose ``file`` pattern matches its name. Nothing is stored when the mapping
    does not fit a file (a column it names is not in the header): that is the mapping's error, not a row's.
    """
    files = files_for(mapping, paths)
    report = _Report()
    records = _Records()
    reads = [_read_file(kind, path, mapping, records, report) for kind in mapping.kinds for path in files[kind]]
    tickets = records.tickets(report)
    _report_times_before_creation(tickets, records.messages, records.events, report)
    summary = store_source(
        store,
        config,
        mapping.source,
        tickets=tickets.values(),
        messages=records.messages,
        events=records.events,
        surveys=records.surveys,
        time_entries=records.entries,
        problems=report.problems,
    )
    return TabularImport(summary, reads)


@dataclass
class _Records:
    """What the files of one import hold, kind by kind."""

    # Tickets by id, as the row that describes them: the last row of a ticket wins, as in a log of snapshots,
    # where each row is the ticket after one update; only that row is read into a ticket.
    ticket_rows: dict[str, tuple[_Plan, Row]] = field(default_factory=dict)
    messages: list[SourceMessage] = field(default_factory=list)
    events: list[SourceEvent] = field(default_factory=list)
    surveys: list[SurveyRow] = field(default_factory=list)
    entries: list[TimeEntry] = field(default_factory=list)
    plans: dict[str, _Plan] = field(default_factory=dict)
    # One reader of snapshots per import, so that a log split over several files continues across them.
    snapshots: dict[str, _Snapshots] = field(default_factory=dict)

    def tickets(self, report: _Report) -> dict[str, SourceTicket]:
        tickets = {}
        for external_id, (plan, row) in self.ticket_rows.items():
            try:
                tickets[external_id] = _ticket(_Fields(plan, row))
            except _FieldError as error:
                report.reject(row.position, error.reason, str(error), row.raw)
        return tickets


def _read_file(kind: str, path: Path, mapping: TabularMapping, records: _Records, report: _Report) -> FileRead:
    """Read one file as records of ``kind`` into ``records``; a row that cannot be used goes to ``report``."""
    spec = mapping.kinds[kind]
    plan = records.plans.setdefault(kind, _Plan(spec))
    snapshots = records.snapshots.setdefault(kind, _Snapshots(spec, report))
    rows, skipped = 0, 0
    for row in read_rows(path, spec, mapping.path):
        rows += 1
        if isinstance(row, BadRow):
            report.reject(row.position, row.reason, row.detail, row.raw)
            continue
        if row.replaced:
            report.problem(row.position, "undecodable_bytes", f"bytes that are not {spec.encoding} replaced")
        fields = _Fields(plan, row)
        if fields.skipped():
            skipped += 1
            continue
        try:
            if kind == "tickets":
                external_id = fields.required("id")
                records.ticket_rows.pop(external_id, None)  # keep the file's order of the rows that win
                records.ticket_rows[external_id] = (plan, row)
            elif kind == "messages":
                records.messages.append(_message(fields))
            elif kind == "events" and spec.snapshots:
                records.events += snapshots.read(fields)
            elif kind == "events":
                records.events.append(_event(fields))
            elif kind == "surveys":
                records.surveys.append(_survey(fields, mapping.source))
            else:
                records.entries.append(_time_entry(fields, mapping.source))
        except _FieldError as error:
            report.reject(row.position, error.reason, str(error), row.raw)
    return FileRead(kind, path, rows, skipped)


class _FieldError(Exception):
    def __init__(self, field_name: str, columns: str, problem: str, reason: str) -> None:
        super().__init__(f"field {field_name!r}{columns}: {problem}")
        self.reason = reason


class _Plan:
    """What the mapping says about each field of one kind, worked out once for all its rows: the columns it comes
    from, its value map (with case-insensitive keys too), and the times already parsed."""

    def __init__(self, spec: KindMapping) -> None:
        self.spec = spec
        self.types = {name: field_spec.type for name, field_spec in KIND_FIELDS[spec.kind].items()}
        self.columns: dict[str, tuple[str, ...]] = {**spec.columns}
        self.columns.update({kind: (column,) for kind, column in spec.from_snapshots.items()})
        self.maps = {
            key: {**{word.casefold(): ours for word, ours in words.items()}, **words}
            for key, words in spec.values.items()
        }
        self.times: dict[Any, datetime | None] = {}

    def time(self, value: Any) -> datetime | None:
        # Exports repeat their times (a ticket's creation on every row of a log): parse each once. The cache is
        # emptied now and then, so a file of a million distinct times does not keep them all.
        key = value if isinstance(value, str) else repr(value)
        if key not in self.times:
            if len(self.times) >= TIME_CACHE_SIZE:
                self.times.clear()
            self.times[key] = _parse_time(value, self.spec.time_formats, self.spec.timezone)
        return self.times[key]


class _Fields:
    """The canonical fields of one row, read through the mapping: missing values dropped, the source's words
    mapped to ours, times parsed. A value that cannot be read raises `_FieldError`, which quarantines the row."""

    def __init__(self, plan: _Plan, row: Row) -> None:
        self.plan, self.spec, self.row = plan, plan.spec, row

    def error(self, name: str, problem: str, reason: str = "bad_value") -> _FieldError:
        columns = self.plan.columns.get(name, ())
        where = f" (column {', '.join(map(repr, columns))})" if columns else ""
        return _FieldError(name, where, problem, reason)

    def _parts(self, name: str, values_key: str | None = None) -> list[Any]:
        """The present values of a field's columns, each mapped by the value map; a constant as it is."""
        if name in self.spec.constants:
            return [self.spec.constants[name]]
        mapped = self.plan.maps.get(values_key or name)
        parts = []
        for column in self.plan.columns.get(name, ()):
            value = self.row.values.get(column)
            if isinstance(value, str):
                value = value.strip()
                if not value or value in self.spec.missing:
                    continue
                if mapped:
                    value = mapped.get(value, mapped.get(value.casefold(), value))
            elif value is None or value == [] or value == {}:
                continue
            elif mapped and not isinstance(value, list):
                value = mapped.get(str(value), value)
            parts.append(value)
        return parts

    def skipped(self) -> bool:
        return any(not self._parts(name) for name in self.spec.skip_without)

    def present(self, name: str) -> bool:
        return name in self.spec.constants or name in self.plan.columns

    def text(self, name: str, *, required: bool = False, values_key: str | None = None) -> str | None:
        parts = self._parts(name, values_key)
        if not parts:
            if required:
                raise self.error(name, "is empty", "missing_value")
            return None
        kind = self.plan.types.get(name)
        if kind == ID:
            return self.spec.id_separator.join(_scalar_text(p) for p in parts)
        if kind == CATEGORY:
            return CATEGORY_SEPARATOR.join(_scalar_text(p) for p in parts)
        return _scalar_text(parts[0])

    def required(self, name: str) -> str:
        value = self.text(name, required=True)
        assert value is not None
        return value

    def time(self, name: str, *, required: bool = False) -> datetime | None:
        parts = self._parts(name)
        if not parts:
            if required:
                raise self.error(name, "is empty", "missing_value")
            return None
        parsed = self.plan.time(parts[0])
        if parsed is None:
            formats = ", ".join(self.spec.time_formats)
            raise self.error(name, f"{parts[0]!r} is not a time in the mapping's time_formats ({formats})")
        return parsed

    def tags(self, name: str) -> list[str]:
        tags: list[str] = []
        for part in self._parts(name):
            items = part if isinstance(part, list) else str(part).split(self.spec.list_separator)
            tags += [str(item).strip() for item in items if str(item).strip()]
        return tags

    def boolean(self, name: str, default: bool | None) -> bool | None:
        parts = self._parts(name)
        if not parts:
            return default
        value = parts[0]
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise self.error(name, f"{value!r} is not true or false (map the source's words in values.{name})")

    def number(self, name: str, *, whole: bool = False) -> float | None:
        parts = self._parts(name)
        if not parts:
            return None
        value = parts[0]
        try:
            number = float(str(value).replace("_", ""))
        except ValueError:
            number = float("nan")
        if number != number or number in (float("inf"), float("-inf")) or (whole and not number.is_integer()):
            raise self.error(name, f"{value!r} is not a {'whole ' if whole else ''}number")
        return number


def _scalar_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parse_time(value: Any, formats: Iterable[str], timezone: str) -> datetime | None:
    """A time as naive UTC; one without an offset is read in ``timezone``. None when no format reads it."""
    text = str(value).strip()
    for pattern in formats:
        try:
            if pattern == ISO:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            elif pattern in (UNIX, UNIX_MS):
                seconds = float(text) / (1000 if pattern == UNIX_MS else 1)
                return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
            else:
                parsed = datetime.strptime(text, pattern)
        except (ValueError, OverflowError, OSError):
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=ZoneInfo(timezone))
        return parsed.astimezone(UTC).replace(tzinfo=None)
    return None


def _ticket(fields: _Fields) -> SourceTicket:
    return SourceTicket(
        id=fields.required("id"),
        created_at=fields.time("created_at", required=True),
        subject=fields.text("subject"),
        requester=fields.text("requester"),
        mailbox=fields.text("mailbox"),
        channel=fields.text("channel"),
        updated_at=fields.time("updated_at"),
        status=fields.text("status"),
        resolved_at=fields.time("resolved_at"),
        priority=fields.text("priority"),
        category=fields.text("category"),
        organisation=fields.text("organisation"),
        assignee=fields.text("assignee"),
        group=fields.text("group"),
        merged_into=fields.text("merged_into"),
        excluded_reason=fields.text("excluded_reason"),
        tags=fields.tags("tags"),
        position=fields.row.position,
    )


def _message(fields: _Fields) -> SourceMessage:
    attachments = fields.number("attachment_count", whole=True)
    return SourceMessage(
        id=fields.required("id"),
        ticket=fields.required("ticket"),
        created_at=fields.time("created_at", required=True),
        author=fields.text("author"),
        role=fields.required("role").lower(),
        body=fields.text("body") or "",
        is_public=bool(fields.boolean("is_public", True)),
        author_name=fields.text("author_name"),
        message_id=fields.text("message_id"),
        attachment_count=int(attachments or 0),
        position=fields.row.position,
    )


def _event(fields: _Fields) -> SourceEvent:
    kind = fields.required("kind").lower()
    ticket = fields.required("ticket")
    occurred_at = fields.time("occurred_at", required=True)
    assert occurred_at is not None
    new_value = fields.text("new_value", values_key=kind)
    old_value = fields.text("old_value", values_key=kind)
    event_id = fields.text("id") or _content_id(ticket, kind, occurred_at.isoformat(), old_value, new_value)
    actor = fields.text("actor")
    return SourceEvent(event_id, ticket, occurred_at, kind, new_value, old_value, actor, fields.row.position)


class _Snapshots:
    """Events from a log of snapshots (one row per update of a ticket, such as ServiceNow's): a row whose watched
    column differs from the ticket's row before it, in the order of the files, is an event of that kind (a
    status compared in deskpulse's words, see `_same`). The first row of a ticket sets its first values.

    The order of the file is the order of the updates: a row stamped earlier than the row before it is taken at
    that row's time (and reported), so a badly stamped update cannot reorder the history."""

    def __init__(self, spec: KindMapping, report: _Report) -> None:
        self.spec, self.report = spec, report
        self.previous: dict[tuple[str, str], str | None] = {}
        self.last_time: dict[str, datetime] = {}
        self.same_instant: dict[tuple[str, str, datetime], int] = {}

    def read(self, fields: _Fields) -> list[SourceEvent]:
        ticket = fields.required("ticket")
        occurred_at = fields.time("occurred_at", required=True)
        assert occurred_at is not None
        actor = fields.text("actor")
        values = {kind: fields.text(kind, values_key=kind) for kind in self.spec.from_snapshots}
        before = self.last_time.get(ticket)
        if before is not None and occurred_at < before:
            self.report.problem(
                fields.row.position,
                "time_out_of_order",
                f"ticket {ticket}: {occurred_at:%Y-%m-%d %H:%M} is before the row above it "
                f"({before:%Y-%m-%d %H:%M}); taken at that row's time",
            )
            occurred_at = before
        self.last_time[ticket] = occurred_at
        events = []
        for kind, value in values.items():
            key = (ticket, kind)
            if value is None and kind == STATUS:
                continue  # a ticket always has a status: an empty one is unknown, not a change
            if key in self.previous:
                old = self.previous[key]
                if _same(kind, value, old):
                    continue
            elif value is None:
                continue  # nothing to nothing
            else:
                old = None
            self.previous[key] = value
            count = self.same_instant.get((ticket, kind, occurred_at), 0) + 1
            self.same_instant[(ticket, kind, occurred_at)] = count
            # Named by the ticket, kind and time (and their order at one instant), so the same log read again,
            # or a later export that repeats it, finds the same events; sorting by id keeps one instant's order.
            event_id = f"{ticket}:{kind}:{occurred_at:%Y%m%dT%H%M%S}#{count:03d}"
            events.append(SourceEvent(event_id, ticket, occurred_at, kind, value, old, actor, fields.row.position))
        return events


def _same(kind: str, value: str | None, previous: str | None) -> bool:
    """Whether a watched value is unchanged. A status is compared in deskpulse's words (open, pending, on_hold,
    resolved), which are what `ticket_events` keeps: New → Active, or Resolved → Closed, changes nothing."""
    if kind == STATUS:
        ours, before = canonical_status(value), canonical_status(previous)
        if ours is not None and before is not None:
            return ours == before
    return value == previous


def _survey(fields: _Fields, source: str) -> SurveyRow:
    """A `surveys` row with the rules of `deskpulse.inputs.surveys`: the kind's scale, good/bad CSAT, an answer
    needs its time, and the survey's identity from its own id or what identifies it."""
    kind = fields.required("kind").lower()
    if kind not in SCALES:
        raise fields.error("kind", f"{kind!r} is not a survey kind; map it to one of {', '.join(SCALES)}")
    ticket = ticket_id(source, fields.required("ticket"))
    sent_at, answered_at = fields.time("sent_at"), fields.time("answered_at")
    scale, low, high = SCALES[kind]
    score_text = fields.text("score")
    score: int | None = None
    if score_text is not None:
        if kind == "csat" and score_text.lower() in BINARY_SCORES:
            scale, score = BINARY_SCALE, BINARY_SCORES[score_text.lower()]
        else:
            number = fields.number("score", whole=True)
            assert number is not None
            score = int(number)
            if not low <= score <= high:
                raise fields.error("score", f"{score} is outside the {kind} scale {low}–{high}")
    if (answered_at is None) != (score is None):
        missing = "answered_at" if answered_at is None else "score"
        raise fields.error(missing, "is empty, but an answer needs both its score and its time", "missing_value")
    delivered = fields.boolean("delivered", True)
    if score is not None and not delivered:
        raise fields.error("delivered", "is false, but the survey was answered")
    agent = fields.text("agent")
    survey = fields.text("id")
    if survey is None:
        parts = [f"ticket:{ticket}", kind, "" if sent_at is None else sent_at.isoformat(timespec="seconds") + "Z"]
        survey = "sha1:" + hashlib.sha1("\n".join(parts).encode("utf-8")).hexdigest()
    if answered_at is not None:
        survey = f"{survey}@{answered_at.isoformat(timespec='seconds')}Z"
    return SurveyRow(
        survey, ticket, None, kind, scale, agent.lower() if agent else None, sent_at, bool(delivered), answered_at,
        score, fields.text("comment"), source,
    )  # fmt: skip


def _time_entry(fields: _Fields, source: str) -> TimeEntry:
    """A `time_entries` row with the rules of `deskpulse.inputs.time_entries`: a duration in seconds or minutes,
    no longer than a day, and an identity from the entry's own id or its content."""
    ticket = ticket_id(source, fields.required("ticket"))
    agent = fields.required("agent").lower()
    started_at = fields.time("started_at", required=True)
    assert started_at is not None
    unit = "seconds" if fields.present("seconds") else "minutes"
    amount = fields.number(unit)
    if amount is None:
        raise fields.error(unit, "is empty", "missing_value")
    if amount < 0:
        raise fields.error(unit, f"{amount:g} is negative")
    seconds = round(amount * (1 if unit == "seconds" else 60))
    if seconds > LONGEST_ENTRY_SECONDS:
        raise fields.error(unit, f"{amount:g} is more than a day; is the unit right?")
    billable = fields.boolean("billable", None)
    entry_id = fields.text("id") or _content_id(ticket, agent, started_at.isoformat(), str(seconds))
    return TimeEntry(entry_id, ticket, None, agent, started_at, seconds, billable, source)


def _content_id(*parts: str | None) -> str:
    """What a record is, not where it was read: the same row in a renamed file is the same record."""
    return "sha1:" + hashlib.sha1("\n".join(p or "" for p in parts).encode("utf-8")).hexdigest()


def _report_times_before_creation(
    tickets: Mapping[str, SourceTicket],
    messages: Iterable[SourceMessage],
    events: Iterable[SourceEvent],
    report: _Report,
) -> None:
    """Messages and events stamped before their ticket was created: kept as given, reported once per row."""
    reported = set()
    for record, at in [(m, m.created_at) for m in messages] + [(e, e.occurred_at) for e in events]:
        ticket = tickets.get(record.ticket)
        if ticket is None or ticket.created_at is None or at is None or at >= ticket.created_at:
            continue
        if record.position in reported:
            continue  # a row of snapshots may hold several changes
        reported.add(record.position)
        what = "a message" if isinstance(record, SourceMessage) else "an update"
        report.problem(
            record.position,
            "before_ticket_created",
            f"ticket {record.ticket}: {what} at {at:%Y-%m-%d %H:%M}, before the ticket's creation "
            f"({ticket.created_at:%Y-%m-%d %H:%M}); kept, times as given",
        )


class _Report:
    """The problems found while reading, as the contract's `Problem`s: rows that cannot be used (quarantined by
    `store_source` with their raw text) and rows kept but looking wrong. A file read for two kinds (tickets and
    their surveys) reports a problem of a row once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.seen: set[tuple[str, str, str]] = set()

    def reject(self, position: str, reason: str, detail: str, raw: str) -> None:
        self._add(Problem(position, reason, detail, raw=raw))

    def problem(self, position: str, reason: str, detail: str) -> None:
        self._add(Problem(position, reason, detail, rejected=False))

    def _add(self, problem: Problem) -> None:
        key = (problem.position, problem.reason, problem.detail)
        if key not in self.seen:
            self.seen.add(key)
            self.problems.append(problem)
