"""A paused SLA resolution clock runs over a help desk ticket's status history, worked out by hand.

The help desk export of `test_status_waits_golden` (times UTC, reporting in UTC, business hours Monday to Friday
09:00–17:00 UTC; March 2026: Mon 2, Tue 3, Wed 4), with ticket 2 marked urgent and ticket 3 urgent and taken
back up: its customer answered, so the agent set it open again on Wed 09:00 (event e10). The store's horizon
("now") is its newest instant, ticket 4's resolution on Wed 12:00.

sla.toml (`SLA_TOML`): one policy "Desk" for every ticket, in business hours, pausing in "pending": urgent
tickets get resolution 90 m (5,400 s) and no reply target, all others first reply 2 h (7,200 s) and resolution
6 h (21,600 s). A paused resolution clock runs only while the requester waits for us: for a ticket with its own
status history, its stretches in new, open and on-hold (pending pauses it, solved stops it); for ticket 4, which
has none (its resolution is a `snapshot` of a ticket list), its mail's wait cycles.

    ticket 1  default. History: open 09:00–10:00, pending 10:00–12:00, open 12:00–13:00, on-hold 13:00–15:00,
              open 15:00–16:00, solved 16:00, all on Mon 2 inside business hours. Resolution: 3,600 + 3,600 +
              7,200 + 3,600 = 18,000 ≤ 21,600: achieved at Mon 16:00. The pending stretch saves it: unpaused,
              09:00 → 16:00 = 25,200 would breach by 3,600. (Its mail cycle, 09:00 → 09:30 = 1,800, is not
              what the clock runs over.) First reply: customer 09:00 → Bob 09:30 = 1,800 ≤ 7,200: achieved at
              Mon 09:30; reply targets keep reading the mail.
    ticket 2  urgent. History: open Mon 16:00 → Tue 10:00 (business Mon 16–17 + Tue 09–10 = 7,200), pending
              Tue 10:00–11:00, solved Tue 11:00. Resolution: 7,200 > 5,400: breached by 1,800. Due when the
              business clock had run 5,400 s in the open stretch: 3,600 on Monday until closing, 1,800 more from
              Tuesday's opening → Tue 09:30 (in calendar hours it would have been Mon 17:30).
    ticket 3  urgent, still running. History: open Tue 09:00–10:00 (3,600), pending Tue 10:00 → Wed 09:00 (paused,
              though it holds 7 business hours), open since Wed 09:00, which runs to the horizon: 09:00–12:00 =
              10,800. Resolution: 3,600 + 10,800 = 14,400 > 5,400 while running: breached already, by 9,000; due
              after 3,600 on Tuesday and 1,800 more from Wed 09:00 → Wed 09:30.
    ticket 4  default, no history. Mail: customer Wed 09:00 → Bob Wed 10:00, resolved Wed 12:00. First reply
              3,600 ≤ 7,200: achieved at Wed 10:00. Resolution over its one wait cycle: 3,600 ≤ 21,600, achieved
              at Wed 12:00 (its life, 09:00 → 12:00, would be 10,800; as history, open until the snapshot, too).

Six targets: achieved ticket 1 first reply and resolution, ticket 4 first reply and resolution; breached
ticket 2 resolution (1,800) and ticket 3 resolution (9,000) → compliance 4 / 6, breach seconds 10,800. First
reply 2 / 2 (breach 0); resolution 2 / 4 = 0.5 (breach 10,800). By day: Mon 2 both of ticket 1 → 2 / 2; Tue 3
ticket 2's breach → 0 / 1, 1,800; Wed 4 ticket 3's breach (09:30) and ticket 4's two → 2 / 3, 9,000.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from tests.metrics.test_status_waits_golden import CONFIG, EVENTS, MESSAGES, TICKETS, at

from deskpulse.config import Config, FilesConfig
from deskpulse.metrics.engine import KpiQuery, compute_kpis
from deskpulse.metrics.facts import build_calendar, ticket_facts
from deskpulse.metrics.families.sla import build_sla_targets
from deskpulse.sources.canonical import SourceEvent, store_source
from deskpulse.store import Store

SLA_TOML = """
[[policies]]
name = "Desk"
hours = "business"
pause = ["pending"]

[policies.targets.urgent]
resolution = "90m"

[policies.targets.default]
first_reply = "2h"
resolution = "6h"
"""

ticket_1, ticket_2, ticket_3, ticket_4 = TICKETS
HISTORY_TICKETS = [
    ticket_1,
    replace(ticket_2, priority="urgent"),
    replace(ticket_3, priority="urgent", status="open"),
    ticket_4,
]
HISTORY_EVENTS = [*EVENTS, SourceEvent("e10", "3", at(4, 9), "status", "open", old_value="pending")]


def build_scenario(store: Store, directory: Path) -> Config:
    """The help desk export stored, and sla.toml written beside it."""
    store_source(store, CONFIG, "desk", tickets=HISTORY_TICKETS, messages=MESSAGES, events=HISTORY_EVENTS)
    return with_sla_file(directory / "sla.toml", SLA_TOML)


def with_sla_file(path: Path, text: str) -> Config:
    path.write_text(text, encoding="utf-8")
    return replace(CONFIG, files=FilesConfig(sla=path))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Config]:
    directory = tmp_path_factory.mktemp("sla-history")
    store = Store.open(directory / "deskpulse.duckdb")
    return store, build_scenario(store, directory)


def outcomes(store: Store, config: Config) -> dict[tuple[str, str], tuple[Any, ...]]:
    """Per (source ticket id, target kind): elapsed seconds, outcome, breach seconds, outcome time."""
    calendar = build_calendar(store, config)
    targets = build_sla_targets(store, calendar, ticket_facts(store, calendar)).to_pyarrow().to_pylist()
    numbers = {ticket.subject: ticket.id for ticket in HISTORY_TICKETS}
    subjects = store.execute("SELECT ticket_id, subject FROM tickets")
    source_ids = {ticket_id: numbers[subject] for ticket_id, subject in subjects}
    return {
        (source_ids[row["ticket_id"]], row["kind"]): (
            row["elapsed_seconds"],
            "achieved" if row["achieved"] else "breached" if row["breached"] else "left out",
            row["breach_seconds"],
            row["outcome_at"],
        )
        for row in targets
    }


def test_the_paused_resolution_clock_runs_over_the_status_history(scenario: tuple[Store, Config]) -> None:
    assert outcomes(*scenario) == {
        ("1", "first_reply"): (1800, "achieved", 0, at(2, 9, 30)),
        ("1", "resolution"): (18000, "achieved", 0, at(2, 16)),
        ("2", "resolution"): (7200, "breached", 1800, at(3, 9, 30)),
        ("3", "resolution"): (14400, "breached", 9000, at(4, 9, 30)),
        ("4", "first_reply"): (3600, "achieved", 0, at(4, 10)),
        ("4", "resolution"): (3600, "achieved", 0, at(4, 12)),
    }


def test_unpaused_the_clock_runs_over_the_whole_life(scenario: tuple[Store, Config], tmp_path: Path) -> None:
    # Without the pause ticket 1's resolution runs 09:00 → 16:00 = 25,200 > 21,600: breached by 3,600, due
    # after 6 business hours, Mon 15:00. Ticket 3 runs from Tue 09:00 to the horizon, 8 h on Tuesday and 3 h on
    # Wednesday = 39,600; due 90 m after Tuesday's opening, 10:30.
    store, _ = scenario
    unpaused = with_sla_file(tmp_path / "sla.toml", SLA_TOML.replace('pause = ["pending"]\n', ""))
    rows = outcomes(store, unpaused)
    assert rows["1", "resolution"] == (25200, "breached", 3600, at(2, 15))
    assert rows["3", "resolution"] == (39600, "breached", 34200, at(3, 10, 30))


def _compliance(result: dict[str, Any]) -> tuple[Any, ...]:
    return result["value"], result["n"], result["breach_seconds"]


def test_compliance(scenario: tuple[Store, Config]) -> None:
    [row] = compute_kpis(*scenario, KpiQuery(["sla_compliance"], period="all")).rows
    compliance = row["sla_compliance"]
    assert _compliance(compliance) == (pytest.approx(4 / 6), 6, 10800.0)
    assert _compliance(compliance["by_target"]["first_reply"]) == (1.0, 2, 0.0)
    assert _compliance(compliance["by_target"]["resolution"]) == (0.5, 4, 10800.0)
    days = {
        row["period"]: _compliance(row["sla_compliance"])
        for row in compute_kpis(*scenario, KpiQuery(["sla_compliance"], period="day")).rows
    }
    assert {day: figures for day, figures in days.items() if figures[1]} == {
        "2026-03-02": (1.0, 2, 0.0),
        "2026-03-03": (0.0, 1, 1800.0),
        "2026-03-04": (pytest.approx(2 / 3), 3, 9000.0),
    }
