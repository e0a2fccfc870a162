"""Survey answers from a CSV file (`deskpulse load surveys FILE`) into the canonical `surveys` table.

One line is one survey invitation or one answer to it. Every line is kept: a survey answered twice stays two
rows, and "the latest answer per ticket wins" is the metrics' rule, not the loader's. The format is described
in docs/inputs.md, section "Survey answers (CSV)".
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from deskpulse.inputs.csvfile import Record, read_csv, ticket_reference
from deskpulse.schema import SURVEYS

if TYPE_CHECKING:
    from deskpulse.store import Store

COLUMNS = (
    "survey_id",
    "ticket_id",
    "message_id",
    "kind",
    "agent",
    "sent_at",
    "delivered",
    "answered_at",
    "score",
    "comment",
)
# The scale of each kind of survey as stored in `surveys.scale`, with its lowest and highest score.
SCALES = {"csat": ("1-5", 1, 5), "ces": ("1-7", 1, 7), "nps": ("0-10", 0, 10)}
# A binary CSAT survey (Zendesk's legacy good/bad rating) is stored on the 1–5 scale's ends, so the top-two-box
# rule counts "good" as satisfied; `scale` keeps it apart for the mean of 1–5 answers.
BINARY_SCALE = "good-bad"
BINARY_SCORES = {"good": 5, "bad": 1}


@dataclass(frozen=True)
class SurveyRow:
    """One row of the `surveys` table."""

    survey_id: str
    ticket_id: str | None
    message_id: str | None
    kind: str
    scale: str
    agent: str | None
    sent_at: datetime | None
    delivered: bool
    answered_at: datetime | None
    score: int | None
    comment: str | None
    source: str


def read_surveys(path: Path, timezone: str) -> list[SurveyRow]:
    """Every line of a survey CSV as a `SurveyRow`; the first bad line raises `InputFileError`.

    Timestamps without an offset are read in ``timezone`` (the help desk's reporting timezone).
    """
    rows: list[SurveyRow] = []
    lines: dict[str, int] = {}
    for record in read_csv(path, ("kind",), tuple(name for name in COLUMNS if name != "kind")):
        row = _survey_row(record, timezone)
        if row.survey_id in lines:
            what = "answer" if row.answered_at else "invitation"
            raise record.error(
                "survey_id",
                f"the same {what} as line {lines[row.survey_id]}: the same survey_id (or, without one, ticket, kind "
                "and sent_at) and answered_at",
            )
        lines[row.survey_id] = record.line
        rows.append(row)
    return rows


def load_surveys(store: Store, path: Path, timezone: str) -> int:
    """Store the survey rows of ``path`` not stored yet; returns how many were new.

    The whole file is checked before anything is stored: a bad file stores nothing. Loading the same file
    again adds nothing, since each row's `survey_id` is derived from what identifies it (see `_identity`).
    """
    import pyarrow as pa

    rows = [asdict(row) for row in read_surveys(path, timezone)]
    return store.insert_new("surveys", pa.Table.from_pylist(rows, schema=SURVEYS.arrow_schema()))


def _survey_row(record: Record, timezone: str) -> SurveyRow:
    kind = record.text("kind").lower()
    if kind not in SCALES:
        raise record.error("kind", f"{kind!r} is not a survey kind; use one of {', '.join(SCALES)}")
    ticket_id, message_id = ticket_reference(record)
    agent = record.optional("agent")
    if agent is not None:
        agent = agent.lower()
        if "@" not in agent:
            raise record.error("agent", f"{agent!r} is not an e-mail address")
    sent_at = record.instant("sent_at", timezone) if record.optional("sent_at") else None
    delivered = record.boolean("delivered", True)
    answered_at = record.instant("answered_at", timezone) if record.optional("answered_at") else None
    scale, score = _score(record, kind)
    if (answered_at is None) != (score is None):
        missing = "answered_at" if answered_at is None else "score"
        raise record.error(missing, "is required on an answer (a line with a score or an answer time needs both)")
    if score is not None and not delivered:
        raise record.error("delivered", "is false, but the survey was answered: a bounced survey has no answer")
    if answered_at is not None and sent_at is not None and answered_at < sent_at:
        raise record.error(
            "answered_at", f"{answered_at:%Y-%m-%d %H:%M} UTC is before sent_at ({sent_at:%Y-%m-%d %H:%M} UTC)"
        )
    survey_id = _identity(record, kind, ticket_id, message_id, sent_at, answered_at)
    return SurveyRow(
        survey_id,
        ticket_id,
        message_id,
        kind,
        scale,
        agent,
        sent_at,
        delivered,
        answered_at,
        score,
        record.optional("comment"),
        str(record.path),
    )


def _score(record: Record, kind: str) -> tuple[str, int | None]:
    """(scale, score): the kind's scale, or good/bad for a binary CSAT answer; score None when unanswered."""
    scale, low, high = SCALES[kind]
    text = record.optional("score")
    if text is None:
        return scale, None
    if kind == "csat" and text.lower() in BINARY_SCORES:
        return BINARY_SCALE, BINARY_SCORES[text.lower()]
    allowed = f"{low}–{high}" + (" or good/bad" if kind == "csat" else "")
    try:
        score = int(text)
    except ValueError:
        raise record.error("score", f"{text!r} is not a {kind} score: use {allowed}") from None
    if not low <= score <= high:
        raise record.error("score", f"{score} is outside the {kind} scale: use {allowed}")
    return scale, score


def _identity(
    record: Record,
    kind: str,
    ticket_id: str | None,
    message_id: str | None,
    sent_at: datetime | None,
    answered_at: datetime | None,
) -> str:
    """The stored `survey_id`: the survey's own id, else a hash of what identifies the survey (ticket, kind,
    send time), plus ``@<answer time>`` on an answer. Two answers to one survey are two rows; the same line
    loaded twice is one. A corrected score for an answer already stored does not replace it."""
    survey = record.optional("survey_id")
    if survey is None:
        parts = [f"ticket:{ticket_id}" if ticket_id else f"message:{message_id}", kind, _iso(sent_at)]
        survey = "sha1:" + hashlib.sha1("\n".join(parts).encode("utf-8")).hexdigest()
    return survey if answered_at is None else f"{survey}@{_iso(answered_at)}"


def _iso(instant: datetime | None) -> str:
    """A UTC instant as ``2026-01-12T08:00:00Z``; empty for none."""
    return "" if instant is None else instant.isoformat(timespec="seconds") + "Z"
