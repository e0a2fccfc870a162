"""Per-ticket outcomes beyond the mail's timestamps: tracked work, survey scores, escalation, SLA, the category and
priority, the customer's sentiment and open review flags.

`deskpulse tickets` joins these to the per-ticket facts, so that handle time, CSAT, escalation rate and SLA
compliance can be recomputed from the export as well as the response and resolution metrics. Each comes from
the same fact table its metric reads, summed over the ticket's whole life.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import ibis

from deskpulse.insight.sentiment_store import ticket_sentiment
from deskpulse.metrics.engine import category_levels
from deskpulse.metrics.families.handoffs import build_handoffs
from deskpulse.metrics.families.sla import build_sla_targets
from deskpulse.metrics.families.surveys import build_survey_answers
from deskpulse.metrics.families.work import build_work_entries

if TYPE_CHECKING:
    from deskpulse.metrics.facts import Calendar
    from deskpulse.store import Store

# The columns this adds to each ticket, in the export's order.
OUTCOME_COLUMNS = (
    "handle_seconds",
    "time_entries",
    "csat_score",
    "ces_score",
    "nps_score",
    "escalated",
    "reassignments",
    "sla_targets",
    "sla_breaches",
    "sla_breach_seconds",
    "category",
    "subcategory",
    "category_confidence",
    "category_source",
    "priority",
    "sentiment",
    "sentiment_label",
    "sentiment_change",
    "flagged",
    "open_flags",
    "flag_reasons",
)


def with_outcomes(store: Store, calendar: Calendar, facts: Any) -> Any:
    """``facts`` (one row per ticket) with the `OUTCOME_COLUMNS` joined on (null where nothing is known)."""
    whole_life = replace(calendar, period="all")  # one row per entry, not one per period grain
    work = build_work_entries(store, whole_life, facts)
    work = (
        work.filter(work.ticket_id.notnull())
        .group_by("ticket_id")
        .aggregate(handle_seconds=work.seconds.sum(), time_entries=work.seconds.count())
    )
    answers = build_survey_answers(store, whole_life, facts)
    scores = answers.group_by("ticket_id").aggregate(
        **{f"{kind}_score": answers.score.max(where=answers.kind == kind) for kind in ("csat", "ces", "nps")}
    )
    handoffs = build_handoffs(store, whole_life, facts).select("ticket_id", "escalated", "reassignments")
    targets = build_sla_targets(store, whole_life, facts)
    sla = targets.group_by("ticket_id").aggregate(
        sla_targets=targets.count(),
        sla_breaches=targets.breached.ifelse(1, 0).sum(),
        sla_breach_seconds=targets.breach_seconds.sum(),
    )
    tickets = store.table("tickets")
    classified = store.table("ticket_categories")
    joined = tickets.left_join(classified, "ticket_id")
    path = joined.category
    category, subcategory = category_levels(path)
    # The classification explains the category while it is the one the ticket has (`categorize apply` writes it
    # in place); else the rebuild recorded where it came from: a help desk, a person's label, a folder or label.
    explains = (joined.category_right == path).fill_null(False)
    categories = joined.select(
        ticket_id=joined.ticket_id,
        category=category,
        subcategory=subcategory,
        category_confidence=explains.ifelse(joined.confidence, path.notnull().ifelse(1.0, ibis.null("float64"))),
        category_source=explains.ifelse(joined.method, joined.category_source),
        priority=joined.priority,
    )
    mood = ticket_sentiment(store, calendar.config.sentiment).select(
        "ticket_id", "sentiment", "sentiment_label", "sentiment_change"
    )
    flags = store.table("ticket_flags")
    open_flags = flags.filter(flags.state == "open")
    flagged = open_flags.group_by("ticket_id").aggregate(
        open_flags=open_flags.count(), flag_reasons=open_flags.reason.group_concat("; ")
    )
    out = facts
    for table in (work, scores, handoffs, sla, categories, mood, flagged):
        joined = out.left_join(table, "ticket_id")
        out = joined.select(*out.columns, *(c for c in table.columns if c != "ticket_id"))
    return out.mutate(open_flags=out.open_flags.fill_null(0), flagged=out.open_flags.fill_null(0) > 0)
