"""Time entries from a CSV file (`deskpulse load time-entries FILE`) into the canonical `time_entries` table.

Tracked work is the only source of handle time (spec §3): deskpulse never guesses it from the gaps between
messages. The format is described in docs/inputs.md, section "Time entries (CSV)".
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from deskpulse.inputs.csvfile import Record, read_csv, ticket_reference
from deskpulse.schema import TIME_ENTRIES

if TYPE_CHECKING:
    from deskpulse.store import Store

REQUIRED = ("agent", "started_at")
OPTIONAL = ("entry_id", "ticket_id", "message_id", "seconds", "minutes", "billable")
TICKET_ID = re.compile(r"T-[0-9a-f]{12}")  # deskpulse.tickets.ticket_id_for
# No one works a ticket for a day without a break: a longer entry is a unit mix-up (minutes given as seconds).
LONGEST_ENTRY_SECONDS = 24 * 3600


@dataclass(frozen=True)
class TimeEntry:
    """One row of the `time_entries` table."""

    entry_id: str
    ticket_id: str | None
    message_id: str | None
    agent: str
    started_at: datetime
    seconds: int
    billable: bool | None
    source: str


def read_time_entries(path: Path, timezone: str) -> list[TimeEntry]:
    """Every line of a time-entries CSV as a `TimeEntry`; the first bad line raises `InputFileError`.

    Timestamps without an offset are read in ``timezone`` (the help desk's reporting timezone).
    """
    entries: list[TimeEntry] = []
    lines: dict[str, int] = {}
    for record in read_csv(path, REQUIRED, OPTIONAL):
        entry = _time_entry(record, timezone)
        if entry.entry_id in lines:
            earlier = lines[entry.entry_id]
            if record.optional("entry_id") is not None:
                raise record.error("entry_id", f"{entry.entry_id!r} is already the id of line {earlier}")
            raise record.error(
                "started_at", f"the same entry as line {earlier} (same ticket, agent, start and duration)"
            )
        lines[entry.entry_id] = record.line
        entries.append(entry)
    return entries


def load_time_entries(store: Store, path: Path, timezone: str) -> int:
    """Store the time entries of ``path`` not stored yet; returns how many were new.

    The whole file is checked before anything is stored: a bad file stores nothing. Loading the same file
    again adds nothing, since each entry is known by its `entry_id` (or the hash of its content).
    """
    import pyarrow as pa

    rows = [asdict(entry) for entry in read_time_entries(path, timezone)]
    return store.insert_new("time_entries", pa.Table.from_pylist(rows, schema=TIME_ENTRIES.arrow_schema()))


def _time_entry(record: Record, timezone: str) -> TimeEntry:
    ticket_id, message_id = _ticket_reference(record)
    agent = record.text("agent").lower()
    if "@" not in agent:
        raise record.error("agent", f"{agent!r} is not an e-mail address")
    started_at = record.instant("started_at", timezone)
    seconds = _seconds(record)
    billable = None if record.optional("billable") is None else record.boolean("billable", False)
    entry_id = record.optional("entry_id")
    if entry_id is None:
        # What the entry is, not where it was read: the same line in a renamed file is the same entry.
        parts = [ticket_id or "", message_id or "", agent, started_at.isoformat(), str(seconds)]
        entry_id = "sha1:" + hashlib.sha1("\n".join(parts).encode("utf-8")).hexdigest()
    return TimeEntry(entry_id, ticket_id, message_id, agent, started_at, seconds, billable, str(record.path))


def _ticket_reference(record: Record) -> tuple[str | None, str | None]:
    """(ticket_id, message_id): exactly one of them names the ticket worked on; a ticket id must be deskpulse's."""
    ticket_text, message_id = ticket_reference(record)
    if ticket_text is None:
        return None, message_id
    ticket_id = ticket_text[:2].upper() + ticket_text[2:].lower()
    if not TICKET_ID.fullmatch(ticket_id):
        raise record.error(
            "ticket_id",
            f"{ticket_text!r} is not a deskpulse ticket id (T- and 12 hex digits, as `deskpulse tickets` "
            "lists them); name the ticket by the Message-ID of one of its messages instead (message_id)",
        )
    return ticket_id, None


def _seconds(record: Record) -> int:
    """The entry's duration in whole seconds, from ``seconds`` or ``minutes`` (exactly one of them)."""
    has_seconds, has_minutes = record.optional("seconds") is not None, record.optional("minutes") is not None
    if has_seconds == has_minutes:
        problem = "and minutes are both given" if has_seconds else "and minutes are both empty"
        raise record.error("seconds", f"{problem}: give the duration one way")
    field = "seconds" if has_seconds else "minutes"
    seconds = round(record.number(field, minimum=0) * (1 if has_seconds else 60))
    if seconds > LONGEST_ENTRY_SECONDS:
        raise record.error(field, f"{record.text(field)} is more than a day; is the unit right?")
    return seconds
