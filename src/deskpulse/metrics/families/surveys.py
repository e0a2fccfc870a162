"""Surveys: what customers say about their tickets (CSAT, CES, NPS) and how many answer at all.

Owns two fact tables over the canonical `surveys` table. `survey_answers`: the latest answer per ticket and
kind, placed in a period by when it was answered, with the number of exchanges the ticket took before the
survey went out. `surveyed_tickets`: one row per ticket with a delivered survey, placed by when it was sent.
Surveys count only on counted tickets (spec §1.8), named by `ticket_id` or by any `message_id` of the ticket.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis

from deskpulse.metrics.message_tickets import tickets_of_named_messages
from deskpulse.metrics.metric import MEAN, RATE, Metric

if TYPE_CHECKING:
    from deskpulse.metrics.facts import Calendar
    from deskpulse.store import Store

# Spec §3 csat_by_exchange: the bands of exchanges before the survey, the last one open-ended.
EXCHANGE_BANDS = ("1", "2", "3", "4+")


def _surveys_of_counted_tickets(store: Store, ticket_facts: Any) -> Any:
    """Every `surveys` row on a counted ticket, with ``ticket_id`` resolved, ``mailbox`` and the ``agent`` credited.

    A survey naming a message belongs to that message's ticket as threading sees it now: ticket ids are rebuilt
    with every import, so they are looked up here rather than when the survey was loaded. The agent is the one
    assigned when the survey went out (`surveys.agent`), else the ticket's assignee (for a mailbox: the agent of
    its latest human reply).
    """
    surveys = store.table("surveys")
    tickets_by_message = tickets_of_named_messages(store, "surveys")
    named = surveys.left_join(tickets_by_message, surveys.message_id == tickets_by_message._message_id)
    named = named.select(
        *(c for c in surveys.columns if c not in ("ticket_id", "agent")),
        _ticket_id=ibis.coalesce(named.ticket_id, named._message_ticket_id),
        _survey_agent=named.agent,
    ).view()  # a relation of its own: joined to as it is, Ibis would try to extend the join chain above
    tickets = ticket_facts.select("ticket_id", "mailbox", "assignee")
    joined = named.join(tickets, named._ticket_id == tickets.ticket_id)
    return joined.select(
        *(c for c in named.columns if not c.startswith("_")),
        ticket_id=joined.ticket_id,
        mailbox=joined.mailbox,
        agent=ibis.coalesce(joined._survey_agent, joined.assignee),
    )


def build_survey_answers(store: Store, calendar: Calendar, ticket_facts: Any) -> Any:
    """The latest answer per counted ticket and survey kind (an Ibis expression).

    Columns: the `surveys` columns of that answer (``answered_at`` places it in a period; ``agent`` and
    ``mailbox`` as in `_surveys_of_counted_tickets`), ``exchanges`` (the ticket's customer↔agent exchanges
    before the survey went out), ``exchange_band`` ("1", "2", "3", "4+"; null for none) and ``nps_points``
    (NPS answers: +1 for 9–10, 0 for 7–8, −1 for 0–6).
    """
    from deskpulse.metrics.families.responses import build_cycles  # the wait cycles are the exchanges

    surveys = _surveys_of_counted_tickets(store, ticket_facts)
    answers = surveys.filter(surveys.answered_at.notnull() & surveys.score.notnull())
    # A ticket answered twice counts once, with its latest answer (survey_id breaks a tie in time).
    newest_first = ibis.window(
        group_by=["ticket_id", "kind"], order_by=[answers.answered_at.desc(), answers.survey_id.desc()]
    )
    answers = answers.mutate(_rank=ibis.row_number().over(newest_first))
    answers = answers.filter(answers._rank == 0).drop("_rank")

    # An exchange is a wait cycle a human agent answered: the customer asked (one message or several), an agent
    # replied. Proactive openings and a customer's closing thanks are none. Counted up to the survey's sending
    # (or its answer, when the source gives no send time): what happened after cannot have shaped the answer.
    cycles = build_cycles(store, calendar, ticket_facts)
    replies = cycles.filter(cycles.replied_at.notnull()).select(
        _cycle_ticket_id=cycles.ticket_id, _replied_at=cycles.replied_at
    )
    asked = answers.select("survey_id", "ticket_id", _asked_at=ibis.coalesce(answers.sent_at, answers.answered_at))
    before = asked.join(replies, [asked.ticket_id == replies._cycle_ticket_id, replies._replied_at <= asked._asked_at])
    counts = before.group_by(_counted_survey_id=before.survey_id).aggregate(_exchanges=before.count())
    answers = answers.left_join(counts, answers.survey_id == counts._counted_survey_id)
    exchanges = answers._exchanges.fill_null(0).cast("int64")
    return answers.select(
        *(c for c in answers.columns if not c.startswith("_")),
        exchanges=exchanges,
        exchange_band=ibis.cases(
            (exchanges >= 4, "4+"),
            (exchanges == 3, "3"),
            (exchanges == 2, "2"),
            (exchanges == 1, "1"),
            else_=ibis.null("string"),
        ),
        nps_points=ibis.cases(
            ((answers.kind == "nps") & (answers.score >= 9), 1),
            ((answers.kind == "nps") & (answers.score <= 6), -1),
            (answers.kind == "nps", 0),
            else_=ibis.null("int64"),
        ),
    )


def build_surveyed_tickets(store: Store, calendar: Calendar, ticket_facts: Any) -> Any:
    """One row per counted ticket with a delivered survey of any kind (an Ibis expression).

    Columns: ``ticket_id``, ``sent_at`` (its first delivered survey: places it in a period), ``agent`` (credited
    for that survey), ``mailbox`` and ``answered`` (any survey of the ticket has an answer, however late).
    A survey whose delivery is unknown (null) counts as delivered; one without a send time cannot be placed.
    """
    surveys = _surveys_of_counted_tickets(store, ticket_facts)
    sent = surveys.delivered.fill_null(True) & surveys.sent_at.notnull()
    per_ticket = surveys.group_by("ticket_id", "mailbox").aggregate(  # a ticket has one mailbox
        sent_at=surveys.sent_at.min(where=sent),
        agent=surveys.agent.argmin(surveys.sent_at, where=sent),
        answered=surveys.answered_at.notnull().ifelse(1, 0).sum() > 0,
    )
    return per_ticket.filter(per_ticket.sent_at.notnull())


def _is_csat(t: Any) -> Any:
    return t.kind == "csat"


def _is_satisfied(t: Any) -> Any:
    """Top two boxes of 1–5 (4 or 5); a binary "good" is stored as 5, "bad" as 1."""
    return t.score >= 4


CSAT_DEFINITION = (
    'Share of CSAT answers in the top two boxes of 1–5 (4 or 5); on a good/bad survey, share of "good". '
    "A ticket answered twice counts once, with its latest answer; placed in the period of that answer, credited "
    "to the agent assigned when the survey went out (else the ticket's assignee). Marked inconclusive below "
    "`guardrails.min_survey_answers` answers."
)

METRICS = (
    Metric(
        "csat",
        "Customer satisfaction (CSAT)",
        RATE,
        "higher",
        CSAT_DEFINITION,
        source="survey_answers",
        bucket="answered_at",
        population=_is_csat,
        value=_is_satisfied,
        short="CSAT",
        survey_sample=True,
    ),
    Metric(
        "csat_mean",
        "CSAT mean score",
        MEAN,
        "higher",
        "Mean of the latest 1–5 CSAT answer per ticket, placed and credited as `csat`. Good/bad answers are left "
        "out: they have no place on the 1–5 scale.",
        source="survey_answers",
        bucket="answered_at",
        population=lambda t: _is_csat(t) & (t.scale == "1-5"),
        value="score",
        short="CSAT mean",
        unit_name="points (1-5)",
        survey_sample=True,
    ),
    Metric(
        "ces",
        "Customer effort score (CES)",
        MEAN,
        "higher",
        'Mean of the latest CES answer per ticket on the 1–7 agreement scale of CES 2.0 ("… made it easy to '
        'handle my issue": 7 = easiest), placed in the period of the answer, credited as `csat`.',
        source="survey_answers",
        bucket="answered_at",
        population=lambda t: t.kind == "ces",
        value="score",
        short="CES",
        unit_name="points (1-7)",
        survey_sample=True,
    ),
    Metric(
        "ces_easy_rate",
        "Easy-effort rate",
        RATE,
        "higher",
        "Share of the latest CES answers per ticket that agree it was easy: 5, 6 or 7 of 1–7. Placed and "
        "credited as `ces`.",
        source="survey_answers",
        bucket="answered_at",
        population=lambda t: t.kind == "ces",
        value=lambda t: t.score >= 5,
        short="CES easy",
        survey_sample=True,
    ),
    Metric(
        "nps",
        "Net promoter score (NPS)",
        MEAN,
        "higher",
        "Promoters (9–10) minus detractors (0–6), as shares of the latest 0–10 NPS answer per ticket: a ratio "
        "from −1 to 1 (multiply by 100 for the usual −100…100). Computed as the mean of +1 per promoter, 0 per "
        "passive, −1 per detractor. Placed in the period of the answer, credited as `csat`.",
        source="survey_answers",
        bucket="answered_at",
        population=lambda t: t.kind == "nps",
        value="nps_points",
        short="NPS",
        unit_name="ratio",
        survey_sample=True,
    ),
    Metric(
        "survey_response_rate",
        "Survey response rate",
        RATE,
        "higher",
        "Tickets with an answer to any survey ÷ tickets with a delivered survey (bounces left out), each ticket "
        "once, of any kind. Placed in the period its first delivered survey was sent, with answers that came "
        "later; credited to that survey's agent.",
        source="surveyed_tickets",
        bucket="sent_at",
        value=lambda t: t.answered,
        short="Response rate",
    ),
    Metric(
        "csat_by_exchange",
        "CSAT by exchanges",
        RATE,
        "higher",
        "`csat`, and in `by_exchanges` the same over tickets that took 1, 2, 3 or 4+ exchanges before the survey "
        "went out: customer messages a human agent answered (wait cycles), so each band shows what one more "
        "round costs in satisfaction. Answers on tickets with no answered exchange count in the whole only.",
        source="survey_answers",
        bucket="answered_at",
        population=_is_csat,
        value=_is_satisfied,
        short="CSAT by exchanges",
        breakdown=("exchange_band", EXCHANGE_BANDS),
        breakdown_key="by_exchanges",
        survey_sample=True,
    ),
)

FACT_TABLES = {"survey_answers": build_survey_answers, "surveyed_tickets": build_surveyed_tickets}
