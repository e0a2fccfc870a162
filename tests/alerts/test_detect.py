"""What the detectors find on the desk of conftest.py, worked out by hand from its timeline."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from tests.alerts.conftest import HOSTILE, Desk

from deskpulse.alerts.detect import Alert, completed_periods, detect_alerts, latest_activity
from deskpulse.alerts.settings import alerts_config
from deskpulse.config import ConfigError
from deskpulse.metrics.scorecard import build_scorecard
from deskpulse.store import Store


def detect(desk: Desk, now: datetime | None = None, alerts: str = "") -> dict[str, Alert]:
    config = desk.config(alerts)
    with Store.open(desk.db, read_only=True) as store:
        instant = now or latest_activity(store)
        assert instant is not None
        return {alert.key: alert for alert in detect_alerts(store, config, alerts_config(config), instant)}


@pytest.fixture(scope="module")
def latest(desk: Desk) -> dict[str, Alert]:
    """Every kind of alert as of the desk's latest activity."""
    return detect(desk)


def test_the_latest_activity_finds_each_planted_thing_of_the_last_day(desk: Desk, latest: dict[str, Alert]) -> None:
    with Store.open(desk.db, read_only=True) as store:
        assert latest_activity(store) == datetime(2026, 3, 1, 18, 0)  # Sunday's 18:00 ticket
    found = latest
    v2, hostile = desk.tickets["V2 card declined"], desk.tickets[HOSTILE]
    # Lookback 24 h: from Sat 28 Feb 18:00. The Friday flag, V1's breach (due Fri 10:00) and the reviewed flag of
    # Sunday's 13:00 ticket are not alerts.
    assert list(found) == [
        "spike:Billing:2026-02-27",
        "spike:Billing > Refund:2026-02-27",
        f"negative_sentiment:{hostile}:{desk.hostile_message}",
        f"sla_breach:{v2}:first_reply",
        "utilization:ana@acme.test:2026-02",
    ]
    # The spike: trends tests windows of 1, 2, 3 and 5 days; Fri–Sun holds 1 + 1 + (1 + 8) = 11 Billing tickets
    # where 3 × 1 are due, so all three days are flagged (Wed–Sun, 13 where 5 are due, is not significant).
    spike = found["spike:Billing > Refund:2026-02-27"]
    assert spike.days == (date(2026, 2, 27), date(2026, 3, 1))
    assert spike.text.startswith(
        "Spike in Billing > Refund 2026-02-27 … 2026-03-01: 11 tickets where 3.0 were expected"
    )
    assert hostile in spike.tickets and len(spike.tickets) == 11
    assert found[f"negative_sentiment:{hostile}:{desk.hostile_message}"].text == (
        f"Negative sentiment in {hostile} “{HOSTILE}” (sentiment -0.90): chargeback threat: 'chargeback'"
    )
    # V2: Sat 20:00 + 1 h = due 21:00, unanswered; at 18:00 on Sunday 21 h over.
    assert found[f"sla_breach:{v2}:first_reply"].text == (
        f"SLA breach in {v2} “V2 card declined”: first reply was due 2026-02-28 21:00 UTC (policy VIP: 1h 00m in "
        "calendar hours), still open, 21h 00m over so far"
    )
    # February is the last whole month ([scorecard] period) before Sunday 1 March: 80 h tracked of 160 h paid.
    assert found["utilization:ana@acme.test:2026-02"].text == (
        "utilization of agent ana@acme.test in 2026-02: 50.0% is low (band 70%–80%, burnout risk above 85%)"
    )


def test_guardrail_alerts_are_the_scorecards_warnings_for_that_period(desk: Desk, latest: dict[str, Alert]) -> None:
    config = desk.config()
    with Store.open(desk.db, read_only=True) as store:
        card = build_scorecard(store, config, at="2026-02")
    alerts = [a for a in latest.values() if a.kind in ("utilization", "speed_trap")]
    assert [a.text for a in alerts] == [g.message for g in card.guardrails]


def test_an_earlier_instant_sees_only_what_had_happened_by_then(desk: Desk) -> None:
    # Fri 27 Feb 12:00 (given aware, in Berlin: 13:00): from Thu 12:00 UTC on. V1's reply at 11:30 came before it.
    found = detect(desk, datetime(2026, 2, 27, 13, 0, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC))
    v1, friday = desk.tickets["V1 card declined"], desk.tickets["Parcel 0227-0"]
    assert sorted(found) == sorted(
        [
            f"sla_breach:{v1}:first_reply",
            f"negative_sentiment:{friday}:c02270@example.org-1",
            # January, the last whole month then: paid from Mon 5 Jan, nothing tracked.
            "utilization:ana@acme.test:2026-01",
        ]
    )
    # Due at 09:00 + 1 h, answered at 11:30: 1 h 30 m late.
    breach = found[f"sla_breach:{v1}:first_reply"].text
    assert breach.endswith("was due 2026-02-27 10:00 UTC (policy VIP: 1h 00m in calendar hours), met 1h 30m late")


def test_a_longer_lookback_reaches_back_further(desk: Desk) -> None:
    # 72 h before Sunday 18:00 is Thursday 18:00: V1's breach (due Fri 10:00) and Friday's flag (08:00) are in.
    found = detect(desk, alerts="[alerts]\nlookback_hours = 72\nkinds = ['sla_breach', 'negative_sentiment']\n")
    v1, v2 = desk.tickets["V1 card declined"], desk.tickets["V2 card declined"]
    assert sorted(k.rpartition(":")[0] if k.startswith("negative") else k for k in found) == sorted(
        [
            f"negative_sentiment:{desk.tickets[HOSTILE]}",
            f"negative_sentiment:{desk.tickets['Parcel 0227-0']}",
            f"sla_breach:{v1}:first_reply",
            f"sla_breach:{v2}:first_reply",
        ]
    )


def test_resolution_targets_are_alerted_only_once_breached(desk: Desk) -> None:
    # V2 has waited 22 h of its 24 h resolution target at the latest activity; V1 and V3 were resolved in time.
    assert detect(desk, alerts="[alerts]\nkinds = ['sla_breach']\nsla_targets = ['resolution']\n") == {}
    # Three hours later V2's resolution clock would have run 25 h, but a running clock stops at the store's newest
    # instant: nothing new has come in, so nothing is measured beyond it.
    assert (
        detect(desk, datetime(2026, 3, 1, 21), "[alerts]\nkinds = ['sla_breach']\nsla_targets = ['resolution']\n") == {}
    )


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        # Friday 1 January 2027 lies in ISO week 2026-W53 (Mon 28 Dec … Sun 3 Jan).
        ("day", ("2026-12-31", "2026-12-30")),
        ("week", ("2026-W52", "2026-W51")),
        ("month", ("2026-12", "2026-11")),
        ("quarter", ("2026-Q4", "2026-Q3")),
        ("year", ("2026", "2025")),
    ],
)
def test_the_guardrails_judge_the_last_whole_period(period: str, expected: tuple[str, str]) -> None:
    assert completed_periods(date(2027, 1, 1), period) == expected


def test_unknown_kinds_are_config_errors(desk: Desk) -> None:
    with pytest.raises(ConfigError, match=r"alerts.kinds: 'spikes' is not one of spike, negative_sentiment"):
        desk.config("[alerts]\nkinds = ['spikes']\n")
