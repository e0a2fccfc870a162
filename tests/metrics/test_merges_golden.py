"""Merged tickets and help desk records (spec §1.1, §1.6, §1.8), every number worked out below.

A help desk export ("desk"), written through the connector contract (`deskpulse.sources.canonical`). All times
UTC, reporting in UTC; March 2026 (Mon 2 Mar, Tue 3 Mar, Wed 4 Mar).

    ticket  requester        created      status    what else
    1       ana@cust.test    Mon 09:00    solved    history: solved Mon 11:30 (by bob)
    2       ana@cust.test    Mon 10:00    closed    merged into 1
    5       ana@cust.test    Mon 12:00    closed    merged into 2: a chain, so its messages end up in 1
    3       cy@other.test    Tue 09:00    pending   no history
    4       spam@junk.test   Tue 10:00    closed    marked spam
    6       dee@cust.test    Wed 09:00    solved    resolved_at Wed 15:00, no history, no messages (a ticket list)

    message  ticket  who                 when         what
    m1       1       ana (customer)      Mon 09:00    "I cannot log in."
    m2       2       ana (customer)      Mon 10:00    "Hello? I still cannot log in."
    m3       1       bob (agent)         Mon 11:00    public reply
    m3n      1       bob (agent)         Mon 11:05    internal note: no reply, no touch
    m5       5       ana (customer)      Mon 12:00    "It works now, thanks!"
    m4       3       cy (customer)       Tue 09:00
    m6       3       carl (agent)        Tue 13:00    public reply
    m7       4       spam (customer)     Tue 10:00

Merging: ticket 2 and ticket 5 count nowhere; m2 and m5 join ticket 1, which then holds m1, m2, m3, m3n, m5.
Ticket 4 is spam and counts nowhere. Counted: 1, 3 and 6.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from deskpulse.config import Config, parse_config
from deskpulse.metrics.engine import KpiQuery, compute_kpis
from deskpulse.sources.canonical import SourceEvent, SourceMessage, SourceTicket, store_source
from deskpulse.store import Store

CONFIG = parse_config(
    {"helpdesk": {"support_addresses": ["help@acme.test"], "agent_domains": ["acme.test"], "timezone": "UTC"}}
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute)


TICKETS = [
    SourceTicket("1", at(2, 9), "Login", "ana@cust.test", status="solved", resolved_at=at(2, 11, 30),
                 assignee="bob@acme.test", tags=["login"]),
    SourceTicket("2", at(2, 10), "Login again", "ana@cust.test", status="closed", merged_into="1"),
    SourceTicket("5", at(2, 12), "Login", "ana@cust.test", status="closed", merged_into="2"),
    SourceTicket("3", at(3, 9), "Invoice", "cy@other.test", status="pending", assignee="carl@acme.test"),
    SourceTicket("4", at(3, 10), "Buy now", "spam@junk.test", status="closed", resolved_at=at(3, 10, 5),
                 excluded_reason="spam"),
    SourceTicket("6", at(4, 9), "Phone call", "dee@cust.test", status="solved", resolved_at=at(4, 15), priority="High"),
]  # fmt: skip
MESSAGES = [
    SourceMessage("m1", "1", at(2, 9), "ana@cust.test", "customer", "I cannot log in."),
    SourceMessage("m2", "2", at(2, 10), "ana@cust.test", "customer", "Hello? I still cannot log in."),
    SourceMessage("m3", "1", at(2, 11), "bob@acme.test", "agent", "I sent you a reset link."),
    SourceMessage("m3n", "1", at(2, 11, 5), "bob@acme.test", "agent", "Checked the logs.", is_public=False),
    SourceMessage("m5", "5", at(2, 12), "ana@cust.test", "customer", "It works now, thanks!"),
    SourceMessage("m4", "3", at(3, 9), "cy@other.test", "customer", "My invoice is wrong."),
    SourceMessage("m6", "3", at(3, 13), "carl@acme.test", "agent", "Corrected, sorry."),
    SourceMessage("m7", "4", at(3, 10), "spam@junk.test", "customer", "Buy now!"),
]
EVENTS = [
    SourceEvent("e1", "1", at(2, 9), "status", "new", actor="ana@cust.test"),
    SourceEvent("e2", "1", at(2, 11, 30), "status", "solved", old_value="new", actor="bob@acme.test"),
]


def build_scenario(store: Store, directory: Path) -> Config:
    store_source(store, CONFIG, "desk", tickets=TICKETS, messages=MESSAGES, events=EVENTS)
    return CONFIG


def test_merged_away_tickets_count_nowhere_and_their_messages_join_the_survivor(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        build_scenario(store, tmp_path)
        rows = store.execute(
            "SELECT ticket_id, message_count, status, merged_into, excluded_reason FROM tickets ORDER BY ticket_id"
        )
        threads = dict(store.execute("SELECT message_key, ticket_id FROM message_threads"))
    assert rows == [
        ("desk-1", 5, "resolved", None, None),  # m1, m2, m3, m3n, m5
        ("desk-2", 0, "resolved", "desk-1", "merged"),
        ("desk-3", 2, "pending", None, None),  # the source's status: no history to contradict it
        ("desk-4", 1, "resolved", None, "spam"),
        ("desk-5", 0, "resolved", "desk-2", "merged"),  # its own link is kept; its message went down the chain
        ("desk-6", 0, "resolved", None, None),
    ]
    assert threads["desk:m2"] == threads["desk:m5"] == "desk-1"


def test_kpis_over_merged_tickets(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        build_scenario(store, tmp_path)
        metrics = ["tickets_created", "tickets_resolved", "first_response_time", "first_resolution_time",
                   "replies_per_resolution", "zero_reply_resolutions", "reopen_rate", "unreplied_tickets"]  # fmt: skip
        result = compute_kpis(store, CONFIG, KpiQuery(metrics, period="month"))
    [row] = result.rows
    assert row["period"] == "2026-03"
    # Counted tickets: 1, 3 and 6 (2 and 5 merged away, 4 spam).
    assert row["tickets_created"] == {"value": 3, "n": 3}
    assert result.left_out == {"merged": 2, "spam": 1}
    # Resolved: 1 by its history (Mon 11:30) and 6 by the ticket list's resolved_at (Wed 15:00).
    assert row["tickets_resolved"]["value"] == 2
    # First response: ticket 1 from m1 (09:00) to m3 (11:00) = 7,200 s; ticket 3 from 09:00 to 13:00 = 14,400 s.
    # Ticket 6 has no customer message: no first response time. The median of two is their mean, 10,800 s.
    frt = row["first_response_time"]
    assert (frt["n"], frt["median"], frt["mean"]) == (2, 10800.0, 10800.0)
    # First resolution: ticket 1 09:00 → 11:30 = 9,000 s; ticket 6 09:00 → 15:00 = 21,600 s.
    resolution = row["first_resolution_time"]
    assert (resolution["n"], resolution["median"]) == (2, 15300.0)
    # Replies per resolution counts the resolved tickets with a reply: ticket 1 alone, one public reply (the note is
    # none, and ana's merged-in messages are no replies). Ticket 6, resolved without a reply, is counted apart.
    assert (row["replies_per_resolution"]["value"], row["replies_per_resolution"]["n"]) == (1.0, 1)
    assert row["zero_reply_resolutions"]["value"] == 1
    # The merged-in "It works now, thanks!" (m5, 12:00) comes after the solve, but a help desk ticket's status
    # is its history, not inferred from mail: no reopen.
    assert row["reopen_rate"]["value"] == 0.0
    # Ticket 3 was answered, ticket 6 never had a customer message to answer: nobody waits (no population).
    assert row["unreplied_tickets"]["n"] == 0


def test_reading_the_export_again_changes_nothing(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        first = store_source(store, CONFIG, "desk", tickets=TICKETS, messages=MESSAGES, events=EVENTS)
        before = store.execute("SELECT count(*) FROM messages")
        again = store_source(store, CONFIG, "desk", tickets=TICKETS, messages=MESSAGES, events=EVENTS)
        after = store.execute("SELECT count(*) FROM messages")
    assert first.stored == len(TICKETS) + len(MESSAGES) + len(EVENTS)
    assert (again.stored, again.updated, again.duplicates) == (0, 0, len(TICKETS) + len(MESSAGES) + len(EVENTS))
    assert before == after == [(len(MESSAGES),)]


def test_a_changed_ticket_replaces_its_row_and_a_bad_record_is_quarantined(tmp_path: Path) -> None:
    changed = [SourceTicket("3", at(3, 9), "Invoice", "cy@other.test", status="solved", resolved_at=at(3, 14))]
    broken = [SourceMessage("m9", "3", None, "cy@other.test", "customer", "no time")]
    with Store.open(tmp_path / "s.duckdb") as store:
        build_scenario(store, tmp_path)
        summary = store_source(store, CONFIG, "desk", tickets=changed, messages=broken)
        [(status, resolved_at)] = store.execute("SELECT status, resolved_at FROM tickets WHERE ticket_id = 'desk-3'")
        quarantined = store.execute("SELECT reason, detail FROM quarantine WHERE source = 'desk'")
    assert (summary.updated, summary.quarantined) == (1, 1)
    assert (status, resolved_at) == ("resolved", at(3, 14))
    assert quarantined == [("no_created_at", "message m9 has no time")]
