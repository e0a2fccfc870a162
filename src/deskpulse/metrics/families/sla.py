"""SLA compliance: the targets of the user's SLA policies (sla.toml) and whether each was achieved or breached.

Owns the fact table `sla_targets`: one row per ticket and target kind its policy sets (per wait cycle for next
reply), with the time its clock ran, the due time and the outcome. A target's clock runs over stretches of time
(`segments` below): for a reply, its wait cycle; for resolution, the ticket's life from creation to resolution,
or, when the policy pauses in "pending", only the time the customer waits for us: a help desk ticket's stretches
in new, open and on-hold when it came with its own status history (as Zendesk's requester wait time), else its
wait cycles (a mailbox has no status: it waits for the customer from a reply to the customer's next message).
Summing the stretches in order gives the elapsed time; the stretch in which the sum passes the target holds the
due time, found in business hours by reading the business clock backwards. All of it is Ibis, on every engine.
"""

from __future__ import annotations

from functools import reduce
from operator import and_, or_
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from deskpulse.calendar import with_business_clock
from deskpulse.inputs.sla import DEFAULT_PRIORITY, PRIORITIES, TARGET_KINDS, Conditions, SlaPolicy, load_sla_policies
from deskpulse.metrics.episodes import DAY_SECONDS
from deskpulse.metrics.families.responses import REQUESTER_WAITS_IN, build_cycles, status_stretches
from deskpulse.metrics.metric import RATE, Metric
from deskpulse.status import RESOLVED

if TYPE_CHECKING:
    from deskpulse.metrics.facts import Calendar
    from deskpulse.store import Store

# The stretches a target's clock runs over: its own wait cycle (replies), the ticket's life up to its
# resolution, or the time the customer waits for us (resolution paused while the ticket waits for the customer:
# its status history's stretches in new, open and on-hold, or without one its wait cycles).
REPLY_CLOCK, ELAPSED_CLOCK, WAITING_CLOCK = "reply", "elapsed", "waiting"

TARGETS_SCHEMA = pa.schema(
    [
        pa.field("policy_number", pa.int64()),
        pa.field("policy", pa.string()),
        pa.field("hours", pa.string()),
        pa.field("priority", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("clock", pa.string()),
        pa.field("target_seconds", pa.float64()),
    ]
)


def targets_table(policies: tuple[SlaPolicy, ...]) -> pa.Table:
    """Every (policy, priority, kind) target, with a row for each priority the policy falls back to its default
    for, so a ticket finds its targets by an equi-join on (policy number, priority or "default")."""
    rows = []
    for number, policy in enumerate(policies, start=1):
        for priority in (*PRIORITIES, DEFAULT_PRIORITY):
            for kind, seconds in policy.targets_for(priority).items():
                if kind != "resolution":
                    clock = REPLY_CLOCK
                else:
                    clock = WAITING_CLOCK if policy.pauses_when_pending else ELAPSED_CLOCK
                rows.append((number, policy.name, policy.hours, priority, kind, clock, float(seconds)))
    return pa.Table.from_pylist([dict(zip(TARGETS_SCHEMA.names, row, strict=True)) for row in rows], TARGETS_SCHEMA)


def build_sla_targets(store: Store, calendar: Calendar, ticket_facts: Any) -> Any:
    """One row per target a counted ticket's policy sets: first reply and resolution once per ticket, next reply
    once per wait cycle after the first response (an Ibis expression; no rows without an SLA file).

    Columns: ``ticket_id``, ``kind`` (first_reply, next_reply, resolution), ``cycle_number`` (the wait cycle of a
    reply target; 0 for resolution), ``agent`` (reply: who replied, or for a cycle still waiting the agent who last
    wrote, as in `cycles`; resolution: the ticket's assignee), ``mailbox``, ``started_at``, ``stopped_at`` (the
    reply, or the resolution of a ticket resolved now; null while running), ``running``, ``clock`` (what the
    target's clock runs over: ``reply``, its wait cycle; ``elapsed``, creation to resolution; ``waiting``, the
    time the customer waits: the ticket's status history in new, open and on-hold, else its wait cycles),
    ``policy``, ``hours`` (business or calendar), ``target_seconds``, ``elapsed_seconds`` (in the policy's hours,
    up to the stop or, while running, the store's horizon), ``due_at`` (when the elapsed time reached the target;
    null unless breached), ``achieved`` (stopped within the target), ``breached`` (elapsed time beyond the target:
    stopped late, or running and already late), ``breach_seconds`` (by how much; 0 otherwise) and ``outcome_at``,
    which places the row in a period: the stop when achieved, the due time when breached, null while running
    within the target.

    A reply cycle left unanswered on a resolved ticket needed no reply (as in `cycles`): it has no target.
    """
    policies = load_sla_policies(calendar.config)
    horizon = ibis.literal(calendar.horizon, type="timestamp") if calendar.horizon else ibis.null("timestamp")
    cycles = build_cycles(store, calendar, ticket_facts)
    # Cycles that still count: answered, or waiting on a ticket that is not resolved.
    cycles = cycles.filter(cycles.replied_at.notnull() | cycles.awaiting_reply)
    targeted = _instances(cycles, ticket_facts).join(
        _ticket_targets(store, policies, ticket_facts), ["ticket_id", "kind"]
    )
    t = _measured(targeted, _segments(store, calendar, cycles, ticket_facts, horizon), calendar)
    breached = t.elapsed_seconds > t.target_seconds
    achieved = ~t.running & t.stopped_at.notnull() & ~breached
    due_at = breached.ifelse(
        (t.hours == "business").ifelse(t.due_business_at, t.due_calendar_at), ibis.null("timestamp")
    )
    return t.select(
        *targeted.columns,
        elapsed_seconds=t.elapsed_seconds,
        due_at=due_at,
        achieved=achieved,
        breached=breached,
        breach_seconds=ibis.greatest(t.elapsed_seconds - t.target_seconds, ibis.literal(0.0, type="float64")),
        outcome_at=ibis.cases((achieved, t.stopped_at), (breached, due_at), else_=ibis.null("timestamp")),
    )


def _instances(cycles: Any, ticket_facts: Any) -> Any:
    """Every target a ticket could have, before policies: a reply per live wait cycle (its first response, or a
    next reply), a resolution per ticket. ``cycle_number`` tells a ticket's reply targets apart (0: resolution)."""
    resolved = ticket_facts.status == RESOLVED
    replies = cycles.select(
        ticket_id=cycles.ticket_id,
        kind=cycles.is_first.ifelse("first_reply", "next_reply"),
        cycle_number=cycles.cycle_number,
        agent=cycles.agent,
        mailbox=cycles.mailbox,
        started_at=cycles.customer_at,
        stopped_at=cycles.replied_at,
        running=cycles.awaiting_reply,
    )
    resolutions = ticket_facts.select(
        ticket_id=ticket_facts.ticket_id,
        kind=ibis.literal("resolution"),
        cycle_number=ibis.literal(0, type="int64"),
        agent=ticket_facts.assignee,
        mailbox=ticket_facts.mailbox,
        started_at=ticket_facts.created_at,
        stopped_at=resolved.ifelse(ticket_facts.resolved_at, ibis.null("timestamp")),
        running=~resolved,
    )
    return replies.union(resolutions.cast(replies.schema()))


def _ticket_targets(store: Store, policies: tuple[SlaPolicy, ...], ticket_facts: Any) -> Any:
    """Per ticket, the targets of its policy for its priority: ``kind``, ``clock``, ``policy``, ``hours``,
    ``target_seconds``."""
    targets = store.register("deskpulse_sla_targets", targets_table(policies))
    chosen = _ticket_policies(store, policies, ticket_facts)
    joined = chosen.join(
        targets, [chosen.policy_number == targets.policy_number, chosen.priority_key == targets.priority]
    )
    return joined.select("ticket_id", "kind", "clock", "policy", "hours", "target_seconds")


def _measured(targeted: Any, segments: Any, calendar: Calendar) -> Any:
    """``targeted`` plus the time each target's clock ran (``elapsed_seconds``, in its policy's hours) and the
    instant it reached the target, in calendar (``due_calendar_at``) and business hours (``due_business_at``)."""
    rows = targeted.left_join(
        segments,
        [
            targeted.ticket_id == segments.seg_ticket_id,
            targeted.clock == segments.seg_clock,
            targeted.cycle_number == segments.seg_instance,
        ],
    )
    rows = rows.select(*targeted.columns, *(c for c in segments.columns if c not in ("seg_ticket_id", "seg_clock")))
    length = (rows.hours == "business").ifelse(rows.seg_business_seconds, rows.seg_seconds)
    in_order = ibis.cumulative_window(
        group_by=["ticket_id", "kind", "cycle_number"], order_by=["seg_start", "seg_number"]
    )
    before = length.sum().over(in_order) - length  # the clock's time in the target's earlier stretches
    remaining = rows.target_seconds - before
    # The stretch in which the elapsed time reaches the target holds the due time.
    reaches = (before < rows.target_seconds) & (before + length >= rows.target_seconds)
    rows = rows.mutate(
        _length=length,
        _reaches=reaches.fill_null(False),
        _due_calendar_at=rows.seg_start + remaining.cast("int64").as_interval("s"),
        _due_clock=rows.seg_start_clock + remaining,
    )
    per_target = rows.group_by(targeted.columns).aggregate(
        elapsed_seconds=rows._length.sum(),
        due_calendar_at=rows._due_calendar_at.max(where=rows._reaches),
        due_clock=rows._due_clock.max(where=rows._reaches),
    )
    per_target = _with_instant_at_business_clock(per_target, "due_clock", calendar.intervals, "due_business_at")
    # A paused resolution clock with no wait cycle to run over (the customer never waited) ran for no time.
    return per_target.mutate(
        elapsed_seconds=ibis.coalesce(per_target.elapsed_seconds, ibis.literal(0.0, type="float64"))
    )


def _ticket_policies(store: Store, policies: tuple[SlaPolicy, ...], ticket_facts: Any) -> Any:
    """Per counted ticket its policy (the first in the file whose conditions it meets) as ``policy_number``, and
    ``priority_key``: its priority when the file knows it, else "default". Tickets no policy matches are left out.
    """
    tickets = store.table("tickets")
    attributes = ticket_facts.select("ticket_id", "mailbox").join(
        tickets.select("ticket_id", "priority", "category", "organisation"), "ticket_id"
    )
    tagged = {number: p.conditions.tag for number, p in enumerate(policies, start=1) if p.conditions.tag}
    if tagged:
        tags = store.table("ticket_tags")
        tag = tags.tag.lower()
        matches = tags.group_by("ticket_id").aggregate(
            **{f"_tagged_{number}": tag.isin(values).ifelse(1, 0).max() for number, values in tagged.items()}
        )
        joined = attributes.left_join(matches, "ticket_id")
        attributes = joined.select(*attributes.columns, *(f"_tagged_{number}" for number in tagged))
    branches = [(_meets(attributes, policy.conditions, number), number) for number, policy in enumerate(policies, 1)]
    policy_number = ibis.cases(*branches, else_=ibis.null("int64")) if branches else ibis.null("int64")
    priority = attributes.priority.lower()
    chosen = attributes.select(
        "ticket_id",
        policy_number=policy_number.cast("int64"),
        priority_key=priority.isin(PRIORITIES).fill_null(False).ifelse(priority, DEFAULT_PRIORITY),
    )
    return chosen.filter(chosen.policy_number.notnull())


def _meets(t: Any, conditions: Conditions, number: int) -> Any:
    """A ticket meets every condition given, each by any of its values; a missing attribute meets none."""
    tests = [
        t[column].lower().isin(values)
        for column, values in (
            ("priority", conditions.priority),
            ("mailbox", conditions.mailbox),
            ("organisation", conditions.organisation),
        )
        if values
    ]
    if conditions.category:
        category = t.category.lower()
        # The category itself, or one under it: "billing" matches "Billing > Refunds", not "Billing-old".
        tests.append(
            reduce(
                or_,
                (
                    (category == c) | (category.startswith(c) & category.substr(len(c)).lstrip().startswith(">"))
                    for c in conditions.category
                ),
            )
        )
    if conditions.tag:
        tests.append(t[f"_tagged_{number}"] == 1)
    return reduce(and_, (test.fill_null(False) for test in tests), ibis.literal(True))


def _segments(store: Store, calendar: Calendar, cycles: Any, ticket_facts: Any, horizon: Any) -> Any:
    """The stretches of time target clocks run over, each with its calendar and business seconds and the business
    clock at its start. ``seg_clock`` says which targets use it and ``seg_instance`` which of a ticket's targets of
    that clock: the cycle number for a reply, 0 for resolution. A stretch still running ends at the horizon.

    A paused resolution clock (``waiting``) runs while the customer waits for us. For a ticket with its own status
    history that is the history's stretches in new, open and on-hold (`status_stretches`, as Zendesk's requester
    wait time SLA counts), paused in pending and stopped once solved; for any other ticket, its wait cycles."""
    from deskpulse.metrics.facts import seconds_between  # facts imports the catalog, which imports this module

    resolved = ticket_facts.status == RESOLVED
    cycle_spans = cycles.select(
        seg_ticket_id=cycles.ticket_id,
        seg_number=cycles.cycle_number,
        seg_start=cycles.customer_at,
        seg_end=ibis.coalesce(cycles.replied_at, horizon),
    )
    life_spans = ticket_facts.select(
        seg_ticket_id=ticket_facts.ticket_id,
        seg_number=ibis.literal(0, type="int64"),
        seg_start=ticket_facts.created_at,
        seg_end=resolved.ifelse(ticket_facts.resolved_at, horizon),
    )

    def measured(spans: Any) -> Any:
        spans = with_business_clock(spans, "seg_start", calendar.intervals, "seg_start_clock")
        spans = with_business_clock(spans, "seg_end", calendar.intervals, "_seg_end_clock")
        return spans.select(
            "seg_ticket_id",
            "seg_number",
            "seg_start",
            "seg_start_clock",
            seg_seconds=seconds_between(spans.seg_start, spans.seg_end),
            seg_business_seconds=(spans._seg_end_clock - spans.seg_start_clock).cast("float64"),
        )

    cycle_spans, life_spans = measured(cycle_spans), measured(life_spans)
    stretches = status_stretches(store, calendar, calendar.horizon)
    with_history = stretches.select(history_ticket_id=stretches.ticket_id).distinct()
    mail_waits = cycle_spans.anti_join(with_history, cycle_spans.seg_ticket_id == with_history.history_ticket_id)
    waiting = stretches.filter(stretches.status.isin(REQUESTER_WAITS_IN))
    history_waits = waiting.select(
        seg_ticket_id=waiting.ticket_id,
        seg_number=waiting.stretch_number,
        seg_start=waiting.at,
        seg_start_clock=waiting.start_clock,
        seg_seconds=waiting.seconds,
        seg_business_seconds=waiting.business_seconds,
    )
    zero = ibis.literal(0, type="int64")
    parts = [
        cycle_spans.mutate(seg_clock=ibis.literal(REPLY_CLOCK), seg_instance=cycle_spans.seg_number),
        mail_waits.mutate(seg_clock=ibis.literal(WAITING_CLOCK), seg_instance=zero),
        history_waits.mutate(seg_clock=ibis.literal(WAITING_CLOCK), seg_instance=zero),
        life_spans.mutate(seg_clock=ibis.literal(ELAPSED_CLOCK), seg_instance=zero),
    ]
    return reduce(lambda a, b: a.union(b.cast(a.schema())), parts)


def _with_instant_at_business_clock(table: Any, clock_column: str, intervals: Any, out_column: str) -> Any:
    """``table`` plus ``out_column``: the instant at which the business clock reads ``clock_column`` (the inverse
    of `with_business_clock`). A value reached at closing time gives the closing time, not the next opening; null
    for a null value or one beyond the calendar. Every input row is kept exactly once."""
    spans = intervals.view()
    openings = spans.select(
        _due_span_start=spans.span_start,
        _due_cum=spans.cum_seconds.cast("int64"),
        _due_open=spans.open_end.epoch_seconds().cast("int64") - spans.span_start.epoch_seconds().cast("int64"),
    )
    openings = openings.filter(openings._due_open > 0)
    # An opening covers the clock values (cum, cum + open]. Openings are cut at UTC midnight, so none is longer
    # than a day and its values fall in at most two day-long buckets: an equi-join on the bucket first, then the
    # range test, so no engine compares every row with every opening (as with_business_clock does by UTC date).
    keyed = openings.mutate(_due_bucket=(openings._due_cum // DAY_SECONDS).cast("int64")).union(
        openings.mutate(_due_bucket=((openings._due_cum + openings._due_open) // DAY_SECONDS).cast("int64")),
        distinct=True,
    )
    clock = table[clock_column]
    joined = table.left_join(
        keyed,
        [
            (clock // DAY_SECONDS).cast("int64") == keyed._due_bucket,
            clock > keyed._due_cum,
            clock <= keyed._due_cum + keyed._due_open,
        ],
    )
    offset = (joined[clock_column] - joined._due_cum).cast("int64").as_interval("s")
    return joined.select(*table.columns, **{out_column: joined._due_span_start + offset})


FACT_TABLES = {"sla_targets": build_sla_targets}

SLA_COMPLIANCE = Metric(
    "sla_compliance",
    "SLA compliance",
    RATE,
    "higher",
    "Of the SLA targets whose outcome became known in the period, the share achieved: achieved ÷ (achieved + "
    "breached). Targets come from the policies of `[files] sla` (docs/inputs.md): the first policy whose "
    "conditions a ticket meets sets its first reply, next reply (per wait cycle after the first response) and "
    "resolution targets for its priority, in business or calendar hours. A target is achieved when its reply or "
    "resolution came within it (placed in the period of that reply or resolution) and breached once its time ran "
    "past it, answered or not (placed in the period of the due time, when the breach happened). A target still "
    "running within its time is left out until it is achieved or breached. `breach_seconds` sums by how much the "
    "breached targets overran (so far, for those still running); `by_target` gives both for each kind apart. Per "
    "agent: the agent who replied (for a reply still awaited, the agent who last wrote) or, for resolution, the "
    "ticket's assignee. Without an SLA file: not measured (`n` 0).",
    source="sla_targets",
    bucket="outcome_at",
    population=lambda t: t.achieved | t.breached,
    value=lambda t: t.achieved,
    breakdown=("kind", TARGET_KINDS),
    breakdown_key="by_target",
    sums=("breach_seconds",),
    short="SLA met",
)

METRICS = (SLA_COMPLIANCE,)
