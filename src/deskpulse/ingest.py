"""Import mail into the store: read, parse, classify, store new messages, then re-thread and rebuild tickets.

Batches keep memory bounded: only one batch of raw messages is held at a time. Every message read ends in
exactly one of three places: stored, recognised as a duplicate of a stored message, or the quarantine.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import pyarrow as pa

from deskpulse.config import Config
from deskpulse.mail.parse import ParsedMail, Rejected, parse_batch
from deskpulse.mail.senders import SenderRules
from deskpulse.schema import INGEST_RUNS, MESSAGES, QUARANTINE
from deskpulse.sources.mailbox import RawMessage, read_messages
from deskpulse.store import Store
from deskpulse.tickets import rebuild_tickets

BATCH_SIZE = 2000
_EXCERPT_BYTES = 300


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
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (position, reason, detail), capped

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
) -> IngestSummary:
    """Read every message under ``paths`` into ``store`` and rebuild the tickets. Safe to run again."""
    paths = list(paths)
    summary = IngestSummary(sources=[str(p) for p in paths])
    started = datetime.now(UTC)
    rules = SenderRules(config.helpdesk)
    for path in paths:
        for batch in _batches(read_messages(path), batch_size):
            _ingest_batch(store, rules, batch, summary)
            if progress is not None:
                progress(len(batch))
    summary.tickets = rebuild_tickets(store, config)
    finished = datetime.now(UTC)
    summary.seconds = (finished - started).total_seconds()
    _record_run(store, summary, started, finished)
    return summary


def _batches(messages: Iterator[RawMessage], size: int) -> Iterator[list[RawMessage]]:
    while batch := list(islice(messages, size)):
        yield batch


def _ingest_batch(store: Store, rules: SenderRules, batch: list[RawMessage], summary: IngestSummary) -> None:
    parsed: list[ParsedMail] = []
    problems: list[dict[str, object]] = []
    now = datetime.now(UTC).replace(tzinfo=None)
    for result in parse_batch(batch):
        if isinstance(result, Rejected):
            problems.append(
                _problem_row(result.raw, result.content_hash, result.reason, "rejected", result.detail, None, now)
            )
            continue
        parsed.append(result)
    summary.read += len(batch)
    stored = store.insert_new("messages", _message_rows(parsed, rules, now))
    summary.stored += stored
    summary.duplicates += len(parsed) - stored
    for mail in parsed:
        for reason, detail in mail.repairs:
            problems.append(
                _problem_row(mail.raw, mail.content_hash, reason, "repaired", detail, mail.message_key, now)
            )
    if problems:
        store.insert_new("quarantine", pa.Table.from_pylist(problems, schema=QUARANTINE.arrow_schema()))
        summary.quarantined += sum(1 for p in problems if p["action"] == "rejected")
        summary.repaired += sum(1 for p in problems if p["action"] == "repaired")
        for p in problems[: max(0, 50 - len(summary.problems))]:
            summary.problems.append((f"{p['source']} {p['source_position']}", str(p["reason"]), str(p["detail"])))


def _message_rows(parsed: list[ParsedMail], rules: SenderRules, now: datetime) -> pa.Table:
    columns: dict[str, list[object]] = {name: [] for name in _MESSAGE_SCHEMA.names}
    for mail in parsed:
        assert mail.from_address is not None
        author = rules.classify(mail.from_address, mail.headers)
        recipients = [*mail.to_addresses, *mail.cc_addresses]
        if author.role == "customer":
            mailbox = rules.mailbox(recipients)
        else:
            mailbox = rules.mailbox([mail.from_address, *mail.reply_to, *mail.cc_addresses, *mail.to_addresses])
        row = (
            mail.message_key,
            mail.message_id,
            None,
            None,
            None,
            mail.raw.source,
            mail.raw.position,
            mail.content_hash,
            mail.received_at,
            mail.received_from,
            mail.date_header_at,
            mail.from_address,
            mail.from_name,
            mail.to_addresses,
            mail.cc_addresses,
            mailbox,
            rules.customer_of(author.role, mail.from_address, recipients),
            mail.subject,
            mail.normalized_subject,
            mail.in_reply_to,
            mail.references,
            author.role,
            author.reason,
            True,
            mail.body_text,
            mail.quoted_text,
            mail.signature,
            mail.has_html,
            mail.attachment_count,
            len(mail.raw.data),
            now,
        )
        for values, value in zip(columns.values(), row, strict=True):
            values.append(value)
    return pa.table(columns, schema=_MESSAGE_SCHEMA)


_MESSAGE_SCHEMA = MESSAGES.arrow_schema()


def _problem_row(
    raw: RawMessage,
    content_hash: str,
    reason: str,
    action: str,
    detail: str,
    message_key: str | None,
    now: datetime,
) -> dict[str, object]:
    return {
        "source": raw.source,
        "source_position": raw.position,
        "content_hash": content_hash,
        "reason": reason,
        "action": action,
        "detail": detail,
        "message_key": message_key,
        "excerpt": raw.data[:_EXCERPT_BYTES].decode("utf-8", "replace"),
        "size_bytes": len(raw.data),
        "recorded_at": now,
    }


def _record_run(store: Store, summary: IngestSummary, started: datetime, finished: datetime) -> None:
    row = {
        "run_id": [uuid.uuid4().hex],
        "started_at": [started.replace(tzinfo=None)],
        "finished_at": [finished.replace(tzinfo=None)],
        "sources": [", ".join(summary.sources)],
        "messages_read": [summary.read],
        "messages_stored": [summary.stored],
        "duplicates": [summary.duplicates],
        "quarantined": [summary.quarantined],
        "repaired": [summary.repaired],
    }
    store.insert_new("ingest_runs", pa.table(row, schema=INGEST_RUNS.arrow_schema()))
