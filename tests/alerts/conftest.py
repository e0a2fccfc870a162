"""A small help desk with one of each thing an alert is about, worked out by hand (all times UTC).

Eight weeks of everyday tickets, Mon 5 Jan … Sun 1 Mar 2026, each one customer message to help@acme.test that
nobody answers (no SLA policy applies to that mailbox): every day six "Shipping > Delay" tickets and one
"Billing > Refund", at 08:00, 09:40, 11:20, 13:00, 14:40, 16:20 and 18:00 (the Billing one at 09:40). The
store's latest activity ("now" by default) is therefore Sun 1 Mar 18:00.

Planted:
* a spike: eight more "Billing > Refund" tickets on Sun 1 Mar from 12:00, 9 where the baseline expects 1; all
  tickets that day are 15 where 7 are due, P(X ≥ 15 | 7) = 0.006, above trends' α of 0.001: no spike there;
* SLA (sla.toml: mail to vip@acme.test, calendar hours, first reply 1 h, resolution 24 h):
  V3 Thu 26 Feb 09:00, answered 09:30: achieved; V1 Fri 27 Feb 09:00, answered 11:30: first reply breached,
  due 10:00, met 1 h 30 m late; V2 Sat 28 Feb 20:00, unanswered: first reply due 21:00, still open at 18:00 on
  Sunday, 21 h over. Resolution (24 h): V1 and V3 resolved after one quiet day within it; V2 has run 22 h: not yet
  breached;
* utilization (schedules.csv: ana works 8 paid hours Mon–Fri): four hours tracked every weekday of February on
  that day's 08:00 ticket, 20 × 4 h = 80 h of 20 × 8 h = 160 h paid, 50 %: below the 70–80 % band;
* sentiment flags (as `sentiment score` raises them): the Sunday Billing ticket, whose subject is a script tag,
  flagged by its message at 09:40 ("HOSTILE"); Friday's 08:00 Shipping ticket flagged at 08:00; Sunday's 13:00
  Shipping ticket flagged and then reviewed by a manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from tests.mailbuilder import Mail, write_mbox

from deskpulse.config import Config, load_config
from deskpulse.ingest import ingest_paths
from deskpulse.inputs.time_entries import load_time_entries
from deskpulse.insight.flags import FlagCandidate, refresh_flags, review
from deskpulse.store import Store

FIRST_DAY, LAST_DAY = date(2026, 1, 5), date(2026, 3, 1)
TIMES = ["08:00", "09:40", "11:20", "13:00", "14:40", "16:20", "18:00"]
BILLING_TIME = "09:40"
HOSTILE = '<script>alert("pwned")</script> Refund & "chargeback"'
AGENT = "Ana Agent <ana@acme.test>"

CONFIG_TOML = """
[helpdesk]
support_addresses = ["help@acme.test", "vip@acme.test"]
agent_domains = ["acme.test"]

[resolution]
inactivity_days = 1

[files]
sla = "sla.toml"
schedules = "schedules.csv"
"""

SCHEDULES_CSV = """agent,valid_from,mon,tue,wed,thu,fri,sat,sun
ana@acme.test,2026-01-05,8,8,8,8,8,,
"""

SLA_TOML = """
[[policies]]
name = "VIP"
hours = "calendar"
conditions = { mailbox = "vip@acme.test" }

[policies.targets.default]
first_reply = "1h"
resolution = "24h"
"""


@dataclass(frozen=True)
class Desk:
    directory: Path
    db: Path
    tickets: dict[str, str]  # subject → ticket id
    hostile_message: str  # the message key that flagged the hostile ticket

    def config(self, alerts: str = "") -> Config:
        """The desk's config, with ``alerts`` (TOML lines of [alerts] and its tables) appended."""
        path = self.directory / "deskpulse.toml"
        path.write_text(CONFIG_TOML + alerts, encoding="utf-8")
        return load_config(path)


def _mails() -> list[Mail]:
    mails = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        for number, at in enumerate(TIMES):
            billing = at == BILLING_TIME
            subject = f"Refund for order {day:%m%d}" if billing else f"Parcel {day:%m%d}-{number}"
            if billing and day == LAST_DAY:
                subject = HOSTILE
            customer = f"c{day:%m%d}{number}@example.org"
            mails.append(Mail(customer, "help@acme.test", subject, f"{day} {at}", message_id=f"{customer}-1"))
        day += timedelta(days=1)
    for number in range(8):
        customer = f"spike{number}@example.org"
        subject = f"Refund please {number}"
        mails.append(Mail(customer, "help@acme.test", subject, f"{LAST_DAY} 12:0{number}", message_id=customer))
    for name, asked, answered in (
        ("V3", "2026-02-26 09:00", "2026-02-26 09:30"),
        ("V1", "2026-02-27 09:00", "2026-02-27 11:30"),
        ("V2", "2026-02-28 20:00", None),
    ):
        customer = f"{name.lower()}@bigco.example"
        mails.append(Mail(customer, "vip@acme.test", f"{name} card declined", asked, message_id=f"{name}@bigco"))
        if answered:
            mails.append(
                Mail(
                    AGENT,
                    customer,
                    f"Re: {name} card declined",
                    answered,
                    message_id=f"{name}r@acme.test",
                    in_reply_to=f"{name}@bigco",
                    references=[f"{name}@bigco"],
                )
            )
    return mails


@pytest.fixture(scope="session")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    directory = tmp_path_factory.mktemp("desk")
    (directory / "sla.toml").write_text(SLA_TOML, encoding="utf-8")
    (directory / "schedules.csv").write_text(SCHEDULES_CSV, encoding="utf-8")
    (directory / "deskpulse.toml").write_text(CONFIG_TOML, encoding="utf-8")
    config = load_config(directory / "deskpulse.toml")
    db = directory / "deskpulse.duckdb"
    with Store.open(db) as store:
        ingest_paths(store, config, [write_mbox(directory / "support.mbox", _mails())])
        # Categories as `categorize apply` writes them.
        store.execute("UPDATE tickets SET category = 'Shipping > Delay'")
        store.execute(
            "UPDATE tickets SET category = 'Billing > Refund' WHERE subject LIKE 'Refund%' OR subject = ?", [HOSTILE]
        )
        store.execute("UPDATE tickets SET category = NULL WHERE subject LIKE 'V_ card declined'")
        tickets = {subject: ticket_id for ticket_id, subject in store.execute("SELECT ticket_id, subject FROM tickets")}
        messages = dict(store.execute("SELECT subject, message_key FROM messages"))
        flagged = [
            (HOSTILE, "chargeback threat: 'chargeback'", -0.9, datetime(2026, 3, 1, 9, 40)),
            ("Parcel 0227-0", "very negative: ticket -0.80", -0.8, datetime(2026, 2, 27, 8, 0)),
            ("Parcel 0301-3", "very negative: ticket -0.70", -0.7, datetime(2026, 3, 1, 13, 0)),
        ]
        candidates = [
            FlagCandidate("sentiment", messages[subject], tickets[subject], reason, score, at)
            for subject, reason, score, at in flagged
        ]
        refresh_flags(store, "sentiment", candidates)
        review(store, tickets["Parcel 0301-3"], "manager")
        february = [date(2026, 2, 1) + timedelta(days=n) for n in range(28)]
        entries = ["ticket_id,agent,started_at,seconds"] + [
            f"{tickets[f'Parcel {day:%m%d}-0']},ana@acme.test,{day} 08:05,14400"
            for day in february
            if day.weekday() < 5
        ]
        (directory / "time_entries.csv").write_text("\n".join(entries) + "\n", encoding="utf-8")
        load_time_entries(store, directory / "time_entries.csv", "UTC")
    return Desk(directory, db, tickets, messages[HOSTILE])
