"""The spike marker: a pain point whose category `deskpulse trends` finds a spike in during the period carries it.

The store holds only tickets (written as the threading would), which is all the trends and the routing read:
two "Bug > App Crash" tickets a day from 2 February to 31 March 2026, two "Shipping" tickets a day as a steady
neighbour, and 12 more App Crash tickets on Wednesday 18 March (14 that day where 2 are expected).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from deskpulse.columns import arrow_table
from deskpulse.config import parse_config
from deskpulse.reports.department import build_report
from deskpulse.schema import TICKETS
from deskpulse.store import Store

SPIKE_DAY = date(2026, 3, 18)


def _tickets() -> list[tuple[str, datetime]]:
    rows = []
    day = date(2026, 2, 2)
    while day <= date(2026, 3, 31):
        extra = 12 if day == SPIKE_DAY else 0
        for n in range(2 + extra):
            rows.append(("Bug > App Crash", datetime.combine(day, datetime.min.time()) + timedelta(hours=9, minutes=n)))
        for n in range(2):
            rows.append(("Shipping", datetime.combine(day, datetime.min.time()) + timedelta(hours=11, minutes=n)))
        day += timedelta(days=1)
    return rows


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spikes") / "deskpulse.duckdb"
    rows = _tickets()
    columns: dict[str, list[object]] = {column.name: [None] * len(rows) for column in TICKETS.columns}
    columns["ticket_id"] = [f"T-{i:012x}" for i in range(len(rows))]
    columns["category"] = [category for category, _ in rows]
    columns["created_at"] = [created for _, created in rows]
    with Store.open(path) as store:
        store.insert_new("tickets", arrow_table(TICKETS, columns))
    return path


def test_a_spike_in_the_period_marks_its_pain_point(store_path: Path) -> None:
    config = parse_config({"departments": {"defaults": False, "engineering": {"categories": ["Bug"]}}})
    with Store.open(store_path, read_only=True) as store:
        march = build_report(store, config, "engineering", "2026-03")
        february = build_report(store, config, "engineering", "2026-02")
    [crash] = march.sections[0].pain_points
    # 31 days × 2 + 12 in March; 27 days (2–28 February) × 2 before.
    assert (crash.name, crash.tickets, crash.previous_tickets) == ("Bug > App Crash", 74, 54)
    [spike] = crash.spikes
    assert (spike.first_day, spike.last_day, spike.observed) == (SPIKE_DAY, SPIKE_DAY, 14)
    assert spike.expected == pytest.approx(2.0, abs=0.5)
    assert spike.describe().startswith("spike 2026-03-18: 14 tickets")
    assert february.sections[0].pain_points[0].spikes == ()  # not in February's report
    assert march.cost_per_ticket is None and march.sentiment_note is not None  # no costs file, nothing scored


def test_the_report_names_departments_case_insensitively(store_path: Path) -> None:
    config = replace(parse_config({}), departments=None)  # the defaults: Bug is engineering's
    with Store.open(store_path, read_only=True) as store:
        report = build_report(store, config, "Engineering", "2026-W12")
    assert (report.period.current.first_day, report.period.current.last_day) == (date(2026, 3, 16), date(2026, 3, 22))
    assert report.period.previous.label == "2026-W11"
    assert report.sections[0].pain_points[0].tickets == 7 * 2 + 12
