"""A customer's answer, as the survey page receives it: checked, stored as survey records, its comment analysed.

Answering again is allowed while the link works: what changed becomes new rows (the latest counts, the history
stays), what did not change adds nothing, so a page reloaded or a link clicked twice stores the answer once. A
comment left empty keeps the earlier one: an empty box is not a retraction.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskpulse.errors import UserError
from deskpulse.surveys import log
from deskpulse.surveys.log import CommentInsight
from deskpulse.surveys.records import CES, CSAT, RANGES, latest_answers, set_delivered, store_answers

if TYPE_CHECKING:
    from deskpulse.config import Config
    from deskpulse.store import Store
    from deskpulse.surveys.log import SentSurvey

COMMENT_CHARACTERS = 2000  # longer comments are cut: a survey box is not a ticket


class AnswerError(UserError):
    """An answer that cannot be stored as given (a score off the scale, no CSAT)."""


@dataclass(frozen=True)
class Stored:
    """What one answer added to the store."""

    answer_ids: tuple[str, ...]  # the new rows (none when nothing changed)
    comment_answer_id: str | None  # the row carrying a new comment, to analyse


def parse_score(kind: str, value: str | int | None) -> int | None:
    """A score of ``kind`` from a form or a link, None when absent; off the scale is an `AnswerError`."""
    if value is None or value == "":
        return None
    low, high = RANGES[kind]
    try:
        score = int(value)
    except ValueError:
        raise AnswerError(f"{kind.upper()} must be a whole number from {low} to {high}, got {value!r}") from None
    if not low <= score <= high:
        raise AnswerError(f"{kind.upper()} must be from {low} to {high}, got {score}")
    return score


def record_answer(
    store: Store, survey: SentSurvey, csat: int, ces: int | None, comment: str | None, at: datetime
) -> Stored:
    """Store what changed since the survey's latest answers: a CSAT row (with the comment) when the score or the
    comment is new, a CES row when its score is new. A bounced invitation that gets an answer was delivered after
    all, and is marked so."""
    comment = (comment or "").strip()[:COMMENT_CHARACTERS] or None
    latest = latest_answers(store, survey.survey_id)
    previous_csat, previous_ces = latest.get(CSAT), latest.get(CES)
    kept_comment = comment if comment is not None else (previous_csat.comment if previous_csat else None)
    changes: dict[str, tuple[int, str | None]] = {}
    if previous_csat is None or (previous_csat.score, previous_csat.comment) != (csat, kept_comment):
        changes[CSAT] = (csat, kept_comment)
    if ces is not None and (previous_ces is None or previous_ces.score != ces):
        changes[CES] = (ces, None)
    if not changes:
        return Stored((), None)
    ids = store_answers(store, survey, changes, at)
    set_delivered(store, survey.survey_id, True)
    new_comment = comment is not None and (previous_csat is None or previous_csat.comment != comment)
    return Stored(tuple(ids), ids[0] if new_comment else None)


def store_pending(store: Store, state: sqlite3.Connection) -> int:
    """Store the answers queued while the store was busy (oldest first, so the latest still wins); returns how
    many. An answer whose survey is no longer in the send log is dropped."""
    queued = log.pending_answers(state)
    for survey_id, at, csat, ces, comment in queued:
        survey = log.find_send(state, survey_id)
        if survey is not None:
            record_answer(store, survey, csat, ces, comment, at)
        log.drop_pending(state, survey_id, at)
    return len(queued)


class CommentAnalyser:
    """Sentiment (the trained model when there is one and `[sentiment] use_model` is on, else the support rules) and
    category (the category model at the taxonomy's threshold, when one is trained) of survey comments, as
    `deskpulse sentiment score` and `categorize apply` would judge a customer message. The models are loaded once
    and again when their files change."""

    def __init__(self, db: Path, config: Config) -> None:
        self.db, self.config = db, config
        self._lock = threading.Lock()
        self._loaded: dict[str, tuple[float | None, Any]] = {}

    def analyse(self, answer_id: str, survey: SentSurvey, comment: str) -> CommentInsight:
        from deskpulse.insight.sentiment import RULES_ID, score_text

        settings = self.config.sentiment
        sentiment_model = self._model("sentiment")
        if sentiment_model is not None:
            [sentiment] = sentiment_model.score([comment], settings.negative_below, settings.positive_above)
            method = str(sentiment_model.model_id)
        else:
            sentiment = score_text(comment, settings.negative_below, settings.positive_above)
            method = RULES_ID
        category = confidence = None
        category_model = self._model("category")
        if category_model is not None:
            from deskpulse.insight.taxonomy import load_taxonomy

            [prediction] = category_model.predict([comment], workers=1)
            category, confidence, _ = prediction.decide(load_taxonomy(self.config.files.categories).threshold)
        return CommentInsight(
            answer_id,
            survey.survey_id,
            survey.ticket_id,
            sentiment.score,
            sentiment.label,
            sentiment.reasons,
            method,
            category,
            confidence,
        )

    def _model(self, which: str) -> Any:
        """The sentiment or category model of the store, None when there is none (or it is not to be used)."""
        from deskpulse.insight import category_model, sentiment_model

        if which == "sentiment":
            if not self.config.sentiment.use_model:
                return None
            path = sentiment_model.model_path(self.db)
        else:
            path = category_model.model_path(self.db)
        stamp = path.stat().st_mtime if path.exists() else None
        with self._lock:
            cached = self._loaded.get(which)
            if cached is not None and cached[0] == stamp:
                return cached[1]
            model: Any = None
            if stamp is not None and which == "sentiment":
                model = sentiment_model.load(path)
            elif stamp is not None:
                model = category_model.CategoryModel.load(path)
            self._loaded[which] = (stamp, model)
            return model
