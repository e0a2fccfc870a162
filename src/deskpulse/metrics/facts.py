"""Per-ticket facts: the derived timestamps, counts and durations every aggregate is computed from.

One Ibis expression over `messages` and `tickets`, joined to the business calendar, so it runs on any Ibis
engine. `deskpulse tickets` exports exactly these rows, so every KPI can be recomputed from the export.

Computing them reads every message, which at millions of tickets costs more than all the aggregates of a
scorecard together. So a DuckDB store keeps them, with the wait cycles and resolution events, as derived tables
built after each import (`store_derived_facts`); a query reads those when the settings and data they depend on
are still the ones they were built from (`Calendar.derived`), and the expressions otherwise, as on every other
engine.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import ibis

from deskpulse.calendar import business_intervals, calendar_days, calendar_range, with_business_clock
from deskpulse.config import Config, ResolutionConfig
from deskpulse.errors import UserError
from deskpulse.metrics.catalog import TICKET_SORTS
from deskpulse.metrics.episodes import DAY_SECONDS, resolution_events, resolution_summary
from deskpulse.store import DERIVED_PREFIX, Store
from deskpulse.tickets import threaded_messages

# The modules whose code decides what the derived fact tables hold: tables built by other code are not used.
_DERIVING_MODULES = (
    "deskpulse/calendar.py",
    "deskpulse/status.py",
    "deskpulse/tickets.py",
    "deskpulse/metrics/episodes.py",
    "deskpulse/metrics/facts.py",
    "deskpulse/metrics/families/responses.py",
    "deskpulse/metrics/families/handoffs.py",
)


@dataclass(frozen=True)
class Calendar:
    """The two calendar tables for the store's time range, as Ibis tables, and the settings that say when
    a ticket counts as resolved or reopened."""

    intervals: Any
    days: Any
    horizon: datetime | None
    resolution: ResolutionConfig = field(default_factory=ResolutionConfig)
    config: Config = field(default_factory=Config)  # the rest of the settings, for families that need them
    # What the derived fact tables depend on: the business calendar, the horizon, the resolution settings and
    # the code that derives them. The store's derived tables are read only when they were built with the same.
    fingerprint: str = ""
    derived: frozenset[str] = frozenset()  # the store's derived fact tables built with this fingerprint
    # The reporting period of the query (engine.PERIODS), when one is running: a fact table may then leave out
    # rows no metric of that period reads (the backlog keeps only the days that end a period). None: keep all.
    period: str | None = None
    first_message: datetime | None = None  # the store's oldest message (received_at, UTC); None without any


def build_calendar(store: Store, config: Config) -> Calendar:
    state = _derived_state(store)
    # While the derived tables are valid no message has changed since they were built, nor has their span.
    span = store_span(store) if state is None else (_instant(state["first"]), _instant(state["last"]))
    return _calendar(store, config, span, state)


def _calendar(
    store: Store, config: Config, span: tuple[datetime | None, datetime | None], state: dict[str, Any] | None
) -> Calendar:
    first, last = span
    if first is None or last is None:
        first = last = datetime(2000, 1, 1)
        horizon = first_message = None
    else:
        horizon, first_message = last, first
    # Survey answers may come after the last message (a customer answers days after the ticket resolved): the
    # calendar covers their days too, so that they fall in a period, while the horizon stays the last message.
    answered = latest_survey_time(store)
    first_day, last_day = calendar_range(first, max(last, answered) if answered is not None else last)
    opening = business_intervals(config.business_hours, first_day, last_day)
    # Real (temporary) tables on the engine rather than Ibis memtables: a cached fact table must still find
    # them in later queries, which memtables do not guarantee on every backend (Spark).
    intervals = store.register("deskpulse_business_intervals", opening)
    days = store.register("deskpulse_calendar_days", calendar_days(config.helpdesk.timezone, first_day, last_day))
    fingerprint = _fingerprint(config)
    derived = frozenset(state["tables"]) if state is not None and state["fingerprint"] == fingerprint else frozenset()
    return Calendar(
        intervals, days, horizon, config.resolution, config, fingerprint, derived, first_message=first_message
    )


def latest_survey_time(store: Store) -> datetime | None:
    """The latest survey answer or invitation the store holds (None without any)."""
    surveys = store.table("surveys")
    latest = surveys.aggregate(last=ibis.greatest(surveys.answered_at.max(), surveys.sent_at.max()))
    value = latest.to_pyarrow().to_pylist()[0]["last"]
    return value if isinstance(value, datetime) else None


def store_span(store: Store) -> tuple[datetime | None, datetime | None]:
    """The first and last instant the store knows (None, None when it knows none): its messages, and the tickets
    and status changes a help desk recorded (an export of tickets without their messages has no other times)."""
    messages = store.table("messages")
    tickets = store.table("source_tickets")
    events = store.table("ticket_events")
    # Inferred events lie between messages; a help desk's own may lie outside them.
    events = events.filter(events.inferred.isnull() | ~events.inferred)
    spans = [
        messages.aggregate(first=messages.received_at.min(), last=messages.received_at.max()),
        tickets.aggregate(
            first=tickets.created_at.min(),
            last=ibis.greatest(tickets.created_at, tickets.updated_at, tickets.resolved_at).max(),
        ),
        events.aggregate(first=events.occurred_at.min(), last=events.occurred_at.max()),
    ]
    rows = [span.to_pyarrow().to_pylist()[0] for span in spans]
    firsts = [row["first"] for row in rows if row["first"] is not None]
    lasts = [row["last"] for row in rows if row["last"] is not None]
    return (min(firsts) if firsts else None, max(lasts) if lasts else None)


def _derived_state(store: Store) -> dict[str, Any] | None:
    """What the store recorded when it last built its derived tables (`store_derived_facts`), while they are
    valid. Only the DuckDB store keeps derived tables; on another engine every fact table is an expression."""
    state = getattr(store, "derived_state", None)
    text = state() if state is not None else None
    return None if text is None else dict(json.loads(text))


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _fingerprint(config: Config) -> str:
    """A digest of everything the derived tables depend on besides the stored rows (whose writes drop them): the
    business hours (their timezone and holidays included), the resolution settings and the source of the deriving
    modules. Not the span or the horizon: a stored row holds only durations between the ticket's own instants,
    which more mail leaves as they are, so `deskpulse.touched` can bring the tables up to date ticket by ticket;
    what depends on the horizon is computed at query time (`with_horizon_facts`). Nor the reporting timezone:
    periods are assigned at query time."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for module in _DERIVING_MODULES:
        digest.update((package.parent / module).read_bytes())
    digest.update(repr((config.business_hours, config.resolution)).encode())
    return digest.hexdigest()


def store_derived_facts(store: Store, config: Config) -> None:
    """Compute the resolution events, the per-ticket facts, the wait cycles, the per-ticket waits and the handoffs
    inferred from the replying agents once, into the store's derived tables, for queries with these settings to
    read (see the module doc). Run after every import. Each table is computed from those before it."""
    # The families import this module.
    from deskpulse.metrics.families.handoffs import inferred_reassignments
    from deskpulse.metrics.families.responses import build_cycles, build_ticket_waits

    store.forget_derived()
    span = store_span(store)
    calendar = _calendar(store, config, span, None)

    def save(name: str, expression: Any) -> Calendar:
        store.save_derived(name, expression)
        return replace(calendar, derived=calendar.derived | {name})

    calendar = save("resolution_events", resolution_events(store, config.resolution))
    calendar = save("ticket_facts", compute_ticket_facts(store, calendar))
    facts = store.derived_table("ticket_facts")
    calendar = save("cycles", build_cycles(store, calendar, facts))
    calendar = save("ticket_waits", build_ticket_waits(store, calendar, facts))
    calendar = save("inferred_reassignments", inferred_reassignments(store))
    first, last = (None if instant is None else instant.isoformat() for instant in span)
    state = {"fingerprint": calendar.fingerprint, "first": first, "last": last, "tables": sorted(calendar.derived)}
    store.mark_derived(json.dumps(state))


def update_derived_facts(store: Store, config: Config, tickets: str) -> bool:
    """Bring stale derived fact tables up to date for the tickets in the temporary table ``tickets`` (a
    ``ticket_id`` column: the tickets `deskpulse.touched` recomputed, under their old ids and their new): their
    rows are computed again, every other row stays. Sound because each row depends on its own ticket only and on
    the settings, not on the span or the horizon (`_fingerprint`). Returns False, doing nothing, when the stale
    tables were built with other settings or code (then `store_derived_facts` must build them whole)."""
    from deskpulse.metrics.families.handoffs import inferred_reassignments
    from deskpulse.metrics.families.responses import build_cycles, build_ticket_waits

    text = store.stale_derived_state()
    stale = None if text is None else dict(json.loads(text))
    if stale is None or stale["fingerprint"] != _fingerprint(config) or set(stale["tables"]) != set(DERIVED_TABLES):
        return False
    span = store_span(store)
    calendar = _calendar(store, config, span, None)
    scoped = cast(Store, _ScopedStore(store, store.ibis.table(tickets)))  # reads as a store, writes nothing
    for name in DERIVED_TABLES:
        store.execute(f'DELETE FROM "{DERIVED_PREFIX}{name}" WHERE ticket_id IN (SELECT ticket_id FROM {tickets})')
    # In the order of `store_derived_facts`, each table computed from those before it (for these tickets).
    builders: list[tuple[str, Any]] = [
        ("resolution_events", lambda: resolution_events(scoped, config.resolution)),
        ("ticket_facts", lambda: compute_ticket_facts(scoped, calendar)),
        ("cycles", lambda: build_cycles(scoped, calendar, scoped.derived_table("ticket_facts"))),
        ("ticket_waits", lambda: build_ticket_waits(scoped, calendar, scoped.derived_table("ticket_facts"))),
        ("inferred_reassignments", lambda: inferred_reassignments(scoped)),
    ]
    for name, build in builders:
        store.append_derived(name, build())
        calendar = replace(calendar, derived=calendar.derived | {name})
    first, last = (None if instant is None else instant.isoformat() for instant in span)
    state = {"fingerprint": calendar.fingerprint, "first": first, "last": last, "tables": sorted(calendar.derived)}
    store.mark_derived(json.dumps(state))
    return True


# The derived fact tables, in the order they are built.
DERIVED_TABLES = ("resolution_events", "ticket_facts", "cycles", "ticket_waits", "inferred_reassignments")
# Canonical tables whose rows belong to one ticket: a scoped store reads only the scope's rows of these.
_PER_TICKET_TABLES = frozenset({"tickets", "ticket_events", "message_threads", "source_tickets", "ticket_tags"})


class _ScopedStore:
    """A store that shows the builders of the derived tables only some tickets' rows (`update_derived_facts`):
    the per-ticket tables, the messages of those tickets and the derived tables' rows of them; everything else
    (agents, calendars, the connection) is the store's own."""

    def __init__(self, store: Store, tickets: Any) -> None:
        self._store = store
        self._tickets = tickets

    def table(self, name: str) -> Any:
        table = self._store.table(name)
        if name in _PER_TICKET_TABLES:
            return table.semi_join(self._tickets, "ticket_id")
        if name == "messages":
            return table.semi_join(self.table("message_threads"), "message_key")
        return table

    def derived_table(self, name: str) -> Any:
        return self._store.derived_table(name).semi_join(self._tickets, "ticket_id")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def derived_fact_table(store: Store, calendar: Calendar, name: str, ticket_facts: Any | None = None) -> Any | None:
    """The store's derived table ``name`` when it can stand for the expression, else None: the store holds it,
    built for this calendar, and when ``ticket_facts`` is given, the derived tables were computed from it (a
    builder handed other per-ticket facts must compute from those)."""
    if name not in calendar.derived:
        return None
    if ticket_facts is not None:
        stored = store.derived_table("ticket_facts")  # as stored, or as queries read it (`ticket_facts`)
        if not (ticket_facts.equals(stored) or ticket_facts.equals(with_horizon_facts(stored, calendar))):
            return None
    return store.derived_table(name)


def seconds_between(start: Any, stop: Any) -> Any:
    return (stop.epoch_seconds() - start.epoch_seconds()).cast("float64")


def ticket_facts(store: Store, calendar: Calendar) -> Any:
    """One row per counted ticket (not excluded, not merged away) with its derived timestamps and durations:
    the store's derived table when it holds one for this calendar, else `compute_ticket_facts`, with the columns
    that depend on the horizon (`with_horizon_facts`)."""
    stored = derived_fact_table(store, calendar, "ticket_facts")
    return with_horizon_facts(stored if stored is not None else compute_ticket_facts(store, calendar), calendar)


def with_horizon_facts(facts: Any, calendar: Calendar) -> Any:
    """``facts`` with what depends on the store's horizon (its newest instant), which the next mail moves:
    ``unreplied_age`` (how long a ticket still waiting for its first reply has waited) after
    ``awaiting_first_reply``, and ``resolved_within_cohort`` last (judged once the cohort window and the quiet
    period that infers a resolution after it have passed: before that, a "not yet" could still turn into a
    "yes")."""
    horizon = ibis.literal(calendar.horizon, type="timestamp") if calendar.horizon else ibis.null("timestamp")
    cohort_days = calendar.resolution.cohort_days
    judged_after = (cohort_days + calendar.resolution.inactivity_days) * DAY_SECONDS
    judged = seconds_between(facts.created_at, horizon) >= judged_after
    unreplied_age = ibis.ifelse(
        facts.awaiting_first_reply, seconds_between(facts.first_customer_at, horizon), ibis.null("float64")
    )
    within_cohort = ibis.ifelse(
        judged,
        (seconds_between(facts.created_at, facts.first_resolved_at) <= cohort_days * DAY_SECONDS).fill_null(False),
        ibis.null("boolean"),
    )
    columns = list(facts.columns)
    split = columns.index("awaiting_first_reply") + 1
    return facts.select(
        *(facts[c] for c in columns[:split]),
        unreplied_age.name("unreplied_age"),
        *(facts[c] for c in columns[split:]),
        within_cohort.name("resolved_within_cohort"),
    )


def compute_ticket_facts(store: Store, calendar: Calendar) -> Any:
    """`ticket_facts` as an expression over the canonical tables (and the derived resolution events, when the
    store has them), less the columns that depend on the horizon: what the derived table stores."""
    messages = threaded_messages(store)
    tickets = store.table("tickets")
    is_customer = messages.author_role == "customer"
    is_reply = (messages.author_role == "agent") & messages.is_public
    per_ticket = messages.group_by("ticket_id").aggregate(
        first_customer_at=messages.received_at.min(where=is_customer),
        last_customer_at=messages.received_at.max(where=is_customer),
        customer_messages=is_customer.sum().cast("int64"),
        first_reply_at=messages.received_at.min(where=is_reply),
        first_reply_agent=messages.from_address.argmin(messages.received_at, where=is_reply),
        last_reply_at=messages.received_at.max(where=is_reply),
        replies=is_reply.sum().cast("int64"),
        automated_messages=(messages.author_role == "automation").sum().cast("int64"),
    )
    counted = tickets.filter(tickets.excluded_reason.isnull() & tickets.merged_into.isnull())
    joined = counted.join(per_ticket, "ticket_id", how="left")
    facts = joined.select(
        "ticket_id",
        "subject",
        "requester",
        "mailbox",
        "status",
        "is_proactive",
        "created_at",
        "resolved_at",
        "resolution_inferred",
        "first_customer_at",
        "last_customer_at",
        "customer_messages",
        "first_reply_at",
        "first_reply_agent",
        "last_reply_at",
        "replies",
        "automated_messages",
        "assignee",
    )
    # Resolutions and reopens (spec §1.6), from the status history; columns stay null for a ticket never resolved.
    summary = resolution_summary(store, calendar.resolution, derived_fact_table(store, calendar, "resolution_events"))
    joined = facts.left_join(summary, "ticket_id")
    facts = joined.select(
        *facts.columns,
        "first_resolved_at",
        "first_resolution_agent",
        "last_resolved_at",
        resolutions=joined.resolutions.fill_null(0),
        reopens=joined.reopens.fill_null(0),
        first_resolution_reopened=joined.first_resolution_reopened,
        settled_replies=joined.settled_replies,
    )
    facts = with_business_clock(facts, "first_customer_at", calendar.intervals, "_clock_first_customer")
    facts = with_business_clock(facts, "first_reply_at", calendar.intervals, "_clock_first_reply")
    facts = with_business_clock(facts, "created_at", calendar.intervals, "_clock_created")
    facts = with_business_clock(facts, "first_resolved_at", calendar.intervals, "_clock_first_resolved")
    facts = with_business_clock(facts, "resolved_at", calendar.intervals, "_clock_resolved")
    # Spec §1.7: proactive tickets have no first response time; nor does a ticket no customer wrote in.
    responds = ~facts.is_proactive & facts.first_customer_at.notnull()
    waiting = responds & facts.first_reply_at.isnull() & (facts.status != "resolved")
    resolved_now = facts.status == "resolved"
    return facts.select(
        *(c for c in facts.columns if not c.startswith("_clock") and c != "settled_replies"),
        agent=facts.first_reply_agent,  # --by agent: the agent who answered first
        first_response_time=ibis.ifelse(
            responds, seconds_between(facts.first_customer_at, facts.first_reply_at), ibis.null("float64")
        ),
        first_response_time_business=ibis.ifelse(
            responds,
            (facts._clock_first_reply - facts._clock_first_customer).cast("float64"),
            ibis.null("float64"),
        ),
        awaiting_first_reply=waiting,
        # Human agent replies it took to resolve the ticket for good: up to the first resolution the customer
        # did not undo within reopen_window_days (all replies so far while none held). A proactive ticket's
        # opening message is not a reply to anyone.
        touches=ibis.ifelse(
            facts.first_resolved_at.notnull(),
            ibis.coalesce(facts.settled_replies, facts.replies) - facts.is_proactive.ifelse(1, 0),
            ibis.null("int64"),
        ),
        first_resolution_time=seconds_between(facts.created_at, facts.first_resolved_at),
        first_resolution_time_business=(facts._clock_first_resolved - facts._clock_created).cast("float64"),
        full_resolution_time=ibis.ifelse(
            resolved_now, seconds_between(facts.created_at, facts.resolved_at), ibis.null("float64")
        ),
        full_resolution_time_business=ibis.ifelse(
            resolved_now, (facts._clock_resolved - facts._clock_created).cast("float64"), ibis.null("float64")
        ),
    )


def list_tickets(
    store: Store,
    calendar: Calendar,
    *,
    sort: str = "created_at",
    descending: bool = False,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The per-ticket facts and outcomes (tracked work, survey scores, escalation, SLA) as records, sorted (nulls
    last) and optionally limited."""
    if sort not in TICKET_SORTS:
        raise UserError(f"cannot sort by {sort!r}; use one of {', '.join(TICKET_SORTS)}")
    from deskpulse.metrics.ticket_outcomes import with_outcomes  # the families import this module

    facts = with_outcomes(store, calendar, ticket_facts(store, calendar))
    key = facts[sort].desc(nulls_first=False) if descending else facts[sort].asc(nulls_first=False)
    facts = facts.order_by([key, facts.ticket_id])
    if limit is not None:
        facts = facts.limit(limit)
    return list(facts.to_pyarrow().to_pylist())
