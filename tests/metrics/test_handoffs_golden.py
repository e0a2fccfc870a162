"""Escalations and reassignments on a hand-built mailbox plus a help desk's history, every number worked out below.

The help desk: help@acme.test, agents at acme.test, reporting in Europe/Berlin (January and February 2026 are
winter time, UTC+1; ISO weeks: Mon 5 Jan starts W02, 12 Jan W03, 19 Jan W04, 26 Jan W05, 2 Feb W06). Tier 2 is
the address tier2@acme.test, the group "Tier 2" and the tag "tier2" (`[escalation]`). All times are Berlin time.

The mail stands in for the conversations; rows written into `ticket_events` and `ticket_tags` stand in for a
help desk's audit history (tag, group and assignee changes) until the connectors exist.

A handled ticket has a human agent reply; it is placed in the period of its first reply and counts as escalated
when it was escalated at any time so far. Reassignments come from its assignee history when it has one, else
they are inferred from the replying agents (docs/decisions.md).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from tests.mailbuilder import conversation, write_mbox

from deskpulse.config import Config, EscalationConfig, parse_config
from deskpulse.ingest import ingest_paths
from deskpulse.metrics.engine import KpiQuery, compute_kpis, fact_tables
from deskpulse.metrics.facts import build_calendar
from deskpulse.schema import TICKET_EVENTS, TICKET_TAGS
from deskpulse.store import Store

CONFIG = parse_config(
    {
        "helpdesk": {
            "support_addresses": ["help@acme.test"],
            "agent_domains": ["acme.test"],
            "timezone": "Europe/Berlin",
        },
        "escalation": {"tags": ["tier2"], "groups": ["Tier 2"], "addresses": ["tier2@acme.test"]},
    }
)
BERLIN = ZoneInfo("Europe/Berlin")

ANA = "Ana Agent <ana@acme.test>"
BEN = "Ben Agent <ben@acme.test>"
TIER2 = "Tier 2 <tier2@acme.test>"
HELP = "help@acme.test"
CARLA = "Carla Customer <carla@example.org>"
BOB = "Bob Buyer <bob@example.com>"
DORA = "Dora Driver <dora@example.net>"
ERIK = "Erik Engineer <erik@example.com>"
FAY = "Fay Farmer <fay@example.org>"
GINA = "Gina Gardener <gina@example.net>"
HUGO = "Hugo Hiker <hugo@example.com>"
IDA = "Ida Islander <ida@example.org>"
JON = "Jon Joiner <jon@example.net>"
KIM = "Kim Keeper <kim@example.com>"


MAILS = [
    # T1, a tag escalation: Carla Mon 5 Jan 09:00 → Ana 09:30. History: tag "billing", then "Tier2" (the tag
    # compared lowercased). Reassignments inferred from the replies: Ana alone, 0.
    *conversation(
        "t1",
        "Refund not received",
        CARLA,
        ("2026-01-05 09:00", CARLA, "Hello,\n\nmy refund has not arrived."),
        ("2026-01-05 09:30", ANA, "Hi Carla,\n\nchecking with finance."),
    ),
    # T2, a group move: Bob Tue 6 Jan 09:00 → Ben 09:30. History: routed to "Billing" (not an escalation group),
    # moved "Billing" → "Tier 2" at 10:00; assigned to Ben at 09:05, a first assignment: 0 reassignments.
    *conversation(
        "t2",
        "Invoice is wrong",
        BOB,
        ("2026-01-06 09:00", BOB, "Hello,\n\nthe invoice total is wrong."),
        ("2026-01-06 09:30", BEN, "Hi Bob,\n\nour billing specialists will look at it."),
    ),
    # T3, a Cc to tier 2: Dora Wed 7 Jan 09:00 → Ana 10:00 to Dora, Cc tier2@acme.test. Inferred: 0.
    *conversation(
        "t3",
        "Cannot log in",
        DORA,
        ("2026-01-07 09:00", DORA, "Hello,\n\nI cannot log in."),
        (
            "2026-01-07 10:00",
            ANA,
            "Hi Dora,\n\nI have asked our tier 2 team.",
            {"To": "dora@example.net", "Cc": "tier2@acme.test"},
        ),
    ),
    # T4, escalated twice: Erik Thu 8 Jan 09:00 → Ben 09:30 → Ben forwards it internally to tier2@acme.test
    # 10:00 → history: group "Billing" → "Tier 2" 10:05. One escalated ticket. Replies by Ben, Ben (the forward is
    # agent mail too): no change of hands, 0.
    *conversation(
        "t4",
        "Data loss",
        ERIK,
        ("2026-01-08 09:00", ERIK, "Hello,\n\nyesterday's records are gone."),
        ("2026-01-08 09:30", BEN, "Hi Erik,\n\nwe are on it."),
        ("2026-01-08 10:00", BEN, "Tier 2, please restore Erik's records.", {"To": "tier2@acme.test"}),
    ),
    # T5, reassigned A → B → A: Fay Fri 9 Jan 09:00 → Ana 09:30 → Ben 11:30. History: assigned to Ana 09:10,
    # Ana → Ben 11:00, Ben → Ana Mon 12 Jan 09:00: 2 recorded. The history wins over the replies (which would
    # infer 1), so none of them is inferred.
    *conversation(
        "t5",
        "Export is slow",
        FAY,
        ("2026-01-09 09:00", FAY, "Hello,\n\nthe export takes hours."),
        ("2026-01-09 09:30", ANA, "Hi Fay,\n\nlooking into it."),
        ("2026-01-09 11:30", BEN, "Hi Fay,\n\nI have taken over from Ana."),
    ),
    # T6, reassigned across an unassignment: Gina Mon 12 Jan 09:00 → Ben 09:20. History: assigned to Ben 09:10,
    # unassigned 10:00, assigned to Ana 11:00: Ben → nobody → Ana is 1. Moved "Billing" → "Sales", no escalation.
    *conversation(
        "t6",
        "Change my address",
        GINA,
        ("2026-01-12 09:00", GINA, "Hello,\n\nI moved; please update my address."),
        ("2026-01-12 09:20", BEN, "Hi Gina,\n\nwhich address should we use?"),
    ),
    # T7, an inferred handoff: Hugo Tue 13 Jan 09:00, Cc tier2@acme.test himself (a customer's Cc is no
    # escalation) → Ana 09:30 → Hugo 10:00 → Ben 11:00. No assignee history; Ana → Ben: 1 inferred.
    *conversation(
        "t7",
        "Two-factor codes",
        HUGO,
        ("2026-01-13 09:00", HUGO, "Hello,\n\nno codes arrive.", {"To": HELP, "Cc": "tier2@acme.test"}),
        ("2026-01-13 09:30", ANA, "Hi Hugo,\n\nis your phone number current?"),
        ("2026-01-13 10:00", HUGO, "Yes, it is the same as always."),
        ("2026-01-13 11:00", BEN, "Hi Hugo,\n\nour SMS provider had an outage; codes flow again."),
    ),
    # T8, escalated but never answered: Ida Wed 14 Jan 09:00, tagged "tier2" 09:05, no reply. Not handled: it
    # counts in neither part of the rate.
    *conversation("t8", "Site is down", IDA, ("2026-01-14 09:00", IDA, "Hello,\n\nyour site is down!")),
    # T10, tier 2 answers itself: Kim Tue 20 Jan 09:00 → Ana 09:30 → tier2@acme.test 11:00 (the ticket reached
    # tier 2 outside this mailbox). Escalated; Ana → Tier 2: 1 inferred.
    *conversation(
        "t10",
        "API returns 500",
        KIM,
        ("2026-01-20 09:00", KIM, "Hello,\n\nevery API call fails with 500."),
        ("2026-01-20 09:30", ANA, "Hi Kim,\n\npassing this on."),
        ("2026-01-20 11:00", TIER2, "Hi Kim,\n\na bad deploy; rolled back."),
    ),
    # T9, created in one month, first answered in the next: Jon Fri 30 Jan 16:00 → Ana Mon 2 Feb 09:00, the
    # store's newest message. Escalated by a tag it holds now (`ticket_tags`), with no event saying when.
    # Placed in February (W06) by its first reply, not in January by its creation. Inferred: 0.
    *conversation(
        "t9",
        "Contract renewal",
        JON,
        ("2026-01-30 16:00", JON, "Hello,\n\nour contract renewal failed."),
        ("2026-02-02 09:00", ANA, "Hi Jon,\n\nthe account team will call you."),
    ),
]

# (subject, local time, kind, old value, new value): the help desk's history.
EVENTS = [
    ("Refund not received", "2026-01-05 09:40", "tag", None, "billing"),
    ("Refund not received", "2026-01-05 10:00", "tag", None, "Tier2"),
    ("Invoice is wrong", "2026-01-06 09:00", "group", None, "Billing"),
    ("Invoice is wrong", "2026-01-06 09:05", "assignee", None, "ben@acme.test"),
    ("Invoice is wrong", "2026-01-06 10:00", "group", "Billing", "Tier 2"),
    ("Data loss", "2026-01-08 10:05", "group", "Billing", "Tier 2"),
    ("Export is slow", "2026-01-09 09:10", "assignee", None, "ana@acme.test"),
    ("Export is slow", "2026-01-09 11:00", "assignee", "ana@acme.test", "ben@acme.test"),
    ("Export is slow", "2026-01-12 09:00", "assignee", "ben@acme.test", "ana@acme.test"),
    ("Change my address", "2026-01-12 09:10", "assignee", None, "ben@acme.test"),
    ("Change my address", "2026-01-12 10:00", "assignee", "ben@acme.test", None),
    ("Change my address", "2026-01-12 11:00", "assignee", None, "ana@acme.test"),
    ("Change my address", "2026-01-12 11:30", "group", "Billing", "Sales"),
    ("Site is down", "2026-01-14 09:05", "tag", None, "tier2"),
]
TAGS = [("Contract renewal", "tier2"), ("Data loss", "vip")]

# Per ticket (first replier, escalated, reassignments, of them inferred):
#   T1 Ana yes 0 0 · T2 Ben yes 0 0 · T3 Ana yes 0 0 · T4 Ben yes 0 0 · T5 Ana no 2 0 · T6 Ben no 1 0
#   T7 Ana no 1 1 · T10 Ana yes 1 1 · T9 Ana yes 0 0 · (T8: not handled, no row)
# Whole store: 9 handled, 6 escalated (T1, T2, T3, T4, T10, T9) → 6/9; reassignments 2 + 1 + 1 + 1 = 5 → 5/9
# per ticket, 2 of them inferred (T7, T10).


def _utc(local: str) -> datetime:
    moment = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=BERLIN)
    return moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def ticket_ids(store: Store) -> dict[str, str]:
    """Subject → ticket_id: ids are hashes of the root message key, so they are read, not written down."""
    tickets = store.table("tickets")
    return {row["subject"]: row["ticket_id"] for row in tickets.select("subject", "ticket_id").to_pyarrow().to_pylist()}


def build_scenario(store: Store, directory: Path) -> Config:
    """The mailbox ingested, then the help desk history written beside it."""
    mbox = write_mbox(directory / "support.mbox", MAILS, "Europe/Berlin")
    ingest_paths(store, CONFIG, [mbox])
    ids = ticket_ids(store)
    events = [
        {
            "event_id": f"helpdesk:{number}",
            "ticket_id": ids[subject],
            "occurred_at": _utc(local),
            "kind": kind,
            "actor": None,
            "old_value": old,
            "new_value": new,
            "inferred": False,
            "source": "helpdesk",
        }
        for number, (subject, local, kind, old, new) in enumerate(EVENTS, start=1)
    ]
    store.insert_new("ticket_events", pa.Table.from_pylist(events, schema=TICKET_EVENTS.arrow_schema()))
    tags = [{"ticket_id": ids[subject], "tag": tag, "source": "helpdesk"} for subject, tag in TAGS]
    store.insert_new("ticket_tags", pa.Table.from_pylist(tags, schema=TICKET_TAGS.arrow_schema()))
    return CONFIG


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    directory = tmp_path_factory.mktemp("handoffs")
    store = Store.open(directory / "deskpulse.duckdb")
    build_scenario(store, directory)
    return store


METRICS = ["escalation_rate", "reassignments"]


def test_every_handled_ticket_has_one_row(store: Store) -> None:
    handoffs = fact_tables(store, build_calendar(store, CONFIG))["handoffs"]
    subjects = {ticket_id: subject for subject, ticket_id in ticket_ids(store).items()}
    rows = {
        subjects[row["ticket_id"]]: (
            row["agent"],
            row["escalated"],
            row["reassignments"],
            row["inferred_reassignments"],
        )
        for row in handoffs.to_pyarrow().to_pylist()
    }
    assert rows == {
        "Refund not received": ("ana@acme.test", True, 0, 0),
        "Invoice is wrong": ("ben@acme.test", True, 0, 0),
        "Cannot log in": ("ana@acme.test", True, 0, 0),
        "Data loss": ("ben@acme.test", True, 0, 0),
        "Export is slow": ("ana@acme.test", False, 2, 0),
        "Change my address": ("ben@acme.test", False, 1, 0),
        "Two-factor codes": ("ana@acme.test", False, 1, 1),
        "API returns 500": ("ana@acme.test", True, 1, 1),
        "Contract renewal": ("ana@acme.test", True, 0, 0),
    }


def test_whole_store(store: Store) -> None:
    [row] = compute_kpis(store, CONFIG, KpiQuery(METRICS, period="all")).rows
    rate = row["escalation_rate"]
    assert (rate["value"], rate["n"]) == (pytest.approx(6 / 9), 9)
    assert row["reassignments"] == {
        "value": pytest.approx(5 / 9),
        "n": 9,
        "reassignments": 5.0,
        "inferred_reassignments": 2.0,
    }


@pytest.mark.parametrize(
    ("escalation", "escalated"),
    [
        # Addresses only: T3 (Cc), T4 (internal forward), T10 (tier 2 wrote): 3 of 9.
        (EscalationConfig(addresses=("tier2@acme.test",)), 3),
        # Tags only: T1 (tag event, "Tier2" lowercased), T9 (tag held now); T8's tag counts not, as nobody
        # answered T8: 2 of 9.
        (EscalationConfig(tags=("tier2",)), 2),
        # Groups only: T2 and T4 moved to "Tier 2" (T6's move to "Sales" is none): 2 of 9.
        (EscalationConfig(groups=("tier 2",)), 2),
    ],
)
def test_each_kind_of_evidence_counts_on_its_own(store: Store, escalation: EscalationConfig, escalated: int) -> None:
    config = replace(CONFIG, escalation=escalation)
    [row] = compute_kpis(store, config, KpiQuery(["escalation_rate"], period="all")).rows
    assert (row["escalation_rate"]["value"], row["escalation_rate"]["n"]) == (pytest.approx(escalated / 9), 9)


def test_no_escalation_config_means_not_measured(store: Store) -> None:
    config = replace(CONFIG, escalation=EscalationConfig())
    [row] = compute_kpis(store, config, KpiQuery(METRICS, period="all")).rows
    # Nothing names an escalation, so no rate (not 0 %); reassignments need no config.
    assert (row["escalation_rate"]["value"], row["escalation_rate"]["n"]) == (None, 0)
    assert row["reassignments"]["n"] == 9


def test_per_agent_the_first_replier(store: Store) -> None:
    rows = {
        row["agent"]: row for row in compute_kpis(store, CONFIG, KpiQuery(METRICS, period="all", by=["agent"])).rows
    }
    ana, ben = rows["ana@acme.test"], rows["ben@acme.test"]
    # Ana answered T1, T3, T5, T7, T10, T9 first; escalated T1, T3, T10, T9: 4 of 6. Reassignments T5 2, T7 1,
    # T10 1 = 4 over 6 tickets, 2 inferred.
    assert (ana["escalation_rate"]["value"], ana["escalation_rate"]["n"]) == (pytest.approx(4 / 6), 6)
    assert ana["reassignments"] == {
        "value": pytest.approx(4 / 6),
        "n": 6,
        "reassignments": 4.0,
        "inferred_reassignments": 2.0,
    }
    # Ben answered T2, T4, T6 first; escalated T2, T4: 2 of 3. Reassignments T6 1 over 3, none inferred.
    assert (ben["escalation_rate"]["value"], ben["escalation_rate"]["n"]) == (pytest.approx(2 / 3), 3)
    assert ben["reassignments"] == {
        "value": pytest.approx(1 / 3),
        "n": 3,
        "reassignments": 1.0,
        "inferred_reassignments": 0.0,
    }


def test_tickets_are_placed_by_their_first_reply(store: Store) -> None:
    query = KpiQuery(["tickets_created", *METRICS], period="week")
    weeks = {row["period"]: row for row in compute_kpis(store, CONFIG, query).rows}
    # Created: W02 T1–T5, W03 T6–T8, W04 T10, W05 T9 (Fri 30 Jan), W06 none.
    created = {week: row["tickets_created"]["value"] for week, row in weeks.items()}
    assert created == {"2026-W02": 5, "2026-W03": 3, "2026-W04": 1, "2026-W05": 1, "2026-W06": None}
    rates = {week: (row["escalation_rate"]["value"], row["escalation_rate"]["n"]) for week, row in weeks.items()}
    # W02: first replies of T1–T5, escalated T1–T4: 4 of 5. W03: T6, T7 (T8 unanswered): 0 of 2. W04: T10, 1 of
    # 1. W05 holds T9's creation (Fri 30 Jan) but no first reply: no population. W06: T9 answered Mon 2 Feb.
    assert rates == {
        "2026-W02": (pytest.approx(4 / 5), 5),
        "2026-W03": (0.0, 2),
        "2026-W04": (1.0, 1),
        "2026-W05": (None, 0),
        "2026-W06": (1.0, 1),
    }
    # Reassignments: W02 T5's 2 over 5 tickets; W03 T6 1 + T7 1 over 2; W04 T10's 1; W06 none.
    means = {week: row["reassignments"]["value"] for week, row in weeks.items()}
    assert means == {"2026-W02": 0.4, "2026-W03": 1.0, "2026-W04": 1.0, "2026-W05": None, "2026-W06": 0.0}
