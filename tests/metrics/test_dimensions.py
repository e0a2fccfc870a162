"""Grouping and filtering by team, organisation, tag, priority and review flag, on three hand-built tickets.

Ana is in team Billing and Ben in team Tech (agents.csv). Carla and Dora write from example.org; Bob from
gmail.com, a mail provider, which is no organisation. Tags and a priority stand in for what a help desk export
brings (the connectors write `ticket_tags` and `tickets.priority`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from tests.mailbuilder import Mail, write_mbox

from deskpulse.config import parse_config, resolve_files
from deskpulse.errors import UserError
from deskpulse.ingest import ingest_paths
from deskpulse.metrics.engine import KpiQuery, compute_kpis, parse_filters
from deskpulse.store import Store

CONFIG = parse_config({"helpdesk": {"support_addresses": ["help@acme.test"], "agent_domains": ["acme.test"]}})
ANA, BEN = "Ana <ana@acme.test>", "Ben <ben@acme.test>"
MAILS = [
    Mail("Carla <carla@example.org>", "help@acme.test", "Refund", "2026-03-02 10:00", message_id="c1@x"),
    Mail(ANA, "carla@example.org", "Re: Refund", "2026-03-02 11:00", message_id="c2@x", in_reply_to="c1@x"),
    Mail("Bob <bob@gmail.com>", "help@acme.test", "Crash", "2026-03-03 10:00", message_id="b1@x"),
    Mail(BEN, "bob@gmail.com", "Re: Crash", "2026-03-03 12:00", message_id="b2@x", in_reply_to="b1@x"),
    Mail("Dora <dora@example.org>", "help@acme.test", "Invoice", "2026-03-04 10:00", message_id="d1@x"),
    Mail(ANA, "dora@example.org", "Re: Invoice", "2026-03-04 10:30", message_id="d2@x", in_reply_to="d1@x"),
]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Any:
    directory = tmp_path_factory.mktemp("dimensions")
    (directory / "agents.csv").write_text(
        "address,name,team\nana@acme.test,Ana,Billing\nben@acme.test,Ben,Tech\n", encoding="utf-8"
    )
    config = resolve_files(
        replace(CONFIG, files=replace(CONFIG.files, agents=Path("agents.csv")), source=directory / "x.toml")
    )
    with Store.open(directory / "deskpulse.duckdb") as store:
        ingest_paths(store, config, [write_mbox(directory / "support.mbox", MAILS)])
        ids = {subject: ticket for ticket, subject in store.execute("SELECT ticket_id, subject FROM tickets")}
        tags = [(ids["Refund"], "refund"), (ids["Refund"], "vip"), (ids["Crash"], "vip")]
        store.insert_new(
            "ticket_tags",
            pa.table({"ticket_id": [t for t, _ in tags], "tag": [g for _, g in tags], "source": ["test"] * 3}),
        )
        store.execute("UPDATE tickets SET priority = 'urgent' WHERE ticket_id = ?", [ids["Refund"]])
        # Crash was flagged twice for sentiment (two angry messages): it still counts once under the kind.
        store.execute(
            "INSERT INTO ticket_flags (kind, message_key, ticket_id, reason, state) VALUES "
            "('sentiment', 'b1@x', ?, 'very negative', 'open'), ('sentiment', 'b9@x', ?, 'getting worse', 'reviewed')",
            [ids["Crash"], ids["Crash"]],
        )
        yield store, config


def created(store: Store, config: Any, by: list[str], filters: dict[str, tuple[str, ...]] | None = None) -> Any:
    query = KpiQuery(["tickets_created", "first_response_time"], period="all", by=by, filters=filters or {})
    rows = compute_kpis(store, config, query).rows
    return {tuple(row[d] for d in by): row["tickets_created"]["value"] for row in rows}


def test_by_team_credits_the_agents_team(scenario: Any) -> None:
    # tickets_created per agent is the first replier's: Ana answered Refund and Invoice, Ben answered Crash.
    assert created(*scenario, ["team"]) == {("Billing",): 2, ("Tech",): 1}


def test_by_organisation_leaves_mail_providers_out(scenario: Any) -> None:
    assert created(*scenario, ["organisation"]) == {("example.org",): 2, (None,): 1}


def test_a_ticket_counts_under_each_of_its_tags(scenario: Any) -> None:
    # Refund has two tags, Crash one, Invoice none: 2 + 1 + 1 rows, one per (ticket, tag).
    assert created(*scenario, ["tag"]) == {("refund",): 1, ("vip",): 2, (None,): 1}


def test_a_ticket_counts_once_under_each_kind_of_flag(scenario: Any) -> None:
    assert created(*scenario, ["flag"]) == {("sentiment",): 1, (None,): 2}
    assert created(*scenario, [], {"flag": ("sentiment",)}) == {(): 1}


def test_filters_keep_only_the_named_values(scenario: Any) -> None:
    assert created(*scenario, [], {"tag": ("vip",)}) == {(): 2}
    assert created(*scenario, [], {"priority": ("urgent",)}) == {(): 1}
    assert created(*scenario, ["organisation"], {"team": ("Billing",)}) == {("example.org",): 2}
    # Two values of one dimension: either will do.
    assert created(*scenario, [], {"team": ("Billing", "Tech")}) == {(): 3}
    # A filter and a duration: Ben's one reply took 2 h.
    query = KpiQuery(["first_response_time"], period="all", filters={"team": ("Tech",)})
    assert compute_kpis(scenario[0], scenario[1], query).rows[0]["first_response_time"]["median"] == 7200


def test_filter_text_is_parsed_and_checked() -> None:
    assert parse_filters(["priority=urgent,high", "team=Billing", "team=Tech"]) == {
        "priority": ("urgent", "high"),
        "team": ("Billing", "Tech"),
    }
    with pytest.raises(UserError, match="cannot filter by 'colour'"):
        parse_filters(["colour=red"])
    with pytest.raises(UserError, match="DIMENSION=VALUE"):
        parse_filters(["urgent"])
