"""The survey pages of `deskpulse serve`: what a customer's click in a survey mail opens. No login: the signed token
in the link is the only credential, and it is checked before anything is read or written.

- ``GET /survey/{token}?csat=N`` shows the survey with that CSAT chosen, the CES question and a comment box. It
  stores nothing: mail scanners fetch every link of a mail before the customer sees it, and five prefetched links
  must not be five answers. The page's own script (`/survey/survey.js`) posts the chosen CSAT as soon as the page
  is shown in a browser, so one click answers; without scripts, the Send button does it.
- ``POST /survey/{token}`` stores the answer (the signed token is the form's CSRF protection: a page elsewhere
  cannot make one), then analyses a new comment's sentiment and category.
- ``GET /survey/{token}/opt-out`` asks to confirm; ``POST`` records the opt-out (also the one-click
  ``List-Unsubscribe-Post`` of RFC 8058, which mail providers send from their servers).

A forged, altered or truncated token, one made for the other purpose, one past its expiry or naming a survey this
installation never sent gets a page that says so, and nothing is stored.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from deskpulse.config import Config
from deskpulse.state import SharedState, connect_state
from deskpulse.surveys import log
from deskpulse.surveys.answers import AnswerError, CommentAnalyser, parse_score, record_answer, store_pending
from deskpulse.surveys.log import SentSurvey
from deskpulse.surveys.mail import CES_CHOICES, CES_STATEMENT, CSAT_CHOICES
from deskpulse.surveys.records import CES, CSAT, Answer, answer_id, latest_answers
from deskpulse.surveys.settings import surveys_config
from deskpulse.surveys.tokens import ANSWER, OPT_OUT, ExpiredToken, InvalidToken, signing_key, verify
from deskpulse.web.data import Dashboard, StoreBusy

logger = logging.getLogger("deskpulse.serve")
SCRIPT = Path(__file__).parent / "static" / "survey.js"


class _SurveyState(SharedState):
    """The state file's connection for the survey pages, one request at a time, and the signing key."""

    def __init__(self, path: Path, secret_env: str | None) -> None:
        super().__init__(connect_state(path))
        log.create_tables(self.connection)
        self.key = signing_key(self.connection, secret_env, os.environ)


class _Refused(Exception):
    """The link cannot be used: the page to show instead, with its status."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def survey_router(dashboard: Dashboard, config: Config, state_file: Path) -> APIRouter:
    """The survey pages, to mount on the app: ``app.include_router(survey_router(dashboard, config, state_file))``."""
    settings = surveys_config(config)
    state = _SurveyState(state_file, settings.secret_env)
    analyser = CommentAnalyser(dashboard.db, config)
    templates = Environment(loader=PackageLoader("deskpulse.web"), autoescape=select_autoescape(default=True))
    router = APIRouter(include_in_schema=False)

    def page(template: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = templates.get_template(template).render(viewer=None, page=None, **values)
        return HTMLResponse(html, status_code=status)

    def refused(exc: _Refused) -> HTMLResponse:
        return page("survey_error.html", exc.status, title=exc.title, message=exc.message)

    def survey_of(token: str, purpose: str) -> SentSurvey:
        try:
            verified = verify(state.key, token, purpose)
        except ExpiredToken as exc:
            raise _Refused(
                410, "This survey has closed", "The link has expired, so we cannot take an answer through it any more."
            ) from exc
        except InvalidToken as exc:
            raise _Refused(
                400,
                "This link does not work",
                "The link is incomplete or was changed. Please use the link exactly as it came in our mail; nothing "
                "was recorded.",
            ) from exc
        survey = state.run(lambda c: log.find_send(c, verified.survey_id))
        if survey is None or survey.ticket_id != verified.ticket_id:
            raise _Refused(404, "Unknown survey", "We have no record of this survey; nothing was recorded.")
        return survey

    def answered(survey: SentSurvey) -> dict[str, Answer]:
        """The survey's latest answers, to show; none while an import holds the store (the page works without)."""
        try:
            with dashboard.reading() as store:
                return latest_answers(store, survey.survey_id)
        except StoreBusy:
            return {}

    @router.get("/survey/survey.js")
    def script() -> Response:
        return Response(
            SCRIPT.read_text(encoding="utf-8"),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    @router.get("/survey/{token}")
    def survey_page(token: str, csat: str | None = None) -> Response:
        try:
            survey = survey_of(token, ANSWER)
        except _Refused as exc:
            return refused(exc)
        try:
            chosen = parse_score(CSAT, csat)
        except AnswerError:
            chosen = None  # a mangled score in the link: the customer chooses on the page
        previous = answered(survey)
        return page(
            "survey_answer.html",
            title=settings.subject,
            token=token,
            csat=chosen or (previous[CSAT].score if CSAT in previous else None),
            ces=previous[CES].score if CES in previous else None,
            comment=previous[CSAT].comment if CSAT in previous else None,
            auto=chosen is not None,
            answered=bool(previous),
            csat_choices=CSAT_CHOICES,
            ces_choices=CES_CHOICES,
            ces_statement=CES_STATEMENT,
        )

    @router.post("/survey/{token}")
    def answer(
        request: Request,
        token: str,
        csat: Annotated[str | None, Form()] = None,
        ces: Annotated[str | None, Form()] = None,
        comment: Annotated[str | None, Form()] = None,
        auto: Annotated[str | None, Form()] = None,
    ) -> Response:
        try:
            _same_site(request)
            survey = survey_of(token, ANSWER)
        except _Refused as exc:
            return refused(exc)
        try:
            csat_score = parse_score(CSAT, csat)
            ces_score = parse_score(CES, ces)
            if csat_score is None:
                raise AnswerError("Please choose how satisfied you are (1 to 5).")
        except AnswerError as exc:
            return page("survey_error.html", 400, title="Please check your answer", message=str(exc), back=token)
        at = datetime.now(UTC).replace(tzinfo=None)
        try:
            with dashboard.writing() as store:
                state.run(lambda c: store_pending(store, c))  # answers queued earlier go first: the latest wins
                new_comment = record_answer(store, survey, csat_score, ces_score, comment, at).comment_answer_id
        except StoreBusy:  # an import holds the store: the answer waits in the state file, the customer does not
            state.run(lambda c: log.queue_answer(c, survey.survey_id, csat_score, ces_score, comment, at))
            new_comment = answer_id(survey.survey_id, CSAT, at) if (comment or "").strip() else None
        if new_comment is not None:
            _analyse(analyser, state, survey, new_comment, (comment or "").strip(), at)
        if auto == "1":
            return Response(status_code=204)  # the page's script: it only shows that the click counted
        return page("survey_thanks.html", title="Thank you", token=token, csat=csat_score, ces=ces_score)

    @router.get("/survey/{token}/opt-out")
    def opt_out_page(token: str) -> Response:
        try:
            survey_of(token, OPT_OUT)
        except _Refused as exc:
            return refused(exc)
        return page("survey_opt_out.html", title="No more surveys", token=token, done=False)

    @router.post("/survey/{token}/opt-out")
    def opt_out(token: str) -> Response:
        try:
            survey = survey_of(token, OPT_OUT)
        except _Refused as exc:
            return refused(exc)
        if survey.recipient is not None:
            recipient = survey.recipient
            now = datetime.now(UTC).replace(tzinfo=None)
            state.run(lambda c: log.opt_out(c, recipient, now, survey.survey_id))
        return page("survey_opt_out.html", title="No more surveys", token=token, done=True)

    return router


def _same_site(request: Request) -> None:
    """A browser's Origin, when it sends one, must be this site: the form is posted from our own page."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise _Refused(403, "This form came from another site", "Please answer on the page our link opens.")


def _analyse(
    analyser: CommentAnalyser, state: _SurveyState, survey: SentSurvey, answer_id: str, comment: str, at: datetime
) -> None:
    """Score the new comment and keep the result; the answer is stored already, so a failure here is logged only."""
    try:
        insight = analyser.analyse(answer_id, survey, comment)
    except Exception as exc:  # a model that cannot be loaded must not cost the customer their answer
        logger.warning("survey comment %s not analysed: %s", answer_id, exc)
        return
    state.run(lambda c: log.record_comment(c, insight, at))
