"""Reading a user's CSV file: a header naming the columns, one record per line, errors naming line and field."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from deskpulse.errors import UserError
from deskpulse.mail.threading import extract_message_ids

TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0"})


class InputFileError(UserError):
    """A user's file that cannot be used; the message names the file, the line and the field."""


@dataclass(frozen=True)
class Record:
    """One data line of a CSV file: its line number (the header is line 1) and its non-empty fields."""

    path: Path
    line: int
    fields: dict[str, str]

    def error(self, field: str, problem: str) -> InputFileError:
        return InputFileError(f"{self.path}:{self.line}: field {field!r}: {problem}")

    def text(self, field: str) -> str:
        value = self.fields.get(field)
        if value is None:
            raise self.error(field, "is required but empty")
        return value

    def optional(self, field: str) -> str | None:
        return self.fields.get(field)

    def number(self, field: str, *, minimum: float | None = None) -> float:
        text = self.text(field)
        try:
            value = float(text.replace("_", ""))
        except ValueError:
            raise self.error(field, f"{text!r} is not a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise self.error(field, f"{text!r} is not a finite number")
        if minimum is not None and value < minimum:
            raise self.error(field, f"{text!r} must be at least {minimum:g}")
        return value

    def integer(self, field: str, *, low: int | None = None, high: int | None = None) -> int:
        text = self.text(field)
        try:
            value = int(text)
        except ValueError:
            raise self.error(field, f"{text!r} is not a whole number") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.error(field, f"{value} is outside {low}–{high}")
        return value

    def boolean(self, field: str, default: bool) -> bool:
        text = self.optional(field)
        if text is None:
            return default
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in FALSE_WORDS:
            return False
        raise self.error(field, f"{text!r} is not true or false")

    def day(self, field: str) -> date:
        text = self.text(field)
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise self.error(field, f"{text!r} is not a date (YYYY-MM-DD)") from None

    def month(self, field: str) -> date:
        """``2026-03`` → the first day of that month."""
        text = self.text(field)
        try:
            return datetime.strptime(text, "%Y-%m").date()
        except ValueError:
            raise self.error(field, f"{text!r} is not a month (YYYY-MM)") from None

    def instant(self, field: str, zone: str) -> datetime:
        """An ISO 8601 timestamp as naive UTC; one without an offset is read in ``zone``."""
        text = self.text(field)
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise self.error(field, f"{text!r} is not a timestamp (YYYY-MM-DDTHH:MM[:SS][+HH:MM])") from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(zone))
        return value.astimezone(UTC).replace(tzinfo=None)


def read_csv(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> Iterator[Record]:
    """The records of a CSV file whose header names every required column and no unknown one.

    Column names are matched without regard to case or surrounding spaces; blank lines are skipped; empty
    fields are left out of `Record.fields`.
    """
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None:
                raise InputFileError(f"{path}: empty file; the first line must name the columns")
            names = [name.strip().lower() for name in header]
            known = (*required, *optional)
            for name in names:
                if name not in known:
                    raise InputFileError(f"{path}:1: unknown column {name!r}; known columns: {', '.join(known)}")
            missing = [name for name in required if name not in names]
            if missing:
                raise InputFileError(f"{path}:1: missing column {', '.join(map(repr, missing))}")
            if len(set(names)) != len(names):
                raise InputFileError(f"{path}:1: a column is named twice")
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                if len(values) != len(names):
                    raise InputFileError(
                        f"{path}:{reader.line_num}: {len(values)} fields where the header names {len(names)}"
                    )
                fields = {n: v.strip() for n, v in zip(names, values, strict=True) if v.strip()}
                yield Record(path, reader.line_num, fields)
        except UnicodeDecodeError as exc:
            raise InputFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        except csv.Error as exc:
            raise InputFileError(f"{path}:{reader.line_num}: not valid CSV: {exc}") from exc


def ticket_reference(record: Record) -> tuple[str | None, str | None]:
    """``(ticket_id, message_id)`` of a line that names a ticket by exactly one of the two columns.

    A Message-ID gets the same normalisation as the mail's own Message-ID header, so that it finds its message;
    the ticket it belongs to is looked up when metrics are computed, since ticket ids follow threading.
    """
    ticket_id, message_text = record.optional("ticket_id"), record.optional("message_id")
    if ticket_id is None and message_text is None:
        raise record.error("ticket_id", "is empty, and so is message_id: one of them must name the ticket")
    if ticket_id is not None and message_text is not None:
        raise record.error("message_id", "is given beside ticket_id: name the ticket one way only")
    if message_text is None:
        return ticket_id, None
    ids = extract_message_ids(message_text)
    if len(ids) != 1:
        raise record.error("message_id", f"{message_text!r} is not one Message-ID (such as <abc@mail.example>)")
    return None, ids[0]
