"""The alert log in the state file (`deskpulse.state`): every alert recorded, and its delivery to each channel.

An alert is recorded once, by key, with a delivery row per channel configured at that moment; a delivery is
``pending`` until a channel accepts it (``sent``), and a failure (``failed``, with its error) is tried again at
the next run, never marked sent. A channel added later receives the alerts recorded after it was added.

The cooldown is kept per kind and subject: a new alert waits while an alert of the same kind for the same subject
was recorded less than `AlertsConfig.cooldown_minutes` before the run's instant. Waiting alerts are not recorded,
so the first run after the cooldown that still finds one records and sends it.

Only one run delivers at a time (the cron job and the loop of `deskpulse serve` may overlap): a run takes the
lease row of ``alert_lease`` first; a lease older than `LEASE_MINUTES` belonged to a run that died and is taken
over.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from deskpulse.alerts.detect import Alert

LEASE_MINUTES = 30
SENT, PENDING, FAILED = "sent", "pending", "failed"
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # sorts as text, as SQLite's own date functions write it

_TABLES = """
CREATE TABLE IF NOT EXISTS alert_log (
    key TEXT PRIMARY KEY,           -- kind, subject and occurrence ("sla_breach:T-1:first_reply")
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,          -- what the cooldown is kept per
    text TEXT NOT NULL,             -- what was said, as delivered (retries send it again unchanged)
    tickets TEXT NOT NULL,          -- the ticket ids behind it, a JSON list
    first_day TEXT,                 -- the local days of an episode (a spike), when it has them
    last_day TEXT,
    detected_at TEXT NOT NULL,      -- the run's instant ("now", UTC): what the cooldown is measured in
    recorded_at TEXT NOT NULL       -- the wall clock when it was recorded (UTC)
);
CREATE INDEX IF NOT EXISTS alert_log_subject ON alert_log (kind, subject, detected_at);
CREATE TABLE IF NOT EXISTS alert_deliveries (
    key TEXT NOT NULL REFERENCES alert_log (key),
    channel TEXT NOT NULL,          -- "email" or "webhook:<name>"
    state TEXT NOT NULL,            -- pending, sent or failed
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    sent_at TEXT,
    error TEXT,                     -- why the last attempt failed
    PRIMARY KEY (key, channel)
);
CREATE TABLE IF NOT EXISTS alert_lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    taken_at TEXT NOT NULL          -- wall clock (UTC)
);
"""


@dataclass(frozen=True)
class Plan:
    new: list[Alert]  # not recorded before and past their subject's cooldown: to record and deliver
    held: list[Alert]  # not recorded before, but their subject is in its cooldown
    known: int  # recorded before (found again)


def create_tables(state: sqlite3.Connection) -> None:
    state.executescript(_TABLES)


def plan_alerts(state: sqlite3.Connection, found: list[Alert], now: datetime, cooldown_minutes: int) -> Plan:
    """Which of ``found`` are new, which wait for their subject's cooldown, how many were recorded before."""
    cooling_since = _text(now - timedelta(minutes=cooldown_minutes))
    new: list[Alert] = []
    held: list[Alert] = []
    known = 0
    taken: set[tuple[str, str]] = set()  # subjects given an alert by this run
    for alert in {alert.key: alert for alert in found}.values():
        if _recorded(state, alert):
            known += 1
            continue
        subject = (alert.kind, alert.subject)
        if cooldown_minutes > 0 and (subject in taken or _alerted_since(state, alert, cooling_since)):
            held.append(alert)
        else:
            taken.add(subject)
            new.append(alert)
    return Plan(new, held, known)


def _alerted_since(state: sqlite3.Connection, alert: Alert, since: str) -> bool:
    recent = state.execute(
        "SELECT 1 FROM alert_log WHERE kind = ? AND subject = ? AND detected_at > ?", (alert.kind, alert.subject, since)
    )
    return recent.fetchone() is not None


def _recorded(state: sqlite3.Connection, alert: Alert) -> bool:
    """Whether ``alert`` was recorded before: its key, or for an episode one of its kind and subject whose days
    overlap its days (a spike that grew)."""
    if state.execute("SELECT 1 FROM alert_log WHERE key = ?", (alert.key,)).fetchone():
        return True
    if alert.days is None:
        return False
    first, last = (day.isoformat() for day in alert.days)
    overlapping = state.execute(
        "SELECT 1 FROM alert_log WHERE kind = ? AND subject = ? AND first_day <= ? AND last_day >= ?",
        (alert.kind, alert.subject, last, first),
    )
    return overlapping.fetchone() is not None


def record(
    state: sqlite3.Connection, alerts: list[Alert], now: datetime, channels: tuple[str, ...], clock: datetime
) -> None:
    """Record ``alerts`` as detected at ``now``, each pending on every channel (``clock``: the wall clock)."""
    with _transaction(state):
        for alert in alerts:
            first, last = (None, None) if alert.days is None else (day.isoformat() for day in alert.days)
            state.execute(
                "INSERT INTO alert_log (key, kind, subject, text, tickets, first_day, last_day, detected_at, "
                "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    alert.key,
                    alert.kind,
                    alert.subject,
                    alert.text,
                    json.dumps(alert.tickets),
                    first,
                    last,
                    _text(now),
                    _text(clock),
                ),
            )
            state.executemany(
                "INSERT INTO alert_deliveries (key, channel, state) VALUES (?, ?, ?)",
                [(alert.key, channel, PENDING) for channel in channels],
            )


def undelivered(state: sqlite3.Connection, channel: str) -> list[Alert]:
    """The recorded alerts ``channel`` has not accepted yet (pending or failed), oldest first."""
    rows = state.execute(
        "SELECT l.kind, l.subject, l.key, l.text, l.tickets FROM alert_deliveries d "
        "JOIN alert_log l ON l.key = d.key WHERE d.channel = ? AND d.state != ? ORDER BY l.detected_at, l.rowid",
        (channel, SENT),
    ).fetchall()
    return [Alert(kind, subject, key, text, tuple(json.loads(tickets))) for kind, subject, key, text, tickets in rows]


def mark(state: sqlite3.Connection, channel: str, keys: list[str], error: str | None, clock: datetime) -> None:
    """The outcome of one attempt to deliver ``keys`` to ``channel``: sent when ``error`` is None, else failed."""
    at = _text(clock)
    with _transaction(state):
        state.executemany(
            "UPDATE alert_deliveries SET state = ?, attempts = attempts + 1, last_attempt_at = ?, sent_at = ?, "
            "error = ? WHERE key = ? AND channel = ?",
            [(FAILED if error else SENT, at, None if error else at, error, key, channel) for key in keys],
        )


def take_lease(state: sqlite3.Connection, holder: str, clock: datetime) -> bool:
    """Take the delivery lease for ``holder``; False while another run holds a lease younger than LEASE_MINUTES."""
    with _transaction(state, immediate=True):
        row = state.execute("SELECT holder, taken_at FROM alert_lease WHERE id = 1").fetchone()
        if row is not None and row[1] > _text(clock - timedelta(minutes=LEASE_MINUTES)):
            return False
        state.execute(
            "INSERT OR REPLACE INTO alert_lease (id, holder, taken_at) VALUES (1, ?, ?)", (holder, _text(clock))
        )
    return True


def release_lease(state: sqlite3.Connection, holder: str) -> None:
    state.execute("DELETE FROM alert_lease WHERE id = 1 AND holder = ?", (holder,))


@contextmanager
def _transaction(state: sqlite3.Connection, *, immediate: bool = False) -> Iterator[None]:
    """BEGIN … COMMIT on the autocommit connection, ROLLBACK on an exception. ``immediate`` takes the write lock at
    once, so that two processes cannot both read the lease as free."""
    state.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield
    except BaseException:
        state.execute("ROLLBACK")
        raise
    state.execute("COMMIT")


def _text(instant: datetime) -> str:
    return instant.strftime(_TIME_FORMAT)
