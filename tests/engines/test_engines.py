"""The same metric code on every engine: each golden mailbox computed on DuckDB, PostgreSQL and Spark.

The store is built in DuckDB as usual and published to the other engine (`deskpulse publish`, or temporary
views for Spark in local mode); every query must give the same rows there: same periods, same agents, same
counts, same durations (floats to nine significant digits: engines sum in different orders).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests import test_first_response_golden
from tests.mailbuilder import write_mbox
from tests.metrics import (
    test_dst_golden,
    test_handoffs_golden,
    test_merges_golden,
    test_resolution_golden,
    test_responses_golden,
    test_sla_golden,
    test_sla_history_golden,
    test_status_waits_golden,
    test_surveys_golden,
    test_work_golden,
)

from deskpulse.config import Config
from deskpulse.engines import EngineStore, connect_engine, publish
from deskpulse.ingest import ingest_paths
from deskpulse.metrics.catalog import resolve_metric_ids
from deskpulse.metrics.engine import KpiQuery, compute_kpis
from deskpulse.metrics.facts import build_calendar, list_tickets
from deskpulse.metrics.families import handoffs, resolution, responses, sla, surveys, volume, work
from deskpulse.store import Store

MAIL_METRICS = [m.id for family in (volume, responses, resolution) for m in family.METRICS]
# The golden scenarios, each with the metrics it was written for: the hand-built mailboxes (first response,
# wait cycles, resolutions and reopens) with every metric the mail alone gives, and each family beyond the mail
# with its own. Every metric of the catalog is compared on some scenario; computing all of them on every
# scenario would only repeat empty results, at minutes a scenario on Spark.
SCENARIOS = {
    "first-response": (test_first_response_golden, MAIL_METRICS),
    "responses": (test_responses_golden, MAIL_METRICS),
    "resolution": (test_resolution_golden, MAIL_METRICS),
    "handoffs": (test_handoffs_golden, [m.id for m in handoffs.METRICS]),
    "surveys": (test_surveys_golden, [m.id for m in surveys.METRICS]),
    "sla": (test_sla_golden, [m.id for m in sla.METRICS]),
    "work": (test_work_golden, [m.id for m in work.METRICS]),
    "merges": (test_merges_golden, MAIL_METRICS),
    "dst": (test_dst_golden, MAIL_METRICS),
    "status-waits": (test_status_waits_golden, test_status_waits_golden.METRICS),
    "sla-history": (test_sla_history_golden, [m.id for m in sla.METRICS]),
}
QUERIES = [
    {"period": "all"},
    {"period": "week", "by": ["agent"]},
    {"period": "day", "by": ["mailbox"]},
    {"period": "month", "by": ["agent", "mailbox"]},
    # The joined dimensions: ticket attributes, tags and teams, and a filter.
    {"period": "all", "by": ["organisation", "tag", "team"]},
    {"period": "all", "by": ["category", "subcategory", "flag"]},
    {"period": "month", "by": ["priority"], "filters": {"organisation": ("example.org", "example.com")}},
]


def test_every_metric_is_compared_on_some_scenario() -> None:
    compared = {metric for _, metrics in SCENARIOS.values() for metric in metrics}
    assert compared == set(resolve_metric_ids("all"))


@pytest.fixture(scope="module", params=list(SCENARIOS))
def scenario(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, Config, list[str]]]:
    module, metrics = SCENARIOS[request.param]
    directory = tmp_path_factory.mktemp(request.param)
    with Store.open(directory / "deskpulse.duckdb") as store:
        if hasattr(module, "build_scenario"):  # a scenario with input files beside its mail
            yield store, module.build_scenario(store, directory), metrics
            return
        mbox = write_mbox(Path(directory / "support.mbox"), module.MAILS, "Europe/Berlin")
        ingest_paths(store, module.CONFIG, [mbox])
        yield store, module.CONFIG, metrics


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def _check_engine(
    store: Store, config: Config, metrics: list[str], engine: EngineStore, *, temporary: bool = False
) -> None:
    counts = publish(store, engine, temporary=temporary)
    assert counts["messages"] == store.count("messages")
    for query in QUERIES:
        kpis = KpiQuery(metrics, **query)
        assert _rounded(compute_kpis(engine, config, kpis).rows) == _rounded(compute_kpis(store, config, kpis).rows)
    expected = list_tickets(store, build_calendar(store, config), sort="first_response_time", descending=True)
    actual = list_tickets(engine, build_calendar(engine, config), sort="first_response_time", descending=True)
    assert _rounded(actual) == _rounded(expected)


def test_postgresql_gives_the_same_numbers(scenario: tuple[Store, Config, list[str]], postgres_url: str) -> None:
    with connect_engine(postgres_url) as engine:
        _check_engine(*scenario, engine)


def test_spark_gives_the_same_numbers(scenario: tuple[Store, Config, list[str]], spark: EngineStore) -> None:
    _check_engine(*scenario, spark, temporary=True)
