"""Sync an IMAP account into the store: each folder from its checkpoint, through the import, then one rebuild.

The checkpoint (`sync_checkpoints`) advances only after a batch is stored, so whatever stops a sync (a lost
server, Ctrl-C, a crash) leaves it at or behind what the store holds: the next sync fetches at worst a batch
again, and those messages are recognised as duplicates. Nothing is skipped, nothing is stored twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from deskpulse.config import Config
from deskpulse.ingest import IngestSummary, ProgressCallback, ingest_messages, rebuild_if_pending
from deskpulse.insight.refresh import InsightRefresh, refresh_insight
from deskpulse.sources.imap import DEFAULT_RETRY, Checkpoint, FolderReader, ImapAccount, Retry, checkpoint_after
from deskpulse.sources.mailbox import RawMessage
from deskpulse.store import Store


@dataclass
class FolderSync:
    """What one folder's sync did."""

    folder: str
    summary: IngestSummary
    checkpoint: Checkpoint | None  # where the next sync starts; None when the folder could not be read
    resynced_from: int | None = None  # the UIDVALIDITY of the old checkpoint when the server's had changed
    reconnects: int = 0


@dataclass
class SyncReport:
    account: str
    folders: list[FolderSync] = field(default_factory=list)
    tickets: int | None = None  # tickets after the rebuild; None when nothing new needed one
    insight: InsightRefresh | None = None  # sentiment and categories of the new mail; None when there was none

    def as_dict(self) -> dict[str, object]:
        return {
            "account": self.account,
            "folders": [
                {
                    "folder": f.folder,
                    **f.summary.as_dict(),
                    "uidvalidity": None if f.checkpoint is None else f.checkpoint.uidvalidity,
                    "last_uid": None if f.checkpoint is None else f.checkpoint.last_uid,
                    "resynced_from_uidvalidity": f.resynced_from,
                    "reconnects": f.reconnects,
                }
                for f in self.folders
            ],
            "tickets": self.tickets,
            "insight": None if self.insight is None else self.insight.as_dict(),
        }


def sync_imap(
    store: Store,
    config: Config,
    account: ImapAccount,
    *,
    folders: tuple[str, ...] | None = None,
    retry: Retry = DEFAULT_RETRY,
    progress: ProgressCallback | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncReport:
    """Fetch what is new in each folder (default: ``imap.folders``), store it, then rebuild the tickets once if
    anything changed (or an interrupted sync left stored mail unthreaded)."""
    report = SyncReport(account.source)
    for folder in folders or config.imap.folders:
        reader = FolderReader(account, folder, load_checkpoint(store, account.source, folder), retry=retry, sleep=sleep)

        def advance(last: RawMessage, folder: str = folder) -> None:
            save_checkpoint(store, account.source, folder, checkpoint_after(last))

        summary = ingest_messages(
            store,
            config,
            reader.messages(),
            [reader.source],
            progress=progress,
            batch_size=account.batch_size,
            on_batch_stored=advance,
            rebuild=False,
        )
        if reader.position is not None:  # also records a folder with nothing new as synced now
            save_checkpoint(store, account.source, folder, reader.position)
        report.folders.append(FolderSync(folder, summary, reader.position, reader.resynced_from, reader.reconnects))
    report.tickets = rebuild_if_pending(store, config, touched_only=True)
    if report.tickets is not None:
        report.insight = refresh_insight(store, config)
    return report


def load_checkpoint(store: Store, source: str, folder: str) -> Checkpoint | None:
    rows = store.execute(
        "SELECT uidvalidity, last_uid FROM sync_checkpoints WHERE source = ? AND folder = ?", [source, folder]
    )
    return Checkpoint(int(rows[0][0]), int(rows[0][1])) if rows else None


def save_checkpoint(store: Store, source: str, folder: str, checkpoint: Checkpoint) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    store.execute("BEGIN TRANSACTION")
    try:
        store.execute("DELETE FROM sync_checkpoints WHERE source = ? AND folder = ?", [source, folder])
        store.execute(
            "INSERT INTO sync_checkpoints (source, folder, uidvalidity, last_uid, synced_at) VALUES (?, ?, ?, ?, ?)",
            [source, folder, checkpoint.uidvalidity, checkpoint.last_uid, now],
        )
        store.execute("COMMIT")
    except Exception:
        store.execute("ROLLBACK")
        raise
