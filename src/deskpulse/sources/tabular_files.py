"""The files of the generic CSV/JSONL connector: which files a mapping reads, and their rows.

A file is CSV or JSONL, plain, gzipped or the one file of a .zip, in the encoding the mapping names. Its rows come
keyed by the columns the mapping reads; a row that cannot be read (a CSV line with too many fields, a line that is
not JSON) is a `BadRow`, for the importer to quarantine; bytes the encoding cannot decode are replaced and the
rows holding them marked. A mapping that does not fit a file (a column missing from the header) is a
`MappingError`: that is no row's fault.
"""

from __future__ import annotations

import codecs
import csv
import fnmatch
import gzip
import json
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from deskpulse.sources.tabular_mapping import KindMapping, MappingError, TabularMapping

LONGEST_FIELD = 64 * 1024 * 1024  # a CSV field as long as a message body may get (the csv module's default: 128 KiB)


def files_for(mapping: TabularMapping, paths: Sequence[Path]) -> dict[str, list[Path]]:
    """Per kind, the files to read: those of ``paths`` (folders: the files in them) whose name matches the kind's
    ``file`` pattern; without paths, the files the pattern finds next to the mapping (or where it points)."""
    found: dict[str, list[Path]] = {kind: [] for kind in mapping.kinds}
    if not paths:
        for kind, spec in mapping.kinds.items():
            pattern = Path(spec.file).expanduser()
            if not pattern.is_absolute():
                pattern = mapping.path.parent / pattern
            found[kind] = sorted(p for p in pattern.parent.glob(pattern.name) if p.is_file())
        if not any(found.values()):
            patterns = ", ".join(f"{kind}: {spec.file}" for kind, spec in mapping.kinds.items())
            raise MappingError(f"{mapping.path}: no file matches ({patterns}); name the files to read")
        return found
    candidates: list[Path] = []
    for path in paths:
        if path.is_dir():
            candidates += sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        elif path.is_file():
            candidates.append(path)
        else:
            raise MappingError(f"{path}: no such file or folder")
    for path in candidates:
        kinds = [kind for kind, spec in mapping.kinds.items() if fnmatch.fnmatch(path.name, Path(spec.file).name)]
        if not kinds and path in paths:
            patterns = ", ".join(f"{kind}: {Path(spec.file).name}" for kind, spec in mapping.kinds.items())
            raise MappingError(f"{path}: its name matches no file of the mapping {mapping.path} ({patterns})")
        for kind in kinds:
            found[kind].append(path)
    return found


@dataclass(frozen=True)
class Row:
    """One record of a file: where it is (``file:line``) and its values by the mapping's column names."""

    position: str
    values: Mapping[str, Any]
    raw: str
    replaced: bool = False  # bytes the file's encoding could not decode were replaced in this row


@dataclass(frozen=True)
class BadRow:
    """A record that could not be read at all, with the reason and what was read of it."""

    position: str
    reason: str
    detail: str
    raw: str


def read_rows(path: Path, spec: KindMapping, mapping_path: Path) -> Iterator[Row | BadRow]:
    """The rows of a CSV or JSONL file (plain, .gz, or the one file of a .zip), keyed by the columns the mapping
    reads. A CSV header that lacks one of them raises `MappingError`; a row that cannot be read is a `BadRow`."""
    with _open_binary(path) as (binary, member):
        inner = member or path.name.removesuffix(".gz")
        display = f"{path.name}/{member}" if member else path.name
        format_ = spec.format or ("jsonl" if inner.lower().endswith((".jsonl", ".ndjson", ".json")) else "csv")
        lines = _Lines(binary, spec.encoding)
        if format_ == "jsonl":
            yield from _jsonl_rows(lines, display, spec)
        else:
            yield from _csv_rows(lines, display, spec, mapping_path)


@contextmanager
def _open_binary(path: Path) -> Iterator[tuple[IO[bytes], str | None]]:
    """A file, a .gz file or the one file inside a .zip, opened for reading bytes; and the zip member's name."""
    with ExitStack() as stack:
        member = None
        try:
            if path.suffix.lower() == ".zip":
                archive = stack.enter_context(zipfile.ZipFile(path))
                names = [n for n in archive.namelist() if not n.endswith("/") and not n.startswith("__MACOSX")]
                if len(names) != 1:
                    raise MappingError(f"{path}: a .zip must hold one file, this one holds {len(names)}: {names[:5]}")
                member = names[0]
                binary: IO[bytes] = stack.enter_context(archive.open(member))
            elif path.suffix.lower() == ".gz":
                binary = stack.enter_context(gzip.GzipFile(path, "rb"))  # type: ignore[arg-type]
            else:
                binary = stack.enter_context(path.open("rb"))
        except (OSError, zipfile.BadZipFile) as exc:
            raise MappingError(f"cannot read {path}: {exc}") from exc
        yield binary, member


class _Lines:
    """The lines of a file as text, numbered from 1. Bytes the encoding cannot decode are replaced and the lines
    holding them remembered, so the rows they fall in are reported: never the end of the import."""

    def __init__(self, binary: IO[bytes], encoding: str) -> None:
        self.binary, self.encoding = binary, encoding
        self.replaced: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.encoding)()
        for number, line in enumerate(self.binary, start=1):
            try:
                yield decoder.decode(line)
            except UnicodeDecodeError:
                self.replaced.add(number)
                yield line.decode(self.encoding, errors="replace")
                decoder = codecs.getincrementaldecoder(self.encoding)()

    def any_replaced(self, first: int, last: int) -> bool:
        return bool(self.replaced) and any(number in self.replaced for number in range(first, last + 1))


def _csv_rows(lines: _Lines, display: str, spec: KindMapping, mapping_path: Path) -> Iterator[Row | BadRow]:
    csv.field_size_limit(max(csv.field_size_limit(), LONGEST_FIELD))
    reader = csv.reader(lines, delimiter=spec.delimiter)
    header = next(reader, None)
    if header is None:
        return
    names = [name.strip() for name in header]
    by_name = {name: index for index, name in reversed(list(enumerate(names)))}
    by_folded = {name.casefold(): index for index, name in reversed(list(enumerate(names)))}
    wanted: dict[str, int] = {}
    for key, column in spec.columns_read():
        index = by_name.get(column, by_folded.get(column.casefold()))
        if index is None:
            raise MappingError(
                f"{mapping_path}: {key}: column {column!r} is not in the header of {display} "
                f"(its columns: {', '.join(names)})"
            )
        wanted[column] = index
    while True:
        first = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield BadRow(f"{display}:{first}", "bad_row", f"not valid CSV: {exc}", "")
            continue
        position = f"{display}:{first}"
        raw = spec.delimiter.join(values)
        if not any(value.strip() for value in values):
            continue
        if len(values) != len(names):
            detail = f"{len(values)} fields where the header names {len(names)}"
            yield BadRow(position, "bad_row", detail, raw)
            continue
        replaced = lines.any_replaced(first, reader.line_num)
        yield Row(position, {column: values[index] for column, index in wanted.items()}, raw, replaced)


def _jsonl_rows(lines: _Lines, display: str, spec: KindMapping) -> Iterator[Row | BadRow]:
    columns = {column for _, column in spec.columns_read()}
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        position = f"{display}:{number}"
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            yield BadRow(position, "bad_row", f"not valid JSON: {exc.msg}", text)
            continue
        if not isinstance(record, dict):
            yield BadRow(position, "bad_row", "a line must hold a JSON object", text)
            continue
        values = {column: _json_path(record, column) for column in columns}
        yield Row(position, values, text, lines.any_replaced(number, number))


def _json_path(record: Mapping[str, Any], column: str) -> Any:
    """A key of a JSON object; ``via.channel`` reaches into nested objects when no key has the dotted name."""
    if column in record:
        return record[column]
    value: Any = record
    for part in column.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value
