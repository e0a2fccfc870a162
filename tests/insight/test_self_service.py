"""Self-service gaps on a hand-built mailbox whose every figure is worked out below.

The help desk: help@acme.test, agents at acme.test (Ana, Ben), reporting in UTC, a ticket resolved at its last
agent reply after 2 quiet days. The mail runs from Mon 5 to Fri 16 January 2026 (the horizon): every ticket of
5–9 January has had its quiet days and is resolved. Categories are written onto the tickets as the categorizer
would. Each customer writes once, so a customer's name appears in a single answer.

    category                   tickets  first answer                                     touches
    Account > Password reset   P1–P4    the same 15-word template, only the name differs  1 each
    Shipping                   S1–S3    three different short answers (9, 8, 9 words)     1 each
    Billing > Invoice          B1–B3    a 134-word explanation, then a second reply       2 each
    Unclassified / none        U1, U2   Fri 16 Jan, unanswered                            –

12 tickets in all. costs.csv: January 3,100 = 100 a day; the store's mail covers 5–16 January, 12 days, so the
range's cost is 1,200 and the cost per ticket 1,200 / 12 = 100 (the KPI engine's cost_per_ticket). Time entries:
P1 300 s, P2 240 s.

    group                      tickets  share  one-touch     median words  similarity  score
    Account (its only sub)     4        4/12   4 of 4 = 1.0  15            1.0         4 × 1 × 1.0 = 4.0
    Account > Password reset   4        4/12   4 of 4        15            1.0         4.0
    Shipping                   3        3/12   3 of 3        9             low         3 × 1 × s < 3
    Billing, Billing > Invoice 3        3/12   0 of 3        134           1.0         0

The password answers are one vector each once the names (words of a single answer) are left out, so their mean
pairwise cosine is exactly 1. Shortness is 1 up to 50 words (`SHORT_ANSWER_WORDS`), so the score of a short
category is its one-touch tickets × similarity. Saved: Password reset 4 tickets, 4 × 100 = 400, 300 + 240 = 540
tracked seconds on 2 tickets; Shipping 3 tickets, 300, no tracked time.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tests.mailbuilder import conversation, write_mbox
from typer.testing import CliRunner

from deskpulse.cli import app
from deskpulse.config import parse_config, resolve_files
from deskpulse.ingest import ingest_paths
from deskpulse.inputs.time_entries import load_time_entries
from deskpulse.insight.self_service import GapOptions, GapReport, find_gaps
from deskpulse.store import Store

CONFIG_TOML = """\
[helpdesk]
support_addresses = ["help@acme.test"]
agent_domains = ["acme.test"]

[resolution]
inactivity_days = 2

[files]
costs = "costs.csv"

[costs]
currency = "EUR"
"""
CONFIG = parse_config(
    {
        "helpdesk": {"support_addresses": ["help@acme.test"], "agent_domains": ["acme.test"]},
        "resolution": {"inactivity_days": 2},
        "files": {"costs": "costs.csv"},
        "costs": {"currency": "EUR"},
    }
)
COSTS_CSV = "month,category,amount\n2026-01,staff,2480\n2026-01,tools,620\n"  # 3,100: 100 a day
ANA = "Ana Agent <ana@acme.test>"
BEN = "Ben Agent <ben@acme.test>"


def password_answer(name: str) -> str:
    # 15 words: Hi, <name>, please reset your password at https://acme.test/reset; the link is valid for one hour.
    return f"Hi {name},\n\nplease reset your password at https://acme.test/reset; the link is valid for one hour."


def invoice_answer(name: str) -> str:
    # 134 words (2 for the greeting, 132 for the explanation).
    return (
        f"Hi {name},\n\nthank you for the details. Your invoice shows the net amount because the VAT number on "
        "your account was entered after the order was placed, and our billing system fixes the tax rate when the "
        "order is created. To correct it we have to cancel the original invoice, issue a credit note for the full "
        "amount and then raise a new invoice with the VAT line included. The credit note and the new invoice will "
        "arrive as two separate emails within the next two working days. You do not need to pay the new invoice "
        "if you have already paid the original one, because the payment is moved across automatically. Please "
        "check that the company name and address on the new invoice are right before you forward it to your "
        "accounting team."
    )


def customer(name: str) -> str:
    return f"{name} Customer <{name.lower()}@example.org>"


PASSWORD = ["Carla", "Dora", "Erik", "Fay"]
SHIPPING = [
    ("Gina", "Parcel late", "Hi Gina,\n\nyour parcel left our warehouse this morning."),
    ("Hugo", "Parcel damaged", "Hi Hugo,\n\nwe sent a replacement by express."),
    ("Ivan", "Delivery time", "Hi Ivan,\n\nthe courier will call you before delivery."),
]
BILLING = ["Jana", "Kai", "Lena"]

MAILS = [
    *(
        mail
        for day, name in enumerate(PASSWORD, start=5)
        for mail in conversation(
            f"p{day}",
            f"Forgot my password ({name})",
            customer(name),
            (f"2026-01-{day:02d} 09:00", customer(name), "Hello,\n\nI forgot my password."),
            (f"2026-01-{day:02d} 09:30", ANA, password_answer(name)),
        )
    ),
    *(
        mail
        for day, (name, subject, answer) in enumerate(SHIPPING, start=7)
        for mail in conversation(
            f"s{day}",
            subject,
            customer(name),
            (f"2026-01-{day:02d} 10:00", customer(name), f"Hello,\n\n{subject.lower()}: what now?"),
            (f"2026-01-{day:02d} 11:00", BEN, answer),
        )
    ),
    *(
        mail
        for day, name in enumerate(BILLING, start=5)
        for mail in conversation(
            f"b{day}",
            f"Invoice without VAT ({name})",
            customer(name),
            (f"2026-01-{day:02d} 13:00", customer(name), "Hello,\n\nmy invoice has no VAT line."),
            (f"2026-01-{day:02d} 14:00", BEN, invoice_answer(name)),
            (f"2026-01-{day:02d} 15:00", customer(name), "Which address do you have for us?"),
            (f"2026-01-{day:02d} 16:00", BEN, f"Hi {name},\n\nthe one in Berlin."),
        )
    ),
    *conversation("u1", "Question", customer("Mia"), ("2026-01-16 09:00", customer("Mia"), "Hello,\n\nhelp?")),
    *conversation("u2", "Other", customer("Nils"), ("2026-01-16 10:00", customer("Nils"), "Hello,\n\nhi.")),
]


def categories() -> dict[str, str | None]:
    found: dict[str, str | None] = {f"Forgot my password ({name})": "Account > Password reset" for name in PASSWORD}
    found.update({subject: "Shipping" for _, subject, _ in SHIPPING})
    found.update({f"Invoice without VAT ({name})": "Billing > Invoice" for name in BILLING})
    found.update({"Question": "Unclassified", "Other": None})
    return found


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    directory = tmp_path_factory.mktemp("gaps")
    (directory / "costs.csv").write_text(COSTS_CSV, encoding="utf-8")
    (directory / "deskpulse.toml").write_text(CONFIG_TOML, encoding="utf-8")
    config = resolve_files(replace(CONFIG, source=directory / "deskpulse.toml"))
    path = directory / "deskpulse.duckdb"
    with Store.open(path) as store:
        ingest_paths(store, config, [write_mbox(directory / "support.mbox", MAILS)])
        for subject, category in categories().items():
            store.execute("UPDATE tickets SET category = ? WHERE subject = ?", [category, subject])
        tickets = ids(store)
        entries = directory / "time_entries.csv"
        entries.write_text(
            "ticket_id,agent,started_at,seconds\n"
            f"{tickets['Forgot my password (Carla)']},ana@acme.test,2026-01-05 09:25,300\n"
            f"{tickets['Forgot my password (Dora)']},ana@acme.test,2026-01-06 09:25,240\n",
            encoding="utf-8",
        )
        load_time_entries(store, entries, "UTC")
    return path, config


def ids(store: Store) -> dict[str, str]:
    """Subject → ticket_id (ids are hashes of the root message, so they are read, not written down)."""
    return {subject: ticket_id for ticket_id, subject in store.execute("SELECT ticket_id, subject FROM tickets")}


@pytest.fixture(scope="module")
def report(scenario: tuple[Path, Any]) -> GapReport:
    path, config = scenario
    with Store.open(path, read_only=True) as store:
        return find_gaps(store, config, GapOptions(min_tickets=3))


@pytest.fixture(scope="module")
def tickets(scenario: tuple[Path, Any]) -> dict[str, str]:
    with Store.open(scenario[0], read_only=True) as store:
        return ids(store)


def test_short_templated_one_touch_answers_rank_first(report: GapReport, tickets: dict[str, str]) -> None:
    assert (str(report.since), str(report.until), report.tickets) == ("2025-10-19", "2026-01-16", 12)  # 90 days
    assert [(g.category, g.candidate) for g in report.categories] == [
        ("Account", True),  # ties with its only subcategory: the one with the shorter name first
        ("Account > Password reset", True),
        ("Shipping", True),
        ("Billing", False),
        ("Billing > Invoice", False),
    ]
    password = report.categories[1]
    assert password.level == "subcategory" and report.categories[0].level == "category"
    assert (password.tickets, password.share, password.resolved, password.one_touch) == (4, 4 / 12, 4, 4)
    assert (password.answers, password.median_words) == (4, 15.0)
    assert password.similarity == pytest.approx(1.0)
    assert password.score == pytest.approx(4.0)  # 4 one-touch × shortness 1 × similarity 1
    # Equal answers: the oldest ticket's is the typical one, as written (the name is part of it).
    assert password.typical_ticket_id == tickets["Forgot my password (Carla)"]
    assert password.typical_reply == password_answer("Carla")
    assert set(password.ticket_ids) == {tickets[f"Forgot my password ({name})"] for name in PASSWORD}
    assert (password.one_touch_share, password.shortness) == (1.0, 1.0)

    shipping = report.categories[2]
    assert (shipping.tickets, shipping.one_touch, shipping.median_words) == (3, 3, 9.0)
    assert shipping.similarity is not None and 0.0 <= shipping.similarity < 0.5  # three different answers
    assert shipping.score == pytest.approx(3 * shipping.similarity)

    billing = report.categories[4]
    assert (billing.tickets, billing.resolved, billing.one_touch, billing.median_words) == (3, 3, 0, 134.0)
    assert billing.misses == ["min_one_touch", "max_words"]
    assert billing.score == pytest.approx(0.0)  # no one-touch ticket, whatever its similarity
    assert billing.shortness == pytest.approx(50 / 134)


def test_tickets_time_and_cost_saved(report: GapReport) -> None:
    # 1,200 of cost over the 12 days of mail ÷ 12 tickets created.
    assert (report.cost_per_ticket, report.currency, report.cost_note) == (pytest.approx(100.0), "EUR", None)
    saved = {g.category: (g.one_touch, g.cost_saved, g.handle_seconds, g.tracked_tickets) for g in report.categories}
    assert saved["Account > Password reset"] == (4, pytest.approx(400.0), 540.0, 2)
    assert saved["Shipping"] == (3, pytest.approx(300.0), None, 0)
    assert saved["Billing > Invoice"] == (0, 0.0, None, 0)


def test_without_costs_only_tickets_and_time(scenario: tuple[Path, Any]) -> None:
    path, config = scenario
    without = replace(config, files=replace(config.files, costs=None))
    with Store.open(path, read_only=True) as store:
        report = find_gaps(store, without, GapOptions(min_tickets=3))
    assert report.cost_per_ticket is None
    assert report.cost_note is not None and "no costs file" in report.cost_note
    password = next(g for g in report.categories if g.category == "Account > Password reset")
    assert (password.one_touch, password.cost_saved, password.handle_seconds) == (4, None, 540.0)


def test_the_range_and_the_thresholds(scenario: tuple[Path, Any]) -> None:
    path, config = scenario
    with Store.open(path, read_only=True) as store:
        # 7–9 January: P3, P4, S1–S3 and B3 (created on the 7th).
        narrow = find_gaps(store, config, GapOptions(min_tickets=3, since=date(2026, 1, 7), until=date(2026, 1, 9)))
    assert narrow.tickets == 6
    figures = {g.category: (g.tickets, g.candidate, g.misses) for g in narrow.categories}
    assert figures["Account > Password reset"] == (2, False, ["min_tickets"])
    assert figures["Shipping"][:2] == (3, True)
    assert narrow.cost_per_ticket == pytest.approx(300 / 6)  # 3 days × 100 ÷ 6 tickets


def test_the_command_prints_json(scenario: tuple[Path, Any], tickets: dict[str, str]) -> None:
    path, config = scenario
    assert config.source is not None
    result = CliRunner().invoke(app, ["--config", str(config.source), "--db", str(path), "gaps", "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["tickets"] == 12 and payload["cost_per_ticket"] == pytest.approx(100.0)
    assert payload["thresholds"] == {"min_tickets": 10, "min_one_touch": 0.6, "max_words": 100}
    # The default minimum of 10 tickets: no category qualifies, but each is measured and ranked by its score.
    assert all(not c["candidate"] and "min_tickets" in c["misses"] for c in payload["categories"])
    first = payload["categories"][0]
    assert (first["category"], first["tickets_saved"], first["score"]) == ("Account", 4, pytest.approx(4.0))
    assert first["cost_saved"] == pytest.approx(400.0) and first["handle_seconds_saved"] == 540.0
    assert first["typical_reply"] == password_answer("Carla")
    assert first["typical_ticket_id"] == tickets["Forgot my password (Carla)"]
