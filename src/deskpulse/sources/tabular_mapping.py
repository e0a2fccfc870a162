"""The mapping file of the generic CSV/JSONL connector: which file holds which kind of record, which column gives
which canonical field, how to read times and ids, and what the source's words mean in ours.

A mapping is TOML (docs/connectors.md, "Generic CSV / JSONL", shows a full one). It is checked whole before any
file is read, and every error names the mapping file and the key, such as ``tickets.columns.created_at``, so
an export from any other tool maps without code and a mistake in the mapping is found before an import starts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from deskpulse.config import read_toml
from deskpulse.errors import UserError

# How a field's value is read: an id (several columns joined by the kind's id_separator), plain text, a time,
# a category (several columns joined as levels, "Top > Sub"), a list (tags), a boolean, a whole number or a number.
ID, TEXT, TIME, CATEGORY, LIST, BOOL, INT, NUMBER = "id", "text", "time", "category", "list", "bool", "int", "number"
JOINED = (ID, CATEGORY, LIST)  # the types a list of columns may give


@dataclass(frozen=True)
class FieldSpec:
    type: str
    required: bool = False


KIND_FIELDS: dict[str, dict[str, FieldSpec]] = {
    "tickets": {
        "id": FieldSpec(ID, True),
        "created_at": FieldSpec(TIME, True),
        "subject": FieldSpec(TEXT),
        "requester": FieldSpec(TEXT),
        "mailbox": FieldSpec(TEXT),
        "channel": FieldSpec(TEXT),
        "updated_at": FieldSpec(TIME),
        "status": FieldSpec(TEXT),
        "resolved_at": FieldSpec(TIME),
        "priority": FieldSpec(TEXT),
        "category": FieldSpec(CATEGORY),
        "organisation": FieldSpec(TEXT),
        "assignee": FieldSpec(TEXT),
        "group": FieldSpec(TEXT),
        "merged_into": FieldSpec(ID),
        "excluded_reason": FieldSpec(TEXT),
        "tags": FieldSpec(LIST),
    },
    "messages": {
        "id": FieldSpec(ID, True),
        "ticket": FieldSpec(ID, True),
        "created_at": FieldSpec(TIME, True),
        "author": FieldSpec(TEXT),
        "role": FieldSpec(TEXT, True),
        "body": FieldSpec(TEXT),
        "is_public": FieldSpec(BOOL),
        "author_name": FieldSpec(TEXT),
        "message_id": FieldSpec(TEXT),
        "attachment_count": FieldSpec(INT),
    },
    "events": {
        "id": FieldSpec(ID),
        "ticket": FieldSpec(ID, True),
        "occurred_at": FieldSpec(TIME, True),
        "kind": FieldSpec(TEXT),
        "new_value": FieldSpec(TEXT),
        "old_value": FieldSpec(TEXT),
        "actor": FieldSpec(TEXT),
    },
    "surveys": {
        "id": FieldSpec(ID),
        "ticket": FieldSpec(ID, True),
        "kind": FieldSpec(TEXT, True),
        "score": FieldSpec(TEXT),
        "sent_at": FieldSpec(TIME),
        "answered_at": FieldSpec(TIME),
        "agent": FieldSpec(TEXT),
        "comment": FieldSpec(TEXT),
        "delivered": FieldSpec(BOOL),
    },
    "time_entries": {
        "id": FieldSpec(ID),
        "ticket": FieldSpec(ID, True),
        "agent": FieldSpec(TEXT, True),
        "started_at": FieldSpec(TIME, True),
        "seconds": FieldSpec(NUMBER),
        "minutes": FieldSpec(NUMBER),
        "billable": FieldSpec(BOOL),
    },
}
KINDS = tuple(KIND_FIELDS)
FORMATS = ("csv", "jsonl")
# Time formats besides strptime patterns: ISO 8601 (with or without an offset), Unix seconds, Unix milliseconds.
ISO, UNIX, UNIX_MS = "iso", "unix", "unix_ms"
# Keys allowed both at the top of the file (the default for every kind) and in a kind's table.
SHARED_KEYS = ("timezone", "time_formats", "missing", "values")
KIND_KEYS = (
    "file",
    "format",
    "delimiter",
    "encoding",
    "columns",
    "constants",
    "id_separator",
    "list_separator",
    "skip_without",
    "from_snapshots",
    *SHARED_KEYS,
)
TOP_KEYS = ("source", *SHARED_KEYS, *KINDS)
_SOURCE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


class MappingError(UserError):
    """A mapping file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class KindMapping:
    """How one kind of record (tickets, messages, events, surveys, time_entries) is read."""

    kind: str
    file: str  # a file name or glob pattern, relative to the mapping file unless absolute
    format: str | None  # csv or jsonl; None: from the file name
    delimiter: str
    encoding: str
    columns: Mapping[str, tuple[str, ...]]  # field → the column(s) it comes from
    constants: Mapping[str, str]  # field → a fixed value, already in deskpulse's words
    values: Mapping[str, Mapping[str, str]]  # field (or event kind) → the source's value → ours
    timezone: str
    time_formats: tuple[str, ...]
    missing: frozenset[str]  # values that mean "no value", besides the empty string
    id_separator: str
    list_separator: str
    skip_without: tuple[str, ...]  # a row without a value for one of these fields is no record of this kind
    from_snapshots: Mapping[str, str] = field(default_factory=dict)  # event kind → the column watched

    @property
    def snapshots(self) -> bool:
        return bool(self.from_snapshots)

    def columns_read(self) -> list[tuple[str, str]]:
        """(key path, column) for every column the mapping reads, to check against a CSV header."""
        named = [
            (f"{self.kind}.columns.{name}", column) for name, columns in self.columns.items() for column in columns
        ]
        named += [(f"{self.kind}.from_snapshots.{kind}", column) for kind, column in self.from_snapshots.items()]
        return named


@dataclass(frozen=True)
class TabularMapping:
    path: Path
    source: str
    kinds: Mapping[str, KindMapping]


def read_mapping(path: Path, default_timezone: str) -> TabularMapping:
    """The mapping in ``path``; a `MappingError` naming the key for anything amiss. Times without an offset are
    read in ``default_timezone`` (the reporting timezone) unless the mapping names another."""
    data = read_toml(path, MappingError, "the mapping")
    return parse_mapping(data, path, default_timezone)


def parse_mapping(data: Mapping[str, Any], path: Path, default_timezone: str) -> TabularMapping:
    """Validate a parsed mapping document; ``path`` names it in errors and anchors relative file names."""
    check = _Checker(path)
    check.keys("", data, TOP_KEYS)
    source = data.get("source", "csv")
    if not isinstance(source, str) or not _SOURCE_NAME.fullmatch(source):
        raise check.error("source", f"{source!r} is not a source name: lowercase letters, digits, - and _")
    defaults = _shared(check, "", data, {"timezone": default_timezone, "time_formats": (ISO,), "missing": frozenset()})
    kinds = {kind: _kind(check, kind, data[kind], defaults) for kind in KINDS if kind in data}
    if not kinds:
        raise check.error("", f"maps no kind of record; add at least one of [{'], ['.join(KINDS)}]")
    return TabularMapping(path, source, kinds)


@dataclass(frozen=True)
class _Checker:
    path: Path

    def error(self, key: str, problem: str) -> MappingError:
        return MappingError(f"{self.path}: {key}: {problem}" if key else f"{self.path}: {problem}")

    def keys(self, where: str, table: Mapping[str, Any], known: tuple[str, ...]) -> None:
        for name in table:
            if name not in known:
                raise self.error(_join(where, name), f"unknown key; known keys here: {', '.join(known)}")

    def table(self, key: str, value: Any) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(key, f"must be a table, not {_describe(value)}")
        return value

    def text(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise self.error(key, f"must be a non-empty string, not {_describe(value)}")
        return value

    def texts(self, key: str, value: Any) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            raise self.error(key, f"must be a string or a non-empty list of strings, not {_describe(value)}")
        return tuple(self.text(key, item) for item in items)


def _shared(check: _Checker, where: str, table: Mapping[str, Any], inherited: dict[str, Any]) -> dict[str, Any]:
    """timezone, time_formats, missing and values of a table, falling back to ``inherited``."""
    shared = dict(inherited)
    if "timezone" in table:
        key = _join(where, "timezone")
        name = check.text(key, table["timezone"])
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise check.error(key, f"unknown timezone {name!r}; use an IANA name such as 'Europe/Berlin'") from None
        shared["timezone"] = name
    if "time_formats" in table:
        key = _join(where, "time_formats")
        formats = check.texts(key, table["time_formats"])
        for pattern in formats:
            if pattern not in (ISO, UNIX, UNIX_MS) and "%" not in pattern:
                raise check.error(
                    key, f"{pattern!r} is neither 'iso', 'unix', 'unix_ms' nor a strptime pattern such as '%d/%m/%Y'"
                )
        shared["time_formats"] = formats
    if "missing" in table:
        shared["missing"] = frozenset(check.texts(_join(where, "missing"), table["missing"]))
    values = dict(inherited.get("values", {}))
    if "values" in table:
        key = _join(where, "values")
        for name, mapped in check.table(key, table["values"]).items():
            values[name] = _value_map(check, f"{key}.{name}", mapped)
    shared["values"] = values
    return shared


def _value_map(check: _Checker, key: str, value: Any) -> dict[str, str]:
    table = check.table(key, value)
    for source_value, ours in table.items():
        if not isinstance(ours, str | bool | int):
            raise check.error(f"{key}.{source_value}", f"must be a string, not {_describe(ours)}")
    return {
        source_value: str(ours).lower() if isinstance(ours, bool) else str(ours) for source_value, ours in table.items()
    }


def _kind(check: _Checker, kind: str, value: Any, defaults: dict[str, Any]) -> KindMapping:
    table = check.table(kind, value)
    check.keys(kind, table, KIND_KEYS)
    fields = KIND_FIELDS[kind]
    shared = _shared(check, kind, table, defaults)
    file = check.text(f"{kind}.file", table.get("file"))
    format_ = table.get("format")
    if format_ is not None and format_ not in FORMATS:
        raise check.error(f"{kind}.format", f"must be one of {', '.join(FORMATS)}, not {_describe(format_)}")
    delimiter = check.text(f"{kind}.delimiter", table.get("delimiter", ","))
    if len(delimiter) != 1:
        raise check.error(f"{kind}.delimiter", f"{delimiter!r} is not one character")
    encoding = check.text(f"{kind}.encoding", table.get("encoding", "utf-8-sig"))
    columns = _columns(check, kind, table.get("columns", {}), fields)
    constants = _constants(check, kind, table.get("constants", {}), fields)
    for name in set(columns) & set(constants):
        raise check.error(f"{kind}.constants.{name}", "is also in columns: take the field from one or the other")
    snapshots = {
        name: check.text(f"{kind}.from_snapshots.{name}", column)
        for name, column in check.table(f"{kind}.from_snapshots", table.get("from_snapshots", {})).items()
    }
    if snapshots and kind != "events":
        raise check.error(f"{kind}.from_snapshots", "only events can be read from snapshots")
    for name in snapshots:
        if name in fields:
            raise check.error(f"{kind}.from_snapshots.{name}", "is a field of events, not a kind of change")
    given = set(columns) | set(constants)
    required = [name for name, spec in fields.items() if spec.required]
    if kind == "events" and not snapshots:
        required += ["kind", "new_value"]
    for name in required:
        if name not in given:
            raise check.error(f"{kind}.columns.{name}", "is required: name its column (or give it in constants)")
    if snapshots:
        for name in ("id", "kind", "new_value", "old_value"):
            if name in given:
                raise check.error(
                    f"{kind}.columns.{name}", "is read from the snapshots: each change of a watched column is an event"
                )
    if kind == "time_entries" and ("seconds" in given) == ("minutes" in given):
        raise check.error(f"{kind}.columns.seconds", "give the duration one way: seconds or minutes")
    skip_without = check.texts(f"{kind}.skip_without", table.get("skip_without", [])) if "skip_without" in table else ()
    for name in skip_without:
        if name not in fields:
            raise check.error(f"{kind}.skip_without", f"{name!r} is not a field of {kind}; known: {', '.join(fields)}")
    value_names = set(fields) | set(snapshots)
    if kind != "events":  # an event's values are keyed by its kind, which only its rows name
        for name in table.get("values", {}):
            if name not in value_names:
                raise check.error(f"{kind}.values.{name}", f"is not a field of {kind}; known: {', '.join(fields)}")
    return KindMapping(
        kind=kind,
        file=file,
        format=format_,
        delimiter=delimiter,
        encoding=encoding,
        columns=columns,
        constants=constants,
        values=shared["values"],
        timezone=shared["timezone"],
        time_formats=shared["time_formats"],
        missing=shared["missing"],
        id_separator=check.text(f"{kind}.id_separator", table.get("id_separator", "-")),
        list_separator=check.text(f"{kind}.list_separator", table.get("list_separator", ",")),
        skip_without=skip_without,
        from_snapshots=snapshots,
    )


def _columns(check: _Checker, kind: str, value: Any, fields: dict[str, FieldSpec]) -> dict[str, tuple[str, ...]]:
    columns: dict[str, tuple[str, ...]] = {}
    for name, named in check.table(f"{kind}.columns", value).items():
        key = f"{kind}.columns.{name}"
        if name not in fields:
            raise check.error(key, f"is not a field of {kind}; known: {', '.join(fields)}")
        columns[name] = check.texts(key, named)
        if len(columns[name]) > 1 and fields[name].type not in JOINED:
            raise check.error(key, "takes one column (only ids, category and tags join several)")
    return columns


def _constants(check: _Checker, kind: str, value: Any, fields: dict[str, FieldSpec]) -> dict[str, str]:
    constants: dict[str, str] = {}
    for name, constant in check.table(f"{kind}.constants", value).items():
        key = f"{kind}.constants.{name}"
        if name not in fields:
            raise check.error(key, f"is not a field of {kind}; known: {', '.join(fields)}")
        if fields[name].type == TIME:
            raise check.error(key, "a time cannot be a constant")
        if not isinstance(constant, str | bool | int | float) or constant == "":
            raise check.error(key, f"must be a string, number or boolean, not {_describe(constant)}")
        constants[name] = str(constant).lower() if isinstance(constant, bool) else str(constant)
    return constants


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)
