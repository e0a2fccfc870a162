"""How our first reply and full resolution times agree with Zendesk's own `ticket_metrics`.

For every ticket a read's ticket_metrics describe, our per-ticket facts (`deskpulse.metrics.facts`) are set
beside Zendesk's `reply_time_in_minutes` and `full_resolution_time_in_minutes` (calendar, and business when
deskpulse has business hours), and each difference is put in a kind that says why. Agreement is within one
minute (Zendesk counts whole minutes); both sides having no value agrees too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from deskpulse.config import Config
from deskpulse.sources.canonical import ticket_id
from deskpulse.sources.zendesk import SOURCE
from deskpulse.sources.zendesk_files import ZendeskObjects
from deskpulse.store import Store

TOLERANCE_MINUTES = 1.0
# Why ours and Zendesk's differ, in words for the report.
KINDS = {
    "agree": "within a minute (or neither has one)",
    "not_imported": "Zendesk has metrics for a ticket no file read holds (no ticket, comment or audit of it)",
    "not_counted": "the ticket counts nowhere here (deleted, merged away or spam)",
    "no_customer_message": "no customer comment was read, and our first reply time starts at the first one",
    "started_by_agent": "an agent wrote first: Zendesk counts from creation, we count no first reply time",
    "no_public_reply": "no public agent comment was read (a private note or automation is no reply)",
    "from_creation": "Zendesk counts from ticket creation, we from the first customer message",
    "zendesk_none": "Zendesk has none (its reply or solve came before its metrics, or it is unsolved there)",
    "not_resolved_here": "the status history read has no resolution that holds now",
    "solve_time_differs": "the latest solve differs (Zendesk's solved_at vs. our latest resolution)",
    "no_business_hours": "no [business_hours] are configured, so we have no business time",
    "business_schedule": "calendar times agree; the business schedules (hours, holidays, timezone) differ",
    "other": "differs for a reason not recognised here; see the ticket",
}
MEASURES = (
    ("first reply", "calendar", "reply_time_in_minutes", "first_response_time"),
    ("first reply", "business", "reply_time_in_minutes", "first_response_time_business"),
    ("full resolution", "calendar", "full_resolution_time_in_minutes", "full_resolution_time"),
    ("full resolution", "business", "full_resolution_time_in_minutes", "full_resolution_time_business"),
)


@dataclass(frozen=True)
class Comparison:
    ticket: str  # Zendesk's id
    measure: str  # first reply, full resolution
    clock: str  # calendar, business
    zendesk_minutes: float | None
    our_minutes: float | None
    kind: str  # a key of KINDS


@dataclass
class Agreement:
    with_metrics: int = 0  # tickets ticket_metrics describe
    known: int = 0  # of them, tickets the store counts
    comparisons: list[Comparison] = field(default_factory=list)

    def summary(self) -> list[dict[str, Any]]:
        """Per measure and clock: tickets compared, how many agree, the share, and the kinds of difference."""
        rows = []
        for measure, clock, _, _ in MEASURES:
            mine = [c for c in self.comparisons if (c.measure, c.clock) == (measure, clock)]
            compared = [c for c in mine if c.kind not in ("not_imported", "not_counted", "no_business_hours")]
            agree = sum(c.kind == "agree" for c in compared)
            rows.append(
                {
                    "measure": measure,
                    "clock": clock,
                    "compared": len(compared),
                    "agree": agree,
                    "share": agree / len(compared) if compared else None,
                    "kinds": dict(Counter(c.kind for c in mine).most_common()),
                }
            )
        return rows


def compare_ticket_metrics(store: Store, config: Config, objects: ZendeskObjects) -> Agreement:
    """Compare the store's facts with the ticket_metrics of ``objects`` (a read already stored)."""
    from deskpulse.metrics.facts import build_calendar, ticket_facts

    agreement = Agreement(with_metrics=len(objects.ticket_metrics))
    if not objects.ticket_metrics:
        return agreement
    ours = {ticket_id(SOURCE, key): key for key in objects.ticket_metrics}
    facts = ticket_facts(store, build_calendar(store, config))
    counted = store.arrow(facts.filter(facts.ticket_id.isin(list(ours)))).to_pylist()
    by_ticket = {ours[row["ticket_id"]]: row for row in counted}
    tickets = store.table("tickets")
    stored = store.arrow(tickets.filter(tickets.ticket_id.isin(list(ours))).select("ticket_id")).column(0)
    stored_keys = {ours[key] for key in stored.to_pylist()}
    agreement.known = len(by_ticket)
    for key, metrics in sorted(objects.ticket_metrics.items()):
        fact = by_ticket.get(key)
        for measure, clock, zendesk_field, our_field in MEASURES:
            zendesk = _minutes(metrics, zendesk_field, clock)
            mine = None if fact is None or fact.get(our_field) is None else float(fact[our_field]) / 60
            if fact is None:
                kind = "not_counted" if key in stored_keys else "not_imported"
            elif clock == "business" and not config.business_hours.has_hours:
                kind = "no_business_hours"
            else:
                kind = _kind(measure, clock, zendesk, mine, fact)
                if clock == "business" and kind != "agree":
                    calendar = _minutes(metrics, zendesk_field, "calendar")
                    calendar_mine = fact.get(our_field.removesuffix("_business"))
                    if _close(calendar, None if calendar_mine is None else float(calendar_mine) / 60):
                        kind = "business_schedule"
            agreement.comparisons.append(Comparison(key, measure, clock, zendesk, mine, kind))
    return agreement


def _kind(measure: str, clock: str, zendesk: float | None, mine: float | None, fact: dict[str, Any]) -> str:
    if (zendesk is None and mine is None) or _close(zendesk, mine):
        return "agree"
    if zendesk is None:
        return "zendesk_none"
    if measure == "full resolution":
        return "not_resolved_here" if mine is None else "solve_time_differs"
    if fact.get("is_proactive"):
        return "started_by_agent"
    if fact.get("first_customer_at") is None:
        return "no_customer_message"
    if fact.get("first_reply_at") is None:
        return "no_public_reply"
    created, replied = fact.get("created_at"), fact.get("first_reply_at")
    if clock == "calendar" and created is not None and _close(zendesk, (replied - created).total_seconds() / 60):
        return "from_creation"
    return "other"


def _close(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= TOLERANCE_MINUTES


def _minutes(metrics: dict[str, Any], name: str, clock: str) -> float | None:
    value = metrics.get(name)
    if isinstance(value, dict):
        value = value.get(clock)
    elif clock != "calendar":
        value = None  # a warehouse's flat column is calendar minutes
    return None if value is None else float(value)
