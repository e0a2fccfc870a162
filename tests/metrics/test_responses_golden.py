"""Next response time, requester wait, agent wait and on-hold time on a hand-built mailbox, computed by hand.

The help desk: help@acme.test, agents at acme.test, reporting and business hours in Europe/Berlin,
Mon–Fri 09:00–17:00, no holidays. January 2026 is winter time (UTC+1); Fri 2 Jan is in ISO week 2026-W01,
Mon 5 Jan starts W02, Mon 12 Jan W03. All times below are Berlin local time.

A wait cycle runs from a customer's oldest unanswered message to the next human agent reply. The first cycle
of a customer-started ticket is its first response; next_response_time counts every other cycle.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.mailbuilder import Mail, write_mbox

from deskpulse.config import parse_config
from deskpulse.ingest import ingest_paths
from deskpulse.metrics.engine import KpiQuery, compute_kpis, fact_tables
from deskpulse.metrics.facts import build_calendar
from deskpulse.store import Store

CONFIG = parse_config(
    {
        "helpdesk": {
            "support_addresses": ["help@acme.test"],
            "agent_domains": ["acme.test"],
            "timezone": "Europe/Berlin",
        },
        "business_hours": {
            "timezone": "Europe/Berlin",
            **{d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")},
        },
    }
)

CARLA = "Carla Customer <carla@example.org>"
BOB = "Bob Buyer <bob@example.com>"
DORA = "Dora Driver <dora@example.net>"
ERIK = "Erik Engineer <erik@example.com>"
FAY = "Fay Farmer <fay@example.org>"
GINA = "Gina Gardener <gina@example.net>"
ANA = "Ana Agent <ana@acme.test>"
BEN = "Ben Agent <ben@acme.test>"
HELP = "help@acme.test"


def reply(
    sender: str,
    to: str,
    subject: str,
    received: str,
    message_id: str,
    *earlier: str,
    extra_headers: dict[str, str] | None = None,
) -> Mail:
    """A message answering ``earlier`` (Message-IDs, oldest first) through In-Reply-To and References."""
    return Mail(
        sender,
        to,
        subject,
        received,
        message_id=message_id,
        in_reply_to=earlier[-1],
        references=list(earlier),
        extra_headers=extra_headers or {},
    )


AUTO_REPLY = {"Auto-Submitted": "auto-replied"}

MAILS = [
    # Ticket A "Export fails": three cycles, the second with two customer messages and an auto-reply in it,
    # the third across a weekend.
    Mail(CARLA, HELP, "Export fails", "2026-01-05 10:00", message_id="a1@example.org"),
    # Cycle 1 (the first response): Mon 10:00 → Ana Mon 10:30 = 1,800 s, all of it business.
    reply(ANA, "carla@example.org", "Re: Export fails", "2026-01-05 10:30", "a2@acme.test", "a1@example.org"),
    # Agent wait: Ana Mon 10:30 → Carla Mon 14:00 = 3 h 30 m = 12,600 s, all of it business.
    reply(CARLA, HELP, "Re: Export fails", "2026-01-05 14:00", "a3@example.org", "a1@example.org", "a2@acme.test"),
    # The help desk's auto-reply is automation: it does not end cycle 2.
    reply(
        HELP,
        "carla@example.org",
        "[Acme] We received your message",
        "2026-01-05 14:01",
        "a3-ack@acme.test",
        "a3@example.org",
        extra_headers=AUTO_REPLY,
    ),
    # A second customer message before any reply: still cycle 2, which started at 14:00.
    reply(CARLA, HELP, "Re: Export fails", "2026-01-05 15:00", "a4@example.org", "a3@example.org"),
    # Cycle 2: Mon 14:00 → Ben Tue 09:30 = 19 h 30 m = 70,200 s; business Mon 14–17 (3 h) + Tue 09:00–09:30
    # (30 m) = 12,600 s. Credited to Ben.
    reply(BEN, "carla@example.org", "Re: Export fails", "2026-01-06 09:30", "a5@acme.test", "a4@example.org"),
    # Agent wait: Ben Tue 09:30 → Carla Fri 16:30 = 3 d 7 h = 284,400 s; business Tue 09:30–17 (7 h 30 m)
    # + Wed (8 h) + Thu (8 h) + Fri 09:00–16:30 (7 h 30 m) = 31 h = 111,600 s.
    reply(CARLA, HELP, "Re: Export fails", "2026-01-09 16:30", "a6@example.org", "a5@acme.test"),
    # Cycle 3, over the weekend: Fri 16:30 → Ana Mon 12 Jan 09:45 = 2 d 17 h 15 m = 234,900 s;
    # business Fri 16:30–17:00 (1,800 s) + Mon 09:00–09:45 (2,700 s) = 4,500 s. Credited to Ana.
    reply(ANA, "carla@example.org", "Re: Export fails", "2026-01-12 09:45", "a7@acme.test", "a6@example.org"),
    # Ticket B "Wrong size delivered": answered once, then the customer's second message goes unanswered.
    Mail(BOB, HELP, "Wrong size delivered", "2026-01-07 11:00", message_id="b1@example.com"),
    # Cycle 1 (first response): Wed 11:00 → Ben 12:00 = 3,600 s.
    reply(BEN, "bob@example.com", "Re: Wrong size delivered", "2026-01-07 12:00", "b2@acme.test", "b1@example.com"),
    # Cycle 2 opens Wed 13:00 and is never answered: open, owed by Ben, who wrote last.
    reply(BOB, HELP, "Re: Wrong size delivered", "2026-01-07 13:00", "b3@example.com", "b2@acme.test"),
    # Ticket C "Your plan renews soon": proactive. Ben's opening answers nothing; Dora's reply starts cycle 1,
    # which is not a first response (a proactive ticket has none) and so counts as a next response.
    Mail(BEN, "dora@example.net", "Your plan renews soon", "2026-01-08 10:00", message_id="c1@acme.test"),
    # Agent wait: Ben Thu 10:00 → Dora Thu 15:00 = 18,000 s, all of it business.
    reply(DORA, HELP, "Re: Your plan renews soon", "2026-01-08 15:00", "c2@example.net", "c1@acme.test"),
    # Cycle 1: Thu 15:00 → Ben 16:00 = 3,600 s, all of it business.
    reply(BEN, "dora@example.net", "Re: Your plan renews soon", "2026-01-08 16:00", "c3@acme.test", "c2@example.net"),
    # Ticket D "API returns 500": a follow-up by the agent and the customer's out-of-office, then an overnight
    # cycle.
    Mail(ERIK, HELP, "API returns 500", "2026-01-13 16:00", message_id="d1@example.com"),
    # Cycle 1 (first response): Tue 16:00 → Ana 16:20 = 1,200 s, all of it business.
    reply(ANA, "erik@example.com", "Re: API returns 500", "2026-01-13 16:20", "d2@acme.test", "d1@example.com"),
    # Ana's follow-up answers nothing; Erik's out-of-office is automation and starts no cycle.
    reply(ANA, "erik@example.com", "Re: API returns 500", "2026-01-13 16:40", "d3@acme.test", "d2@acme.test"),
    reply(
        ERIK,
        HELP,
        "Auto: Re: API returns 500",
        "2026-01-13 16:41",
        "d3-ooo@example.com",
        "d3@acme.test",
        extra_headers=AUTO_REPLY,
    ),
    # Agent wait from Ana's reply (not her follow-up): Tue 16:20 → Erik 22:00 = 5 h 40 m = 20,400 s;
    # business 16:20–17:00 = 2,400 s.
    reply(ERIK, HELP, "Re: API returns 500", "2026-01-13 22:00", "d4@example.com", "d3@acme.test"),
    # Cycle 2, overnight: Tue 22:00 → Ana Wed 09:10 = 11 h 10 m = 40,200 s; business 09:00–09:10 = 600 s.
    reply(ANA, "erik@example.com", "Re: API returns 500", "2026-01-14 09:10", "d5@acme.test", "d4@example.com"),
    # Erik's thanks asks for nothing: no cycle opens, and D stays resolved at Ana's 09:10 reply (spec §1.6).
    Mail(
        ERIK,
        HELP,
        "Re: API returns 500",
        "2026-01-14 09:30",
        body="Thanks, that did the trick!\n",
        message_id="d6@example.com",
        in_reply_to="d5@acme.test",
        references=["d5@acme.test"],
    ),
    # Ticket F "Copy of my invoice": reopened. Cycle 1 (first response): Fri 2 Jan 10:00 → Ana 10:15 = 900 s.
    Mail(GINA, HELP, "Copy of my invoice", "2026-01-02 10:00", message_id="f1@example.net"),
    reply(ANA, "gina@example.net", "Re: Copy of my invoice", "2026-01-02 10:15", "f2@acme.test", "f1@example.net"),
    # Gina writes again 10 days later, past inactivity_days (7): F was resolved at Ana's reply and this reopens
    # it, so the 10 days are no agent wait (0). Cycle 2: Mon 12 Jan 11:00 → Ben 11:45 = 2,700 s, all business.
    reply(GINA, HELP, "Re: Copy of my invoice", "2026-01-12 11:00", "f3@example.net", "f2@acme.test"),
    reply(BEN, "gina@example.net", "Re: Copy of my invoice", "2026-01-12 11:45", "f4@acme.test", "f3@example.net"),
    # Ticket E "Change my address": answered a moment ago. Its reply is the store's newest message (the horizon,
    # spec §1.6), so A, C, D and F, quiet for 7 days after their last reply, are resolved; B and E are not.
    Mail(FAY, HELP, "Change my address", "2026-01-26 10:00", message_id="e1@example.org"),
    reply(BEN, "fay@example.org", "Re: Change my address", "2026-01-26 10:15", "e2@acme.test", "e1@example.org"),
]

# next_response_time: every cycle but the first responses of A, B, D, E, F.
#   A2 70,200 (Ben, Tue 6 Jan, W02)   C1 3,600 (Ben, Thu 8 Jan, W02)    open: B2 (started Wed 7 Jan, W02, Ben)
#   A3 234,900 (Ana, Mon 12 Jan, W03)  F2 2,700 (Ben, Mon 12 Jan, W03)  D2 40,200 (Ana, Wed 14 Jan, W03)
# Calendar sorted: 2,700; 3,600; 40,200; 70,200; 234,900.
#   median = 40,200; mean = 351,600 / 5 = 70,320
#   p90: position 0.9 × 4 = 3.6 → 70,200 + 0.6 × (234,900 − 70,200) = 70,200 + 98,820 = 169,020
# Business (A2 12,600; C1 3,600; A3 4,500; F2 2,700; D2 600) sorted: 600; 2,700; 3,600; 4,500; 12,600.
#   median = 3,600; mean = 24,000 / 5 = 4,800; p90 = 4,500 + 0.6 × 8,100 = 9,360
#
# requester_wait_time: resolved tickets with a reply (A, C, D, F), placed in the period of their resolution.
#   A = 1,800 + 70,200 + 234,900 = 306,900 (business 1,800 + 12,600 + 4,500 = 18,900), resolved Mon 12 Jan
#   C = 3,600 (business 3,600), resolved Thu 8 Jan;  D = 1,200 + 40,200 = 41,400 (business 1,800), Wed 14 Jan
#   F = 900 + 2,700 = 3,600 (business 3,600), resolved again Mon 12 Jan
#   Sorted 3,600; 3,600; 41,400; 306,900: median (3,600 + 41,400) / 2 = 22,500; mean 355,500 / 4 = 88,875;
#     p90: position 0.9 × 3 = 2.7 → 41,400 + 0.7 × 265,500 = 227,250
#   Business sorted 1,800; 3,600; 3,600; 18,900: median 3,600; mean 27,900 / 4 = 6,975;
#     p90 = 3,600 + 0.7 × 15,300 = 14,310
#   open: B and E, unresolved.
# agent_wait_time: the same tickets.
#   A = 12,600 + 284,400 = 297,000 (business 12,600 + 111,600 = 124,200);  C = 18,000 (18,000);
#   D = 20,400 (2,400);  F = 0 (0)
#   Sorted 0; 18,000; 20,400; 297,000: median 19,200; mean 335,400 / 4 = 83,850;
#     p90 = 20,400 + 0.7 × 276,600 = 214,020
#   Business sorted 0; 2,400; 18,000; 124,200: median 10,200; mean 144,600 / 4 = 36,150;
#     p90 = 18,000 + 0.7 × 106,200 = 92,340
# A check on both: without a reopen, requester + agent wait = first human message → the reply to the last cycle.
#   A: 306,900 + 297,000 = 603,900 = Mon 5 Jan 10:00 → Mon 12 Jan 09:45 (7 d − 15 m)
#   C: 3,600 + 18,000 = 21,600 = Thu 10:00 → 16:00;  D: 41,400 + 20,400 = 61,800 = Tue 16:00 → Wed 09:10

RESPONSE_METRICS = [
    "next_response_time",
    "next_response_time_business",
    "requester_wait_time",
    "requester_wait_time_business",
    "agent_wait_time",
    "agent_wait_time_business",
    "on_hold_time",
    "on_hold_time_business",
]


def duration(median: float, p90: float, mean: float, n: int, open_: int) -> dict[str, object]:
    return {"value": median, "median": median, "p90": pytest.approx(p90), "mean": mean, "n": n, "open": open_}


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    mbox = write_mbox(tmp_path / "support.mbox", MAILS, "Europe/Berlin")
    store = Store.open(tmp_path / "deskpulse.duckdb")
    ingest_paths(store, CONFIG, [mbox])
    return store


def test_whole_mailbox(store: Store) -> None:
    [row] = compute_kpis(store, CONFIG, KpiQuery(RESPONSE_METRICS, period="all")).rows
    assert row["next_response_time"] == duration(40200.0, 169020.0, 70320.0, n=5, open_=1)
    assert row["next_response_time_business"] == duration(3600.0, 9360.0, 4800.0, n=5, open_=1)
    assert row["requester_wait_time"] == duration(22500.0, 227250.0, 88875.0, n=4, open_=2)
    assert row["requester_wait_time_business"] == duration(3600.0, 14310.0, 6975.0, n=4, open_=2)
    assert row["agent_wait_time"] == duration(19200.0, 214020.0, 83850.0, n=4, open_=2)
    assert row["agent_wait_time_business"] == duration(10200.0, 92340.0, 36150.0, n=4, open_=2)
    # No status history in a mailbox: not measured, never guessed.
    not_measured = {"value": None, "median": None, "p90": None, "mean": None, "n": 0, "open": 0}
    assert row["on_hold_time"] == not_measured
    assert row["on_hold_time_business"] == not_measured


def test_cycles_of_one_ticket(store: Store) -> None:
    cycles = fact_tables(store, build_calendar(store, CONFIG))["cycles"]
    rows = cycles.order_by(["ticket_id", "cycle_number"]).to_pyarrow().to_pylist()
    export_fails = [r for r in rows if r["customer_at"].isoformat() == "2026-01-05T09:00:00"]
    [ticket_id] = {r["ticket_id"] for r in export_fails}
    ticket_a = [r for r in rows if r["ticket_id"] == ticket_id]
    # Three cycles, not four: Carla's two messages of Mon 14:00 and 15:00 are one, the auto-reply ends none.
    assert [(r["cycle_number"], r["agent"], r["seconds"], r["business_seconds"], r["is_first"]) for r in ticket_a] == [
        (1, "ana@acme.test", 1800.0, 1800.0, True),
        (2, "ben@acme.test", 70200.0, 12600.0, False),
        (3, "ana@acme.test", 234900.0, 4500.0, False),
    ]
    # UTC in the store: Mon 14:00 Berlin is 13:00 UTC.
    assert ticket_a[1]["customer_at"].isoformat() == "2026-01-05T13:00:00"
    assert [r["agent_wait_seconds"] for r in ticket_a] == [None, 12600.0, 284400.0]
    assert [r["agent_wait_business_seconds"] for r in ticket_a] == [None, 12600.0, 111600.0]
    assert all(r["mailbox"] == HELP for r in rows)
    # Cycles: A 3, B 2, C 1, D 2, E 1, F 2 = 11 rows; C's proactive opening and D's thanks are none of them.
    assert len(rows) == 11
    assert sum(r["is_first"] for r in rows) == 5  # A, B, D, E, F; C is proactive
    [unanswered] = [r for r in rows if r["replied_at"] is None]
    assert unanswered["cycle_number"] == 2 and unanswered["awaiting_reply"] is True
    assert unanswered["agent"] == "ben@acme.test"  # owed by the agent who wrote last


def test_a_reopen_is_no_agent_wait(store: Store) -> None:
    cycles = fact_tables(store, build_calendar(store, CONFIG))["cycles"]
    rows = cycles.order_by(["ticket_id", "cycle_number"]).to_pyarrow().to_pylist()
    [reopened] = [r for r in rows if r["customer_at"].isoformat() == "2026-01-12T10:00:00"]  # Gina, 11:00 Berlin
    assert (reopened["cycle_number"], reopened["agent"], reopened["seconds"]) == (2, "ben@acme.test", 2700.0)
    assert reopened["previous_reply_at"].isoformat() == "2026-01-02T09:15:00"  # Ana, 10:15 Berlin
    # Resolved at Ana's reply, reopened by Gina: nobody was waiting for Gina in between.
    assert (reopened["agent_wait_seconds"], reopened["agent_wait_business_seconds"]) == (0.0, 0.0)


def test_first_cycles_are_the_first_responses(store: Store) -> None:
    query = KpiQuery(["first_response_time", "first_response_time_business"], period="all")
    [row] = compute_kpis(store, CONFIG, query).rows
    cycles = fact_tables(store, build_calendar(store, CONFIG))["cycles"]
    first = cycles.filter(cycles.is_first).to_pyarrow().to_pylist()
    # A 1,800; B 3,600; D 1,200; E 900; F 900: the same five durations first_response_time reports
    # (mean 8,400 / 5 = 1,680).
    assert sorted(r["seconds"] for r in first) == [900.0, 900.0, 1200.0, 1800.0, 3600.0]
    assert row["first_response_time"]["n"] == 5
    assert row["first_response_time"]["mean"] == 1680.0


def test_next_response_is_credited_to_the_replying_agent(store: Store) -> None:
    result = compute_kpis(store, CONFIG, KpiQuery(RESPONSE_METRICS, period="all", by=["agent"]))
    rows = {row["agent"]: row for row in result.rows}
    assert sorted(rows) == ["ana@acme.test", "ben@acme.test"]
    ana, ben = rows["ana@acme.test"], rows["ben@acme.test"]
    # Ana answered A3 (234,900) and D2 (40,200): median = mean = 275,100 / 2 = 137,550;
    #   p90 = 40,200 + 0.9 × 194,700 = 215,430.
    assert ana["next_response_time"] == duration(137550.0, 215430.0, 137550.0, n=2, open_=0)
    # Ben answered F2 (2,700), C1 (3,600) and A2 (70,200): median 3,600; mean 76,500 / 3 = 25,500;
    #   p90: position 1.8 → 3,600 + 0.8 × 66,600 = 56,880. B's unanswered cycle is his to answer: open 1.
    assert ben["next_response_time"] == duration(3600.0, 56880.0, 25500.0, n=3, open_=1)
    # Ticket totals go to the ticket's assignee, the agent of its latest reply: A and D are Ana's (306,900 and
    # 41,400: median 174,150), C and F Ben's (3,600 each). B and E (open) are Ben's too.
    assert ana["requester_wait_time"]["median"] == 174150.0
    assert (ana["requester_wait_time"]["n"], ana["requester_wait_time"]["open"]) == (2, 0)
    assert ben["requester_wait_time"]["median"] == 3600.0
    assert (ben["requester_wait_time"]["n"], ben["requester_wait_time"]["open"]) == (2, 2)
    # Agent wait: A 297,000 and D 20,400 → Ana's median 158,700; C 18,000 and F 0 → Ben's 9,000.
    assert ana["agent_wait_time"]["median"] == 158700.0
    assert ben["agent_wait_time"]["median"] == 9000.0


def test_next_responses_belong_to_the_reply_week(store: Store) -> None:
    result = compute_kpis(store, CONFIG, KpiQuery(RESPONSE_METRICS, period="week"))
    rows = {row["period"]: row for row in result.rows}
    # W01: F's first response only, and F's resolution of that week was undone by the reopen.
    assert rows["2026-W01"]["next_response_time"]["n"] == 0
    assert rows["2026-W01"]["requester_wait_time"]["n"] == 0
    # W02: A2 (Tue 6) and C1 (Thu 8) were answered, B2 started (Wed 7) and is still open.
    #   median = (3,600 + 70,200) / 2 = 36,900. Resolved that week: C (3,600 requester, 18,000 agent wait).
    assert rows["2026-W02"]["next_response_time"]["median"] == 36900.0
    assert (rows["2026-W02"]["next_response_time"]["n"], rows["2026-W02"]["next_response_time"]["open"]) == (2, 1)
    assert rows["2026-W02"]["requester_wait_time"]["median"] == 3600.0
    assert rows["2026-W02"]["agent_wait_time"]["median"] == 18000.0
    assert rows["2026-W02"]["requester_wait_time"]["open"] == 1  # B, created Wed 7 Jan, unresolved
    # W03: A3 (Mon 12, over the weekend), F2 (Mon 12) and D2 (Wed 14): 2,700; 40,200; 234,900 → median 40,200.
    #   Resolved that week: A, F and D (306,900; 3,600; 41,400 → median 41,400).
    assert rows["2026-W03"]["next_response_time"]["median"] == 40200.0
    assert (rows["2026-W03"]["next_response_time"]["n"], rows["2026-W03"]["next_response_time"]["open"]) == (3, 0)
    assert rows["2026-W03"]["requester_wait_time"]["median"] == 41400.0
    assert rows["2026-W03"]["requester_wait_time"]["n"] == 3
    # W05: only E, answered once (its first response) and not resolved yet.
    assert rows["2026-W05"]["next_response_time"]["n"] == 0
    assert rows["2026-W05"]["requester_wait_time"]["n"] == 0
    assert rows["2026-W05"]["requester_wait_time"]["open"] == 1


def test_no_business_hours_gives_null_not_zero(tmp_path: Path) -> None:
    config = parse_config({"helpdesk": {"support_addresses": [HELP], "agent_domains": ["acme.test"]}})
    mbox = write_mbox(tmp_path / "m.mbox", MAILS, "Europe/Berlin")
    with Store.open(tmp_path / "s.duckdb") as store:
        ingest_paths(store, config, [mbox])
        [row] = compute_kpis(store, config, KpiQuery(RESPONSE_METRICS, period="all")).rows
    assert row["next_response_time"]["n"] == 5
    assert row["requester_wait_time"]["n"] == 4
    for metric in ("next_response_time_business", "requester_wait_time_business", "agent_wait_time_business"):
        assert row[metric]["value"] is None
        assert row[metric]["n"] == 0
