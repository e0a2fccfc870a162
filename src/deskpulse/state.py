"""The web app's own state: accounts, sessions, API tokens, login attempts, alerts sent, in a SQLite file.

It lives beside the DuckDB store, not in it, because `deskpulse serve` holds the store read-only for as long as
it runs (so that `deskpulse kpis` and the other readers still work beside it), while accounts and alerts must be
writable at the same time from the server, `deskpulse user add` and a cron `deskpulse alerts run`. SQLite allows
several processes to write one file in turn; each module creates the tables it owns when it first connects.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from deskpulse.errors import UserError

T = TypeVar("T")
# SQLite waits this long for another process's write to finish before it gives up.
BUSY_TIMEOUT_SECONDS = 10.0


class StateError(UserError):
    """The state file cannot be opened."""


def state_path(db: Path) -> Path:
    """The state file of the store ``db``: ``deskpulse.duckdb`` → ``deskpulse.state.sqlite`` beside it."""
    return db.with_suffix(".state.sqlite")


def connect_state(path: Path) -> sqlite3.Connection:
    """A connection to the state file (created when missing), in autocommit mode with rows as `sqlite3.Row`.

    Write-ahead logging lets readers go on while one process writes. The connection may be used from another
    thread than the one that made it (the web server's worker threads); callers serialise their own use."""
    try:
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:
        raise StateError(f"cannot open the state file {path}: {exc}") from exc
    connection.row_factory = sqlite3.Row
    return connection


class SharedState:
    """One state-file connection shared by a server's request threads, used by one of them at a time."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.lock = threading.Lock()

    def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self.lock:
            return work(self.connection)
