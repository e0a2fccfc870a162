"""Sending the surveys that are due, finding the ones that bounced, and making links for another help desk.

`send_due_surveys` is what `deskpulse surveys send` (for cron) and the loop of `deskpulse serve` call, with a store
open for writing. A ticket is due once it has been resolved for `[surveys] delay_hours`, if it resolved within
`lookback_days`, counts in the metrics, has a requester with an address and was never surveyed (by us or by the
help desk it came from). It is then skipped when its customer opted out or was asked within `customer_days`.
Each survey that goes out is recorded twice: in the send log of the state file (who, which Message-ID) and as an
invitation row of the store's `surveys` table (what the metrics read).
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from deskpulse.alerts.deliver import DeliveryError, RecipientRefused, send_mail
from deskpulse.errors import UserError
from deskpulse.surveys import log
from deskpulse.surveys.answers import store_pending
from deskpulse.surveys.log import BOUNCED, EMAIL, LINK, SENT, SentSurvey
from deskpulse.surveys.mail import answer_url, new_message_id, opt_out_url, survey_message
from deskpulse.surveys.records import latest_answers, new_survey_id, set_delivered, store_invitation
from deskpulse.surveys.settings import SURVEY_PLACEHOLDER, SurveysConfig, surveys_config
from deskpulse.surveys.tokens import ANSWER, OPT_OUT, Token, sign, signing_key

if TYPE_CHECKING:
    from deskpulse.config import Config
    from deskpulse.store import Store

# A DSN is looked for from this long before the earliest open survey was sent: the mail server's clock and the
# run's instant may differ a little.
CLOCK_SLACK = timedelta(hours=1)
# Addresses and Message-IDs in a DSN's text ("Message-ID: <…>", "<gone@example.org>: user unknown").
_ADDRESS_LIKE = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+")


class SurveyError(UserError):
    """Surveys cannot be sent or linked as configured (no base_url, no [surveys.email], an unknown ticket)."""


@dataclass(frozen=True)
class Outcome:
    """One survey of a run: sent, refused by the SMTP server (a bounce), or what a dry run would send."""

    survey_id: str | None  # None in a dry run
    ticket_id: str
    recipient: str
    agent: str | None
    detail: str | None = None  # the server's refusal

    def as_json(self) -> dict[str, Any]:
        return {
            "survey_id": self.survey_id,
            "ticket_id": self.ticket_id,
            "recipient": self.recipient,
            "agent": self.agent,
            "detail": self.detail,
        }


@dataclass
class SendReport:
    now: datetime  # the run's instant (naive UTC): what is due is judged as of it, and it is each survey's sent_at
    dry_run: bool
    due: int = 0  # tickets due and never surveyed
    sent: list[Outcome] = field(default_factory=list)  # a dry run: would be sent
    refused: list[Outcome] = field(default_factory=list)  # the server refused the recipient: not delivered
    opted_out: list[str] = field(default_factory=list)  # tickets skipped: their customer opted out
    throttled: list[str] = field(default_factory=list)  # tickets skipped: their customer was asked recently
    bounced: list[str] = field(default_factory=list)  # surveys a DSN in the store marked not delivered
    error: str | None = None  # what stopped the run (the server unreachable…); the rest goes at the next run
    busy: bool = False  # another run was sending: this one did nothing

    def as_json(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat() + "Z",
            "dry_run": self.dry_run,
            "busy": self.busy,
            "due": self.due,
            "sent": [o.as_json() for o in self.sent],
            "refused": [o.as_json() for o in self.refused],
            "opted_out": self.opted_out,
            "throttled": self.throttled,
            "bounced": self.bounced,
            "error": self.error,
        }


@dataclass(frozen=True)
class DueTicket:
    ticket_id: str
    recipient: str
    agent: str | None
    subject: str | None
    resolved_at: datetime


@dataclass(frozen=True)
class SurveyLink:
    url: str
    survey_id: str
    created: bool  # False: the ticket's existing survey, linked again


def send_due_surveys(
    store: Store,
    config: Config,
    state: sqlite3.Connection,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> SendReport:
    """Mark the surveys a DSN in the store names as not delivered, then mail every due survey as of ``now``
    (default: the clock; naive UTC or aware). ``store`` must be open for writing (a dry run reads only).
    ``environ`` (default: the process environment) holds the SMTP password and the signing key when configured.

    A recipient the SMTP server refuses for good is a bounce (recorded, not delivered); any other failure stops
    the run with `SendReport.error`, and the tickets not sent are due again at the next run."""
    settings = surveys_config(config)
    email = settings.email
    if email is None:
        raise SurveyError(
            "[surveys.email] is not configured: surveys need an SMTP server to go out by mail (docs/surveys.md); "
            "`deskpulse surveys link TICKET` makes a link for another help desk's mail instead"
        )
    base_url = _base_url(settings)
    environ = os.environ if environ is None else environ
    moment = _utc(now)
    report = SendReport(moment, dry_run)
    log.create_tables(state)
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    if not dry_run and not log.take_lease(state, holder, _clock()):
        report.busy = True
        return report
    try:
        if not dry_run:
            store_pending(store, state)  # answers the web app queued while an import held the store
            report.bounced = mark_dsn_bounces(store, state, settings, moment)
        surveyed = log.surveyed_tickets(state)
        due = [ticket for ticket in due_tickets(store, settings, moment) if ticket.ticket_id not in surveyed]
        report.due = len(due)
        blocked = log.opted_out(state)
        key = None if dry_run else signing_key(state, settings.secret_env, environ)
        asked: dict[str, datetime] = {}  # this run's recipients
        for ticket in due:
            if ticket.recipient in blocked:
                report.opted_out.append(ticket.ticket_id)
                continue
            last = asked.get(ticket.recipient) or log.last_sent_to(state, ticket.recipient)
            if settings.customer_days and last is not None and last > moment - timedelta(days=settings.customer_days):
                report.throttled.append(ticket.ticket_id)
                continue
            asked[ticket.recipient] = moment
            if key is None:
                report.sent.append(Outcome(None, ticket.ticket_id, ticket.recipient, ticket.agent))
                continue
            try:
                survey = _mail_survey(store, state, settings, key, base_url, ticket, moment, environ)
            except DeliveryError as exc:
                report.error = str(exc)
                break
            outcome = Outcome(survey.survey_id, ticket.ticket_id, ticket.recipient, ticket.agent, survey.bounce)
            (report.sent if survey.state == SENT else report.refused).append(outcome)
    finally:
        if not dry_run:
            log.release_lease(state, holder)
    return report


def due_tickets(store: Store, settings: SurveysConfig, now: datetime) -> list[DueTicket]:
    """Tickets resolved from `lookback_days` to `delay_hours` before ``now`` that count in the metrics, have a
    requester address and no survey in the store (the help desk's own CSAT included), oldest resolution first."""
    rows = store.execute(
        """
        SELECT t.ticket_id, lower(t.requester), t.assignee, t.subject, t.resolved_at FROM tickets t
        WHERE t.status = 'resolved' AND t.resolved_at <= ? AND t.resolved_at > ?
          AND t.excluded_reason IS NULL AND t.merged_into IS NULL AND t.requester LIKE '%_@_%'
          AND NOT EXISTS (SELECT 1 FROM surveys s WHERE s.ticket_id = t.ticket_id)
          AND NOT EXISTS (
              SELECT 1 FROM surveys s JOIN messages m ON m.message_id = s.message_id
              JOIN message_threads mt ON mt.message_key = m.message_key
              WHERE s.ticket_id IS NULL AND mt.ticket_id = t.ticket_id
          )
        ORDER BY t.resolved_at, t.ticket_id
        """,
        [now - timedelta(hours=settings.delay_hours), now - timedelta(days=settings.lookback_days)],
    )
    return [DueTicket(*row) for row in rows]


def mark_dsn_bounces(store: Store, state: sqlite3.Connection, settings: SurveysConfig, now: datetime) -> list[str]:
    """Surveys mailed within `link_days` that a delivery status notification in the store names, by the survey's
    Message-ID (in its In-Reply-To, References or text) or by its return path (the DSN's recipient), are marked
    not delivered, unless they were answered. Returns their ids."""
    open_surveys = log.delivered_mail_since(state, now - timedelta(days=settings.link_days))
    if not open_surveys:
        return []
    by_name: dict[str, SentSurvey] = {}
    for survey in open_surveys:
        if survey.message_id:
            by_name[survey.message_id.lower()] = survey
        if survey.return_path:
            by_name[survey.return_path.lower()] = survey
    rows = store.execute(
        "SELECT message_key, in_reply_to, reference_ids, to_addresses, body_text, quoted_text FROM messages "
        "WHERE author_role = 'system' AND received_at >= ? ORDER BY received_at, message_key",
        [min(survey.sent_at for survey in open_surveys) - CLOCK_SLACK],
    )
    bounced: list[str] = []
    for message_key, in_reply_to, references, to_addresses, body, quoted in rows:
        names = {in_reply_to, *(references or []), *(to_addresses or [])}
        names |= set(_ADDRESS_LIKE.findall(f"{body or ''}\n{quoted or ''}"))
        for name in sorted(n.lower().rstrip(".") for n in names if n):
            named = by_name.get(name)
            if named is None or named.survey_id in bounced or latest_answers(store, named.survey_id):
                continue
            log.mark_bounced(state, named.survey_id, f"DSN {message_key}")
            set_delivered(store, named.survey_id, False)
            bounced.append(named.survey_id)
    return bounced


def link_survey(
    store: Store,
    config: Config,
    state: sqlite3.Connection,
    ticket_id: str,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
) -> SurveyLink:
    """A survey link for ``ticket_id`` to paste into another help desk's reply or macro ("link only" mode).

    The first link of a ticket records its survey (sent now, credited to the ticket's assignee), like a mailed
    one; asking again links the same survey, with a fresh expiry. A customer who opted out gets no link."""
    settings = surveys_config(config)
    base_url = _base_url(settings)
    environ = os.environ if environ is None else environ
    log.create_tables(state)
    key = signing_key(state, settings.secret_env, environ)
    existing = log.sends_of_ticket(state, ticket_id)
    if existing:
        survey, created = existing[-1], False
    else:
        rows = store.execute(
            "SELECT lower(requester), assignee, excluded_reason FROM tickets WHERE ticket_id = ?", [ticket_id]
        )
        if not rows:
            raise SurveyError(f"no ticket {ticket_id} in the store (ticket ids as `deskpulse tickets` lists them)")
        requester, assignee, excluded = rows[0]
        if excluded is not None:
            raise SurveyError(f"{ticket_id} is left out of the metrics ({excluded}): its survey would count nowhere")
        if requester is not None and requester in log.opted_out(state):
            raise SurveyError(f"the customer of {ticket_id} ({requester}) opted out of surveys: no link made")
        survey = SentSurvey(new_survey_id(), ticket_id, requester, assignee, LINK, None, None, _utc(now), SENT, None)
        log.record_send(state, survey)
        store_invitation(store, survey, delivered=True)
        created = True
    token = sign(key, Token(survey.survey_id, ticket_id, ANSWER, _expiry(settings)))
    return SurveyLink(answer_url(base_url, token), survey.survey_id, created)


def _mail_survey(
    store: Store,
    state: sqlite3.Connection,
    settings: SurveysConfig,
    key: bytes,
    base_url: str,
    ticket: DueTicket,
    now: datetime,
    environ: Mapping[str, str],
) -> SentSurvey:
    """Mail one survey and record it: sent, or bounced when the server refuses the recipient."""
    email = settings.email
    assert email is not None
    survey_id = new_survey_id()
    expires = _expiry(settings)
    answer = sign(key, Token(survey_id, ticket.ticket_id, ANSWER, expires))
    opt_out = sign(key, Token(survey_id, ticket.ticket_id, OPT_OUT, expires))
    message_id = new_message_id(survey_id, email.sender)
    return_path = None if settings.return_path is None else settings.return_path.replace(SURVEY_PLACEHOLDER, survey_id)
    message = survey_message(
        subject=settings.subject,
        sender=email.sender,
        recipient=ticket.recipient,
        message_id=message_id,
        ticket_subject=ticket.subject,
        answer_link=answer_url(base_url, answer),
        opt_out_link=opt_out_url(base_url, opt_out),
    )
    try:
        send_mail(message, email, environ, setting="surveys.email", envelope_sender=return_path)
        outcome, bounce = SENT, None
    except RecipientRefused as exc:
        outcome, bounce = BOUNCED, str(exc)
    survey = SentSurvey(
        survey_id,
        ticket.ticket_id,
        ticket.recipient,
        ticket.agent,
        EMAIL,
        message_id,
        return_path,
        now,
        outcome,
        bounce,
    )
    log.record_send(state, survey)
    store_invitation(store, survey, delivered=outcome == SENT)
    return survey


def _base_url(settings: SurveysConfig) -> str:
    if settings.base_url is None:
        raise SurveyError(
            "surveys.base_url is not set: survey links need the public address of `deskpulse serve`, such as "
            'base_url = "https://desk.acme.test" in [surveys]'
        )
    return settings.base_url


def _expiry(settings: SurveysConfig) -> datetime:
    """A link works `link_days` from when it is made, by the clock (not the run's instant, which may be replayed)."""
    return _clock() + timedelta(days=settings.link_days)


def _utc(instant: datetime | None) -> datetime:
    """An instant as the store keeps it, to the second: naive UTC; the clock when None."""
    if instant is None:
        return _clock()
    naive = instant if instant.tzinfo is None else instant.astimezone(UTC).replace(tzinfo=None)
    return naive.replace(microsecond=0)


def _clock() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
