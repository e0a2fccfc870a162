"""The alert log's decisions on its own: what is new, what waits for its subject's cooldown, what was sent before."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from deskpulse.alerts.detect import Alert
from deskpulse.alerts.log import create_tables, mark, plan_alerts, record, undelivered
from deskpulse.state import connect_state

T = datetime(2026, 3, 4, 9, 0)
COOLDOWN = 360  # minutes


def flag(ticket: str, message: str) -> Alert:
    return Alert("negative_sentiment", ticket, f"negative_sentiment:{ticket}:{message}", f"{ticket} is angry")


@pytest.fixture
def state(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = connect_state(tmp_path / "state.sqlite")
    create_tables(connection)
    yield connection
    connection.close()


def test_a_subject_waits_for_its_cooldown(state: sqlite3.Connection) -> None:
    first = flag("T-1", "m1")
    record(state, [first], T, ("email",), T)
    # The customer writes again, angrier: a new alert for the same ticket, held for 6 hours after the first.
    again = flag("T-1", "m2")
    other = flag("T-2", "m1")
    plan = plan_alerts(state, [first, again, other], T + timedelta(minutes=COOLDOWN - 1), COOLDOWN)
    assert (plan.known, plan.held, plan.new) == (1, [again], [other])
    plan = plan_alerts(state, [first, again], T + timedelta(minutes=COOLDOWN), COOLDOWN)
    assert (plan.known, plan.held, plan.new) == (1, [], [again])


def test_one_run_sends_one_alert_per_subject(state: sqlite3.Connection) -> None:
    plan = plan_alerts(state, [flag("T-1", "m1"), flag("T-1", "m2")], T, COOLDOWN)
    assert (plan.new, plan.held) == ([flag("T-1", "m1")], [flag("T-1", "m2")])
    # Without a cooldown, every new key goes out.
    assert plan_alerts(state, [flag("T-1", "m1"), flag("T-1", "m2")], T, 0).held == []


def test_a_spike_that_grows_is_the_same_alert(state: sqlite3.Connection) -> None:
    def spike(first: date, last: date) -> Alert:
        return Alert("spike", "Login", f"spike:Login:{first}", "…", (), (first, last))

    record(state, [spike(date(2026, 3, 9), date(2026, 3, 10))], T, ("email",), T)
    # A day later trends reports the episode from the weekend before: another key, but the same days and more.
    grown = spike(date(2026, 3, 7), date(2026, 3, 11))
    later = T + timedelta(days=1)
    assert plan_alerts(state, [grown], later, COOLDOWN).known == 1
    # A spike of the same category that starts after the recorded one ended is a new alert.
    next_week = spike(date(2026, 3, 16), date(2026, 3, 16))
    assert plan_alerts(state, [next_week], later, COOLDOWN).new == [next_week]


def test_undelivered_alerts_stay_until_a_channel_takes_them(state: sqlite3.Connection) -> None:
    alerts = [flag("T-1", "m1"), flag("T-2", "m1")]
    record(state, alerts, T, ("email", "webhook:support"), T)
    mark(state, "email", [a.key for a in alerts], "connection refused", T)
    mark(state, "webhook:support", [alerts[0].key], None, T)
    assert undelivered(state, "email") == alerts
    assert undelivered(state, "webhook:support") == [alerts[1]]
    # A channel configured after the alerts were recorded owes nothing.
    assert undelivered(state, "webhook:new") == []
