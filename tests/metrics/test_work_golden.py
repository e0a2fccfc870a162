"""Handle time, occupancy, utilization and cost on a hand-built week, every number worked out below.

The help desk: help@acme.test, agents at acme.test, reporting and business hours in Europe/Berlin (January and
February 2026 are winter time, UTC+1; ISO week W05 runs Mon 26 Jan – Sun 1 Feb, W06 from Mon 2 Feb). Fri 30 Jan
is a company holiday (`extra_holidays`). `[resolution] inactivity_days = 1`: a ticket is resolved at the last
agent reply no customer message follows within a day. All times are Berlin time.

The store's mail runs from Thu 29 Jan 10:00 to Wed 4 Feb 11:00 (the horizon), so work and cost count on the
seven local days 29 Jan – 4 Feb: three in January, four in February.

Teams (agents.csv): Ana and Ben in "Tier 1", Cem in "Tier 2". Cem writes no mail; Ben has no schedule.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from tests.mailbuilder import conversation, write_mbox

from deskpulse.config import Config, parse_config, resolve_files
from deskpulse.ingest import ingest_paths
from deskpulse.inputs.time_entries import load_time_entries
from deskpulse.metrics.engine import KpiQuery, compute_kpis, fact_tables
from deskpulse.metrics.facts import build_calendar
from deskpulse.store import Store
from deskpulse.tickets import ticket_id_for

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
            "extra_holidays": ["2026-01-30"],
        },
        "resolution": {"inactivity_days": 1},
        "files": {"agents": "agents.csv", "schedules": "schedules.csv", "costs": "costs.csv"},
    }
)
WORK_METRICS = ["handle_time", "occupancy", "utilization", "cost_per_ticket", "cost_per_resolution"]

ANA = "Ana Agent <ana@acme.test>"
BEN = "Ben Agent <ben@acme.test>"
HELP = "help@acme.test"
CARLA = "Carla Customer <carla@example.org>"
BOB = "Bob Buyer <bob@example.com>"
DORA = "Dora Driver <dora@example.net>"
ERIK = "Erik Engineer <erik@example.com>"


MAILS = [
    # T1, created Thu 29 Jan; resolved at Ana's 11:00 reply (Carla is quiet for 25 h), reopened Fri 12:00 and
    # resolved again at Ana's 14:00 reply: two resolutions in January, one ticket resolved.
    *conversation(
        "t1",
        "Login fails",
        CARLA,
        ("2026-01-29 10:00", CARLA, "Hello,\n\nI cannot log in."),
        ("2026-01-29 11:00", ANA, "Hi Carla,\n\nplease reset your password."),
        ("2026-01-30 12:00", CARLA, "It is broken again since this morning."),
        ("2026-01-30 14:00", ANA, "Hi Carla,\n\nyour account was locked; unlocked now."),
    ),
    # T2, created Mon 2 Feb, resolved at Ben's reply.
    *conversation(
        "t2",
        "Export",
        BOB,
        ("2026-02-02 09:00", BOB, "Hello,\n\nthe export fails."),
        ("2026-02-02 09:30", BEN, "Hi Bob,\n\nfixed, please try again."),
    ),
    # T3, created Tue 3 Feb, resolved at Ana's 10:30 reply (24 h 30 min before the horizon).
    *conversation(
        "t3",
        "Invoice",
        DORA,
        ("2026-02-03 10:00", DORA, "Hello,\n\nmy invoice is wrong."),
        ("2026-02-03 10:30", ANA, "Hi Dora,\n\ncorrected."),
    ),
    # T4, created Wed 4 Feb, answered at the horizon: not resolved yet.
    *conversation(
        "t4",
        "Upgrade",
        ERIK,
        ("2026-02-04 09:00", ERIK, "Hello,\n\nplease upgrade our plan."),
        ("2026-02-04 11:00", ANA, "Hi Erik,\n\nwill do today."),
    ),
]
T1, T2, T3, T4 = (ticket_id_for(f"t{n}-1@example.{tld}") for n, tld in ((1, "org"), (2, "com"), (3, "net"), (4, "com")))

AGENTS_CSV = "address,name,team\nana@acme.test,Ana,Tier 1\nben@acme.test,Ben,Tier 1\ncem@acme.test,Cem,Tier 2\n"

# Ana: 8 h Mon–Fri, 75 % of it available for tickets; from Tue 3 Feb 4 h, all of it available. Cem: 8 h Mon–Fri,
# half available. Saturday and Sunday are empty: days with no paid hours.
SCHEDULES_CSV = """agent,valid_from,mon,tue,wed,thu,fri,sat,sun,available_share
ana@acme.test,2026-01-01,8,8,8,8,8,,,0.75
cem@acme.test,2026-01-26,8,8,8,8,8,,,0.5
ana@acme.test,2026-02-03,4,4,4,4,4,,,
"""

# January 3,100 over 31 days = 100 a day; February 4,200 over 28 days = 150 a day. December is outside the store.
COSTS_CSV = """month,category,amount
2026-01,staff,2480
2026-01,tools,620
2026-02,staff,3500
2026-02,training,700
2025-12,staff,9999
"""

# Time entries, local time unless an offset says otherwise:
#   e1  T1 Ana Thu 29 Jan 11:00, 30 min = 1,800 s
#   e2  T1 Ana Fri 30 Jan 13:30 (+01:00), 3,600 s — on the holiday
#   e3  T1 Ana Sat 31 Jan 10:00, 30 min = 1,800 s — on a day with no paid hours
#   e4  T1 Ana Mon 2 Feb 08:00Z = 09:00, 1,200 s — a ticket created in January, worked on in February
#   e5  T2 Ben Mon 2 Feb 09:15, 15 min = 900 s — the ticket named by its first message's Message-ID
#   e6  T3 Ana Tue 3 Feb 10:15, 30 min = 1,800 s
#   e7  T3 Ben Tue 3 Feb 11:00, 1,800 s — T3 is shared by Ana and Ben
#   e8  T3 Ana Wed 4 Feb 09:00, 10 min = 600 s
#   e9  ?? Ben Wed 4 Feb 10:00, 600 s — a message the store does not know: a ticket of its own
#   e10 T4 Cem Wed 4 Feb 09:30, 0 s — tracks no time: left out
#   e11 T4 Ana Fri 6 Feb 10:00, 3,600 s — after the store's last day: left out
TIME_ENTRIES_CSV = f"""entry_id,ticket_id,message_id,agent,started_at,seconds,minutes
e1,{T1},,ana@acme.test,2026-01-29 11:00,,30
e2,{T1},,ana@acme.test,2026-01-30T13:30:00+01:00,3600,
e3,{T1},,Ana@Acme.test,2026-01-31 10:00,,30
,{T1},,ana@acme.test,2026-02-02T08:00:00Z,1200,
,,<t2-1@example.com>,ben@acme.test,2026-02-02 09:15,,15
e6,{T3},,ana@acme.test,2026-02-03 10:15,,30
e7,{T3},,ben@acme.test,2026-02-03 11:00,1800,
e8,{T3},,ana@acme.test,2026-02-04 09:00,,10
e9,,lost@example.net,ben@acme.test,2026-02-04 10:00,600,
e10,{T4},,cem@acme.test,2026-02-04 09:30,0,
e11,{T4},,ana@acme.test,2026-02-06 10:00,3600,
"""


def build_scenario(store: Store, directory: Path) -> Config:
    """The mailbox ingested, the time entries loaded, agents, schedules and costs written beside them."""
    for name, text in (
        ("agents.csv", AGENTS_CSV),
        ("schedules.csv", SCHEDULES_CSV),
        ("costs.csv", COSTS_CSV),
        ("time_entries.csv", TIME_ENTRIES_CSV),
    ):
        (directory / name).write_text(text, encoding="utf-8")
    config = resolve_files(replace(CONFIG, source=directory / "deskpulse.toml"))
    ingest_paths(store, config, [write_mbox(directory / "support.mbox", MAILS, "Europe/Berlin")])
    load_time_entries(store, directory / "time_entries.csv", "Europe/Berlin")
    return config


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Any:
    directory = tmp_path_factory.mktemp("work")
    with Store.open(directory / "deskpulse.duckdb") as store:
        yield store, build_scenario(store, directory)


def rows_by(scenario: Any, period: str, by: list[str] | None = None, metrics: list[str] | None = None) -> Any:
    store, config = scenario
    query = KpiQuery(metrics or WORK_METRICS, period=period, by=by or [])
    rows = compute_kpis(store, config, query).rows
    return {tuple(row[key] for key in ["period", *(by or [])] if key in row): row for row in rows}


def test_loading_the_file_again_adds_nothing(scenario: Any, tmp_path: Path) -> None:
    store, _ = scenario
    path = tmp_path / "again.csv"
    path.write_text(TIME_ENTRIES_CSV, encoding="utf-8")
    # The same lines from another file: e1…e11 by their ids, the two lines without one by their content.
    assert load_time_entries(store, path, "Europe/Berlin") == 0
    assert store.count("time_entries") == 11


def test_handle_time_counts_each_ticket_once_per_month(scenario: Any) -> None:
    rows = rows_by(scenario, "month")
    # January: e1 + e2 + e3 = 7,200 s on T1, one ticket.
    assert rows["2026-01",]["handle_time"] == {"value": 7200.0, "n": 3, "seconds": 7200.0, "tickets": 1.0}
    # February: e4 1,200 (T1, a January ticket: it counts in February too, with February's seconds) + e5 900
    # (T2) + e6 1,800 + e7 1,800 + e8 600 (T3) + e9 600 (the unknown message) = 6,900 s on 4 tickets = 1,725 s.
    # e10 tracked nothing and e11 lies after the store's last day.
    assert rows["2026-02",]["handle_time"] == {"value": 1725.0, "n": 6, "seconds": 6900.0, "tickets": 4.0}


def test_handle_time_over_weeks_days_and_all(scenario: Any) -> None:
    weeks = rows_by(scenario, "week", metrics=["handle_time"])
    assert weeks["2026-W05",]["handle_time"]["value"] == 7200.0  # e1–e3, as January
    assert weeks["2026-W06",]["handle_time"]["value"] == 1725.0  # as February
    days = rows_by(scenario, "day", metrics=["handle_time"])
    # Tue 3 Feb: e6 (Ana) and e7 (Ben) on T3: 3,600 s on one ticket. Wed 4 Feb: e8 on T3, e9 on the unknown one.
    assert days["2026-02-03",]["handle_time"]["value"] == 3600.0
    assert days["2026-02-04",]["handle_time"]["value"] == 600.0
    # All: 7,200 + 6,900 = 14,100 s on T1, T2, T3 and the unknown ticket = 3,525 s.
    [row] = rows_by(scenario, "all", metrics=["handle_time"]).values()
    assert row["handle_time"] == {"value": 3525.0, "n": 9, "seconds": 14100.0, "tickets": 4.0}


def test_handle_time_per_agent_shares_a_ticket_its_agents_worked_on(scenario: Any) -> None:
    rows = rows_by(scenario, "month", ["agent"], ["handle_time"])
    # February: Ana e4 1,200 (T1) + e6 1,800 + e8 600 (T3) = 3,600 s on T1 and half of T3 = 2,400 s.
    # Ben e5 900 (T2) + e7 1,800 (T3) + e9 600 = 3,300 s on T2, half of T3 and the unknown ticket = 1,320 s.
    # Together 6,900 s on 4 tickets, as the team.
    ana, ben = rows["2026-02", "ana@acme.test"]["handle_time"], rows["2026-02", "ben@acme.test"]["handle_time"]
    assert ana == {"value": 2400.0, "n": 3, "seconds": 3600.0, "tickets": 1.5}
    assert ben == {"value": 1320.0, "n": 3, "seconds": 3300.0, "tickets": 2.5}
    # Cem's only entry tracked no time: nothing measured.
    assert ("2026-02", "cem@acme.test") not in rows
    # By team: Ana and Ben are both Tier 1, so T3 is one ticket of the team: 6,900 / 4.
    teams = rows_by(scenario, "month", ["team"], ["handle_time"])
    assert teams["2026-02", "Tier 1"]["handle_time"]["value"] == 1725.0


def test_each_entry_carries_its_share_of_a_ticket_for_every_grain(scenario: Any) -> None:
    store, config = scenario
    rows = fact_tables(store, build_calendar(store, config), ["work_entries"])["work_entries"]
    shares: dict[str, float] = {}
    for row in rows.to_pyarrow().to_pylist():
        shares[row["work_period"]] = shares.get(row["work_period"], 0.0) + row["tickets"]
    # Nine entries count (e1–e9), each once per grain; a period's shares add up to its tickets with work:
    # T1 on three January days, T1, T2, T3 and the unknown ticket in February and in W06 and overall.
    assert rows.count().to_pyarrow().as_py() == 9 * 6
    assert shares["2026-01-29"] == shares["2026-01"] == shares["2026-W05"] == 1.0
    assert shares["2026-02"] == shares["2026-W06"] == shares["2026-Q1"] == pytest.approx(4.0)
    assert (shares["2026-02-03"], shares["2026-02-04"], shares["all"]) == (1.0, 2.0, pytest.approx(4.0))


def test_utilization_and_occupancy_per_agent(scenario: Any) -> None:
    rows = rows_by(scenario, "month", ["agent"], ["utilization", "occupancy"])
    ana_jan, ana_feb = rows["2026-01", "ana@acme.test"], rows["2026-02", "ana@acme.test"]
    # Ana, January: Thu 29 (paid 8 h = 28,800 s, available 75 % = 21,600 s, worked 1,800 s), Fri 30 (holiday:
    # paid 28,800, available 0, worked 3,600), Sat 31 (no paid hours, worked 1,800). 7,200 s of 57,600 paid =
    # 0.125; of 21,600 available = 1/3. Three agent-days.
    assert ana_jan["utilization"] == {"value": 0.125, "n": 3, "handled_seconds": 7200.0, "paid_seconds": 57600.0}
    assert ana_jan["occupancy"] == {
        "value": pytest.approx(1 / 3),
        "n": 3,
        "handled_seconds": 7200.0,
        "available_seconds": 21600.0,
    }
    # Ana, February: Mon 2 (paid 28,800, available 21,600, worked 1,200), then her 4-hour schedule: Tue 3 (14,400,
    # 14,400, 1,800) and Wed 4 (14,400, 14,400, 600). 3,600 of 57,600 = 0.0625; of 50,400 = 1/14. Sun 1 Feb
    # (no paid hours, no work) is no agent-day.
    assert (ana_feb["utilization"]["value"], ana_feb["utilization"]["n"]) == (0.0625, 3)
    assert ana_feb["occupancy"]["value"] == pytest.approx(1 / 14)
    # Cem is scheduled and tracked no time: 0, not null. February: Mon–Wed, 3 × 28,800 paid.
    assert rows["2026-02", "cem@acme.test"]["utilization"] == {
        "value": 0.0,
        "n": 3,
        "handled_seconds": 0.0,
        "paid_seconds": 86400.0,
    }
    # Ben has no schedule: not measured, null rather than 0.
    assert rows["2026-02", "ben@acme.test"]["utilization"] == {
        "value": None,
        "n": 0,
        "handled_seconds": None,
        "paid_seconds": None,
    }


def test_team_utilization_leaves_out_agents_without_a_schedule(scenario: Any) -> None:
    rows = rows_by(scenario, "month", metrics=["utilization", "occupancy"])
    # January: Ana's 7,200 s against Ana's 57,600 + Cem's 57,600 (Thu 29, Fri 30) paid = 0.0625; available
    # 21,600 + 14,400 (Thu 29; none on the holiday) = 36,000 → 0.2.
    assert rows["2026-01",]["utilization"]["value"] == 0.0625
    assert rows["2026-01",]["occupancy"]["value"] == pytest.approx(0.2)
    # February: Ana's 3,600 s (Ben's 3,300 s have no schedule to compare with) against 57,600 + 86,400 paid =
    # 0.025; available 50,400 + 3 × 14,400 = 93,600.
    assert rows["2026-02",]["utilization"] == {
        "value": 0.025,
        "n": 6,
        "handled_seconds": 3600.0,
        "paid_seconds": 144000.0,
    }
    assert rows["2026-02",]["occupancy"]["value"] == pytest.approx(3600 / 93600)
    teams = rows_by(scenario, "month", ["team"], ["utilization"])
    assert teams["2026-02", "Tier 1"]["utilization"]["value"] == 0.0625  # Ana's alone
    assert teams["2026-02", "Tier 2"]["utilization"]["value"] == 0.0  # Cem


def test_a_holiday_is_paid_but_not_available(scenario: Any) -> None:
    rows = rows_by(scenario, "day", ["agent"], ["utilization", "occupancy"])
    holiday = rows["2026-01-30", "ana@acme.test"]
    assert holiday["utilization"]["value"] == 3600 / 28800
    assert holiday["occupancy"] == {"value": None, "n": 1, "handled_seconds": 3600.0, "available_seconds": 0.0}
    # Saturday: work on a day with no paid hours; the day has nothing to divide by, the month counts it.
    saturday = rows["2026-01-31", "ana@acme.test"]
    assert saturday["utilization"] == {"value": None, "n": 1, "handled_seconds": 1800.0, "paid_seconds": 0.0}


def test_cost_per_ticket_and_per_resolution(scenario: Any) -> None:
    months = rows_by(scenario, "month", metrics=["cost_per_ticket", "cost_per_resolution", "resolutions"])
    # January: 3 days × 100 = 300 for T1, created and resolved in January: twice, but it counts once.
    assert months["2026-01",]["resolutions"]["value"] == 2
    assert months["2026-01",]["cost_per_ticket"] == {"value": 300.0, "n": 1, "cost": 300.0}
    assert months["2026-01",]["cost_per_resolution"] == {"value": 300.0, "n": 1, "cost": 300.0}
    # February: 4 days × 150 = 600; T2, T3, T4 created (200 each); T2 and T3 resolved (300 each).
    assert months["2026-02",]["cost_per_ticket"] == {"value": 200.0, "n": 3, "cost": 600.0}
    assert months["2026-02",]["cost_per_resolution"] == {"value": 300.0, "n": 2, "cost": 600.0}
    weeks = rows_by(scenario, "week", metrics=["cost_per_ticket", "cost_per_resolution"])
    # W05 holds 29–31 Jan (300) and Sun 1 Feb (150): 450 for T1. W06 holds 2–4 Feb: 450 for T2–T4 (150 each),
    # or for T2 and T3 resolved (225 each).
    assert weeks["2026-W05",]["cost_per_ticket"] == {"value": 450.0, "n": 1, "cost": 450.0}
    assert weeks["2026-W06",]["cost_per_ticket"] == {"value": 150.0, "n": 3, "cost": 450.0}
    assert weeks["2026-W06",]["cost_per_resolution"] == {"value": 225.0, "n": 2, "cost": 450.0}
    # The whole store: 900 for 4 tickets created, 3 resolved. December's 9,999 is outside it.
    [row] = rows_by(scenario, "all", metrics=["cost_per_ticket", "cost_per_resolution"]).values()
    assert row["cost_per_ticket"] == {"value": 225.0, "n": 4, "cost": 900.0}
    assert row["cost_per_resolution"] == {"value": 300.0, "n": 3, "cost": 900.0}


def test_cost_belongs_to_the_whole_team(scenario: Any) -> None:
    rows = rows_by(scenario, "month", ["agent"], ["tickets_created", "cost_per_ticket"])
    # Ana answered T1 first: her January row counts it, but cost is nobody's: null there, the team's figure in
    # the row without an agent.
    assert rows["2026-01", "ana@acme.test"]["cost_per_ticket"] == {"value": None, "n": 0, "cost": None}
    assert rows["2026-01", None]["cost_per_ticket"] == {"value": 300.0, "n": 1, "cost": 300.0}


def test_without_inputs_nothing_is_measured(tmp_path: Path) -> None:
    config = replace(CONFIG, files=replace(CONFIG.files, agents=None, schedules=None, costs=None))
    with Store.open(tmp_path / "deskpulse.duckdb") as store:
        ingest_paths(store, config, [write_mbox(tmp_path / "support.mbox", MAILS, "Europe/Berlin")])
        [row] = compute_kpis(store, config, KpiQuery(WORK_METRICS, period="all")).rows
    # No time entries: handle time is not measured, never guessed from the gaps between messages.
    assert row["handle_time"] == {"value": None, "n": 0, "seconds": None, "tickets": None}
    for metric in ("occupancy", "utilization", "cost_per_ticket", "cost_per_resolution"):
        assert (row[metric]["value"], row[metric]["n"]) == (None, 0)
