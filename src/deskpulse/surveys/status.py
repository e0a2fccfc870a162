"""`deskpulse surveys status`: how our surveys fare, in total and per agent, read from the store's `surveys` rows
of source ``deskpulse`` (the send log only adds the opt-outs and the comments' analysis).

Counted per survey: sent, delivered (sent minus bounced), answered (any answer), the response rate (answered ÷
delivered), and of the latest answers the CSAT (share of 4 and 5) and the CES (mean of 1–7). The KPIs
`survey_response_rate`, `csat` and `ces` count per ticket, every source together, placed in periods: they agree
with these figures on a store where our surveys are the only ones.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from deskpulse.surveys import log
from deskpulse.surveys.records import SOURCE, SURVEY_PREFIX

if TYPE_CHECKING:
    from deskpulse.store import Store

COLUMNS = ("agent", "sent", "delivered", "bounced", "answered", "response_rate", "csat", "ces")
NO_AGENT = "(no agent)"


@dataclass(frozen=True)
class StatusRow:
    agent: str
    sent: int
    delivered: int
    bounced: int
    answered: int
    response_rate: float | None  # answered ÷ delivered
    csat: float | None  # share of the latest CSAT answers that are 4 or 5
    ces: float | None  # mean of the latest CES answers

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Comment:
    answered_at: datetime
    ticket_id: str
    agent: str | None
    csat: int
    comment: str
    sentiment: float | None  # None: not analysed (yet)
    sentiment_label: str | None
    category: str | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SurveyStatus:
    total: StatusRow
    per_agent: list[StatusRow]
    opt_outs: int
    comments: list[Comment] = field(default_factory=list)  # newest first

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total.as_json(),
            "per_agent": [row.as_json() for row in self.per_agent],
            "opt_outs": self.opt_outs,
            "comments": [comment.as_json() for comment in self.comments],
        }


def survey_status(
    store: Store, state: sqlite3.Connection, since: datetime | None = None, comments: int = 10
) -> SurveyStatus:
    """The figures of our surveys sent from ``since`` (naive UTC; all when None), the opt-outs, and the newest
    ``comments`` comments with their sentiment and category."""
    log.create_tables(state)
    surveys = _per_survey(store, since)
    per_agent: dict[str, list[dict[str, Any]]] = {}
    for survey in surveys:
        per_agent.setdefault(survey["agent"] or NO_AGENT, []).append(survey)
    rows = [_figures(agent, members) for agent, members in sorted(per_agent.items())]
    [(opt_outs,)] = state.execute("SELECT count(*) FROM survey_opt_outs").fetchall()
    return SurveyStatus(_figures("(all)", surveys), rows, int(opt_outs), _comments(store, state, since, comments))


def _per_survey(store: Store, since: datetime | None) -> list[dict[str, Any]]:
    """One dict per invitation: agent, delivered, and its latest CSAT and CES scores (None when unanswered)."""
    rows = store.execute(
        """
        WITH answers AS (
            SELECT split_part(split_part(survey_id, '@', 1), ':', 1) AS survey, kind, score,
                   row_number() OVER (PARTITION BY survey, kind ORDER BY answered_at DESC, survey_id DESC) AS newest
            FROM surveys WHERE source = ? AND answered_at IS NOT NULL AND score IS NOT NULL
        )
        SELECT i.survey_id, i.agent, coalesce(i.delivered, true),
               max(a.score) FILTER (WHERE a.kind = 'csat'), max(a.score) FILTER (WHERE a.kind = 'ces')
        FROM surveys i LEFT JOIN answers a ON a.survey = i.survey_id AND a.newest = 1
        WHERE i.source = ? AND starts_with(i.survey_id, ?) AND i.answered_at IS NULL AND (? IS NULL OR i.sent_at >= ?)
        GROUP BY ALL ORDER BY i.survey_id
        """,
        [SOURCE, SOURCE, SURVEY_PREFIX, since, since],
    )
    return [
        {"agent": agent, "delivered": delivered, "csat": csat, "ces": ces} for _, agent, delivered, csat, ces in rows
    ]


def _figures(agent: str, surveys: list[dict[str, Any]]) -> StatusRow:
    delivered = [s for s in surveys if s["delivered"]]
    answered = [s for s in delivered if s["csat"] is not None or s["ces"] is not None]
    csat = [s["csat"] for s in answered if s["csat"] is not None]
    ces = [s["ces"] for s in answered if s["ces"] is not None]
    return StatusRow(
        agent,
        len(surveys),
        len(delivered),
        len(surveys) - len(delivered),
        len(answered),
        len(answered) / len(delivered) if delivered else None,
        sum(1 for score in csat if score >= 4) / len(csat) if csat else None,
        sum(ces) / len(ces) if ces else None,
    )


def _comments(store: Store, state: sqlite3.Connection, since: datetime | None, limit: int) -> list[Comment]:
    if limit <= 0:
        return []
    rows = store.execute(
        "SELECT split_part(survey_id, '@', 1), answered_at, ticket_id, agent, score, comment FROM surveys "
        "WHERE source = ? "
        "AND kind = 'csat' AND answered_at IS NOT NULL AND (? IS NULL OR sent_at >= ?) "
        # the latest CSAT answer of each survey, if it has a comment (a comment carried over is shown once)
        "QUALIFY row_number() OVER (PARTITION BY split_part(survey_id, '@', 1) ORDER BY answered_at DESC) = 1 "
        "AND comment IS NOT NULL ORDER BY answered_at DESC, survey_id DESC LIMIT ?",
        [SOURCE, since, since, limit],
    )
    analysed = log.comments(state)
    found = []
    for survey_id, answered_at, ticket_id, agent, score, text in rows:
        insight = analysed.get(survey_id)
        found.append(
            Comment(
                answered_at,
                ticket_id,
                agent,
                score,
                text,
                None if insight is None else insight.sentiment,
                None if insight is None else insight.sentiment_label,
                None if insight is None else insight.category,
            )
        )
    return found
