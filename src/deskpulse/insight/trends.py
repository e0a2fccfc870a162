"""Rising issues: ticket volume per category and subcategory, per local day and week, its spikes and sustained
rises against a weekday-aware baseline, and the emerging topics among unclassified tickets.

The counting is one aggregate over the store (tickets per category and local day, in the reporting timezone);
the statistics (`deskpulse.insight.volume`, `deskpulse.insight.topics`) run on the small result. Every finding
carries the ticket ids behind it, so a warning can be checked by reading the tickets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np

from deskpulse.calendar import calendar_days, calendar_range, with_local_period
from deskpulse.config import Config
from deskpulse.errors import UserError
from deskpulse.insight.taxonomy import SEPARATOR
from deskpulse.insight.topics import Topic, TopicDocument, TopicSettings, emerging_topics
from deskpulse.insight.volume import (
    Episode,
    RiseSettings,
    SpikeSettings,
    data_gaps,
    runs,
    scan_rises,
    scan_spikes,
    weekly_totals,
)
from deskpulse.store import Store

ALL_TICKETS = "(all tickets)"
UNCLASSIFIED = "Unclassified"  # what the categorizer writes when no category is confident enough
TOPIC_TEXT_CHARACTERS = 3000  # the start of a ticket's first message says what it is about


class TrendsError(UserError):
    pass


@dataclass(frozen=True)
class TrendOptions:
    """What `find_trends` looks at. ``days`` is the recent window: the spikes and rises ending in it are reported
    (from ``since`` instead, when given) and its unclassified tickets are clustered into topics. ``until`` is the
    day the analysis takes for today (default: the day of the latest ticket); later tickets are ignored."""

    days: int = 28
    since: date | None = None
    until: date | None = None
    spikes: SpikeSettings = field(default_factory=SpikeSettings)
    rises: RiseSettings = field(default_factory=RiseSettings)
    topics: TopicSettings = field(default_factory=TopicSettings)
    find_topics: bool = True


@dataclass(frozen=True)
class Series:
    """A monitored count: every ticket (`level` ``all``), a top-level category, or a full category path
    (``subcategory``: "Billing > Refund Request")."""

    name: str
    level: str

    def holds(self, category: str | None) -> bool:
        if self.level == "all":
            return True
        if category is None:
            return False
        path = _path(category)
        return path[0] == self.name if self.level == "category" else SEPARATOR.join(path) == self.name


@dataclass(frozen=True)
class DailyCounts:
    """Tickets per series (rows) and local day (columns, consecutive from ``first_day``)."""

    first_day: date
    series: list[Series]
    counts: np.ndarray

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=self.counts.shape[1] - 1)

    def day(self, index: int) -> date:
        return self.first_day + timedelta(days=index)


@dataclass(frozen=True)
class TicketRef:
    ticket_id: str
    subject: str | None
    category: str | None
    local_day: date


@dataclass(frozen=True)
class Finding:
    """A spike (days) or a sustained rise (whole weeks) of one series, with the tickets behind it."""

    kind: str  # "spike" or "rise"
    series: str
    level: str
    first_day: date
    last_day: date
    observed: int
    expected: float
    p_value: float
    ticket_ids: list[str]
    subjects: list[str]

    @property
    def ratio(self) -> float:
        return self.observed / self.expected if self.expected > 0 else float("inf")

    @property
    def first_week(self) -> str:
        return _week_label(self.first_day)

    @property
    def last_week(self) -> str:
        return _week_label(self.last_day)

    def as_json(self) -> dict[str, Any]:
        period = (
            {"first_day": self.first_day, "last_day": self.last_day}
            if self.kind == "spike"
            else {"first_week": self.first_week, "last_week": self.last_week}
        )
        return {
            "kind": self.kind,
            "series": self.series,
            "level": self.level,
            **period,
            "observed": self.observed,
            "expected": round(self.expected, 2),
            "ratio": round(self.ratio, 2),
            "p_value": self.p_value,
            "ticket_ids": self.ticket_ids,
        }


@dataclass(frozen=True)
class SeriesCounts:
    """One series' counts over the recent window: per local day (with the baseline's expectation) and per week."""

    series: str
    level: str
    days: list[tuple[date, int, float | None]]
    weeks: list[tuple[str, int, bool]]  # (ISO week, tickets, the data covers the whole week)

    def as_json(self) -> dict[str, Any]:
        return {
            "series": self.series,
            "level": self.level,
            "days": [{"day": d, "tickets": n, "expected": None if e is None else round(e, 2)} for d, n, e in self.days],
            "weeks": [{"week": w, "tickets": n, "complete": c} for w, n, c in self.weeks],
        }


@dataclass(frozen=True)
class TrendReport:
    timezone: str
    window_first_day: date  # the recent window (topics; the counts shown)
    window_last_day: date
    reported_from: date  # spikes and rises ending on or after this day are listed
    spikes: list[Finding]
    rises: list[Finding]
    topics: list[Topic]
    counts: list[SeriesCounts]
    gaps: list[tuple[date, date]]  # runs of days the data does not cover (`data_gaps`), neither learnt nor tested

    def as_json(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "window": {"first_day": self.window_first_day, "last_day": self.window_last_day},
            "reported_from": self.reported_from,
            "gaps": [{"first_day": first, "last_day": last} for first, last in self.gaps],
            "spikes": [s.as_json() for s in self.spikes],
            "rises": [r.as_json() for r in self.rises],
            "emerging_topics": [
                {
                    "terms": t.terms,
                    "tickets": t.tickets,
                    "new": t.is_new,
                    "reference_tickets": t.reference_tickets,
                    "expected": round(t.expected, 2),
                    "p_value": t.p_value,
                    "ticket_ids": t.ticket_ids,
                }
                for t in self.topics
            ],
            "counts": [c.as_json() for c in self.counts],
        }

    def rows(self) -> list[dict[str, Any]]:
        """Every finding as one flat row (CSV): spikes, rises, then topics."""
        rows = []
        for finding in [*self.spikes, *self.rises]:
            rows.append(
                {
                    "kind": finding.kind,
                    "series": finding.series,
                    "level": finding.level,
                    "first_day": finding.first_day,
                    "last_day": finding.last_day,
                    "observed": finding.observed,
                    "expected": round(finding.expected, 2),
                    "ratio": round(finding.ratio, 2),
                    "p_value": finding.p_value,
                    "terms": "",
                    "ticket_ids": " ".join(finding.ticket_ids),
                }
            )
        for topic in self.topics:
            rows.append(
                {
                    "kind": "new topic" if topic.is_new else "growing topic",
                    "series": UNCLASSIFIED,
                    "level": "topic",
                    "first_day": self.window_first_day,
                    "last_day": self.window_last_day,
                    "observed": topic.tickets,
                    "expected": round(topic.expected, 2),
                    "ratio": round(topic.tickets / topic.expected, 2) if topic.expected else None,
                    "p_value": topic.p_value,
                    "terms": " ".join(topic.terms),
                    "ticket_ids": " ".join(topic.ticket_ids),
                }
            )
        return rows


CSV_COLUMNS = (
    "kind",
    "series",
    "level",
    "first_day",
    "last_day",
    "observed",
    "expected",
    "ratio",
    "p_value",
    "terms",
    "ticket_ids",
)


def find_trends(store: Store, config: Config, options: TrendOptions = TrendOptions()) -> TrendReport:
    """Spikes, sustained rises and emerging topics of the store's counted tickets (see the module doc)."""
    if options.days < 1:
        raise TrendsError(f"--days must be at least 1, not {options.days}")
    timezone = config.helpdesk.timezone
    labelled = _labelled_tickets(store, timezone)
    daily = daily_counts(store, labelled, options.until)
    if daily is None:
        raise TrendsError("no tickets to analyse: import mail first (deskpulse ingest)")
    last = daily.last_day
    window_first = last - timedelta(days=options.days - 1)
    reported_from = options.since or window_first
    present = data_gaps(daily.counts[0])  # row 0: all tickets
    scan = scan_spikes(daily.counts, options.spikes, present)
    spikes = [_finding("spike", daily, e, e.start, e.end) for e in scan.spikes if daily.day(e.end) >= reported_from]
    offset, observed_weeks = weekly_totals(daily.counts, daily.first_day.weekday(), present)
    _, cleaned_weeks = weekly_totals(scan.cleaned, daily.first_day.weekday(), present)
    # Rise episodes count whole weeks from the first Monday (`offset`); a finding spans their days.
    rises = [
        _finding("rise", daily, e, offset + 7 * e.start, offset + 7 * e.end + 6)
        for e in scan_rises(observed_weeks, cleaned_weeks, options.rises)
        if daily.day(offset + 7 * e.end + 6) >= reported_from
    ]
    findings = [*spikes, *rises]
    if findings:
        refs = _ticket_refs(store, labelled, min(f.first_day for f in findings), max(f.last_day for f in findings))
        spikes, rises = ([_with_tickets(f, refs) for f in group] for group in (spikes, rises))
    topics: list[Topic] = []
    if options.find_topics:
        # The reference window goes back as far as the data: a day before the first ticket is no quiet day.
        reference_first = max(window_first - timedelta(days=options.topics.reference_days), daily.first_day)
        documents = _unclassified_documents(store, labelled, reference_first, window_first, last)
        split = max(0, (window_first - daily.first_day).days)
        reference_days = int(present[(reference_first - daily.first_day).days : split].sum())
        topics = emerging_topics(documents, int(present[split:].sum()), reference_days, options.topics)
    counts = _window_counts(daily, scan.expected, window_first, present)
    gaps = [(daily.day(start), daily.day(end)) for start, end in runs(~present)]
    return TrendReport(timezone, window_first, last, reported_from, spikes, rises, topics, counts, gaps)


def _labelled_tickets(store: Store, timezone: str) -> Any:
    """The counted tickets with their local day of creation (``local_day``, 'YYYY-MM-DD'), or None without any."""
    tickets = store.table("tickets")
    counted = tickets.filter(tickets.excluded_reason.isnull() & tickets.merged_into.isnull())
    span = store.arrow(counted.aggregate(first=counted.created_at.min(), last=counted.created_at.max()))
    first, last = span["first"][0].as_py(), span["last"][0].as_py()
    if first is None or last is None:
        return None
    days = store.register("deskpulse_trend_days", calendar_days(timezone, *calendar_range(first, last)))
    selected = counted.select("ticket_id", "root_message_key", "subject", "category", "created_at")
    return with_local_period(selected, "created_at", days, "day", "local_day")


def daily_counts(store: Store, labelled: Any, until: date | None = None) -> DailyCounts | None:
    """Tickets per series and local day, from one aggregate over the tickets (None when there are none)."""
    if labelled is None:
        return None
    if until is not None:
        labelled = labelled.filter(labelled.local_day <= until.isoformat())
    per_day = labelled.group_by(["category", "local_day"]).aggregate(tickets=labelled.count())
    rows = store.arrow(per_day).to_pylist()
    if not rows:
        return None
    days = [date.fromisoformat(row["local_day"]) for row in rows]
    first_day, last_day = min(days), until or max(days)
    categories = sorted({row["category"] for row in rows if row["category"] is not None})
    series = _series_of(categories)
    index = {s: i for i, s in enumerate(series)}
    counts = np.zeros((len(series), (last_day - first_day).days + 1))
    for row, day in zip(rows, days, strict=True):
        column = (day - first_day).days
        for member in _memberships(row["category"]):
            counts[index[member], column] += row["tickets"]
    return DailyCounts(first_day, series, counts)


def _path(category: str) -> list[str]:
    return [part.strip() for part in category.split(SEPARATOR.strip())]


def _memberships(category: str | None) -> list[Series]:
    if category is None:
        return [Series(ALL_TICKETS, "all")]
    path = _path(category)
    found = [Series(ALL_TICKETS, "all"), Series(path[0], "category")]
    if len(path) > 1:
        found.append(Series(SEPARATOR.join(path), "subcategory"))
    return found


def _series_of(categories: Iterable[str]) -> list[Series]:
    """Every series, all tickets first, then each category followed by its subcategories."""
    found = {Series(ALL_TICKETS, "all")}
    for category in categories:
        found.update(_memberships(category))
    order = {"all": 0, "category": 1, "subcategory": 2}
    return sorted(found, key=lambda s: (s.level != "all", s.name.split(SEPARATOR)[0], order[s.level], s.name))


def _finding(kind: str, daily: DailyCounts, episode: Episode, first: int, last: int) -> Finding:
    """A spike or rise of ``episode``, over the days ``first`` … ``last`` (indexes), without its tickets yet."""
    series = daily.series[episode.series]
    return Finding(
        kind,
        series.name,
        series.level,
        daily.day(first),
        daily.day(last),
        episode.observed,
        episode.expected,
        episode.p_value,
        [],
        [],
    )


def _ticket_refs(store: Store, labelled: Any, first: date, last: date) -> list[TicketRef]:
    between = labelled.filter((labelled.local_day >= first.isoformat()) & (labelled.local_day <= last.isoformat()))
    rows = store.arrow(between.order_by(["created_at", "ticket_id"])).to_pylist()
    return [
        TicketRef(row["ticket_id"], row["subject"], row["category"], date.fromisoformat(row["local_day"]))
        for row in rows
    ]


def _with_tickets(finding: Finding, refs: list[TicketRef]) -> Finding:
    series = Series(finding.series, finding.level)
    behind = [r for r in refs if finding.first_day <= r.local_day <= finding.last_day and series.holds(r.category)]
    return replace(finding, ticket_ids=[r.ticket_id for r in behind], subjects=[r.subject or "" for r in behind])


def _unclassified_documents(
    store: Store, labelled: Any, reference_first: date, recent_first: date, last: date
) -> list[TopicDocument]:
    """The unclassified tickets (no category, or the categorizer's "Unclassified") of the reference and recent
    windows, with the text they are clustered by: the normalised subject and the start of the first message."""
    tickets = labelled.filter(
        (labelled.local_day >= reference_first.isoformat())
        & (labelled.local_day <= last.isoformat())
        & (labelled.category.isnull() | (labelled.category.strip() == UNCLASSIFIED))
    )
    messages = store.table("messages")
    joined = tickets.left_join(messages, tickets.root_message_key == messages.message_key)
    selected = joined.select(
        tickets.ticket_id,
        tickets.subject,
        tickets.local_day,
        tickets.created_at,
        normalized_subject=messages.normalized_subject,
        body=messages.body_text.substr(0, TOPIC_TEXT_CHARACTERS),
    )
    rows = store.arrow(selected.order_by(["created_at", "ticket_id"])).to_pylist()
    return [
        TopicDocument(
            row["ticket_id"],
            row["subject"] or "",
            f"{row['normalized_subject'] or row['subject'] or ''}\n{row['body'] or ''}",
            date.fromisoformat(row["local_day"]) >= recent_first,
        )
        for row in rows
    ]


def _window_counts(
    daily: DailyCounts, expected: np.ndarray, window_first: date, present: np.ndarray
) -> list[SeriesCounts]:
    """Each series' daily and weekly counts over the recent window (series without a ticket in it left out)."""
    start = max(0, (window_first - daily.first_day).days)
    whole = _whole_weeks(daily, present)
    found = []
    for row, series in enumerate(daily.series):
        window = daily.counts[row, start:]
        if window.sum() == 0:
            continue
        days = [
            (daily.day(start + i), int(n), None if np.isnan(e) else float(e))
            for i, (n, e) in enumerate(zip(window, expected[row, start:], strict=True))
        ]
        weeks: dict[str, list[int]] = {}
        for day, tickets, _ in days:
            weeks.setdefault(_week_label(day), []).append(tickets)
        found.append(SeriesCounts(series.name, series.level, days, [(w, sum(n), w in whole) for w, n in weeks.items()]))
    return found


def _whole_weeks(daily: DailyCounts, present: np.ndarray) -> set[str]:
    """The ISO weeks whose seven days all lie in the data and outside its gaps."""
    offset = (7 - daily.first_day.weekday()) % 7
    return {
        _week_label(daily.day(monday))
        for monday in range(offset, daily.counts.shape[1] - 6, 7)
        if present[monday : monday + 7].all()
    }


def _week_label(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"
