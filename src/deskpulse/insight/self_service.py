"""Self-service gaps: categories with many tickets that are mostly resolved with one short, templated answer —
candidates for a help article or a product fix — with the tickets, agent time and cost they would save.

Built on the per-ticket facts the KPIs use (`touches`, `reopens`, `first_resolved_at` of
`deskpulse.metrics.facts`, `handle_seconds` of `ticket_outcomes`) and on the KPI engine's cost per ticket, so a
gap and the one-touch rate or cost it explains cannot disagree. The tickets are fetched once; the answer texts
are compared in numpy (TF-IDF), in time linear in the number of answers.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from deskpulse.config import Config
from deskpulse.errors import UserError
from deskpulse.insight.taxonomy import SEPARATOR, UNCLASSIFIED
from deskpulse.store import Store

# An answer of this many words or fewer counts as fully short in the score; a longer one in proportion
# (100 words: half). A help article replaces a few sentences, not a page of troubleshooting.
SHORT_ANSWER_WORDS = 50


class SelfServiceError(UserError):
    pass


@dataclass(frozen=True)
class GapOptions:
    """What `find_gaps` looks at and what makes a category a candidate. The range is the tickets created on the
    local days ``since`` … ``until`` (default: the ``days`` days up to the latest ticket's day)."""

    since: date | None = None
    until: date | None = None
    days: int = 90
    min_tickets: int = 10  # a candidate has at least this many tickets in the range…
    min_one_touch: float = 0.6  # …most of its resolved tickets resolved with one reply…
    max_words: float = 100  # …and a median answer of at most this many words
    examples: int = 5  # one-touch ticket ids per category, the closest to the typical answer first
    reply_characters: int = 300  # the typical answer is shown up to this many characters


@dataclass(frozen=True)
class CategoryGap:
    """One category (``level`` "category": the top level, "Billing") or subcategory (the full path, "Billing >
    Refund") in the range. ``answers`` are its tickets' first public agent replies."""

    category: str
    level: str
    tickets: int
    share: float  # of all tickets in the range
    resolved: int  # resolved with at least one agent reply: the one-touch share's denominator
    one_touch: int  # resolved with exactly one agent reply and never reopened
    answers: int
    median_words: float | None
    similarity: float | None  # mean pairwise TF-IDF cosine of the answers; None below two answers
    typical_reply: str | None  # the answer most similar to the others (truncated)
    typical_ticket_id: str | None
    handle_seconds: float | None  # tracked time of the one-touch tickets (None when none is tracked)
    tracked_tickets: int  # one-touch tickets with time entries
    cost_saved: float | None  # one_touch × cost per ticket; None without costs
    score: float | None
    candidate: bool
    misses: list[str]  # the thresholds a non-candidate misses
    ticket_ids: list[str]  # one-touch tickets, the closest to the typical answer first

    @property
    def one_touch_share(self) -> float | None:
        return self.one_touch / self.resolved if self.resolved else None

    @property
    def shortness(self) -> float | None:
        return shortness(self.median_words)

    def as_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "level": self.level,
            "candidate": self.candidate,
            "score": self.score,
            "misses": self.misses,
            "tickets": self.tickets,
            "share": self.share,
            "resolved": self.resolved,
            "one_touch": self.one_touch,
            "one_touch_share": self.one_touch_share,
            "answers": self.answers,
            "median_words": self.median_words,
            "shortness": self.shortness,
            "similarity": self.similarity,
            "tickets_saved": self.one_touch,
            "cost_saved": self.cost_saved,
            "handle_seconds_saved": self.handle_seconds,
            "tracked_tickets": self.tracked_tickets,
            "typical_reply": self.typical_reply,
            "typical_ticket_id": self.typical_ticket_id,
            "ticket_ids": self.ticket_ids,
        }


@dataclass(frozen=True)
class GapReport:
    since: date
    until: date
    timezone: str
    tickets: int  # every counted ticket created in the range, categorized or not
    cost_per_ticket: float | None  # the KPI for the range; None without costs
    currency: str
    cost_note: str | None  # why there is no cost saved, when there is none
    categories: list[CategoryGap]  # candidates first, highest score first
    options: GapOptions = field(default_factory=GapOptions)

    @property
    def candidates(self) -> list[CategoryGap]:
        return [c for c in self.categories if c.candidate]

    def as_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "timezone": self.timezone,
            "tickets": self.tickets,
            "cost_per_ticket": self.cost_per_ticket,
            "currency": self.currency,
            "cost_note": self.cost_note,
            "thresholds": {
                "min_tickets": self.options.min_tickets,
                "min_one_touch": self.options.min_one_touch,
                "max_words": self.options.max_words,
            },
            "categories": [c.as_json() for c in self.categories],
        }

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per category (CSV)."""
        rows = []
        for gap in self.categories:
            row = gap.as_json()
            row["misses"] = " ".join(gap.misses)
            row["ticket_ids"] = " ".join(gap.ticket_ids)
            rows.append(row)
        return rows


CSV_COLUMNS = (
    "category",
    "level",
    "candidate",
    "score",
    "misses",
    "tickets",
    "share",
    "resolved",
    "one_touch",
    "one_touch_share",
    "answers",
    "median_words",
    "shortness",
    "similarity",
    "tickets_saved",
    "cost_saved",
    "handle_seconds_saved",
    "tracked_tickets",
    "typical_ticket_id",
    "typical_reply",
    "ticket_ids",
)


def shortness(median_words: float | None) -> float | None:
    """1 for a median answer of up to `SHORT_ANSWER_WORDS` words, else that many divided by its length."""
    if median_words is None:
        return None
    return min(1.0, SHORT_ANSWER_WORDS / median_words) if median_words > 0 else 1.0


def gap_score(one_touch: int, median_words: float | None, similarity: float | None) -> float | None:
    """one-touch tickets × shortness × similarity: roughly the tickets one short, templated article answers."""
    short = shortness(median_words)
    if short is None or similarity is None:
        return None
    return one_touch * short * similarity


def find_gaps(store: Store, config: Config, options: GapOptions = GapOptions()) -> GapReport:
    """Every category and subcategory of the range with its volume, one-touch share, answer length and
    similarity, the tickets, time and cost a help article would save, and whether it is a candidate."""
    if options.min_tickets < 1 or options.days < 1 or options.examples < 0 or options.reply_characters < 1:
        raise SelfServiceError("--min-tickets and --days must be at least 1, --examples at least 0")
    if not 0.0 <= options.min_one_touch <= 1.0:
        raise SelfServiceError(f"--min-one-touch is a share between 0 and 1, got {options.min_one_touch}")
    tickets, since, until = _tickets_in_range(store, config, options)
    answers = _first_answers(store, tickets)
    answered = [t["ticket_id"] for t in tickets if t["ticket_id"] in answers]  # oldest first
    vectors = _answer_vectors([answers[ticket_id] for ticket_id in answered])
    vector_of = {ticket_id: row for row, ticket_id in enumerate(answered)}
    cost_per_ticket, cost_note = _cost_per_ticket(store, config, since, until)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for ticket in tickets:
        for group in _groups(ticket["category"]):
            groups.setdefault(group, []).append(ticket)
    gaps = [
        _category_gap(name, level, members, len(tickets), answers, vectors, vector_of, cost_per_ticket, options)
        for (name, level), members in groups.items()
    ]
    gaps.sort(key=lambda g: (not g.candidate, -(g.score or 0.0), -g.tickets, g.category))
    return GapReport(
        since, until, config.helpdesk.timezone, len(tickets), cost_per_ticket, config.costs.currency, cost_note,
        gaps, options,
    )  # fmt: skip


def _tickets_in_range(store: Store, config: Config, options: GapOptions) -> tuple[list[dict[str, Any]], date, date]:
    """The counted tickets created in the range (oldest first) with what a gap needs, and the range itself."""
    from deskpulse.calendar import with_local_period
    from deskpulse.metrics.facts import build_calendar, ticket_facts
    from deskpulse.metrics.ticket_outcomes import with_outcomes

    calendar = build_calendar(store, config)
    facts = with_outcomes(store, calendar, ticket_facts(store, calendar))
    facts = facts.select(
        "ticket_id", "created_at", "is_proactive", "first_resolved_at", "touches", "reopens", "handle_seconds"
    )  # fmt: skip
    # The full path as stored ("Billing > Refund"): the outcomes split it into levels.
    paths = store.table("tickets").select("ticket_id", "category")
    facts = facts.left_join(paths, "ticket_id").select(*facts.columns, "category")
    facts = with_local_period(facts, "created_at", calendar.days, "day", "local_day")
    until = options.until
    if until is None:
        latest = store.arrow(facts.aggregate(last=facts.local_day.max()))["last"][0].as_py()
        if latest is None:
            raise SelfServiceError("no tickets in the store: import mail first (deskpulse ingest)")
        until = date.fromisoformat(latest)
    since = options.since or until - timedelta(days=options.days - 1)
    if since > until:
        raise SelfServiceError(f"--since {since} is after --until {until}: no day in between")
    in_range = facts.filter((facts.local_day >= since.isoformat()) & (facts.local_day <= until.isoformat()))
    rows = store.arrow(in_range.order_by(["created_at", "ticket_id"])).to_pylist()
    if not rows:
        raise SelfServiceError(f"no tickets created from {since} to {until}: choose another --since/--until")
    return rows, since, until


def _first_answers(store: Store, tickets: list[dict[str, Any]]) -> dict[str, str]:
    """Ticket id → the text of its first public agent reply (quoted history and signature removed), for the
    tickets a customer opened. A proactive ticket's first agent message answers nobody."""
    import pyarrow as pa

    from deskpulse.tickets import threaded_messages

    wanted = pa.array([t["ticket_id"] for t in tickets if not t["is_proactive"]], pa.string())
    ids = store.register("deskpulse_gap_tickets", pa.table({"ticket_id": wanted}))
    messages = threaded_messages(store)
    replies = messages.filter((messages.author_role == "agent") & messages.is_public)
    replies = replies.join(ids, "ticket_id")
    first = replies.group_by("ticket_id").aggregate(answer=replies.body_text.argmin(replies.received_at))
    return {row["ticket_id"]: row["answer"] or "" for row in store.arrow(first).to_pylist()}


def _answer_vectors(texts: list[str]) -> Any:
    """L2-normalised TF-IDF rows of the answers (a sparse matrix), fitted over all of them, so words every answer
    shares, such as greetings, weigh little; a word of a single answer (a customer's name) is left out. No columns
    when no word is in two answers."""
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import TfidfVectorizer

    empty = csr_matrix((len(texts), 0))
    if len(texts) < 2:
        return empty
    try:
        return TfidfVectorizer(min_df=2, sublinear_tf=True, strip_accents="unicode").fit_transform(texts).tocsr()
    except ValueError:  # no word in two answers: nothing is similar
        return empty


def _category_gap(
    name: str,
    level: str,
    members: list[dict[str, Any]],
    total: int,
    answers: dict[str, str],
    vectors: Any,
    vector_of: dict[str, int],
    cost_per_ticket: float | None,
    options: GapOptions,
) -> CategoryGap:
    resolved = [t for t in members if t["first_resolved_at"] is not None and (t["touches"] or 0) >= 1]
    one_touch = [t for t in resolved if t["touches"] == 1 and t["reopens"] == 0]
    answered = [t["ticket_id"] for t in members if t["ticket_id"] in answers]
    words = [len(answers[ticket_id].split()) for ticket_id in answered]
    median_words = float(statistics.median(words)) if words else None
    rows = vectors[[vector_of[ticket_id] for ticket_id in answered]]
    similarity, typical, closeness = _similarity(rows)
    tracked = [t["handle_seconds"] for t in one_touch if t["handle_seconds"] is not None]
    one_touch_share = len(one_touch) / len(resolved) if resolved else 0.0
    misses = []
    if len(members) < options.min_tickets:
        misses.append("min_tickets")
    if one_touch_share < options.min_one_touch:
        misses.append("min_one_touch")
    if median_words is None or median_words > options.max_words:
        misses.append("max_words")
    if similarity is None:
        misses.append("similarity")
    closeness_of = dict(zip(answered, closeness, strict=True)) if closeness is not None else {}
    examples = sorted(one_touch, key=lambda t: -closeness_of.get(t["ticket_id"], 0.0))[: options.examples]
    typical_id = answered[typical] if typical is not None else None
    return CategoryGap(
        category=name,
        level=level,
        tickets=len(members),
        share=len(members) / total,
        resolved=len(resolved),
        one_touch=len(one_touch),
        answers=len(answered),
        median_words=median_words,
        similarity=similarity,
        typical_reply=None if typical_id is None else _truncated(answers[typical_id], options.reply_characters),
        typical_ticket_id=typical_id,
        handle_seconds=float(sum(tracked)) if tracked else None,
        tracked_tickets=len(tracked),
        cost_saved=None if cost_per_ticket is None else len(one_touch) * cost_per_ticket,
        score=gap_score(len(one_touch), median_words, similarity),
        candidate=not misses,
        misses=misses,
        ticket_ids=[t["ticket_id"] for t in examples],
    )


def _similarity(rows: Any) -> tuple[float | None, int | None, np.ndarray | None]:
    """The mean cosine over all pairs of answers (sparse unit rows), the index of the most typical answer (the
    highest mean cosine to the others) and every answer's cosine to it. The sum over pairs is |Σv|² − Σ|v|², so
    no n × n matrix is built: linear in the answers."""
    n = rows.shape[0]
    if n < 2:
        return None, (0 if n == 1 else None), None
    total = np.asarray(rows.sum(axis=0)).ravel()
    norms = np.asarray(rows.multiply(rows).sum(axis=1)).ravel()  # 1, or 0 for an answer with no shared word
    mean = float((total @ total - norms.sum()) / (n * (n - 1)))
    to_others = rows @ total - norms
    typical = int(np.argmax(to_others))  # the first of equals: the oldest ticket
    closeness = np.asarray((rows @ rows[typical].T).todense()).ravel()
    return mean, typical, closeness


def _groups(category: str | None) -> list[tuple[str, str]]:
    """The category's top level and, when it has one, its full path: a ticket counts in both. Tickets without a
    category, or left unclassified, are in no group (a help article needs a subject)."""
    name = (category or "").strip()
    if not name or name == UNCLASSIFIED:
        return []
    parts = [part.strip() for part in name.split(SEPARATOR.strip())]
    top = parts[0]
    if len(parts) == 1:
        return [(top, "category")]
    return [(top, "category"), (SEPARATOR.join(parts), "subcategory")]


def _cost_per_ticket(store: Store, config: Config, since: date, until: date) -> tuple[float | None, str | None]:
    """The range's cost per ticket from the KPI engine, or None with the reason there is none."""
    from deskpulse.metrics.engine import KpiQuery, compute_kpis

    if config.files.costs is None:
        return None, "no costs file is configured ([files] costs): tickets and agent time only"
    rows = compute_kpis(store, config, KpiQuery(["cost_per_ticket"], period="all", since=since, until=until)).rows
    value = rows[0]["cost_per_ticket"]["value"] if rows else None
    if value is None:
        return None, f"the costs file lists no cost for {since} … {until}: tickets and agent time only"
    return float(value), None


def _truncated(text: str, characters: int) -> str:
    text = text.strip()
    return text if len(text) <= characters else text[: characters - 1].rstrip() + "…"
