"""Bottlenecks on a hand-built mailbox whose every figure is worked out below.

The help desk: help@acme.test, agents at acme.test (Ana, Ben), reporting in UTC, resolution after 7 quiet days.
A last ticket on Mon 2 Mar 2026 sets the store's horizon, so every January ticket has had its quiet week and is
resolved at its last agent reply. Categories are written onto the tickets as the categorizer would.

    ticket    category  timeline (January 2026, UTC)                      handle time           replies  wait
    B1        Billing   Carla Mon 5 09:00 → Ana 10:00                     1 h (resolution)      1        1 h
    B2        Billing   Bob Tue 6 09:00 → Ana 11:00 → Bob 12:00 →         7 h (resolution)      2        2+4 h
                        Ben 16:00
    B3        Billing   Dora Wed 7 09:00 → Ana 09:30; 45 min tracked      45 min (tracked)      1        30 min
    L1        Login     Erik Mon 5 09:00 → Ben 13:00; Erik Thu 15 09:00   21 d 1 h (resolution) 3        4+2+1 h
                        → Ana 11:00; Erik Mon 26 09:00 → Ben 10:00
    L2        Login     Fay Tue 6 09:00 → Ana 09:20                       20 min (resolution)   1        20 min
    S1        Shipping  Gina Thu 8 09:00 → Ben 10:00 → Ana 10:30          1 h 30 (resolution)   2        1 h
    S2        Shipping  Hugo Mon 2 Mar 09:00 → Ben 09:15: still open      – (none)              1        15 min

Reassignments: B2 1, L1 2, S1 1, the others 0. Reopens: L1 2, the others 0.
L1 is a reopen loop: each of Erik's later messages comes more than 7 quiet days after the last reply, when the
ticket counted as resolved, and reopens it; it is resolved for good at Ben's reply of 26 January, 21 days and
1 hour after it was created. Reassignments are inferred from the replying agents (no assignee history): B2
Ana → Ben, L1 Ben → Ana → Ben, S1 Ben → Ana.

Per category (handle time and customer wait: median; the counts: mean):

    category  handle time                 replies   customer wait              reassignments  reopens
    Billing   median(1h, 7h, 45m) = 1 h   4/3       median(1h, 6h, 30m) = 1 h  1/3            0
    Login     (21d 1h + 20m)/2 = 909,600 s  2       (7h + 20m)/2 = 13,200 s    1              1
    Shipping  1 h 30 (S2 has none)        3/2       (1h + 15m)/2 = 2,250 s     1/2            0

The median category: handle time median(3,600, 909,600, 5,400) = 5,400 s; replies median(4/3, 2, 3/2) = 3/2;
customer wait median(3,600, 13,200, 2,250) = 3,600 s; reassignments median(1/3, 1, 1/2) = 1/2; reopens
median(0, 1, 0) = 0, so no ratio for reopens.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from tests.mailbuilder import conversation, write_mbox
from typer.testing import CliRunner

from deskpulse.cli import app
from deskpulse.columns import rows_table
from deskpulse.config import parse_config
from deskpulse.ingest import ingest_paths
from deskpulse.insight.bottlenecks import BottleneckOptions, find_bottlenecks
from deskpulse.schema import TIME_ENTRIES
from deskpulse.store import Store

CONFIG = parse_config({"helpdesk": {"support_addresses": ["help@acme.test"], "agent_domains": ["acme.test"]}})
ANA = "Ana Agent <ana@acme.test>"
BEN = "Ben Agent <ben@acme.test>"
CARLA = "Carla Customer <carla@example.org>"
BOB = "Bob Buyer <bob@example.com>"
DORA = "Dora Driver <dora@example.net>"
ERIK = "Erik Engineer <erik@example.com>"
FAY = "Fay Farmer <fay@example.org>"
GINA = "Gina Gardener <gina@example.net>"
HUGO = "Hugo Hiker <hugo@example.com>"

MAILS = [
    *conversation(
        "b1",
        "Refund missing",
        CARLA,
        ("2026-01-05 09:00", CARLA, "Hello,\n\nmy refund has not arrived."),
        ("2026-01-05 10:00", ANA, "Hi Carla,\n\nit is on its way."),
    ),
    *conversation(
        "b2",
        "Invoice wrong",
        BOB,
        ("2026-01-06 09:00", BOB, "Hello,\n\nthe invoice total is wrong."),
        ("2026-01-06 11:00", ANA, "Hi Bob,\n\nwhich line is wrong?"),
        ("2026-01-06 12:00", BOB, "The VAT line is missing."),
        ("2026-01-06 16:00", BEN, "Hi Bob,\n\nhere is a corrected invoice."),
    ),
    *conversation(
        "b3",
        "Charged twice",
        DORA,
        ("2026-01-07 09:00", DORA, "Hello,\n\nyou charged my card twice."),
        ("2026-01-07 09:30", ANA, "Hi Dora,\n\nwe refunded the second charge."),
    ),
    *conversation(
        "l1",
        "Cannot log in",
        ERIK,
        ("2026-01-05 09:00", ERIK, "Hello,\n\nI cannot log in."),
        ("2026-01-05 13:00", BEN, "Hi Erik,\n\nplease reset your password."),
        ("2026-01-15 09:00", ERIK, "The login fails again since this morning."),
        ("2026-01-15 11:00", ANA, "Hi Erik,\n\nwe cleared your session."),
        ("2026-01-26 09:00", ERIK, "It is broken again, I cannot get in."),
        ("2026-01-26 10:00", BEN, "Hi Erik,\n\nyour account had a stale lock; removed."),
    ),
    *conversation(
        "l2",
        "Password reset",
        FAY,
        ("2026-01-06 09:00", FAY, "Hello,\n\nhow do I reset my password?"),
        ("2026-01-06 09:20", ANA, "Hi Fay,\n\nuse the link on the login page."),
    ),
    *conversation(
        "s1",
        "Parcel late",
        GINA,
        ("2026-01-08 09:00", GINA, "Hello,\n\nmy parcel is late."),
        ("2026-01-08 10:00", BEN, "Hi Gina,\n\nchecking with the courier."),
        ("2026-01-08 10:30", ANA, "Hi Gina,\n\nit arrives tomorrow."),
    ),
    *conversation(
        "s2",
        "Wrong address",
        HUGO,
        ("2026-03-02 09:00", HUGO, "Hello,\n\nI gave the wrong address."),
        ("2026-03-02 09:15", BEN, "Hi Hugo,\n\nwhat is the right one?"),
    ),
]
CATEGORIES = {
    "Refund missing": "Billing",
    "Invoice wrong": "Billing",
    "Charged twice": "Billing",
    "Cannot log in": "Login",
    "Password reset": "Login",
    "Parcel late": "Shipping",
    "Wrong address": "Shipping",
}
HOUR = 3600.0


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("bottlenecks")
    path = directory / "deskpulse.duckdb"
    with Store.open(path) as store:
        ingest_paths(store, CONFIG, [write_mbox(directory / "support.mbox", MAILS)])
        for subject, category in CATEGORIES.items():
            store.execute("UPDATE tickets SET category = ? WHERE subject = ?", [category, subject])
        [(charged_twice,)] = store.execute("SELECT ticket_id FROM tickets WHERE subject = 'Charged twice'")
        entry = {c.name: None for c in TIME_ENTRIES.columns}
        entry.update(
            entry_id="e1", ticket_id=charged_twice, agent="ana@acme.test", started_at=datetime(2026, 1, 7, 9, 5),
            seconds=2700, billable=False, source="test",
        )  # fmt: skip
        store.insert_new("time_entries", rows_table(TIME_ENTRIES, [entry]))
    return path


def ids(store: Store) -> dict[str, str]:
    """Subject → ticket_id (ids are hashes of the root message, so they are read, not written down)."""
    return {subject: ticket_id for ticket_id, subject in store.execute("SELECT ticket_id, subject FROM tickets")}


def test_each_category_against_the_median_category(db: Path) -> None:
    with Store.open(db, read_only=True) as store:
        report = find_bottlenecks(store, CONFIG, BottleneckOptions(min_tickets=1))
        tickets = ids(store)
    assert report.medians == {
        "handle_time": pytest.approx(1.5 * HOUR),
        "replies": pytest.approx(1.5),
        "customer_wait": pytest.approx(HOUR),
        "reassignments": pytest.approx(0.5),
        "reopens": 0.0,
    }
    figures = {c.category: {m: (f.value, f.n, f.ratio) for m, f in c.figures.items()} for c in report.categories}
    login_handle = (21 * 24 * HOUR + HOUR + 20 * 60) / 2  # 909,600 s
    assert figures["Login"] == {
        "handle_time": (pytest.approx(login_handle), 2, pytest.approx(login_handle / 5400)),
        "replies": (pytest.approx(2.0), 2, pytest.approx(2 / 1.5)),
        "customer_wait": (pytest.approx(13_200), 2, pytest.approx(13_200 / 3600)),
        "reassignments": (pytest.approx(1.0), 2, pytest.approx(2.0)),
        "reopens": (pytest.approx(1.0), 2, None),  # the median category never reopens: no ratio
    }
    assert figures["Billing"] == {
        "handle_time": (pytest.approx(HOUR), 3, pytest.approx(3600 / 5400)),
        "replies": (pytest.approx(4 / 3), 3, pytest.approx((4 / 3) / 1.5)),
        "customer_wait": (pytest.approx(HOUR), 3, pytest.approx(1.0)),
        "reassignments": (pytest.approx(1 / 3), 3, pytest.approx((1 / 3) / 0.5)),
        "reopens": (0.0, 3, None),
    }
    # Shipping: S2 is open without tracked time, so handle time has one ticket; the rest have both.
    assert figures["Shipping"] == {
        "handle_time": (pytest.approx(1.5 * HOUR), 1, pytest.approx(1.0)),
        "replies": (pytest.approx(1.5), 2, pytest.approx(1.0)),
        "customer_wait": (pytest.approx(2250), 2, pytest.approx(2250 / 3600)),
        "reassignments": (pytest.approx(0.5), 2, pytest.approx(1.0)),
        "reopens": (0.0, 2, None),
    }
    # Worst ratio first: Login (handle time 168× the median category's); Billing and Shipping are at most at
    # the median (1.0×), the one with more tickets first.
    assert [c.category for c in report.categories] == ["Login", "Billing", "Shipping"]
    login = report.categories[0]
    assert login.reopen_loops == 1
    assert login.figures["handle_time"].ticket_ids == [tickets["Cannot log in"], tickets["Password reset"]]
    assert login.figures["reopens"].ticket_ids == [tickets["Cannot log in"]]


def test_the_worst_tickets_per_measure(db: Path) -> None:
    with Store.open(db, read_only=True) as store:
        report = find_bottlenecks(store, CONFIG, BottleneckOptions(min_tickets=1, limit=10))
        subjects = {ticket_id: subject for subject, ticket_id in ids(store).items()}
    handle = [(subjects[t.ticket_id], t.value, t.source) for t in report.top_tickets["handle_time"]]
    # B3's 45 tracked minutes stand, not its 30 minutes to resolution; S2, open and untracked, has no handle time.
    assert handle == [
        ("Cannot log in", pytest.approx(21 * 24 * HOUR + HOUR), "resolution"),
        ("Invoice wrong", pytest.approx(7 * HOUR), "resolution"),
        ("Parcel late", pytest.approx(1.5 * HOUR), "resolution"),
        ("Refund missing", pytest.approx(HOUR), "resolution"),
        ("Charged twice", pytest.approx(2700.0), "tracked"),
        ("Password reset", pytest.approx(20 * 60), "resolution"),
    ]
    # Ties (B1 and S1 both waited an hour; B2 and S1 were both reassigned once) are in ticket id order.
    waits = [(subjects[t.ticket_id], t.value) for t in report.top_tickets["customer_wait"]]
    assert waits[:2] == [("Cannot log in", 7 * HOUR), ("Invoice wrong", 6 * HOUR)]
    assert sorted(waits[2:4]) == [("Parcel late", HOUR), ("Refund missing", HOUR)]
    reassigned = [(subjects[t.ticket_id], t.value) for t in report.top_tickets["reassignments"]]
    assert reassigned[0] == ("Cannot log in", 2.0)
    assert sorted(reassigned[1:]) == [("Invoice wrong", 1.0), ("Parcel late", 1.0)]  # only tickets above 0
    assert [subjects[t.ticket_id] for t in report.top_tickets["reopens"]] == ["Cannot log in"]


def test_categories_below_the_minimum_are_not_compared(db: Path) -> None:
    with Store.open(db, read_only=True) as store:
        report = find_bottlenecks(store, CONFIG, BottleneckOptions(min_tickets=3))
    # Only Billing has 3 tickets with a handle time (and with replies): the median category is Billing itself.
    assert report.medians["handle_time"] == pytest.approx(HOUR)
    ratios = {c.category: c.figures["handle_time"].ratio for c in report.categories}
    assert ratios == {"Billing": pytest.approx(1.0), "Login": None, "Shipping": None}


def test_the_command_prints_json(db: Path, tmp_path: Path) -> None:
    config = tmp_path / "deskpulse.toml"
    config.write_text('[helpdesk]\nsupport_addresses = ["help@acme.test"]\nagent_domains = ["acme.test"]\n')
    arguments = ["--config", str(config), "--db", str(db), "bottlenecks", "--min-tickets", "1", "--format", "json"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    login = next(c for c in payload["categories"] if c["category"] == "Login")
    assert login["tickets"] == 2 and login["reopen_loops"] == 1
    assert login["customer_wait"]["ratio_to_median"] == pytest.approx(13_200 / 3600)


def test_the_web_filters_narrow_the_tickets(db: Path) -> None:
    # Assignee = the agent of the latest reply: Ana has B1, B3, L2 and S1; Ben has B2, L1 and S2.
    with Store.open(db, read_only=True) as store:
        ana = find_bottlenecks(
            store, CONFIG, BottleneckOptions(min_tickets=1, ticket_filters=(("agent", ("ana@acme.test",)),))
        )
        billing = find_bottlenecks(
            store, CONFIG, BottleneckOptions(min_tickets=1, ticket_filters=(("category", ("Billing",)),))
        )
    assert {c.category: c.tickets for c in ana.categories} == {"Billing": 2, "Login": 1, "Shipping": 1}
    ana_billing = next(c for c in ana.categories if c.category == "Billing")
    assert ana_billing.figures["handle_time"].value == pytest.approx((HOUR + 45 * 60) / 2)  # median(1 h, 45 min)
    assert [(c.category, c.tickets) for c in billing.categories] == [("Billing", 3)]
