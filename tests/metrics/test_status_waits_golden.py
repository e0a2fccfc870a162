"""Requester wait, agent wait and on-hold time from a help desk's status history (spec §2), worked out by hand.

A help desk export ("desk") through the connector contract. Times UTC, reporting in UTC, business hours Monday to
Friday 09:00–17:00 UTC. March 2026: Mon 2, Tue 3, Wed 4.

    ticket 1  created Mon 09:00. History: new 09:00, pending 10:00, open 12:00, on-hold 13:00, open 15:00,
              solved 16:00. Its mail (customer 09:00, reply 09:30) would say a 30-minute wait: the history wins.
              open 9–10 (3,600 s) + open 12–13 (3,600) + on-hold 13–15 (7,200) + open 15–16 (3,600)
              requester wait 18,000 s; pending 10–12: agent wait 7,200 s; on-hold 7,200 s. All inside business
              hours, so the business figures are the same.
    ticket 2  created Mon 16:00. History: pending Tue 10:00 (from open), solved Tue 11:00. Nothing recorded at
              creation, so it was open from 16:00 to Tue 10:00: 18 h = 64,800 s, of which business time is
              Mon 16–17 + Tue 09–10 = 7,200 s. Pending 10–11: agent wait 3,600 s (business 3,600). On-hold 0.
    ticket 3  created Tue 09:00. History: pending Tue 10:00. Not resolved: no wait is counted yet.
    ticket 4  created Wed 09:00, solved at Wed 12:00, no history (a ticket list). Its mail: customer Wed 09:00,
              reply Wed 10:00, so its wait cycles decide: requester wait 3,600 s, agent wait 0 (the customer
              never had to write again), on-hold unknown (a mailbox cannot tell).

Over March: requester wait 18,000, 64,800 and 3,600 → n 3, median 18,000, mean 28,800; business 18,000, 7,200
and 3,600 → median 7,200, mean 9,600. Agent wait 7,200, 3,600 and 0 → median 3,600, mean 3,600 (business the
same). On-hold 7,200 and 0 (ticket 4 not measured) → n 2, median and mean 3,600.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from deskpulse.config import Config, parse_config
from deskpulse.metrics.engine import KpiQuery, compute_kpis
from deskpulse.sources.canonical import SourceEvent, SourceMessage, SourceTicket, store_source
from deskpulse.store import Store

HOURS = "09:00-17:00"
CONFIG = parse_config(
    {
        "helpdesk": {"support_addresses": ["help@acme.test"], "agent_domains": ["acme.test"], "timezone": "UTC"},
        "business_hours": {"timezone": "UTC", "mon": HOURS, "tue": HOURS, "wed": HOURS, "thu": HOURS, "fri": HOURS},
    }
)
METRICS = [
    "requester_wait_time",
    "requester_wait_time_business",
    "agent_wait_time",
    "agent_wait_time_business",
    "on_hold_time",
    "on_hold_time_business",
]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute)


TICKETS = [
    SourceTicket("1", at(2, 9), "Login", "ana@cust.test", status="solved", assignee="bob@acme.test"),
    SourceTicket("2", at(2, 16), "Invoice", "cy@cust.test", status="solved", assignee="bob@acme.test"),
    SourceTicket("3", at(3, 9), "Export", "dee@cust.test", status="pending", assignee="bob@acme.test"),
    SourceTicket("4", at(4, 9), "Refund", "eve@cust.test", status="solved", resolved_at=at(4, 12),
                 assignee="bob@acme.test"),
]  # fmt: skip
MESSAGES = [
    SourceMessage("m1", "1", at(2, 9), "ana@cust.test", "customer", "I cannot log in."),
    SourceMessage("m2", "1", at(2, 9, 30), "bob@acme.test", "agent", "Which browser?"),
    SourceMessage("m4", "4", at(4, 9), "eve@cust.test", "customer", "Please refund me."),
    SourceMessage("m5", "4", at(4, 10), "bob@acme.test", "agent", "Refunded."),
]
EVENTS = [
    SourceEvent("e1", "1", at(2, 9), "status", "new"),
    SourceEvent("e2", "1", at(2, 10), "status", "pending", old_value="new"),
    SourceEvent("e3", "1", at(2, 12), "status", "open", old_value="pending"),
    SourceEvent("e4", "1", at(2, 13), "status", "on-hold", old_value="open"),
    SourceEvent("e5", "1", at(2, 15), "status", "open", old_value="on-hold"),
    SourceEvent("e6", "1", at(2, 16), "status", "solved", old_value="open"),
    SourceEvent("e7", "2", at(3, 10), "status", "pending", old_value="open"),
    SourceEvent("e8", "2", at(3, 11), "status", "solved", old_value="pending"),
    SourceEvent("e9", "3", at(3, 10), "status", "pending", old_value="open"),
]


def build_scenario(store: Store, directory: Path) -> Config:
    store_source(store, CONFIG, "desk", tickets=TICKETS, messages=MESSAGES, events=EVENTS)
    return CONFIG


def test_waits_come_from_the_status_history_where_there_is_one(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        build_scenario(store, tmp_path)
        [row] = compute_kpis(store, CONFIG, KpiQuery(METRICS, period="month")).rows

    def figures(metric: str) -> tuple[object, ...]:
        return tuple(row[metric][key] for key in ("n", "median", "mean"))

    assert figures("requester_wait_time") == (3, 18000.0, 28800.0)
    assert figures("requester_wait_time_business") == (3, 7200.0, 9600.0)
    assert figures("agent_wait_time") == (3, 3600.0, 3600.0)
    assert figures("agent_wait_time_business") == (3, 3600.0, 3600.0)
    assert figures("on_hold_time") == (2, 3600.0, 3600.0)
    assert figures("on_hold_time_business") == (2, 3600.0, 3600.0)
