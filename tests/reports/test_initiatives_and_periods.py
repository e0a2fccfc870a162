"""The initiative score worked by hand, and the period labels a report accepts."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from deskpulse.errors import UserError
from deskpulse.reports.initiatives import growth_component, initiative_score, rank_initiatives
from deskpulse.reports.period import parse_period


def test_golden_initiative_score() -> None:
    # 30 tickets at 42.50 EUR each: basis 1,275.00. 24 the period before: growth (30 − 24) / 24 = 0.25.
    # 12 of 40 scored customer messages negative: dissatisfaction 0.3.
    # score = 1,275 × (1 + 0.25) × (1 + 0.3) = 1,275 × 1.25 × 1.3 = 2,071.875
    basis, growth, dissatisfaction, score = initiative_score(30, 24, 12 / 40, 42.50)
    assert (basis, growth, dissatisfaction) == (1275.0, 0.25, pytest.approx(0.3))
    assert score == pytest.approx(2071.875)


def test_without_cost_the_basis_is_tickets_and_unscored_is_no_dissatisfaction() -> None:
    # 30 × 1.25 × 1 = 37.5
    assert initiative_score(30, 24, None, None) == (30.0, 0.25, 0.0, 37.5)


@pytest.mark.parametrize(
    ("tickets", "previous", "growth"),
    [(10, 0, 1.0), (10, 5, 1.0), (10, 2, 1.0), (6, 4, 0.5), (4, 4, 0.0), (3, 6, 0.0), (0, 6, 0.0)],
)
def test_growth_is_clamped_between_0_and_1(tickets: int, previous: int, growth: float) -> None:
    # New: 1; doubled or more: 1 (capped); shrinking: 0, never negative.
    assert growth_component(tickets, previous) == growth


def test_ranking_and_ties() -> None:
    ranked = rank_initiatives(
        [
            ("Billing > Refund", "category", 10, 10, 0.5),  # 10 × 1 × 1.5 = 15
            ("Shipping", "category", 5, 0, 0.5),  # 5 × 2 × 1.5 = 15: tie, fewer tickets, after
            ("Refunds", "keywords", 20, 40, 0.0),  # 20 × 1 × 1 = 20
            ("tag: vip", "tag", 2, 1, None),  # 2 × 2 × 1 = 4
        ],
        None,
    )
    assert [(i.rank, i.pain_point, i.score) for i in ranked] == [
        (1, "Refunds", 20.0),
        (2, "Billing > Refund", 15.0),
        (3, "Shipping", 15.0),
        (4, "tag: vip", 4.0),
    ]
    assert ranked[3].title == "Investigate tickets tagged “vip”"
    assert ranked[1].title == "Remove the causes of “Billing > Refund” tickets"


@pytest.mark.parametrize(
    ("label", "kind", "first", "last", "previous"),
    [
        ("2026-03", "month", date(2026, 3, 1), date(2026, 3, 31), "2026-02"),
        ("2026-01", "month", date(2026, 1, 1), date(2026, 1, 31), "2025-12"),
        ("2026-12", "month", date(2026, 12, 1), date(2026, 12, 31), "2026-11"),
        ("2026-W09", "week", date(2026, 2, 23), date(2026, 3, 1), "2026-W08"),
        ("2027-W01", "week", date(2027, 1, 4), date(2027, 1, 10), "2026-W53"),  # 2026 has 53 ISO weeks
        ("2026-Q1", "quarter", date(2026, 1, 1), date(2026, 3, 31), "2025-Q4"),
        ("2026-Q4", "quarter", date(2026, 10, 1), date(2026, 12, 31), "2026-Q3"),
        ("2026", "year", date(2026, 1, 1), date(2026, 12, 31), "2025"),
        ("2026-03-01", "day", date(2026, 3, 1), date(2026, 3, 1), "2026-02-28"),
    ],
)
def test_period_labels(label: str, kind: str, first: date, last: date, previous: str) -> None:
    period = parse_period(label)
    assert (period.kind, period.label, period.current.first_day, period.current.last_day) == (kind, label, first, last)
    assert period.previous.label == previous


def test_period_bounds_are_local_midnights_in_utc() -> None:
    # Berlin is UTC+1 in winter and UTC+2 from 29 March 2026: March runs 28 Feb 23:00 … 31 Mar 22:00 UTC.
    assert parse_period("2026-03").current.utc_bounds("Europe/Berlin") == (
        datetime(2026, 2, 28, 23, 0),
        datetime(2026, 3, 31, 22, 0),
    )


@pytest.mark.parametrize("label", ["2026-3", "March", "2026-13", "2026-W54", "2026-Q5", "2026-02-30", ""])
def test_bad_labels_say_what_a_label_looks_like(label: str) -> None:
    with pytest.raises(UserError, match="is not a period label; use a month 2026-03, an ISO week 2026-W09"):
        parse_period(label)
