"""`[departments]`: parsing with errors naming the key, the defaults, and the keyword patterns the engine runs."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from deskpulse.columns import arrow_table
from deskpulse.config import ConfigError, parse_config
from deskpulse.reports.routing import (
    DEFAULT_DEPARTMENTS,
    KeywordGroup,
    departments_config,
    keyword_pattern,
    parse_departments,
    route_tickets,
)
from deskpulse.schema import TICKETS
from deskpulse.store import Store


def test_defaults_without_a_section() -> None:
    departments = departments_config(parse_config({}))
    assert departments.names == ("product", "engineering", "marketing", "finance", "ux")
    assert departments.named(" Finance ").categories == ("Billing", "Payments", "Refund", "Invoice")


def test_a_configured_department_replaces_its_default_and_new_ones_follow() -> None:
    departments = departments_config(
        parse_config(
            {
                "departments": {
                    "finance": {"title": "Finance & Billing", "categories": ["Billing >Refund "], "tags": ["VAT"]},
                    "legal": {"keywords": {"Threats": ["lawyer", "court"]}, "tags": ["gdpr"]},
                }
            }
        )
    )
    assert departments.names == ("product", "engineering", "marketing", "finance", "ux", "legal")
    finance = departments.named("finance")
    assert (finance.title, finance.categories, finance.tags, finance.keywords) == (
        "Finance & Billing",
        ("Billing > Refund",),  # spelled as the store spells paths
        ("vat",),
        (),
    )
    assert departments.named("legal").keywords == (KeywordGroup("Threats", ("lawyer", "court")),)
    assert departments.named("legal").title == "Legal"


def test_defaults_false_keeps_only_the_configured() -> None:
    departments = parse_departments({"defaults": False, "support": {"keywords": ["Help Center"]}})
    assert departments.names == ("support",)
    assert departments.departments[0].keywords == (KeywordGroup("Help Center", ("help center",)),)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"defaults": "yes"}, "departments.defaults must be true or false"),
        ({"finance": ["Billing"]}, "departments.finance must be a table [departments.finance]"),
        ({"finance": {"category": ["Billing"]}}, "unknown key departments.finance.category; known keys: title,"),
        ({"finance": {"tags": "refund"}}, "departments.finance.tags must be a list of non-empty strings"),
        ({"finance": {"keywords": {"Refunds": "refund"}}}, "departments.finance.keywords.Refunds must be a list"),
        ({"finance": {"keywords": 3}}, "departments.finance.keywords must be a list of keywords or a table"),
        ({"finance": {"title": "Money"}}, "departments.finance has no categories, tags or keywords"),
        ({"Finance": {"tags": ["x"]}}, "departments.Finance: a department's name is lowercase"),
        ({"all": {"tags": ["x"]}}, "departments.all: a department's name"),
        ({"defaults": False}, "no department is left"),
    ],
)
def test_errors_name_the_key(values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_departments(values)


def test_an_unknown_department_lists_the_known_ones() -> None:
    from deskpulse.errors import UserError

    with pytest.raises(UserError, match="no department 'legal'; known: product, engineering, marketing, finance, ux"):
        departments_config(parse_config({})).named("legal")


def test_every_default_department_has_rules() -> None:
    for department in DEFAULT_DEPARTMENTS:
        assert department.categories and department.tags and department.keywords, department.name


def test_keywords_match_whole_words_in_the_engine() -> None:
    """The pattern runs in DuckDB (RE2): whole words, any script's letters counting as word characters."""
    pattern = keyword_pattern(("api", "money back", "rückerstattung", "c++", "2fa"))
    texts = {
        "the api is down": True,
        "capital letters": False,  # "api" inside a word
        "i want my money back!": True,
        "moneyback": False,
        "bitte um rückerstattung.": True,
        "rückerstattungen": False,
        "my c++ sdk": True,
        "2fa code": True,
        "a2fa": False,
        "api\nnext line": True,
    }
    with Store.open(None) as store:
        found = {text: store.execute("SELECT regexp_matches(?, ?)", [text, pattern])[0][0] for text in texts}
    assert found == texts


def test_a_ticket_reaches_every_department_whose_rules_it_meets() -> None:
    """Routing by category path, case-insensitively ("Billings" is not below "billing"), and by tag whatever its
    case; the pain point is the category when there is one, else the tag."""
    categories = {"T-1": "Billing > Refund", "T-2": "Billings", "T-3": None, "T-4": "Bug"}
    departments = parse_departments(
        {
            "defaults": False,
            "finance": {"categories": ["billing"], "tags": ["refund"]},
            "engineering": {"categories": ["Bug"], "tags": ["Refund"]},
        }
    )
    with Store.open(None) as store:
        columns: dict[str, list[object]] = {column.name: [None] * 4 for column in TICKETS.columns}
        columns["ticket_id"] = list(categories)
        columns["category"] = list(categories.values())
        columns["created_at"] = [datetime(2026, 3, 1)] * 4
        store.insert_new("tickets", arrow_table(TICKETS, columns))
        store.execute("INSERT INTO ticket_tags VALUES ('T-3', 'REFUND', 'test'), ('T-4', 'Refund', 'test')")
        tickets = store.table("tickets").select("ticket_id", "category")
        routed = store.arrow(route_tickets(store, tickets, departments.departments)).to_pylist()
    assert sorted((r["department"], r["ticket_id"], r["pain_point"], r["pain_kind"]) for r in routed) == [
        ("engineering", "T-3", "tag: refund", "tag"),
        ("engineering", "T-4", "Bug", "category"),
        ("finance", "T-1", "Billing > Refund", "category"),
        ("finance", "T-3", "tag: refund", "tag"),
        ("finance", "T-4", "Bug", "category"),  # by its tag; its pain point is still its category
    ]
