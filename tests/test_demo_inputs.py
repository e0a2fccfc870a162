"""The demo's input files tell the stories they were written to tell, through the real loaders and metrics."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from deskpulse.config import load_config
from deskpulse.demo import prepare_demo
from deskpulse.demo_inputs import write_and_load_activity
from deskpulse.ingest import ingest_paths
from deskpulse.metrics.engine import KpiQuery, compute_kpis
from deskpulse.store import Store


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    files = prepare_demo(tmp_path_factory.mktemp("demo"), tickets=600)
    config = load_config(files.config)
    with Store.open(files.db) as store:
        ingest_paths(store, config, [files.mbox])
        inputs = write_and_load_activity(files.directory, store, config, seed=7)
        yield store, config, inputs, files


def test_loading_the_files_again_adds_nothing(demo: Any) -> None:
    store, config, inputs, files = demo
    assert inputs.entries_loaded > 500 and inputs.surveys_loaded > 500
    again = write_and_load_activity(files.directory, store, config, seed=7)
    assert (again.entries_loaded, again.surveys_loaded) == (0, 0)


def test_csat_falls_with_every_extra_exchange(demo: Any) -> None:
    store, config, _, _ = demo
    [row] = compute_kpis(store, config, KpiQuery(["csat_by_exchange"], period="all")).rows
    bands = row["csat_by_exchange"]["by_exchanges"]
    values = [bands[label]["value"] for label in ("1", "2", "3", "4+")]
    assert values == sorted(values, reverse=True), values
    assert values[0] - values[-1] > 0.3


def test_the_overloaded_agent_has_the_highest_utilization(demo: Any) -> None:
    store, config, _, _ = demo
    rows = compute_kpis(store, config, KpiQuery(["utilization"], period="all", by=["agent"])).rows
    utilization = {row["agent"]: row["utilization"]["value"] for row in rows if row["agent"]}
    assert max(utilization, key=lambda agent: utilization[agent]) == "emma@acme.test"
    assert utilization["emma@acme.test"] > config.guardrails.burnout_above


def test_every_metric_has_a_number_in_the_demo(demo: Any) -> None:
    store, config, _, _ = demo
    [row] = compute_kpis(store, config, KpiQuery(_all_ids(), period="all")).rows
    # escalation_rate needs an [escalation] section, which the demo's config leaves out; on-hold time needs a
    # help desk's status history, which a mailbox has not: both not measured, never a made-up 0.
    empty = sorted(metric for metric, result in row.items() if result["n"] == 0)
    assert empty == ["escalation_rate", "on_hold_time", "on_hold_time_business"]


def _all_ids() -> list[str]:
    from deskpulse.metrics.catalog import CATALOG

    return [metric.id for metric in CATALOG]


def test_the_files_are_beside_the_config(demo: Any) -> None:
    _, config, inputs, files = demo
    for path in (inputs.agents, inputs.schedules, inputs.costs, inputs.sla):
        assert path.parent == files.directory and Path(path).is_file()
    assert config.files.sla == inputs.sla


def test_the_ticket_export_recomputes_the_outcome_metrics(demo: Any) -> None:
    from deskpulse.metrics.facts import build_calendar, list_tickets

    store, config, _, _ = demo
    tickets = list_tickets(store, build_calendar(store, config))
    [row] = compute_kpis(store, config, KpiQuery(["csat", "handle_time", "sla_compliance"], period="all")).rows
    # CSAT: the share of tickets whose latest CSAT answer is 4 or 5.
    answered = [t["csat_score"] for t in tickets if t["csat_score"] is not None]
    assert (row["csat"]["value"], row["csat"]["n"]) == (sum(s >= 4 for s in answered) / len(answered), len(answered))
    # Handle time: tracked seconds ÷ tickets with tracked work.
    worked = [t["handle_seconds"] for t in tickets if t["handle_seconds"]]
    assert row["handle_time"]["value"] == pytest.approx(sum(worked) / len(worked))
    # SLA: breached targets out of the decided ones add up per ticket.
    assert sum(t["sla_breaches"] or 0 for t in tickets) == row["sla_compliance"]["n"] - round(
        row["sla_compliance"]["value"] * row["sla_compliance"]["n"]
    )


def test_the_taxonomy_finds_the_planted_password_reset_spike(demo: Any) -> None:
    """The demo plants four times the usual password-reset mail in one week (`DemoSummary.spike_week`); categorised
    by the demo's categories.toml, `deskpulse trends` must report a spike of `Account > Password Reset` in that
    week, and no spike in any category the demo did not plant one in."""
    from deskpulse.insight.categories import apply_categories
    from deskpulse.insight.taxonomy import load_taxonomy
    from deskpulse.insight.trends import TrendOptions, find_trends

    store, config, _, files = demo
    taxonomy = load_taxonomy(config.files.categories)
    summary = apply_categories(store, taxonomy, None, taxonomy.threshold)
    # Most tickets carry a topic the rules know; the rest (newsletters' replies, thank-yous) stay Unclassified.
    assert summary.by_method["rule"] >= 0.8 * summary.tickets
    report = find_trends(store, config, TrendOptions(since=files.summary.first_day, find_topics=False))
    spikes = {finding.series for finding in report.spikes}
    assert spikes <= {"Account > Password Reset", "Account", "(all tickets)"}
    [spike] = [finding for finding in report.spikes if finding.series == "Account > Password Reset"]
    week = files.summary.spike_week
    assert week <= spike.last_day and spike.first_day <= week + timedelta(days=6)
    assert spike.ratio >= 2
