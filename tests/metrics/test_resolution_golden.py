"""Resolutions, reopens, touches and the backlog on a hand-built mailbox, every number computed by hand below.

The help desk: help@acme.test, agents at acme.test, reporting and business hours in Europe/Berlin,
Mon–Fri 09:00–17:00, no holidays, `[resolution]` at its defaults (inactivity_days = 7,
reopen_window_days = 7). January and February 2026 are winter time (UTC+1). ISO weeks: Mon 5 Jan starts W02,
12 Jan W03, 19 Jan W04, 26 Jan W05, 2 Feb W06. All times below are Berlin local time.

Spec §1.6 for a mailbox: a ticket is resolved at the last human agent reply that no customer message follows
within 7 days (the store's newest message, here Ana's reply of Wed 4 Feb 10:00, is "now"); the customer's next
message reopens it. A customer's "thanks" is an acknowledgement, not a customer message in that sense
(docs/decisions.md): it neither holds off the resolution nor reopens the ticket, so a ticket that ends with
"Thanks, that fixed it!" is resolved at the agent reply before it and stays one-touch. A reopen is "within the
window" when the customer writes within reopen_window_days of the moment the ticket became resolved: for an
inferred resolution, 7 + 7 = 14 days after the resolving reply.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.mailbuilder import conversation, write_mbox

from deskpulse.config import parse_config
from deskpulse.ingest import ingest_paths
from deskpulse.metrics.engine import KpiQuery, compute_kpis, fact_tables
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

ANA = "Ana Agent <ana@acme.test>"
BEN = "Ben Agent <ben@acme.test>"
HELP = "help@acme.test"
OUT_OF_OFFICE = {"Auto-Submitted": "auto-replied"}


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
LEA = "Lea Lawyer <lea@example.org>"

MAILS = [
    # T1, one-touch: Mon 5 Jan 10:00 → Ana 10:30, resolved at her reply: 1,800 s, business too. Carla's
    # out-of-office answer of 20 Jan is automation: no reopen.
    *conversation(
        "t1",
        "Password reset",
        CARLA,
        ("2026-01-05 10:00", CARLA, "Hello,\n\nplease reset my password."),
        ("2026-01-05 10:30", ANA, "Hi Carla,\n\ndone, check your inbox."),
        ("2026-01-20 08:00", CARLA, "I am out of the office until 2 February.", OUT_OF_OFFICE),
    ),
    # T2, two replies: Tue 6 Jan 09:00 → Ben 09:30 → Bob still stuck 11:00 → Ben 14:00, resolved there:
    # 5 h = 18,000 s, business too. Two touches.
    *conversation(
        "t2",
        "Export fails",
        BOB,
        ("2026-01-06 09:00", BOB, "Hello,\n\nthe export fails."),
        ("2026-01-06 09:30", BEN, "Hi Bob,\n\nplease try again now."),
        ("2026-01-06 11:00", BOB, "Unfortunately it still fails."),
        ("2026-01-06 14:00", BEN, "Hi Bob,\n\nfixed on our side."),
    ),
    # T3, a closing thanks: Wed 7 Jan 09:00 → Ana 10:00 → Dora "Thanks, that fixed it!" 10:30. The thanks is an
    # acknowledgement: resolved at Ana's reply, 3,600 s, one touch.
    *conversation(
        "t3",
        "Invoice address",
        DORA,
        ("2026-01-07 09:00", DORA, "Hello,\n\nmy invoice shows the old address."),
        ("2026-01-07 10:00", ANA, "Hi Dora,\n\ncorrected, a new invoice is attached."),
        ("2026-01-07 10:30", DORA, "Hi,\n\nThanks, that fixed it!\n\nDora"),
    ),
    # T4, reopened within the window: Thu 8 Jan 09:00 → Ana 09:20 (resolution 1, after 12 d 23 h 40 m of quiet)
    # → Erik Wed 21 Jan 09:00 "broken again" (reopen; 21 Jan 09:00 is before 8 Jan 09:20 + 14 d = 22 Jan 09:20,
    # so within the window) → Ben Mon 26 Jan 10:00 (resolution 2). First resolution time 1,200 s. Full: 8 Jan
    # 09:00 → 26 Jan 10:00 = 18 d 1 h = 1,558,800 s; business: 8 Jan 8 h + 9 Jan 8 h + 12–16 Jan 40 h +
    # 19–23 Jan 40 h + 26 Jan 1 h = 97 h = 349,200 s. Touches: the first resolution did not hold, so replies up to
    # the second count: 2. Open over the weekend of 24–25 Jan.
    *conversation(
        "t4",
        "Sync stopped",
        ERIK,
        ("2026-01-08 09:00", ERIK, "Hello,\n\nthe sync stopped."),
        ("2026-01-08 09:20", ANA, "Hi Erik,\n\nrestarted it for you."),
        ("2026-01-21 09:00", ERIK, "It's broken again since this morning."),
        ("2026-01-26 10:00", BEN, "Hi Erik,\n\nreplaced the connector, it's stable now."),
    ),
    # T5, reopened after the window: Fri 9 Jan 09:00 → Ben 09:30 (resolution 1) → Fay Mon 26 Jan 09:00, 16 d
    # 23 h 30 m later, after 9 Jan 09:30 + 14 d = 23 Jan 09:30: a reopen, but not within the window, so the
    # first resolution held and the ticket stays one-touch → Ana 09:45 (resolution 2). First resolution time
    # 1,800 s. Full: 9 Jan 09:00 → 26 Jan 09:45 = 17 d 45 min = 1,471,500 s; business: 9 Jan 8 h + 12–16 Jan
    # 40 h + 19–23 Jan 40 h + 26 Jan 45 min = 88.75 h = 319,500 s.
    *conversation(
        "t5",
        "Add a user",
        FAY,
        ("2026-01-09 09:00", FAY, "Hello,\n\nplease add a user to our account."),
        ("2026-01-09 09:30", BEN, "Hi Fay,\n\nadded."),
        ("2026-01-26 09:00", FAY, "Hello again, now the export is failing."),
        ("2026-01-26 09:45", ANA, "Hi Fay,\n\nfixed, sorry about that."),
    ),
    # T6, unanswered since Mon 12 Jan 11:00: never resolved, in every backlog from then on.
    *conversation("t6", "Where is my parcel?", GINA, ("2026-01-12 11:00", GINA, "Hello,\n\nwhere is my parcel?")),
    # T7, still inside the inactivity window: Wed 4 Feb 09:00 → Ana 10:00, the newest message of the store.
    # Answered, but not resolved yet (0 of 7 quiet days have passed).
    *conversation(
        "t7",
        "Change plan",
        HUGO,
        ("2026-02-04 09:00", HUGO, "Hello,\n\nplease move us to the yearly plan."),
        ("2026-02-04 10:00", ANA, "Hi Hugo,\n\nwill do."),
    ),
    # T8, proactive and answered: Ben Tue 13 Jan 10:00 → Ida asks 11:00 → Ben 11:30, resolved there: 5,400 s
    # from the opening. The opening is no reply to anyone: one touch.
    *conversation(
        "t8",
        "Your order is delayed",
        IDA,
        ("2026-01-13 10:00", BEN, "Hi Ida,\n\nyour order is delayed by a day."),
        ("2026-01-13 11:00", IDA, "Could you tell me when exactly? I need it by Friday."),
        ("2026-01-13 11:30", BEN, "Hi Ida,\n\nit ships on Thursday."),
    ),
    # T9, proactive, acknowledged: Ana Wed 14 Jan 10:00 → Jon "Thanks for letting me know." 12:00. Resolved at
    # the opening (0 s) with no reply: a zero-reply resolution, outside the touch rates.
    *conversation(
        "t9",
        "Your refund has been issued",
        JON,
        ("2026-01-14 10:00", ANA, "Hi Jon,\n\nyour refund has been issued."),
        ("2026-01-14 12:00", JON, "Thanks for letting me know."),
    ),
    # T10, over a weekend: Fri 16 Jan 16:00 → Ana Mon 19 Jan 10:00: 2 d 18 h = 237,600 s; business Fri 16–17 +
    # Mon 09–10 = 7,200 s. Open at the end of W03 (Sun 18 Jan).
    *conversation(
        "t10",
        "Account locked",
        KIM,
        ("2026-01-16 16:00", KIM, "Hello,\n\nmy account is locked."),
        ("2026-01-19 10:00", ANA, "Hi Kim,\n\nunlocked."),
    ),
    # T11, three replies: Tue 20 Jan 09:00 → Ben 09:10 → 09:20 → Ben 09:30 → 09:40 → Ben 09:50: 3,000 s, three
    # touches.
    *conversation(
        "t11",
        "API key",
        LEA,
        ("2026-01-20 09:00", LEA, "Hello,\n\nmy API key is rejected."),
        ("2026-01-20 09:10", BEN, "Hi Lea,\n\nplease create a new one."),
        ("2026-01-20 09:20", LEA, "That did not work."),
        ("2026-01-20 09:30", BEN, "Hi Lea,\n\ntry the v2 endpoint."),
        ("2026-01-20 09:40", LEA, "Still no luck, same error."),
        ("2026-01-20 09:50", BEN, "Hi Lea,\n\nyour key had expired; renewed."),
    ),
]

# Resolutions (resolver): T1 5 Jan (Ana), T2 6 Jan (Ben), T3 7 Jan (Ana), T4 8 Jan (Ana) and 26 Jan (Ben),
# T5 9 Jan (Ben) and 26 Jan (Ana), T8 13 Jan (Ben), T9 14 Jan (Ana), T10 19 Jan (Ana), T11 20 Jan (Ben):
# 11 resolutions of 9 tickets; T6 and T7 are open.
#
# First resolution time, seconds sorted: 0 (T9), 1,200 (T4), 1,800 (T1), 1,800 (T5), 3,000 (T11), 3,600 (T3),
# 5,400 (T8), 18,000 (T2), 237,600 (T10).
#   median = 3,000; p90 (position 0.9 × 8 = 7.2) = 18,000 + 0.2 × 219,600 = 61,920; mean = 272,400 / 9
#   business: 0, 1,200, 1,800, 1,800, 3,000, 3,600, 5,400, 7,200 (T10), 18,000 → median 3,000,
#   p90 = 7,200 + 0.2 × 10,800 = 9,360, mean = 42,000 / 9
# Full resolution time (all nine are resolved now), sorted: 0, 1,800, 3,000, 3,600, 5,400, 18,000, 237,600,
# 1,471,500 (T5), 1,558,800 (T4).
#   median = 5,400; p90 = 1,471,500 + 0.2 × 87,300 = 1,488,960; mean = 3,299,700 / 9
#   business: 0, 1,800, 3,000, 3,600, 5,400, 7,200, 18,000, 319,500, 349,200 → median 5,400,
#   p90 = 319,500 + 0.2 × 29,700 = 325,440, mean = 707,700 / 9
# Touches (tickets with a first resolution): T1 1, T2 2, T3 1, T4 2, T5 1, T8 1, T9 0, T10 1, T11 3.
#   with ≥ 1 reply: 8 tickets, 12 replies → replies_per_resolution 1.5
#   one-touch: T1, T3, T5, T8, T10 = 5 / 8 (T4 took one reply at first, but the customer came back in time)
#   two-touch: T2, T4 = 2 / 8; multi-touch: T11 = 1 / 8; zero-reply: T9
# Reopen rate: 1 of 11 resolutions (T4's first) undone within the window.
# Cohort: tickets created at least 7 + 7 days before the horizon (by Wed 21 Jan 10:00): all but T7, 10
# tickets; resolved within 7 days of creation: all but T6 → 9 / 10.


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    directory = tmp_path_factory.mktemp("resolution")
    mbox = write_mbox(directory / "support.mbox", MAILS, "Europe/Berlin")
    store = Store.open(directory / "deskpulse.duckdb")
    ingest_paths(store, CONFIG, [mbox])
    return store


RESOLUTION_METRICS = [
    "tickets_created",
    "tickets_resolved",
    "resolutions",
    "first_resolution_time",
    "first_resolution_time_business",
    "full_resolution_time",
    "full_resolution_time_business",
    "replies_per_resolution",
    "one_touch_rate",
    "two_touch_rate",
    "multi_touch_rate",
    "zero_reply_resolutions",
    "resolution_rate",
    "resolution_rate_cohort",
    "reopen_rate",
    "backlog",
    "net_change",
]


def test_whole_mailbox(store: Store) -> None:
    [row] = compute_kpis(store, CONFIG, KpiQuery(RESOLUTION_METRICS, period="all")).rows
    assert row["tickets_created"] == {"value": 11, "n": 11}
    assert row["tickets_resolved"] == {"value": 9, "n": 9}
    assert row["resolutions"] == {"value": 11, "n": 11}
    assert row["first_resolution_time"] == {
        "value": 3000.0,
        "median": 3000.0,
        "p90": pytest.approx(61920.0),
        "mean": pytest.approx(272400 / 9),
        "n": 9,
        "open": 2,  # T6, T7: never resolved
    }
    assert row["first_resolution_time_business"] == {
        "value": 3000.0,
        "median": 3000.0,
        "p90": pytest.approx(9360.0),
        "mean": pytest.approx(42000 / 9),
        "n": 9,
        "open": 2,
    }
    assert row["full_resolution_time"] == {
        "value": 5400.0,
        "median": 5400.0,
        "p90": pytest.approx(1488960.0),
        "mean": pytest.approx(3299700 / 9),
        "n": 9,
        "open": 2,
    }
    assert row["full_resolution_time_business"] == {
        "value": 5400.0,
        "median": 5400.0,
        "p90": pytest.approx(325440.0),
        "mean": pytest.approx(707700 / 9),
        "n": 9,
        "open": 2,
    }
    assert row["replies_per_resolution"] == {"value": 1.5, "n": 8}
    assert (row["one_touch_rate"]["value"], row["one_touch_rate"]["n"]) == (5 / 8, 8)
    assert (row["two_touch_rate"]["value"], row["two_touch_rate"]["n"]) == (2 / 8, 8)
    assert (row["multi_touch_rate"]["value"], row["multi_touch_rate"]["n"]) == (1 / 8, 8)
    assert row["zero_reply_resolutions"] == {"value": 1, "n": 1}
    assert row["resolution_rate"] == {"value": 9 / 11, "n": 11}
    assert (row["resolution_rate_cohort"]["value"], row["resolution_rate_cohort"]["n"]) == (0.9, 10)
    assert (row["reopen_rate"]["value"], row["reopen_rate"]["n"]) == (1 / 11, 11)
    # Open at the horizon (Wed 4 Feb 10:00): T6 (12 Jan 11:00 → 22 d 23 h = 1,983,600 s) and T7 (3,600 s).
    # Their age bands: T7 is under a day old, T6 between 7 and 30 days.
    empty = {"value": None, "n": 0}
    assert row["backlog"] == {
        "value": 2,
        "n": 2,
        "median_age": (1983600 + 3600) / 2,
        "max_age": 1983600.0,
        "by_age": {
            "<1d": {"value": 1, "n": 1},
            "1-3d": empty,
            "3-7d": empty,
            "7-30d": {"value": 1, "n": 1},
            ">30d": empty,
        },
    }
    assert row["net_change"]["value"] == 11 - 9


def test_resolutions_are_credited_to_the_agent_who_resolved(store: Store) -> None:
    result = compute_kpis(store, CONFIG, KpiQuery(RESOLUTION_METRICS, period="all", by=["agent"]))
    rows = {row["agent"]: row for row in result.rows}
    ana, ben = rows["ana@acme.test"], rows["ben@acme.test"]
    # Ana resolved T1, T3, T4 (first), T5 (second), T9, T10; Ben T2, T4 (second), T5 (first), T8, T11.
    assert ana["resolutions"]["value"] == 6
    assert ben["resolutions"]["value"] == 5
    # Each ticket once, with the agent of its first resolution in the period: Ana T1, T3, T4, T9, T10;
    # Ben T2, T5, T8, T11. The per-agent rows add up to the whole (9).
    assert ana["tickets_resolved"]["value"] == 5
    assert ben["tickets_resolved"]["value"] == 4
    # First resolution time: Ana 0, 1,200, 1,800, 3,600, 237,600 → median 1,800; Ben 1,800, 3,000, 5,400,
    # 18,000 → median (3,000 + 5,400) / 2 = 4,200. Still open: T7 goes to Ana (who replied first), T6 to no one.
    assert (ana["first_resolution_time"]["median"], ana["first_resolution_time"]["n"]) == (1800.0, 5)
    assert (ben["first_resolution_time"]["median"], ben["first_resolution_time"]["n"]) == (4200.0, 4)
    assert ana["first_resolution_time"]["open"] == 1
    assert rows[None]["first_resolution_time"]["open"] == 1
    # One-touch: Ana T1, T3, T10 of T1, T3, T4, T10 (T9 had no reply) = 3 / 4; Ben T5, T8 of T2, T5, T8, T11.
    assert (ana["one_touch_rate"]["value"], ana["one_touch_rate"]["n"]) == (0.75, 4)
    assert (ben["one_touch_rate"]["value"], ben["one_touch_rate"]["n"]) == (0.5, 4)


def test_weeks_count_each_ticket_once_per_week_and_snapshot_the_backlog_at_week_end(store: Store) -> None:
    metrics = ["tickets_created", "tickets_resolved", "resolutions", "backlog", "net_change", "reopen_rate"]
    rows = {row["period"]: row for row in compute_kpis(store, CONFIG, KpiQuery(metrics, period="week")).rows}
    assert sorted(rows) == ["2026-W02", "2026-W03", "2026-W04", "2026-W05", "2026-W06"]
    resolved = {week: row["tickets_resolved"]["value"] for week, row in rows.items()}
    # W02: T1–T5; W03: T8, T9; W04: T10, T11; W05: the second resolutions of T4 and T5, each the ticket's
    # first in that week. 5 + 2 + 2 + 2 = 11 over the weeks, though only 9 tickets were ever resolved.
    assert resolved == {"2026-W02": 5, "2026-W03": 2, "2026-W04": 2, "2026-W05": 2, "2026-W06": None}
    assert rows["2026-W05"]["resolutions"]["value"] == 2
    # T4's first resolution (8 Jan, W02) was undone within the window: 1 of W02's 5 resolutions.
    assert rows["2026-W02"]["reopen_rate"]["value"] == 1 / 5
    backlog = {week: row["backlog"] for week, row in rows.items()}
    # End of W02 (Sun 11 Jan 24:00): nothing open; a metric with no population is null with n 0.
    assert backlog["2026-W02"]["n"] == 0
    # End of W03 (Sun 18 Jan 24:00): T6 (12 Jan 11:00 → 19 Jan 00:00 = 6 d 13 h = 565,200 s) and T10, whose
    # resolution came on Monday (16 Jan 16:00 → 2 d 8 h = 201,600 s): median 383,400.
    assert backlog["2026-W03"] | {"by_age": None} == {
        "value": 2,
        "n": 2,
        "median_age": 383400.0,
        "max_age": 565200.0,
        "by_age": None,
    }
    # Sun 18 Jan 24:00: the older is 565,200 s = 6.5 d old, the other 2 × 383,400 − 565,200 = 201,600 s = 2.3 d
    # (the median of two is their mean): one each in 1–3 d and 3–7 d.
    assert [band["n"] for band in backlog["2026-W03"]["by_age"].values()] == [0, 1, 1, 0, 0]
    # End of W04 (Sun 25 Jan 24:00): T6 (13 d 13 h = 1,170,000 s) and the reopened T4 (8 Jan 09:00 → 17 d 15 h =
    # 1,522,800 s; age counts from creation, not from the reopen).
    assert backlog["2026-W04"] | {"by_age": None} == {
        "value": 2,
        "n": 2,
        "median_age": 1346400.0,
        "max_age": 1522800.0,
        "by_age": None,
    }
    # End of W05 (Sun 1 Feb 24:00): T6 only (20 d 13 h = 1,774,800 s); W06 is still running: the horizon's 2.
    assert backlog["2026-W05"] | {"by_age": None} == {
        "value": 1,
        "n": 1,
        "median_age": 1774800.0,
        "max_age": 1774800.0,
        "by_age": None,
    }
    assert backlog["2026-W06"]["value"] == 2
    # Created: W02 T1–T5; W03 T6, T8, T9, T10 (Fri 16 Jan); W04 T11; W05 none; W06 T7.
    # Net change = created − resolved: W02 5 − 5, W03 4 − 2, W04 1 − 2, W05 0 − 2, W06 1 − 0.
    created = {week: row["tickets_created"]["value"] for week, row in rows.items()}
    assert created == {"2026-W02": 5, "2026-W03": 4, "2026-W04": 1, "2026-W05": None, "2026-W06": 1}
    net = {week: row["net_change"]["value"] for week, row in rows.items()}
    assert net == {"2026-W02": 0, "2026-W03": 2, "2026-W04": -1, "2026-W05": -2, "2026-W06": 1}


def test_months_snapshot_the_backlog_on_the_last_day(store: Store) -> None:
    metrics = ["tickets_created", "tickets_resolved", "backlog", "resolution_rate"]
    rows = {row["period"]: row for row in compute_kpis(store, CONFIG, KpiQuery(metrics, period="month")).rows}
    # End of January (Sat 31 Jan 24:00): T6 alone, 12 Jan 11:00 → 1 Feb 00:00 = 19 d 13 h = 1,688,400 s.
    assert rows["2026-01"]["backlog"] | {"by_age": None} == {
        "value": 1,
        "n": 1,
        "median_age": 1688400.0,
        "max_age": 1688400.0,
        "by_age": None,
    }
    assert rows["2026-02"]["backlog"]["value"] == 2
    # January: 9 tickets resolved of 10 created; February: 0 of 1 (T7, not resolved yet).
    assert rows["2026-01"]["resolution_rate"] == {"value": 0.9, "n": 10}
    assert rows["2026-02"]["resolution_rate"] == {"value": 0.0, "n": 1}


def test_a_day_snapshot_counts_tickets_resolved_later(store: Store) -> None:
    rows = compute_kpis(store, CONFIG, KpiQuery(["backlog"], period="day")).rows
    by_day = {row["period"]: row["backlog"]["value"] for row in rows}
    # Sat 17 Jan: T6 and T10 (answered on Monday). Mon 19 Jan: T10 is resolved (at 10:00), T6 remains.
    assert by_day["2026-01-17"] == 2
    assert by_day["2026-01-19"] == 1


def test_backlog_rows_carry_the_age_bands(store: Store) -> None:
    backlog = fact_tables(store, build_calendar(store, CONFIG))["backlog"]

    def snapshot(rows: object) -> list[tuple[float, str]]:
        return sorted((row["age"], row["age_band"]) for row in rows.to_pyarrow().to_pylist())  # type: ignore[attr-defined]

    # At the horizon: T7 3,600 s → "<1d"; T6 22 d 23 h → "7-30d".
    assert snapshot(backlog.filter(backlog.at_horizon)) == [(3600.0, "<1d"), (1983600.0, "7-30d")]
    # Sunday 25 Jan (the day before Monday 26th): T6 13 d 13 h and T4 17 d 15 h, both "7-30d".
    sunday = backlog.filter(backlog.next_day == "2026-01-26")
    assert snapshot(sunday) == [(1170000.0, "7-30d"), (1522800.0, "7-30d")]
    # Saturday 17 Jan: T10 (16 Jan 16:00 → 18 Jan 00:00 = 1 d 8 h) "1-3d"; T6 (5 d 13 h) "3-7d".
    saturday = backlog.filter(backlog.next_day == "2026-01-18")
    assert snapshot(saturday) == [(115200.0, "1-3d"), (478800.0, "3-7d")]


def test_ticket_rows_carry_resolutions_reopens_and_touches(store: Store) -> None:
    records = list_tickets(store, build_calendar(store, CONFIG))
    by_subject = {r["subject"]: r for r in records}
    sync = by_subject["Sync stopped"]  # T4
    assert (sync["resolutions"], sync["reopens"], sync["first_resolution_reopened"], sync["touches"]) == (
        2,
        1,
        True,
        2,
    )
    assert str(sync["first_resolved_at"]) == "2026-01-08 08:20:00"  # UTC
    assert str(sync["resolved_at"]) == str(sync["last_resolved_at"]) == "2026-01-26 09:00:00"
    assert sync["first_resolution_agent"] == "ana@acme.test"
    assert sync["full_resolution_time"] == 1558800.0
    assert sync["full_resolution_time_business"] == 349200.0
    user = by_subject["Add a user"]  # T5: reopened after the window, still one touch
    assert (user["resolutions"], user["reopens"], user["first_resolution_reopened"], user["touches"]) == (
        2,
        1,
        False,
        1,
    )
    thanks = by_subject["Invoice address"]  # T3
    assert thanks["status"] == "resolved"
    assert str(thanks["resolved_at"]) == "2026-01-07 09:00:00"  # Ana's reply, not the thanks after it
    assert (thanks["touches"], thanks["reopens"], thanks["resolution_inferred"]) == (1, 0, True)
    refund = by_subject["Your refund has been issued"]  # T9
    assert (refund["touches"], refund["first_resolution_time"]) == (0, 0.0)
    pending = by_subject["Change plan"]  # T7
    assert (pending["status"], pending["first_resolved_at"], pending["touches"]) == ("open", None, None)
    assert pending["resolved_within_cohort"] is None  # too young to judge
    unanswered = by_subject["Where is my parcel?"]  # T6
    assert (unanswered["resolutions"], unanswered["resolved_within_cohort"]) == (0, False)
    weekend = by_subject["Account locked"]  # T10
    assert (weekend["first_resolution_time"], weekend["first_resolution_time_business"]) == (237600.0, 7200.0)


def test_inferred_events_are_stored_and_rebuilt_the_same(store: Store, tmp_path: Path) -> None:
    def events() -> list[tuple[object, ...]]:
        return store.execute(
            "SELECT event_id, ticket_id, occurred_at, old_value, new_value, actor, inferred, source "
            "FROM ticket_events ORDER BY event_id"
        )

    before = events()
    # 11 resolutions and 2 reopens (T4, T5); every row says it was inferred.
    assert [row[4] for row in before].count("resolved") == 11
    assert [row[4] for row in before].count("open") == 2
    assert all(row[6] is True and row[7] == "inferred" for row in before)
    reopen = next(row for row in before if row[0] == "inferred:reopened:t4-3@example.com")
    assert (str(reopen[2]), reopen[3], reopen[5]) == ("2026-01-21 08:00:00", "resolved", "erik@example.com")
    ingest_paths(store, CONFIG, [write_mbox(tmp_path / "again.mbox", MAILS, "Europe/Berlin")])
    assert events() == before
