"""SLA compliance on a hand-built mailbox and two policies, computed by hand.

The help desk: help@acme.test and vip@acme.test, agents at acme.test, reporting and business hours in
Europe/Berlin, Mon–Fri 09:00–17:00, no holidays; a ticket is resolved at its last reply after one quiet day
(`inactivity_days = 1`). January 2026 is winter time (UTC+1): Mon 5 Jan starts ISO week 2026-W02, Mon 12 Jan
2026-W03. All times below are Berlin local time. The store's horizon ("now") is its newest message, Tue 13 Jan
12:00.

sla.toml (`SLA_TOML`): policy 1 "VIP" for mail to vip@acme.test, in business hours; urgent tickets get first
reply 30 m, next reply 1 h, resolution 4 h, all others (default) 1 h, 2 h and 8 h. Policy 2 "Standard" for
every other ticket, in calendar hours, pausing in "pending" (resolution counts only the time the customer waits
for a reply): default targets first reply 4 h, next reply 2 h, resolution 6 h.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from tests.mailbuilder import Mail, write_mbox

from deskpulse.config import Config, FilesConfig, parse_config
from deskpulse.ingest import ingest_paths
from deskpulse.inputs.csvfile import InputFileError
from deskpulse.metrics.engine import KpiQuery, compute_kpis
from deskpulse.metrics.facts import build_calendar, ticket_facts
from deskpulse.metrics.families.sla import build_sla_targets
from deskpulse.schema import TICKET_TAGS
from deskpulse.store import Store

CONFIG = parse_config(
    {
        "helpdesk": {
            "support_addresses": ["help@acme.test", "vip@acme.test"],
            "agent_domains": ["acme.test"],
            "timezone": "Europe/Berlin",
        },
        "business_hours": {
            "timezone": "Europe/Berlin",
            **{d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")},
        },
        "resolution": {"inactivity_days": 1},
    }
)

SLA_TOML = """
[[policies]]
name = "VIP"
hours = "business"
conditions = { mailbox = "vip@acme.test" }

[policies.targets.urgent]
first_reply = "30m"
next_reply = "1h"
resolution = "4h"

[policies.targets.default]
first_reply = "1h"
next_reply = "2h"
resolution = "8h"

[[policies]]
name = "Standard"
hours = "calendar"
pause = ["pending"]

[policies.targets.default]
first_reply = "4h"
next_reply = "2h"
resolution = "6h"
"""

VIP, HELP = "vip@acme.test", "help@acme.test"
ANA = "Ana Agent <ana@acme.test>"
BEN = "Ben Agent <ben@acme.test>"


def reply(sender: str, to: str, subject: str, received: str, message_id: str, *earlier: str) -> Mail:
    """A message answering ``earlier`` (Message-IDs, oldest first) through In-Reply-To and References."""
    return Mail(sender, to, subject, received, message_id=message_id, in_reply_to=earlier[-1], references=list(earlier))


MAILS = [
    # V1 "Card declined" (VIP, priority urgent: first reply 30 m, resolution 4 h, business hours).
    # First reply Mon 5 Jan 16:50 → Ana Tue 6 Jan 09:10: business 16:50–17:00 + 09:00–09:10 = 1,200 s ≤ 1,800:
    # achieved, placed Tue 6 Jan (W02). In calendar hours it would have been 16 h 20 m, far beyond.
    # Resolution: resolved at Ana's reply, created → resolved = the same 1,200 s ≤ 14,400: achieved, Tue 6 Jan.
    Mail("Vera <vera@example.org>", VIP, "Card declined", "2026-01-05 16:50", message_id="v1@example.org"),
    reply(ANA, "vera@example.org", "Re: Card declined", "2026-01-06 09:10", "v1r@acme.test", "v1@example.org"),
    # V2 "Invoice missing" (VIP, no priority: the default targets, first reply 1 h, resolution 8 h).
    # First reply Fri 9 Jan 16:30 → Ana Mon 12 Jan 10:00: business 30 m Friday + 60 m Monday = 5,400 s > 3,600:
    # breached by 1,800 s. Due when the business clock had run 1 h: 30 m on Friday, 30 m on Monday →
    # Mon 12 Jan 09:30 (W03), which places the breach. Resolution across the weekend: resolved at the reply,
    # 5,400 business seconds ≤ 28,800: achieved, Mon 12 Jan 10:00 (W03).
    Mail("Walt <walt@bigco.example>", VIP, "Invoice missing", "2026-01-09 16:30", message_id="v2@bigco.example"),
    reply(ANA, "walt@bigco.example", "Re: Invoice missing", "2026-01-12 10:00", "v2r@acme.test", "v2@bigco.example"),
    # V3 "Login loop" (VIP default), unanswered: Tue 13 Jan 11:30 → horizon 12:00 = 1,800 business seconds,
    # within both first reply (3,600) and resolution (28,800): still running unbreached, left out.
    Mail("Xena <xena@example.net>", VIP, "Login loop", "2026-01-13 11:30", message_id="v3@example.net"),
    # V4 "Export stuck" (VIP default), unanswered since before opening time: Tue 13 Jan 08:00 → horizon 12:00 =
    # 09:00–12:00 = 10,800 business seconds. First reply: beyond 3,600 while still running, so breached already,
    # by 7,200 s; due at 1 business hour after 09:00 = Tue 13 Jan 10:00 (W03). Resolution: 10,800 ≤ 28,800,
    # running unbreached, left out.
    Mail("Yuri <yuri@example.com>", VIP, "Export stuck", "2026-01-13 08:00", message_id="v4@example.com"),
    # S1 "Shipping question" (Standard; priority urgent, but Standard sets only default targets: those apply).
    # Three wait cycles on Mon 5 Jan, calendar hours:
    #   cycle 1, first reply: 10:00 → Ben 11:00 = 3,600 ≤ 14,400: achieved, 11:00 (W02)
    #   cycle 2, next reply: 13:00 → Ben 14:00 = 3,600 ≤ 7,200: achieved, 14:00 (W02)
    #   cycle 3, next reply: 15:00 → Ben 18:00 = 10,800 > 7,200: breached by 3,600, due 15:00 + 2 h = 17:00 (W02)
    # Resolution, paused while pending: only the waits count, 3,600 + 3,600 + 10,800 = 18,000 ≤ 21,600:
    # achieved at the resolution, Ben's reply at 18:00 (W02). Unpaused, 10:00 → 18:00 = 28,800 would breach.
    Mail("Carla <carla@example.org>", HELP, "Shipping question", "2026-01-05 10:00", message_id="s1@example.org"),
    reply(BEN, "carla@example.org", "Re: Shipping question", "2026-01-05 11:00", "s1r1@acme.test", "s1@example.org"),
    reply(
        "Carla <carla@example.org>",
        HELP,
        "Re: Shipping question",
        "2026-01-05 13:00",
        "s1c2@example.org",
        "s1@example.org",
        "s1r1@acme.test",
    ),
    reply(BEN, "carla@example.org", "Re: Shipping question", "2026-01-05 14:00", "s1r2@acme.test", "s1c2@example.org"),
    reply(
        "Carla <carla@example.org>",
        HELP,
        "Re: Shipping question",
        "2026-01-05 15:00",
        "s1c3@example.org",
        "s1r2@acme.test",
    ),
    reply(BEN, "carla@example.org", "Re: Shipping question", "2026-01-05 18:00", "s1r3@acme.test", "s1c3@example.org"),
    # S2 "Broken zipper" (Standard), over the weekend in calendar hours:
    #   cycle 1, first reply: Fri 9 Jan 15:00 → Ben 16:00 = 3,600: achieved, Fri 9 Jan 16:00 (W02)
    #   cycle 2, next reply: Sat 10 Jan 10:00 → Ben Mon 12 Jan 09:00 = 47 h = 169,200 > 7,200: breached by
    #     162,000, due Sat 10 Jan 12:00 (W02)
    # Resolution, paused while pending: waits 3,600 + 169,200 = 172,800 > 21,600: breached by 151,200. The wait
    # reaches 6 h during cycle 2: 1 h from cycle 1, 5 h more from Sat 10:00 → due Sat 10 Jan 15:00 (W02); the
    # Friday evening spent waiting for the customer does not count.
    Mail("Bob <bob@example.com>", HELP, "Broken zipper", "2026-01-09 15:00", message_id="s2@example.com"),
    reply(BEN, "bob@example.com", "Re: Broken zipper", "2026-01-09 16:00", "s2r1@acme.test", "s2@example.com"),
    reply("Bob <bob@example.com>", HELP, "Re: Broken zipper", "2026-01-10 10:00", "s2c2@example.com", "s2r1@acme.test"),
    reply(BEN, "bob@example.com", "Re: Broken zipper", "2026-01-12 09:00", "s2r2@acme.test", "s2c2@example.com"),
    # S3 "Refund status" (Standard), unanswered: Mon 12 Jan 20:00, and again at the horizon, Tue 13 Jan 12:00
    # (one wait cycle). First reply: 16 h = 57,600 > 14,400 while running: breached by 43,200, due Mon 20:00 +
    # 4 h = Tue 13 Jan 00:00, local midnight (Mon 23:00 UTC): the breach belongs to Tue 13 Jan (W03).
    # Resolution: the customer has waited all along, 57,600 > 21,600: breached by 36,000, due Tue 13 Jan 02:00.
    Mail("Dora <dora@example.net>", HELP, "Refund status", "2026-01-12 20:00", message_id="s3@example.net"),
    reply(
        "Dora <dora@example.net>", HELP, "Re: Refund status", "2026-01-13 12:00", "s3b@example.net", "s3@example.net"
    ),
]

# 17 targets; V3's two and V4's resolution are still running within their time and left out. The other 14:
#   achieved (7): V1 first reply, V1 resolution, V2 resolution, S1 first reply, S1 cycle 2, S1 resolution,
#                 S2 first reply
#   breached (7): V2 first reply 1,800; V4 first reply 7,200; S1 cycle 3 3,600; S2 cycle 2 162,000;
#                 S2 resolution 151,200; S3 first reply 43,200; S3 resolution 36,000
#   compliance 7 / 14 = 0.5; breach seconds 1,800 + 7,200 + 3,600 + 162,000 + 151,200 + 43,200 + 36,000 = 405,000
# By target kind:
#   first reply: achieved V1, S1, S2; breached V2, V4, S3 → 3 / 6; breach 1,800 + 7,200 + 43,200 = 52,200
#   next reply: achieved S1 cycle 2; breached S1 cycle 3, S2 cycle 2 → 1 / 3; breach 3,600 + 162,000 = 165,600
#   resolution: achieved V1, V2, S1; breached S2, S3 → 3 / 5; breach 151,200 + 36,000 = 187,200

# Attributes a help desk connector would provide, written into the store after the import.
PRIORITIES = {"Card declined": "urgent", "Shipping question": "urgent"}
CATEGORIES = {"Card declined": "Billing > Cards", "Shipping question": "Billing-old"}
TAGS = [("Broken zipper", "escalated")]


def ticket_ids(store: Store) -> dict[str, str]:
    return {subject: ticket_id for ticket_id, subject in store.execute("SELECT ticket_id, subject FROM tickets")}


def build_scenario(store: Store, directory: Path) -> Config:
    """The mailbox imported, ticket attributes set as a connector would, and sla.toml written beside it."""
    mbox = write_mbox(directory / "support.mbox", MAILS, "Europe/Berlin")
    ingest_paths(store, CONFIG, [mbox])
    ids = ticket_ids(store)
    for subject, priority in PRIORITIES.items():
        store.execute("UPDATE tickets SET priority = ? WHERE ticket_id = ?", [priority, ids[subject]])
    for subject, category in CATEGORIES.items():
        store.execute("UPDATE tickets SET category = ? WHERE ticket_id = ?", [category, ids[subject]])
    tags = [{"ticket_id": ids[subject], "tag": tag, "source": "helpdesk"} for subject, tag in TAGS]
    store.insert_new("ticket_tags", pa.Table.from_pylist(tags, schema=TICKET_TAGS.arrow_schema()))
    return with_sla_file(directory / "sla.toml", SLA_TOML)


def with_sla_file(path: Path, text: str) -> Config:
    path.write_text(text, encoding="utf-8")
    return replace(CONFIG, files=FilesConfig(sla=path))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Config]:
    directory = tmp_path_factory.mktemp("sla")
    store = Store.open(directory / "deskpulse.duckdb")
    return store, build_scenario(store, directory)


BERLIN = ZoneInfo("Europe/Berlin")


def local(instant: datetime | None) -> str | None:
    """A naive UTC instant as Berlin wall-clock text, as the comments above give it."""
    if instant is None:
        return None
    return instant.replace(tzinfo=ZoneInfo("UTC")).astimezone(BERLIN).strftime("%a %d %H:%M")


def sla_rows(store: Store, config: Config) -> dict[tuple[str, str, int], dict[str, Any]]:
    calendar = build_calendar(store, config)
    targets = build_sla_targets(store, calendar, ticket_facts(store, calendar))
    subjects = {ticket_id: subject for subject, ticket_id in ticket_ids(store).items()}
    return {
        (subjects[row["ticket_id"]], row["kind"], row["cycle_number"]): row for row in targets.to_pyarrow().to_pylist()
    }


def test_each_target_and_its_outcome(scenario: tuple[Store, Config]) -> None:
    rows = sla_rows(*scenario)
    outcomes = {
        key: (
            row["policy"],
            row["target_seconds"],
            row["elapsed_seconds"],
            "achieved" if row["achieved"] else "breached" if row["breached"] else "left out",
            row["breach_seconds"],
            local(row["outcome_at"]),
        )
        for key, row in rows.items()
    }
    assert outcomes == {
        ("Card declined", "first_reply", 1): ("VIP", 1800, 1200, "achieved", 0, "Tue 06 09:10"),
        ("Card declined", "resolution", 0): ("VIP", 14400, 1200, "achieved", 0, "Tue 06 09:10"),
        ("Invoice missing", "first_reply", 1): ("VIP", 3600, 5400, "breached", 1800, "Mon 12 09:30"),
        ("Invoice missing", "resolution", 0): ("VIP", 28800, 5400, "achieved", 0, "Mon 12 10:00"),
        ("Login loop", "first_reply", 1): ("VIP", 3600, 1800, "left out", 0, None),
        ("Login loop", "resolution", 0): ("VIP", 28800, 1800, "left out", 0, None),
        ("Export stuck", "first_reply", 1): ("VIP", 3600, 10800, "breached", 7200, "Tue 13 10:00"),
        ("Export stuck", "resolution", 0): ("VIP", 28800, 10800, "left out", 0, None),
        ("Shipping question", "first_reply", 1): ("Standard", 14400, 3600, "achieved", 0, "Mon 05 11:00"),
        ("Shipping question", "next_reply", 2): ("Standard", 7200, 3600, "achieved", 0, "Mon 05 14:00"),
        ("Shipping question", "next_reply", 3): ("Standard", 7200, 10800, "breached", 3600, "Mon 05 17:00"),
        ("Shipping question", "resolution", 0): ("Standard", 21600, 18000, "achieved", 0, "Mon 05 18:00"),
        ("Broken zipper", "first_reply", 1): ("Standard", 14400, 3600, "achieved", 0, "Fri 09 16:00"),
        ("Broken zipper", "next_reply", 2): ("Standard", 7200, 169200, "breached", 162000, "Sat 10 12:00"),
        ("Broken zipper", "resolution", 0): ("Standard", 21600, 172800, "breached", 151200, "Sat 10 15:00"),
        ("Refund status", "first_reply", 1): ("Standard", 14400, 57600, "breached", 43200, "Tue 13 00:00"),
        ("Refund status", "resolution", 0): ("Standard", 21600, 57600, "breached", 36000, "Tue 13 02:00"),
    }
    # A breach is placed at its due time; the other rows have none.
    for row in rows.values():
        assert row["due_at"] == (row["outcome_at"] if row["breached"] else None)


def _compliance(result: dict[str, Any]) -> tuple[Any, ...]:
    return result["value"], result["n"], result["breach_seconds"]


def test_whole_period(scenario: tuple[Store, Config]) -> None:
    [row] = compute_kpis(*scenario, KpiQuery(["sla_compliance"], period="all")).rows
    compliance = row["sla_compliance"]
    assert _compliance(compliance) == (0.5, 14, 405000.0)
    by_target = compliance["by_target"]
    assert _compliance(by_target["first_reply"]) == (0.5, 6, 52200.0)
    assert _compliance(by_target["next_reply"]) == (pytest.approx(1 / 3), 3, 165600.0)
    assert _compliance(by_target["resolution"]) == (0.6, 5, 187200.0)
    # The Wilson interval of 7 in 14, as for every rate.
    assert compliance["ci_low"] == pytest.approx(0.2679, abs=1e-4)
    assert compliance["ci_high"] == pytest.approx(0.7321, abs=1e-4)


def test_by_week(scenario: tuple[Store, Config]) -> None:
    # Outcomes placed by the reply or resolution when achieved, by the due time when breached:
    #   W02: achieved V1 first reply and resolution (Tue 6), S1 first reply, cycle 2 and resolution (Mon 5),
    #        S2 first reply (Fri 9) = 6; breached S1 cycle 3 (Mon 5 17:00), S2 cycle 2 (Sat 10 12:00) and
    #        S2 resolution (Sat 10 15:00) = 3 → 6 / 9; breach 3,600 + 162,000 + 151,200 = 316,800
    #   W03: achieved V2 resolution (Mon 12) = 1; breached V2 first reply (Mon 12 09:30), V4 first reply
    #        (Tue 13 10:00), S3 first reply (Tue 13 00:00) and resolution (Tue 13 02:00) = 4 → 1 / 5;
    #        breach 1,800 + 7,200 + 43,200 + 36,000 = 88,200
    rows = compute_kpis(*scenario, KpiQuery(["sla_compliance"], period="week")).rows
    weeks = {row["period"]: _compliance(row["sla_compliance"]) for row in rows}
    assert weeks == {"2026-W02": (pytest.approx(6 / 9), 9, 316800.0), "2026-W03": (0.2, 5, 88200.0)}


def test_a_breach_at_local_midnight_belongs_to_the_new_day(scenario: tuple[Store, Config]) -> None:
    # S3's first reply was due Tue 13 Jan 00:00 Berlin time, Mon 12 Jan 23:00 UTC: a breach of Tuesday.
    # Tue 13: V4 first reply, S3 first reply and resolution, all breached: 0 / 3, 7,200 + 43,200 + 36,000.
    # Mon 12: V2 first reply breached (09:30), V2 resolution achieved (10:00): 1 / 2.
    rows = compute_kpis(*scenario, KpiQuery(["sla_compliance"], period="day")).rows
    days = {row["period"]: _compliance(row["sla_compliance"]) for row in rows}
    assert days["2026-01-13"] == (0.0, 3, 86400.0)
    assert days["2026-01-12"] == (0.5, 2, 1800.0)


def test_by_agent(scenario: tuple[Store, Config]) -> None:
    # Reply targets go to the agent who replied, resolution to the ticket's assignee (for mail, the agent of
    # its latest reply); targets nobody has answered yet have no agent.
    #   Ana: V1 first reply and resolution, V2 resolution achieved; V2 first reply breached (1,800) → 3 / 4
    #   Ben: S1 first reply, cycle 2, resolution and S2 first reply achieved; S1 cycle 3 (3,600), S2 cycle 2
    #        (162,000) and S2 resolution (151,200) breached → 4 / 7, breach 316,800
    #   nobody: V4 first reply (7,200), S3 first reply (43,200) and resolution (36,000) breached → 0 / 3
    rows = compute_kpis(*scenario, KpiQuery(["sla_compliance"], period="all", by=["agent"])).rows
    agents = {row["agent"]: _compliance(row["sla_compliance"]) for row in rows}
    assert agents == {
        "ana@acme.test": (0.75, 4, 1800.0),
        "ben@acme.test": (pytest.approx(4 / 7), 7, 316800.0),
        None: (0.0, 3, 86400.0),
    }


def test_by_priority(scenario: tuple[Store, Config]) -> None:
    # urgent: V1's two targets (achieved) and S1's four (3 achieved; cycle 3 breached by 3,600) → 5 / 6.
    rows = compute_kpis(*scenario, KpiQuery(["sla_compliance"], period="all", by=["priority"])).rows
    priorities = {row["priority"]: _compliance(row["sla_compliance"]) for row in rows}
    assert priorities["urgent"] == (pytest.approx(5 / 6), 6, 3600.0)


POLICY_CONDITIONS_TOML = """
[[policies]]
name = "Urgent billing"
hours = "calendar"
conditions = { priority = "urgent", category = "Billing" }
targets.default = { first_reply = "1h" }

[[policies]]
name = "Escalated"
hours = "calendar"
conditions = { tag = ["Escalated"] }
targets.default = { first_reply = "1h" }

[[policies]]
name = "Big customer"
hours = "calendar"
conditions = { organisation = ["bigco.example"] }
targets.default = { first_reply = "1h" }

[[policies]]
name = "VIP mailbox"
hours = "calendar"
conditions = { mailbox = ["VIP@acme.test"] }
targets.urgent = { first_reply = "1h" }
"""


def test_the_first_policy_whose_conditions_hold_applies(scenario: tuple[Store, Config], tmp_path: Path) -> None:
    store, _ = scenario
    config = with_sla_file(tmp_path / "sla.toml", POLICY_CONDITIONS_TOML)
    applied = {subject: row["policy"] for (subject, _, _), row in sla_rows(store, config).items()}
    assert applied == {
        # urgent, category "Billing > Cards": under Billing. S1 is urgent too, but "Billing-old" is not under it.
        "Card declined": "Urgent billing",
        # tagged "escalated": tags match whatever their case.
        "Broken zipper": "Escalated",
        # walt@bigco.example: the organisation is the requester's domain. Also mail to vip@, but policy 3 is first.
        "Invoice missing": "Big customer",
        # mail to vip@acme.test, matched whatever the case. "VIP mailbox" sets targets for urgent tickets only
        # and has no default: its tickets without a priority get no targets, and no later policy applies.
        # ("Login loop" and "Export stuck" are missing for that reason.)
    }
    # S1 "Shipping question" and S3 "Refund status" meet no policy's conditions: no targets.


def test_without_an_sla_file_nothing_is_measured(scenario: tuple[Store, Config]) -> None:
    store, _ = scenario
    [row] = compute_kpis(store, CONFIG, KpiQuery(["sla_compliance"], period="all")).rows
    assert row["sla_compliance"]["n"] == 0
    assert row["sla_compliance"]["by_target"]["resolution"] == {
        "value": None,
        "n": 0,
        "ci_low": None,
        "ci_high": None,
        "breach_seconds": None,
    }


def test_business_hours_policy_needs_business_hours(scenario: tuple[Store, Config], tmp_path: Path) -> None:
    store, config = scenario
    no_hours = replace(config, business_hours=parse_config({}).business_hours)
    with pytest.raises(InputFileError, match=r'policies\[1\]\.hours: "business", but the config sets no'):
        compute_kpis(store, no_hours, KpiQuery(["sla_compliance"], period="all"))
