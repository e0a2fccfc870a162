"""Agent self-progress on the hand-built mailbox of tests/test_first_response_golden.py (by ISO week, Berlin).

Week 3 (12–18 Jan 2026): Ana sent the first reply on tickets 1 (237,600 s), 5 (1,800 s) and 6 (40,500 s);
Ben on tickets 3 (proactive: no response time) and 4 (5,400 s). Ticket 1 was created in week 2.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from tests.mailbuilder import write_mbox
from tests.test_first_response_golden import CONFIG, MAILS

from deskpulse.config import ScorecardConfig
from deskpulse.errors import UserError
from deskpulse.ingest import ingest_paths
from deskpulse.metrics.progress import agent_progress
from deskpulse.store import Store

WEEKLY = replace(CONFIG, scorecard=ScorecardConfig(metrics=("tickets_created", "first_response_time"), period="week"))


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "deskpulse.duckdb")
    ingest_paths(store, CONFIG, [write_mbox(tmp_path / "support.mbox", MAILS, "Europe/Berlin")])
    return store


def test_each_agent_against_their_last_week_and_the_team(store: Store) -> None:
    ana, ben = agent_progress(store, WEEKLY)
    assert (ana.agent, ana.period, ana.previous_period) == ("ana@acme.test", "2026-W03", "2026-W02")
    created, first_response = ana.lines
    # Tickets created, credited to the first replier: Ana's week 3 tickets are 5 and 6 (ticket 1 is week 2's).
    assert (created.value, created.previous, created.change) == (2, 1, 1)
    assert created.better_than_team is None  # a volume is neither better nor worse
    # Ana's replies in week 3: 1,800 / 40,500 / 237,600 s → median 40,500; none in week 2.
    assert (first_response.value, first_response.n, first_response.previous) == (40500.0, 3, None)
    # Team median of the agents' medians: (40,500 + 5,400) / 2 = 22,950; Ana is slower, Ben faster.
    assert first_response.team_median == 22950.0
    assert first_response.better_than_team is False
    assert ben.lines[1].value == 5400.0
    assert ben.lines[1].better_than_team is True


def test_one_agent_and_an_unknown_one(store: Store) -> None:
    [ben] = agent_progress(store, WEEKLY, agents=["ben@acme.test"])
    assert ben.lines[0].value == 2  # tickets 3 and 4
    with pytest.raises(UserError, match=r"no data for agent zoe@acme\.test"):
        agent_progress(store, WEEKLY, agents=["zoe@acme.test"])
