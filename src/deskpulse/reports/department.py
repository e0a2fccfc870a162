"""The data of a department report (or, for `all`, the team's report): each department's pain points in a period
with volume, trend, spikes, cost and sentiment, representative redacted quotes, and the ranked initiatives.

Everything that touches many tickets runs in the engine: the tickets of the period and the one before are routed
by one expression (`deskpulse.reports.routing.route_tickets`), then counted, and their customer messages' scores
aggregated, per department and pain point. Python sees the aggregates and the few messages it quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from deskpulse.errors import UserError
from deskpulse.reports.initiatives import Initiative, rank_initiatives
from deskpulse.reports.period import ReportPeriod, parse_period
from deskpulse.reports.redact import redact
from deskpulse.reports.routing import ALL, CATEGORY, Department, category_key, departments_config, route_tickets

if TYPE_CHECKING:
    from deskpulse.config import Config
    from deskpulse.metrics.scorecard import Scorecard
    from deskpulse.store import Store

TOP_PAIN_POINTS = 5  # pain points and initiatives shown per department
QUOTE_CHARACTERS = 320  # a quote is cut after this many characters (after redaction)
MIN_QUOTE_CHARACTERS = 20  # shorter messages ("thanks!") say nothing worth quoting
TYPICAL_SAMPLE = 200  # messages per pain point the most typical one is chosen from
NEGATIVE = "negative"


@dataclass(frozen=True)
class Spike:
    """A spike `deskpulse trends` found in the pain point's category during the period."""

    first_day: date
    last_day: date
    observed: int
    expected: float

    def describe(self) -> str:
        days = str(self.first_day) if self.first_day == self.last_day else f"{self.first_day} … {self.last_day}"
        return f"spike {days}: {self.observed} tickets, {self.expected:.1f} expected"

    def as_json(self) -> dict[str, Any]:
        return {
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "observed": self.observed,
            "expected": round(self.expected, 2),
        }


@dataclass(frozen=True)
class Quote:
    kind: str  # "most negative" or "typical"
    ticket_id: str
    text: str  # redacted, then cut to QUOTE_CHARACTERS
    score: float | None

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "ticket_id": self.ticket_id, "text": self.text, "score": self.score}


@dataclass(frozen=True)
class PainPoint:
    name: str  # a category path, a keyword group's name, or "tag: <tag>"
    kind: str  # category, keywords or tag
    tickets: int
    previous_tickets: int
    scored_messages: int  # customer messages of its tickets with a sentiment score
    negative_messages: int
    mean_score: float | None
    cost: float | None  # tickets × cost per ticket; None without cost data
    spikes: tuple[Spike, ...] = ()
    quotes: tuple[Quote, ...] = ()

    @property
    def change(self) -> float | None:
        """The relative change against the period before; None when it had none."""
        return (self.tickets - self.previous_tickets) / self.previous_tickets if self.previous_tickets else None

    @property
    def negative_share(self) -> float | None:
        return self.negative_messages / self.scored_messages if self.scored_messages else None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "tickets": self.tickets,
            "previous_tickets": self.previous_tickets,
            "change": self.change,
            "cost": self.cost,
            "sentiment": {
                "scored_messages": self.scored_messages,
                "negative_messages": self.negative_messages,
                "negative_share": self.negative_share,
                "mean_score": self.mean_score,
            },
            "spikes": [s.as_json() for s in self.spikes],
            "quotes": [q.as_json() for q in self.quotes],
        }


@dataclass
class DepartmentSection:
    department: Department
    tickets: int  # tickets routed to it in the period
    previous_tickets: int
    pain_points: list[PainPoint]  # the largest, at most `top`, with quotes
    other_pain_points: int  # pain points not shown
    initiatives: list[Initiative]  # the highest scores, at most `top`

    def as_json(self) -> dict[str, Any]:
        return {
            "department": self.department.name,
            "title": self.department.title,
            "rules": self.department.describe(),
            "tickets": self.tickets,
            "previous_tickets": self.previous_tickets,
            "pain_points": [p.as_json() for p in self.pain_points],
            "other_pain_points": self.other_pain_points,
            "initiatives": [i.as_json() for i in self.initiatives],
        }


@dataclass
class Report:
    scope: str  # a department's name, or "all"
    period: ReportPeriod
    timezone: str
    currency: str
    tickets: int  # counted tickets created in the period, whichever department they reached
    unrouted_tickets: int  # of those, tickets no department's rules took
    cost_per_ticket: float | None
    cost_note: str | None  # why there is no cost, when there is none
    sentiment_note: str | None  # why there is no sentiment, when no message is scored
    sections: list[DepartmentSection] = field(default_factory=list)
    scorecard: Scorecard | None = None  # `all` only

    @property
    def title(self) -> str:
        if self.scope == ALL:
            every = {"month": "monthly ", "week": "weekly ", "quarter": "quarterly ", "year": "yearly "}
            return f"Team {every.get(self.period.kind, '')}report, {self.period.label}"
        return f"{self.sections[0].department.title}: customer pain report, {self.period.label}"

    def as_json(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "title": self.title,
            "period": self.period.label,
            "period_kind": self.period.kind,
            "first_day": self.period.current.first_day.isoformat(),
            "last_day": self.period.current.last_day.isoformat(),
            "previous_period": self.period.previous.label,
            "timezone": self.timezone,
            "currency": self.currency,
            "tickets": self.tickets,
            "unrouted_tickets": self.unrouted_tickets,
            "cost_per_ticket": self.cost_per_ticket,
            "cost_note": self.cost_note,
            "sentiment_note": self.sentiment_note,
            "scorecard": None if self.scorecard is None else self.scorecard.as_json(),
            "departments": [s.as_json() for s in self.sections],
        }


def build_report(store: Store, config: Config, department: str, period: str, *, top: int = TOP_PAIN_POINTS) -> Report:
    """The report of ``department`` (a configured name, or ``all`` for every department with the scorecard) for
    the period labelled ``period`` (2026-03, 2026-W09, 2026-Q1, …), compared with the period before."""
    if top < 1:
        raise UserError(f"--top must be at least 1, not {top}")
    settings = departments_config(config)
    team = department.strip().lower() == ALL
    departments = settings.departments if team else (settings.named(department),)
    span = parse_period(period)
    timezone = config.helpdesk.timezone
    tickets = _tickets_of(store, span, timezone)
    routed = route_tickets(store, tickets, departments).cache()
    try:
        total, unrouted = _totals(store, tickets, routed)
        volumes = _volumes(store, routed)
        sentiment = _sentiment(store, routed)
        cost_per_ticket, cost_note = _cost_per_ticket(store, config, span)
        spikes = _spikes(store, config, span)
        sections = []
        for each in departments:
            sections.append(_section(each, volumes.get(each.name, {}), sentiment, spikes, cost_per_ticket, top))
        quotes = _quotes(store, routed, [(s.department.name, p.name) for s in sections for p in s.pain_points])
    finally:
        routed.release()
    for section in sections:
        name = section.department.name
        section.pain_points = [replace(p, quotes=quotes.get((name, p.name), ())) for p in section.pain_points]
    scorecard = None
    if team:
        from deskpulse.metrics.scorecard import build_scorecard

        scorecard = build_scorecard(store, config, at=span.label, period=span.kind)
    return Report(
        scope=ALL if team else departments[0].name,
        period=span,
        timezone=timezone,
        currency=config.costs.currency,
        tickets=total,
        unrouted_tickets=unrouted,
        cost_per_ticket=cost_per_ticket,
        cost_note=cost_note,
        sentiment_note=_sentiment_note(store),
        sections=sections,
        scorecard=scorecard,
    )


def pain_point_tickets(store: Store, config: Config, department: str, period: str, pain_point: str) -> list[str]:
    """The ids of the tickets behind one pain point of a department in a period (oldest first): the drill-down
    from a report's number to its tickets."""
    settings = departments_config(config)
    span = parse_period(period)
    tickets = _tickets_of(store, span, config.helpdesk.timezone)
    routed = route_tickets(store, tickets, (settings.named(department),))
    chosen = routed.filter(routed._current & (routed.pain_point == pain_point))
    rows = store.arrow(chosen.order_by(["created_at", "ticket_id"]).select("ticket_id")).to_pylist()
    return [row["ticket_id"] for row in rows]


def _tickets_of(store: Store, span: ReportPeriod, timezone: str) -> Any:
    """The counted tickets created in the period or the one before, with ``_current`` (in the period)."""
    start, _ = span.previous.utc_bounds(timezone)
    current_start, end = span.current.utc_bounds(timezone)
    tickets = store.table("tickets")
    counted = tickets.filter(
        tickets.excluded_reason.isnull()
        & tickets.merged_into.isnull()
        & (tickets.created_at >= start)
        & (tickets.created_at < end)
    )
    return counted.select("ticket_id", "category", "created_at", _current=counted.created_at >= current_start)


def _totals(store: Store, tickets: Any, routed: Any) -> tuple[int, int]:
    current = tickets.filter(tickets._current)
    reached = routed.filter(routed._current).select("ticket_id").distinct()
    unrouted = current.anti_join(reached, "ticket_id")
    total = store.arrow(current.aggregate(n=current.count()))["n"][0].as_py()
    missed = store.arrow(unrouted.aggregate(n=unrouted.count()))["n"][0].as_py()
    return int(total or 0), int(missed or 0)


def _volumes(store: Store, routed: Any) -> dict[str, dict[tuple[str, str], tuple[int, int]]]:
    """Department → (pain point, kind) → (tickets in the period, tickets in the period before)."""
    counts = routed.group_by(["department", "pain_point", "pain_kind"]).aggregate(
        current=routed._current.sum(), previous=(~routed._current).sum()
    )
    found: dict[str, dict[tuple[str, str], tuple[int, int]]] = {}
    for row in store.arrow(counts).to_pylist():
        found.setdefault(row["department"], {})[(row["pain_point"], row["pain_kind"])] = (
            int(row["current"] or 0),
            int(row["previous"] or 0),
        )
    return found


def _customer_messages(store: Store, routed: Any) -> Any:
    """The customer messages of the period's routed tickets, one row per department and pain point they count in."""
    current = routed.filter(routed._current).select("ticket_id", "department", "pain_point")
    threads = store.table("message_threads").select("message_key", "ticket_id")
    messages = store.table("messages")
    customer = messages.filter(messages.author_role == "customer").select("message_key", "body_text", "received_at")
    return current.join(threads, "ticket_id").join(customer, "message_key")


def _sentiment(store: Store, routed: Any) -> dict[tuple[str, str], tuple[int, int, float | None]]:
    """(department, pain point) → (scored messages, negative ones, mean score) over the period's tickets."""
    messages = _customer_messages(store, routed)
    scores = store.table("message_sentiment").select("message_key", "score", "label")
    scored = messages.join(scores, "message_key")
    per_point = scored.group_by(["department", "pain_point"]).aggregate(
        scored=scored.count(), negative=(scored.label == NEGATIVE).sum(), mean=scored.score.mean()
    )
    return {
        (row["department"], row["pain_point"]): (int(row["scored"]), int(row["negative"] or 0), row["mean"])
        for row in store.arrow(per_point).to_pylist()
    }


def _sentiment_note(store: Store) -> str | None:
    scores = store.table("message_sentiment")
    if store.arrow(scores.aggregate(n=scores.count()))["n"][0].as_py():
        return None
    return "no customer message is scored yet: run `deskpulse sentiment score` for sentiment and dissatisfaction"


def _cost_per_ticket(store: Store, config: Config, span: ReportPeriod) -> tuple[float | None, str | None]:
    """The period's cost per ticket from the KPI engine, or None with the reason there is none."""
    from deskpulse.metrics.engine import KpiQuery, compute_kpis

    if config.files.costs is None:
        return None, "no cost data: no costs file is configured ([files] costs in deskpulse.toml, docs/inputs.md)"
    current = span.current
    query = KpiQuery(["cost_per_ticket"], period=current.kind, since=current.first_day, until=current.last_day)
    rows = [row for row in compute_kpis(store, config, query).rows if row.get("period") == current.label]
    value = rows[0]["cost_per_ticket"]["value"] if rows else None
    if value is None:
        return None, f"no cost data: the costs file lists no cost for {current.label}"
    return float(value), None


def _spikes(store: Store, config: Config, span: ReportPeriod) -> dict[str, tuple[Spike, ...]]:
    """Category path → the spikes `deskpulse trends` finds in it during the period."""
    from deskpulse.insight.trends import TrendOptions, TrendsError, find_trends

    current = span.current
    try:
        trends = find_trends(
            store, config, TrendOptions(since=current.first_day, until=current.last_day, find_topics=False)
        )
    except TrendsError:
        return {}
    found: dict[str, list[Spike]] = {}
    for finding in trends.spikes:
        if finding.level == "all" or finding.first_day > current.last_day or finding.last_day < current.first_day:
            continue
        spike = Spike(finding.first_day, finding.last_day, finding.observed, finding.expected)
        found.setdefault(category_key(finding.series), []).append(spike)
    return {series: tuple(spikes) for series, spikes in found.items()}


def _section(
    department: Department,
    volumes: dict[tuple[str, str], tuple[int, int]],
    sentiment: dict[tuple[str, str], tuple[int, int, float | None]],
    spikes: dict[str, tuple[Spike, ...]],
    cost_per_ticket: float | None,
    top: int,
) -> DepartmentSection:
    points = []
    for (name, kind), (tickets, previous) in volumes.items():
        if tickets == 0:  # gone this period: no pain to report, whatever it was before
            continue
        scored, negative, mean = sentiment.get((department.name, name), (0, 0, None))
        points.append(
            PainPoint(
                name=name,
                kind=kind,
                tickets=tickets,
                previous_tickets=previous,
                scored_messages=scored,
                negative_messages=negative,
                mean_score=mean,
                cost=None if cost_per_ticket is None else tickets * cost_per_ticket,
                spikes=spikes.get(category_key(name), ()) if kind == CATEGORY else (),
            )
        )
    points.sort(key=lambda p: (-p.tickets, p.name))
    initiatives = rank_initiatives(
        [(p.name, p.kind, p.tickets, p.previous_tickets, p.negative_share) for p in points], cost_per_ticket
    )
    return DepartmentSection(
        department=department,
        tickets=sum(p.tickets for p in points),
        previous_tickets=sum(previous for _, previous in volumes.values()),
        pain_points=points[:top],
        other_pain_points=max(0, len(points) - top),
        initiatives=initiatives[:top],
    )


def _quotes(store: Store, routed: Any, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[Quote, ...]]:
    """(department, pain point) → its most negative and its most typical customer message, redacted."""
    import ibis

    if not wanted:
        return {}
    messages = _customer_messages(store, routed)
    messages = messages.filter(
        messages.body_text.notnull() & (messages.body_text.strip().length() >= MIN_QUOTE_CHARACTERS)
    )
    chosen = ibis.literal(False)
    for department, pain_point in wanted:
        chosen = chosen | ((messages.department == department) & (messages.pain_point == pain_point))
    messages = messages.filter(chosen)
    scores = store.table("message_sentiment").select("message_key", "score")
    messages = messages.left_join(scores, "message_key").drop("message_key_right")
    keys = ["department", "pain_point"]
    worst = messages.filter(messages.score.notnull())
    worst = worst.group_by(keys).aggregate(message_key=worst.message_key.argmin(worst.score), score=worst.score.min())
    in_turn = ibis.window(group_by=[messages.department, messages.pain_point], order_by=messages.message_key)
    sample = messages.mutate(_row=ibis.row_number().over(in_turn)).filter(lambda t: t._row < TYPICAL_SAMPLE)
    sample_rows = store.arrow(
        sample.select("department", "pain_point", "message_key", "ticket_id", "body_text", "score")
    ).to_pylist()
    worst_rows = {(r["department"], r["pain_point"]): r for r in store.arrow(worst).to_pylist()}
    texts = {r["message_key"]: r for r in sample_rows}
    missing = [r["message_key"] for r in worst_rows.values() if r["message_key"] not in texts]
    if missing:
        extra = messages.filter(messages.message_key.isin(missing))
        for row in store.arrow(extra.select("message_key", "ticket_id", "body_text", "score")).to_pylist():
            texts[row["message_key"]] = row
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in sorted(sample_rows, key=lambda r: r["message_key"]):  # equals: the first message key wins
        samples.setdefault((row["department"], row["pain_point"]), []).append(row)
    found: dict[tuple[str, str], tuple[Quote, ...]] = {}
    for key in wanted:
        quotes = []
        negative = worst_rows.get(key)
        if negative is not None and negative["score"] >= 0:
            negative = None  # the least happy message is not unhappy: it may still be the typical one
        if negative is not None:
            row = texts[negative["message_key"]]
            quotes.append(Quote("most negative", row["ticket_id"], quote_text(row["body_text"]), row["score"]))
        # The typical quote from another ticket than the most negative one, when there is one.
        others = [r for r in samples.get(key, []) if negative is None or r["message_key"] != negative["message_key"]]
        if negative is not None:
            negative_ticket = texts[negative["message_key"]]["ticket_id"]
            others = [r for r in others if r["ticket_id"] != negative_ticket] or others
        typical = most_typical([r["body_text"] for r in others])
        if typical is not None:
            row = others[typical]
            quotes.append(Quote("typical", row["ticket_id"], quote_text(row["body_text"]), row["score"]))
        found[key] = tuple(quotes)
    return found


def quote_text(text: str) -> str:
    """A customer message as a quote: personal data redacted, whitespace folded, cut at QUOTE_CHARACTERS."""
    folded = re.sub(r"\s+", " ", redact(text)).strip()
    if len(folded) <= QUOTE_CHARACTERS:
        return folded
    return folded[: QUOTE_CHARACTERS - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def most_typical(texts: list[str]) -> int | None:
    """The index of the text most like the others (the highest summed TF-IDF cosine to them; the first of
    equals), or None without texts. Linear in the texts: the sum of the unit rows is formed once."""
    import numpy as np

    if not texts:
        return None
    if len(texts) < 3:
        return 0
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        rows = TfidfVectorizer(min_df=2, sublinear_tf=True, strip_accents="unicode").fit_transform(texts).tocsr()
    except ValueError:  # no word in two texts: none is more typical than another
        return 0
    total = np.asarray(rows.sum(axis=0)).ravel()
    norms = np.asarray(rows.multiply(rows).sum(axis=1)).ravel()
    return int(np.argmax(rows @ total - norms))
