"""A week with a daylight-saving change: response times and buckets across the night clocks jump, worked out below.

Europe/Berlin moves from CET (UTC+1) to CEST (UTC+2) on Sunday 29 March 2026 at 02:00, which becomes 03:00: that
night has one hour fewer. Business hours Mon–Fri 09:00–17:00 Berlin time. ISO week 13 runs Mon 23 – Sun 29 March,
week 14 from Mon 30 March. All times below are Berlin wall-clock times, with UTC in brackets.

    ticket  customer writes                     Ana replies                        calendar        business
    D       Fri 27 Mar 16:30 CET   (15:30 UTC)   Mon 30 Mar 09:15 CEST (07:15 UTC)   229,500 s      2,700 s
    A       Sat 28 Mar 22:00 CET   (21:00 UTC)   Mon 30 Mar 09:30 CEST (07:30 UTC)   124,200 s      1,800 s
    B       Sun 29 Mar 01:30 CET   (00:30 UTC)   Sun 29 Mar 03:30 CEST (01:30 UTC)     3,600 s          0 s
    C       Mon 30 Mar 00:30 CEST  (Sun 22:30 UTC) Mon 30 Mar 10:00 CEST (08:00 UTC)  34,200 s      3,600 s

* D: Fri 15:30 → Mon 07:15 UTC is 2 days 15 h 45 min = 229,500 s; business: Fri 16:30–17:00 (1,800 s) and
  Mon 09:00–09:15 (900 s) = 2,700 s.
* A: Sat 21:00 → Mon 07:30 UTC is 34 h 30 min = 124,200 s, though the wall clock moved 35 h 30 min; business:
  Mon 09:00–09:30 = 1,800 s.
* B: the wall clock moved two hours, one hour passed: 3,600 s. Business: none on a Sunday.
* C: written on Monday in Berlin but on Sunday in UTC: it belongs to Monday 30 March and week 14. 9 h 30 min
  after it Ana replies: 34,200 s; business Mon 09:00–10:00 = 3,600 s.
"""

from __future__ import annotations

import pytest
from tests.mailbuilder import conversation, write_mbox

from deskpulse.config import parse_config
from deskpulse.ingest import ingest_paths
from deskpulse.metrics.engine import KpiQuery, compute_kpis
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
ANA = "Ana Agent <ana@acme.test>"
CARLA = "Carla Customer <carla@example.org>"
BOB = "Bob Buyer <bob@example.com>"
DORA = "Dora Driver <dora@example.net>"
ERIK = "Erik Engineer <erik@example.com>"

MAILS = [
    *conversation("d", "Export broken", ERIK, ("2026-03-27 16:30", ERIK, "The export is broken."),
                  ("2026-03-30 09:15", ANA, "Fixed.")),
    *conversation("a", "Cannot log in", CARLA, ("2026-03-28 22:00", CARLA, "I cannot log in."),
                  ("2026-03-30 09:30", ANA, "Try the reset link.")),
    *conversation("b", "Invoice", BOB, ("2026-03-29 01:30", BOB, "Where is my invoice?"),
                  ("2026-03-29 03:30", ANA, "Attached.")),
    *conversation("c", "Parcel", DORA, ("2026-03-30 00:30", DORA, "Where is my parcel?"),
                  ("2026-03-30 10:00", ANA, "On its way.")),
]  # fmt: skip
METRICS = ["tickets_created", "first_response_time", "first_response_time_business"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    directory = tmp_path_factory.mktemp("dst")
    store = Store.open(directory / "deskpulse.duckdb")
    ingest_paths(store, CONFIG, [write_mbox(directory / "support.mbox", MAILS, "Europe/Berlin")])
    return store


def test_response_times_count_the_hours_that_passed_not_the_wall_clock(store: Store) -> None:
    [row] = compute_kpis(store, CONFIG, KpiQuery(METRICS, period="all")).rows
    frt, business = row["first_response_time"], row["first_response_time_business"]
    # Calendar, sorted: 3,600 (B), 34,200 (C), 124,200 (A), 229,500 (D): the median of four is the mean of the
    # middle two, (34,200 + 124,200) / 2 = 79,200; the mean (3,600 + 34,200 + 124,200 + 229,500) / 4 = 97,875.
    assert (frt["n"], frt["median"], frt["mean"]) == (4, 79200.0, 97875.0)
    # Business, sorted: 0 (B), 1,800 (A), 2,700 (D), 3,600 (C): median (1,800 + 2,700) / 2 = 2,250, mean 2,025.
    assert (business["n"], business["median"], business["mean"]) == (4, 2250.0, 2025.0)


def test_weeks_and_days_follow_berlin_time_across_the_change(store: Store) -> None:
    weeks = compute_kpis(store, CONFIG, KpiQuery(METRICS, period="week")).rows
    by_week = {row["period"]: row for row in weeks}
    # Created: D, A, B in week 13; C (Monday in Berlin, Sunday in UTC) in week 14.
    assert {p: r["tickets_created"]["value"] for p, r in by_week.items()} == {"2026-W13": 3, "2026-W14": 1}
    # A response belongs to the period of its reply: B's (Sunday) in week 13, the other three (Monday) in week 14,
    # with median calendar 124,200 (of 34,200, 124,200, 229,500) and business 2,700 (of 1,800, 2,700, 3,600).
    w13 = by_week["2026-W13"]
    assert (w13["first_response_time"]["n"], w13["first_response_time"]["median"]) == (1, 3600.0)
    w14 = by_week["2026-W14"]
    assert (w14["first_response_time"]["n"], w14["first_response_time"]["median"]) == (3, 124200.0)
    assert w14["first_response_time_business"]["median"] == 2700.0
    days = compute_kpis(store, CONFIG, KpiQuery(["tickets_created"], period="day")).rows
    assert {row["period"]: row["tickets_created"]["value"] for row in days} == {
        "2026-03-27": 1,
        "2026-03-28": 1,
        "2026-03-29": 1,
        "2026-03-30": 1,
    }
