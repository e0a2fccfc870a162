"""Import mail into the store: read, parse, classify, store new messages, then re-thread and rebuild tickets.

Parsing runs in this thread while a writer thread stores the previous batch (DuckDB and the Rust parser
both release the GIL, so the two overlap). Memory stays bounded: at most a few batches are in flight.
Every message read ends in exactly one place: stored, recognised as a duplicate of a stored message, or
the quarantine.
"""

from __future__ import annotations

import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import pyarrow as pa

from deskpulse.columns import decode, encode, rows_table
from deskpulse.config import Config
from deskpulse.mail.records import MESSAGE_COLUMNS, PreparedBatch, prepare_batch
from deskpulse.mail.senders import SenderRules
from deskpulse.mail.workers import prepare_in_processes
from deskpulse.schema import INGEST_RUNS, MESSAGES, QUARANTINE
from deskpulse.sources.mailbox import RawMessage, read_messages
from deskpulse.store import Store

BATCH_SIZE = 2000
REBUILD_MEMORY_LIMIT = "512MB"
# Below this much input, starting parser processes costs more than it saves.
PARALLEL_THRESHOLD_BYTES = 32 * 1024 * 1024
_MESSAGE_SCHEMA = MESSAGES.arrow_schema()
assert tuple(_MESSAGE_SCHEMA.names) == MESSAGE_COLUMNS, "mail.records and schema.MESSAGES disagree"


@dataclass
class IngestSummary:
    sources: list[str] = field(default_factory=list)
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    repaired: int = 0
    tickets: int = 0
    seconds: float = 0.0
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (position, reason, detail), the first 50

    @property
    def messages_per_second(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "sources": self.sources,
            "messages_read": self.read,
            "messages_stored": self.stored,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "repaired": self.repaired,
            "tickets": self.tickets,
            "seconds": round(self.seconds, 3),
        }


ProgressCallback = Callable[[int], None]


def ingest_paths(
    store: Store,
    config: Config,
    paths: Iterable[Path],
    *,
    progress: ProgressCallback | None = None,
    batch_size: int = BATCH_SIZE,
    workers: int | None = None,
) -> IngestSummary:
    """Read every message under ``paths`` into ``store`` and rebuild the tickets. Safe to run again."""
    paths = list(paths)
    summary = IngestSummary(sources=[str(p) for p in paths])
    started = datetime.now(UTC)
    now = started.replace(tzinfo=None)
    known_keys = store.message_keys()
    if workers is None:
        workers = default_workers(paths)
    batches = (batch for path in paths for batch in _batches(read_messages(path), batch_size))
    with store.bulk_import(), _StoreWriter(store) as writer:
        for prepared in _prepare_all(batches, config, now, workers):
            writer.put(prepared, _count_new(prepared, known_keys, summary))
            if progress is not None:
                progress(prepared.read)
    del known_keys
    # Imported only now: it brings Ibis, which the batches above do not need while parser processes run.
    from deskpulse.tickets import rebuild_tickets

    # The rebuild reads the whole store; a bounded memory limit keeps an import's footprint flat as stores grow.
    with store.memory_limit(REBUILD_MEMORY_LIMIT):
        summary.tickets = rebuild_tickets(store, config)
    finished = datetime.now(UTC)
    summary.seconds = (finished - started).total_seconds()
    _record_run(store, summary, started, finished)
    return summary


def _batches(messages: Iterator[RawMessage], size: int) -> Iterator[list[RawMessage]]:
    while batch := list(islice(messages, size)):
        yield batch


def default_workers(paths: list[Path]) -> int:
    """Parser processes for this input: none for small inputs, where starting them costs more than it saves."""
    total = 0
    for path in paths:
        if path.is_file():
            total += path.stat().st_size
        elif path.is_dir():
            total += sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    cores = os.cpu_count() or 1
    return cores if cores > 1 and total >= PARALLEL_THRESHOLD_BYTES else 0


def _prepare_all(
    batches: Iterator[list[RawMessage]], config: Config, now: datetime, workers: int
) -> Iterator[PreparedBatch]:
    """Prepared batches in source order, so the first copy of a duplicate is always the one kept."""
    if workers <= 0:
        rules = SenderRules(config.helpdesk)
        for batch in batches:
            yield prepare_batch(batch, rules, now)
    else:
        yield from prepare_in_processes(batches, config.helpdesk, now, workers)


def _count_new(prepared: PreparedBatch, known_keys: set[str], summary: IngestSummary) -> list[bool]:
    """Which rows are messages not stored yet (the first copy wins); counts everything in ``summary``."""
    is_new = []
    new_keys = set()
    for key in prepared.keys:
        new = key not in known_keys
        if new:
            known_keys.add(key)
            new_keys.add(key)
        is_new.append(new)
    summary.read += prepared.read
    summary.stored += len(new_keys)
    summary.duplicates += len(prepared.keys) - len(new_keys)
    # `repaired` counts messages stored by this import with at least one repair, not repairs.
    summary.repaired += len({p["message_key"] for p in prepared.problems if p["message_key"] in new_keys})
    for problem in prepared.problems:
        if problem["action"] == "rejected":
            summary.quarantined += 1
        if len(summary.problems) < 50:
            where = f"{problem['source']} {problem['source_position']}"
            summary.problems.append((where, str(problem["reason"]), str(problem["detail"])))
    return is_new


class _StoreWriter:
    """Writes batches on a thread of its own, at most two behind the parser; re-raises its errors.

    Problem rows are few and each insert has a fixed cost, so they are written in groups.
    """

    _DONE = None
    _PROBLEMS_PER_WRITE = 2000

    def __init__(self, store: Store) -> None:
        self.store = store
        self.queue: queue.Queue[tuple[PreparedBatch, list[bool]] | None] = queue.Queue(2)
        self.error: BaseException | None = None
        self.problems: list[dict[str, object]] = []
        self.thread = threading.Thread(target=self._run, name="deskpulse-store-writer", daemon=True)

    def __enter__(self) -> _StoreWriter:
        self.thread.start()
        return self

    def put(self, prepared: PreparedBatch, is_new: list[bool]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((prepared, is_new))

    def __exit__(self, *exc: object) -> None:
        self.queue.put(self._DONE)
        self.thread.join()
        if self.error is not None and exc[0] is None:
            raise self.error

    def _run(self) -> None:
        while (item := self.queue.get()) is not self._DONE:
            if self.error is not None:
                continue  # drain, so the parser is never blocked on a dead writer
            prepared, is_new = item
            try:
                if any(is_new):
                    table = pa.Table.from_arrays([decode(c) for c in prepared.columns], schema=_MESSAGE_SCHEMA)
                    if not all(is_new):
                        table = table.filter(decode(encode(is_new, "BOOLEAN")))
                    self.store.append("messages", table)
                self.problems += prepared.problems
                if len(self.problems) >= self._PROBLEMS_PER_WRITE:
                    self._write_problems()
            except BaseException as exc:  # handed to the parser thread, which raises it
                self.error = exc
        if self.error is None:
            try:
                self._write_problems()
            except BaseException as exc:
                self.error = exc

    def _write_problems(self) -> None:
        if self.problems:
            self.store.insert_new("quarantine", rows_table(QUARANTINE, self.problems))
            self.problems = []


def _record_run(store: Store, summary: IngestSummary, started: datetime, finished: datetime) -> None:
    row = {
        "run_id": uuid.uuid4().hex,
        "started_at": started.replace(tzinfo=None),
        "finished_at": finished.replace(tzinfo=None),
        "sources": ", ".join(summary.sources),
        "messages_read": summary.read,
        "messages_stored": summary.stored,
        "duplicates": summary.duplicates,
        "quarantined": summary.quarantined,
        "repaired": summary.repaired,
    }
    store.insert_new("ingest_runs", rows_table(INGEST_RUNS, [row]))
