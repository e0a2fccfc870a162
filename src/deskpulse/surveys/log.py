"""The survey tables of the state file: every survey sent (the send log), opt-outs, the send lease and what the
comments say. The canonical records (invitations, answers) are rows of the store's `surveys` table; these are what
the send loop and the web app need to write while other processes hold the store.

Times are naive UTC as text ("2026-03-04 09:00:00"), which sorts and compares as text.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

EMAIL, LINK = "email", "link"  # how a survey reached the customer: our own mail, or a link pasted elsewhere
SENT, BOUNCED = "sent", "bounced"
LEASE_MINUTES = 30  # a send run older than this died: its lease is taken over
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

_TABLES = """
CREATE TABLE IF NOT EXISTS survey_sends (
    survey_id TEXT PRIMARY KEY,     -- the invitation's survey_id in the store's surveys table
    ticket_id TEXT NOT NULL,
    recipient TEXT,                 -- the customer's address, lowercased (what opt-outs and the throttle go by)
    agent TEXT,                     -- the ticket's assignee when it went out: answers are credited to them
    channel TEXT NOT NULL,          -- email, or link (`deskpulse surveys link`)
    message_id TEXT,                -- the mail's Message-ID without brackets: a bounce names it
    return_path TEXT,               -- the envelope sender it went out with, when [surveys] return_path is set
    sent_at TEXT NOT NULL,          -- the run's instant (UTC), as sent_at in the store
    state TEXT NOT NULL,            -- sent or bounced
    bounce TEXT                     -- why it counts as not delivered: the SMTP refusal or the DSN's message key
);
CREATE INDEX IF NOT EXISTS survey_sends_recipient ON survey_sends (recipient, sent_at);
CREATE INDEX IF NOT EXISTS survey_sends_ticket ON survey_sends (ticket_id);
CREATE TABLE IF NOT EXISTS survey_opt_outs (
    address TEXT PRIMARY KEY,       -- lowercased
    opted_out_at TEXT NOT NULL,
    survey_id TEXT                  -- the survey whose link was used
);
CREATE TABLE IF NOT EXISTS survey_lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    taken_at TEXT NOT NULL          -- wall clock (UTC)
);
CREATE TABLE IF NOT EXISTS survey_pending_answers (
    survey_id TEXT NOT NULL,
    answered_at TEXT NOT NULL,      -- to the microsecond, as the answer's row id will say
    csat INTEGER NOT NULL,
    ces INTEGER,
    comment TEXT,
    PRIMARY KEY (survey_id, answered_at)
);
CREATE TABLE IF NOT EXISTS survey_comments (
    answer_id TEXT PRIMARY KEY,     -- the survey_id of the answer row in the store that carries the comment
    survey_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    sentiment REAL NOT NULL,        -- -1 … 1, as `deskpulse sentiment score` scores a customer message
    sentiment_label TEXT NOT NULL,  -- negative, neutral or positive
    reasons TEXT NOT NULL,          -- JSON list: why that score
    sentiment_method TEXT NOT NULL, -- the rules' id or the trained model's
    category TEXT,                  -- the category model's answer at the taxonomy's threshold; null without a model
    category_confidence REAL,
    analysed_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class SentSurvey:
    survey_id: str
    ticket_id: str
    recipient: str | None
    agent: str | None
    channel: str
    message_id: str | None
    return_path: str | None
    sent_at: datetime
    state: str
    bounce: str | None


@dataclass(frozen=True)
class CommentInsight:
    answer_id: str
    survey_id: str
    ticket_id: str
    sentiment: float
    sentiment_label: str
    reasons: tuple[str, ...]
    sentiment_method: str
    category: str | None
    category_confidence: float | None


def create_tables(state: sqlite3.Connection) -> None:
    state.executescript(_TABLES)


def text(instant: datetime) -> str:
    return instant.strftime(_TIME_FORMAT)


def record_send(state: sqlite3.Connection, survey: SentSurvey) -> None:
    state.execute(
        "INSERT INTO survey_sends (survey_id, ticket_id, recipient, agent, channel, message_id, return_path, sent_at, "
        "state, bounce) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            survey.survey_id,
            survey.ticket_id,
            survey.recipient,
            survey.agent,
            survey.channel,
            survey.message_id,
            survey.return_path,
            text(survey.sent_at),
            survey.state,
            survey.bounce,
        ],
    )


def find_send(state: sqlite3.Connection, survey_id: str) -> SentSurvey | None:
    rows = state.execute("SELECT * FROM survey_sends WHERE survey_id = ?", [survey_id]).fetchall()
    return _sent(rows[0]) if rows else None


def sends_of_ticket(state: sqlite3.Connection, ticket_id: str) -> list[SentSurvey]:
    rows = state.execute("SELECT * FROM survey_sends WHERE ticket_id = ? ORDER BY sent_at", [ticket_id]).fetchall()
    return [_sent(row) for row in rows]


def surveyed_tickets(state: sqlite3.Connection) -> set[str]:
    return {str(row[0]) for row in state.execute("SELECT DISTINCT ticket_id FROM survey_sends")}


def last_sent_to(state: sqlite3.Connection, recipient: str) -> datetime | None:
    """When ``recipient`` was last sent a survey (any channel, bounced ones too: the address was asked)."""
    [(latest,)] = state.execute("SELECT max(sent_at) FROM survey_sends WHERE recipient = ?", [recipient]).fetchall()
    return None if latest is None else datetime.strptime(latest, _TIME_FORMAT)


def delivered_mail_since(state: sqlite3.Connection, since: datetime) -> list[SentSurvey]:
    """Surveys mailed after ``since`` not known to have bounced: the ones a DSN may still name."""
    rows = state.execute(
        "SELECT * FROM survey_sends WHERE channel = ? AND state = ? AND sent_at > ? ORDER BY sent_at",
        [EMAIL, SENT, text(since)],
    ).fetchall()
    return [_sent(row) for row in rows]


def mark_bounced(state: sqlite3.Connection, survey_id: str, reason: str) -> None:
    state.execute("UPDATE survey_sends SET state = ?, bounce = ? WHERE survey_id = ?", [BOUNCED, reason, survey_id])


def opt_out(state: sqlite3.Connection, address: str, at: datetime, survey_id: str | None) -> None:
    """Record that ``address`` wants no more surveys; the first opt-out is kept."""
    state.execute(
        "INSERT OR IGNORE INTO survey_opt_outs (address, opted_out_at, survey_id) VALUES (?, ?, ?)",
        [address.lower(), text(at), survey_id],
    )


def opted_out(state: sqlite3.Connection) -> set[str]:
    return {str(row[0]) for row in state.execute("SELECT address FROM survey_opt_outs")}


def take_lease(state: sqlite3.Connection, holder: str, now: datetime) -> bool:
    """Become the only send run (the cron job and the serve loop may overlap), unless another run holds a lease
    younger than LEASE_MINUTES."""
    stale = text(now - timedelta(minutes=LEASE_MINUTES))
    state.execute("BEGIN IMMEDIATE")
    try:
        state.execute("DELETE FROM survey_lease WHERE taken_at < ?", [stale])
        state.execute("INSERT OR IGNORE INTO survey_lease (id, holder, taken_at) VALUES (1, ?, ?)", [holder, text(now)])
        [(owner,)] = state.execute("SELECT holder FROM survey_lease WHERE id = 1").fetchall()
        state.execute("COMMIT")
    except BaseException:
        state.execute("ROLLBACK")
        raise
    return bool(owner == holder)


def release_lease(state: sqlite3.Connection, holder: str) -> None:
    state.execute("DELETE FROM survey_lease WHERE holder = ?", [holder])


def queue_answer(
    state: sqlite3.Connection, survey_id: str, csat: int, ces: int | None, comment: str | None, at: datetime
) -> None:
    """Keep an answer the store could not take (an import held it) until the next send run or answer stores it."""
    state.execute(
        "INSERT OR IGNORE INTO survey_pending_answers (survey_id, answered_at, csat, ces, comment) "
        "VALUES (?, ?, ?, ?, ?)",
        [survey_id, at.isoformat(timespec="microseconds"), csat, ces, comment],
    )


def pending_answers(state: sqlite3.Connection) -> list[tuple[str, datetime, int, int | None, str | None]]:
    """The queued answers, oldest first: (survey_id, answered_at, csat, ces, comment)."""
    rows = state.execute(
        "SELECT survey_id, answered_at, csat, ces, comment FROM survey_pending_answers ORDER BY answered_at, survey_id"
    ).fetchall()
    return [(row[0], datetime.fromisoformat(row[1]), row[2], row[3], row[4]) for row in rows]


def drop_pending(state: sqlite3.Connection, survey_id: str, at: datetime) -> None:
    state.execute(
        "DELETE FROM survey_pending_answers WHERE survey_id = ? AND answered_at = ?",
        [survey_id, at.isoformat(timespec="microseconds")],
    )


def record_comment(state: sqlite3.Connection, insight: CommentInsight, at: datetime) -> None:
    state.execute(
        "INSERT OR REPLACE INTO survey_comments (answer_id, survey_id, ticket_id, sentiment, sentiment_label, reasons, "
        "sentiment_method, category, category_confidence, analysed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            insight.answer_id,
            insight.survey_id,
            insight.ticket_id,
            insight.sentiment,
            insight.sentiment_label,
            json.dumps(list(insight.reasons)),
            insight.sentiment_method,
            insight.category,
            insight.category_confidence,
            text(at),
        ],
    )


def comments(state: sqlite3.Connection) -> dict[str, CommentInsight]:
    """The latest analysed comment of each survey, by survey_id (a comment carried over to a later answer is the
    same comment)."""
    found = {}
    for row in state.execute("SELECT * FROM survey_comments ORDER BY analysed_at, answer_id"):
        found[row["survey_id"]] = CommentInsight(
            row["answer_id"],
            row["survey_id"],
            row["ticket_id"],
            row["sentiment"],
            row["sentiment_label"],
            tuple(json.loads(row["reasons"])),
            row["sentiment_method"],
            row["category"],
            row["category_confidence"],
        )
    return found


def _sent(row: sqlite3.Row) -> SentSurvey:
    return SentSurvey(
        row["survey_id"],
        row["ticket_id"],
        row["recipient"],
        row["agent"],
        row["channel"],
        row["message_id"],
        row["return_path"],
        datetime.strptime(row["sent_at"], _TIME_FORMAT),
        row["state"],
        row["bounce"],
    )
