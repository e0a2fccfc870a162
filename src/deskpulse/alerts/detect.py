"""What deserves an alert as of one instant (``now``), read from the store without writing to it.

Each detector reports what happened in the lookback window before ``now`` (`AlertsConfig.lookback_hours`):
spikes ending in it (`deskpulse.insight.trends`), tickets flagged for negative sentiment by a message received
in it (`ticket_flags`), SLA targets whose due time passed in it unmet (the `sla_targets` facts of
`sla_compliance`), survey answers given in it with a low CSAT or CES (`surveys`). The guardrails (utilization
out of its band, the speed trap) judge a whole period, so they are read for the last period of `[scorecard]
period` that ended before ``now``, exactly as `deskpulse scorecard --at` shows them for it.

Every alert has a stable key (its kind, its subject and which occurrence it is): found again at the next run,
it is the same alert, which `deskpulse.alerts.log` sends only once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from deskpulse.alerts.settings import (
    LOW_SURVEY_SCORE,
    NEGATIVE_SENTIMENT,
    SLA_BREACH,
    SPEED_TRAP,
    SPIKE,
    UTILIZATION,
    AlertsConfig,
)
from deskpulse.calendar import calendar_days
from deskpulse.config import Config
from deskpulse.render import human_duration
from deskpulse.store import Store

TICKETS_LISTED = 10  # ticket ids an alert's text names; the alert keeps them all
COMMENT_CHARACTERS = 300  # of a survey comment quoted in a low-score alert
TEAM = "team"  # the subject of a speed trap: the whole team's numbers
_TARGET_LABELS = {"first_reply": "first reply", "next_reply": "next reply", "resolution": "resolution"}


@dataclass(frozen=True)
class Alert:
    kind: str
    subject: str  # what the cooldown is kept per: a category, a ticket's target, an agent or team
    key: str  # kind, subject and occurrence, e.g. "spike:Billing > Refund:2026-03-04"
    text: str  # one line for people; customer text (subjects, categories) is in it unescaped
    tickets: tuple[str, ...] = ()
    # The local days an episode covers (a spike): an alert whose days overlap a recorded one's of the same kind and
    # subject is that alert again, though the episode has grown and its key moved with its first day.
    days: tuple[date, date] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "key": self.key,
            "text": self.text,
            "tickets": list(self.tickets),
        }


def as_utc(instant: datetime) -> datetime:
    """An instant as the store keeps it: naive UTC (an aware one is converted)."""
    return instant if instant.tzinfo is None else instant.astimezone(UTC).replace(tzinfo=None)


def latest_activity(store: Store) -> datetime | None:
    """The store's newest instant (a message, a help desk's ticket or status change, a survey answer), None for an
    empty store: what a run takes for "now" by default, so that a store imported once still gives the alerts of
    its last day, and a low survey score answered after the last mail is alerted on the day it came."""
    from deskpulse.metrics.facts import latest_survey_time, store_span

    instants = [t for t in (store_span(store)[1], latest_survey_time(store)) if t is not None]
    return max(instants) if instants else None


def detect_alerts(store: Store, config: Config, settings: AlertsConfig, now: datetime) -> list[Alert]:
    """Every alert of the enabled kinds as of ``now`` (naive UTC, or aware), kind by kind in `ALERT_KINDS` order."""
    now = as_utc(now)
    since = now - timedelta(hours=settings.lookback_hours)
    found: list[Alert] = []
    if SPIKE in settings.kinds:
        found += spike_alerts(store, config, since, now)
    if NEGATIVE_SENTIMENT in settings.kinds:
        found += sentiment_alerts(store, since, now)
    if SLA_BREACH in settings.kinds:
        found += sla_breach_alerts(store, config, settings.sla_targets, since, now)
    if UTILIZATION in settings.kinds or SPEED_TRAP in settings.kinds:
        found += [a for a in guardrail_alerts(store, config, now) if a.kind in settings.kinds]
    if LOW_SURVEY_SCORE in settings.kinds:
        found += low_survey_score_alerts(store, config, since, now)
    return found


def spike_alerts(store: Store, config: Config, since: datetime, now: datetime) -> list[Alert]:
    """Spikes of any category, subcategory or of all tickets that end on a local day from ``since``'s to
    ``now``'s, counting the tickets created up to ``now``'s local day."""
    from deskpulse.insight.trends import TrendOptions, TrendsError, find_trends

    zone = ZoneInfo(config.helpdesk.timezone)
    first, last = _local_day(since, zone), _local_day(now, zone)
    options = TrendOptions(days=(last - first).days + 1, since=first, until=last, find_topics=False)
    try:
        report = find_trends(store, config, options)
    except TrendsError:  # no ticket yet
        return []
    alerts = []
    for spike in report.spikes:
        when = f"on {spike.first_day}" if spike.first_day == spike.last_day else f"{spike.first_day} … {spike.last_day}"
        text = (
            f"Spike in {spike.series} {when}: {spike.observed} tickets where {spike.expected:.1f} were expected "
            f"({spike.ratio:.1f}×); tickets {_ids(spike.ticket_ids)}"
        )
        key = f"{SPIKE}:{spike.series}:{spike.first_day}"
        days = (spike.first_day, spike.last_day)
        alerts.append(Alert(SPIKE, spike.series, key, text, tuple(spike.ticket_ids), days))
    return alerts


def sentiment_alerts(store: Store, since: datetime, now: datetime) -> list[Alert]:
    """One alert per ticket with open sentiment flags raised by messages received after ``since`` up to ``now``;
    its key names the newest of those messages, so a ticket flagged again by a later message is a new alert."""
    from deskpulse.insight.sentiment_store import SENTIMENT_FLAG

    rows = store.execute(
        "SELECT f.ticket_id, f.message_key, f.reason, f.score, t.subject FROM ticket_flags f "
        "LEFT JOIN tickets t ON t.ticket_id = f.ticket_id "
        "WHERE f.kind = ? AND f.state = 'open' AND f.raised_at > ? AND f.raised_at <= ? "
        "ORDER BY f.ticket_id, f.raised_at, f.message_key",
        [SENTIMENT_FLAG, since, now],
    )
    per_ticket: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        per_ticket.setdefault(row[0], []).append(row)
    alerts = []
    for ticket_id, flags in per_ticket.items():
        _, newest_message, _, score, subject = flags[-1]
        reasons = "; ".join(dict.fromkeys(reason for _, _, reason, _, _ in flags))
        mood = "" if score is None else f" (sentiment {score:+.2f})"
        text = f"Negative sentiment in {ticket_id} “{subject or ''}”{mood}: {reasons}"
        key = f"{NEGATIVE_SENTIMENT}:{ticket_id}:{newest_message}"
        alerts.append(Alert(NEGATIVE_SENTIMENT, ticket_id, key, text, (ticket_id,)))
    return alerts


def sla_breach_alerts(
    store: Store, config: Config, target_kinds: tuple[str, ...], since: datetime, now: datetime
) -> list[Alert]:
    """SLA targets of ``target_kinds`` (first_reply, next_reply, resolution) that came due unmet after ``since``
    up to ``now``: answered late, or still running past their due time. A target still running is measured up to
    the store's newest instant (the clocks of `sla_compliance`): one that nobody answers breaches once later mail
    (any ticket's) moves that instant past its due time."""
    from deskpulse.metrics.facts import build_calendar, ticket_facts
    from deskpulse.metrics.families.sla import build_sla_targets

    if not target_kinds:
        return []
    calendar = build_calendar(store, config)
    targets = build_sla_targets(store, calendar, ticket_facts(store, calendar))
    breached = targets.filter(
        targets.breached & targets.kind.isin(list(target_kinds)) & (targets.due_at > since) & (targets.due_at <= now)
    )
    tickets = store.table("tickets").select("ticket_id", "subject")
    rows = store.arrow(
        breached.left_join(tickets, "ticket_id")
        .select(
            "ticket_id",
            "subject",
            "kind",
            "cycle_number",
            "policy",
            "hours",
            "target_seconds",
            "due_at",
            "stopped_at",
            "breach_seconds",
        )
        .order_by(["due_at", "ticket_id", "kind", "cycle_number"])
    ).to_pylist()
    zone = ZoneInfo(config.helpdesk.timezone)
    alerts = []
    for row in rows:
        target = row["kind"] + (f":{row['cycle_number']}" if row["kind"] == "next_reply" else "")
        subject = f"{row['ticket_id']}:{target}"
        due = row["due_at"].replace(tzinfo=UTC).astimezone(zone)
        late = human_duration(row["breach_seconds"])
        if row["stopped_at"] is not None and row["stopped_at"] <= now:
            outcome = f"met {late} late"
        else:  # the overrun is measured to the store's newest instant: shown only when that is the run's
            outcome = "still open" + (f", {late} over so far" if now == calendar.horizon else "")
        text = (
            f"SLA breach in {row['ticket_id']} “{row['subject'] or ''}”: {_TARGET_LABELS[row['kind']]} was due "
            f"{due:%Y-%m-%d %H:%M} {zone.key} (policy {row['policy']}: {human_duration(row['target_seconds'])} in "
            f"{row['hours']} hours), {outcome}"
        )
        alerts.append(Alert(SLA_BREACH, subject, f"{SLA_BREACH}:{subject}", text, (row["ticket_id"],)))
    return alerts


def low_survey_score_alerts(store: Store, config: Config, since: datetime, now: datetime) -> list[Alert]:
    """One alert per survey answer given after ``since`` up to ``now`` whose CSAT or CES score is at or below
    `[surveys] low_csat_at_most` / `low_ces_at_most` (a good/bad CSAT's "bad" is 1), whatever the survey's source:
    ours, a help desk's import or a CSV. The subject is the ticket, so a customer who answers low twice within the
    cooldown raises one alert; the key is the answer's row."""
    from deskpulse.surveys.settings import surveys_config

    settings = surveys_config(config)
    limits = [(kind, limit) for kind, limit in (("csat", settings.low_csat_at_most), ("ces", settings.low_ces_at_most))]
    limits = [(kind, limit) for kind, limit in limits if limit > 0]
    if not limits:
        return []
    low = " OR ".join("(s.kind = ? AND s.score <= ?)" for _ in limits)
    rows = store.execute(
        "SELECT s.survey_id, coalesce(s.ticket_id, named.ticket_id) AS ticket_id, s.kind, s.score, s.scale, "
        "s.comment, coalesce(s.agent, t.assignee), t.subject FROM surveys s "
        "LEFT JOIN (SELECT m.message_id, any_value(mt.ticket_id) AS ticket_id FROM messages m "
        "JOIN message_threads mt ON mt.message_key = m.message_key GROUP BY m.message_id) named "
        "ON s.ticket_id IS NULL AND named.message_id = s.message_id "
        "LEFT JOIN tickets t ON t.ticket_id = coalesce(s.ticket_id, named.ticket_id) "
        f"WHERE s.answered_at > ? AND s.answered_at <= ? AND s.score IS NOT NULL AND ({low}) "
        "ORDER BY s.answered_at, s.survey_id",
        [since, now, *(value for limit in limits for value in limit)],
    )
    alerts = []
    for survey_id, ticket_id, kind, score, scale, comment, agent, subject in rows:
        ticket = ticket_id or "(a ticket not in the store)"
        if scale in ("good-bad", "good-okay-bad"):  # stored as 5, 3 and 1 (docs/data-model.md)
            shown = {5: "good", 3: "okay"}.get(score, "bad")
        else:
            shown = f"{score}/{(scale or '?').rpartition('-')[2]}"
        said = " ".join((comment or "").split())
        quote = f": “{said[:COMMENT_CHARACTERS]}{'…' if len(said) > COMMENT_CHARACTERS else ''}”" if said else ""
        text = f"Low {kind.upper()} {shown} on {ticket} “{subject or ''}” (agent {agent or 'unknown'}){quote}"
        alerts.append(Alert(LOW_SURVEY_SCORE, ticket, f"{LOW_SURVEY_SCORE}:{survey_id}", text, (ticket,)))
    return alerts


def guardrail_alerts(store: Store, config: Config, now: datetime) -> list[Alert]:
    """The scorecard's guardrail warnings (utilization out of band per team and agent, the speed trap) for the
    last whole `[scorecard] period` before ``now``'s: a period still running has too little in it to judge (on a
    Monday morning every agent's week would look idle). None for the period ``all``."""
    from deskpulse.metrics.guardrails import guardrails_for

    period_kind = config.scorecard.period
    if period_kind == "all":
        return []
    zone = ZoneInfo(config.helpdesk.timezone)
    period, previous = completed_periods(_local_day(now, zone), period_kind)
    alerts = []
    for guardrail in guardrails_for(store, config, period_kind, period, previous):
        subject = guardrail.subject or TEAM
        key = f"{guardrail.kind}:{subject}:{period}"
        alerts.append(Alert(guardrail.kind, subject, key, guardrail.message))
    return alerts


def completed_periods(day: date, period_kind: str) -> tuple[str, str]:
    """The labels of the last whole period of ``period_kind`` before the one holding ``day`` and of the period
    before that: for Wednesday 2026-03-04 and "week", ("2026-W09", "2026-W08")."""
    last = _period_start(day, period_kind) - timedelta(days=1)
    before = _period_start(last, period_kind) - timedelta(days=1)
    return _label(last, period_kind), _label(before, period_kind)


def _period_start(day: date, period_kind: str) -> date:
    if period_kind == "day":
        return day
    if period_kind == "week":
        return day - timedelta(days=day.weekday())
    if period_kind == "month":
        return day.replace(day=1)
    if period_kind == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, 1, 1)


def _label(day: date, period_kind: str) -> str:
    """The period label `deskpulse kpis` gives ``day`` (the calendar table's, so the two cannot differ)."""
    if period_kind == "day":
        return day.isoformat()
    return str(calendar_days("UTC", day, day).column(period_kind)[0].as_py())


def _local_day(instant: datetime, zone: ZoneInfo) -> date:
    return instant.replace(tzinfo=UTC).astimezone(zone).date()


def _ids(ticket_ids: list[str]) -> str:
    shown = ", ".join(ticket_ids[:TICKETS_LISTED])
    more = len(ticket_ids) - TICKETS_LISTED
    return shown + (f" and {more} more" if more > 0 else "")
