"""A small help desk whose department report is worked out by hand (the figures are in test_department_report.py).

Reporting timezone Europe/Berlin; the report is for March 2026, compared with February. Categories are written
onto the tickets as the categorizer would, tags as a help desk would, and sentiment scores as `deskpulse
sentiment score` would, so every number is chosen, not estimated.

    ticket  created (Berlin)   category                  tag          customer text (score)
    R1      Mar 2 09:00        Billing > Refund                       card, e-mail, phone, names (−0.8 neg);
                                                                      a second message after a reply (−0.6 neg)
    R2      Mar 3              Billing > Refund                       "Please refund order A100…" (+0.2 pos)
    R3      Mar 4              Billing > Refund                       "Please refund order A200…" (0.0 neutral)
    R4      Mar 1 00:30        Billing > Refund                       (not scored) — Feb 28 23:30 UTC, yet March
    I1      Mar 6              Billing > Invoice                      (−0.9 neg)
    C1      Mar 9              Bug > App Crash                        (−0.7 neg)
    C2      Mar 10             Bug > App Crash                        mentions a refund (+0.1 neutral)
    U1      Mar 11             –                                      "money back" (−0.5 neg)
    U2      Mar 12             Unclassified                           "crashed": not the keyword "crash"
    T1      Mar 13             Shipping & Returns <b>    chargeback   a <script> payload (not scored)
    S1      Mar 16             Shipping                               reaches no department
    U3      Mar 17             –                         Chargeback   (−0.4 neg)
    February: FR1–FR3 Billing > Refund (FR3 on Feb 28 23:30 Berlin), FI1–FI2 Billing > Invoice, FC1 Bug > App Crash.
    Outside both periods: J1 (Jan 20) and A1 (Apr 1), Billing > Refund.

Departments (replacing the defaults): finance = category Billing, tag chargeback, keywords Refunds = refund,
money back; engineering = category Bug, keyword crash. costs.csv: March 2,400 EUR; 12 tickets are created in
March, so the KPI engine's cost per ticket is 2,400 / 12 = 200.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.mailbuilder import Mail, conversation, write_mbox

from deskpulse.columns import arrow_table
from deskpulse.config import Config, load_config
from deskpulse.ingest import ingest_paths
from deskpulse.schema import MESSAGE_SENTIMENT, TICKET_TAGS
from deskpulse.store import Store

CONFIG_TOML = """\
[helpdesk]
support_addresses = ["help@acme.test"]
agent_domains = ["acme.test"]
timezone = "Europe/Berlin"

[files]
costs = "costs.csv"

[costs]
currency = "EUR"

[departments]
defaults = false

[departments.finance]
categories = ["Billing"]
tags = ["chargeback"]
keywords = { Refunds = ["refund", "money back"] }

[departments.engineering]
categories = ["Bug"]
keywords = ["crash"]
"""
COSTS_CSV = "month,category,amount\n2026-03,staff,2400\n"
ANA = "Ana Agent <ana@acme.test>"
R1_FIRST = (
    "Hi Anna,\n\nI was charged twice on my card 4111 1111 1111 1111 and I want a refund now. Write to me at "
    "carla@example.org or call +49 30 1234567.\n\nThanks, Carla"
)
R1_FIRST_REDACTED = (
    "Hi [name], I was charged twice on my card [card] and I want a refund now. Write to me at [email] or call "
    "[phone]. Thanks, [name]"
)
SCRIPT = "<script>alert('x')</script> My parcel never came and I will dispute the payment."

# key: (created, subject, category, customer text, score and label or None)
TICKETS: dict[str, tuple[str, str, str | None, str, tuple[float, str] | None]] = {
    "r1": ("2026-03-02 09:00", "Charged twice", "Billing > Refund", R1_FIRST, (-0.8, "negative")),
    "r2": ("2026-03-03 09:00", "Refund A100", "Billing > Refund", "Please refund order A100, the refund is late.",
           (0.2, "positive")),
    "r3": ("2026-03-04 09:00", "Refund A200", "Billing > Refund",
           "Please refund order A200, the refund is late again.", (0.0, "neutral")),
    "r4": ("2026-03-01 00:30", "Refund A300", "Billing > Refund", "Where is the refund for order A300?", None),
    "i1": ("2026-03-06 09:00", "No VAT", "Billing > Invoice", "My invoice has no VAT line, this is annoying.",
           (-0.9, "negative")),
    "c1": ("2026-03-09 09:00", "App crash", "Bug > App Crash", "The app crashes when I open my reports.",
           (-0.7, "negative")),
    "c2": ("2026-03-10 09:00", "Crash on start", "Bug > App Crash",
           "The app crashes on start, I want a refund for this month.", (0.1, "neutral")),
    "u1": ("2026-03-11 09:00", "Broken lamp", None, "I want my money back for the broken lamp.", (-0.5, "negative")),
    "u2": ("2026-03-12 09:00", "Crashed", "Unclassified", "The app crashed twice today, what now?", None),
    "t1": ("2026-03-13 09:00", "Parcel", "Shipping & Returns <b>", SCRIPT, None),
    "s1": ("2026-03-16 09:00", "Where is it", "Shipping", "Where is my parcel? It is late.", None),
    "u3": ("2026-03-17 09:00", "Dispute", None, "I disputed the payment with my bank today.", (-0.4, "negative")),
    "fr1": ("2026-02-10 09:00", "Old refund 1", "Billing > Refund", "Refund please, order A1.", None),
    "fr2": ("2026-02-12 09:00", "Old refund 2", "Billing > Refund", "Refund please, order A2.", None),
    "fr3": ("2026-02-28 23:30", "Old refund 3", "Billing > Refund", "Refund please, order A3.", None),
    "fi1": ("2026-02-16 09:00", "Old invoice 1", "Billing > Invoice", "Invoice question one.", None),
    "fi2": ("2026-02-17 09:00", "Old invoice 2", "Billing > Invoice", "Invoice question two.", None),
    "fc1": ("2026-02-15 09:00", "Old crash", "Bug > App Crash", "The app crashes.", None),
    "j1": ("2026-01-20 09:00", "January refund", "Billing > Refund", "Refund please, order J1.", None),
    "a1": ("2026-04-01 09:00", "April refund", "Billing > Refund", "Refund please, order Q2.", None),
}  # fmt: skip
TAGS = {"t1": "chargeback", "u3": "Chargeback"}
R1_SECOND = (
    "2026-03-02 11:00",
    "Still no refund for order 12345678 of 49.99 EUR. This is terrible.",
    (-0.6, "negative"),
)


@dataclass(frozen=True)
class Scenario:
    db: Path
    config: Config
    ids: dict[str, str]  # key (r1, t1, …) → ticket_id


def _customer(key: str) -> str:
    return f"Customer {key.upper()} <{key}@example.org>"


def _mails() -> list[Mail]:
    mails: list[Mail] = []
    for key, (created, subject, _, text, _) in TICKETS.items():
        steps: list[tuple[str, str, str]] = [(created, _customer(key), text)]
        if key == "r1":
            steps += [
                ("2026-03-02 10:00", ANA, "Hi,\n\nwe are looking into it."),
                (R1_SECOND[0], _customer(key), R1_SECOND[1]),
            ]
        mails += conversation(key, subject, _customer(key), *steps)
    return mails


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    directory = tmp_path_factory.mktemp("reports")
    (directory / "deskpulse.toml").write_text(CONFIG_TOML, encoding="utf-8")
    (directory / "costs.csv").write_text(COSTS_CSV, encoding="utf-8")
    config = load_config(directory / "deskpulse.toml")
    db = directory / "deskpulse.duckdb"
    with Store.open(db) as store:
        ingest_paths(store, config, [write_mbox(directory / "support.mbox", _mails(), "Europe/Berlin")])
        by_subject = {
            subject: ticket_id for ticket_id, subject in store.execute("SELECT ticket_id, subject FROM tickets")
        }
        ids = {key: by_subject[subject] for key, (_, subject, *_) in TICKETS.items()}
        for key, (_, _, category, _, _) in TICKETS.items():
            store.execute("UPDATE tickets SET category = ? WHERE ticket_id = ?", [category, ids[key]])
        store.insert_new(
            "ticket_tags",
            arrow_table(
                TICKET_TAGS,
                {"ticket_id": [ids[k] for k in TAGS], "tag": list(TAGS.values()), "source": ["test"] * len(TAGS)},
            ),
        )
        scores = {f"{key}-1@example.org": t[4] for key, t in TICKETS.items() if t[4] is not None}
        scores["r1-3@example.org"] = R1_SECOND[2]
        now = datetime(2026, 4, 2, tzinfo=UTC).replace(tzinfo=None)
        store.insert_new(
            "message_sentiment",
            arrow_table(
                MESSAGE_SENTIMENT,
                {
                    "message_key": list(scores),
                    "score": [score for score, _ in scores.values()],
                    "label": [label for _, label in scores.values()],
                    "reasons": [[] for _ in scores],
                    "signals": [[] for _ in scores],
                    "method": ["test"] * len(scores),
                    "scored_at": [now] * len(scores),
                },
            ),
        )
    return Scenario(db, config, ids)
