"""The scorecard: headline KPIs of one period with target status and the change since the period before.

It reads the hand-built mailbox of tests/test_first_response_golden.py: six tickets in weeks 2 and 3 of 2026
(Europe/Berlin), first response times worked out there.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from tests.mailbuilder import write_mbox
from tests.test_first_response_golden import CONFIG, MAILS

from deskpulse.config import DEFAULT_SCORECARD, SCORECARD_ADVISED_MAXIMUM, ScorecardConfig, Target, parse_config
from deskpulse.errors import UserError
from deskpulse.ingest import ingest_paths
from deskpulse.metrics.scorecard import AT_RISK, OFF_TARGET, ON_TARGET, build_scorecard, target_status
from deskpulse.store import Store


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "deskpulse.duckdb")
    ingest_paths(store, CONFIG, [write_mbox(tmp_path / "support.mbox", MAILS, "Europe/Berlin")])
    return store


def test_the_latest_week_against_the_week_before(store: Store) -> None:
    config = replace(
        CONFIG,
        scorecard=ScorecardConfig(
            metrics=("tickets_created", "first_response_time_business"),
            period="week",
            targets={"first_response_time_business": Target(3600, 7200)},
        ),
    )
    card = build_scorecard(store, config)
    assert (card.period, card.previous_period) == ("2026-W03", "2026-W02")
    created, business = card.lines
    # Week 3 has tickets 2-6 (5 created); week 2 only ticket 1.
    assert (created.value, created.n, created.previous, created.delta) == (5, 5, 1, 4)
    assert created.status is None  # no target: tickets created is neither good nor bad
    # All four first replies fall in week 3: business seconds 900, 1,800, 5,400, 7,200 → median 3,600.
    assert (business.value, business.n) == (3600.0, 4)
    assert business.previous is None  # week 2 had no reply, so no value to compare with
    assert business.delta is None
    assert business.status == ON_TARGET  # 3,600 ≤ target 3,600


def test_a_chosen_period_and_a_period_without_data(store: Store) -> None:
    config = replace(CONFIG, scorecard=ScorecardConfig(metrics=DEFAULT_SCORECARD, period="week"))
    card = build_scorecard(store, config, at="2026-W02")
    assert (card.period, card.previous_period) == ("2026-W02", None)
    with pytest.raises(UserError, match="no data for week '2026-W07'"):
        build_scorecard(store, config, at="2026-W07")


def test_more_than_seven_headline_kpis_gets_a_warning(store: Store) -> None:
    eight = ("tickets_created",) * (SCORECARD_ADVISED_MAXIMUM + 1)
    card = build_scorecard(store, replace(CONFIG, scorecard=ScorecardConfig(metrics=eight)))
    assert len(card.warnings) == 1 and "8 headline KPIs" in card.warnings[0]


@pytest.mark.parametrize(
    ("better", "value", "expected"),
    [
        ("lower", 3000, ON_TARGET),
        ("lower", 3600, ON_TARGET),
        ("lower", 5000, AT_RISK),
        ("lower", 9000, OFF_TARGET),
        ("higher", 0.9, ON_TARGET),
        ("higher", 0.65, AT_RISK),
        ("higher", 0.5, OFF_TARGET),
        ("lower", None, None),
    ],
)
def test_target_bands(better: str, value: float | None, expected: str | None) -> None:
    target = Target(3600, 7200) if better == "lower" else Target(0.8, 0.6)
    assert target_status(better, value, target) == expected


def test_targets_in_the_config() -> None:
    config = parse_config(
        {
            "scorecard": {
                "metrics": ["first_response_time", "unreplied_tickets"],
                "period": "week",
                "targets": {"first_response_time": {"target": "1h30m", "warning": "4h"}, "unreplied_tickets": 3},
            }
        }
    )
    assert config.scorecard.targets == {
        "first_response_time": Target(5400.0, 14400.0),  # 1 h 30 m = 5,400 s; 4 h = 14,400 s
        "unreplied_tickets": Target(3.0, None),
    }


@pytest.mark.parametrize(
    ("scorecard", "message"),
    [
        ({"metrics": ["first_reply"]}, "scorecard.metrics: unknown metric 'first_reply'"),
        ({"period": "fortnight"}, "scorecard.period must be one of"),
        ({"targets": {"tickets_created": 5}}, "scorecard.targets.tickets_created: tickets_created has no better"),
        ({"targets": {"first_response_time": "4 hours"}}, "scorecard.targets.first_response_time.target: '4 hours'"),
        ({"targets": {"first_response_time": {"target": "4h", "warning": "1h"}}}, "warning must lie above"),
        (
            {"targets": {"first_response_time": {"goal": "4h"}}},
            "unknown key scorecard.targets.first_response_time.goal",
        ),
    ],
)
def test_a_bad_scorecard_config_names_the_key(scorecard: dict[str, object], message: str) -> None:
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_config({"scorecard": scorecard})
