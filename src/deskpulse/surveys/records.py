"""Survey invitations and answers as rows of the store's `surveys` table, the records the survey metrics read.

A survey of ours is one invitation row (``dp-…``: kind csat, no answer) and one row per answer given: the CSAT
answer ``dp-…@<time>``, the CES answer ``dp-…:ces@<time>``. Answering again adds rows and never changes one, so
the history stays and the metrics' rule (the latest answer per ticket and kind counts) decides. Every answer row
repeats the invitation's agent and send time: it is credited to the agent assigned when the survey went out.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from deskpulse.columns import arrow_table
from deskpulse.schema import SURVEYS

if TYPE_CHECKING:
    from deskpulse.store import Store
    from deskpulse.surveys.log import SentSurvey

SOURCE = "deskpulse"
CSAT, CES = "csat", "ces"
SCALES = {CSAT: "1-5", CES: "1-7"}
RANGES = {CSAT: (1, 5), CES: (1, 7)}
SURVEY_PREFIX = "dp-"


@dataclass(frozen=True)
class Answer:
    """The latest stored answer of one kind to one survey."""

    answer_id: str
    score: int
    comment: str | None
    answered_at: datetime


def new_survey_id() -> str:
    """``dp-`` and 16 random hex digits: unguessable, and apart from the ids a help desk's export brings."""
    return SURVEY_PREFIX + secrets.token_hex(8)


def answer_id(survey_id: str, kind: str, answered_at: datetime) -> str:
    """The row id of an answer: to the microsecond, so two answers in one second are two rows."""
    suffix = "" if kind == CSAT else f":{kind}"
    return f"{survey_id}{suffix}@{answered_at.isoformat(timespec='microseconds')}Z"


def store_invitation(store: Store, survey: SentSurvey, delivered: bool) -> None:
    _insert(store, [_row(survey, survey.survey_id, CSAT, delivered=delivered)])


def store_answers(
    store: Store, survey: SentSurvey, answers: dict[str, tuple[int, str | None]], at: datetime
) -> list[str]:
    """Store one answer row per kind in ``answers`` (kind → (score, comment)); returns their ids."""
    rows = [
        _row(survey, answer_id(survey.survey_id, kind, at), kind, answered_at=at, score=score, comment=comment)
        for kind, (score, comment) in answers.items()
    ]
    _insert(store, rows)
    return [row["survey_id"] for row in rows]


def latest_answers(store: Store, survey_id: str) -> dict[str, Answer]:
    """The latest stored answer of each kind to the survey (what counts), by kind."""
    rows = store.execute(
        "SELECT kind, survey_id, score, comment, answered_at FROM surveys "
        "WHERE starts_with(survey_id, ?) AND answered_at IS NOT NULL AND score IS NOT NULL AND source = ? "
        "ORDER BY answered_at, survey_id",
        [survey_id, SOURCE],
    )
    return {kind: Answer(row_id, score, comment, answered_at) for kind, row_id, score, comment, answered_at in rows}


def set_delivered(store: Store, survey_id: str, delivered: bool) -> None:
    """Mark the invitation delivered or not (a bounce; an answer proves the contrary)."""
    store.execute("UPDATE surveys SET delivered = ? WHERE survey_id = ?", [delivered, survey_id])


def _row(
    survey: SentSurvey,
    row_id: str,
    kind: str,
    *,
    delivered: bool = True,
    answered_at: datetime | None = None,
    score: int | None = None,
    comment: str | None = None,
) -> dict[str, Any]:
    return {
        "survey_id": row_id,
        "ticket_id": survey.ticket_id,
        "message_id": None,
        "kind": kind,
        "scale": SCALES[kind],
        "agent": survey.agent,
        "sent_at": survey.sent_at,
        "delivered": delivered,
        "answered_at": answered_at,
        "score": score,
        "comment": comment,
        "source": SOURCE,
    }


def _insert(store: Store, rows: list[dict[str, Any]]) -> None:
    columns = {column: [row[column] for row in rows] for column in SURVEYS.column_names}
    store.insert_new("surveys", arrow_table(SURVEYS, columns))
