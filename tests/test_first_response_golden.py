"""First response time on a hand-built mailbox, every number computed by hand below.

The help desk: help@acme.test, agents at acme.test, reporting and business hours in Europe/Berlin,
Mon–Fri 09:00–17:00. January 2026 is winter time (UTC+1). All times below are Berlin local time.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.mailbuilder import Mail, write_mbox

from deskpulse.config import parse_config
from deskpulse.ingest import ingest_paths
from deskpulse.metrics.engine import KpiQuery, compute_kpis
from deskpulse.metrics.facts import build_calendar, list_tickets
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

CUSTOMER_A = "Carla Customer <carla@example.org>"
CUSTOMER_B = "Bob Buyer <bob@example.com>"
ANA = "Ana Agent <ana@acme.test>"
BEN = "Ben Agent <ben@acme.test>"
HELP = "help@acme.test"

MAILS = [
    # Ticket 1, over a weekend. Fri 16:00 → auto-ack 16:00 (automation: does not stop the clock) → Ana Mon 10:00.
    # calendar: Fri 16:00 → Mon 10:00 = 2 d 18 h = 237,600 s; business: Fri 16–17 + Mon 09–10 = 7,200 s.
    Mail(CUSTOMER_A, HELP, "Cannot log in", "2026-01-09 16:00", message_id="t1-1@example.org"),
    Mail(
        HELP,
        "carla@example.org",
        "[Acme] We received your request: Cannot log in",
        "2026-01-09 16:00",
        message_id="t1-ack@acme.test",
        in_reply_to="t1-1@example.org",
        references=["t1-1@example.org"],
        extra_headers={"Auto-Submitted": "auto-replied"},
    ),
    Mail(
        ANA,
        "carla@example.org",
        "Re: Cannot log in",
        "2026-01-12 10:00",
        message_id="t1-2@acme.test",
        in_reply_to="t1-1@example.org",
        references=["t1-1@example.org"],
    ),
    # Ticket 2, never answered: open, counted as unreplied and as `open` for first response time.
    Mail(CUSTOMER_B, HELP, "Where is my parcel?", "2026-01-13 09:30", message_id="t2-1@example.com"),
    # Ticket 3, proactive (an agent wrote first): counted as created, left out of first response time.
    Mail(BEN, "bob@example.com", "Your order is delayed", "2026-01-14 11:00", message_id="t3-1@acme.test"),
    Mail(
        CUSTOMER_B,
        HELP,
        "Re: Your order is delayed",
        "2026-01-14 11:30",
        message_id="t3-2@example.com",
        in_reply_to="t3-1@acme.test",
        references=["t3-1@acme.test"],
    ),
    Mail(
        BEN,
        "bob@example.com",
        "Re: Your order is delayed",
        "2026-01-14 12:00",
        message_id="t3-3@acme.test",
        in_reply_to="t3-2@example.com",
        references=["t3-1@acme.test", "t3-2@example.com"],
    ),
    # Ticket 4: Ben's client dropped In-Reply-To and References; the subject and the customer join the reply
    # to the ticket. Wed 14:00 → 15:30 = 5,400 s, all of it inside business hours.
    Mail(CUSTOMER_A, HELP, "Invoice is wrong", "2026-01-14 14:00", message_id="t4-1@example.org"),
    Mail(BEN, "carla@example.org", "Re: Invoice is wrong", "2026-01-14 15:30", message_id="t4-2@acme.test"),
    # Ticket 5: the sender's Date: says 08:00, the help desk received it at 09:10 (spec §1.2: received wins).
    # 09:10 → Ana 09:40 = 1,800 s calendar and business.
    Mail(
        CUSTOMER_B,
        HELP,
        "Refund please",
        "2026-01-15 09:10",
        date_header="2026-01-15 08:00",
        message_id="t5-1@example.com",
    ),
    Mail(
        ANA,
        "bob@example.com",
        "Re: Refund please",
        "2026-01-15 09:40",
        message_id="t5-2@acme.test",
        in_reply_to="t5-1@example.com",
        references=["t5-1@example.com"],
    ),
    # Ticket 6, overnight. Thu 22:00 → Ana Fri 09:15: calendar 11 h 15 m = 40,500 s; business 09:00–09:15 = 900 s.
    Mail(CUSTOMER_A, HELP, "App crashes on start", "2026-01-15 22:00", message_id="t6-1@example.org"),
    Mail(
        ANA,
        "carla@example.org",
        "Re: App crashes on start",
        "2026-01-16 09:15",
        message_id="t6-2@acme.test",
        in_reply_to="t6-1@example.org",
        references=["t6-1@example.org"],
    ),
    # A newsletter: automation only, so not a ticket anyone has to answer.
    Mail(
        "News <news@vendor.example>",
        HELP,
        "Our January offers",
        "2026-01-13 07:00",
        message_id="n1@vendor.example",
        extra_headers={"Precedence": "bulk"},
    ),
]

# Replied, non-proactive tickets: 1, 4, 5, 6.
# Calendar seconds sorted: 1,800 (t5), 5,400 (t4), 40,500 (t6), 237,600 (t1).
#   median = (5,400 + 40,500) / 2 = 22,950
#   p90 (linear interpolation, position 0.9 × (4 − 1) = 2.7) = 40,500 + 0.7 × (237,600 − 40,500) = 178,470
#   mean = (1,800 + 5,400 + 40,500 + 237,600) / 4 = 71,325
# Business seconds sorted: 900 (t6), 1,800 (t5), 5,400 (t4), 7,200 (t1).
#   median = (1,800 + 5,400) / 2 = 3,600; p90 = 5,400 + 0.7 × 1,800 = 6,660; mean = 15,300 / 4 = 3,825


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    mbox = write_mbox(tmp_path / "support.mbox", MAILS, "Europe/Berlin")
    store = Store.open(tmp_path / "deskpulse.duckdb")
    ingest_paths(store, CONFIG, [mbox])
    return store


METRICS = ["tickets_created", "unreplied_tickets", "first_response_time", "first_response_time_business"]


def test_whole_mailbox(store: Store) -> None:
    result = compute_kpis(store, CONFIG, KpiQuery(METRICS, period="all"))
    assert result.group_by == []
    [row] = result.rows
    assert row["tickets_created"] == {"value": 6, "n": 6}
    assert row["unreplied_tickets"]["value"] == 1
    assert row["first_response_time"] == {
        "value": 22950.0,
        "median": 22950.0,
        "p90": pytest.approx(178470.0),
        "mean": 71325.0,
        "n": 4,
        "open": 1,
    }
    assert row["first_response_time_business"] == {
        "value": 3600.0,
        "median": 3600.0,
        "p90": pytest.approx(6660.0),
        "mean": 3825.0,
        "n": 4,
        "open": 1,
    }


def test_first_response_is_credited_to_the_agent_who_replied_first(store: Store) -> None:
    result = compute_kpis(store, CONFIG, KpiQuery(METRICS, period="all", by=["agent"]))
    rows = {row["agent"]: row for row in result.rows}
    # Ana answered tickets 1, 5 and 6: 1,800 / 40,500 / 237,600 s → median 40,500.
    assert rows["ana@acme.test"]["first_response_time"]["median"] == 40500.0
    assert rows["ana@acme.test"]["first_response_time"]["n"] == 3
    assert rows["ana@acme.test"]["tickets_created"]["value"] == 3
    # Ben replied first on tickets 3 (proactive: no response time) and 4 (5,400 s).
    assert rows["ben@acme.test"]["first_response_time"]["n"] == 1
    assert rows["ben@acme.test"]["first_response_time"]["median"] == 5400.0
    assert rows["ben@acme.test"]["tickets_created"]["value"] == 2
    # Ticket 2 has no agent yet.
    assert rows[None]["tickets_created"]["value"] == 1
    assert rows[None]["first_response_time"]["open"] == 1


def test_weeks_are_local_and_response_times_belong_to_the_reply_week(store: Store) -> None:
    result = compute_kpis(store, CONFIG, KpiQuery(METRICS, period="week"))
    rows = {row["period"]: row for row in result.rows}
    assert sorted(rows) == ["2026-W02", "2026-W03"]
    # Ticket 1 was created on Friday of week 2 and answered on Monday of week 3.
    assert rows["2026-W02"]["tickets_created"]["value"] == 1
    assert rows["2026-W02"]["first_response_time"]["n"] == 0
    assert rows["2026-W03"]["tickets_created"]["value"] == 5
    assert rows["2026-W03"]["first_response_time"]["n"] == 4


def test_since_until_filter_by_local_day(store: Store) -> None:
    from datetime import date

    result = compute_kpis(
        store, CONFIG, KpiQuery(METRICS, period="all", since=date(2026, 1, 14), until=date(2026, 1, 14))
    )
    [row] = result.rows
    # Created on Wed 14 Jan: tickets 3 and 4; replied that day: ticket 4 only (5,400 s).
    assert row["tickets_created"]["value"] == 2
    assert row["first_response_time"]["n"] == 1
    assert row["first_response_time"]["median"] == 5400.0


def test_ticket_rows_carry_the_derived_timestamps(store: Store) -> None:
    records = list_tickets(store, build_calendar(store, CONFIG), sort="first_response_time", descending=True)
    by_subject = {r["subject"]: r for r in records}
    assert len(records) == 6  # the newsletter is not a ticket anyone counts
    weekend = by_subject["Cannot log in"]
    assert weekend["first_response_time"] == 237600.0
    assert weekend["first_response_time_business"] == 7200.0
    assert weekend["first_reply_agent"] == "ana@acme.test"
    assert weekend["automated_messages"] == 1
    assert by_subject["Invoice is wrong"]["replies"] == 1  # joined by subject
    assert by_subject["Your order is delayed"]["is_proactive"] is True
    assert by_subject["Your order is delayed"]["first_response_time"] is None
    assert records[0]["subject"] == "Cannot log in"  # the longest wait sorts first


def test_no_business_hours_gives_null_not_zero(tmp_path: Path) -> None:
    config = parse_config({"helpdesk": {"support_addresses": [HELP], "agent_domains": ["acme.test"]}})
    mbox = write_mbox(tmp_path / "m.mbox", MAILS[:3])
    with Store.open(tmp_path / "s.duckdb") as store:
        ingest_paths(store, config, [mbox])
        [row] = compute_kpis(store, config, KpiQuery(METRICS, period="all")).rows
    assert row["first_response_time"]["n"] == 1
    assert row["first_response_time_business"]["value"] is None
    assert row["first_response_time_business"]["n"] == 0


def test_an_agents_forward_to_the_team_is_an_internal_note_not_a_reply(tmp_path: Path) -> None:
    # Mon 5 Jan, Berlin. Carla writes at 10:00; at 10:05 Ana forwards it to tier 2 (only staff addressed): an
    # internal note, which stops no clock; at 11:00 Ben answers Carla: the first response is 1 h = 3,600 s.
    mails = [
        Mail("Carla <carla@example.org>", "help@acme.test", "Broken", "2026-01-05 10:00", message_id="n1@x"),
        Mail(
            "Ana <ana@acme.test>",
            "tier2@acme.test",
            "Fwd: Broken",
            "2026-01-05 10:05",
            message_id="n2@x",
            in_reply_to="n1@x",
            references=["n1@x"],
        ),
        Mail(
            "Ben <ben@acme.test>",
            "carla@example.org",
            "Re: Broken",
            "2026-01-05 11:00",
            message_id="n3@x",
            in_reply_to="n1@x",
            references=["n1@x"],
        ),
    ]
    with Store.open(tmp_path / "deskpulse.duckdb") as store:
        ingest_paths(store, CONFIG, [write_mbox(tmp_path / "notes.mbox", mails, "Europe/Berlin")])
        public = dict(store.execute("SELECT message_id, is_public FROM messages"))
        assert public == {"n1@x": True, "n2@x": False, "n3@x": True}
        [ticket] = list_tickets(store, build_calendar(store, CONFIG))
        assert (ticket["first_response_time"], ticket["first_reply_agent"], ticket["replies"]) == (
            3600,
            "ben@acme.test",
            1,
        )
