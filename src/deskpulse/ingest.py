"""Import mail into the store: read, parse, classify, store new messages, then re-thread and rebuild tickets.

Any source of raw messages goes through `ingest_messages`: files on disk (`ingest_paths`) and live servers
(`deskpulse.sources.imap`), which advance their checkpoint as each batch is stored.

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
from collections import Counter, deque
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
from deskpulse.schema import INGEST_RUNS, MESSAGE_LABELS, MESSAGES, QUARANTINE
from deskpulse.sources.mailbox import RawMessage, read_messages
from deskpulse.store import Store

BATCH_SIZE = 2000
REBUILD_MEMORY_LIMIT = "512MB"
# A `meta` row saying stored mail awaits a ticket rebuild: set before an import first writes, cleared by the rebuild,
# so a sync interrupted in between (Ctrl-C, a lost server) still gets its tickets rebuilt by the next one.
REBUILD_PENDING_KEY = "rebuild_pending"
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
    labels: int = 0  # new `message_labels` rows: folders and Gmail labels
    tickets: int = 0
    seconds: float = 0.0
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (position, reason, detail), the first 50
    quarantine_reasons: Counter[str] = field(default_factory=Counter)  # quarantined messages per reason

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
            "quarantine_reasons": dict(self.quarantine_reasons),
            "repaired": self.repaired,
            "labels_stored": self.labels,
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
    messages = (message for path in paths for message in read_messages(path))
    return ingest_messages(
        store,
        config,
        messages,
        [str(p) for p in paths],
        progress=progress,
        batch_size=batch_size,
        workers=default_workers(paths) if workers is None else workers,
    )


BatchStored = Callable[[RawMessage], None]


def ingest_messages(
    store: Store,
    config: Config,
    messages: Iterable[RawMessage],
    sources: list[str],
    *,
    progress: ProgressCallback | None = None,
    batch_size: int = BATCH_SIZE,
    workers: int = 0,
    on_batch_stored: BatchStored | None = None,
    rebuild: bool = True,
) -> IngestSummary:
    """Store every message of ``messages`` that is not stored yet, with its labels; then rebuild the tickets,
    unless ``rebuild`` is False (a sync of several folders rebuilds once, with `rebuild_if_pending`).

    ``on_batch_stored`` is called with the last message of each batch once that batch, its labels and its
    quarantine rows are written: a live source advances its checkpoint there, so a crash can only make it fetch
    a stored batch again (harmless: its messages are then duplicates), never skip one.
    """
    summary = IngestSummary(sources=sources)
    started = datetime.now(UTC)
    now = started.replace(tzinfo=None)
    known_keys = store.message_keys()
    last_of_batch: deque[RawMessage] = deque()  # prepared batches come back in order: their last messages

    def batches() -> Iterator[list[RawMessage]]:
        iterator = iter(messages)
        while batch := list(islice(iterator, batch_size)):
            last_of_batch.append(batch[-1])
            yield batch

    with store.bulk_import(), _StoreWriter(store, on_batch_stored) as writer:
        for prepared in _prepare_all(batches(), config, now, workers):
            writer.put(prepared, _count_new(prepared, known_keys, summary), last_of_batch.popleft())
            if progress is not None:
                progress(prepared.read)
    summary.labels = writer.labels_stored
    del known_keys
    if rebuild:
        summary.tickets = rebuild_store(store, config)
    finished = datetime.now(UTC)
    summary.seconds = (finished - started).total_seconds()
    _record_run(store, summary, started, finished)
    return summary


def rebuild_store(store: Store, config: Config, *, touched_only: bool = False) -> int:
    """Re-thread the stored mail and rebuild tickets and their facts; return the ticket count. With
    ``touched_only`` (a live sync's few new messages) only the tickets the new mail reaches are re-threaded and
    recomputed (`deskpulse.touched`)."""
    # Imported only now: it brings Ibis, which an import does not need while parser processes run.
    from deskpulse.tickets import rebuild_tickets
    from deskpulse.touched import update_tickets

    # The rebuild reads the whole store; a bounded memory limit keeps an import's footprint flat as stores grow.
    with store.memory_limit(REBUILD_MEMORY_LIMIT):
        tickets = update_tickets(store, config) if touched_only else rebuild_tickets(store, config)
    store.execute("DELETE FROM meta WHERE key = ?", [REBUILD_PENDING_KEY])
    return tickets


def rebuild_if_pending(store: Store, config: Config, *, touched_only: bool = False) -> int | None:
    """Rebuild when an import stored something since the last rebuild (`REBUILD_PENDING_KEY`); else None."""
    if not store.execute("SELECT 1 FROM meta WHERE key = ?", [REBUILD_PENDING_KEY]):
        return None
    return rebuild_store(store, config, touched_only=touched_only)


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
            summary.quarantine_reasons[str(problem["reason"])] += 1
        if len(summary.problems) < 50:
            where = f"{problem['source']} {problem['source_position']}"
            summary.problems.append((where, str(problem["reason"]), str(problem["detail"])))
    return is_new


class _StoreWriter:
    """Writes batches on a thread of its own, at most two behind the parser; re-raises its errors.

    Problem rows are few and each insert has a fixed cost, so they are written in groups, unless someone waits
    for each batch to be stored (``on_batch_stored``): then a batch's problems are written with it.
    """

    _DONE = None
    _PROBLEMS_PER_WRITE = 2000

    def __init__(self, store: Store, on_batch_stored: BatchStored | None = None) -> None:
        self.store = store
        self.on_batch_stored = on_batch_stored
        self.queue: queue.Queue[tuple[PreparedBatch, list[bool], RawMessage] | None] = queue.Queue(2)
        self.error: BaseException | None = None
        self.problems: list[dict[str, object]] = []
        self.labels_stored = 0
        self.marked_pending = False
        self.thread = threading.Thread(target=self._run, name="deskpulse-store-writer", daemon=True)

    def __enter__(self) -> _StoreWriter:
        self.thread.start()
        return self

    def put(self, prepared: PreparedBatch, is_new: list[bool], last: RawMessage) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((prepared, is_new, last))

    def __exit__(self, *exc: object) -> None:
        self.queue.put(self._DONE)
        self.thread.join()
        if self.error is not None and exc[0] is None:
            raise self.error

    def _run(self) -> None:
        while (item := self.queue.get()) is not self._DONE:
            if self.error is not None:
                continue  # drain, so the parser is never blocked on a dead writer
            prepared, is_new, last = item
            try:
                if (any(is_new) or prepared.labels) and not self.marked_pending:
                    self.store.execute("DELETE FROM meta WHERE key = ?", [REBUILD_PENDING_KEY])
                    self.store.execute("INSERT INTO meta VALUES (?, 'true')", [REBUILD_PENDING_KEY])
                    self.marked_pending = True
                if any(is_new):
                    table = pa.Table.from_arrays([decode(c) for c in prepared.columns], schema=_MESSAGE_SCHEMA)
                    if not all(is_new):
                        table = table.filter(decode(encode(is_new, "BOOLEAN")))
                    self.store.append("messages", table)
                if prepared.labels:
                    self.labels_stored += self.store.insert_new(
                        "message_labels", rows_table(MESSAGE_LABELS, prepared.labels)
                    )
                self.problems += prepared.problems
                if len(self.problems) >= self._PROBLEMS_PER_WRITE or self.on_batch_stored is not None:
                    self._write_problems()
                if self.on_batch_stored is not None:
                    self.on_batch_stored(last)
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
